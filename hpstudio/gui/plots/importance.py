"""Parameter importance: which hyper-parameters the score actually depends on.

Each bar is the share of the variance of the mean CV score that one parameter
explains on its own (omega squared of a one-way ANOVA over every complete trial;
see :func:`~hpstudio.core.analysis.importances_from_columns`), largest on top.
It is cheap enough to compute on the GUI thread, so a live study is followed at most
every ``MIN_INTERVAL_S`` seconds once its trials come in faster than that.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from hpstudio.core.analysis import compute_importances, importances_from_columns
from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.base import PlotBase, set_ticks

__all__ = ["ImportancePlot", "compute_importances"]

MIN_INTERVAL_S = 0.5  # a sort per parameter: ~40 ms at 100,000 trials


class ImportancePlot(PlotBase):
    """Horizontal bars of each parameter's share of the score variance."""

    title = "Importance"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.info)
        self.widget, self.plot = self._plain_plot_widget()
        self.plot.setLabel("bottom", "share of the score variance explained alone (ω²)")
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6,
                                    brush=(52, 120, 200), pen=None)
        self.plot.addItem(self.bars)
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())
        self._importances: dict[str, float] | None = None

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self._importances = None
        self.bars.setOpts(x0=np.zeros(0), width=np.zeros(0), y=np.zeros(0), height=0.6)
        self.info.setText("")

    # -- data -------------------------------------------------------------------------
    def append(self, start: int) -> None:
        self.refresh_throttled(MIN_INTERVAL_S)

    def _refresh(self) -> None:
        self._show(importances_from_columns(self.columns), int(self.columns.complete.sum()))

    def _show(self, importances: dict[str, float], n: int) -> None:
        self._importances = importances
        items = sorted(importances.items(), key=lambda kv: kv[1])  # largest ends on top
        names = [k for k, _ in items]
        values = np.array([v for _, v in items], dtype=float)
        y = np.arange(len(items), dtype=float)
        self.bars.setOpts(x0=np.zeros(len(items)), width=values, y=y, height=0.6)
        left = self.plot.getAxis("left")
        set_ticks(left, [[(float(i), nm) for i, nm in enumerate(names)]])
        # Room for the longest name: the axis does not grow to fit tick labels.
        metrics = QtGui.QFontMetrics(left.style["tickFont"] or self.font())
        widest = max((metrics.horizontalAdvance(nm) for nm in names), default=0)
        left.setWidth(widest + 16)
        top = float(values.max()) if len(values) else 0.0
        self.plot.setXRange(0, max(top, 0.05) * 1.05)
        self.plot.setYRange(-0.6, max(len(items) - 0.4, 0.4))
        if n < 3 or not names:
            self.info.setText("needs 3 complete trials")
        else:
            self.info.setText(
                f"{n} complete trials · {names[-1]} alone explains {values[-1]:.0%} of "
                "the score variance"
            )

    # -- inspection -------------------------------------------------------------------
    def importances(self) -> dict[str, float] | None:
        """The importances on display (None before the first computation)."""
        return None if self._importances is None else dict(self._importances)

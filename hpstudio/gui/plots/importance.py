"""Parameter importance: which hyper-parameters the score actually depends on.

Each bar is the share of the score's variance that one parameter explains on its own,
by functional ANOVA over a random forest fitted to the trials (see
:func:`~hpstudio.core.importance.fanova_importances`): the shares sum to at most 1, the
rest being interactions between parameters, and one outlying score does not flip them.
The forest is fitted in a helper process; a live study is followed at most every
``MIN_INTERVAL_S`` seconds, and a result that arrives for data since replaced is dropped.
The caption says what the bars show and which trials they were computed on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from hpstudio.core.importance import Importances, ParameterValues, fanova_importances
from hpstudio.core.trials import TrialTable
from hpstudio.gui.background import run_in_process
from hpstudio.gui.plots.base import PlotBase, set_ticks

__all__ = ["ImportancePlot", "importance_inputs"]

MIN_INTERVAL_S = 1.0  # a forest of 64 trees: up to half a second on a laptop core
AXIS_LABEL = "share of the score variance explained alone (fANOVA)"


def importance_inputs(table: Any) -> tuple[list[ParameterValues], np.ndarray]:
    """The parameters and mean scores of a trial table, as the analysis reads them
    (NaN for trials that are not complete)."""
    parameters = [ParameterValues(name, np.array(col.values, dtype=float), log=col.is_log,
                                  categorical=col.categorical)
                  for name, col in table.params.items()]
    return parameters, np.where(table.complete, table.test, np.nan)


class ImportancePlot(PlotBase):
    """Horizontal bars of each parameter's share of the score variance."""

    title = "Importance"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = QtWidgets.QLabel(self)
        self.info.setWordWrap(True)
        self.toolbar.addWidget(self.info, 1)
        self.widget, self.plot = self._plain_plot_widget()
        self.plot.setLabel("bottom", AXIS_LABEL)
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6,
                                    brush=(52, 120, 200), pen=None)
        self.plot.addItem(self.bars)
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())
        self._result: Importances | None = None
        self._generation = 0  # bumped per study: a late result of another one is dropped
        self._running = False
        self._pending = False

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self._generation += 1
        self._result = None
        self._pending = False
        self.bars.setOpts(x0=np.zeros(0), width=np.zeros(0), y=np.zeros(0), height=0.6)
        self.info.setText("")

    # -- data -------------------------------------------------------------------------
    def append(self, start: int) -> None:
        self.refresh_throttled(MIN_INTERVAL_S)

    def _refresh(self) -> None:
        if self._running:
            self._pending = True  # computed again with the newest trials when this ends
            return
        parameters, scores = importance_inputs(self.columns)
        generation = self._generation
        self._running = True
        if self._result is None:
            self.info.setText(f"computing the importance over {len(scores)} trials…")
        # a process, not a thread: the forest's Python parts would slow the GUI thread
        run_in_process(self, fanova_importances, (parameters, scores),
                       lambda result, error: self._done(generation, result, error))

    def _done(self, generation: int, result: Importances | None,
              error: BaseException | None) -> None:
        self._running = False
        if generation == self._generation:
            if error is not None:
                self.info.setText(f"importance could not be computed: {error}")
            elif result is not None:
                self._show(result)
        if self._pending:
            self._pending = False
            if self.isVisible():
                self.refresh()
            else:
                self.dirty = True  # computed again when shown

    def _show(self, result: Importances) -> None:
        self._result = result
        items = sorted(result.shares.items(), key=lambda kv: kv[1])  # largest ends on top
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
        text = result.describe()
        if not result.note and names:
            text += (f" · {names[-1]} alone explains {values[-1]:.0%} of the score variance; "
                     f"interactions {result.interactions:.0%}")
        self.info.setText(text)

    # -- inspection -------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a forest is being fitted in the background."""
        return self._running

    def result(self) -> Importances | None:
        """The importances on display (None before the first result)."""
        return self._result

    def importances(self) -> dict[str, float] | None:
        """Each parameter's share on display (None before the first result)."""
        return None if self._result is None else dict(self._result.shares)

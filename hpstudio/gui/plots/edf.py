"""Empirical distribution of the scores (Optuna's EDF plot).

For each score on the x axis, the share of complete trials that scored at most that much.
A curve that stays low until far right means most trials score well; a long flat start
means many poor trials. Split by a categorical parameter (a kernel, a solver), one curve
per value shows which setting gives good scores most often, not only the best one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.core.tradeoffs import edf_curve
from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.base import PlotBase, set_label

__all__ = ["EdfPlot"]

PALETTE = ((52, 120, 200), (230, 120, 20), (40, 150, 60), (200, 50, 50), (140, 90, 190),
           (120, 80, 50), (220, 110, 180), (110, 110, 110), (160, 160, 30), (30, 170, 190))
MIN_INTERVAL_S = 0.2
MAX_STEPS = 2000  # steps drawn per curve
_ALL = ""


class EdfPlot(PlotBase):
    """Step curves of the empirical distribution of the mean CV score."""

    title = "EDF"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.split_combo = QtWidgets.QComboBox(self)
        self.split_combo.setToolTip("one curve per value of a categorical parameter")
        self.toolbar.addWidget(QtWidgets.QLabel("curves:", self))
        self.toolbar.addWidget(self.split_combo)
        self.split_combo.currentIndexChanged.connect(self._on_split_changed)
        self.info = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.info)
        self.widget, self.plot = self._plain_plot_widget()
        self.plot.setLabel("left", "share of trials scoring at most x")
        self.plot.setYRange(0, 1.02, padding=0)
        self.legend = self.plot.addLegend(offset=(10, 10))
        self._curves: list[pg.PlotDataItem] = []
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._filling = False
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self._splits_known: tuple[str, ...] = ()

    def split_by(self) -> str | None:
        return self.split_combo.currentData() or None

    def set_split(self, name: str | None) -> None:
        self._sync_splits()
        self.split_combo.setCurrentIndex(max(0, self.split_combo.findData(name or _ALL)))

    def _sync_splits(self) -> None:
        names = tuple(n for n, p in self.columns.params.items() if p.categorical)
        if names == getattr(self, "_splits_known", ()):
            return
        current = self.split_combo.currentData()
        self._filling = True
        try:
            self.split_combo.clear()
            self.split_combo.addItem("all trials", _ALL)
            for name in names:
                self.split_combo.addItem(f"by {name}", name)
            self.split_combo.setCurrentIndex(max(0, self.split_combo.findData(current)))
        finally:
            self._filling = False
        self._splits_known = names

    def _on_split_changed(self, *_: object) -> None:
        if not self._filling:
            self.refresh()

    def append(self, start: int) -> None:
        self.refresh_throttled(MIN_INTERVAL_S)

    def _refresh(self) -> None:
        self._sync_splits()
        table = self.columns
        score = np.where(table.complete, table.test, np.nan)
        split = self.split_by()
        groups: dict[str, np.ndarray]
        if split is None or split not in table.params:
            groups = {"all trials": score}
        else:
            column = table.params[split]
            codes = column.values
            groups = {f"{split} = {label}": np.where(codes == code, score, np.nan)
                      for code, label in enumerate(column.labels)}
        self._data = {name: edf_curve(values) for name, values in groups.items()}
        self._draw()
        set_label(self.plot, "bottom", f"mean CV {self.metric_name}")
        n = int(np.isfinite(score).sum())
        if n:
            median = float(np.median(score[np.isfinite(score)]))
            self.info.setText(f"{n} complete trials · half scored at most {median:.4g}")
        else:
            self.info.setText("no complete trial yet")

    def _draw(self) -> None:
        while len(self._curves) < len(self._data):
            color = PALETTE[len(self._curves) % len(PALETTE)]
            curve = self.plot.plot(pen=pg.mkPen(color, width=2))
            self._curves.append(curve)
        self.legend.clear()
        for curve, (name, (x, y)) in zip(self._curves, self._data.items(), strict=False):
            curve.setData(*_steps(x, y))
            curve.show()
            if len(self._data) > 1:
                self.legend.addItem(curve, f"{name} ({len(x)})")
        for curve in self._curves[len(self._data):]:
            curve.setData([], [])
            curve.hide()
        self.legend.setVisible(len(self._data) > 1)

    # -- inspection -------------------------------------------------------------------
    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each curve's (scores, share of trials at most that score), by name."""
        return {name: (x.copy(), y.copy()) for name, (x, y) in self._data.items()}


def _steps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The staircase of a distribution function: up at each x, flat until the next.

    Beyond ``MAX_STEPS`` values the steps are taken at evenly spaced ranks (the curve
    is exact there, and no screen shows more steps than it has pixels)."""
    if not len(x):
        return x, y
    if len(x) > MAX_STEPS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_STEPS).astype(np.int64))
        x, y = x[keep], y[keep]
    return np.repeat(x, 2), np.concatenate([[0.0], np.repeat(y, 2)[:-1]])

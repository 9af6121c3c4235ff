"""Optimisation history: every trial's score, the best-so-far line, failures.

Answers "is the search still improving?" at a glance; the elapsed-time x axis shows
whether improvements are worth the wall-clock they cost.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.base import (
    BEST_PEN,
    FAILED_BRUSH,
    HIGHLIGHT_PEN,
    PlotBase,
    XHeadroom,
    set_label,
    set_log,
)
from hpstudio.gui.plots.items import FastScatter, finite_bounds

__all__ = ["HistoryPlot"]

X_NUMBER = "number"
X_ELAPSED = "elapsed"


class HistoryPlot(PlotBase):
    """Score per trial (x: trial number or elapsed seconds), best-so-far step line,
    failed trials as red crosses pinned to the bottom of the visible range."""

    title = "History"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_combo = QtWidgets.QComboBox(self)
        self.x_combo.addItem("Trial number", X_NUMBER)
        self.x_combo.addItem("Elapsed time", X_ELAPSED)
        self.x_combo.currentIndexChanged.connect(self._on_option_changed)
        self.log_check = QtWidgets.QCheckBox("Log y", self)
        self.log_check.setToolTip(
            "Logarithmic score axis (uses −score when all scores are negative)"
        )
        self.log_check.toggled.connect(self._on_option_changed)
        self.toolbar.addWidget(QtWidgets.QLabel("x:", self))
        self.toolbar.addWidget(self.x_combo)
        self.toolbar.addWidget(self.log_check)

        self.widget, self.plot = self._plain_plot_widget()
        self.vb = self.plot.getViewBox()
        self.scatter = FastScatter(size=7)
        self.best_curve = pg.PlotCurveItem(pen=BEST_PEN)
        self.failed = FastScatter(symbol="x", size=9, brush=FAILED_BRUSH)
        self.highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        self.plot.addItem(self.best_curve)
        self.plot.addItem(self.scatter)
        self.vb.addItem(self.failed, ignoreBounds=True)
        self.vb.addItem(self.highlight, ignoreBounds=True)
        self.failed.setZValue(5)
        self.highlight.setZValue(10)
        self.scatter.sigClicked.connect(self._on_scatter_clicked)
        self.failed.sigClicked.connect(self._on_failed_clicked)
        self.vb.sigYRangeChanged.connect(self._place_failed)
        self.headroom = XHeadroom(self.vb)
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.vb)

        self._rows = np.empty(0, dtype=np.int64)  # complete rows, in x order
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._best = np.empty(0)
        self._failed_rows = np.empty(0, dtype=np.int64)
        self._failed_x = np.empty(0)
        self._y_sign = 1.0
        self._log_active = False

    # -- options ----------------------------------------------------------------------
    @property
    def x_mode(self) -> str:
        return str(self.x_combo.currentData())

    def set_x_mode(self, mode: str) -> None:
        self.x_combo.setCurrentIndex(self.x_combo.findData(mode))

    def set_log_y(self, on: bool) -> None:
        self.log_check.setChecked(on)

    @property
    def log_y(self) -> bool:
        """True when the score axis is actually drawn logarithmic."""
        return self._log_active

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self.headroom.reset()  # a new study starts from a fitted view

    def _on_option_changed(self, *_: object) -> None:
        self.vb.enableAutoRange()
        self.headroom.reset()
        self.refresh()

    # -- data -------------------------------------------------------------------------
    def _refresh(self) -> None:
        c = self.columns
        if self.x_mode == X_ELAPSED:
            x_all = c.col("finished") - c.t0
            set_label(self.plot, "bottom", "elapsed time", units="s")
        else:
            x_all = c.number.astype(float)
            set_label(self.plot, "bottom", "trial")
        order = np.argsort(x_all, kind="stable")
        complete = c.complete[order]
        rows = order[complete]
        x = x_all[rows]
        y = c.test[rows]
        best = np.maximum.accumulate(y) if len(y) else y
        self._rows, self._x, self._y, self._best = rows, x, y, best
        self._failed_rows = order[~c.col("ok")[order]]
        self._failed_x = x_all[self._failed_rows]

        want_log = self.log_check.isChecked()
        sign = 1.0
        can_log = len(y) > 0 and (bool((y > 0).all()) or bool((y < 0).all()))
        self.log_check.setEnabled(can_log or want_log)
        log = want_log and can_log
        if log and y[0] < 0:
            sign = -1.0
        self._y_sign, self._log_active = sign, log
        ty = self._transform(y)
        tb = self._transform(best)
        set_log(self.plot.getAxis("left"), log)
        label = self.metric_name if sign > 0 else f"−{self.metric_name}"
        set_label(self.plot, "left", f"{label} (mean CV)")
        self.scatter.setData(x, ty)
        self.best_curve.setData(*_step_line(x, tb, float(x_all.max()) if len(x_all) else 0.0))
        b = finite_bounds(x_all)
        if b is not None:
            self.headroom.fit(*b)
        self._place_failed()

    def _transform(self, y: np.ndarray) -> np.ndarray:
        if not self._log_active:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(self._y_sign * y)

    def _place_failed(self, *_: object) -> None:
        """Pin failure markers just above the bottom of whatever range is visible."""
        if len(self._failed_x) == 0:
            self.failed.setData(np.empty(0), np.empty(0))
            return
        (_, _), (y0, y1) = self.vb.viewRange()
        y = y0 + 0.03 * (y1 - y0)
        if len(self._y) == 0 and not np.isfinite(y):
            y = 0.0
        self.failed.setData(self._failed_x, np.full(len(self._failed_x), y))

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        pos = np.flatnonzero(self._rows == row) if row is not None else []
        if len(pos):
            i = int(pos[0])
            self.highlight.setData(self._x[i : i + 1], self._transform(self._y[i : i + 1]))
            return
        fpos = np.flatnonzero(self._failed_rows == row) if row is not None else []
        if len(fpos):
            fx, fy = self.failed.getData()
            i = int(fpos[0])
            self.highlight.setData(fx[i : i + 1], fy[i : i + 1])
            return
        self.highlight.setData(np.empty(0), np.empty(0))

    def _on_scatter_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._rows[index]))

    def _on_failed_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._failed_rows[index]))

    # -- inspection -------------------------------------------------------------------
    def plotted_x(self) -> np.ndarray:
        """x of the complete trials, in plotting (x) order."""
        return self._x.copy()

    def plotted_scores(self) -> np.ndarray:
        """Mean CV scores of the complete trials, in plotting order (untransformed)."""
        return self._y.copy()

    def plotted_numbers(self) -> np.ndarray:
        return self.columns.number[self._rows]

    def best_so_far(self) -> np.ndarray:
        return self._best.copy()

    def failed_numbers(self) -> np.ndarray:
        return self.columns.number[self._failed_rows]

    def highlighted(self) -> tuple[np.ndarray, np.ndarray]:
        return self.highlight.getData()


def _step_line(x: np.ndarray, best: np.ndarray, x_end: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the best-so-far staircase, keeping only the points where it rises
    (a handful, whatever the number of trials) and running on to ``x_end``."""
    if len(x) == 0:
        return np.empty(0), np.empty(0)
    keep = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
    kx, ky = x[keep], best[keep]
    sx = np.empty(2 * len(kx))
    sy = np.empty(2 * len(kx))
    sx[0::2], sy[0::2] = kx, ky
    sx[1:-1:2], sy[1:-1:2] = kx[1:], ky[:-1]
    sx[-1], sy[-1] = max(x_end, kx[-1]), ky[-1]
    return sx, sy

"""Optimisation history: every trial's score, the best-so-far line, failed and pruned
trials.

Answers "is the search still improving?" at a glance; the elapsed-time x axis shows
whether improvements are worth the wall-clock they cost. Trials without a score are
pinned to the bottom of the view: failed ones (their fit raised) as red crosses, pruned
ones (stopped early by the strategy, a normal outcome) as grey triangles, as the legend
above the plot says.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.core.trials import STATE_CODES, TrialTable
from hpstudio.gui.plots.base import (
    BEST_PEN,
    FAILED_BRUSH,
    HIGHLIGHT_PEN,
    POINT_BRUSH,
    PRUNED_BRUSH,
    PlotBase,
    XHeadroom,
    range_around,
    set_label,
    set_log,
)
from hpstudio.gui.plots.items import FastScatter, finite_bounds

__all__ = ["HistoryPlot"]

X_NUMBER = "number"
X_ELAPSED = "elapsed"
_FAILED = STATE_CODES["failed"]
_PRUNED = STATE_CODES["pruned"]
# marker styles, shared by the plot and its legend
_POINT = {"symbol": "o", "size": 7, "brush": POINT_BRUSH}
_FAILED_STYLE = {"symbol": "x", "size": 9, "brush": FAILED_BRUSH}
_PRUNED_STYLE = {"symbol": "t", "size": 9, "brush": PRUNED_BRUSH}


class HistoryPlot(PlotBase):
    """Score per trial (x: trial number or elapsed seconds), best-so-far step line,
    failed trials as red crosses and pruned ones as grey triangles pinned to the bottom
    of the visible range, with a legend of what is drawn."""

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
        self.scatter = FastScatter(**_POINT)
        self.best_curve = pg.PlotCurveItem(pen=BEST_PEN)
        self.failed = FastScatter(**_FAILED_STYLE)
        self.pruned = FastScatter(**_PRUNED_STYLE)
        self.highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        self.plot.addItem(self.best_curve)
        self.plot.addItem(self.scatter)
        for marker in (self.failed, self.pruned):
            self.vb.addItem(marker, ignoreBounds=True)
            marker.setZValue(5)
        self.vb.addItem(self.highlight, ignoreBounds=True)
        self.highlight.setZValue(10)
        self.scatter.sigClicked.connect(self._on_scatter_clicked)
        self.failed.sigClicked.connect(self._on_failed_clicked)
        self.pruned.sigClicked.connect(self._on_pruned_clicked)
        self.vb.sigYRangeChanged.connect(self._place_unscored)
        self.vb.sigRangeChangedManually.connect(self._on_manual_range)
        self.headroom = XHeadroom(self.vb)
        self._legend = _Legend(self.plot, {"trial": self.scatter, "best so far": self.best_curve,
                                           "failed": self.failed, "pruned": self.pruned})
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.vb)

        self._rows = np.empty(0, dtype=np.int64)  # complete rows, in x order
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._best = np.empty(0)
        self._failed_rows = np.empty(0, dtype=np.int64)
        self._failed_x = np.empty(0)
        self._pruned_rows = np.empty(0, dtype=np.int64)
        self._pruned_x = np.empty(0)
        self._y_sign = 1.0
        self._log_active = False
        self._y_pinned = False  # y range set around a single score (auto-range is off)

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
        self.vb.enableAutoRange(y=True)
        self._y_pinned = False

    def _on_option_changed(self, *_: object) -> None:
        self.vb.enableAutoRange()
        self._y_pinned = False
        self.headroom.reset()
        self.refresh()

    def _on_manual_range(self, *_: object) -> None:
        self._y_pinned = False  # the user zoomed: leave the y range to them

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
        state = c.col("state")[order]
        self._failed_rows = order[state == _FAILED]
        self._failed_x = x_all[self._failed_rows]
        self._pruned_rows = order[state == _PRUNED]
        self._pruned_x = x_all[self._pruned_rows]

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
        self._fit_y(ty)
        b = finite_bounds(x_all)
        if b is not None:
            self.headroom.fit(*b)
        self._place_unscored()
        self._legend.show_kinds(scored=len(x) > 0, failed=len(self._failed_x) > 0,
                                pruned=len(self._pruned_x) > 0)

    def _fit_y(self, ty: np.ndarray) -> None:
        """One distinct score (the first trial) gets a range around it; auto-range would
        draw it on a scale of 1e-10."""
        bounds = finite_bounds(ty)
        single = bounds is not None and bounds[0] == bounds[1]
        if single and (self._y_pinned or self.vb.autoRangeEnabled()[1]):
            least = 0.05 if self._log_active else 0.01
            self.vb.setYRange(*range_around(bounds[0], least=least), padding=0)
            self._y_pinned = True
        elif not single and self._y_pinned:
            self._y_pinned = False
            self.vb.enableAutoRange(y=True)

    def _transform(self, y: np.ndarray) -> np.ndarray:
        if not self._log_active:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(self._y_sign * y)

    def _place_unscored(self, *_: object) -> None:
        """Pin failed and pruned markers just above the bottom of the visible range."""
        (_, _), (y0, y1) = self.vb.viewRange()
        y = y0 + 0.03 * (y1 - y0)
        if not np.isfinite(y):
            y = 0.0
        for marker, x in ((self.failed, self._failed_x), (self.pruned, self._pruned_x)):
            marker.setData(x, np.full(len(x), y))

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        pos = np.flatnonzero(self._rows == row) if row is not None else []
        if len(pos):
            i = int(pos[0])
            self.highlight.setData(self._x[i : i + 1], self._transform(self._y[i : i + 1]))
            return
        for marker, rows in ((self.failed, self._failed_rows), (self.pruned, self._pruned_rows)):
            pos = np.flatnonzero(rows == row) if row is not None else []
            if len(pos):
                mx, my = marker.getData()
                i = int(pos[0])
                self.highlight.setData(mx[i : i + 1], my[i : i + 1])
                return
        self.highlight.setData(np.empty(0), np.empty(0))

    def _on_scatter_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._rows[index]))

    def _on_failed_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._failed_rows[index]))

    def _on_pruned_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._pruned_rows[index]))

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

    def pruned_numbers(self) -> np.ndarray:
        return self.columns.number[self._pruned_rows]

    def legend_entries(self) -> list[str]:
        """The names the legend shows now, in order."""
        return self._legend.names()

    def highlighted(self) -> tuple[np.ndarray, np.ndarray]:
        return self.highlight.getData()


class _Legend:
    """What the markers mean, in one row above the plot (never over the points)."""

    def __init__(self, plot: pg.PlotItem, drawn: dict[str, QtWidgets.QGraphicsItem]) -> None:
        self.item = pg.LegendItem(colCount=4, horSpacing=16, verSpacing=-6)
        fixed = QtWidgets.QSizePolicy.Policy.Fixed
        self.item.setSizePolicy(fixed, fixed)
        top = plot.getAxis("top")  # hidden; its cell of the layout holds the legend
        plot.layout.removeItem(top)
        plot.layout.addItem(self.item, 1, 1)
        # Samples for the legend only: the plot's own markers are FastScatter items,
        # which pyqtgraph's legend cannot draw. Clicking a sample hides what it stands for.
        self._samples = {
            "trial": _sample(_POINT),
            "best so far": pg.PlotDataItem(pen=BEST_PEN),
            "failed": _sample(_FAILED_STYLE),
            "pruned": _sample(_PRUNED_STYLE),
        }
        self._drawn = drawn
        self._shown: tuple[str, ...] | None = None

    def show_kinds(self, *, scored: bool, failed: bool, pruned: bool) -> None:
        wanted = {"trial": scored, "best so far": scored, "failed": failed, "pruned": pruned}
        names = tuple(name for name, on in wanted.items() if on)
        if names == self._shown:
            return
        self._shown = names
        self.item.clear()
        for name in names:
            self.item.addItem(self._samples[name], name)
            sample = self.item.items[-1][0]
            sample.sigClicked.connect(lambda item, name=name: self._drawn[name].setVisible(
                item.isVisible()))
        self.item.setVisible(bool(names))

    def names(self) -> list[str]:
        return list(self._shown or ())


def _sample(style: dict) -> pg.ScatterPlotItem:
    return pg.ScatterPlotItem(symbol=style["symbol"], size=style["size"],
                              brush=style["brush"], pen=None)


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

"""Rank plot (Optuna's ``plot_rank``): trials over two parameters, coloured by rank.

Each complete trial sits at its two parameter values and takes the colour of its score's
rank among all trials (red: the best, blue: the worst). Ranks, not scores, so one
outlying score does not wash the colours out, and the region where the good trials
gather stands out whatever the metric's scale.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.core.tradeoffs import rank_fractions
from hpstudio.gui.plots.base import HIGHLIGHT_PEN, PlotBase, set_label, set_log, set_ticks
from hpstudio.gui.plots.items import FastScatter

__all__ = ["SCORE_AXIS", "RankPlot"]

SCORE_AXIS = "__score__"  # the y choice "the score itself", for a one-parameter study
BINS = 10  # colour steps: one scatter item per step
JITTER = 0.3
MIN_INTERVAL_S = 0.2
RANK_COLORS = pg.ColorMap([0.0, 0.5, 1.0], [(215, 48, 39), (250, 240, 170), (69, 117, 180)])


def _jitter(numbers: np.ndarray) -> np.ndarray:
    return ((numbers * 0.6180339887498949) % 1.0 - 0.5) * JITTER


class RankPlot(PlotBase):
    """Two parameters (or one and the score), points coloured by the trial's rank."""

    title = "Rank"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._axis_pickers()
        self.widget, self.plot = self._plain_plot_widget()
        self.bins: list[FastScatter] = []
        for k in range(BINS):
            color = RANK_COLORS.map((k + 0.5) / BINS, mode="qcolor")
            color.setAlpha(220)
            scatter = FastScatter(size=8, brush=color, pen=pg.mkPen((60, 60, 60, 120)))
            scatter.sigClicked.connect(self._click_handler(k))
            scatter.setZValue(BINS - k)  # the best drawn on top
            self.plot.addItem(scatter)
            self.bins.append(scatter)
        self.highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        self.plot.getViewBox().addItem(self.highlight, ignoreBounds=True)
        self.highlight.setZValue(BINS + 5)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=RANK_COLORS, interactive=False,
                                        width=14, label="rank (0 = best)")
        self.plot.layout.addItem(self.colorbar, 2, 5)
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())
        self._names: tuple[str, ...] = ()
        self._rows_of_bin: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * BINS
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._ranks = np.empty(0)

    # -- axes -------------------------------------------------------------------------
    def axes(self) -> tuple[str | None, str | None]:
        return self._picked_axes()

    def set_axes(self, x: str, y: str) -> None:
        self._sync_combos()
        self._pick_axes(x, y)

    def _sync_combos(self) -> None:
        names = tuple(self.columns.params)
        if names == self._names:
            return
        x, y = self.axes()
        with self._quiet_axes():
            self.x_combo.clear()
            self.y_combo.clear()
            for name in names:
                self.x_combo.addItem(name, name)
                self.y_combo.addItem(name, name)
            self.y_combo.addItem("score", SCORE_AXIS)
            x = x if x in names else (names[0] if names else None)
            if y not in (*names, SCORE_AXIS) or y == x:
                y = next((n for n in names if n != x), SCORE_AXIS)
            self.x_combo.setCurrentIndex(max(0, self.x_combo.findData(x)))
            self.y_combo.setCurrentIndex(max(0, self.y_combo.findData(y)))
        self._names = names

    def _click_handler(self, k: int):
        def handler(_item: object, index: int) -> None:
            self._emit_clicked(int(self._rows_of_bin[k][index]))

        return handler

    # -- data -------------------------------------------------------------------------
    def append(self, start: int) -> None:
        self.refresh_throttled(MIN_INTERVAL_S)

    def _refresh(self) -> None:
        self._sync_combos()
        table = self.columns
        xname, yname = self.axes()
        n = len(table)
        ranks = rank_fractions(np.where(table.complete, table.test, np.nan))
        x = self._axis("bottom", xname, n)
        y = self._axis("left", yname, n)
        usable = np.isfinite(ranks) & np.isfinite(x) & np.isfinite(y)
        self._x, self._y, self._ranks = x, y, ranks
        which = np.minimum(np.nan_to_num(ranks * BINS, nan=-1.0).astype(int), BINS - 1)
        for k, scatter in enumerate(self.bins):
            rows = np.flatnonzero(usable & (which == k))
            self._rows_of_bin[k] = rows
            scatter.setData(x[rows], y[rows])
        count = int(usable.sum())
        self.info.setText(f"{count} complete trials, coloured by the rank of their "
                          f"{self.metric_name}" if count else "no complete trial yet")

    def _axis(self, side: str, name: str | None, n: int) -> np.ndarray:
        """The plotted values of one axis: a parameter's (log10, jittered categories) or
        the score."""
        axis = self.plot.getAxis(side)
        table = self.columns
        if name is None:
            return np.full(n, np.nan)
        if name == SCORE_AXIS:
            set_log(axis, False)
            set_ticks(axis, None)
            set_label(self.plot, side, f"mean CV {self.metric_name}")
            return np.where(table.complete, table.test, np.nan)
        column = table.params[name]
        set_label(self.plot, side, name)
        set_log(axis, column.is_log)
        values = column.transformed()
        if column.categorical:
            set_ticks(axis, [[(float(i), label[:14]) for i, label in enumerate(column.labels)]])
            return values + _jitter(table.number.astype(float))
        set_ticks(axis, None)
        return values

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        if row is None or row >= len(self._x) or not (
                np.isfinite(self._x[row]) and np.isfinite(self._y[row])
                and np.isfinite(self._ranks[row])):
            self.highlight.setData(np.empty(0), np.empty(0))
            return
        self.highlight.setData(self._x[row:row + 1], self._y[row:row + 1])

    # -- inspection -------------------------------------------------------------------
    def ranks(self) -> dict[int, float]:
        """Rank fraction (0 = best) of each plotted trial, by trial number."""
        rows = np.concatenate(self._rows_of_bin)
        return dict(zip(self.columns.number[rows].tolist(), self._ranks[rows].tolist(),
                        strict=True))

    def bin_of(self, number: int) -> int | None:
        """Which colour step trial ``number`` is drawn in (0: the best tenth)."""
        row = self.columns.index_of(number)
        for k, rows in enumerate(self._rows_of_bin):
            if row is not None and row in rows:
                return k
        return None

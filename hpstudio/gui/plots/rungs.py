"""Rungs of successive halving: each candidate's score against the budget it ran on.

A line joins one candidate's rungs, so a user sees which candidates earned a larger
budget (promoted: blue, with a ring), where the others stopped (grey), and whether the
ranking on small budgets held on large ones — the question halving stakes everything on.
A study without budgets (every candidate on the full data) says so instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.core.trials import trial_key
from hpstudio.gui.plots.base import (
    HIGHLIGHT_PEN,
    POINT_BRUSH,
    PRUNED_BRUSH,
    PlotBase,
    set_label,
    set_log,
)
from hpstudio.gui.plots.items import FastScatter

__all__ = ["RungsPlot"]

_PROMOTED_PEN = pg.mkPen((20, 60, 140), width=1.5)
_LINE_PEN = pg.mkPen((120, 120, 120, 110), width=1)
_BEST_PEN = pg.mkPen((230, 120, 20), width=2.5)
MIN_INTERVAL_S = 0.2


class RungsPlot(PlotBase):
    """Mean CV score (y) against the budget (x, log scale by default), one line per
    candidate; promoted trials highlighted, the best trial of the top rung in orange."""

    title = "Rungs"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.log_check = QtWidgets.QCheckBox("Log x", self)
        self.log_check.setChecked(True)
        self.log_check.setToolTip("Logarithmic budget axis: each rung a factor further")
        self.log_check.toggled.connect(lambda _: self.refresh())
        self.info = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.log_check)
        self.toolbar.addWidget(self.info)
        self.widget, self.plot = self._plain_plot_widget()
        self.vb = self.plot.getViewBox()
        self.lines = pg.PlotCurveItem(pen=_LINE_PEN, connect="pairs")
        self.best_line = pg.PlotCurveItem(pen=_BEST_PEN)
        self.stopped = FastScatter(symbol="o", size=6, brush=PRUNED_BRUSH)
        self.promoted = FastScatter(symbol="o", size=9, pen=_PROMOTED_PEN, brush=POINT_BRUSH)
        self.highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        for item in (self.lines, self.best_line, self.stopped, self.promoted):
            self.plot.addItem(item)
        self.vb.addItem(self.highlight, ignoreBounds=True)
        self.highlight.setZValue(10)
        self.stopped.sigClicked.connect(lambda _item, i: self._emit_clicked(
            int(self._stopped_rows[i])))
        self.promoted.sigClicked.connect(lambda _item, i: self._emit_clicked(
            int(self._promoted_rows[i])))
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.vb)
        self._stopped_rows = np.empty(0, dtype=np.int64)
        self._promoted_rows = np.empty(0, dtype=np.int64)
        self._x = np.empty(0)

    def append(self, start: int) -> None:
        self.refresh_throttled(MIN_INTERVAL_S)

    # -- data -------------------------------------------------------------------------
    def _refresh(self) -> None:
        c = self.columns
        amounts = c.col("n_resources")
        scored = c.complete & np.isfinite(amounts) & (amounts > 0)
        rows = np.flatnonzero(scored)
        log = self.log_check.isChecked()
        set_log(self.plot.getAxis("bottom"), log)
        set_label(self.plot, "bottom", "budget (n_resources)")
        set_label(self.plot, "left", f"{self.metric_name} (mean CV)")
        if not len(rows):
            self.info.setText("no rungs: every candidate ran on the full budget"
                              if len(c) else "")
            for item in (self.stopped, self.promoted):
                item.setData(np.empty(0), np.empty(0))
            self.lines.setData([], [])
            self.best_line.setData([], [])
            self._stopped_rows = self._promoted_rows = np.empty(0, dtype=np.int64)
            self._x = np.empty(0)
            return
        number, rung = c.number[rows], c.rung[rows]
        x = np.log10(amounts[rows]) if log else amounts[rows]
        self._x = np.full(len(c), np.nan)
        self._x[rows] = x
        y = c.test[rows]
        keys = set(trial_key(c.number, c.rung).tolist())
        above = np.fromiter((k in keys for k in trial_key(number, rung + 1).tolist()),
                            bool, len(rows))
        self._promoted_rows, self._stopped_rows = rows[above], rows[~above]
        self.promoted.setData(x[above], y[above])
        self.stopped.setData(x[~above], y[~above])
        order = np.lexsort((rung, number))
        same = number[order][1:] == number[order][:-1]
        starts, ends = order[:-1][same], order[1:][same]
        seg_x = np.empty(2 * len(starts))
        seg_y = np.empty(2 * len(starts))
        seg_x[0::2], seg_x[1::2] = x[starts], x[ends]
        seg_y[0::2], seg_y[1::2] = y[starts], y[ends]
        self.lines.setData(seg_x, seg_y)
        best = c.best_index()
        if best is not None:
            mine = order[number[order] == c.number[best]]
            self.best_line.setData(x[mine], y[mine])
        top = int(rung.max())
        self.info.setText(f"{len(np.unique(number))} candidates · {top + 1} rung"
                          f"{'s' if top else ''} · {int(above.sum())} promotions")

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        if row is not None and row < len(self._x) and np.isfinite(self._x[row]):
            self.highlight.setData(self._x[row : row + 1], self.columns.test[row : row + 1])
        else:
            self.highlight.setData(np.empty(0), np.empty(0))

    # -- inspection -------------------------------------------------------------------
    def promoted_keys(self) -> list[tuple[int, int]]:
        """(number, rung) of the trials drawn as promoted."""
        c = self.columns
        return [(int(c.number[r]), int(c.rung[r])) for r in self._promoted_rows]

    def stopped_keys(self) -> list[tuple[int, int]]:
        c = self.columns
        return [(int(c.number[r]), int(c.rung[r])) for r in self._stopped_rows]

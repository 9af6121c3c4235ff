"""Pareto view: two objectives at once, and the trials no other beats on both.

Either two of the study's metrics (every metric is "greater is better", as scikit-learn's
scorers are), or a metric against the mean fit time (smaller is better): the front then
shows the cheapest model for each level of score, and the cheapest trial within one
standard error of the best score is marked as the one that is "almost as good".
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.core.tradeoffs import cheapest_almost_as_good, pareto_front
from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.base import HIGHLIGHT_PEN, PlotBase, set_label, set_log
from hpstudio.gui.plots.items import FastScatter

__all__ = ["FIT_TIME", "ParetoPlot"]

FIT_TIME = "fit_time"  # the x choice "mean fit time", next to the metrics
FRONT_BRUSH = (230, 120, 20, 230)
CHOICE_PEN = pg.mkPen((40, 150, 60), width=3)
MIN_INTERVAL_S = 0.2


class ParetoPlot(PlotBase):
    """Scatter of two objectives with the Pareto front drawn and listed."""

    title = "Pareto"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._axis_pickers()
        self.widget, self.plot = self._plain_plot_widget()
        self.others = FastScatter(size=6)
        self.front = FastScatter(size=8, brush=FRONT_BRUSH)
        self.front_line = pg.PlotCurveItem(pen=pg.mkPen(FRONT_BRUSH[:3], width=1.5))
        self.choice = FastScatter(size=16, pen=CHOICE_PEN, brush=None, clickable=False)
        self.highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        for item in (self.front_line, self.others, self.front):
            self.plot.addItem(item)
        for item in (self.choice, self.highlight):
            self.plot.getViewBox().addItem(item, ignoreBounds=True)
            item.setZValue(10)
        self.others.sigClicked.connect(lambda _i, k: self._emit_clicked(int(self._other[k])))
        self.front.sigClicked.connect(lambda _i, k: self._emit_clicked(int(self._front[k])))
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._front = np.empty(0, dtype=np.int64)
        self._other = np.empty(0, dtype=np.int64)
        self._chosen: int | None = None
        self._log_x = False

    # -- axes -------------------------------------------------------------------------
    def axes(self) -> tuple[str | None, str | None]:
        return self._picked_axes()

    def set_axes(self, x: str, y: str) -> None:
        self._pick_axes(x, y)

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self._fill_combos()

    def _fill_combos(self) -> None:
        table = self.columns
        metrics = list(table.metrics)
        shown = getattr(table, "metric", table.refit)
        xs = [(FIT_TIME, "mean fit time (s)"), *((m, m) for m in metrics if m != shown)]
        ys = [(m, self._name(m)) for m in metrics]
        with self._quiet_axes():
            for combo, items in ((self.x_combo, xs), (self.y_combo, ys)):
                combo.clear()
                for key, text in items:
                    combo.addItem(text, key)
            # two metrics: the other one against the shown one; one metric: against time
            self.x_combo.setCurrentIndex(1 if len(xs) > 1 else 0)
            self.y_combo.setCurrentIndex(max(0, self.y_combo.findData(shown)))

    def _name(self, metric: str) -> str:
        shown = getattr(self.columns, "metric", self.columns.refit)
        return self.metric_name if metric == shown else metric

    # -- data -------------------------------------------------------------------------
    def append(self, start: int) -> None:
        self.refresh_throttled(MIN_INTERVAL_S)

    def _refresh(self) -> None:
        xkey, ykey = self.axes()
        table = self.columns
        if xkey is None or ykey is None:
            self._show(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), None, "")
            return
        ok = table.ok
        y = table.metric_col(ykey, "test")
        time = xkey == FIT_TIME
        x = table.col("fit_time") if time else table.metric_col(xkey, "test")
        rows = np.flatnonzero(ok & np.isfinite(x) & np.isfinite(y))
        on_front = pareto_front(x[rows], y[rows], maximize_x=not time)
        chosen = None
        if time and len(rows):
            se = table.metric_col(ykey, "std") / np.sqrt(np.maximum(table.col("k"), 1))
            pick = cheapest_almost_as_good(y[rows], se[rows], x[rows], np.ones(len(rows), bool))
            chosen = None if pick is None else int(rows[pick])
        self._log_x = time and len(rows) > 0 and bool((x[rows] > 0).all())
        with np.errstate(divide="ignore", invalid="ignore"):
            px = np.log10(x) if self._log_x else x
        set_log(self.plot.getAxis("bottom"), self._log_x)
        set_label(self.plot, "bottom", "mean fit time" if time else f"mean CV {xkey}",
                  units="s" if time else None)
        set_label(self.plot, "left", f"mean CV {self._name(ykey)}")
        text = f"{int(on_front.sum())} of {len(rows)} trials on the Pareto front"
        if chosen is not None:
            text += (f" · trial {int(table.number[chosen])} is the cheapest within one standard "
                     f"error of the best (fit {x[chosen]:.3g} s)")
        self._show(rows, px, y, chosen, text, on_front)

    def _show(self, rows: np.ndarray, x: np.ndarray, y: np.ndarray, chosen: int | None,
              text: str, on_front: np.ndarray | None = None) -> None:
        on_front = np.zeros(len(rows), bool) if on_front is None else on_front
        self._x, self._y = x, y
        front, other = rows[on_front], rows[~on_front]
        order = np.argsort(x[front], kind="stable")
        self._front, self._other = front[order], other
        self.front.setData(x[self._front], y[self._front])
        self.others.setData(x[other], y[other])
        self.front_line.setData(x[self._front], y[self._front])
        self._chosen = chosen
        if chosen is None:
            self.choice.setData(np.empty(0), np.empty(0))
        else:
            self.choice.setData(x[chosen:chosen + 1], y[chosen:chosen + 1])
        self.info.setText(text)

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        if row is None or row >= len(self._x) or not (
                np.isfinite(self._x[row]) and np.isfinite(self._y[row])):
            self.highlight.setData(np.empty(0), np.empty(0))
            return
        self.highlight.setData(self._x[row:row + 1], self._y[row:row + 1])

    # -- inspection -------------------------------------------------------------------
    def front_numbers(self) -> list[int]:
        """Trial numbers on the front, by increasing x."""
        return self.columns.number[self._front].tolist()

    def chosen_number(self) -> int | None:
        """The cheapest trial almost as good as the best (score against fit time only)."""
        return None if self._chosen is None else int(self.columns.number[self._chosen])

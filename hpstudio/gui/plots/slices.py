"""Slice plots: score against each hyper-parameter, one small plot per parameter.

Shows the marginal effect of every parameter (and where the search spent its
trials) without choosing pairs; log-scale parameters get a log axis, categorical
ones are spread over integer positions with their labels as ticks.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from hpstudio.gui.plots.axes import study_axes
from hpstudio.gui.plots.base import HIGHLIGHT_PEN, PlotBase, plain_axes, set_ticks
from hpstudio.gui.plots.items import FastScatter

__all__ = ["SlicesPlot"]

COLUMNS = 3
JITTER = 0.3  # spread of categorical points around their integer position


def _jitter(numbers: np.ndarray) -> np.ndarray:
    """Deterministic spread in [-JITTER/2, JITTER/2], stable for a given trial."""
    return ((numbers * 0.6180339887498949) % 1.0 - 0.5) * JITTER


class _Slice:
    """The items of one parameter's plot."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.scatter = FastScatter(size=6)
        self.highlight = FastScatter(size=15, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        plot.addItem(self.scatter)
        plot.getViewBox().addItem(self.highlight, ignoreBounds=True)
        self.highlight.setZValue(10)
        self.rows = np.empty(0, dtype=np.int64)
        self.x = np.empty(0)  # plotted x (log10 / code + jitter)
        self.y = np.empty(0)


class SlicesPlot(PlotBase):
    """One scatter of mean CV score per hyper-parameter, y axes linked."""

    title = "Slices"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.toolbar.addWidget(QtWidgets.QLabel("score against each parameter", self))
        self.widget = pg.GraphicsLayoutWidget(self)
        self.layout_item = self.widget.ci
        self._set_view(self.widget, self.layout_item)
        self._slices: dict[str, _Slice] = {}
        self._layout_key: tuple = ()

    def _rebuild(self, key: tuple) -> None:
        """(Re)create the grid of small plots when the parameter set or kinds change."""
        self.layout_item.clear()
        self._slices.clear()
        first: pg.PlotItem | None = None
        for i, (name, _categorical, log) in enumerate(key):
            plot = plain_axes(self.layout_item.addPlot(
                row=i // COLUMNS, col=i % COLUMNS, axisItems=study_axes("left", "bottom")))
            plot.setMenuEnabled(False, enableViewBoxMenu=True)
            plot.setLabel("bottom", name)
            if i % COLUMNS == 0:
                plot.setLabel("left", self.metric_name)
            plot.getAxis("bottom").setLogMode(bool(log), False)
            if first is None:
                first = plot
            else:
                plot.setYLink(first)
            sl = _Slice(plot)
            sl.scatter.sigClicked.connect(self._make_click_handler(name))
            self._slices[name] = sl
            self._add_export_to_menu(plot.getViewBox())
        self._layout_key = key

    def _make_click_handler(self, name: str):
        def handler(_item: object, index: int) -> None:
            self._emit_clicked(int(self._slices[name].rows[index]))

        return handler

    def _refresh(self) -> None:
        c = self.columns
        key = tuple((n, p.categorical, p.is_log) for n, p in c.params.items())
        if key != self._layout_key:
            self._rebuild(key)
        complete = c.complete
        score = c.test
        numbers = c.number
        for name, sl in self._slices.items():
            col = c.params[name]
            xv = col.transformed()
            mask = complete & np.isfinite(xv)
            rows = np.flatnonzero(mask)
            x = xv[rows]
            if col.categorical:
                x = x + _jitter(numbers[rows])
                ticks = [(float(i), _short(lbl)) for i, lbl in enumerate(col.labels)]
                set_ticks(sl.plot.getAxis("bottom"), [ticks])
            sl.rows, sl.x, sl.y = rows, x, score[rows]
            sl.scatter.setData(x, sl.y)

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        for sl in self._slices.values():
            pos = np.flatnonzero(sl.rows == row) if row is not None else []
            if len(pos):
                i = int(pos[0])
                sl.highlight.setData(sl.x[i : i + 1], sl.y[i : i + 1])
            else:
                sl.highlight.setData(np.empty(0), np.empty(0))

    # -- inspection -------------------------------------------------------------------
    def param_names(self) -> list[str]:
        return list(self._slices)

    def plot_for(self, name: str) -> pg.PlotItem:
        return self._slices[name].plot

    def plotted(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(parameter value, score) of each plotted trial: raw values for numeric
        parameters, integer category positions for categorical ones."""
        sl = self._slices[name]
        col = self.columns.params[name]
        return col.values[sl.rows], sl.y.copy()

    def plotted_numbers(self, name: str) -> np.ndarray:
        return self.columns.number[self._slices[name].rows]

    def is_log_x(self, name: str) -> bool:
        return bool(self._slices[name].plot.getAxis("bottom").logMode)

    def categories(self, name: str) -> list[str]:
        return list(self.columns.params[name].labels)

    def scatter_for(self, name: str) -> FastScatter:
        return self._slices[name].scatter

    def highlighted(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self._slices[name].highlight.getData()


def _short(label: str, width: int = 14) -> str:
    return label if len(label) <= width else label[: max(1, width - 1)] + "…"


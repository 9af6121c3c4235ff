"""Parallel coordinates: one vertical axis per hyper-parameter plus the score.

Reveals which combinations lead to good scores, and lets the user brush ranges
on the axes to filter trials (the trial table can follow ``filterChanged``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from hpstudio.gui.plots.axes import format_values
from hpstudio.gui.plots.base import PlotBase
from hpstudio.gui.plots.items import finite_bounds

__all__ = ["SCORE_AXIS", "ParallelPlot"]

SCORE_AXIS = "score"
COLOR_BINS = 16
# Lines drawn (best half + an even sample of the rest); filtering uses every trial.
# Each opaque line costs ~15 us to rasterise, so this bounds a repaint to ~10 ms.
MAX_LINES = 600
BRUSH_HALF_WIDTH = 0.07
_EPS = 1e-9


class _Brush(pg.ROI):
    """A vertical range on one axis; only its top and bottom move."""

    def __init__(self, axis_x: float) -> None:
        bounds = QtCore.QRectF(axis_x - BRUSH_HALF_WIDTH, 0.0, 2 * BRUSH_HALF_WIDTH, 1.0)
        super().__init__(
            (axis_x - BRUSH_HALF_WIDTH, 0.0), (2 * BRUSH_HALF_WIDTH, 1.0),
            maxBounds=bounds, pen=pg.mkPen((90, 90, 90, 160), width=1),
            hoverPen=pg.mkPen((255, 140, 0), width=2), movable=True,
        )
        self.addScaleHandle([0.5, 1.0], [0.5, 0.0])
        self.addScaleHandle([0.5, 0.0], [0.5, 1.0])

    def span(self) -> tuple[float, float]:
        lo = float(self.pos().y())
        return lo, lo + float(self.size().y())

    def set_span(self, lo: float, hi: float) -> None:
        lo, hi = max(0.0, min(lo, hi)), min(1.0, max(lo, hi))
        x = float(self.pos().x())
        self.setPos((x, lo), update=False, finish=False)
        self.setSize((2 * BRUSH_HALF_WIDTH, hi - lo), update=True, finish=False)

    @property
    def active(self) -> bool:
        lo, hi = self.span()
        return lo > 1e-3 or hi < 1 - 1e-3


class ParallelPlot(PlotBase):
    """Lines coloured by score (viridis, binned into one curve per colour); brushes
    filter trials and emit ``filterChanged(set[int] | None)``."""

    title = "Parallel"
    filterChanged = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_lines = MAX_LINES
        self.info = QtWidgets.QLabel(self)
        clear = QtWidgets.QToolButton(self)
        clear.setText("Clear brushes")
        clear.clicked.connect(self.clear_brushes)
        self.toolbar.addWidget(self.info)
        self.toolbar.addWidget(clear)

        self.widget = pg.PlotWidget(self)
        self.plot = self.widget.getPlotItem()
        self.plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.plot.hideAxis("left")
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.cmap = pg.colormap.get("viridis")
        colors = self.cmap.getLookupTable(0.0, 1.0, COLOR_BINS, alpha=False)
        self.curves = [
            pg.PlotCurveItem(pen=pg.mkPen((*c, 255), width=1), connect="finite")
            for c in colors
        ]
        self.dimmed = pg.PlotCurveItem(pen=pg.mkPen((215, 215, 215)), connect="finite")
        self.axes_curve = pg.PlotCurveItem(pen=pg.mkPen((60, 60, 60), width=1), connect="pairs")
        self.highlight = pg.PlotCurveItem(pen=pg.mkPen((255, 140, 0), width=3))
        for item in (self.dimmed, *self.curves):
            # One drawLines call per colour, opaque: stroking a path, or alpha
            # blending, costs several times more per line. Higher scores paint last.
            item.setSegmentedLineMode("on")
        for item in (self.dimmed, *self.curves, self.axes_curve, self.highlight):
            self.plot.addItem(item)
        self.highlight.setZValue(10)
        self._labels: list[pg.TextItem] = []
        self._label_specs: list = []
        self._brushes: list[_Brush] = []
        self._names: list[str] = []
        self._rows = np.empty(0, dtype=np.int64)
        self._norm = np.empty((0, 0))
        self._pass = np.empty(0, dtype=bool)
        self._drawn = np.empty(0, dtype=np.int64)
        self._last_filter: set[int] | None = None
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())

    # -- layout -----------------------------------------------------------------------
    def _rebuild_axes(self, names: list[str]) -> None:
        for b in self._brushes:
            self.plot.removeItem(b)
        self._brushes = []
        m = len(names)
        ax = self.plot.getAxis("bottom")
        ax.setTicks([[(float(j), n) for j, n in enumerate(names)]])
        xs = np.repeat(np.arange(m, dtype=float), 2)
        ys = np.tile([0.0, 1.0], m)
        self.axes_curve.setData(xs, ys)
        for j in range(m):
            brush = _Brush(float(j))
            brush.sigRegionChangeFinished.connect(self._on_brush_finished)
            self.plot.addItem(brush)
            self._brushes.append(brush)
        self.plot.setXRange(-0.3, m - 0.7, padding=0)
        self.plot.setYRange(-0.08, 1.08, padding=0)
        self._names = names

    def _update_labels(self, texts: list[tuple[float, float, str, tuple[float, float]]]) -> None:
        if texts == self._label_specs:
            return  # relaying out text items every frame would cost more than the lines
        self._label_specs = texts
        while len(self._labels) < len(texts):
            t = pg.TextItem(color=(40, 40, 40))
            self.plot.addItem(t, ignoreBounds=True)
            self._labels.append(t)
        for t, (x, y, s, anchor) in zip(self._labels, texts, strict=False):
            t.setText(s)
            t.setAnchor(anchor)
            t.setPos(x, y)
            t.setVisible(True)
        for t in self._labels[len(texts):]:
            t.setVisible(False)

    # -- data -------------------------------------------------------------------------
    def _refresh(self) -> None:
        c = self.columns
        names = [*c.params, SCORE_AXIS]
        if names != self._names:
            self._rebuild_axes(names)
        rows = np.flatnonzero(c.complete)
        norm = np.empty((len(rows), len(names)))
        labels: list[tuple[float, float, str, tuple[float, float]]] = []
        for j, name in enumerate(names):
            if name == SCORE_AXIS:
                v, log, cats = c.test[rows], False, None
            else:
                p = c.params[name]
                v = p.transformed()[rows]
                log, cats = p.is_log, (p.labels if p.categorical else None)
            if cats is not None:
                span = max(len(cats) - 1, 1)
                norm[:, j] = v / span if len(cats) > 1 else np.where(np.isfinite(v), 0.5, v)
                if len(cats) <= 12:
                    # category names right of the axis, clear of the brush box
                    labels += [(j + BRUSH_HALF_WIDTH, k / span if len(cats) > 1 else 0.5,
                                cats[k][:12], (0.0, 0.5)) for k in range(len(cats))]
                continue
            b = finite_bounds(v)
            if b is None:
                norm[:, j] = np.nan
                continue
            lo, hi = b
            norm[:, j] = (v - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(v), 0.5, v)
            ends = [10.0 ** lo, 10.0 ** hi] if log else [lo, hi]
            low, high = format_values(ends, digits=3 if log else 4)
            labels += [(j, -0.045, low, (0.5, 0.5)), (j, 1.045, high, (0.5, 0.5))]
        self._rows, self._norm = rows, norm
        self._update_labels(labels)
        self._recompute_filter(emit=False)
        self._draw_lines()

    def _draw_lines(self) -> None:
        norm, passing = self._norm, self._pass
        n, m = norm.shape
        score = norm[:, -1] if m else np.empty(0)
        drawn = self._choose_drawn(score)
        self._drawn = drawn
        shown = passing[drawn]
        xs = np.arange(m + 1, dtype=float)
        xs[-1] = np.nan

        def polylines(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            block = np.full((len(idx), m + 1), np.nan)
            block[:, :m] = norm[idx]
            return np.broadcast_to(xs, block.shape).ravel(), block.ravel()

        self.dimmed.setData(*polylines(drawn[~shown]))
        on = drawn[shown]
        bins = np.clip((np.nan_to_num(score[on]) * COLOR_BINS).astype(int), 0, COLOR_BINS - 1)
        for k, curve in enumerate(self.curves):
            curve.setData(*polylines(on[bins == k]))
        shown_n = int(passing.sum())
        text = f"{len(drawn)} of {n} trials drawn"
        if self._last_filter is not None:
            text += f" · {shown_n} pass the brushes"
        self.info.setText(text)

    def _choose_drawn(self, score: np.ndarray) -> np.ndarray:
        """Every line up to ``max_lines``; beyond that the best half plus an even
        sample of the rest, so the good region stays fully visible."""
        n = len(score)
        if n <= self.max_lines:
            return np.arange(n)
        order = np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
        top = order[: self.max_lines // 2]
        rest = np.sort(order[self.max_lines // 2 :])
        step = len(rest) / (self.max_lines - len(top))
        sample = rest[(np.arange(self.max_lines - len(top)) * step).astype(int)]
        return np.sort(np.concatenate([top, sample]))

    # -- brushing ---------------------------------------------------------------------
    def _recompute_filter(self, emit: bool) -> None:
        norm = self._norm
        passing = np.ones(len(norm), dtype=bool)
        any_active = False
        for j, brush in enumerate(self._brushes):
            if not brush.active:
                continue
            any_active = True
            lo, hi = brush.span()
            v = norm[:, j]
            with np.errstate(invalid="ignore"):
                passing &= (v >= lo - _EPS) & (v <= hi + _EPS)
        self._pass = passing
        result = set(self.columns.number[self._rows[passing]].tolist()) if any_active else None
        changed = result != self._last_filter
        self._last_filter = result
        if emit and changed:
            self.filterChanged.emit(result)

    def _on_brush_finished(self, *_: object) -> None:
        self._recompute_filter(emit=True)
        self._draw_lines()

    def set_brush(self, name: str, low: float, high: float) -> None:
        """Brush axis ``name`` to the normalised range [low, high] (0 = axis bottom)."""
        self.ensure_fresh()
        self._brushes[self._names.index(name)].set_span(low, high)
        self._on_brush_finished()

    def clear_brushes(self) -> None:
        for b in self._brushes:
            b.set_span(0.0, 1.0)
        self._on_brush_finished()

    def refresh(self) -> None:
        # New trials may pass the brushes: keep listeners of the filter in sync.
        before = self._last_filter
        super().refresh()
        if self._last_filter != before:
            self.filterChanged.emit(self.current_filter())

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        pos = np.flatnonzero(self._rows == row) if row is not None else []
        if len(pos):
            self.highlight.setData(np.arange(self._norm.shape[1], dtype=float),
                                   self._norm[int(pos[0])])
        else:
            self.highlight.setData([], [])

    # -- inspection -------------------------------------------------------------------
    def axis_names(self) -> list[str]:
        return list(self._names)

    def normalised(self) -> np.ndarray:
        """Rows: complete trials (see plotted_numbers); columns: axes, in [0, 1]."""
        return self._norm.copy()

    def plotted_numbers(self) -> np.ndarray:
        return self.columns.number[self._rows]

    def current_filter(self) -> set[int] | None:
        return None if self._last_filter is None else set(self._last_filter)

    def drawn_count(self) -> int:
        return len(self._drawn)

    def highlighted(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.highlight.getData()
        return (np.empty(0), np.empty(0)) if x is None else (x, y)

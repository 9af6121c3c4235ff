"""Score over two chosen hyper-parameters, as a heatmap.

Grid-like data (few distinct values per axis, e.g. a grid search) is drawn as
cells holding the best score per (a, b) pair; continuous data (random / Bayesian
search) is interpolated linearly onto a regular grid. Interactions between two
parameters, invisible in the slice plots, show up here.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from hpstudio.core.trials import ParamColumn
from hpstudio.gui.plots.axes import format_values
from hpstudio.gui.plots.base import (
    HIGHLIGHT_PEN,
    PlotBase,
    set_label,
    set_log,
    set_ticks,
)
from hpstudio.gui.plots.items import FastScatter, finite_bounds

__all__ = ["MODE_EMPTY", "MODE_GRID", "MODE_INTERPOLATED", "ContourPlot"]

MODE_GRID = "grid"
MODE_INTERPOLATED = "interpolated"
MODE_EMPTY = "empty"
GRID_MAX_DISTINCT = 32  # at most this many distinct values per axis -> cell heatmap
RESOLUTION = 80  # interpolation grid size per axis
MAX_INTERP_POINTS = 2000  # above this, points are pre-binned (max per bin) first
PREBIN = 48
MIN_INTERVAL_S = 0.25  # interpolation is the costly mode: at most 4 redraws per second


class ContourPlot(PlotBase):
    """Heatmap of the score over two parameters picked in the combo boxes."""

    title = "Contour"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._axis_pickers()

        self.widget, self.plot = self._plain_plot_widget()
        self.cmap = pg.colormap.get("viridis")
        self._lut = self.cmap.getLookupTable(0.0, 1.0, 256, alpha=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.points = FastScatter(size=4, pen=pg.mkPen((255, 255, 255, 200)),
                                  brush=(30, 30, 30, 200))
        self.highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        self.plot.addItem(self.points)
        self.plot.getViewBox().addItem(self.highlight, ignoreBounds=True)
        self.highlight.setZValue(10)
        self.points.sigClicked.connect(self._on_point_clicked)
        self.colorbar = pg.ColorBarItem(colorMap=self.cmap, interactive=False, width=14)
        self.plot.layout.addItem(self.colorbar, 2, 5)
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())

        self._mode = MODE_EMPTY
        self._cells = np.empty((0, 0))
        self._axis_values: tuple[list, list] = ([], [])
        self._img = np.empty((0, 0))
        self._rows = np.empty(0, dtype=np.int64)
        self._px = np.empty(0)
        self._py = np.empty(0)

    # -- parameter choice -------------------------------------------------------------
    def selected_params(self) -> tuple[str | None, str | None]:
        return self._picked_axes()

    def set_params(self, x: str, y: str) -> None:
        self._pick_axes(x, y)

    def _sync_combos(self) -> None:
        names = list(self.columns.params)
        current = [self.x_combo.itemData(i) for i in range(self.x_combo.count())]
        if names == current:
            return
        xs, ys = self.selected_params()
        with self._quiet_axes():
            for combo in (self.x_combo, self.y_combo):
                combo.clear()
                for n in names:
                    combo.addItem(n, n)
            if xs not in names:
                xs = names[0] if names else None
            if ys not in names or ys == xs:
                ys = next((n for n in names if n != xs), None)
            if xs is not None:
                self.x_combo.setCurrentIndex(names.index(xs))
            if ys is not None:
                self.y_combo.setCurrentIndex(names.index(ys))

    # -- data -------------------------------------------------------------------------
    def append(self, start: int) -> None:
        # Grid mode is cheap; interpolation is throttled to MIN_INTERVAL_S.
        if self._mode == MODE_INTERPOLATED:
            self.refresh_throttled(MIN_INTERVAL_S)
        else:
            self.refresh()

    def _refresh(self) -> None:
        self._sync_combos()
        xname, yname = self.selected_params()
        c = self.columns
        if xname is None or yname is None or xname == yname:
            self._show_empty("pick two different parameters")
            return
        px, py = c.params[xname], c.params[yname]
        tx, ty = px.transformed(), py.transformed()
        score = c.test
        rows = np.flatnonzero(c.complete & np.isfinite(tx) & np.isfinite(ty))
        x, y, s = tx[rows], ty[rows], score[rows]
        self._rows = rows
        if len(rows) == 0:
            self._show_empty("no complete trial has both parameters")
            return
        ux, uy = np.unique(x), np.unique(y)
        grid = _discrete(px.categorical, len(ux), len(x)) and _discrete(
            py.categorical, len(uy), len(y)
        )
        xax, yax = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        set_label(self.plot, "bottom", xname)
        set_label(self.plot, "left", yname)
        if grid:
            self._mode = MODE_GRID
            ix, iy = np.searchsorted(ux, x), np.searchsorted(uy, y)
            cells = np.full((len(ux), len(uy)), np.nan)
            np.fmax.at(cells, (ix, iy), s)
            self._cells = cells
            self._axis_values = (_values_of(px, ux), _values_of(py, uy))
            set_log(xax, False)
            set_log(yax, False)
            set_ticks(xax, [_grid_ticks(self._axis_values[0])])
            set_ticks(yax, [_grid_ticks(self._axis_values[1])])
            self._set_image(cells.T, QtCore.QRectF(-0.5, -0.5, len(ux), len(uy)))
            self._px, self._py = ix.astype(float), iy.astype(float)
            self.info.setText(f"best score per cell · {len(rows)} trials")
        else:
            self._mode = MODE_INTERPOLATED
            set_ticks(xax, None if not px.categorical else [_cat_ticks(px.labels)])
            set_ticks(yax, None if not py.categorical else [_cat_ticks(py.labels)])
            set_log(xax, px.is_log)
            set_log(yax, py.is_log)
            img, rect = _interpolate(x, y, s)
            self._cells = np.empty((0, 0))
            self._axis_values = ([], [])
            if img is None:
                self._set_image(np.empty((0, 0)), QtCore.QRectF())
                self.info.setText("too few distinct points to interpolate")
            else:
                self._set_image(img, rect)
                self.info.setText(f"linear interpolation · {len(rows)} trials")
            self._px, self._py = x, y
        self.points.setData(self._px, self._py)

    def _set_image(self, img: np.ndarray, rect: QtCore.QRectF) -> None:
        """Colour-map ourselves so empty cells / outside the hull are transparent."""
        self._img = img
        b = finite_bounds(img.ravel()) if img.size else None
        if b is None:
            self.image.clear()
            return
        lo, hi = b
        norm = (img - lo) / (hi - lo) if hi > lo else np.where(np.isfinite(img), 0.5, img)
        idx = np.clip(np.nan_to_num(norm, nan=0.0) * 255, 0, 255).astype(np.uint8)
        rgba = self._lut[idx]
        rgba[..., 3] = np.where(np.isfinite(img), 255, 0)
        self.image.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.image.setRect(rect)
        self.colorbar.setLevels((lo, hi if hi > lo else lo + 1e-12))

    def _show_empty(self, why: str) -> None:
        self._mode = MODE_EMPTY
        self._cells = np.empty((0, 0))
        self._axis_values = ([], [])
        self._rows = np.empty(0, dtype=np.int64)
        self._px = self._py = np.empty(0)
        self._set_image(np.empty((0, 0)), QtCore.QRectF())
        self.points.setData(self._px, self._py)
        self.info.setText(why)

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        pos = np.flatnonzero(self._rows == row) if row is not None else []
        if len(pos):
            i = int(pos[0])
            self.highlight.setData(self._px[i : i + 1], self._py[i : i + 1])
        else:
            self.highlight.setData(np.empty(0), np.empty(0))

    def _on_point_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._rows[index]))

    # -- inspection -------------------------------------------------------------------
    def mode(self) -> str:
        return self._mode

    def cell_values(self) -> np.ndarray:
        """Grid mode: best score per cell, shape (len(x values), len(y values))."""
        return self._cells.copy()

    def axis_values(self) -> tuple[list, list]:
        """Grid mode: the distinct x and y values (category labels for categoricals)."""
        return list(self._axis_values[0]), list(self._axis_values[1])

    def image_data(self) -> np.ndarray:
        """The scores drawn as the image (row = y, column = x); NaN is transparent."""
        return self._img.copy()

    def is_log(self, axis: str) -> bool:
        return bool(self.plot.getAxis("bottom" if axis == "x" else "left").logMode)

    def highlighted(self) -> tuple[np.ndarray, np.ndarray]:
        return self.highlight.getData()


def _discrete(categorical: bool, n_distinct: int, n_points: int) -> bool:
    """Grid-like: a category, or few numbers that repeat (a grid), not a random sample."""
    return categorical or (n_distinct <= GRID_MAX_DISTINCT and 2 * n_distinct <= n_points)


def _values_of(col: ParamColumn, unique: np.ndarray) -> list:
    if col.categorical:
        return [col.labels[int(u)] for u in unique]
    if col.is_log:
        return [float(10 ** u) for u in unique]
    return [float(u) for u in unique]


def _grid_ticks(values: list) -> list[tuple[float, str]]:
    """One tick per grid value, all numbers written the same way (plain or 10^k)."""
    return [(float(i), text[:14]) for i, text in enumerate(format_values(values))]


def _cat_ticks(labels: list[str]) -> list[tuple[float, str]]:
    return [(float(i), lbl[:14]) for i, lbl in enumerate(labels)]


def _interpolate(
    x: np.ndarray, y: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray | None, QtCore.QRectF]:
    """Linear interpolation of the best score per distinct point onto a regular grid."""
    from scipy.interpolate import griddata
    from scipy.spatial import QhullError

    pts = np.column_stack([x, y])
    if len(pts) > MAX_INTERP_POINTS:
        uniq, best = _prebin(pts, s)  # also merges duplicates
    else:
        uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
        best = np.full(len(uniq), -np.inf)
        np.maximum.at(best, inverse.ravel(), s)
    (x0, y0), (x1, y1) = uniq.min(axis=0), uniq.max(axis=0)
    if len(uniq) < 3 or x1 <= x0 or y1 <= y0:
        return None, QtCore.QRectF()
    gx = np.linspace(x0, x1, RESOLUTION)
    gy = np.linspace(y0, y1, RESOLUTION)
    mx, my = np.meshgrid(gx, gy)  # rows = y, columns = x
    sx, sy = x1 - x0, y1 - y0  # interpolate in unit square: both axes weigh the same
    try:
        with _single_threaded_blas():
            img = griddata(
                ((uniq[:, 0] - x0) / sx, (uniq[:, 1] - y0) / sy), best,
                ((mx - x0) / sx, (my - y0) / sy), method="linear",
            )
    except (QhullError, ValueError):  # degenerate input, e.g. all points collinear
        return None, QtCore.QRectF()
    dx, dy = sx / (RESOLUTION - 1), sy / (RESOLUTION - 1)
    return img, QtCore.QRectF(x0 - dx / 2, y0 - dy / 2, sx + dx, sy + dy)


_BLAS: list = []


def _single_threaded_blas() -> contextlib.AbstractContextManager:
    """griddata's barycentric transforms make thousands of tiny LAPACK calls; a
    multi-threaded OpenBLAS can spend seconds waking its threads for them on a busy
    machine, while one thread takes milliseconds."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return contextlib.nullcontext()
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _prebin(pts: np.ndarray, best: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best score per cell of a PREBIN x PREBIN grid, at the cell's best point."""
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    cell = np.minimum(((pts - lo) / span * PREBIN).astype(int), PREBIN - 1)
    key = cell[:, 0] * PREBIN + cell[:, 1]
    order = np.lexsort((-best, key))  # per key, best score first
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    keep = order[first]
    return pts[keep], best[keep]

"""Vectorised graphics items shared by the plots.

pyqtgraph's ScatterPlotItem builds per-point Python records on every setData
(~15 ms for 10k points), which alone would spend the whole frame budget of a live
update. ``FastScatter`` keeps plain float arrays and draws them with one
``drawPixmapFragments`` call; ``FastBars`` is a BarGraphItem whose hit shape is its
bounding box, because the stock shape() loops over every rectangle in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import Qt as pgQt
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol, renderSymbol
from PySide6 import QtCore, QtGui

__all__ = ["FastBars", "FastScatter", "finite_bounds"]



class _FragmentBuffer:
    """Pixmap fragments for every marker of one pixmap size.

    Shared by all scatters whose markers have that size: items paint one at a time on
    the GUI thread, and a buffer per item would fault in ~8 MB of fresh pages per
    100,000 points on each item's first paint. The source rectangle and scale are the
    same for every marker, so they are written once per row, not per frame.
    """

    def __init__(self, width: int, height: int, dpr: float) -> None:
        self.array = pgQt.internals.PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)
        self._constants = ((0, 0, width, height), (1 / dpr, 1 / dpr, 0.0, 1.0))
        self._storage: Any = None  # the numpy block whose rows hold the constants
        self._filled = 0

    def rows(self, n: int) -> np.ndarray:
        """An (n, 10) view to fill with device x, y in columns 0 and 1."""
        self.array.resize(n)
        frags = self.array.ndarray()
        if frags.base is not self._storage:  # reallocated: no constants yet
            self._storage, self._filled = frags.base, 0
        if n > self._filled:
            frags[self._filled :, 2:6] = self._constants[0]
            frags[self._filled :, 6:10] = self._constants[1]
            self._filled = n
        return frags


_FRAGMENT_BUFFERS: dict[tuple[int, int, float], _FragmentBuffer] = {}


def _fragment_buffer(pix: QtGui.QPixmap, dpr: float) -> _FragmentBuffer:
    key = (pix.width(), pix.height(), dpr)
    buf = _FRAGMENT_BUFFERS.get(key)
    if buf is None:
        buf = _FRAGMENT_BUFFERS[key] = _FragmentBuffer(*key)
    return buf


def finite_bounds(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values, or None when there are none."""
    if len(values) == 0:
        return None
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return None
    return float(v.min()), float(v.max())


class FastScatter(pg.GraphicsObject):
    """Same-style markers for up to millions of points; emits the clicked index.

    ``sigClicked(item, index)`` carries the index into the arrays given to setData.
    """

    sigClicked = QtCore.Signal(object, int)

    def __init__(
        self,
        symbol: str = "o",
        size: float = 7.0,
        pen: Any = None,
        brush: Any = (60, 120, 200, 170),
        clickable: bool = True,
    ) -> None:
        super().__init__()
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._px = self._py = self._x  # the finite points, which are the ones drawn
        self._bounds: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)
        self._pixmaps: dict[float, QtGui.QPixmap] = {}
        self._clickable = clickable
        self.setStyle(symbol=symbol, size=size, pen=pen, brush=brush)

    # -- data -------------------------------------------------------------------------
    def setStyle(self, symbol: str, size: float, pen: Any, brush: Any) -> None:
        self._symbol = symbol
        self._size = float(size)
        self._pen = pg.mkPen(pen)
        self._brush = pg.mkBrush(brush)
        self._pixmaps.clear()
        self.prepareGeometryChange()
        self.update()

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._x = np.asarray(x, dtype=float)
        self._y = np.asarray(y, dtype=float)
        if self._x.shape != self._y.shape:
            raise ValueError("x and y must have the same length")
        finite = np.isfinite(self._x) & np.isfinite(self._y)
        # what paint() draws: computed once here, not on every frame
        self._px, self._py = (self._x, self._y) if finite.all() else (
            self._x[finite], self._y[finite])
        self._bounds = (finite_bounds(self._x), finite_bounds(self._y))
        self.informViewBoundsChanged()
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def __len__(self) -> int:
        return len(self._x)

    # -- geometry ---------------------------------------------------------------------
    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: Any = None
    ) -> tuple[float | None, float | None]:
        b = self._bounds[ax]
        return (None, None) if b is None else b

    def pixelPadding(self) -> float:
        return self._size * 0.5 + self._pen.widthF() + 1

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()
        super().viewTransformChanged()

    def boundingRect(self) -> QtCore.QRectF:
        bx, by = self._bounds
        if bx is None or by is None:
            return QtCore.QRectF()
        px, py = self.pixelVectors()
        pad = self.pixelPadding()
        padx = 0.0 if px is None else px.length() * pad
        pady = 0.0 if py is None else py.length() * pad
        return QtCore.QRectF(
            bx[0] - padx, by[0] - pady, bx[1] - bx[0] + 2 * padx, by[1] - by[0] + 2 * pady
        )

    # -- painting ---------------------------------------------------------------------
    def _pixmap(self, dpr: float) -> QtGui.QPixmap:
        pix = self._pixmaps.get(dpr)
        if pix is None:
            image = renderSymbol(self._symbol, self._size, self._pen, self._brush, dpr=dpr)
            pix = QtGui.QPixmap.fromImage(image)
            self._pixmaps[dpr] = pix
        return pix

    def paint(self, p: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        x, y = self._px, self._py
        if len(x) == 0:
            return
        view = self.viewRect()
        bx, by = self._bounds
        if view is not None and view.isValid() and bx is not None and by is not None:
            px, py = self.pixelVectors()
            pad = self.pixelPadding()
            padx = 0.0 if px is None else px.length() * pad
            pady = 0.0 if py is None else py.length() * pad
            left, right = view.left() - padx, view.right() + padx
            top, bottom = view.top() - pady, view.bottom() + pady
            if not (bx[0] >= left and bx[1] <= right and by[0] >= top and by[1] <= bottom):
                keep = (x >= left) & (x <= right) & (y >= top) & (y <= bottom)
                x, y = x[keep], y[keep]  # zoomed in: only what is in view
        if len(x) == 0:
            return
        engine = p.paintEngine()
        if engine is not None and engine.type() in (
            QtGui.QPaintEngine.Type.SVG, QtGui.QPaintEngine.Type.Pdf
        ):
            self._paint_vector(p, x, y)
            return
        tr = p.transform()
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        pix = self._pixmap(dpr)
        buf = _fragment_buffer(pix, dpr)
        frags = buf.rows(len(x))
        # device coordinates written straight into the fragment array
        dx, dy = frags[:, 0], frags[:, 1]
        np.multiply(x, tr.m11(), out=dx)
        np.multiply(y, tr.m22(), out=dy)
        if tr.m21() or tr.m12():  # a rotated or sheared view
            dx += tr.m21() * y
            dy += tr.m12() * x
        dx += tr.dx()
        dy += tr.dy()
        np.clip(dx, -(2**30), 2**30, out=dx)
        np.clip(dy, -(2**30), 2**30, out=dy)
        p.resetTransform()
        p.drawPixmapFragments(*buf.array.drawargs(), pix)

    def _paint_vector(self, p: QtGui.QPainter, x: np.ndarray, y: np.ndarray) -> None:
        # Vector output keeps one path per marker, so exported files stay editable.
        tr = p.transform()
        p.resetTransform()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            pt = tr.map(QtCore.QPointF(xi, yi))
            p.resetTransform()
            p.translate(pt)
            drawSymbol(p, self._symbol, self._size, self._pen, self._brush)
        p.setTransform(tr)

    # -- picking ----------------------------------------------------------------------
    def index_near(self, pos: QtCore.QPointF, tolerance_px: float | None = None) -> int | None:
        """Index of the point closest to ``pos`` (item coordinates) within a few pixels."""
        if len(self._x) == 0:
            return None
        px, py = self.pixelVectors()
        sx = px.length() if px is not None else 1.0
        sy = py.length() if py is not None else 1.0
        if sx == 0 or sy == 0:
            return None
        tol = self._size * 0.5 + 3 if tolerance_px is None else tolerance_px
        with np.errstate(invalid="ignore"):
            d2 = ((self._x - pos.x()) / sx) ** 2 + ((self._y - pos.y()) / sy) ** 2
        d2 = np.where(np.isfinite(d2), d2, np.inf)
        i = int(np.argmin(d2))
        return i if d2[i] <= tol * tol else None

    def mouseClickEvent(self, ev: Any) -> None:
        if not self._clickable or ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        i = self.index_near(ev.pos())
        if i is None:
            ev.ignore()
            return
        ev.accept()
        self.sigClicked.emit(self, i)


class FastBars(pg.BarGraphItem):
    """BarGraphItem for hundreds of thousands of single-colour bars.

    The stock ``shape()`` adds every rectangle to a QPainterPath in Python, which
    QGraphicsScene calls on each mouse event; the bounding box is enough here since
    clicks are resolved by the owning plot from the arrays.
    """

    def shape(self) -> QtGui.QPainterPath:
        path = QtGui.QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def setBars(self, x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> None:
        """Bars from their edges, written straight into the rectangle array that paint
        hands to ``drawRects`` (the stock setOpts path normalises and copies every
        column again; with half a million fold bars that was most of a redraw)."""
        x0, x1 = np.asarray(x0, float), np.asarray(x1, float)
        y0, y1 = np.asarray(y0, float), np.asarray(y1, float)
        width, height = x1 - x0, y1 - y0
        self.opts.update(x0=x0, width=width, y0=y0, height=height)
        self.picture = None
        self._shape = None
        n = len(x0)
        self._rectarray.resize(n)
        if n == 0:
            self._dataBounds = ((None, None), (None, None))
        else:
            self._dataBounds = (
                (float(min(x0.min(), x1.min())), float(max(x0.max(), x1.max()))),
                (float(min(y0.min(), y1.min())), float(max(y0.max(), y1.max()))),
            )
            rects = self._rectarray.ndarray()
            rects[:, 0] = x0
            rects[:, 1] = y0
            rects[:, 2] = width
            rects[:, 3] = height
        self.prepareGeometryChange()
        self.update()
        self.informViewBoundsChanged()

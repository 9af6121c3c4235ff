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
        self._bounds: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)
        self._frags = pgQt.internals.PrimitiveArray(QtGui.QPainter.PixmapFragment, 10)
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
        if len(self._x) == 0:
            return
        view = self.viewRect()
        x, y = self._x, self._y
        mask = np.isfinite(x) & np.isfinite(y)
        if view is not None and view.isValid():
            px, py = self.pixelVectors()
            pad = self.pixelPadding()
            padx = 0.0 if px is None else px.length() * pad
            pady = 0.0 if py is None else py.length() * pad
            mask &= (x >= view.left() - padx) & (x <= view.right() + padx)
            mask &= (y >= view.top() - pady) & (y <= view.bottom() + pady)
        x, y = x[mask], y[mask]
        if len(x) == 0:
            return
        engine = p.paintEngine()
        if engine is not None and engine.type() in (
            QtGui.QPaintEngine.Type.SVG, QtGui.QPaintEngine.Type.Pdf
        ):
            self._paint_vector(p, x, y)
            return
        tr = p.transform()
        dx = tr.m11() * x + tr.m21() * y + tr.dx()
        dy = tr.m12() * x + tr.m22() * y + tr.dy()
        np.clip(dx, -(2**30), 2**30, out=dx)
        np.clip(dy, -(2**30), 2**30, out=dy)
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        pix = self._pixmap(dpr)
        p.resetTransform()
        self._frags.resize(len(dx))
        frags = self._frags.ndarray()
        frags[:, 0] = dx
        frags[:, 1] = dy
        frags[:, 2:6] = (0, 0, pix.width(), pix.height())
        frags[:, 6:10] = (1 / dpr, 1 / dpr, 0.0, 1.0)
        p.drawPixmapFragments(*self._frags.drawargs(), pix)

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
        self.setOpts(
            x0=np.asarray(x0, float), width=np.asarray(x1, float) - np.asarray(x0, float),
            y0=np.asarray(y0, float), height=np.asarray(y1, float) - np.asarray(y0, float),
        )

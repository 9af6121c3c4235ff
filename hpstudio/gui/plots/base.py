"""Common frame of every plot: a toolbar, a pyqtgraph view, export, dirty tracking.

Plots share one :class:`TrialTable` store owned by the panel. A hidden plot only
raises its ``dirty`` flag when trials arrive and recomputes when it is shown, so a
live study pays for the visible tab alone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtSvg, QtWidgets

from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.axes import study_axes

__all__ = [
    "FAILED_BRUSH",
    "HIGHLIGHT_PEN",
    "POINT_BRUSH",
    "PRUNED_BRUSH",
    "PlotBase",
    "XHeadroom",
    "export_view",
    "plain_axes",
    "range_around",
    "set_label",
    "set_log",
    "set_ticks",
]

POINT_BRUSH = (52, 120, 200, 170)
BEST_PEN = pg.mkPen((230, 120, 20), width=2)
FAILED_BRUSH = (220, 40, 40, 220)
PRUNED_BRUSH = (140, 140, 140, 220)  # stopped early by the strategy: grey, not an error
HIGHLIGHT_PEN = pg.mkPen((255, 140, 0), width=3)

pg.setConfigOptions(background="w", foreground="k", antialias=False)


def plain_axes(plot: pg.PlotItem) -> pg.PlotItem:
    """No automatic SI prefixes: scores read "0.93", not "930 (x0.001)"."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    return plot


def set_label(plot: pg.PlotItem, axis: str, text: str, units: str | None = None) -> None:
    """setLabel only on change: relabelling re-lays out the axis, too slow per frame."""
    ax = plot.getAxis(axis)
    if ax.labelText == text and ax.labelUnits == (units or "") and ax.label.isVisible():
        return
    plot.setLabel(axis, text, units=units)


def set_ticks(ax: pg.AxisItem, ticks: list | None) -> None:
    """setTicks only on change (it invalidates the cached axis picture)."""
    if getattr(ax, "_tickLevels", None) != ticks:
        ax.setTicks(ticks)


def set_log(ax: pg.AxisItem, on: bool) -> None:
    if bool(ax.logMode) != bool(on):
        ax.setLogMode(bool(on))


def range_around(value: float, relative: float = 0.05,
                 least: float = 0.01) -> tuple[float, float]:
    """A range centred on one value, ``relative`` of its magnitude (at least ``least``)
    each way: what an axis shows when all its data sit on a single value."""
    half = max(abs(value) * relative, least)
    return value - half, value + half


class XHeadroom:
    """Keeps a growing x axis ahead of the data.

    Auto-range would change the x range with every new trial, re-laying out the axis
    and repainting everything each frame; instead the range jumps by ~20% once the
    data reaches its end. The user panning or zooming takes over; the auto-range
    button hands control back.
    """

    #: the newest data keeps at least this share of the visible width to its right
    EDGE_MARGIN = 0.05
    LEFT_PAD = 0.04

    def __init__(self, vb: pg.ViewBox, headroom: float = 0.2, min_span: float = 2.0) -> None:
        self.vb = vb
        self.headroom = headroom
        self.min_span = min_span  # a single point (or a few close ones) is shown this wide
        self.range: tuple[float, float] | None = None  # None: the user is in control
        vb.sigRangeChangedManually.connect(self._on_manual)

    def fit(self, lo: float, hi: float) -> None:
        if self.vb.autoRangeEnabled()[0]:
            self.range = (np.nan, np.nan)
        if self.range is None or not (np.isfinite(lo) and np.isfinite(hi)):
            return
        cur_lo, cur_hi = self.range
        width = cur_hi - cur_lo
        inside = lo >= cur_lo and hi <= cur_hi - self.EDGE_MARGIN * width
        if inside and (hi - lo) >= 0.5 * width:
            return
        self.range = self.target(lo, hi)
        self.vb.setXRange(*self.range, padding=0)  # also turns x auto-range off

    def target(self, lo: float, hi: float) -> tuple[float, float]:
        """The range shown for data from ``lo`` to ``hi``: a little room on the left,
        ``headroom`` of the span on the right; data narrower than ``min_span`` (one
        trial) is centred in a range that wide, or 20% of its magnitude if wider."""
        least = max(self.min_span, 0.2 * max(abs(lo), abs(hi)))
        if hi - lo < least:
            middle = (lo + hi) / 2
            lo, hi = middle - least / 2, middle + least / 2
        span = hi - lo
        return (lo - self.LEFT_PAD * span, hi + self.headroom * span)

    def reset(self) -> None:
        self.vb.enableAutoRange(x=True)
        self.range = (np.nan, np.nan)

    def _on_manual(self, *_: object) -> None:
        self.range = None


def export_view(view: QtWidgets.QGraphicsView, target: Any, path: str | Path) -> Path:
    """Write a plot to PNG (pyqtgraph ImageExporter) or SVG.

    SVG goes through QSvgGenerator rather than pyqtgraph's SVGExporter, whose
    path post-processing does not parse the SVG written by recent Qt versions.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        rect = view.viewport().rect()
        gen = QtSvg.QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(rect.size())
        gen.setViewBox(rect)
        gen.setTitle(path.stem)
        painter = QtGui.QPainter(gen)
        try:
            view.render(painter, QtCore.QRectF(rect), rect)
        finally:
            painter.end()
    elif suffix in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"):
        from pyqtgraph.exporters import ImageExporter

        exporter = ImageExporter(target)
        exporter.parameters()["antialias"] = True
        exporter.export(str(path))
    else:
        raise ValueError(f"unsupported export format {suffix!r}: use .png or .svg")
    return path


class PlotBase(QtWidgets.QWidget):
    """A plot tab: ``refresh()`` redraws from the shared columns, ``append()`` after new
    rows, ``set_selected()`` moves the highlight. Subclasses fill ``self.toolbar`` and
    set ``self.view`` (a pyqtgraph GraphicsView) and ``self.export_target``."""

    trialClicked = QtCore.Signal(int)
    title = "Plot"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: TrialTable = TrialTable()
        self.metric_name = "score"
        self.dirty = True
        self.selected: int | None = None
        self.refresh_count = 0
        self._last_refresh = -np.inf
        self._deferred: QtCore.QTimer | None = None  # a throttled redraw waiting its turn
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.toolbar = QtWidgets.QHBoxLayout()
        self.toolbar.setContentsMargins(4, 0, 4, 0)
        layout.addLayout(self.toolbar)
        self._toolbar_tail = QtWidgets.QHBoxLayout()
        self.export_button = QtWidgets.QToolButton(self)
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save this plot as PNG or SVG")
        self.export_button.clicked.connect(self.export_dialog)
        self._toolbar_tail.addStretch(1)
        self._toolbar_tail.addWidget(self.export_button)
        self._body = layout
        self.view: pg.GraphicsView | None = None
        self.export_target: Any = None

    # -- wiring for subclasses --------------------------------------------------------
    def _axis_pickers(self) -> None:
        """The x and y pickers of a tab that plots one choice against another, then an
        info label, in the toolbar. Picking redraws the tab and fits the view to it,
        except while the tab fills or sets the pickers itself (``_quiet_axes``)."""
        self.x_combo = QtWidgets.QComboBox(self)
        self.y_combo = QtWidgets.QComboBox(self)
        self._axes_quiet = False
        for label, combo in (("x:", self.x_combo), ("y:", self.y_combo)):
            self.toolbar.addWidget(QtWidgets.QLabel(label, self))
            self.toolbar.addWidget(combo)
            combo.currentIndexChanged.connect(self._on_axis_picked)
        self.info = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.info)

    @contextlib.contextmanager
    def _quiet_axes(self) -> Iterator[None]:
        """Refill or set the pickers without a redraw for every index they pass through."""
        self._axes_quiet = True
        try:
            yield
        finally:
            self._axes_quiet = False

    def _on_axis_picked(self, *_: object) -> None:
        if not self._axes_quiet:
            self._redraw_for_axes()

    def _redraw_for_axes(self) -> None:
        self.refresh()
        self.plot.getViewBox().enableAutoRange()

    def _picked_axes(self) -> tuple[str | None, str | None]:
        return self.x_combo.currentData(), self.y_combo.currentData()

    def _pick_axes(self, x: str, y: str) -> None:
        """Show ``x`` against ``y``: one redraw, the view fitted to it."""
        with self._quiet_axes():
            self.x_combo.setCurrentIndex(self.x_combo.findData(x))
            self.y_combo.setCurrentIndex(self.y_combo.findData(y))
        self._redraw_for_axes()

    def _plain_plot_widget(self) -> tuple[pg.PlotWidget, pg.PlotItem]:
        """The usual plot of a tab: plain axes, only the view box's own context menu."""
        widget = pg.PlotWidget(self, axisItems=study_axes("left", "bottom"))
        plot = plain_axes(widget.getPlotItem())
        plot.setMenuEnabled(False, enableViewBoxMenu=True)
        return widget, plot

    def _set_view(self, view: pg.GraphicsView, target: Any) -> None:
        self.toolbar.addLayout(self._toolbar_tail)
        self.view = view
        self.export_target = target
        self._body.addWidget(view, 1)
        menu = QtGui.QAction("Export plot…", view)
        menu.triggered.connect(self.export_dialog)
        self._export_action = menu

    def _add_export_to_menu(self, vb: pg.ViewBox) -> None:
        """Put "Export plot…" in the right-click menu of a view box."""
        m = vb.getMenu(None)
        if m is not None and self._export_action not in m.actions():
            m.addSeparator()
            m.addAction(self._export_action)

    # -- data flow --------------------------------------------------------------------
    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        self.columns = columns
        self.metric_name = metric
        self.dirty = True
        self.cancel_deferred()

    def refresh(self) -> None:
        """Recompute every plotted array from the columns."""
        self.refresh_count += 1
        self._last_refresh = time.monotonic()
        self.cancel_deferred()  # whatever was deferred is drawn now
        self._refresh()
        self.dirty = False
        self._apply_selection()

    def append(self, start: int) -> None:
        """Rows ``start:`` are new; the default redraws from the (vectorised) columns."""
        self.refresh()

    def ensure_fresh(self) -> None:
        if self.dirty:
            self.refresh()

    def refresh_throttled(self, interval_s: float) -> None:
        """Redraw now, or once ``interval_s`` has passed since the last redraw.

        For plots whose recompute costs too much to repeat at every frame while trials
        stream in; a redraw that comes due while the tab is hidden waits to be shown."""
        wait = self._last_refresh + interval_s - time.monotonic()
        if wait <= 0:
            self.refresh()
            return
        if self._deferred is None:
            self._deferred = QtCore.QTimer(self)
            self._deferred.setSingleShot(True)
            self._deferred.timeout.connect(self._on_deferred)
        if not self._deferred.isActive():
            self._deferred.start(int(wait * 1000) + 1)

    def _on_deferred(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self.dirty = True  # redrawn when shown

    def cancel_deferred(self) -> None:
        """Drop a deferred redraw (drawn now, a new study, or the window is closing)."""
        if self._deferred is not None:
            self._deferred.stop()

    def set_selected(self, number: int | None) -> None:
        self.selected = number
        if not self.dirty:
            self._apply_selection()

    def _refresh(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply_selection(self) -> None:
        """Draw the highlight for ``self.selected``; subclasses override."""

    def _emit_clicked(self, row: int) -> None:
        """Emit trialClicked for a row index of the columns."""
        if 0 <= row < len(self.columns):
            self.trialClicked.emit(int(self.columns.number[row]))

    # -- export -----------------------------------------------------------------------
    def export(self, path: str | Path) -> Path:
        """Write the plot to ``path`` (.png or .svg)."""
        self.ensure_fresh()
        assert self.view is not None
        return export_view(self.view, self.export_target, path)

    def export_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, f"Export {self.title}", f"{self.title.lower().replace(' ', '-')}.png",
            "PNG image (*.png);;SVG image (*.svg)",
        )
        if path:
            try:
                self.export(path)
            except (OSError, ValueError, RuntimeError) as exc:  # never crash on a bad path
                QtWidgets.QMessageBox.warning(self, "Export failed", str(exc))

"""Timeline: every fold as a bar on its worker's row, over wall-clock time.

Shows how well the workers are kept busy (gaps = scheduling overhead), which
trials were slow, and where failures happened. All folds of all trials are drawn:
bars are a handful of items backed by numpy arrays, so 500k bars stay cheap.

Workers are named "worker 1", "worker 2", … in the order they started their first
fold, top to bottom; the process id each one ran as is in the tooltips (of the axis,
and of a bar under the pointer).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from hpstudio.core.trials import UNKNOWN_WORKER, TrialTable
from hpstudio.gui.plots.base import FAILED_BRUSH, PlotBase, XHeadroom, set_ticks
from hpstudio.gui.plots.items import FastBars

__all__ = ["TimelinePlot"]

BAR_HALF_HEIGHT = 0.38
_EVEN_BRUSH = (52, 120, 200)
_ODD_BRUSH = (110, 170, 230)
NO_FOLDS = ("no fold detail: the trials were recorded or imported without their folds; a "
            "bar spans a whole trial where its times are known")


class TimelinePlot(PlotBase):
    """Fold bars per worker; adjacent trials alternate shades, failures are red."""

    title = "Timeline"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.info)
        self.widget, self.plot = self._plain_plot_widget()
        self.plot.setLabel("bottom", "time since start", units="s")
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().invertY(True)  # worker 1 on top
        self.even = FastBars(x0=[], width=[], y0=[], height=[], pen=None, brush=_EVEN_BRUSH)
        self.odd = FastBars(x0=[], width=[], y0=[], height=[], pen=None, brush=_ODD_BRUSH)
        self.failed = FastBars(x0=[], width=[], y0=[], height=[], pen=None, brush=FAILED_BRUSH)
        self.highlight = FastBars(x0=[], width=[], y0=[], height=[],
                                  pen=pg.mkPen((255, 140, 0), width=3), brush=None)
        for item in (self.even, self.odd, self.failed, self.highlight):
            self.plot.addItem(item)
        self.highlight.setZValue(10)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.headroom = XHeadroom(self.plot.getViewBox())
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())
        self._t0 = 0.0
        self._start = np.empty(0)
        self._end = np.empty(0)
        self._row = np.empty(0, dtype=np.int64)
        self._trial = np.empty(0, dtype=np.int64)
        self._rows_of_workers: np.ndarray = np.empty(0, dtype=np.int64)
        self._row_names: list[str] = []  # display name of each row
        self._row_labels: list[str] = []  # the worker label (process id) of each row

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self.headroom.reset()

    def _refresh(self) -> None:
        c = self.columns
        t0 = c.t0
        start = c.fold_col("fold_started") - t0
        end = c.fold_col("fold_finished") - t0
        trial = c.fold_col("fold_trial")
        codes = c.fold_col("fold_worker")
        workers = c.workers
        order = _order_of_first_start(workers, codes, start)
        row_of = np.empty(len(workers), dtype=np.int64)
        row_of[order] = np.arange(len(order))
        row = row_of[codes] if len(codes) else np.empty(0, dtype=np.int64)
        self._t0, self._start, self._end, self._row, self._trial = t0, start, end, row, trial
        self._rows_of_workers = row_of
        self._row_labels = [workers[i] for i in order]
        self._row_names = _worker_names(self._row_labels)
        ok = c.fold_col("fold_ok")
        parity = (c.number[trial] % 2) == 0 if len(trial) else np.empty(0, dtype=bool)
        for item, mask in (
            (self.even, ok & parity), (self.odd, ok & ~parity), (self.failed, ~ok),
        ):
            self._set_bars(item, mask)
        left = self.plot.getAxis("left")
        set_ticks(left, [[(float(r), name) for r, name in enumerate(self._row_names)]])
        left.setToolTip("\n".join(f"{name}: {_process(label)}" for name, label
                                  in zip(self._row_names, self._row_labels, strict=True)))
        span = float(end.max()) if len(end) else 0.0
        if len(start):
            self.headroom.fit(float(min(start.min(), 0.0)), span)
        recorded = len(c) and all(w == UNKNOWN_WORKER for w in workers)
        self.info.setText(
            NO_FOLDS if recorded else f"{len(start)} folds of {len(c)} trials on "
            f"{len(workers)} worker(s) · {span:.1f} s"
        )

    def _set_bars(self, item: FastBars, mask: np.ndarray | None) -> None:
        if mask is None:
            s, e, r = self._start, self._end, self._row
        else:
            s, e, r = self._start[mask], self._end[mask], self._row[mask]
        item.setBars(s, e, r - BAR_HALF_HEIGHT, r + BAR_HALF_HEIGHT)

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        mask = self._trial == row if row is not None else np.zeros(len(self._trial), bool)
        self._set_bars(self.highlight, mask)

    # -- picking ----------------------------------------------------------------------
    def fold_at(self, x: float, y: float) -> int | None:
        """Trial number of the bar under view coordinates (x seconds, y row)."""
        bar = self._bar_at(x, y)
        return None if bar is None else int(self.columns.number[self._trial[bar]])

    def _bar_at(self, x: float, y: float) -> int | None:
        r = round(y)
        if abs(y - r) > BAR_HALF_HEIGHT or len(self._start) == 0:
            return None
        hit = np.flatnonzero((self._row == r) & (self._start <= x) & (self._end >= x))
        return int(hit[-1]) if len(hit) else None

    def bar_tooltip(self, x: float, y: float) -> str:
        """What the tooltip says over view coordinates (x seconds, y row)."""
        bar = self._bar_at(x, y)
        if bar is None:
            return ""
        row = int(self._row[bar])
        number = int(self.columns.number[self._trial[bar]])
        return (f"trial {number} · {self._row_names[row]} ({_process(self._row_labels[row])})"
                f"\n{self._start[bar]:.2f} s to {self._end[bar]:.2f} s")

    def _on_mouse_moved(self, pos: QtCore.QPointF) -> None:
        vb = self.plot.getViewBox()
        inside = vb.sceneBoundingRect().contains(pos)
        point = vb.mapSceneToView(pos) if inside else None
        tip = "" if point is None else self.bar_tooltip(point.x(), point.y())
        if tip != self.widget.toolTip():
            self.widget.setToolTip(tip)

    def _on_scene_clicked(self, ev: object) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or ev.isAccepted():
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        pos = vb.mapSceneToView(ev.scenePos())
        number = self.fold_at(pos.x(), pos.y())
        if number is not None:
            ev.accept()
            self.trialClicked.emit(number)

    # -- inspection -------------------------------------------------------------------
    def bars(self) -> dict[str, np.ndarray]:
        """One entry per fold bar: trial number, worker label, start/end in seconds
        since the study's first start, and the row the bar is drawn on."""
        c = self.columns
        labels = np.array(c.workers, dtype=object)
        return {
            "trial": c.number[self._trial],
            "worker": labels[c.fold_col("fold_worker")] if len(self._trial) else labels[:0],
            "start": self._start.copy(),
            "end": self._end.copy(),
            "row": self._row.copy(),
        }

    def worker_rows(self) -> dict[str, int]:
        """The row of each worker label (row 0 is "worker 1", drawn on top)."""
        return {w: int(self._rows_of_workers[i]) for i, w in enumerate(self.columns.workers)}

    def row_names(self) -> list[str]:
        """The name shown for each row, top to bottom."""
        return list(self._row_names)

    def axis_tooltip(self) -> str:
        return self.plot.getAxis("left").toolTip()

    @property
    def t0(self) -> float:
        return self._t0

    def highlighted(self) -> dict[str, np.ndarray]:
        x0 = self.highlight.opts["x0"]
        return {"start": np.asarray(x0), "width": np.asarray(self.highlight.opts["width"])}


def _order_of_first_start(workers: list[str], codes: np.ndarray,
                          start: np.ndarray) -> list[int]:
    """Worker codes by the start of each one's first fold (ties by label): the layout
    does not depend on the order results arrived or were stored in. Trials stored
    without fold detail (the unknown worker) go last."""
    first = np.full(len(workers), np.inf)
    if len(codes):
        np.minimum.at(first, codes, np.where(np.isfinite(start), start, np.inf))
    return sorted(range(len(workers)),
                  key=lambda i: (workers[i] == UNKNOWN_WORKER, first[i], workers[i]))


def _worker_names(labels: list[str]) -> list[str]:
    names, n = [], 0
    for label in labels:
        if label == UNKNOWN_WORKER:
            names.append("(no fold detail)")
        else:
            n += 1
            names.append(f"worker {n}")
    return names


def _process(label: str) -> str:
    if label == UNKNOWN_WORKER:
        return "trials stored without their folds"
    return f"process {label}" if label.isdigit() else label

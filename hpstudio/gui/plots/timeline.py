"""Timeline: every fold as a bar on its worker's row, over wall-clock time.

Shows how well the workers are kept busy (gaps = scheduling overhead), which
trials were slow, and where failures happened. All folds of all trials are drawn:
bars are a handful of items backed by numpy arrays, so 500k bars stay cheap.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.base import FAILED_BRUSH, PlotBase, XHeadroom, set_ticks
from hpstudio.gui.plots.items import FastBars

__all__ = ["TimelinePlot"]

BAR_HALF_HEIGHT = 0.38
_EVEN_BRUSH = (52, 120, 200)
_ODD_BRUSH = (110, 170, 230)


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
        self.even = FastBars(x0=[], width=[], y0=[], height=[], pen=None, brush=_EVEN_BRUSH)
        self.odd = FastBars(x0=[], width=[], y0=[], height=[], pen=None, brush=_ODD_BRUSH)
        self.failed = FastBars(x0=[], width=[], y0=[], height=[], pen=None, brush=FAILED_BRUSH)
        self.highlight = FastBars(x0=[], width=[], y0=[], height=[],
                                  pen=pg.mkPen((255, 140, 0), width=3), brush=None)
        for item in (self.even, self.odd, self.failed, self.highlight):
            self.plot.addItem(item)
        self.highlight.setZValue(10)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.headroom = XHeadroom(self.plot.getViewBox())
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())
        self._t0 = 0.0
        self._start = np.empty(0)
        self._end = np.empty(0)
        self._row = np.empty(0, dtype=np.int64)
        self._trial = np.empty(0, dtype=np.int64)
        self._rows_of_workers: np.ndarray = np.empty(0, dtype=np.int64)

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
        # Rows ordered by worker label so the layout does not depend on arrival order.
        order = sorted(range(len(c.workers)), key=lambda i: c.workers[i])
        row_of = np.empty(len(c.workers), dtype=np.int64)
        row_of[order] = np.arange(len(order))
        row = row_of[codes] if len(codes) else np.empty(0, dtype=np.int64)
        self._t0, self._start, self._end, self._row, self._trial = t0, start, end, row, trial
        self._rows_of_workers = row_of
        ok = c.fold_col("fold_ok")
        parity = (c.number[trial] % 2) == 0 if len(trial) else np.empty(0, dtype=bool)
        for item, mask in (
            (self.even, ok & parity), (self.odd, ok & ~parity), (self.failed, ~ok),
        ):
            self._set_bars(item, mask)
        ticks = [(float(r), c.workers[i]) for r, i in enumerate(order)]
        set_ticks(self.plot.getAxis("left"), [ticks])
        span = float(end.max()) if len(end) else 0.0
        if len(start):
            self.headroom.fit(float(min(start.min(), 0.0)), span)
        self.info.setText(
            f"{len(start)} folds of {len(c)} trials on {len(c.workers)} worker(s) · "
            f"{span:.1f} s"
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
        r = round(y)
        if abs(y - r) > BAR_HALF_HEIGHT or len(self._start) == 0:
            return None
        hit = np.flatnonzero((self._row == r) & (self._start <= x) & (self._end >= x))
        if len(hit) == 0:
            return None
        return int(self.columns.number[self._trial[hit[-1]]])

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
        return {w: int(self._rows_of_workers[i]) for i, w in enumerate(self.columns.workers)}

    @property
    def t0(self) -> float:
        return self._t0

    def highlighted(self) -> dict[str, np.ndarray]:
        x0 = self.highlight.opts["x0"]
        return {"start": np.asarray(x0), "width": np.asarray(self.highlight.opts["width"])}

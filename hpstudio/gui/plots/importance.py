"""Parameter importance: which hyper-parameters the score actually depends on.

A small random forest (64 trees, random_state=0) is fitted on the complete trials'
parameters -> score; its impurity importances, normalised to sum to 1, are drawn
as horizontal bars. The fit is throttled (at most once a second, on the 2000 most
recent trials) and runs on a worker thread once the data is big enough to be felt.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from hpstudio.gui.plots.analysis import (
    IMPORTANCE_MAX_TRIALS,
    compute_importances,
    importances_from_columns,
)
from hpstudio.gui.plots.base import PlotBase, set_ticks
from hpstudio.gui.plots.columns import TrialColumns

__all__ = ["ImportancePlot", "compute_importances"]

MIN_INTERVAL_S = 1.0
SYNC_MAX_TRIALS = 300  # below this a fit takes a few ms: no thread hop needed
_POLL_MS = 30


class ImportancePlot(PlotBase):
    """Horizontal bars of random-forest importances, most important on top."""

    title = "Importance"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = QtWidgets.QLabel(self)
        self.toolbar.addWidget(self.info)
        self.widget, self.plot = self._plain_plot_widget()
        self.plot.setLabel("bottom", "importance (random forest, sums to 1)")
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6,
                                    brush=(52, 120, 200), pen=None)
        self.plot.addItem(self.bars)
        self._set_view(self.widget, self.plot)
        self._add_export_to_menu(self.plot.getViewBox())

        self.max_trials = IMPORTANCE_MAX_TRIALS
        self._importances: dict[str, float] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._future: Future | None = None
        self._pending = False
        self._future_n = 0
        self._generation = 0  # bumped per study, so a late fit of the old one is dropped
        self._future_generation = 0
        self._last_start = -np.inf
        self._poll = QtCore.QTimer(self)
        self._poll.setInterval(_POLL_MS)
        self._poll.timeout.connect(self._check_future)
        self._deferred = QtCore.QTimer(self)
        self._deferred.setSingleShot(True)
        self._deferred.timeout.connect(self._start)

    def set_columns(self, columns: TrialColumns, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self._generation += 1
        self._importances = None
        self._deferred.stop()
        self.bars.setOpts(x0=np.zeros(0), width=np.zeros(0), y=np.zeros(0), height=0.6)
        self.info.setText("")

    # -- scheduling -------------------------------------------------------------------
    def _refresh(self) -> None:
        """Ask for a refit: now, after the throttle interval, or after the running one."""
        if self._future is not None:
            self._pending = True
            return
        wait = self._last_start + MIN_INTERVAL_S - time.monotonic()
        if wait > 0 and self._importances is not None:
            if not self._deferred.isActive():
                self._deferred.start(int(wait * 1000) + 1)
            return
        self._start()

    def _start(self) -> None:
        self._pending = False
        self._last_start = time.monotonic()
        n = int(self.columns.complete.sum())
        if n <= SYNC_MAX_TRIALS:
            self._show(importances_from_columns(self.columns, self.max_trials), n)
            return
        snap = self.columns.take(np.flatnonzero(self.columns.complete)[-self.max_trials :])
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="hpstudio-importance")
        self.info.setText(f"fitting on {min(n, self.max_trials)} trials…")
        self._future = self._executor.submit(importances_from_columns, snap, self.max_trials)
        self._future_n = n
        self._future_generation = self._generation
        self._poll.start()

    def _check_future(self) -> None:
        fut = self._future
        if fut is None or not fut.done():
            return
        self._poll.stop()
        self._future = None
        try:
            result = fut.result()
        except (ValueError, RuntimeError, MemoryError, FloatingPointError) as exc:
            # a failed fit must not take the window down
            self.info.setText(f"importance unavailable: {exc}")
            result = None
        if self._future_generation != self._generation:
            result, self._pending = None, True  # fitted on a study no longer shown
        if result is not None:
            self._show(result, self._future_n)
        if self._pending:
            self._refresh()

    @property
    def busy(self) -> bool:
        """True while a fit is running or queued."""
        return self._future is not None or self._pending or self._deferred.isActive()

    def _show(self, importances: dict[str, float], n: int) -> None:
        self._importances = importances
        items = sorted(importances.items(), key=lambda kv: kv[1])  # largest ends on top
        names = [k for k, _ in items]
        values = np.array([v for _, v in items], dtype=float)
        y = np.arange(len(items), dtype=float)
        self.bars.setOpts(x0=np.zeros(len(items)), width=values, y=y, height=0.6)
        left = self.plot.getAxis("left")
        set_ticks(left, [[(float(i), nm) for i, nm in enumerate(names)]])
        # Room for the longest name: the axis does not grow to fit tick labels.
        metrics = QtGui.QFontMetrics(left.style["tickFont"] or self.font())
        widest = max((metrics.horizontalAdvance(nm) for nm in names), default=0)
        left.setWidth(widest + 16)
        self.plot.setXRange(0, max(float(values.max()) if len(values) else 1.0, 1e-6) * 1.05)
        self.plot.setYRange(-0.6, max(len(items) - 0.4, 0.4))
        used = min(n, self.max_trials)
        self.info.setText(
            f"fitted on {used} complete trials" if used >= 2 else "needs 2 complete trials"
        )

    def closeEvent(self, event: object) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop polling and let a running fit finish in the background."""
        self._poll.stop()
        self._deferred.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._future = None

    # -- inspection -------------------------------------------------------------------
    def importances(self) -> dict[str, float] | None:
        """The importances on display (None before the first fit)."""
        return None if self._importances is None else dict(self._importances)

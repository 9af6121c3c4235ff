"""The study the window shows: one object owns its trial table; every view observes it.

The trial table view and the plots never feed each other: they connect to a
:class:`StudySession` and read its :class:`~hpstudio.core.trials.TrialTable`. A new study
(reopened, started, cleared) is one ``reset``; trials arriving from a run are coalesced
here, once, to at most one ``appended`` per frame however fast they come, and each view
updates only the rows that were added.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from hpstudio.core.metric_view import view_of
from hpstudio.core.records import SCORE, TrialRecord
from hpstudio.core.trials import TrialTable

__all__ = ["FRAME_MS", "StudySession"]

FRAME_MS = 16  # coalescing window for appended trials: about one screen frame


class StudySession(QObject):
    """Owns the shown study's table and what views need to present it.

    Signals: ``reset()`` when another study (or an empty one) is shown; ``appended(first,
    count)`` after rows ``first .. first + count - 1`` were added to the table."""

    reset = Signal()
    appended = Signal(int, int)
    metricChanged = Signal()  # the views now show another of the study's metrics

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = TrialTable()
        self.param_names: list[str] = []  # the spec's parameters first, in spec order
        self.metric = SCORE  # the label of the ranking metric, for titles and headers
        self.shown_metric: str | None = None  # the metric the views show (None: the ranking one)
        self._pending: list[TrialRecord] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.flush)

    # ----- whole studies ---------------------------------------------------------------
    def show(self, table: TrialTable, *, param_names: Iterable[str] = (),
             metric: str | None = None) -> None:
        """Show ``table`` (a reopened or new study) in every view."""
        self._timer.stop()
        self._pending.clear()
        self.table = table
        self.param_names = list(dict.fromkeys(param_names))
        if metric is not None:
            self.metric = metric
        if self.shown_metric not in table.metrics:
            self.shown_metric = None
        self.reset.emit()

    # ----- which metric the views show -------------------------------------------------
    @property
    def view(self) -> Any:
        """The table as the views read it: through the shown metric (see ``MetricView``)."""
        return view_of(self.table, self.shown_metric)

    @property
    def shown_label(self) -> str:
        """The shown metric's name, for titles and headers."""
        shown = self.shown_metric
        return self.metric if shown is None or shown == self.table.refit else shown

    def set_shown_metric(self, metric: str | None) -> None:
        """Show ``metric`` (a key of the study's metrics; None: the ranking one)."""
        metric = None if metric == self.table.refit else metric
        if metric is not None and metric not in self.table.metrics:
            raise ValueError(f"the study has no metric {metric!r}")
        if metric != self.shown_metric:
            self.shown_metric = metric
            self.metricChanged.emit()

    def show_trials(self, trials: Sequence[TrialRecord] | TrialTable, *,
                    param_names: Iterable[str] = (), metric: str | None = None,
                    log_params: Iterable[str] = ()) -> None:
        """Show trial records (or a table) as a study."""
        table = trials if isinstance(trials, TrialTable) else TrialTable.from_trials(
            trials, log_params)
        self.show(table, param_names=param_names, metric=metric)

    def clear(self, *, param_names: Iterable[str] = (), metric: str | None = None,
              log_params: Iterable[str] = (), metrics: Sequence[str] = (SCORE,),
              refit: str | None = None) -> None:
        """An empty study, about to be filled by a run."""
        self.show(TrialTable(log_params, metrics, refit), param_names=param_names, metric=metric)

    # ----- live trials -----------------------------------------------------------------
    def add_trials(self, trials: Sequence[TrialRecord]) -> None:
        """Trials finished by a run; views hear of them within one frame."""
        self._pending.extend(trials)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Append the trials that arrived since the last flush, and tell the views."""
        self._timer.stop()
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        table = self.table
        # a study reopened while it runs already holds the trials stored before the reload
        batch = [t for t in batch if not table.contains(t.number, t.rung)]
        if not batch:
            return
        first = table.extend(batch)
        self.appended.emit(first, len(batch))

    @property
    def pending_count(self) -> int:
        return len(self._pending)

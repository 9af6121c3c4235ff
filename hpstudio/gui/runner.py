"""The bridge between the core study loop and the GUI: runs happen on a QThread.

The study loop (``hpstudio.core.study.StudyRunner``) blocks while it orchestrates worker
processes, so it runs in a QThread, never on the GUI thread. A QObject worker is moved
to that thread (superqt's ``moveToThread`` wiring) and builds its own ``HistoryStore``
there, because an SQLite connection belongs to the thread that opened it. The loop's
listener turns core events into Qt signals; Qt queues them to the GUI thread, where
``QtStudyRunner`` re-emits them under past-tense names.

Every run uses the same long-lived thread (``study_thread``): loky keeps its reusable
worker pool per thread, so a fresh thread per run would start (and import scikit-learn
in) new worker processes for every study, and leave the old ones idling.

Pause, resume and stop are plain calls into the core runner's thread-safe methods
(threading events checked between folds): the worker thread is busy inside ``run`` and
has no event loop to receive queued calls.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import StudyStatus

__all__ = ["QtStudyRunner", "RunClock", "RunRequest", "RunResult", "study_thread"]

ExecutorFactory = Callable[[], Any]
_STUDY_THREAD: QThread | None = None
_EXIT_WAIT_MS = 10_000
_RETIRED: deque[Any] = deque(maxlen=2)  # workers of ended runs, freed two runs later


class _StudyThread(QThread):
    """A QThread whose event loop runs inside one Python call.

    With the default ``run``, each queued slot enters Python afresh and gets a new Python
    thread state, so ``threading.local`` data (loky's pool among it) is lost between
    runs. Calling ``exec`` from Python keeps one thread state for the thread's life.
    """

    def run(self) -> None:
        self.exec()


def study_thread() -> QThread:
    """The thread every run uses, started on first use and kept for the process's life."""
    global _STUDY_THREAD
    if _STUDY_THREAD is None:
        thread = _StudyThread()
        thread.setObjectName("hpstudio-study")
        thread.start()
        atexit.register(_stop_study_thread, thread)
        _STUDY_THREAD = thread
    return _STUDY_THREAD


def _stop_study_thread(thread: QThread) -> None:
    """Quit the thread's event loop before Python tears the QThread down (Qt aborts when a
    running QThread is destroyed)."""
    thread.quit()
    thread.wait(_EXIT_WAIT_MS)


class RunRequest:
    """What to run: a new study from a spec, or an existing one to resume, and where."""

    def __init__(self, db_path: str | Path, *, spec: Any = None, study_id: int | None = None,
                 n_jobs: int | None = None, cluster: str | None = None,
                 allowed_packages: Iterable[str] = (),
                 executor_factory: ExecutorFactory | None = None) -> None:
        if (spec is None) == (study_id is None):
            raise ValueError("give a spec for a new study or the id of one to resume")
        self.db_path = Path(db_path)
        self.spec = spec
        self.study_id = study_id
        self.n_jobs = n_jobs
        self.cluster = cluster
        self.allowed_packages = tuple(allowed_packages)
        self.executor_factory = executor_factory

    def make_executor(self) -> Any:
        """The executor for this run; imported here, on the worker thread, not at start-up."""
        if self.executor_factory is not None:
            return self.executor_factory()
        if self.cluster:
            try:
                from hpstudio.core.cluster import make_cluster_executor
            except ImportError as exc:
                raise HpstudioError(f"running on a cluster needs hpstudio[dask] ({exc}); "
                                    "install it or choose local workers") from None
            return make_cluster_executor(self.cluster)
        from hpstudio.core.executor import LocalExecutor

        return LocalExecutor(self.n_jobs)


class _Worker(QObject):
    """Lives in the run's QThread; everything in ``run`` happens there."""

    started = Signal(object)
    trialFinished = Signal(object)
    paused = Signal()
    resumed = Signal()
    logged = Signal(str, str)
    studyFinished = Signal(object)
    failed = Signal(str)
    inputError = Signal(bool)  # precedes failed: True when the user's input was at fault
    done = Signal()

    def __init__(self, request: RunRequest) -> None:
        super().__init__()
        self.request = request
        self._lock = threading.Lock()
        self._core: Any = None  # the core StudyRunner, once built
        self._stop_reason: str | None = None
        self._pause = False
        self.finished = threading.Event()  # set when run() returns, for bounded waits

    # ----- control, from the GUI thread --------------------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._pause = True
            if self._core is not None:
                self._core.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause = False
            if self._core is not None:
                self._core.resume()

    def stop(self, reason: str, now: bool = False) -> None:
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason
            if self._core is not None:
                self._core.stop(reason, now=now)

    # ----- the run, on the worker thread ------------------------------------------------------
    @Slot()
    def run(self) -> None:
        store = None
        try:
            from hpstudio.core.storage import HistoryStore
            from hpstudio.core.study import StudyRunner

            request = self.request
            store = HistoryStore(request.db_path, transient=True)
            with self._lock:
                if self._stop_reason is not None:
                    # stopped before anything ran: nothing to record, nothing to resume
                    self.logged.emit(f"not started: {self._stop_reason}", "warning")
                    return
                core = StudyRunner(store, n_jobs=request.n_jobs,
                                   executor=request.make_executor(), listener=self._on_event,
                                   allowed_packages=request.allowed_packages)
                if self._pause:
                    core.pause()
                self._core = core
            core.run(request.spec, study_id=request.study_id)
        except HpstudioError as exc:
            self.inputError.emit(True)
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug or an environment problem: say what, keep the GUI
            self.inputError.emit(False)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            if store is not None:
                store.close()
            self.finished.set()
            self.done.emit()

    def _on_event(self, event: Any) -> None:
        """The core loop's listener: one Qt signal per event, queued to the GUI thread."""
        from hpstudio.core import events

        if isinstance(event, events.TrialFinished):
            self.trialFinished.emit(event)
        elif isinstance(event, events.StudyLog):
            self.logged.emit(event.message, event.level)
        elif isinstance(event, events.StudyStarted):
            self.started.emit(event)
        elif isinstance(event, events.StudyPaused):
            self.paused.emit()
        elif isinstance(event, events.StudyResumed):
            self.resumed.emit()
        elif isinstance(event, events.StudyEnded):
            self.studyFinished.emit(event)


class QtStudyRunner(QObject):
    """One study run in a background thread, seen from the GUI thread.

    Signals (all delivered on the GUI thread):
      ``started(StudyStarted)``, ``trialFinished(TrialFinished)``, ``paused()``,
      ``resumed()``, ``logged(message, level)``, ``studyFinished(StudyEnded)``,
      ``failed(message)`` (an HpstudioError's message or an unexpected error's text), and
      ``ended()`` once the run has returned on its thread, after every other signal.
    """

    started = Signal(object)
    trialFinished = Signal(object)
    paused = Signal()
    resumed = Signal()
    logged = Signal(str, str)
    studyFinished = Signal(object)
    failed = Signal(str)
    ended = Signal()

    _go = Signal()  # queued to the worker's thread: starts the run there

    def __init__(self, request: RunRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.study_id: int | None = request.study_id
        self.start_event: Any = None
        self.last_trial: Any = None
        self.outcome: Any = None  # the StudyEnded event, once the study ended
        self.error: str | None = None
        self.input_error = False  # the error came from the user's input (an HpstudioError)
        self.is_paused = False
        self.stop_requested = False
        self._running = False
        self._started = False
        self._worker: _Worker | None = _Worker(request)
        self._finished = self._worker.finished
        self._worker.started.connect(self._on_started)
        self._worker.trialFinished.connect(self._on_trial)
        self._worker.paused.connect(self._on_paused)
        self._worker.resumed.connect(self._on_resumed)
        self._worker.logged.connect(self.logged)
        self._worker.studyFinished.connect(self._on_finished)
        self._worker.inputError.connect(self._on_input_error)
        self._worker.failed.connect(self._on_failed)
        self._worker.done.connect(self._on_done)

    # ----- control ---------------------------------------------------------------------
    def start(self) -> None:
        if self._worker is None or self._started:
            raise RuntimeError("a QtStudyRunner runs once; make a new one for the next run")
        self._started = self._running = True
        worker = self._worker
        worker.moveToThread(study_thread())
        self._go.connect(worker.run)
        self._go.emit()

    def pause(self) -> None:
        """Let the folds in flight finish, start no new ones; ``paused`` follows."""
        if self._worker is not None:
            self._worker.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.resume()

    def stop(self, reason: str = "stopped by user", now: bool = False) -> None:
        """Cancel queued folds, let running ones finish and be stored (``now``: drop them
        too, stopping their workers); ``ended`` follows."""
        self.stop_requested = True
        if self._worker is not None:
            self._worker.stop(reason, now)

    @property
    def is_running(self) -> bool:
        """True from ``start`` until ``ended``."""
        return self._running

    def wait(self, msecs: int) -> bool:
        """Block until the run returns or ``msecs`` pass; only for closing the app."""
        if not self._started:
            return True
        return self._finished.wait(msecs / 1000)

    # ----- from the worker, on the GUI thread ------------------------------------------------
    def _on_started(self, event: Any) -> None:
        self.study_id = event.study_id
        self.start_event = event
        self.started.emit(event)

    def _on_trial(self, event: Any) -> None:
        self.last_trial = event
        self.trialFinished.emit(event)

    def _on_paused(self) -> None:
        self.is_paused = True
        self.paused.emit()

    def _on_resumed(self) -> None:
        self.is_paused = False
        self.resumed.emit()

    def _on_finished(self, event: Any) -> None:
        self.outcome = event
        self.is_paused = False
        self.studyFinished.emit(event)

    def _on_input_error(self, by_input: bool) -> None:
        self.input_error = by_input

    def _on_failed(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)

    def _on_done(self) -> None:
        self._running = False
        # ``done`` reaches us while the study thread may still be returning from the run:
        # dropping the last reference now would delete the worker under its feet. Keep it
        # until a later run has retired, which proves this one returned.
        _RETIRED.append(self._worker)
        self._worker = None
        self.ended.emit()


@dataclass(frozen=True)
class RunResult:
    """How the last run ended, kept after its runner is gone (for exit codes and tests)."""

    study_id: int | None
    outcome: Any  # the StudyEnded event, None when the run failed before it started
    error: str | None
    input_error: bool  # the error was the user's input (bad spec, data, estimator)

    @property
    def status(self) -> StudyStatus | None:
        return None if self.outcome is None else self.outcome.status


class RunClock:
    """Counts and times one run for the status bar: done, failed, elapsed and ETA.

    The ETA uses this run's own pace (trials finished since it started or resumed, over
    its running time without pauses), so a resumed study's old trials do not skew it.
    """

    def __init__(self) -> None:
        self.event: Any = None
        self.total: int | None = None
        self.done = 0
        self.failed = 0
        self.pausing = False
        self._initial = 0
        self._started = 0.0
        self._paused_at: float | None = None
        self._paused_for = 0.0
        self._ended_at: float | None = None

    def start(self, event: Any) -> None:
        self.event = event
        self.total = event.n_total
        self.done = self._initial = event.n_complete + event.n_failed
        self.failed = event.n_failed
        self._started = time.monotonic()

    def trial(self, event: Any) -> None:
        self.done = event.n_complete + event.n_failed
        self.failed = event.n_failed

    def pause(self) -> None:
        self.pausing = False
        if self._paused_at is None:
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_for += time.monotonic() - self._paused_at
            self._paused_at = None

    def end(self, event: Any) -> None:
        self.done = event.n_complete + event.n_failed
        self.failed = event.n_failed
        self._ended_at = time.monotonic()

    def elapsed(self) -> float:
        """Seconds this run has been running, pauses left out (a pause it ended in too)."""
        now = self._ended_at or time.monotonic()
        return max(0.0, now - self._started - self.paused_seconds())

    def paused_seconds(self) -> float:
        """Seconds this run has spent paused so far."""
        ongoing = 0.0
        if self._paused_at is not None:
            ongoing = max(0.0, (self._ended_at or time.monotonic()) - self._paused_at)
        return self._paused_for + ongoing

    def excluding_pauses(self, seconds: float) -> float:
        """A study's elapsed time (as the core counts it) without this run's pauses."""
        return max(0.0, seconds - self.paused_seconds())

    def eta(self) -> float | None:
        ran = self.done - self._initial
        if not self.total or ran <= 0 or self._ended_at is not None:
            return None
        return max(0.0, (self.total - self.done) * self.elapsed() / ran)

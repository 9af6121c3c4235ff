"""Running fold tasks in worker processes and streaming their results back.

The study loop only needs four verbs (start, submit, wait for some results, cancel), so
a local process pool and a Dask cluster are interchangeable behind ``Executor``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from hpstudio.core.evaluate import EvaluationContext, FoldTask, evaluate_fold
from hpstudio.core.records import FoldResult


class Executor(ABC):
    """Runs fold tasks somewhere and hands back results as they finish."""

    @property
    @abstractmethod
    def n_workers(self) -> int: ...

    @abstractmethod
    def start(self, context: EvaluationContext, X: Any, y: Any,
              groups: Any = None) -> EvaluationContext:
        """Ship the dataset (and its groups column, if any) to the workers once; return the
        context tasks should carry."""

    @abstractmethod
    def submit(self, task: FoldTask) -> None: ...

    @abstractmethod
    def results(self, timeout: float | None) -> list[FoldResult]:
        """Results that finished, waiting at most ``timeout`` seconds for the first one."""

    @property
    @abstractmethod
    def in_flight(self) -> int:
        """Tasks submitted whose results have not been handed back yet."""

    @abstractmethod
    def cancel_pending(self) -> None:
        """Drop tasks that have not started; running ones finish and are still reported."""

    def set_fold_timeout(self, seconds: float | None) -> bool:
        """Kill any fold that runs longer than ``seconds`` (None: no limit) and report it
        failed, "timed out after N s"; False when this backend cannot stop a running fit."""
        return seconds is None

    def cancel_trial(self, number: int, rung: int = 0) -> None:  # noqa: B027 - optional
        """Drop the tasks of one trial that have not started (it was stopped early).

        Its running folds may still be reported; the study loop ignores them. A backend
        that cannot cancel single tasks leaves them to run."""

    def abandon_running(self) -> None:
        """Stop now: drop queued folds and stop waiting for running ones (their results
        are never reported); a backend kills the workers running them where it can."""
        self.cancel_pending()

    def close(self) -> None:  # noqa: B027 - optional: not every backend holds resources
        """Release what ``start`` set up (files, connections)."""


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


STOP_GRACE_SECONDS = 10.0  # how long a stopped study waits for the folds already running
PARENT_CHECK_SECONDS = 0.25  # how often a worker checks that the process it serves is alive
ORPHAN_EXIT_STATUS = 3  # a worker's exit status when it ends because its parent is gone


def default_jobs() -> int:
    return os.cpu_count() or 1


class LocalExecutor(Executor):
    """A reusable loky process pool: workers stay warm across studies in one process.

    With a fold timeout, each task marks when its worker starts it (a small file naming
    the worker's process); a fold past its time has its worker killed. Killing a worker
    breaks the pool: the folds then running elsewhere are started again on a fresh pool,
    and the other folds of the timed-out trial are reported stopped with it."""

    def __init__(self, n_jobs: int | None = None) -> None:
        self._n_jobs = max(1, n_jobs or default_jobs())
        self._futures: dict[Future[FoldResult], FoldTask] = {}
        self._context: EvaluationContext | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._pool: Any = None
        self._stopping_since: float | None = None
        self._fold_timeout: float | None = None
        self._markers: dict[Future[FoldResult], Path] = {}
        self._submitted = 0
        self._timed_out: dict[Future[FoldResult], tuple[float, str]] = {}  # started, worker
        self._doomed: dict[tuple[int, int], int] = {}  # (number, rung) -> fold that timed out

    @property
    def n_workers(self) -> int:
        return self._n_jobs

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def start(self, context: EvaluationContext, X: Any, y: Any,
              groups: Any = None) -> EvaluationContext:
        from dataclasses import replace

        self._stopping_since = None
        if self._tmpdir is not None:  # started again (nested CV): the last data goes
            self._tmpdir.cleanup()
        self._doomed.clear()
        self._tmpdir = tempfile.TemporaryDirectory(prefix="hpstudio-data-")
        self._context = replace(context, data_path=dump_dataset(Path(self._tmpdir.name), X, y,
                                                                groups))
        self._pool = self._get_pool()
        return self._context

    def _get_pool(self) -> Any:
        from loky import get_reusable_executor

        # As joblib does: share the cores between workers, so that BLAS or OpenMP inside a
        # fit does not start one thread per core in every worker and oversubscribe them.
        threads = str(max(1, default_jobs() // self._n_jobs))
        env = {name: threads for name in _THREAD_VARIABLES}
        # The same initializer and arguments on every call, so loky keeps reusing the pool.
        return get_reusable_executor(max_workers=self._n_jobs, timeout=300, env=env,
                                     initializer=serve_parent, initargs=(os.getpid(),))

    def set_fold_timeout(self, seconds: float | None) -> bool:
        self._fold_timeout = seconds
        return True

    def submit(self, task: FoldTask) -> None:
        assert self._context is not None, "start() first"
        if self._fold_timeout and self._tmpdir is not None:
            self._submitted += 1
            marker = Path(self._tmpdir.name) / f"running-{self._submitted}"
            future = self._pool.submit(evaluate_marked, self._context, task, str(marker))
            self._markers[future] = marker
        else:
            future = self._pool.submit(evaluate_fold, self._context, task)
        self._futures[future] = task

    def results(self, timeout: float | None) -> list[FoldResult]:
        if not self._futures:
            return []
        out: list[FoldResult] = []
        if self._fold_timeout:  # look at the running folds' clocks a few times a second
            timeout = 0.25 if timeout is None else min(timeout, 0.25)
        done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        lost: list[FoldTask] = []
        broken = False
        for future in done:
            task = self._futures.pop(future)
            marker = self._markers.pop(future, None)
            if marker is not None:
                marker.unlink(missing_ok=True)
            if future.cancelled():
                continue
            try:
                out.append(future.result())
            except Exception:  # the worker died (killed, out of memory): run the task again
                broken = True
                stopped = self._stopped_result(future, task)
                if stopped is not None:
                    out.append(stopped)
                else:
                    lost.append(task)
        if broken and self._stopping_since is None:  # a stopping study starts no fold again
            self._pool = self._get_pool()
            for task in lost:
                self.submit(task)
        if self._fold_timeout:
            self._kill_overdue()
        return out

    def _kill_overdue(self) -> None:
        """Kill the worker of each fold running past the timeout."""
        assert self._fold_timeout is not None
        now = time.time()
        for future, marker in list(self._markers.items()):
            if future.done() or future in self._timed_out:
                continue
            try:
                pid_text, started_text = marker.read_text().split()
                pid, started = int(pid_text), float(started_text)
            except (OSError, ValueError):
                continue  # not started yet (or the marker is being written)
            if now - started <= self._fold_timeout:
                continue
            task = self._futures[future]
            self._timed_out[future] = (started, str(pid))
            self._doomed.setdefault((task.trial_number, task.rung), task.fold)
            kill_process(pid)

    def _stopped_result(self, future: Future[FoldResult], task: FoldTask) -> FoldResult | None:
        """The failed result of a fold that timed out, or of a fold of the same trial
        stopped with it; None for a fold that was merely lost with a killed worker."""
        limit = f"timed out after {self._fold_timeout or 0:g} s"
        timing = self._timed_out.pop(future, None)
        key = (task.trial_number, task.rung)
        if timing is None and key not in self._doomed:
            return None
        now = time.time()
        started, worker = timing if timing is not None else (now, "")
        error = limit if timing is not None else (
            f"stopped: fold {self._doomed[key]} of this trial {limit}")
        nan = float("nan")
        scorers = self._context.scorers if self._context is not None else {}
        return FoldResult(task.trial_number, task.fold, dict.fromkeys(scorers, nan), None,
                          now - started, 0.0, started, now, worker, error, task.rung)

    def cancel_pending(self) -> None:
        """Drop queued folds; the first call with folds still running starts the grace period."""
        for future in list(self._futures):
            if future.cancel():
                del self._futures[future]
        if self._futures and self._stopping_since is None:
            self._stopping_since = time.monotonic()

    def cancel_trial(self, number: int, rung: int = 0) -> None:
        for future, task in list(self._futures.items()):
            if task.trial_number == number and task.rung == rung and future.cancel():
                del self._futures[future]
                self._markers.pop(future, None)

    def abandon_running(self) -> None:
        self.cancel_pending()
        if self._futures and self._pool is not None:
            self._pool.shutdown(wait=False, kill_workers=True)
        self._futures.clear()

    def close(self) -> None:
        """Drop queued folds; give running ones ``STOP_GRACE_SECONDS``, then kill the workers.

        A fit that never returns (a hung estimator) must not make closing hang: its worker
        is killed, and the next study starts with a fresh pool. The grace period counts
        from the stop request, so a study loop that already waited it out does not wait
        a second time here.
        """
        self.cancel_pending()
        if self._futures:
            assert self._stopping_since is not None
            grace = STOP_GRACE_SECONDS - (time.monotonic() - self._stopping_since)
            _, running = wait(list(self._futures), timeout=max(0.0, grace))
            if running and self._pool is not None:
                self._pool.shutdown(wait=False, kill_workers=True)
            self._futures.clear()
        self._markers.clear()
        self._timed_out.clear()
        self._stopping_since = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None


class SerialExecutor(Executor):
    """Folds run one after the other in this process, when results are asked for.

    For notebooks and tests: no process is started, nothing is pickled, a breakpoint in
    an estimator stops where a user expects, and a study loop test runs in milliseconds.
    The data is handed over in memory, as a cluster would."""

    def __init__(self) -> None:
        self._queue: list[FoldTask] = []
        self._context: EvaluationContext | None = None
        self._data: tuple[Any, ...] | None = None
        self._starts = 0

    @property
    def n_workers(self) -> int:
        return 1

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def start(self, context: EvaluationContext, X: Any, y: Any,
              groups: Any = None) -> EvaluationContext:
        from dataclasses import replace

        # a count per start: arrays freed since may hand their ids to the next data
        self._starts += 1
        self._context = replace(context,
                                data_path=f"memory://{id(X)}-{id(y)}-{id(self)}-{self._starts}")
        self._data = (X, y) if groups is None else (X, y, groups)
        return self._context

    def submit(self, task: FoldTask) -> None:
        assert self._context is not None, "start() first"
        self._queue.append(task)

    def results(self, timeout: float | None) -> list[FoldResult]:
        """Run the oldest queued fold and hand its result back."""
        if not self._queue:
            return []
        assert self._context is not None
        task = self._queue.pop(0)
        return [evaluate_fold(self._context, task, data=self._data)]

    def cancel_pending(self) -> None:
        self._queue.clear()

    def cancel_trial(self, number: int, rung: int = 0) -> None:
        self._queue = [t for t in self._queue
                       if not (t.trial_number == number and t.rung == rung)]

    def close(self) -> None:
        self._queue.clear()
        self._data = None


def serve_parent(parent_pid: int) -> None:
    """Make a worker end with the process it serves, however that process ends.

    loky keeps idle workers for minutes so that the next study starts warm; if the parent
    is killed (SIGKILL, a crash) nobody tells them, and they would keep running, holding
    the parent's stdout and stderr open so that a pipe reading them never ends. A thread
    in each worker exits the worker as soon as the parent is gone.

    SIGTERM is ignored, like loky's resource tracker does: a SIGTERM sent to the whole
    process group (a service manager, ``kill -- -PGID``) then reaches the parent alone,
    which stops the study in order and shuts its workers down itself; loky kills workers
    with SIGKILL, which is not affected.
    """
    if os.name == "posix":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_when_parent_ends, args=(parent_pid,),
                     name="hpstudio-parent-watch", daemon=True).start()


def _exit_when_parent_ends(parent_pid: int) -> None:
    """End the worker once its parent has exited.

    On POSIX a process whose parent dies is adopted by init (or a subreaper), so its
    ``getppid()`` changes: that is checked a few times a second, independent of which
    thread of the parent started the worker (Linux's PR_SET_PDEATHSIG would fire when
    that thread ends, and loky starts workers from whichever thread submits). On Windows
    the parent id never changes; loky hands the worker a handle on its parent process
    instead, which becomes ready when the parent exits.
    """
    import multiprocessing
    from multiprocessing.connection import wait as wait_for

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is not None:
        try:
            wait_for([sentinel])
        except OSError:  # an unusable handle: leave the worker to loky's idle timeout
            return
    else:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
    os._exit(ORPHAN_EXIT_STATUS)


def evaluate_marked(context: EvaluationContext, task: FoldTask, marker: str) -> FoldResult:
    """``evaluate_fold``, telling the parent when this worker started it (for timeouts).

    The study's data, splits and estimator class are loaded first, so that a worker's
    first fold is not charged for its start-up."""
    from hpstudio.core.evaluate import prepare

    with contextlib.suppress(Exception):  # a failure is evaluate_fold's to report
        prepare(context)
    path = Path(marker)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{os.getpid()} {time.time()!r}")
    os.replace(partial, path)  # the parent never reads half a marker
    try:
        return evaluate_fold(context, task)
    finally:
        path.unlink(missing_ok=True)


def kill_process(pid: int) -> None:
    """End a worker now, whatever it is doing (SIGKILL; TerminateProcess on Windows)."""
    with contextlib.suppress(OSError):  # it ended on its own meanwhile
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


def dump_dataset(folder: Path, X: Any, y: Any, groups: Any = None) -> str:
    """Write the dataset once; workers memory-map it instead of receiving it per task."""
    import joblib

    path = folder / "dataset.joblib"
    joblib.dump((X, y) if groups is None else (X, y, groups), path)
    return str(path)

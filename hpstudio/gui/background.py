"""Running short jobs (a file load, a probe fit) off the GUI thread.

One relay QObject, created on the GUI thread and never deleted, carries every result
back: a per-job QObject would have its last reference dropped on the worker thread
after delivery, deleting a GUI-thread object from the wrong thread.

While the app starts, jobs can be held (``hold_jobs``) and started once the window is on
screen (``release_jobs``): a job's imports (pandas, scikit-learn) would otherwise compete
with the first paint for the interpreter and the cores.

A long computation that holds the interpreter (a pure-Python analysis over thousands of
trials) runs in a helper process instead (``run_in_process``): on a thread it would take
the GIL from the GUI thread every few milliseconds, and drawing a plot meanwhile was
measured three times slower.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

Callback = Callable[[Any, BaseException | None], None]


class _Relay(QObject):
    """Lives on the GUI thread: emitting ``done`` from a worker queues the delivery."""

    done = Signal(object, object, object, object)  # owner, callback, result, error

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver)

    @Slot(object, object, object, object)
    def _deliver(self, owner: QObject, callback: Callback, result: Any, error: Any) -> None:
        if shiboken6.isValid(owner):  # the widget may have closed while the job ran
            callback(result, error)


_RELAY: _Relay | None = None
_HELD: list[Callable[[], None]] | None = None  # job starts waiting for release_jobs()
_PROCESSES: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def hold_jobs() -> None:
    """Queue the jobs submitted from now on instead of starting them."""
    global _HELD
    if _HELD is None:
        _HELD = []


def release_jobs() -> None:
    """Start the queued jobs, in order, and stop queueing."""
    global _HELD
    held, _HELD = _HELD, None
    for start in held or ():
        start()


def run_in_background(owner: QObject, work: Callable[[], Any], callback: Callback) -> None:
    """Run ``work()`` on a daemon thread; call ``callback(result, error)`` on the GUI thread.

    Call it from the GUI thread. Daemon threads, not a pool joined at exit: quitting the
    app must never wait for a slow probe fit that nobody will look at.
    """
    relay = _relay()

    def target() -> None:
        try:
            result, error = work(), None
        except Exception as exc:  # reported to the GUI, which shows the message
            result, error = None, exc
        _tell(relay, owner, callback, result, error)

    thread = threading.Thread(target=target, name="hpstudio-background", daemon=True)
    _start_or_hold(thread.start)


def run_in_process(owner: QObject, work: Callable[..., Any], args: tuple[Any, ...],
                   callback: Callback) -> None:
    """Run ``work(*args)`` in the helper process; ``callback(result, error)`` on the GUI
    thread. ``work`` and ``args`` must pickle (a module-level function, plain data).

    One process, started on first use and kept for the next job; it ends with the app
    (``shutdown_processes``) or, if the app is killed, by itself within a second. A
    process that died (killed, out of memory) reports that job failed and is replaced
    for the next one."""
    relay = _relay()

    def start() -> None:
        pool = _process_pool()
        try:
            future = pool.submit(work, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # broken or shut down: start afresh
            _drop_process_pool(pool)
            _tell(relay, owner, callback, None, exc)
            return
        future.add_done_callback(
            lambda done: _deliver_future(relay, owner, callback, done, pool))

    _start_or_hold(start)


def shutdown_processes() -> None:
    """End the helper process without waiting for a job nobody will look at."""
    _drop_process_pool()


def _deliver_future(relay: _Relay, owner: QObject, callback: Callback,
                    future: Future[Any], pool: ProcessPoolExecutor) -> None:
    try:
        result, error = future.result(), None
    except BrokenProcessPool as exc:  # the process died: the next job gets a new one
        result, error = None, exc
        _drop_process_pool(pool)
    except Exception as exc:  # the job raised, or was cancelled by the app's shutdown
        result, error = None, exc
    _tell(relay, owner, callback, result, error)


def _process_pool() -> ProcessPoolExecutor:
    global _PROCESSES
    with _POOL_LOCK:
        if _PROCESSES is None:
            from hpstudio.core.executor import serve_parent

            # spawn, never fork: a forked copy of a process running Qt's threads can hang
            _PROCESSES = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=serve_parent, initargs=(os.getpid(),))
        return _PROCESSES


def _drop_process_pool(only: ProcessPoolExecutor | None = None) -> None:
    """Forget the helper process (``only``: if it is still that one) and end it."""
    global _PROCESSES
    with _POOL_LOCK:
        pool = _PROCESSES
        if pool is None or (only is not None and pool is not only):
            return
        _PROCESSES = None
    pool.shutdown(wait=False, cancel_futures=True)


def _relay() -> _Relay:
    global _RELAY
    if _RELAY is None:
        _RELAY = _Relay()
    return _RELAY


def _tell(relay: _Relay, owner: QObject, callback: Callback, result: Any,
          error: BaseException | None) -> None:
    # RuntimeError: the application quit while the job ran, and nobody is left to tell
    with contextlib.suppress(RuntimeError):
        relay.done.emit(owner, callback, result, error)


def _start_or_hold(start: Callable[[], None]) -> None:
    if _HELD is not None:
        _HELD.append(start)
    else:
        start()

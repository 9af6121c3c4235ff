"""Running short jobs (a file load, a probe fit) off the GUI thread.

One relay QObject, created on the GUI thread and never deleted, carries every result
back: a per-job QObject would have its last reference dropped on the worker thread
after delivery, deleting a GUI-thread object from the wrong thread.

While the app starts, jobs can be held (``hold_jobs``) and started once the window is on
screen (``release_jobs``): a job's imports (pandas, scikit-learn) would otherwise compete
with the first paint for the interpreter and the cores.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
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
_HELD: list[threading.Thread] | None = None  # jobs waiting for release_jobs()


def hold_jobs() -> None:
    """Queue the jobs submitted from now on instead of starting them."""
    global _HELD
    if _HELD is None:
        _HELD = []


def release_jobs() -> None:
    """Start the queued jobs, in order, and stop queueing."""
    global _HELD
    held, _HELD = _HELD, None
    for thread in held or ():
        thread.start()


def run_in_background(owner: QObject, work: Callable[[], Any], callback: Callback) -> None:
    """Run ``work()`` on a daemon thread; call ``callback(result, error)`` on the GUI thread.

    Call it from the GUI thread. Daemon threads, not a pool joined at exit: quitting the
    app must never wait for a slow probe fit that nobody will look at.
    """
    global _RELAY
    if _RELAY is None:
        _RELAY = _Relay()
    relay = _RELAY

    def target() -> None:
        try:
            result, error = work(), None
        except Exception as exc:  # reported to the GUI, which shows the message
            result, error = None, exc
        # RuntimeError: the application quit while the job ran, and nobody is left to tell
        with contextlib.suppress(RuntimeError):
            relay.done.emit(owner, callback, result, error)

    thread = threading.Thread(target=target, name="hpstudio-background", daemon=True)
    if _HELD is not None:
        _HELD.append(thread)
    else:
        thread.start()

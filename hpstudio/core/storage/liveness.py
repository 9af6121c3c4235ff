"""Whether a study marked running is really being run by a live process.

The process running a study claims it (an owner token written in one transaction with
the status) and then writes a heartbeat every few seconds from a thread of its own. A
study whose heartbeat is older than ``STALE_AFTER_SECONDS`` was interrupted, whatever
machine it ran on: a history copied to another computer, a laptop whose host name
changed, or a process id reused by another program can no longer leave a study
"running" forever. On the same host a dead process id says so at once, without waiting
for the heartbeat to go stale.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from hpstudio.core.records import StudyStatus

HEARTBEAT_SECONDS = 2.0  # how often a running study says it is alive
STALE_AFTER_SECONDS = 30.0  # silence after which a running study counts as interrupted


def new_owner() -> str:
    """A token naming one run of one study (host, pid and a random part)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def live_status(status: StudyStatus, heartbeat: float | None, host: str | None,
                pid: int | None, now: float | None = None) -> StudyStatus:
    """The status to show: ``running`` only while the running process is alive."""
    if status is not StudyStatus.RUNNING:
        return status
    now = time.time() if now is None else now
    same_host = host == socket.gethostname()
    if same_host and not pid_alive(pid):
        return StudyStatus.INTERRUPTED
    if heartbeat is None:  # written before heartbeats existed: only a live local pid counts
        return status if same_host else StudyStatus.INTERRUPTED
    if now - heartbeat > STALE_AFTER_SECONDS:
        return StudyStatus.INTERRUPTED
    return status


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # Windows: no such process, or not ours to signal
        return False
    try:  # a zombie (killed, not yet reaped) is not running a study
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True

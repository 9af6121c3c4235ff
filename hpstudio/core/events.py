"""What the study loop tells its listeners (the CLI's progress bar, the GUI's runner).

Events are emitted on the loop's thread, after the fact they report is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from hpstudio.core.records import StudyStatus, TrialRecord


@dataclass(frozen=True)
class StudyStarted:
    study_id: int
    name: str
    n_total: int | None
    n_complete: int
    n_failed: int
    resumed: bool
    n_workers: int


@dataclass(frozen=True)
class TrialFinished:
    trial: TrialRecord
    n_complete: int
    n_failed: int
    best: TrialRecord | None
    elapsed: float


@dataclass(frozen=True)
class StudyPaused:
    study_id: int


@dataclass(frozen=True)
class StudyResumed:
    study_id: int


@dataclass(frozen=True)
class StudyEnded:
    study_id: int
    status: StudyStatus
    reason: str | None
    best: TrialRecord | None
    n_complete: int
    n_failed: int
    elapsed: float


@dataclass(frozen=True)
class StudyLog:
    message: str
    level: str = "info"  # info | warning | error


StudyEvent = Union[  # noqa: UP007 - a runtime alias
    StudyStarted, TrialFinished, StudyPaused, StudyResumed, StudyEnded, StudyLog
]

"""Immutable records that flow from the study loop to storage, the CLI and the GUI.

Every consumer (SQLite store, trial table, plots, exports) reads these frozen
dataclasses, so none of them can mutate what another one sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TrialState(StrEnum):
    """A trial is stored only once it has ended, so there are just two states."""

    COMPLETE = "complete"
    FAILED = "failed"


class StudyStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # was running when its process died; resumable


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fit + score on one cross-validation split, as a worker reports it."""

    trial_number: int
    fold: int
    test_score: float | None
    train_score: float | None
    fit_time: float
    score_time: float
    started: float  # wall clock (epoch seconds) when the worker began the fit
    finished: float
    worker: str  # process id of the worker, for the timeline
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A point of the search space that a strategy proposes."""

    number: int
    params: dict[str, Any]
    subspace: int = 0


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """A finished trial: what `cv_results_` would hold for one candidate, plus timing."""

    study_id: int
    number: int
    params: dict[str, Any]
    state: TrialState
    split_test_scores: tuple[float, ...]
    split_train_scores: tuple[float, ...] | None
    fit_times: tuple[float, ...]
    score_times: tuple[float, ...]
    started: float
    finished: float
    subspace: int = 0
    error: str | None = None
    folds: tuple[FoldResult, ...] = field(default=(), compare=False, repr=False)

    @property
    def mean_test_score(self) -> float:
        return _mean(self.split_test_scores)

    @property
    def std_test_score(self) -> float:
        return _std(self.split_test_scores)

    @property
    def mean_train_score(self) -> float | None:
        return None if self.split_train_scores is None else _mean(self.split_train_scores)

    @property
    def std_train_score(self) -> float | None:
        return None if self.split_train_scores is None else _std(self.split_train_scores)

    @property
    def mean_fit_time(self) -> float:
        return _mean(self.fit_times)

    @property
    def mean_score_time(self) -> float:
        return _mean(self.score_times)

    @property
    def duration(self) -> float:
        return self.finished - self.started

    @property
    def ok(self) -> bool:
        return self.state is TrialState.COMPLETE


def _mean(values: tuple[float, ...]) -> float:
    # numpy's mean would differ from GridSearchCV's np.average only in the last ulp;
    # use numpy itself so exports agree bit for bit with scikit-learn.
    import numpy as np

    if not values:
        return math.nan
    return float(np.average(np.asarray(values, dtype=float)))


def _std(values: tuple[float, ...]) -> float:
    import numpy as np

    if not values:
        return math.nan
    arr = np.asarray(values, dtype=float)
    mean = np.average(arr)
    return float(np.sqrt(np.average((arr - mean) ** 2)))


@dataclass(frozen=True, slots=True)
class StudySummary:
    """One row of the studies list: enough to show, sort and pick a study."""

    id: int
    name: str
    status: StudyStatus
    strategy: str
    estimator: str
    dataset: str
    metric: str
    n_total: int | None
    n_complete: int
    n_failed: int
    best_score: float | None
    created: float
    finished: float | None
    stop_reason: str | None
    note: str = ""

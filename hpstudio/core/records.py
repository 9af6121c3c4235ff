"""Immutable records that flow from the study loop to storage, the CLI and the GUI.

Every consumer (the history, the trial table, plots, exports) reads these frozen
dataclasses, so none of them can change what another one sees.

The records are cut wider than one estimator scored by one metric on k folds of all the
rows: a fold carries a score per metric, a trial names the metric that ranks it
(``refit``), a candidate may run on a budget (a resource and an amount) at a rung of
successive halving, and a trial may be stopped early (``pruned``). A study with one
metric is the case where the only metric is called ``"score"``, as in scikit-learn's
``cv_results_``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: The key of the only metric of a single-metric study (scikit-learn's ``_score`` names).
SCORE = "score"


class TrialState(StrEnum):
    """A trial is stored only once it has ended."""

    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"  # stopped early by the strategy; holds the folds it ran


class StudyStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # was running when its process died; resumable


class StudyOrigin(StrEnum):
    """Where a stored study came from; only ``spec`` studies can always be run again."""

    SPEC = "spec"  # run from a study spec (the app, `hpstudio run`)
    PYTHON = "python"  # run from Python code (hpstudio.tune)
    RECORDED = "recorded"  # a fitted scikit-learn / scikit-optimize search, stored as it was
    IMPORTED = "imported"  # read from another tool's results (a cv_results_ CSV, Optuna)


@dataclass(frozen=True, slots=True)
class Budget:
    """What a candidate may spend at its rung: ``amount`` of ``resource``.

    The resource is ``n_samples`` (rows of each training fold) or the name of an estimator
    parameter such as ``n_estimators`` or ``max_iter``, as in scikit-learn's halving
    searches. ``seed`` fixes which rows an ``n_samples`` budget draws (scikit-learn's
    ``random_state``); the study's spec holds it, so it is not stored with a trial."""

    resource: str
    amount: float
    seed: int | None = field(default=None, compare=False)
    # the candidate's last rung: what it fits now is never continued at a bigger budget
    last: bool = field(default=True, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fit + score on one cross-validation split, as a worker reports it."""

    trial_number: int
    fold: int
    test_scores: Mapping[str, float]  # metric key -> score (NaN when the fold failed)
    train_scores: Mapping[str, float] | None  # None when train scores were not asked for
    fit_time: float
    score_time: float
    started: float  # wall clock (epoch seconds) when the worker began the fit
    finished: float
    worker: str  # the worker's label, for the timeline
    error: str | None = None
    rung: int = 0
    warnings: tuple[str, ...] = ()  # what the estimator warned about (not stored)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A point of the search space that a strategy proposes, at a rung and budget."""

    number: int
    params: dict[str, Any]
    subspace: int = 0
    rung: int = 0
    budget: Budget | None = None

    @property
    def key(self) -> tuple[int, int]:
        """(number, rung): a trial's identity within its study."""
        return (self.number, self.rung)


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """A finished trial: what ``cv_results_`` holds for one candidate, plus timing.

    ``test_scores`` maps each metric key to the scores of the splits, in split order;
    ``refit`` is the key of the metric that ranks trials (``mean_test_score`` and the other
    single-metric names read that metric). ``value`` stands in for the mean when a trial
    was imported without per-split scores."""

    study_id: int
    number: int
    params: dict[str, Any]
    state: TrialState
    test_scores: Mapping[str, tuple[float, ...]]
    train_scores: Mapping[str, tuple[float, ...]] | None
    fit_times: tuple[float, ...]
    score_times: tuple[float, ...]
    started: float
    finished: float
    subspace: int = 0
    error: str | None = None
    refit: str = SCORE
    rung: int = 0
    budget: Budget | None = None
    value: float | None = None
    folds: tuple[FoldResult, ...] = field(default=(), compare=False, repr=False)
    reused_from: int | None = None  # the study whose fit this is: scores taken, not refitted

    @property
    def key(self) -> tuple[int, int]:
        return (self.number, self.rung)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.test_scores)

    @property
    def split_test_scores(self) -> tuple[float, ...]:
        return self.test_scores.get(self.refit, ())

    @property
    def split_train_scores(self) -> tuple[float, ...] | None:
        return None if self.train_scores is None else self.train_scores.get(self.refit)

    def mean_test(self, metric: str) -> float:
        splits = self.test_scores.get(metric, ())
        if not splits and metric == self.refit and self.value is not None:
            return float(self.value)
        return _mean(splits)

    def std_test(self, metric: str) -> float:
        return _std(self.test_scores.get(metric, ()))

    def mean_train(self, metric: str) -> float | None:
        if self.train_scores is None or metric not in self.train_scores:
            return None
        return _mean(self.train_scores[metric])

    @property
    def mean_test_score(self) -> float:
        return self.mean_test(self.refit)

    @property
    def std_test_score(self) -> float:
        return self.std_test(self.refit)

    @property
    def mean_train_score(self) -> float | None:
        return self.mean_train(self.refit)

    @property
    def std_train_score(self) -> float | None:
        train = self.split_train_scores
        return None if train is None else _std(train)

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


def single_metric(scores: tuple[float, ...]) -> dict[str, tuple[float, ...]]:
    """The ``test_scores`` of a single-metric trial."""
    return {SCORE: scores}


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
    origin: StudyOrigin = StudyOrigin.SPEC
    n_pruned: int = 0
    has_spec: bool = True  # False: shown read-only (plots, table, parameters), never run

"""One fold of one trial: fit on the train part, score the test part, time both.

This module runs inside worker processes. The dataset reaches each worker once per
study (a file path that is loaded and cached, memory-mapped where possible; on a Dask
cluster, an in-memory copy scattered to every worker), and a fold task carries only the
candidate's parameters and the fold's number.
"""

from __future__ import annotations

import os
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hpstudio.core.grown_fits import final_estimator, growth_for
from hpstudio.core.records import SCORE, Budget, FoldResult
from hpstudio.core.step_cache import fit_fold

_MAX_WARNINGS_PER_FOLD = 5


@dataclass(frozen=True)
class EvaluationContext:
    """Everything a worker needs to evaluate folds of one study, apart from the data itself."""

    data_path: str
    estimator_class: str
    fixed_params: dict[str, Any]
    numeric_columns: tuple[str, ...]
    categorical_columns: tuple[str, ...]
    classifier: bool
    folds: int
    shuffle: bool
    seed: int | None
    metric: str | None
    train_score: bool
    allowed_packages: tuple[str, ...] = field(default=())
    # A study run from Python (hpstudio.tune) carries its objects: the estimator (cloned
    # for every fold), the splitter object (groups bound), and a token naming the run for
    # the workers' cache.
    estimator_object: Any = None
    splitter_object: Any = None
    token: str = ""
    pipeline: Any = None  # a hpstudio.core.pipeline.PipelinePlan; None: estimator + columns
    splitter: str | None = None  # a splitter class (see core.splitters); None: folds/shuffle
    splitter_params: Mapping[str, Any] = field(default_factory=dict)
    # (metric key, scorer) pairs, the ranking one first: a scorer name, None (the
    # estimator's own score), a MetricSpec (a scorer with arguments) or a scorer object
    scoring: tuple[tuple[str, Any], ...] = ()

    @property
    def scorers(self) -> dict[str, Any]:
        """Metric key -> scorer (see ``scoring``); ``{score: metric}`` by default."""
        return dict(self.scoring) if self.scoring else {SCORE: self.metric}

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.data_path, self.estimator_class, repr(sorted(self.fixed_params.items())),
                self.numeric_columns, self.categorical_columns, self.folds, self.shuffle,
                self.seed, self.classifier, self.token, repr(self.pipeline), self.splitter,
                repr(sorted(self.splitter_params.items())), repr(self.scorers))

    @property
    def param_prefix(self) -> str:
        return "model__" if (self.numeric_columns or self.categorical_columns) else ""

    @property
    def plan(self) -> Any:
        """The pipeline the workers build (``hpstudio.core.pipeline.PipelinePlan``)."""
        if self.pipeline is not None:
            return self.pipeline
        from hpstudio.core.pipeline import legacy_plan

        return legacy_plan(self.estimator_class, self.fixed_params, self.numeric_columns,
                           self.categorical_columns)


@dataclass(frozen=True)
class FoldTask:
    trial_number: int
    fold: int
    params: dict[str, Any]
    rung: int = 0
    budget: Budget | None = None


def context_for(spec: Any, dataset: Any, estimator_class: type,
                allowed_packages: tuple[str, ...] = ()) -> EvaluationContext:
    """The evaluation settings of a study; ``data_path`` is filled in by the executor."""
    from hpstudio.core.data import CLASSIFICATION
    from hpstudio.core.estimators import is_classifier_class
    from hpstudio.core.pipeline import plan_for
    from hpstudio.core.scoring import scorer_entries

    return EvaluationContext(
        data_path="", estimator_class=spec.estimator.cls, fixed_params=dict(spec.estimator.fixed),
        numeric_columns=dataset.numeric_columns, categorical_columns=dataset.categorical_columns,
        classifier=is_classifier_class(estimator_class) and dataset.task == CLASSIFICATION,
        folds=spec.cv.folds, shuffle=spec.cv.shuffle, seed=spec.cv.seed,
        metric=spec.scoring.metric, train_score=spec.scoring.train_score,
        allowed_packages=allowed_packages, pipeline=plan_for(spec, dataset),
        splitter=spec.cv.splitter, splitter_params=dict(spec.cv.params),
        scoring=scorer_entries(spec.scoring),
    )


class _WorkerState:
    """Per-process cache: the last study's data, splits, base estimator and scorer."""

    key: tuple[Any, ...] | None = None
    X: Any = None
    y: Any = None
    splits: ClassVar[list[tuple[np.ndarray, np.ndarray]]] = []
    base_estimator: Any = None
    scorers: ClassVar[dict[str, Any]] = {}


def prepare(context: EvaluationContext, data: tuple[Any, ...] | None = None) -> _WorkerState:
    """Load the study's data once per process; ``data`` (X, y[, groups]) replaces reading
    the file.

    Remote workers cannot read the client's files, so a cluster executor hands the data
    over in memory; the cache is keyed by ``context.key`` either way, whose ``data_path``
    then names the in-memory copy.
    """
    state = _WorkerState
    if state.key == context.key:
        return state
    if data is None:
        import joblib

        data = joblib.load(context.data_path, mmap_mode="r")
    X, y = data[0], data[1]
    groups = data[2] if len(data) > 2 else None
    state.X, state.y = X, y
    state.splits = split_indices(context, X, y, groups)
    state.base_estimator = build_estimator(context)
    state.scorers = {}
    state.key = context.key
    return state


def build_estimator(context: EvaluationContext) -> Any:
    """The unfitted estimator: an object given from Python (cloned), else the study's
    pipeline, or the bare estimator when it is alone."""
    if context.estimator_object is not None:
        from sklearn.base import clone

        return clone(context.estimator_object)
    from hpstudio.core.pipeline import build_pipeline

    return build_pipeline(context.plan, context.allowed_packages)


def set_candidate(estimator: Any, context: EvaluationContext, params: dict[str, Any]) -> Any:
    """Set a candidate's parameters (as the spec names them) on a fresh ``estimator``."""
    from hpstudio.core.pipeline import apply_params

    return apply_params(estimator, context.plan, params, context.allowed_packages)


def make_splitter(context: EvaluationContext, y: Any, groups: Any = None) -> Any:
    """The same splitter the workers use, for code that must reproduce a study's folds
    (``groups``: the data's groups column, for group splitters and ``PredefinedSplit``)."""
    if context.splitter_object is not None:
        return context.splitter_object
    from hpstudio.core.splitters import make_cv

    return make_cv(context.splitter, context.splitter_params, context.folds, context.shuffle,
                   context.seed, y, context.classifier, groups)


def split_indices(context: EvaluationContext, X: Any, y: Any,
                  groups: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every (train, test) split of the study, in split order."""
    from hpstudio.core.splitters import splits_of

    return splits_of(make_splitter(context, y, groups), context.splitter, X, y, groups)


def fold_inputs(base_estimator: Any, context: EvaluationContext, params: dict[str, Any],
                X: Any, y: Any, train: np.ndarray, test: np.ndarray) -> tuple[Any, ...]:
    """A fresh estimator with ``params`` set, and the fold's (X_train, y_train, X_test, y_test).

    Shared by the workers and the duration probe, so both fit exactly what a trial fits.
    """
    from sklearn.base import clone
    from sklearn.utils.metaestimators import _safe_split

    estimator = clone(base_estimator)
    if context.estimator_object is not None:  # scikit-learn's own parameter names
        estimator.set_params(**{name: _fresh(value) for name, value in params.items()})
    else:
        estimator = set_candidate(estimator, context, params)
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_test, y_test = _safe_split(estimator, X, y, test, train)
    return estimator, X_train, y_train, X_test, y_test


def _fresh(value: Any) -> Any:
    """An estimator given as a parameter value is cloned, as GridSearchCV does: every fold
    fits its own copy, never the object of the search space."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        from sklearn.base import clone

        return clone(value)
    return value


def evaluate_fold(context: EvaluationContext, task: FoldTask,
                  data: tuple[Any, ...] | None = None) -> FoldResult:
    """Fit and score one fold; a failure becomes a result with its error, never an exception.

    ``data`` is the (X, y) pair when the worker received it in memory rather than as
    ``context.data_path``.
    """
    started = time.time()
    worker = str(os.getpid())
    fit_time = score_time = 0.0
    train_scores: dict[str, float] | None = None
    caught: list[warnings.WarningMessage] = []
    try:
        state = prepare(context, data)
        train, test = state.splits[task.fold]
        params = task.params
        if task.budget is not None:  # a rung of successive halving: fewer rows or trees
            from hpstudio.core.strategies.halving import apply_budget

            train, test, params = apply_budget(task.budget, train, test, params,
                                               len(state.y), context.param_prefix)
        estimator, X_train, y_train, X_test, y_test = fold_inputs(
            state.base_estimator, context, params, state.X, state.y, train, test)
        growth = growth_for(context, task.fold, params, task.budget, estimator)
        if growth is not None:  # a promoted forest keeps the trees of its last rung
            estimator = growth.resume(estimator)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit_start = time.time()
            fitted = fit_fold(estimator, context, (task.fold, task.budget), X_train,
                              y_train, X_test)
            fit_time = time.time() - fit_start
            if growth is not None:
                growth.store(final_estimator(fitted.model))
            scorers = _scorers(state, context, estimator)
            score_start = time.time()
            test_scores = _score(scorers, fitted.model, fitted.X_test, y_test)
            score_time = time.time() - score_start
            if context.train_score:
                train_scores = _score(scorers, fitted.model, fitted.X_train, y_train)
        error = None
    except Exception as exc:  # a fit that raises marks the trial failed; the study goes on
        test_scores = dict.fromkeys(context.scorers, float("nan"))
        train_scores = None
        error = _describe_error(exc)
    return FoldResult(task.trial_number, task.fold, test_scores, train_scores, fit_time,
                      score_time, started, time.time(), worker, error, task.rung,
                      warning_texts(caught))


def warning_texts(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    """What the estimator warned about, each distinct text once (a fit may repeat one
    warning thousands of times)."""
    texts = (f"{w.category.__name__}: {str(w.message).strip()}" for w in caught)
    return tuple(dict.fromkeys(texts))[:_MAX_WARNINGS_PER_FOLD]


def _scorers(state: _WorkerState, context: EvaluationContext,
             estimator: Any) -> dict[str, Any]:
    """The study's scorers, built once per worker and study (``check_scoring`` is slow)."""
    if not state.scorers:
        from hpstudio.core.scoring import build_scorer

        state.scorers = {key: build_scorer(estimator, entry)
                         for key, entry in context.scorers.items()}
    return state.scorers


def _score(scorers: dict[str, Any], estimator: Any, X: Any, y: Any) -> dict[str, float]:
    return {key: float(scorer(estimator, X, y)) for key, scorer in scorers.items()}


def _describe_error(exc: BaseException) -> str:
    message = f"{type(exc).__name__}: {exc}".strip()
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (in {frames[-1].name})" if frames else ""
    return message + where

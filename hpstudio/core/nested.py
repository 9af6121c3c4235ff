"""Nested cross-validation: an honest estimate of what tuning the model is worth.

The best mean CV score of a search is optimistic: it is the maximum over candidates of
noisy estimates, measured on the very splits that chose it. Nested CV runs the whole
search again inside the training part of each outer fold, refits the candidate that
search picks (by the study's refit rule) on that training part, and scores it on the
outer test part, which no choice has seen. The mean and spread of those outer scores
estimate how well the tuning procedure generalises; the candidates chosen per outer fold
show how stable the choice is. The outer scores are exactly what
``cross_val_score(GridSearchCV(estimator, grid, cv=inner, scoring=...), X, y, cv=outer)``
returns for a grid search.

The searches run on the study's executor (the same worker pool), one outer fold after
the other; each search uses the study's strategy, splitter and scorers on the outer
training rows (their groups included), until its strategy has no candidate left
(budgets of time and patience apply to the study's own search only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from hpstudio.core.evaluate import EvaluationContext, FoldTask
from hpstudio.core.records import SCORE, StudyStatus

if TYPE_CHECKING:
    from hpstudio.core.executor import Executor
    from hpstudio.core.records import FoldResult, TrialRecord
    from hpstudio.core.storage import HistoryRepository

__all__ = ["NestedResult", "OuterFold", "run_nested", "run_nested_for_study"]

_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class OuterFold:
    """One outer fold: the candidate its inner search chose and how it scored outside.

    ``trial`` is the chosen trial's number within that inner search, ``inner_score`` its
    mean inner CV score (refit metric); ``test_scores`` the outer test scores of the
    refitted candidate, by metric key; ``error`` why the fold has no score."""

    index: int
    params: dict[str, Any]
    trial: int | None
    inner_score: float
    test_scores: dict[str, float]
    n_train: int
    n_test: int
    n_trials: int
    error: str | None = None


@dataclass(frozen=True)
class NestedResult:
    """The outer folds of a nested CV and the estimate they give."""

    outer: str  # the outer splitter, described
    inner: str  # the search's own splitter, described
    metrics: tuple[str, ...]
    refit: str
    label: str  # the refit metric's name as the user gave it
    rule: str  # how each inner search chose its candidate
    folds: tuple[OuterFold, ...] = field(default=())

    def scores(self, metric: str | None = None) -> np.ndarray:
        key = metric or self.refit
        return np.array([f.test_scores.get(key, math.nan) for f in self.folds], dtype=float)

    def mean(self, metric: str | None = None) -> float:
        scores = self.scores(metric)
        return float(np.mean(scores)) if len(scores) else math.nan

    def std(self, metric: str | None = None) -> float:
        """Standard deviation over the outer folds (numpy's, as ``scores.std()``)."""
        scores = self.scores(metric)
        return float(np.std(scores)) if len(scores) else math.nan

    def describe(self, metric: str | None = None) -> str:
        name = self.label if (metric or self.refit) == self.refit else metric
        return (f"{name} {self.mean(metric):.4g} ± {self.std(metric):.2g} over "
                f"{len(self.folds)} outer folds")

    def distinct_choices(self) -> int:
        return len({repr(sorted(f.params.items())) for f in self.folds if f.trial is not None})

    # -- storage ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "outer": self.outer, "inner": self.inner, "metrics": list(self.metrics),
            "refit": self.refit, "label": self.label, "rule": self.rule,
            "folds": [{
                "index": f.index, "params": f.params, "trial": f.trial,
                "inner_score": _json_float(f.inner_score),
                "test_scores": {k: _json_float(v) for k, v in f.test_scores.items()},
                "n_train": f.n_train, "n_test": f.n_test, "n_trials": f.n_trials,
                "error": f.error} for f in self.folds],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> NestedResult:
        folds = tuple(OuterFold(
            int(f["index"]), dict(f["params"]), f.get("trial"),
            _float(f.get("inner_score")),
            {k: _float(v) for k, v in f.get("test_scores", {}).items()},
            int(f.get("n_train", 0)), int(f.get("n_test", 0)), int(f.get("n_trials", 0)),
            f.get("error")) for f in raw.get("folds", ()))
        return cls(str(raw.get("outer", "")), str(raw.get("inner", "")),
                   tuple(raw.get("metrics", (SCORE,))), str(raw.get("refit", SCORE)),
                   str(raw.get("label", raw.get("refit", SCORE))), str(raw.get("rule", "")),
                   folds)


def _json_float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


# ----- running ---------------------------------------------------------------------------------


def run_nested(spec: Any, dataset: Any, context: EvaluationContext, executor: Executor, *,
               should_stop: Callable[[], bool] = lambda: False,
               log: Callable[[str], None] = lambda message: None) -> NestedResult | None:
    """Run the search in every outer fold of ``spec.cv.outer`` and score each choice on
    its outer test part; None when ``should_stop`` asked to stop before the end."""
    from hpstudio.core.scoring import choose_best_trial, metric_keys, refit_key, rule_text
    from hpstudio.core.splitters import describe, splits_of, splitter_for, take_rows

    outer_cv = spec.cv.outer
    X, y, groups = dataset.X, np.asarray(dataset.y), dataset.groups
    pairs = splits_of(splitter_for(outer_cv, y, context.classifier, groups), outer_cv.splitter,
                      X, y, groups)
    chosen: list[TrialRecord | None] = []
    searched: list[int] = []
    for index, (train, _) in enumerate(pairs):
        inner_groups = None if groups is None else np.asarray(groups)[train]
        X_train, y_train = take_rows(X, train), y[train]
        inner = executor.start(context, X_train, y_train, inner_groups)
        n_splits = _count(inner, X_train, y_train, inner_groups)
        trials = _search(spec, executor, n_splits, refit_key(spec.scoring), should_stop)
        if trials is None:
            return None
        best = choose_best_trial(trials, spec.scoring)
        chosen.append(best)
        searched.append(len(trials))
        log(f"nested CV: outer fold {index + 1} of {len(pairs)} chose "
            + (f"{best.params} (inner {best.mean_test_score:.4g})" if best is not None
               else "nothing (no inner trial succeeded)"))
    results = _score_outer(spec, dataset, context, executor, chosen, should_stop)
    if results is None:
        return None
    folds = []
    for index, ((train, test), best) in enumerate(zip(pairs, chosen, strict=True)):
        result = results.get(index)
        error = ("no inner trial succeeded" if best is None
                 else result.error if result is not None else "not scored")
        scores = dict(result.test_scores) if result is not None and result.error is None \
            else dict.fromkeys(metric_keys(spec.scoring), math.nan)
        folds.append(OuterFold(
            index, {} if best is None else dict(best.params),
            None if best is None else best.number,
            math.nan if best is None else best.mean_test_score, scores, len(train), len(test),
            searched[index], None if best is not None and result is not None
            and result.error is None else error))
    from hpstudio.core.scoring import scoring_label

    return NestedResult(describe(outer_cv), describe(spec.cv), metric_keys(spec.scoring),
                        refit_key(spec.scoring), scoring_label(spec.scoring),
                        rule_text(spec.scoring), tuple(folds))


def _count(context: EvaluationContext, X: Any, y: Any, groups: Any) -> int:
    from hpstudio.core.evaluate import make_splitter
    from hpstudio.core.splitters import count_splits

    return count_splits(make_splitter(context, y, groups), context.splitter, X, y, groups)


def _search(spec: Any, executor: Executor, n_splits: int, refit: str,
            should_stop: Callable[[], bool]) -> list[TrialRecord] | None:
    """One whole search on the data the executor holds; its trials in number order."""
    from hpstudio.core.strategies import make_strategy
    from hpstudio.core.study import make_trial

    strategy = make_strategy(spec)
    waiting: dict[tuple[int, int], Any] = {}
    folds: dict[tuple[int, int], dict[int, FoldResult]] = {}
    trials: list[TrialRecord] = []
    exhausted = False
    depth = 2 * executor.n_workers
    while True:
        if should_stop():
            executor.cancel_pending()
            return None
        while not exhausted and executor.in_flight < depth:
            strategy.note_backlog(executor.in_flight, executor.n_workers)
            candidate = strategy.ask()
            if candidate is None:
                exhausted = True
                break
            waiting[candidate.key] = candidate
            for fold in range(n_splits):
                executor.submit(FoldTask(candidate.number, fold, candidate.params,
                                         candidate.rung, candidate.budget))
        if exhausted and executor.in_flight == 0:
            return sorted(trials, key=lambda t: (t.number, t.rung))
        for result in executor.results(timeout=_POLL_SECONDS):
            key = (result.trial_number, result.rung)
            if key not in waiting:
                continue
            done = folds.setdefault(key, {})
            done[result.fold] = result
            if len(done) < n_splits:
                continue
            candidate = waiting.pop(key)
            trial = make_trial(0, candidate, [done[k] for k in sorted(done)], refit=refit)
            del folds[key]
            strategy.tell(trial)
            trials.append(trial)


def _score_outer(spec: Any, dataset: Any, context: EvaluationContext, executor: Executor,
                 chosen: Sequence[TrialRecord | None],
                 should_stop: Callable[[], bool]) -> dict[int, FoldResult] | None:
    """Refit each outer fold's choice on its training part and score its test part."""
    outer = spec.cv.outer
    outer_context = replace(context, folds=outer.folds, shuffle=outer.shuffle, seed=outer.seed,
                            splitter=outer.splitter, splitter_params=dict(outer.params),
                            train_score=False)
    executor.start(outer_context, dataset.X, dataset.y, dataset.groups)
    for index, best in enumerate(chosen):
        if best is not None:
            executor.submit(FoldTask(index, index, dict(best.params)))
    results: dict[int, FoldResult] = {}
    while executor.in_flight:
        if should_stop():
            executor.cancel_pending()
            return None
        for result in executor.results(timeout=_POLL_SECONDS):
            results[result.fold] = result
    return results


def run_nested_for_study(store: HistoryRepository, study_id: int, spec: Any, dataset: Any,
                         context: EvaluationContext, executor: Executor, *,
                         should_stop: Callable[[], bool], log: Callable[[str], None],
                         reason: str | None) -> tuple[StudyStatus, str | None]:
    """The nested CV of a study whose own search finished: run, store and report it.

    A study resumed after its nested CV was stored does not run it again."""
    if store.load_nested(study_id) is not None:
        return StudyStatus.FINISHED, reason
    log(f"nested CV: running the search again in each outer fold ({describe_outer(spec)})")
    result = run_nested(spec, dataset, context, executor, should_stop=should_stop, log=log)
    if result is None:
        return StudyStatus.STOPPED, "stopped during nested CV; resume it to run it again"
    store.save_nested(study_id, result.to_dict())
    estimate = result.describe()
    log(f"nested CV estimate: {estimate} "
        f"({result.distinct_choices()} distinct choice(s) of parameters)")
    return StudyStatus.FINISHED, f"{reason}; nested CV: {estimate}" if reason else estimate


def describe_outer(spec: Any) -> str:
    from hpstudio.core.splitters import describe

    return describe(spec.cv.outer)


def load_result(store: HistoryRepository, study_id: int) -> NestedResult | None:
    """A study's stored nested CV, if it ran one."""
    raw = store.load_nested(study_id)
    return None if raw is None else NestedResult.from_dict(raw)

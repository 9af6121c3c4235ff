"""Successive halving: scikit-learn's rungs, choices and scores, row by row; the
asynchronous mode never waits at a rung; the plan as scikit-learn computes it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import randint
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV, HalvingRandomSearchCV
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.errors import SpecError
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.export import best_trial, cv_results_frame
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.space import Values
from hpstudio.core.spec import SearchSpec, StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.strategies.base import StudyFacts
from hpstudio.core.strategies.halving import (
    AsyncHalvingStrategy,
    HalvingStrategy,
    plan_rungs,
    resolve_resource,
)
from hpstudio.core.study import StudyRunner

TREE_GRID = {"max_depth": [1, 2, 3, 4], "min_samples_leaf": [1, 5, 20]}
FOREST_GRID = {"max_depth": [1, 2, None], "max_features": [1, 2],
               "min_samples_leaf": [1, 5]}


def run(raw: dict) -> tuple[list[TrialRecord], list[str]]:
    logged: list[str] = []
    history = MemoryHistory()
    outcome = StudyRunner(history, executor=SerialExecutor(),
                          listener=lambda e: logged.append(getattr(e, "message", ""))
                          ).run(StudySpec.from_dict(raw))
    return history.load_trials(outcome.study_id), logged


def rows(trials: list[TrialRecord]) -> dict[tuple[int, str], dict]:
    """The export's rows by (iter, params)."""
    frame = cv_results_frame(trials)
    return {(int(r["iter"]), r["params"]): r for r in frame.to_dict("records")}


def assert_same_rows(trials: list[TrialRecord], search, n_splits: int) -> None:
    mine = rows(trials)
    results = search.cv_results_
    assert len(mine) == len(results["iter"])
    for i, (itr, params) in enumerate(zip(results["iter"], results["params"], strict=True)):
        row = mine[(int(itr), json.dumps({k: _plain(v) for k, v in params.items()}))]
        assert row["n_resources"] == results["n_resources"][i]
        for k in range(n_splits):  # the same scores to the last bit
            assert row[f"split{k}_test_score"] == results[f"split{k}_test_score"][i]
        assert row["mean_test_score"] == results["mean_test_score"][i]
    # the same candidates kept: the same rows at every rung, in the same number
    assert sorted(r[0] for r in mine) == sorted(int(i) for i in results["iter"])


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def test_sync_halving_on_samples_equals_halving_grid_search_cv():
    trials, logged = run({
        "name": "rows", "data": {"builtin": "breast_cancer"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [TREE_GRID], "cv": {"folds": 3},
        "search": {"strategy": "halving-grid", "resource": "n_samples", "seed": 0}})
    X, y = load_breast_cancer(return_X_y=True)
    search = HalvingGridSearchCV(DecisionTreeClassifier(random_state=0), TREE_GRID, cv=3,
                                 resource="n_samples", random_state=0).fit(X, y)
    assert search.n_iterations_ == 3  # three rungs, so two rounds of choices are compared
    assert_same_rows(trials, search, 3)
    assert best_trial(trials).mean_test_score == search.best_score_
    assert any("rows of each training fold" in line for line in logged)


def test_sync_halving_on_an_estimator_parameter_equals_halving_grid_search_cv():
    trials, _ = run({
        "name": "trees", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.ensemble.RandomForestClassifier",
                      "fixed": {"random_state": 0}},
        "space": [FOREST_GRID], "cv": {"folds": 3},
        "search": {"strategy": "halving-grid", "resource": "n_estimators",
                   "max_resources": 18, "min_resources": "exhaust"}})
    X, y = load_iris(return_X_y=True)
    search = HalvingGridSearchCV(RandomForestClassifier(random_state=0), FOREST_GRID, cv=3,
                                 resource="n_estimators", max_resources=18).fit(X, y)
    assert list(search.n_resources_) == [2, 6, 18]
    assert_same_rows(trials, search, 3)
    best = best_trial(trials)
    assert best.mean_test_score == search.best_score_  # on a tie either may be named best
    assert search.best_params_ in [t.params for t in trials if t.rung == best.rung
                                   and t.mean_test_score == best.mean_test_score]
    assert all(t.params["n_estimators"] == t.budget.amount for t in trials)


def test_sync_halving_random_equals_halving_random_search_cv():
    distributions = {"max_depth": [1, 2, 3, 4, 5, 6], "min_samples_split": randint(2, 400)}
    trials, _ = run({
        "name": "random", "data": {"builtin": "breast_cancer"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3, 4, 5, 6],
                   "min_samples_split": {"low": 2, "high": 399}}],
        "cv": {"folds": 3},
        "search": {"strategy": "halving-random", "resource": "n_samples", "seed": 7,
                   "n_trials": 12, "factor": 2}})
    X, y = load_breast_cancer(return_X_y=True)
    search = HalvingRandomSearchCV(DecisionTreeClassifier(random_state=0), distributions,
                                   n_candidates=12, factor=2, cv=3, random_state=7
                                   ).fit(X, y)
    assert_same_rows(trials, search, 3)


def test_the_plan_is_scikit_learns_for_every_min_resources_setting():
    X, y = load_breast_cancer(return_X_y=True)
    for setting, aggressive in (("exhaust", False), ("smallest", False), (40, False),
                                ("smallest", True)):
        search = HalvingGridSearchCV(DecisionTreeClassifier(), TREE_GRID, cv=3, factor=2,
                                     min_resources=setting,
                                     aggressive_elimination=aggressive).fit(X, y)
        plan = plan_rungs(12, factor=2, min_resources=setting, max_resources=len(y),
                          aggressive_elimination=aggressive, resource="n_samples",
                          n_splits=3, n_classes=2)
        assert list(plan.amounts) == list(search.n_resources_), setting
        assert list(plan.candidates) == list(search.n_candidates_), setting


def test_an_impossible_plan_is_refused_in_one_line():
    with pytest.raises(SpecError, match="min_resources"):
        plan_rungs(10, factor=3, min_resources=500, max_resources=100,
                   aggressive_elimination=False, resource="n_samples", n_splits=5,
                   n_classes=None)


@pytest.mark.parametrize(("params", "searched", "chosen"), [
    ({"n_estimators": 60, "max_depth": None}, set(), "n_estimators"),
    ({"max_iter": 100, "C": 1.0}, set(), "max_iter"),
    ({"n_estimators": 100}, {"n_estimators"}, "n_samples"),  # searched: not a budget
    ({"C": 1.0, "max_iter": -1}, set(), "n_samples"),  # SVC: no limit, no budget
    ({"model__steps": None, "forest__n_estimators": 30}, set(), "forest__n_estimators"),
])
def test_auto_resource_picks_the_estimators_own_budget_parameter(params, searched, chosen):
    facts = StudyFacts(n_samples=500, n_splits=5, estimator="E", estimator_params=params)
    resource = resolve_resource(SearchSpec(strategy="halving-grid"), facts, searched)
    assert resource.name == chosen
    assert resource.maximum == (params.get(chosen) if chosen != "n_samples" else 500)
    assert "auto" in resource.why


# ----- eager and asynchronous promotions, on a simulated objective -----------------------------

SPACE = [{"x": Values(tuple(range(27)))}]
FACTS = StudyFacts(n_samples=10_000, n_splits=3)


def told(candidate, score: float) -> TrialRecord:
    return TrialRecord(1, candidate.number, dict(candidate.params), TrialState.COMPLETE,
                       {"score": (score,) * 3}, None, (0.0,) * 3, (0.0,) * 3, 0.0, 1.0,
                       rung=candidate.rung, budget=candidate.budget)


def objective(candidate) -> float:
    x = candidate.params["x"]
    return -abs(x - 13) + candidate.rung * 0.01  # the best is 13; a bigger budget helps


def test_sync_halving_starts_a_certain_promotion_before_its_rung_ends():
    search = SearchSpec(strategy="halving-grid", resource="n_samples", seed=0)
    strategy = HalvingStrategy(search, SPACE)
    strategy.bind(FACTS)
    first = [strategy.ask() for _ in range(27)]
    assert all(c is not None and c.rung == 0 for c in first)
    assert strategy.ask() is None and strategy.waiting  # waits for results, not finished
    # the best results arrive first: 13, then 12 and 14, ...
    for candidate in sorted(first, key=lambda c: -objective(c)):
        strategy.tell(told(candidate, objective(candidate)))
        if candidate.params["x"] == 13:
            # 26 others still missing could all beat it, and 9 are kept: not certain yet
            assert strategy.ask() is None
        early = [c for c in first if c.number in strategy._certain(0)]
        if early:
            break
    promoted = strategy.ask()
    assert promoted is not None and promoted.rung == 1 and promoted.params["x"] == 13
    assert strategy.members(1) is None  # the rung has not ended: it started early


def test_async_halving_promotes_without_waiting_and_ends_with_the_sync_top():
    search = SearchSpec(strategy="halving-grid", resource="n_samples", seed=0,
                        asynchronous=True)
    strategy = AsyncHalvingStrategy(search, SPACE)
    strategy.bind(FACTS)
    in_flight: list = []
    asked: list = []
    waited_with_work_left = 0
    order = iter(np.random.default_rng(0).permutation(1000))
    while True:
        while len(in_flight) < 2:  # two workers
            candidate = strategy.ask()
            if candidate is None:
                break
            asked.append(candidate)
            in_flight.append(candidate)
        if not in_flight:
            break
        if len(in_flight) < 2 and sum(c.rung == 0 for c in asked) < 27:
            waited_with_work_left += 1
        done = in_flight.pop(int(next(order)) % len(in_flight))
        strategy.tell(told(done, objective(done)))
    assert waited_with_work_left == 0  # no worker idles while candidates wait
    assert not strategy.waiting and strategy.ask() is None
    plan = strategy.plan
    rung1 = {c.params["x"] for c in asked if c.rung == 1}
    assert set(range(9, 18)) <= rung1  # the rung's final top third, as sync keeps it
    assert len(rung1) >= plan.candidates[1]
    top = max((c for c in asked if c.rung == plan.n_rungs - 1), key=objective)
    assert top.params["x"] == 13
    assert strategy.total == len(asked)
    notes = strategy.closing_notes()
    assert notes and "trials per rung" in notes[0]


def test_a_resumed_halving_study_refits_nothing_it_finished():
    raw = {"name": "resume", "data": {"builtin": "iris"},
           "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                         "fixed": {"random_state": 0}},
           "space": [TREE_GRID], "cv": {"folds": 3},
           "search": {"strategy": "halving-grid", "resource": "n_samples", "seed": 0,
                      "reuse": False}}
    fits = []

    class Counting(SerialExecutor):
        def submit(self, task):
            fits.append(task)
            super().submit(task)

    history = MemoryHistory()
    runner = StudyRunner(history, executor=Counting())
    runner.listener = lambda event: (runner.stop("enough") if getattr(event, "trial", None)
                                     and event.n_complete >= 7 else None)
    first = runner.run(StudySpec.from_dict(raw))
    stored = history.load_trials(first.study_id)
    assert 7 <= len(stored) < 12 + 4 + 2
    fits.clear()
    resumed = StudyRunner(history, executor=Counting()).run(study_id=first.study_id)
    everything = history.load_trials(resumed.study_id)
    plan_total = sum(1 for _ in everything)
    assert len(fits) == 3 * (plan_total - len(stored))  # only what had not finished
    assert not math.isnan(resumed.best.mean_test_score)

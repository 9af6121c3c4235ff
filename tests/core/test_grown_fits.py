"""A forest promoted by successive halving grows only the trees it lacks, and scores as a
fresh fit of its new size does, to the bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV

from hpstudio.core.evaluate import EvaluationContext, FoldTask, evaluate_fold
from hpstudio.core.executor import LocalExecutor, dump_dataset
from hpstudio.core.export import cv_results_frame
from hpstudio.core.grown_fits import FOLDER_NAME
from hpstudio.core.records import Budget
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner

GRID = {"max_depth": [1, 2, None], "max_features": [1, 2], "min_samples_leaf": [1, 5]}


def context(tmp_path: Path, estimator: str, seed: object = 0) -> EvaluationContext:
    X, y = load_iris(return_X_y=True)
    tmp_path.mkdir(exist_ok=True)
    return EvaluationContext(
        data_path=dump_dataset(tmp_path, X, y, None), estimator_class=estimator,
        fixed_params={"random_state": seed}, numeric_columns=(), categorical_columns=(),
        classifier=True, folds=3, shuffle=False, seed=None, metric=None, train_score=True)


def trees_made(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[int]:
    """Counts the trees ``cls`` builds (one ``_make_estimator`` call per tree)."""
    made: list[int] = []
    original = cls._make_estimator

    def counting(self, *args, **kwargs):
        made.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "_make_estimator", counting)
    return made


def rung_task(amount: int, last: bool, fold: int = 1) -> FoldTask:
    params = {"max_depth": 2, "n_estimators": amount}
    return FoldTask(0, fold, params, rung=0 if amount == 2 else 1,
                    budget=Budget("n_estimators", amount, last=last))


def test_a_promoted_forest_grows_only_the_trees_it_lacks(tmp_path, monkeypatch):
    made = trees_made(monkeypatch, RandomForestClassifier)
    ctx = context(tmp_path, "sklearn.ensemble.RandomForestClassifier")
    first = evaluate_fold(ctx, rung_task(2, last=False))
    assert first.error is None and len(made) == 2
    kept = list((tmp_path / FOLDER_NAME).iterdir())
    assert len(kept) == 1
    grown = evaluate_fold(ctx, rung_task(6, last=True))
    assert grown.error is None
    assert len(made) == 6  # 2 kept + 4 grown, not 2 + 6
    assert not list((tmp_path / FOLDER_NAME).iterdir())  # the last rung keeps nothing
    made.clear()
    fresh = evaluate_fold(context(tmp_path / "fresh", "sklearn.ensemble.RandomForestClassifier"),
                          rung_task(6, last=True))
    assert len(made) == 6
    assert grown.test_scores == fresh.test_scores and grown.train_scores == fresh.train_scores


def test_what_cannot_grow_exactly_fits_from_scratch(tmp_path, monkeypatch):
    made = trees_made(monkeypatch, RandomForestClassifier)
    random_state = context(tmp_path / "seeded", "sklearn.ensemble.RandomForestClassifier",
                           seed=np.random.RandomState(0))
    evaluate_fold(random_state, rung_task(2, last=False))
    assert not (tmp_path / "seeded" / FOLDER_NAME).exists()
    other_fold = context(tmp_path, "sklearn.ensemble.RandomForestClassifier")
    evaluate_fold(other_fold, rung_task(2, last=False, fold=0))
    made.clear()
    evaluate_fold(other_fold, rung_task(6, last=True, fold=2))  # nothing kept for fold 2
    assert len(made) == 6


def test_a_damaged_kept_forest_costs_a_fresh_fit_not_the_fold(tmp_path):
    ctx = context(tmp_path, "sklearn.ensemble.RandomForestClassifier")
    evaluate_fold(ctx, rung_task(2, last=False))
    for kept in (tmp_path / FOLDER_NAME).iterdir():
        kept.write_bytes(b"not a forest")
    grown = evaluate_fold(ctx, rung_task(6, last=True))
    fresh = evaluate_fold(context(tmp_path / "fresh", "sklearn.ensemble.RandomForestClassifier"),
                          rung_task(6, last=True))
    assert grown.error is None and grown.test_scores == fresh.test_scores


def test_halving_on_trees_in_worker_processes_equals_halving_grid_search_cv():
    history = MemoryHistory()
    spec = StudySpec.from_dict({
        "name": "trees", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.ensemble.RandomForestClassifier",
                      "fixed": {"random_state": 0}},
        "space": [GRID], "cv": {"folds": 3},
        "search": {"strategy": "halving-grid", "resource": "n_estimators",
                   "max_resources": 18, "min_resources": "exhaust"}})
    outcome = StudyRunner(history, executor=LocalExecutor(2)).run(spec)
    trials = history.load_trials(outcome.study_id)
    X, y = load_iris(return_X_y=True)
    search = HalvingGridSearchCV(RandomForestClassifier(random_state=0), GRID, cv=3,
                                 resource="n_estimators", max_resources=18).fit(X, y)
    results = search.cv_results_
    mine = {(int(row["iter"]), row["params"]): row
            for row in cv_results_frame(trials).to_dict("records")}
    assert len(mine) == len(results["iter"])
    for i, params in enumerate(results["params"]):
        row = mine[(int(results["iter"][i]), json.dumps(params))]
        for k in range(3):  # continued forests score as fresh ones, to the last bit
            assert row[f"split{k}_test_score"] == results[f"split{k}_test_score"][i]

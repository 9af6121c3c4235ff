"""Scores agree with GridSearchCV's cv_results_ within 1e-9, in the same order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from hpstudio.cli import demo_spec_path
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner


def run(spec: StudySpec, db_path) -> list:
    with HistoryStore(db_path) as store:
        outcome = StudyRunner(store, executor=LocalExecutor(2)).run(spec)
        assert outcome.n_failed == 0
        return store.load_trials(outcome.study_id)


def assert_same_as(trials, cv_results, train: bool) -> None:
    assert [t.params for t in trials] == list(cv_results["params"])
    folds = len(trials[0].split_test_scores)
    for key, ours in [
        ("mean_test_score", [t.mean_test_score for t in trials]),
        ("std_test_score", [t.std_test_score for t in trials]),
        *[(f"split{k}_test_score", [t.split_test_scores[k] for t in trials])
          for k in range(folds)],
    ]:
        np.testing.assert_allclose(ours, cv_results[key], rtol=0, atol=1e-9, err_msg=key)
    if train:
        np.testing.assert_allclose([t.mean_train_score for t in trials],
                                   cv_results["mean_train_score"], rtol=0, atol=1e-9)


def test_demo_regressor_matches_grid_search_cv(db_path):
    trials = run(StudySpec.from_file(demo_spec_path()), db_path)
    assert len(trials) == 18
    X, y = load_diabetes(return_X_y=True)
    grid = [{"n_estimators": [3, 10, 30], "max_features": [2, 4, 6, 8]},
            {"bootstrap": [False], "n_estimators": [3, 10], "max_features": [2, 3, 4]}]
    search = GridSearchCV(RandomForestRegressor(random_state=0), grid, cv=5,
                          scoring="neg_mean_squared_error", return_train_score=True).fit(X, y)
    assert_same_as(trials, search.cv_results_, train=True)


@pytest.mark.parametrize("shuffle", [False, True])
def test_classifier_uses_stratified_folds_like_sklearn(db_path, shuffle):
    spec = StudySpec.from_dict({
        "name": "tree", "data": {"builtin": "breast_cancer"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [2, 4, None], "criterion": ["gini", "entropy"]},
                  {"min_samples_leaf": {"low": 1, "high": 9, "step": 4}}],
        "cv": {"folds": 4, "shuffle": shuffle, "seed": 7} if shuffle else {"folds": 4},
        "scoring": {"metric": "f1", "train_score": True},
    })
    trials = run(spec, db_path)
    X, y = load_breast_cancer(return_X_y=True)
    cv = StratifiedKFold(4, shuffle=True, random_state=7) if shuffle else 4
    grid = [{"max_depth": [2, 4, None], "criterion": ["gini", "entropy"]},
            {"min_samples_leaf": [1, 5, 9]}]
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=cv, scoring="f1",
                          return_train_score=True).fit(X, y)
    assert_same_as(trials, search.cv_results_, train=True)

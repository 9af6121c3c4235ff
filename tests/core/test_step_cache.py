"""Leading steps are fitted once per fold and setting, shared by the candidates that differ
only in later steps, with results identical to fitting each candidate from scratch."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from hpstudio.core.executor import SerialExecutor
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.step_cache import StepCache, StepOutputs, fit_with_cache
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.strategies import make_strategy
from hpstudio.core.study import StudyRunner

X, Y = load_digits(return_X_y=True)
X, Y = X[::3], Y[::3]


def pipeline(n_components: int, C: float) -> Pipeline:
    return Pipeline([("scaler", StandardScaler()), ("pca", PCA(n_components=n_components)),
                     ("model", LogisticRegression(C=C, max_iter=500, tol=0.01))])


def test_fitting_through_the_cache_gives_what_the_pipeline_gives():
    train, test = next(StratifiedKFold(3).split(X, Y))
    cache = StepCache()
    scorer = check_scoring(pipeline(5, 1.0), scoring="accuracy")
    for n_components, C in [(5, 1.0), (5, 10.0), (12, 1.0), (5, 0.1)]:
        reference = pipeline(n_components, C).fit(X[train], Y[train])
        fitted = fit_with_cache(pipeline(n_components, C), cache, "digits/0", X[train],
                                Y[train], X[test], train_scores=True)
        assert np.array_equal(fitted.model.predict_proba(fitted.X_test),
                              reference.predict_proba(X[test]))
        assert scorer(fitted.model, fitted.X_train, Y[train]) == \
            scorer(reference, X[train], Y[train])
        assert scorer(fitted.model, fitted.X_test, Y[test]) == scorer(reference, X[test], Y[test])
    # one scaler for all four; PCA(5) once for three candidates, PCA(12) once
    assert cache.misses == 3 and cache.hits == 3


def test_a_grid_fits_each_folds_pca_once_per_setting_not_once_per_candidate(monkeypatch):
    calls: list[int] = []
    original = PCA.fit_transform

    def counted(self, X, y=None):
        calls.append(self.n_components)
        return original(self, X, y)

    monkeypatch.setattr(PCA, "fit_transform", counted)
    spec = StudySpec.from_dict({
        "name": "shared", "data": {"builtin": "digits"},
        "steps": [{"name": "pca", "class": "sklearn.decomposition.PCA"}],
        "estimator": {"class": "sklearn.naive_bayes.GaussianNB"},
        "space": [{"var_smoothing": [1e-9, 1e-6, 1e-3, 1e-1],
                   "pca__n_components": [3, 6, 9]}],
        "cv": {"folds": 3},
    })
    store = MemoryHistory()
    outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
    assert outcome.n_complete == 12
    assert sorted(calls) == [3] * 3 + [6] * 3 + [9] * 3  # 9 fits, not 36
    trials = store.load_trials(outcome.study_id)
    reference = Pipeline([("pca", PCA()), ("model", GaussianNB())])
    search = GridSearchCV(reference, {"model__var_smoothing": [1e-9, 1e-6, 1e-3, 1e-1],
                                      "pca__n_components": [3, 6, 9]}, cv=3)
    full_x, full_y = load_digits(return_X_y=True)
    search.fit(full_x, full_y)
    theirs = {(p["pca__n_components"], p["model__var_smoothing"]): score for p, score in
              zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                  strict=True)}
    assert {(t.params["pca__n_components"], t.params["var_smoothing"]): t.mean_test_score
            for t in trials} == theirs


def test_grid_starts_candidates_sharing_leading_steps_together_and_keeps_numbers():
    spec = StudySpec.from_dict({
        "name": "order", "data": {"builtin": "digits"},
        "steps": [{"name": "pca", "class": "sklearn.decomposition.PCA"}],
        "estimator": {"name": "logistic", "class": "sklearn.linear_model.LogisticRegression"},
        "space": [{"pca__n_components": [5, 15], "logistic__C": [1, 10, 100]}],
    })
    strategy = make_strategy(spec)
    asked = [strategy.ask() for _ in range(6)]
    assert strategy.ask() is None
    # ParameterGrid varies pca fastest (its names sorted); the start order groups by pca
    assert [c.params["pca__n_components"] for c in asked] == [5, 5, 5, 15, 15, 15]
    assert [c.number for c in asked] == [0, 2, 4, 1, 3, 5]
    done = [TrialRecord(1, c.number, c.params, TrialState.COMPLETE, {"score": (0.5,)}, None,
                        (0.1,), (0.1,), 0.0, 1.0) for c in asked[:2]]
    strategy = make_strategy(spec)
    strategy.restore(done)
    assert [c.number for c in iter(strategy.ask, None)] == [4, 1, 3, 5]


def test_workers_share_outputs_through_the_folder_and_memory_is_bounded(tmp_path):
    outputs = StepOutputs(np.ones((100, 10)), np.zeros((20, 10)), None)
    one, other = StepCache(folder=tmp_path), StepCache(folder=tmp_path)
    one.put("k", outputs)
    found = other.get("k")
    assert found is not None and other.disk_hits == 1
    assert np.array_equal(found.X_fit, outputs.X_fit) and found.X_train is None
    with pytest.raises(ValueError, match="read-only"):
        found.X_fit[0, 0] = 5  # a step changing its input in place cannot spoil the cache
    small = StepCache(memory_budget=2 * outputs.nbytes)
    for key in "abc":
        small.put(key, StepOutputs(outputs.X_fit.copy(), outputs.X_test.copy(), None))
    assert small.get("a") is None and small.get("c") is not None

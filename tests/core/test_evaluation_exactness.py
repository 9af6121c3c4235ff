"""Splitters, several metrics, scorers with arguments, refit rules and nested CV agree with
scikit-learn's own GridSearchCV and cross_val_score on the same data, splits and scorers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, make_moons
from sklearn.linear_model import Ridge
from sklearn.metrics import fbeta_score, make_scorer, mean_pinball_loss
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    RepeatedStratifiedKFold,
    TimeSeriesSplit,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core import data as data_module
from hpstudio.core import study as study_module
from hpstudio.core.data import CLASSIFICATION, Dataset, make_preprocessor
from hpstudio.core.evaluation_report import evaluation_report
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.nested import load_result
from hpstudio.core.scoring import choose_best_trial
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner
from hpstudio.core.top_comparison import compare_study


def run(raw: dict, store: MemoryHistory | None = None, base_dir=None) -> tuple:
    store = store or MemoryHistory()
    spec = StudySpec.from_dict({"name": "exact", **raw}, base_dir=base_dir)
    outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
    assert outcome.n_failed == 0
    return store, outcome.study_id, store.load_trials(outcome.study_id)


def assert_metric(trials, results, metric: str, key: str, n_splits: int,
                  train: bool = False) -> None:
    for k in range(n_splits):
        np.testing.assert_allclose([t.test_scores[metric][k] for t in trials],
                                   results[f"split{k}_test_{key}"], rtol=0, atol=1e-12)
    np.testing.assert_allclose([t.mean_test(metric) for t in trials],
                               results[f"mean_test_{key}"], rtol=0, atol=1e-12)
    np.testing.assert_allclose([t.std_test(metric) for t in trials],
                               results[f"std_test_{key}"], rtol=0, atol=1e-12)
    if train:
        np.testing.assert_allclose([t.mean_train(metric) for t in trials],
                                   results[f"mean_train_{key}"], rtol=0, atol=1e-12)


def test_repeated_stratified_k_fold_with_two_metrics_and_train_scores():
    store, study_id, trials = run({
        "data": {"builtin": "breast_cancer"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3]}],
        "cv": {"splitter": "RepeatedStratifiedKFold",
               "params": {"n_splits": 3, "n_repeats": 2, "random_state": 0}},
        "scoring": {"metrics": ["roc_auc", "accuracy"], "refit": "accuracy",
                    "train_score": True},
    })
    X, y = load_breast_cancer(return_X_y=True)
    search = GridSearchCV(
        DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]},
        scoring=["roc_auc", "accuracy"], refit="accuracy", return_train_score=True,
        cv=RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)).fit(X, y)
    results = search.cv_results_
    for metric in ("roc_auc", "accuracy"):
        assert_metric(trials, results, metric, metric, 6, train=True)
    # the refit metric ranks: mean_test_score is accuracy's, and the best is GridSearchCV's
    assert [t.refit for t in trials] == ["accuracy"] * 3
    assert max(trials, key=lambda t: t.mean_test_score).number == search.best_index_
    row = store.get_study(study_id)
    assert row.metrics == ("roc_auc", "accuracy") and row.refit == "accuracy"
    table = store.open_trials(study_id)
    np.testing.assert_allclose(table.test, results["mean_test_accuracy"], atol=1e-12)
    np.testing.assert_allclose(table.metric_col("roc_auc"), results["mean_test_roc_auc"],
                               atol=1e-12)


def test_group_k_fold_splits_by_a_groups_column_of_a_csv_that_is_never_a_feature(tmp_path):
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    frame["site"] = np.random.default_rng(0).integers(0, 6, len(frame))
    frame["species"] = y
    frame.to_csv(tmp_path / "iris.csv", index=False)
    store, study_id, trials = run({
        "data": {"csv": "iris.csv", "target": "species", "groups": "site"},
        "estimator": {"class": "sklearn.svm.SVC"},
        "space": [{"C": [0.1, 1, 10]}],
        "cv": {"splitter": "GroupKFold", "params": {"n_splits": 3}},
        "scoring": {"metric": "accuracy"},
    }, base_dir=tmp_path)
    features = frame[["sl", "sw", "pl", "pw"]]
    model = Pipeline([("preprocess", make_preprocessor(tuple(features.columns), ())),
                      ("model", SVC())])
    search = GridSearchCV(model, {"model__C": [0.1, 1, 10]}, cv=GroupKFold(3),
                          scoring="accuracy").fit(features, frame["species"],
                                                  groups=frame["site"])
    assert_metric(trials, search.cv_results_, "score", "score", 3)
    assert store.get_study(study_id).n_splits == 3


def test_time_series_split():
    _, _, trials = run({
        "data": {"builtin": "diabetes"},
        "estimator": {"class": "sklearn.linear_model.Ridge"},
        "space": [{"alpha": [0.1, 1.0, 10.0]}],
        "cv": {"splitter": "TimeSeriesSplit", "params": {"n_splits": 4, "gap": 5}},
        "scoring": {"metric": "neg_mean_absolute_error"},
    })
    X, y = load_diabetes(return_X_y=True)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]},
                          cv=TimeSeriesSplit(n_splits=4, gap=5),
                          scoring="neg_mean_absolute_error").fit(X, y)
    assert_metric(trials, search.cv_results_, "score", "score", 4)


@pytest.mark.parametrize("entry, data, scorer", [
    ({"metric": "fbeta", "beta": 2}, "breast_cancer", make_scorer(fbeta_score, beta=2)),
    ({"function": "sklearn.metrics.mean_pinball_loss", "alpha": 0.05,
      "greater_is_better": False}, "diabetes",
     make_scorer(mean_pinball_loss, alpha=0.05, greater_is_better=False)),
])
def test_a_scorer_with_an_argument(entry, data, scorer):
    regression = data == "diabetes"
    estimator = ("sklearn.linear_model.Ridge" if regression
                 else "sklearn.tree.DecisionTreeClassifier")
    space = {"alpha": [0.1, 10.0]} if regression else {"max_depth": [2, 4]}
    _, _, trials = run({
        "data": {"builtin": data},
        "estimator": {"class": estimator, "fixed": {} if regression else {"random_state": 0}},
        "space": [space], "cv": {"folds": 3},
        "scoring": {"metrics": [entry]},
    })
    X, y = (load_diabetes if regression else load_breast_cancer)(return_X_y=True)
    model = Ridge() if regression else DecisionTreeClassifier(random_state=0)
    search = GridSearchCV(model, space, cv=3, scoring=scorer).fit(X, y)
    assert trials[0].metrics == ("score",)  # one metric keeps scikit-learn's plain names
    assert_metric(trials, search.cv_results_, "score", "score", 3)


def _lowest_depth_within_one_std(results) -> int:
    """The refit callable of scikit-learn's refit-callable gallery example, on max_depth."""
    best = int(np.argmax(results["mean_test_score"]))
    threshold = results["mean_test_score"][best] - results["std_test_score"][best]
    candidates = np.flatnonzero(results["mean_test_score"] >= threshold)
    return int(candidates[np.asarray(results["param_max_depth"])[candidates].argmin()])


def test_the_simplest_within_one_std_rule_matches_the_refit_callable_example():
    grid = {"criterion": ["gini", "entropy"], "max_depth": [4, 6, 8, 10, 12]}
    _, _, trials = run({
        "data": {"builtin": "digits"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [grid], "cv": {"folds": 5},
        "scoring": {"refit_rule": "simplest", "complexity": "max_depth"},
    })
    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=5,
                          refit=_lowest_depth_within_one_std).fit(X, y)
    spec = StudySpec.from_dict({
        "data": {"builtin": "digits"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"}, "space": [grid],
        "scoring": {"refit_rule": "simplest", "complexity": "max_depth"}})
    chosen = choose_best_trial(trials, spec.scoring)
    assert chosen.number == search.best_index_
    assert chosen.params == search.best_params_
    # the rule gives up some score for a simpler tree here
    assert chosen.mean_test_score < max(t.mean_test_score for t in trials)


def test_nested_cv_equals_cross_val_score_of_grid_search_cv():
    grid = {"C": [0.1, 1, 10], "gamma": [0.01, 0.1]}
    store, study_id, _ = run({
        "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.svm.SVC"},
        "space": [grid],
        "cv": {"splitter": "KFold", "params": {"n_splits": 3, "shuffle": True,
                                               "random_state": 0},
               "outer": {"splitter": "KFold", "params": {"n_splits": 4, "shuffle": True,
                                                         "random_state": 1}}},
        "scoring": {"metric": "accuracy"},
    })
    X, y = load_iris(return_X_y=True)
    inner, outer = KFold(3, shuffle=True, random_state=0), KFold(4, shuffle=True,
                                                                 random_state=1)
    expected = cross_val_score(GridSearchCV(SVC(), grid, cv=inner, scoring="accuracy"), X, y,
                               cv=outer)
    result = load_result(store, study_id)
    np.testing.assert_allclose(result.scores(), expected, rtol=0, atol=1e-12)
    assert result.mean() == pytest.approx(expected.mean()) and result.std() == pytest.approx(
        expected.std())
    for fold, (train, test) in zip(result.folds, outer.split(X, y), strict=True):
        chosen = GridSearchCV(SVC(), grid, cv=inner, scoring="accuracy").fit(X[train], y[train])
        assert fold.params == chosen.best_params_
        assert fold.inner_score == pytest.approx(chosen.best_score_, abs=1e-12)
        assert (fold.n_train, fold.n_test) == (len(train), len(test))
    assert "nested CV" in store.get_study(study_id).stop_reason


def test_the_corrected_t_test_of_a_study_gives_the_stats_gallery_figures(monkeypatch):
    """scikit-learn's plot_grid_search_stats.py, run as a study on its own data."""
    X, y = make_moons(noise=0.352, random_state=1, n_samples=100)
    moons = Dataset("moons", X, y, CLASSIFICATION)
    monkeypatch.setattr(study_module, "load_dataset", lambda spec: moons)
    monkeypatch.setattr(data_module, "load_dataset", lambda spec: moons)
    space = [{"kernel": ["linear"]}, {"kernel": ["poly"], "degree": [2, 3]},
             {"kernel": ["rbf"]}]
    store, study_id, trials = run({
        "data": {"builtin": "iris"},  # replaced by the moons above
        "estimator": {"class": "sklearn.svm.SVC", "fixed": {"random_state": 0}},
        "space": space,
        "cv": {"splitter": "RepeatedStratifiedKFold",
               "params": {"n_splits": 10, "n_repeats": 10, "random_state": 0}},
        "scoring": {"metric": "roc_auc"},
    })
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=10, random_state=0)
    search = GridSearchCV(SVC(random_state=0), space, scoring="roc_auc", cv=cv).fit(X, y)
    assert_metric(trials, search.cv_results_, "score", "score", 100)
    result = compare_study(store, study_id, top=4, rope=0.01)
    assert result.best == 3  # rbf
    number, _, rbf_vs_linear = result.rows[0]
    assert number == 0  # linear, the runner-up
    # what the example prints: t = 0.750, p = 0.227, and the 95 % credible interval
    assert round(rbf_vs_linear.t_statistic, 3) == 0.750
    assert round(rbf_vs_linear.p_value, 3) == 0.227
    assert rbf_vs_linear.interval == pytest.approx((-0.016445, 0.036445), abs=5e-7)
    assert result.test_train_ratio == pytest.approx(10 / 90)
    sections = evaluation_report(store, store.get_study(study_id), trials, compare=4)
    assert "is the best really better? trial 3" in sections[-1].title
    assert [row[0] for row in sections[-1].rows[1:]] == ["0", "2", "1"]

"""hpstudio.tune agrees with scikit-learn's searches, keeps its data safely, and runs
through the same study loop as the app (a stored spec runs again to the same scores)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, loguniform, randint, uniform
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    ParameterSampler,
    RandomizedSearchCV,
    ShuffleSplit,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import hpstudio
from hpstudio.core.data import load_dataset
from hpstudio.core.errors import SpecError
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.records import StudyOrigin
from hpstudio.core.storage import HistoryStore, MemoryHistory
from hpstudio.core.strategies.random import RandomStrategy
from hpstudio.core.tuning import space_from_param_grid

X, Y = load_iris(return_X_y=True)
TIMES = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")


def pipeline() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("reduce_dim", "passthrough"),
                     ("classify", KNeighborsClassifier())])


# Two sub-grids, estimator objects as values, as in scikit-learn's pipeline guide.
TWO_SUB_GRIDS = [
    {"reduce_dim": [PCA(iterated_power=7)], "reduce_dim__n_components": [2, 3],
     "classify__n_neighbors": [3, 9, 15]},
    {"reduce_dim": [SelectKBest()], "reduce_dim__k": [2, 3],
     "classify__n_neighbors": [3, 15]},
]


def same_results(ours: dict, theirs: dict) -> None:
    """Every key of scikit-learn's cv_results_, with its values (times aside)."""
    assert list(ours) == list(theirs)
    for key, expected in theirs.items():
        if key in TIMES:
            continue
        got = ours[key]
        if key == "params":
            assert got == expected
        elif isinstance(expected, np.ma.MaskedArray):
            assert got.mask.tolist() == expected.mask.tolist(), key
            assert [str(v) for v in got.compressed()] == [str(v) for v in
                                                          expected.compressed()], key
        else:
            assert got.dtype == expected.dtype, key
            np.testing.assert_array_equal(got, expected, err_msg=key)


def test_a_pipeline_with_two_sub_grids_equals_grid_search_cv():
    search = GridSearchCV(pipeline(), TWO_SUB_GRIDS, cv=3).fit(X, Y)
    result = hpstudio.tune(pipeline(), TWO_SUB_GRIDS, X, Y, cv=3, db=MemoryHistory(),
                           progress=False)
    same_results(result.cv_results_, search.cv_results_)
    assert result.best_index_ == search.best_index_
    assert result.best_params_ == search.best_params_
    assert result.best_score_ == search.best_score_
    np.testing.assert_array_equal(result.best_estimator_.predict_proba(X),
                                  search.best_estimator_.predict_proba(X))
    # the search space's objects are cloned for each fit, never fitted themselves
    assert not hasattr(TWO_SUB_GRIDS[0]["reduce_dim"][0], "components_")


def test_several_metrics_groups_and_a_splitter_object_as_scikit_learn_does():
    groups = np.arange(len(Y)) % 5
    grid = {"max_depth": [1, 2, None], "min_samples_leaf": [1, 4]}
    kwargs = {"cv": GroupKFold(3), "scoring": ["accuracy", "f1_macro"], "refit": "f1_macro"}
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), grid,
                          return_train_score=True, **kwargs).fit(X, Y, groups=groups)
    result = hpstudio.tune(DecisionTreeClassifier(random_state=0), grid, X, Y, groups=groups,
                           return_train_score=True, db=MemoryHistory(), progress=False,
                           **kwargs)
    same_results(result.cv_results_, search.cv_results_)
    assert (result.best_params_, result.best_score_) == (search.best_params_,
                                                         search.best_score_)
    assert result.multimetric_ and result.refit == "f1_macro"


def test_a_shuffling_splitter_without_a_seed_splits_once_for_every_worker():
    result = hpstudio.tune(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]}, X,
                           Y, cv=ShuffleSplit(3, test_size=0.3), db=MemoryHistory(),
                           progress=False)
    tree = DecisionTreeClassifier(random_state=0, max_depth=3)
    # the splits are fixed once, so the stored trials can be reproduced
    assert result.n_splits_ == 3 and np.isfinite(result.cv_results_["mean_test_score"]).all()
    assert tree.get_params()["max_depth"] == result.best_params_["max_depth"]


DISTRIBUTIONS = {"ccp_alpha": loguniform(1e-4, 1e-1), "min_weight_fraction_leaf":
                 uniform(0.0, 0.2), "max_depth": randint(2, 8), "criterion": ["gini", "entropy"]}


def test_distributions_run_as_many_candidates_from_the_same_distributions():
    estimator = DecisionTreeClassifier(random_state=0)
    search = RandomizedSearchCV(estimator, DISTRIBUTIONS, n_iter=6, cv=3, random_state=0)
    search.fit(X, Y)
    result = hpstudio.tune(estimator, DISTRIBUTIONS, X, Y, cv=3, strategy="random",
                           n_trials=6, random_state=0, db=MemoryHistory(), progress=False)
    again = hpstudio.tune(estimator, DISTRIBUTIONS, X, Y, cv=3, strategy="random",
                          n_trials=6, random_state=0, db=MemoryHistory(), progress=False)
    assert len(result.cv_results_["params"]) == len(search.cv_results_["params"]) == 6
    assert result.cv_results_["params"] == again.cv_results_["params"]  # seeded
    assert set(result.cv_results_) == set(search.cv_results_)
    for params in result.cv_results_["params"]:
        assert 1e-4 <= params["ccp_alpha"] <= 1e-1
        assert 0 <= params["min_weight_fraction_leaf"] <= 0.2
        assert 2 <= params["max_depth"] <= 7 and params["criterion"] in ("gini", "entropy")


def test_the_sampled_candidates_follow_scikit_learns_distributions():
    """Drawn many times without fitting: the same distribution as ParameterSampler's."""
    n = 3000
    ours = RandomStrategy(space_from_param_grid(DISTRIBUTIONS), n_trials=n, seed=1)
    drawn = [ours.candidate(i).params for i in range(n)]
    reference = list(ParameterSampler(DISTRIBUTIONS, n, random_state=1))
    for name in ("ccp_alpha", "min_weight_fraction_leaf", "max_depth"):
        a = np.array([p[name] for p in drawn], dtype=float)
        b = np.array([p[name] for p in reference], dtype=float)
        transform = np.log if name == "ccp_alpha" else (lambda v: v)
        assert ks_2samp(transform(a), transform(b)).pvalue > 1e-3, name
    share = np.mean([p["criterion"] == "gini" for p in drawn])
    assert abs(share - 0.5) < 0.05


def test_a_plain_estimator_is_stored_as_a_spec_and_its_data_beside_the_history(db_path,
                                                                                tmp_path):
    frame = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "w"])
    labels = pd.Series(np.array(["setosa", "versicolor", "virginica"])[Y], name="species")
    grid = {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}
    result = hpstudio.tune(DecisionTreeClassifier(random_state=0), grid, frame, labels,
                           cv=4, scoring="balanced_accuracy", name="tree-frame",
                           db=db_path, progress=False)
    assert result.history == db_path
    with HistoryStore(db_path) as store:
        row = store.get_study(store.resolve("tree-frame"))
        spec = row.study_spec()
        assert row.origin is StudyOrigin.PYTHON and row.runnable
        assert spec.estimator.cls == "sklearn.tree.DecisionTreeClassifier"
        assert spec.estimator.fixed == {"random_state": 0}
        assert spec.scoring.metric == "balanced_accuracy" and spec.cv.folds == 4
        folder = spec.data.stored_path()
        assert folder.parent == db_path.with_name("history.db-data")
        assert sorted(p.name for p in folder.iterdir()) == ["X.parquet", "meta.json",
                                                           "y.parquet"]
        # the app's way: the stored spec runs again on the stored data, to the same scores
        from hpstudio.core.executor import SerialExecutor
        from hpstudio.core.study import StudyRunner

        outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
        again = store.load_trials(outcome.study_id)
        # resuming checks the stored data is the data tuned on (its fingerprint)
        assert load_dataset(spec.data).fingerprint() == row.data_fingerprint
        resumed = StudyRunner(store, executor=SerialExecutor()).run(study_id=row.id)
        assert resumed.status.value == "finished" and resumed.n_complete == 6
    np.testing.assert_array_equal([t.mean_test_score for t in again],
                                  result.cv_results_["mean_test_score"])
    assert [t.params for t in again] == result.cv_results_["params"]
    # tuning again on the same data stores it once
    hpstudio.tune(DecisionTreeClassifier(), {"max_depth": [1, 2]}, frame, labels, cv=2,
                  db=db_path, progress=False)
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def store_trials(db_path, study_id):
    with HistoryStore(db_path) as store:
        return store.load_trials(study_id)


def test_a_pipeline_is_stored_as_a_spec_the_app_runs_again(db_path, capsys):
    """A Pipeline of allowed classes, with estimator objects as values, becomes the spec's
    [estimator] and [[steps]]: run again from the history it gives the same scores."""
    from hpstudio.core.spec import StudySpec
    from hpstudio.core.study import StudyRunner

    result = hpstudio.tune(pipeline(), TWO_SUB_GRIDS, X, Y, cv=3)
    assert "10/10" in capsys.readouterr().err  # tqdm's progress bar, in a terminal
    with HistoryStore(db_path) as store:
        row = store.get_study(result.study_id)
        assert row.spec is not None and row.origin is StudyOrigin.PYTHON
        assert row.spec["estimator"]["name"] == "classify"
        assert [s["name"] for s in row.spec["steps"]] == ["scale", "reduce_dim"]
        assert row.spec["steps"][1]["class"] == "passthrough"
        assert row.spec["space"][0]["reduce_dim"] == [
            {"class": "sklearn.decomposition.PCA", "fixed": {"iterated_power": 7}}]
        again = StudyRunner(store, executor=SerialExecutor()).run(
            StudySpec.from_dict(row.spec, base_dir=row.base_dir).with_name("again"))
        rerun = store.load_trials(again.study_id)
    stored = [t.params for t in store_trials(db_path, result.study_id)]
    assert stored == [t.params for t in rerun]  # objects kept as the spec writes them
    np.testing.assert_array_equal([t.mean_test_score for t in rerun],
                                  result.cv_results_["mean_test_score"])


def test_worker_processes_give_the_same_scores(tmp_path):
    grid = {"max_depth": [1, 2, 3, None]}
    serial = hpstudio.tune(DecisionTreeClassifier(random_state=0), grid, X, Y, cv=3,
                           db=MemoryHistory(), progress=False)
    parallel = hpstudio.tune(DecisionTreeClassifier(random_state=0), grid, X, Y, cv=3,
                             n_jobs=2, db=MemoryHistory(), progress=False)
    for key in ("mean_test_score", "split2_test_score", "rank_test_score"):
        np.testing.assert_array_equal(serial.cv_results_[key], parallel.cv_results_[key])


def test_a_failing_fit_fails_its_candidate_and_the_search_goes_on():
    grid = {"C": [1.0, -1.0]}  # a negative C raises in fit
    with pytest.warns(FitFailedWarning, match="1 of the 2 candidates failed"):
        result = hpstudio.tune(LogisticRegression(max_iter=500), grid, X, Y, cv=3,
                               db=MemoryHistory(), progress=False)
    assert np.isnan(result.cv_results_["mean_test_score"][1])
    assert result.cv_results_["rank_test_score"].tolist() == [1, 2]
    assert result.best_params_ == {"C": 1.0}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"param_grid": {"C": [1.0], "max_iters": [10]}}, "did you mean 'max_iter'"),
    ({"param_grid": {"C": 1.0}}, "expected a list of values"),
    ({"param_grid": {"C": __import__("scipy.stats").stats.norm(1, 2)}},
     "scipy.stats.norm has no bounds"),
    ({"param_grid": {"C": randint(5, 5)}}, "randint"),
    ({"param_grid": []}, "empty"),
    ({"strategy": "grid-search"}, "is not one of grid, random, bayes"),
    ({"scoring": "acuracy"}, "did you mean 'accuracy'"),
    ({"scoring": ["accuracy", "f1_macro"], "refit": "recall"}, "name the one that picks"),
    ({"cv": 1}, "number of folds ≥ 2"),
    ({"n_trials": 0}, "n_trials"),
    ({"estimator": LogisticRegression}, "not the class"),
    ({"y": Y[:10]}, "inconsistent numbers of samples"),
])
def test_mistakes_are_named_before_any_fit(kwargs, message):
    arguments = {"estimator": LogisticRegression(), "param_grid": {"C": [1.0]}, "X": X,
                 "y": Y, "db": MemoryHistory(), "progress": False, **kwargs}
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        hpstudio.tune(**arguments)


def test_bayesian_search_runs_its_trials_in_the_space():
    from skopt.space import Categorical, Real

    space = {"ccp_alpha": Real(1e-4, 1e-1, prior="log-uniform"),
             "criterion": Categorical(["gini", "entropy"])}
    result = hpstudio.tune(DecisionTreeClassifier(random_state=0), space, X, Y, cv=3,
                           strategy="bayes", n_trials=5, random_state=3, db=MemoryHistory(),
                           progress=False)
    assert len(result.trials) == 5
    assert all(1e-4 <= p["ccp_alpha"] <= 1e-1 and p["criterion"] in ("gini", "entropy")
               for p in result.cv_results_["params"])

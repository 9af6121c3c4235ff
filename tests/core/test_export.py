"""Exports agree with scikit-learn: parameters reproduce the stored score, models load safely.

Everything exported is fed back to scikit-learn itself (``set_params`` + ``cross_validate``
on the folds ``check_cv`` gives, ``GridSearchCV``'s ``cv_results_`` columns, skops' list of
untrusted types), so a mismatch between the app and the library shows up here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from scipy.stats import rankdata
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, check_cv, cross_validate
from sklearn.tree import DecisionTreeClassifier

from hpstudio.cli import main
from hpstudio.core import export
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner

TREE = {
    "name": "tree", "data": {"builtin": "iris"},
    "estimator": {"class": "sklearn.tree.DecisionTreeClassifier", "fixed": {"random_state": 0}},
    "space": [{"max_depth": [1, 2, 3, "None"], "criterion": ["gini", "entropy"]}],
    "cv": {"folds": 3}, "scoring": {"train_score": True},
}
RIDGE = {
    "name": "ridge", "data": {"builtin": "diabetes"},
    "estimator": {"class": "sklearn.linear_model.Ridge"},
    "space": [{"alpha": {"low": 1e-3, "high": 10.0, "log": True}}],
    "cv": {"folds": 3, "shuffle": True, "seed": 4},
    "scoring": {"metric": "neg_mean_squared_error"},
    "search": {"strategy": "random", "n_trials": 5, "seed": 1},
}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("export") / "history.db"
    ids = {}
    with HistoryStore(path) as store:
        runner = StudyRunner(store, executor=LocalExecutor(2))
        for raw in (TREE, RIDGE):
            outcome = runner.run(StudySpec.from_dict(raw))
            assert outcome.n_complete > 0
            ids[raw["name"]] = outcome.study_id
    return path, ids


def load(history: tuple[Path, dict[str, int]], name: str):
    path, ids = history
    with HistoryStore(path) as store:
        return store.get_study(ids[name]), store.load_trials(ids[name])


def sklearn_data(name: str):
    return (load_iris if name == "tree" else load_diabetes)(return_X_y=True)


@pytest.mark.parametrize("name", ["tree", "ridge"])
def test_exported_json_reproduces_every_stored_score_in_sklearn(history, tmp_path, name):
    study, trials = load(history, name)
    X, y = sklearn_data(name)
    for trial in trials:
        out = tmp_path / f"trial{trial.number}.json"
        export.write_params_json(out, study, trial)
        document = json.loads(out.read_text(encoding="utf-8"))
        module, _, cls = document["estimator"].rpartition(".")
        estimator = getattr(__import__(module, fromlist=[cls]), cls)(**document["fixed_params"])
        estimator.set_params(**document["params"])
        cv = check_cv(document["cv"]["folds"], y,
                      classifier=isinstance(estimator, DecisionTreeClassifier))
        if document["cv"].get("shuffle"):
            cv.shuffle, cv.random_state = True, document["cv"]["seed"]
        scoring = None if document["metric"] == "score" else document["metric"]
        result = cross_validate(estimator, X, y, cv=cv, scoring=scoring)
        assert float(np.mean(result["test_score"])) == document["score"] == trial.mean_test_score
        assert tuple(result["test_score"]) == trial.split_test_scores


def test_cli_exported_skops_model_loads_with_only_sklearn_types_and_predicts(history, tmp_path):
    path, ids = history
    model = tmp_path / "tree.skops"
    params = tmp_path / "best.json"
    assert main(["export", str(ids["tree"]), "--db", str(path), "-o", str(params),
                 "--model", str(model)]) == 0
    untrusted = sio.get_untrusted_types(file=model)
    assert all(t.split(".", 1)[0] in ("sklearn", "numpy") for t in untrusted), untrusted
    loaded = sio.load(model, trusted=untrusted)
    document = json.loads(params.read_text(encoding="utf-8"))
    X, y = load_iris(return_X_y=True)
    reference = DecisionTreeClassifier(**document["fixed_params"]).set_params(
        **document["params"]).fit(X, y)
    np.testing.assert_array_equal(loaded.predict(X), reference.predict(X))
    sidecar = json.loads((tmp_path / "tree.skops.json").read_text(encoding="utf-8"))
    assert sidecar["params"] == document["params"] and sidecar["model_format"] == "skops"
    assert sidecar["refit_data_fingerprint"] == sidecar["data_fingerprint"]


def test_cli_joblib_model_and_a_chosen_trial(history, tmp_path):
    import joblib

    path, ids = history
    _study, trials = load(history, "ridge")
    chosen = min(trials, key=lambda t: t.mean_test_score)  # deliberately not the best
    model = tmp_path / "ridge.joblib"
    assert main(["export", str(ids["ridge"]), "--db", str(path), "--trial", str(chosen.number),
                 "--model", str(model)]) == 0
    loaded = joblib.load(model)
    X, y = load_diabetes(return_X_y=True)
    assert loaded.alpha == chosen.params["alpha"]
    np.testing.assert_array_equal(loaded.predict(X), Ridge(**chosen.params).fit(X, y).predict(X))
    sidecar = json.loads((tmp_path / "ridge.joblib.json").read_text(encoding="utf-8"))
    assert sidecar["trial"] == chosen.number and sidecar["model_format"] == "joblib"


def test_python_snippet_runs_and_builds_the_estimator_with_those_params(history, tmp_path):
    path, ids = history
    out = tmp_path / "best.py"
    assert main(["export", str(ids["tree"]), "--db", str(path), "-o", str(out)]) == 0
    _study, trials = load(history, "tree")
    best = export.best_trial(trials)
    namespace: dict = {}
    exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
    estimator = namespace["estimator"]
    assert isinstance(estimator, DecisionTreeClassifier)
    assert estimator.get_params() == {**DecisionTreeClassifier().get_params(),
                                      "random_state": 0, **best.params}


def test_trials_csv_has_cv_results_columns_and_sklearn_ranks(history, tmp_path):
    _study, trials = load(history, "tree")
    out = tmp_path / "trials.csv"
    export.write_trials_csv(out, trials)
    frame = pd.read_csv(out)
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0),
                          {"max_depth": [1, 2, 3, None], "criterion": ["gini", "entropy"]},
                          cv=3, return_train_score=True).fit(X, y)
    missing = set(search.cv_results_) - set(frame.columns)
    assert not missing
    scores = frame["mean_test_score"].to_numpy()
    np.testing.assert_array_equal(frame["rank_test_score"],
                                  rankdata(-scores, method="min").astype(int))
    np.testing.assert_array_equal(frame["rank_test_score"], search.cv_results_["rank_test_score"])
    np.testing.assert_allclose(scores, search.cv_results_["mean_test_score"], rtol=0, atol=1e-12)
    assert [json.loads(p) for p in frame["params"]] == [t.params for t in trials]


def test_failed_trials_rank_last_like_sklearn():
    def record(number: int, scores: tuple[float, ...], failed: bool = False) -> TrialRecord:
        return TrialRecord(1, number, {"alpha": number}, TrialState.FAILED if failed
                           else TrialState.COMPLETE, {"score": scores}, None, (0.1,) * 2,
                           (0.01,) * 2,
                           0.0, 1.0, error="boom" if failed else None)

    trials = [record(0, (0.5, 0.7)), record(1, (math.nan, math.nan), failed=True),
              record(2, (0.9, 0.9)), record(3, (0.6, 0.6))]
    frame = export.cv_results_frame(trials)
    assert list(frame["rank_test_score"]) == [2, 4, 1, 2]
    assert list(frame["state"]) == ["complete", "failed", "complete", "complete"]


def test_several_metrics_and_rungs_export_under_scikit_learns_names():
    """Records holding two metrics at two rungs export as scikit-learn names them."""
    from sklearn.datasets import load_iris
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    from hpstudio.core.records import Budget

    X, y = load_iris(return_X_y=True)
    grid = {"max_depth": [1, 2, 3]}
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=3,
                          scoring=["accuracy", "f1_macro"], refit="accuracy",
                          return_train_score=True).fit(X, y)
    results = search.cv_results_
    metrics = ("accuracy", "f1_macro")
    trials = [TrialRecord(
        1, i, dict(params), TrialState.COMPLETE,
        {m: tuple(results[f"split{k}_test_{m}"][i] for k in range(3)) for m in metrics},
        {m: tuple(results[f"split{k}_train_{m}"][i] for k in range(3)) for m in metrics},
        (0.1,) * 3, (0.01,) * 3, 0.0, 1.0, refit="accuracy")
        for i, params in enumerate(results["params"])]
    frame = export.cv_results_frame(trials)
    for key in results:
        if key.startswith(("split", "mean_t", "std_t", "rank_")):
            assert key in frame.columns, key
            np.testing.assert_allclose(frame[key].to_numpy(dtype=float),
                                       np.asarray(results[key], dtype=float), err_msg=key)
    assert "mean_test_score" not in frame.columns  # one name per metric, as scikit-learn

    halving = HalvingGridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=3,
                                  factor=2, random_state=0).fit(X, y)
    hr = halving.cv_results_
    rungs = [TrialRecord(1, i, dict(p), TrialState.COMPLETE,
                         {"score": tuple(hr[f"split{k}_test_score"][i] for k in range(3))},
                         None, (0.1,) * 3, (0.01,) * 3, 0.0, 1.0, rung=int(hr["iter"][i]),
                         budget=Budget("n_samples", int(hr["n_resources"][i])))
             for i, p in enumerate(hr["params"])]
    frame = export.cv_results_frame(rungs)
    assert list(frame["iter"]) == list(hr["iter"])
    assert list(frame["n_resources"]) == list(hr["n_resources"])
    np.testing.assert_allclose(frame["mean_test_score"], hr["mean_test_score"])

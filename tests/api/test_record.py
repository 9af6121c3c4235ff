"""Recording fitted searches and importing saved ones: every score kept, listed by the
command line, exported with scikit-learn's names."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_iris
from sklearn.experimental import enable_halving_search_cv  # noqa: F401 - enables the class
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import hpstudio
from hpstudio.cli import main
from hpstudio.core.recording import read_literal
from hpstudio.core.records import StudyOrigin, TrialState
from hpstudio.core.storage import HistoryStore

X, Y = load_iris(return_X_y=True)


def searches() -> dict[str, object]:
    tree = DecisionTreeClassifier(random_state=0)
    return {
        "grid": GridSearchCV(SVC(), [{"C": [0.1, 1, 10], "kernel": ["linear"]},
                                     {"C": [1, 10], "gamma": np.logspace(-3, -1, 3)}],
                             cv=3, return_train_score=True),
        "random": RandomizedSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=5, cv=3,
                                     random_state=0, scoring=["accuracy", "f1_macro"],
                                     refit="f1_macro"),
        "halving": HalvingGridSearchCV(tree, {"max_depth": [1, 2, 3, None],
                                              "min_samples_leaf": [1, 5]},
                                       cv=3, factor=2, random_state=0),
    }


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    return {name: search.fit(X, Y) for name, search in searches().items()}


def test_a_recorded_search_reads_as_the_search_did(fitted, db_path):
    for name, search in fitted.items():
        result = hpstudio.record(search, name=name)
        assert result.best_index_ == search.best_index_, name
        assert result.best_params_ == search.best_params_, name
        assert result.best_score_ == search.best_score_, name
        assert result.best_estimator_ is search.best_estimator_
        for key, expected in search.cv_results_.items():
            if key.startswith(("split", "mean_test", "std_test", "rank_test", "iter",
                               "n_resources")):
                np.testing.assert_array_equal(result.cv_results_[key], expected,
                                              err_msg=f"{name} {key}")
    with HistoryStore(db_path) as store:
        rows = {s.name: s for s in store.list_studies()}
        assert {s.origin for s in rows.values()} == {StudyOrigin.RECORDED}
        assert not any(s.has_spec for s in rows.values())
        assert rows["halving"].strategy == "halving-grid"
        halving = store.load_trials(store.resolve("halving"))
        assert {t.budget.resource for t in halving} == {"n_samples"}
        top = [t for t in halving if t.rung == max(x.rung for x in halving)]
        assert {t.number for t in top} <= {t.number for t in halving if t.rung == 0}
        random = store.get_study(store.resolve("random"))
        assert random.metrics == ("f1_macro", "accuracy") and random.refit == "f1_macro"
        assert random.description["scoring"] == ["accuracy", "f1_macro"]
        assert store.get_study(store.resolve("grid")).description["log_params"] == ["C", "gamma"]


def test_recorded_searches_show_in_studies_and_export_the_same_scores(fitted, db_path,
                                                                     tmp_path, capsys):
    for name, search in fitted.items():
        hpstudio.record(search, name=name, X=X, y=Y)
    assert main(["studies"]) == 0
    listing = capsys.readouterr().out
    for name in fitted:
        assert name in listing
    assert listing.count("(recorded, read-only)") == 3
    for name, search in fitted.items():
        out = tmp_path / f"{name}.csv"
        assert main(["trials", name, "--csv", str(out)]) == 0
        exported = pd.read_csv(out)
        expected = in_candidate_order(search.cv_results_)
        rung = exported["iter"] if "iter" in exported else 0 * exported["number"]
        exported = exported.iloc[np.lexsort((exported["number"], rung))]
        for key in expected:
            if key.startswith(("split", "mean_test", "std_test", "mean_train")):
                np.testing.assert_allclose(exported[key], expected[key], rtol=0, atol=0,
                                           err_msg=f"{name} {key}")
        if name == "halving":
            assert exported["iter"].tolist() == list(expected["iter"])
            assert exported["n_resources"].tolist() == list(expected["n_resources"])


def in_candidate_order(results: dict) -> dict:
    """cv_results_ rows by (rung, candidate): a candidate is numbered by its place at the
    first rung, as the history numbers it (a halving search lists each rung best first)."""
    rungs = np.asarray(results.get("iter", np.zeros(len(results["params"]), dtype=int)))
    keys = [repr(sorted(p.items())) for p in results["params"]]
    first = {}
    for i in np.flatnonzero(rungs == rungs.min()):
        first.setdefault(keys[i], len(first))
    numbers = np.array([first[k] for k in keys])
    order = np.lexsort((numbers, rungs))
    return {k: [v[i] for i in order] if isinstance(v, list) else np.asarray(v)[order]
            for k, v in results.items()}


def test_a_cv_results_csv_imports_with_its_parameters_and_scores(fitted, db_path, tmp_path,
                                                                 capsys):
    search = fitted["random"]
    path = tmp_path / "random-search.csv"
    pd.DataFrame(search.cv_results_).to_csv(path, index=False)
    assert main(["import", str(path), "--refit", "f1_macro"]) == 0
    assert "12 trials" not in capsys.readouterr().out
    with HistoryStore(db_path) as store:
        row = store.get_study(store.resolve("random-search"))
        trials = store.load_trials(row.id)
    assert row.origin is StudyOrigin.IMPORTED and row.refit == "f1_macro"
    assert [t.params for t in trials] == search.cv_results_["params"]
    assert [t.mean_test("accuracy") for t in trials] == \
        search.cv_results_["mean_test_accuracy"].tolist()
    again = tmp_path / "again.csv"
    assert main(["trials", "random-search", "--csv", str(again)]) == 0
    assert main(["import", str(again), "--name", "round-trip"]) == 0  # hpstudio's own CSV
    with HistoryStore(db_path) as store:
        back = store.load_trials(store.resolve("round-trip"))
    assert [t.split_test_scores for t in back] == [t.split_test_scores for t in trials]
    assert main(["import", str(path), "--refit", "recall"]) == 2
    assert "not a metric" in capsys.readouterr().err


def test_parameters_written_by_repr_are_read_without_running_anything():
    text = "{'C': np.float64(0.1), 'k': np.int64(3), 'b': np.True_, 'x': nan, " \
           "'m': PCA(n_components=2), 'n': -4, 't': (1, 'a')}"
    value = read_literal(text)
    assert value["C"] == 0.1 and value["k"] == 3 and value["b"] is True
    assert math.isnan(value["x"]) and value["n"] == -4 and value["t"] == (1, "a")
    assert value["m"] == "PCA(n_components=2)"
    assert read_literal("__import__('os').system('false')") == \
        "__import__('os').system('false')"


def test_an_optuna_study_imports_with_values_states_and_durations(db_path, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="minimise", storage=storage, direction="minimize")

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 1e-3, 10.0, log=True)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        if trial.number == 3:
            raise optuna.TrialPruned()
        if trial.number == 4:
            raise ValueError("diverged")
        return (x - 2) ** 2 + (kind == "b")

    study.optimize(objective, n_trials=8, catch=(ValueError,))
    study.ask()  # one trial still running: left out
    assert main(["import", "optuna", "--storage", storage, "--study", "minimise"]) == 0
    assert "1 trials still running" in capsys.readouterr().out
    with HistoryStore(db_path) as store:
        row = store.get_study(store.resolve("minimise"))
        trials = store.load_trials(row.id)
        listed = store.list_studies()[-1]
    assert row.origin is StudyOrigin.IMPORTED and row.metric == "neg_objective"
    assert row.description["log_params"] == ["x"]
    assert [t.state for t in trials][3:5] == [TrialState.PRUNED, TrialState.FAILED]
    assert "failed in Optuna" in trials[4].error
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    ours = {t.number: t for t in trials}
    for frozen in done:
        assert ours[frozen.number].mean_test_score == -frozen.value  # greater is better
        assert ours[frozen.number].params == frozen.params
        assert ours[frozen.number].split_test_scores == ()  # no folds
        assert ours[frozen.number].mean_fit_time == pytest.approx(
            frozen.duration.total_seconds(), abs=1e-3)
    assert listed.best_score == -min(t.value for t in done)
    assert main(["import", "optuna", "--storage", storage, "--study", "other"]) == 2
    assert "it holds: minimise" in capsys.readouterr().err
    assert main(["import", "optuna", "--storage", storage]) == 2


def test_a_bayes_search_of_scikit_optimize_is_recorded(db_path):
    from skopt import BayesSearchCV
    from skopt.space import Integer, Real

    search = BayesSearchCV(SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform"),
                                   "degree": Integer(1, 3)}, n_iter=4, cv=3,
                           random_state=0).fit(X, Y)
    result = hpstudio.record(search)
    assert result.best_params_ == dict(search.best_params_)
    assert result.best_score_ == search.best_score_
    np.testing.assert_array_equal(result.cv_results_["split1_test_score"],
                                  search.cv_results_["split1_test_score"])
    with HistoryStore(db_path) as store:
        row = store.get_study(result.study_id)
        assert [s.strategy for s in store.list_studies()] == ["bayes"]
    assert row.description["search_class"] == "BayesSearchCV"
    assert row.description["log_params"] == ["C"]

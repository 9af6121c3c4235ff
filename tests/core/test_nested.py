"""Nested CV through the study loop: groups reach the worker processes, a stop during the
outer folds is resumable, and histories from before nested CV read and store it."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.data import make_preprocessor
from hpstudio.core.events import StudyLog
from hpstudio.core.executor import LocalExecutor, SerialExecutor
from hpstudio.core.nested import NestedResult, load_result
from hpstudio.core.records import StudyStatus
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore, MemoryHistory
from hpstudio.core.study import StudyRunner

GRID = {"max_depth": [1, 2, 3]}


def grouped_spec(tmp_path) -> tuple[StudySpec, pd.DataFrame]:
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["site"] = np.random.default_rng(1).integers(0, 9, len(frame))
    frame["species"] = y
    frame.to_csv(tmp_path / "iris.csv", index=False)
    spec = StudySpec.from_dict({
        "name": "grouped", "data": {"csv": "iris.csv", "target": "species", "groups": "site"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [GRID],
        "cv": {"splitter": "GroupKFold", "params": {"n_splits": 3},
               "outer": {"splitter": "GroupKFold", "params": {"n_splits": 3}}},
        "scoring": {"metrics": ["accuracy", "f1_macro"], "refit": "f1_macro"},
    }, base_dir=tmp_path)
    return spec, frame


def test_nested_cv_with_groups_in_worker_processes_matches_a_grid_search_per_outer_fold(
        tmp_path, db_path):
    spec, frame = grouped_spec(tmp_path)
    with HistoryStore(db_path) as store:
        outcome = StudyRunner(store, executor=LocalExecutor(2)).run(spec)
        result = load_result(store, outcome.study_id)
    assert outcome.status is StudyStatus.FINISHED
    X, y, groups = frame[["a", "b", "c", "d"]], frame["species"], frame["site"]
    model = Pipeline([("preprocess", make_preprocessor(tuple(X.columns), ())),
                      ("model", DecisionTreeClassifier(random_state=0))])
    grid = {"model__max_depth": GRID["max_depth"]}
    outer = list(GroupKFold(3).split(X, y, groups))
    assert len(result.folds) == 3 and result.metrics == ("accuracy", "f1_macro")
    for fold, (train, test) in zip(result.folds, outer, strict=True):
        search = GridSearchCV(model, grid, cv=GroupKFold(3), scoring=["accuracy", "f1_macro"],
                              refit="f1_macro").fit(X.iloc[train], y.iloc[train],
                                                    groups=groups.iloc[train])
        assert fold.params == {"max_depth": search.best_params_["model__max_depth"]}
        assert fold.inner_score == pytest.approx(search.best_score_, abs=1e-12)
        for metric in ("accuracy", "f1_macro"):
            scorer = search.scorer_[metric]
            assert fold.test_scores[metric] == pytest.approx(
                scorer(search.best_estimator_, X.iloc[test], y.iloc[test]), abs=1e-12)
    assert result.mean("accuracy") == pytest.approx(np.mean(result.scores("accuracy")))
    assert NestedResult.from_dict(result.to_dict()) == result


def test_a_stop_during_nested_cv_is_resumable_and_the_result_is_kept(tmp_path):
    spec = StudySpec.from_dict({
        "name": "n", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [GRID], "cv": {"folds": 3, "outer": {"folds": 3}}})
    store = MemoryHistory()
    runner = StudyRunner(store, executor=SerialExecutor())

    def stop_at_the_first_outer_fold(event) -> None:
        if isinstance(event, StudyLog) and "outer fold 1 of 3" in event.message:
            runner.stop("enough")

    runner.listener = stop_at_the_first_outer_fold
    stopped = runner.run(spec)
    assert stopped.status is StudyStatus.STOPPED and stopped.n_complete == 3
    assert store.load_nested(stopped.study_id) is None
    messages: list[str] = []
    again = StudyRunner(store, executor=SerialExecutor(),
                        listener=lambda e: messages.append(getattr(e, "message", "")))
    resumed = again.run(study_id=stopped.study_id)
    assert resumed.status is StudyStatus.FINISHED and resumed.n_complete == 3
    result = load_result(store, stopped.study_id)
    assert len(result.folds) == 3 and all(f.n_trials == 3 for f in result.folds)
    assert any(m.startswith("nested CV estimate: score") for m in messages)


def test_a_history_made_before_nested_cv_reads_none_and_then_stores_one(db_path):
    with HistoryStore(db_path) as store:
        study = store.create_study({"name": "s", "data": {"builtin": "iris"},
                                    "estimator": {"class": "sklearn.svm.SVC"},
                                    "space": [{"C": [1]}]}, base_dir=None, n_total=1,
                                   data_fingerprint=None, dataset="iris")
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TABLE nested_cv")
    conn.commit()
    conn.close()
    with HistoryStore(db_path) as store:
        assert store.load_nested(study) is None
        store.save_nested(study, {"folds": []})
        assert store.load_nested(study) == {"folds": []}

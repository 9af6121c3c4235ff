"""Every history written by hpstudio 0.1.0 opens in this version, upgraded without loss."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from pathlib import Path

import pytest

from hpstudio.core.data import load_builtin
from hpstudio.core.errors import StoreError
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.records import StudyStatus, TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import SCHEMA_VERSION, HistoryStore, MemoryHistory
from hpstudio.core.storage.schema import backup_path
from hpstudio.core.study import StudyRunner
from tests.core.history_0_1_0 import History010, read_version_as_0_1_0

TREE = "sklearn.tree.DecisionTreeClassifier"
GRID = {"name": "grid", "data": {"builtin": "iris"},
        "estimator": {"class": TREE, "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3, "None"], "criterion": ["gini", "entropy"]}],
        "cv": {"folds": 3}, "scoring": {"metric": "accuracy", "train_score": True},
        "search": {"strategy": "grid"}}
BAYES = {"name": "bayes", "data": {"builtin": "iris"}, "estimator": {"class": "sklearn.svm.SVC"},
         "space": [{"C": {"low": 0.01, "high": 100.0, "log": True}}], "cv": {"folds": 3},
         "search": {"strategy": "bayes", "n_trials": 6, "seed": 0, "initial_points": 3}}
RANDOM = {"name": "random", "data": {"builtin": "iris"},
          "estimator": {"class": TREE, "fixed": {"random_state": 0}},
          "space": [{"max_depth": [0, 1, 2]}], "cv": {"folds": 3},
          "search": {"strategy": "random", "n_trials": 3, "seed": 1}}
INTERRUPTED = {**GRID, "name": "interrupted",
               "space": [{"max_depth": [1, 2, 3], "min_samples_leaf": [1, 5]}]}
DEAD_PID = 2**22 + 7


def run_now(spec: dict) -> list[TrialRecord]:
    """The trials today's study loop makes of a spec (in memory, in this process)."""
    history = MemoryHistory()
    outcome = StudyRunner(history, executor=SerialExecutor()).run(StudySpec.from_dict(spec))
    return history.load_trials(outcome.study_id, with_folds=True)


@pytest.fixture(scope="module")
def trials() -> dict[str, list[TrialRecord]]:
    return {spec["name"]: run_now(spec) for spec in (GRID, BAYES, RANDOM, INTERRUPTED)}


def write_0_1_0(path: Path, trials: dict[str, list[TrialRecord]], *,
                with_timeline: bool) -> None:
    history = History010(path, with_timeline=with_timeline)
    iris = load_builtin("iris").fingerprint()
    for spec, status, note in ((GRID, "finished", "the worked example"),
                               (BAYES, "finished", ""), (RANDOM, "stopped", "")):
        study = history.create_study(spec, status=status, fingerprint=iris, elapsed=12.5,
                                     note=note,
                                     stop_reason="stopped by user" if status == "stopped"
                                     else None)
        for trial in trials[spec["name"]]:
            history.save_trial(study, trial)
    study = history.create_study(INTERRUPTED, status="running", fingerprint=iris, pid=DEAD_PID,
                                 elapsed=3.0)
    for trial in trials["interrupted"][:3]:  # killed after three of its six candidates
        history.save_trial(study, trial)
    history.close()


def raw_0_1_0(path: Path) -> tuple[list[dict], dict[tuple[int, int], dict], dict]:
    """Studies, trials and folds as the 0.1.0 file holds them, decoded by hand."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    studies = [dict(r) for r in conn.execute("SELECT * FROM studies ORDER BY id")]
    trials = {(r["study_id"], r["number"]): dict(r) for r in conn.execute("SELECT * FROM trials")}
    folds: dict[tuple[int, int], list[dict]] = {}
    for r in conn.execute("SELECT * FROM folds ORDER BY study_id, number, fold"):
        folds.setdefault((r["study_id"], r["number"]), []).append(dict(r))
    conn.close()
    return studies, trials, folds


def floats(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    return tuple(math.nan if v is None else float(v) for v in json.loads(text))


def bits(values) -> tuple:
    """Floats as their bit patterns: equal to the last bit, NaN included."""
    return None if values is None else tuple(float(v).hex() for v in values)


@pytest.mark.parametrize("with_timeline", [True, False], ids=["0.1.0", "0.1.0-first"])
def test_a_0_1_0_history_upgrades_and_reads_back_identical(tmp_path, trials, with_timeline):
    path = tmp_path / "history.db"
    write_0_1_0(path, trials, with_timeline=with_timeline)
    with HistoryStore(path) as store:
        assert store.upgraded_from == 1
        studies = store.list_studies()
        rows = [store.get_study(s.id) for s in studies]
        loaded = {s.id: store.load_trials(s.id, with_folds=True) for s in studies}
        tables = {s.id: store.open_trials(s.id) for s in studies}
    backup = backup_path(path, 1)
    assert backup.exists()
    old_studies, old_trials, old_folds = raw_0_1_0(backup)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    assert "folds" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()

    assert [s.name for s in studies] == ["grid", "bayes", "random", "interrupted"]
    for old, row in zip(old_studies, rows, strict=True):
        assert (row.id, row.name, row.spec, row.stop_reason, row.created, row.finished,
                row.data_fingerprint, row.versions, row.n_total, row.note, row.elapsed) == (
            old["id"], old["name"], json.loads(old["spec"]), old["stop_reason"],
            old["created"], old["finished"], old["data_fingerprint"],
            json.loads(old["versions"]), old["n_total"], old["note"], old["elapsed"])
        assert row.metrics == ("score",) and row.refit == "score" and row.n_splits == 3
    assert [r.status for r in rows] == [StudyStatus.FINISHED, StudyStatus.FINISHED,
                                        StudyStatus.STOPPED, StudyStatus.INTERRUPTED]

    n_trials = sum(len(v) for v in loaded.values())
    assert n_trials == len(old_trials) == 8 + 6 + 3 + 3
    for study_id, records in loaded.items():
        for record in records:
            old = old_trials[(study_id, record.number)]
            assert record.params == json.loads(old["params"])
            assert record.state.value == old["state"] and record.error == old["error"]
            assert bits(record.split_test_scores) == bits(floats(old["split_test_scores"]))
            assert bits(record.split_train_scores) == bits(floats(old["split_train_scores"]))
            assert bits(record.fit_times) == bits(floats(old["fit_times"]))
            assert bits(record.score_times) == bits(floats(old["score_times"]))
            assert (record.started, record.finished, record.subspace) == (
                old["started"], old["finished"], old["subspace"])
            folds = old_folds[(study_id, record.number)]
            assert [(f.fold, f.worker, f.started, f.finished, f.error) for f in record.folds] == [
                (f["fold"], f["worker"], f["started"], f["finished"], f["error"]) for f in folds]
            assert bits(f.test_scores["score"] for f in record.folds) == bits(
                math.nan if f["test_score"] is None else f["test_score"] for f in folds)
        table = tables[study_id]
        assert table.number.tolist() == [r.number for r in records]
        assert table.fold_col("fold_trial").size == sum(len(r.folds) for r in records)
    failed = [t for t in loaded[3] if t.state is TrialState.FAILED]
    assert len(failed) == 1 and failed[0].params == {"max_depth": 0}
    assert "max_depth" in failed[0].error and failed[0].folds[0].error


def test_the_interrupted_0_1_0_study_resumes_to_completion(tmp_path, trials):
    path = tmp_path / "history.db"
    write_0_1_0(path, trials, with_timeline=True)
    with HistoryStore(path) as store:
        study_id = store.resolve("interrupted")
        before = store.load_trials(study_id, with_folds=True)
        assert store.get_study(study_id).status is StudyStatus.INTERRUPTED
        outcome = StudyRunner(store, executor=SerialExecutor()).run(study_id=study_id)
        after = store.load_trials(study_id, with_folds=True)
        row = store.get_study(study_id)
    assert outcome.status is StudyStatus.FINISHED and row.status is StudyStatus.FINISHED
    assert [t.number for t in after] == list(range(6))  # every candidate exactly once
    for old, new in zip(before, after[:3], strict=True):  # earlier trials untouched
        assert new == old and new.folds == old.folds
    # the new trials are today's study loop's trials for the same candidates
    expected = {t.number: t.split_test_scores for t in trials["interrupted"]}
    assert {t.number: t.split_test_scores for t in after} == expected


def test_a_read_only_0_1_0_history_is_read_without_changing_it(tmp_path, trials, monkeypatch):
    path = tmp_path / "history.db"
    write_0_1_0(path, trials, with_timeline=False)
    before = path.read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK
                        else real_access(p, mode))
    with HistoryStore(path) as store:
        assert store.read_only and store.upgraded_from == 1
        assert next(s.name for s in store.list_studies()) == "grid"
        assert len(store.load_trials(1, with_folds=True)) == 8
        assert len(store.open_trials(1).fold_col("fold_trial")) == 24
        with pytest.raises(StoreError, match="read-only"):
            store.rename_study(1, "x")
    assert path.read_bytes() == before and not backup_path(path, 1).exists()


def test_0_1_0_refuses_an_upgraded_history_with_its_clear_message(tmp_path, trials):
    path = tmp_path / "history.db"
    write_0_1_0(path, trials, with_timeline=True)
    assert read_version_as_0_1_0(path) is None
    HistoryStore(path).close()
    message = read_version_as_0_1_0(path)
    assert message is not None and "written by a newer hpstudio (history schema 2" in message


def test_a_failed_upgrade_leaves_the_0_1_0_file_as_it_was(tmp_path, trials, monkeypatch):
    from hpstudio.core.storage import schema

    path = tmp_path / "history.db"
    write_0_1_0(path, trials, with_timeline=True)
    _, old_trials, _ = raw_0_1_0(path)

    def broken(conn):
        conn.execute("DROP TABLE folds")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(schema, "upgrade_from_1", broken)
    with pytest.raises(StoreError, match="disk I/O error"):
        HistoryStore(path)
    _, still, folds = raw_0_1_0(path)
    assert still == old_trials and folds  # rolled back: schema 1, folds table intact
    monkeypatch.undo()
    with HistoryStore(path) as store:  # the next start upgrades it
        assert store.upgraded_from == 1 and len(store.load_trials(1)) == 8

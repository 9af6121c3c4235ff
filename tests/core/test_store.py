"""The history store's contract: what is saved comes back, and bad files get clear messages."""

from __future__ import annotations

import math
import os
import sqlite3

import pytest

from hpstudio.core.errors import StoreError, StudyNotFound
from hpstudio.core.records import FoldResult, StudyStatus, TrialRecord, TrialState
from hpstudio.core.store import SCHEMA_VERSION, HistoryStore

SPEC = {"name": "s", "data": {"builtin": "iris"}, "estimator": {"class": "sklearn.svm.SVC"},
        "space": [{"C": [1, 10]}], "search": {"strategy": "grid"},
        "scoring": {"metric": "accuracy"}}


def make_trial(study_id: int, number: int, scores=(0.9, 0.8), error=None) -> TrialRecord:
    folds = tuple(FoldResult(number, k, s, None, 0.1, 0.01, 100.0 + k, 101.0 + k, "42", error)
                  for k, s in enumerate(scores))
    return TrialRecord(study_id, number, {"C": number, "kernel": "rbf", "gamma": None},
                       TrialState.FAILED if error else TrialState.COMPLETE, tuple(scores), None,
                       (0.1,) * len(scores), (0.01,) * len(scores), 100.0, 102.0, 0, error, folds)


def new_study(store: HistoryStore) -> int:
    return store.create_study(SPEC, base_dir=None, n_total=2, data_fingerprint="abc",
                              dataset="iris")


def test_trials_round_trip_with_folds(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(make_trial(study, 0))
        store.save_trial(make_trial(study, 1, (math.nan, 0.5), error="ValueError: bad"))
        store.save_trial(make_trial(study, 0, (0.1, 0.1)))  # a repeat is ignored
        trials = store.load_trials(study, with_folds=True)
    assert [t.number for t in trials] == [0, 1]
    assert trials[0] == make_trial(study, 0)
    assert trials[0].folds == make_trial(study, 0).folds
    assert trials[1].state is TrialState.FAILED and trials[1].error == "ValueError: bad"
    assert math.isnan(trials[1].split_test_scores[0])


def test_wal_mode_schema_version_and_summary(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(make_trial(study, 0))
        store.set_status(study, StudyStatus.STOPPED, "time limit of 5 s reached", elapsed=5.5)
        summary = store.list_studies()[0]
        row = store.get_study(study)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    assert summary.n_complete == 1 and summary.best_score == pytest.approx(0.85)
    assert summary.status is StudyStatus.STOPPED
    assert summary.stop_reason == "time limit of 5 s reached"
    assert row.spec == SPEC and row.elapsed == 5.5 and row.versions["scikit-learn"]


def test_a_running_study_whose_process_died_is_interrupted(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        assert store.get_study(study).status is StudyStatus.RUNNING  # our own pid is alive
        store._conn.execute("UPDATE studies SET pid=? WHERE id=?", (2**22 + 7, study))
        store._conn.commit()
        assert store.get_study(study).status is StudyStatus.INTERRUPTED


def test_resolve_by_id_or_newest_name(db_path):
    with HistoryStore(db_path) as store:
        first, second = new_study(store), new_study(store)
        assert store.resolve(str(first)) == first
        assert store.resolve("s") == second
        with pytest.raises(StudyNotFound, match="no study 'nope'"):
            store.resolve("nope")
        store.delete_study(second)
        assert store.resolve("s") == first


def test_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(StoreError, match="is not an hpstudio history"):
        HistoryStore(path)


def test_another_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE x (a)")
    with pytest.raises(StoreError, match="not an hpstudio history"):
        HistoryStore(path)


def test_newer_schema(db_path):
    HistoryStore(db_path).close()
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="newer hpstudio"):
        HistoryStore(db_path)


def test_locked_database(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
    locker = sqlite3.connect(db_path)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        store = HistoryStore(db_path, timeout=0.1)
    except StoreError as exc:
        assert "locked by another program" in str(exc)
    else:
        with pytest.raises(StoreError, match="locked by another program"):
            store.save_trial(make_trial(study, 0))
    finally:
        locker.rollback()


def test_read_only_file_can_be_browsed_but_not_written(db_path, monkeypatch):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(make_trial(study, 0))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK
                        else real_access(p, mode))
    with HistoryStore(db_path) as store:
        assert store.read_only
        assert len(store.load_trials(study)) == 1
        with pytest.raises(StoreError, match="read-only"):
            store.save_trial(make_trial(study, 1))


def test_trial_columns_are_arrays(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        for n in range(3):
            store.save_trial(make_trial(study, n, (0.1 * n, 0.1 * n)))
        columns = store.trial_columns(study)
    assert columns["number"].tolist() == [0, 1, 2]
    assert columns["mean_test_score"].tolist() == pytest.approx([0.0, 0.1, 0.2])


def test_open_trials_gives_columns_and_the_same_records_lazily(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(make_trial(study, 0))
        store.save_trial(make_trial(study, 1, (math.nan, 0.5), error="ValueError: bad"))
        store.save_trial(make_trial(study, 2, (0.5, 0.7)))
        opened = store.open_trials(study)
        loaded = store.load_trials(study)
        folds = opened.fold_columns()
    assert len(opened) == 3 and opened.columns.n_folds == 2
    assert opened.columns.number.tolist() == [0, 1, 2]
    assert opened.columns.state.tolist() == ["complete", "failed", "complete"]
    assert opened.columns.mean_test_score[[0, 2]].tolist() == pytest.approx([0.85, 0.6])
    assert math.isnan(opened.columns.mean_test_score[1])
    assert opened.columns.params[2] == {"C": 2, "kernel": "rbf", "gamma": None}
    assert opened[0] == loaded[0] and opened[2] == loaded[2] and opened[-1] is opened[2]
    assert opened.by_number(1).error == "ValueError: bad" and opened.by_number(7) is None
    assert folds.number.tolist() == [0, 0, 1, 1, 2, 2]
    assert folds.failed.tolist() == [False, False, True, True, False, False]
    assert folds.worker.tolist() == ["42"] * 6


def timeline_trial(study_id: int, number: int, workers: tuple[str | None, ...],
                   failed_fold: int | None = None) -> TrialRecord:
    """A trial whose folds ran on ``workers`` (None: a worker that gave no label)."""
    folds = tuple(
        FoldResult(number, k, None if k == failed_fold else 0.5, None, 0.1, 0.01,
                   200.0 + number + k / 10, 200.05 + number + k / 10, w,
                   "ValueError: bad" if k == failed_fold else None)
        for k, w in enumerate(workers))
    return TrialRecord(study_id, number, {"C": number},
                       TrialState.COMPLETE if failed_fold is None else TrialState.FAILED,
                       tuple(f.test_score for f in folds), None, (0.1,) * len(folds),
                       (0.01,) * len(folds), 200.0 + number, 201.0 + number,
                       error=None if failed_fold is None else "ValueError: bad", folds=folds)


def fold_table(folds) -> list[tuple]:
    return list(zip(folds.number.tolist(), folds.fold.tolist(), folds.worker.tolist(),
                    folds.started.tolist(), folds.finished.tolist(), folds.failed.tolist(),
                    strict=True))


def test_fold_timelines_read_as_the_folds_table_holds_them(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(timeline_trial(study, 0, ("pid-1", "pid-2", "pid-1")))
        store.save_trial(timeline_trial(study, 1, ("pid-2", None, "pid-3"), failed_fold=1))
        store.save_trial(timeline_trial(study, 2, ()))  # a trial stored without folds
        store.save_trial(timeline_trial(study, 3, ("tcp://10.0.0.2:4100",) * 2))
        packed = store.fold_columns(study)
        from_rows = store._fold_rows(study)
        blobs = store._conn.execute("SELECT fold_timeline FROM trials").fetchall()
    assert all(blob is not None for (blob,) in blobs)  # every trial packed its folds
    assert fold_table(packed) == fold_table(from_rows)
    assert fold_table(packed)[:4] == [
        (0, 0, "pid-1", 200.0, 200.05, False), (0, 1, "pid-2", 200.1, 200.15, False),
        (0, 2, "pid-1", 200.2, 200.25, False), (1, 0, "pid-2", 201.0, 201.05, False),
    ]
    assert packed.failed.tolist() == [False, False, False, False, True, False, False, False]
    assert packed.worker.tolist()[4] == ""  # no label
    assert sorted(packed.worker_labels) == ["", "pid-1", "pid-2", "pid-3", "tcp://10.0.0.2:4100"]


def test_a_history_from_before_fold_timelines_is_read_and_upgraded(db_path, monkeypatch):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(timeline_trial(study, 0, ("pid-1", "pid-2")))
        store.save_trial(timeline_trial(study, 1, ("pid-2", "pid-1"), failed_fold=0))
    conn = sqlite3.connect(db_path)  # the schema as the first release wrote it
    conn.execute("ALTER TABLE trials DROP COLUMN fold_timeline")
    conn.execute("DROP TABLE workers")
    conn.commit()
    conn.close()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK
                        else real_access(p, mode))
    with HistoryStore(db_path) as store:  # read-only: left as it is, folds from rows
        assert fold_table(store.fold_columns(study))[1] == (0, 1, "pid-2", 200.1, 200.15,
                                                            False)
    monkeypatch.setattr(os, "access", real_access)
    with HistoryStore(db_path) as store:  # writable: upgraded; old trials keep their rows
        store.save_trial(timeline_trial(study, 2, ("pid-3",)))
        mixed = store.fold_columns(study)
        from_rows = store._fold_rows(study)
        blobs = [b for (b,) in store._conn.execute(
            "SELECT fold_timeline FROM trials ORDER BY number")]
    assert blobs[0] is None and blobs[1] is None and blobs[2] is not None
    assert fold_table(mixed) == fold_table(from_rows)
    assert mixed.number.tolist() == [0, 0, 1, 1, 2]
    assert mixed.worker.tolist() == ["pid-1", "pid-2", "pid-2", "pid-1", "pid-3"]
    assert mixed.failed.tolist() == [False, False, True, False, False]


def test_opened_study_reads_score_texts_per_record_then_whole(db_path, monkeypatch):
    from hpstudio.core import stored_trials

    monkeypatch.setattr(stored_trials, "SINGLE_READS", 2)
    with HistoryStore(db_path) as store:
        study = new_study(store)
        for n in range(5):
            store.save_trial(make_trial(study, n, (0.1 * n, 0.2)))
        loaded = store.load_trials(study)
        reads: list[int | None] = []
        real = store._score_texts
        monkeypatch.setattr(store, "_score_texts",
                            lambda s, number: reads.append(number) or real(s, number))
        opened = store.open_trials(study)
        assert reads == []  # opening reads the columns only
        assert [opened[3], opened[1]] == [loaded[3], loaded[1]]
        assert reads == [3, 1]  # one trial's texts each
        assert list(opened) == loaded
        assert reads == [3, 1, None]  # then the whole column, once

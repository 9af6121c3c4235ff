"""The SQLite history beyond the shared contract: the file, its modes and its clear messages."""

from __future__ import annotations

import math
import os
import sqlite3

import pytest

from hpstudio.core.errors import StoreError
from hpstudio.core.records import FoldResult, StudyStatus, TrialRecord, TrialState
from hpstudio.core.storage import SCHEMA_VERSION, HistoryStore

SPEC = {"name": "s", "data": {"builtin": "iris"}, "estimator": {"class": "sklearn.svm.SVC"},
        "space": [{"C": [1, 10]}], "search": {"strategy": "grid"},
        "scoring": {"metric": "accuracy"}}


def make_trial(study_id: int, number: int, scores=(0.9, 0.8), error=None) -> TrialRecord:
    folds = tuple(FoldResult(number, k, {"score": s}, None, 0.1, 0.01, 100.0 + k, 101.0 + k, "42",
                             error)
                  for k, s in enumerate(scores))
    return TrialRecord(study_id, number, {"C": number, "kernel": "rbf", "gamma": None},
                       TrialState.FAILED if error else TrialState.COMPLETE,
                       {"score": tuple(scores)}, None,
                       (0.1,) * len(scores), (0.01,) * len(scores), 100.0, 102.0, 0, error,
                       folds=folds)


def new_study(store: HistoryStore) -> int:
    return store.create_study(SPEC, base_dir=None, n_total=2, data_fingerprint="abc",
                              dataset="iris")


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
        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE studies SET pid=? WHERE id=?", (2**22 + 7, study))
        assert store.get_study(study).status is StudyStatus.INTERRUPTED


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


def timeline_trial(study_id: int, number: int, workers: tuple[str | None, ...],
                   failed_fold: int | None = None) -> TrialRecord:
    """A trial whose folds ran on ``workers`` (None: a worker that gave no label)."""
    folds = tuple(
        FoldResult(number, k, {"score": math.nan if k == failed_fold else 0.5}, None, 0.1, 0.01,
                   200.0 + number + k / 10, 200.05 + number + k / 10, w,
                   "ValueError: bad" if k == failed_fold else None)
        for k, w in enumerate(workers))
    return TrialRecord(study_id, number, {"C": number},
                       TrialState.COMPLETE if failed_fold is None else TrialState.FAILED,
                       {"score": tuple(f.test_scores["score"] for f in folds)}, None,
                       (0.1,) * len(folds),
                       (0.01,) * len(folds), 200.0 + number, 201.0 + number,
                       error=None if failed_fold is None else "ValueError: bad", folds=folds)


def fold_table(folds) -> list[tuple]:
    return list(zip(folds.number.tolist(), folds.fold.tolist(), folds.worker.tolist(),
                    folds.started.tolist(), folds.finished.tolist(), folds.failed.tolist(),
                    strict=True))




def test_fold_timelines_are_packed_with_worker_labels(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(timeline_trial(study, 0, ("pid-1", "pid-2", "pid-1")))
        store.save_trial(timeline_trial(study, 1, ("pid-2", None, "pid-3"), failed_fold=1))
        store.save_trial(timeline_trial(study, 2, ()))  # a trial stored without folds
        store.save_trial(timeline_trial(study, 3, ("tcp://10.0.0.2:4100",) * 2))
        packed = store.fold_columns(study)
        table = store.open_trials(study)
    assert fold_table(packed)[:4] == [
        (0, 0, "pid-1", 200.0, 200.05, False), (0, 1, "pid-2", 200.1, 200.15, False),
        (0, 2, "pid-1", 200.2, 200.25, False), (1, 0, "pid-2", 201.0, 201.05, False),
    ]
    assert packed.failed.tolist() == [False, False, False, False, True, False, False, False]
    assert packed.worker.tolist()[4] == ""  # no label
    assert sorted(packed.worker_labels) == ["", "pid-1", "pid-2", "pid-3", "tcp://10.0.0.2:4100"]
    # the trial without folds is drawn as one bar of an unknown worker
    rows = table.fold_col("fold_trial").tolist()
    assert rows.count(2) == 1 and "(unknown)" in table.workers


def test_an_opened_study_reads_records_one_by_one_then_whole(db_path, monkeypatch):
    from hpstudio.core import trials as trials_module

    monkeypatch.setattr(trials_module, "SINGLE_READS", 2)
    with HistoryStore(db_path) as store:
        study = new_study(store)
        for n in range(5):
            store.save_trial(make_trial(study, n, (0.1 * n, 0.2)))
        loaded = store.load_trials(study, with_folds=True)
        reads: list = []
        real = store._read_records
        monkeypatch.setattr(store, "_read_records",
                            lambda s, keys: reads.append(keys) or real(s, keys))
        table = store.open_trials(study)
        assert reads == []  # opening reads the columns only
        assert [table.record(3), table.record(1)] == [loaded[3], loaded[1]]
        assert reads == [[(3, 0)], [(1, 0)]]  # one trial each
        assert table.records() == loaded
        assert reads[-1] is None and len(reads) == 3  # then every record, once


def test_a_table_outlives_its_store(db_path):
    with HistoryStore(db_path) as store:
        study = new_study(store)
        store.save_trial(make_trial(study, 0))
        table = store.open_trials(study)
    assert table.record(0).number == 0  # read through a read-only connection of its own
    assert table.fold_col("fold_trial").tolist() == [0, 0]


def test_a_transient_store_holds_no_connection_between_calls(db_path):
    """What keeps the app safe when its process closes another descriptor of the file:
    between calls there is no lock to lose and no WAL mapping to pull away."""
    store = HistoryStore(db_path, transient=True)
    study = new_study(store)
    store.save_trial(make_trial(study, 0))
    open_files = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{fd}")]
    assert not [f for f in open_files if f.startswith(str(db_path))]
    assert len(store.load_trials(study)) == 1
    with pytest.raises(StoreError, match="transient"):
        store.sqlite_utils  # noqa: B018 - the property raises


def test_a_damaged_history_gets_nothing_added_by_a_run(db_path, write_spec, capsys):
    """A damaged page of the trials table: each run is refused with the way to recover,
    instead of leaving one more failed study behind."""
    from hpstudio.cli import main

    spec = write_spec('name = "d"\n[data]\nbuiltin = "iris"\n[estimator]\n'
                      'class = "sklearn.tree.DecisionTreeClassifier"\n[[space]]\n'
                      'max_depth = [1, 2, 3]\n[cv]\nfolds = 3\n')
    assert main(["run", str(spec), "-q", "--jobs", "1"]) == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='trials'").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db_path.read_bytes())
    data[(page - 1) * size + 8:(page - 1) * size + 600] = b"\x7f" * 592
    db_path.write_bytes(bytes(data))
    capsys.readouterr()
    for _ in range(2):
        assert main(["run", str(spec), "-q", "--jobs", "1", "--new"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is damaged" in err[0] and ".recover" in err[0]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 1


def test_a_full_disk_keeps_what_was_committed_and_the_study_resumes(db_path, monkeypatch):
    """The history's disk fills up mid-run (SQLite's page limit stands in for the disk):
    the run stops with a message saying so, every trial committed before is intact, the
    study says the disk was full, and once there is room again it resumes to the end."""
    from hpstudio.core.executor import SerialExecutor
    from hpstudio.core.spec import StudySpec
    from hpstudio.core.study import StudyRunner

    spec = StudySpec.from_dict({
        "name": "full", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": list(range(1, 41))}], "cv": {"folds": 3}})
    real_connect = HistoryStore._raw_connect

    def small_disk(self):
        conn = real_connect(self)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    with HistoryStore(db_path) as store:  # the history exists before the disk fills
        store.list_studies()
    monkeypatch.setattr(HistoryStore, "_raw_connect", small_disk)
    with HistoryStore(db_path) as store, pytest.raises(StoreError, match="is full"):
        StudyRunner(store, executor=SerialExecutor()).run(spec)
    monkeypatch.undo()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with HistoryStore(db_path) as store:
        kept = store.load_trials(1)
        assert 0 < len(kept) < 40 and [t.number for t in kept] == list(range(len(kept)))
        row = store.get_study(1)  # the next start says what happened
        assert row.status is StudyStatus.FAILED and "is full" in row.stop_reason
        assert "resume the study" in row.stop_reason
        outcome = StudyRunner(store, executor=SerialExecutor()).run(study_id=1)
        after = store.load_trials(1)
    assert outcome.status is StudyStatus.FINISHED and len(after) == 40
    assert after[: len(kept)] == kept

"""The local SQLite history: the repository every user has.

Each finished trial is committed in its own transaction the moment it ends (WAL mode),
before anyone is told about it, so a kill or a crash loses at most the trials in flight.

A store either holds one connection for its life (the command line, scripts: fastest) or
is ``transient``: every call opens its own connection and closes it before returning.
The app uses transient stores. SQLite's locks on a database are POSIX advisory locks,
which the operating system drops when the process closes *any* descriptor of the file;
a GUI process opens and closes files it does not own (a file dialog sniffing a file's
type, a preview of a file picked by mistake), and a held connection would silently lose
its locks, letting another process delete the WAL under it. A connection that lives
only for one read or one trial's write leaves no lock to lose between operations.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.errors import StoreError, StudyNotFound
from hpstudio.core.records import (
    SCORE,
    Budget,
    FoldResult,
    StudyOrigin,
    StudyStatus,
    StudySummary,
    TrialRecord,
    TrialState,
)
from hpstudio.core.storage import schema
from hpstudio.core.storage.base import HistoryRepository, NewStudy, StudyBusy, StudyRow
from hpstudio.core.storage.liveness import live_status
from hpstudio.core.trials import FoldColumns, StoredColumns, TrialTable, collector_paused

DB_ENV_VAR = "HPSTUDIO_DB"
_STATES = {state.value: state for state in TrialState}

_RECORD_COLUMNS = (
    "number, rung, resource, n_resources, subspace, params, state, value, test_scores, "
    "train_scores, fit_times, score_times, started, finished, error, fold_errors, "
    "fold_timeline, reused_from"
)


def default_db_path() -> Path:
    """The per-user history file, unless ``HPSTUDIO_DB`` names another."""
    if os.environ.get(DB_ENV_VAR):
        return Path(os.environ[DB_ENV_VAR])
    from platformdirs import user_data_path

    return user_data_path("hpstudio", appauthor=False) / "history.db"


class HistoryStore(HistoryRepository):
    """The SQLite backend of the history repository."""

    def __init__(self, path: str | Path | None = None, *, timeout: float = 5.0,
                 transient: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = False
        self.upgraded_from: int | None = None  # schema version of the file before opening
        self._timeout = timeout
        self._closed = False
        self._worker_ids: dict[str, int] = {}
        self._metrics: dict[int, tuple[str, ...]] = {}
        self._db: Any = None
        conn = self._open()
        if conn.in_transaction:  # pragma: no cover - every path commits
            conn.commit()
        self.transient = transient and self._memory is None
        if self.transient:
            conn.close()
            self._conn: sqlite3.Connection | None = None
        else:
            self._conn = conn

    _memory: sqlite3.Connection | None = None  # an upgraded copy of a read-only old file

    # ----- opening -----------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise StoreError(f"{path} is a folder; give a history file path such as {path}/h.db")
        exists = path.exists()
        if exists and not os.access(path, os.W_OK):
            self.read_only = True
        try:
            if not exists:
                path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._raw_connect()
            version = self._read_version(conn)
            if self.read_only:
                if version is None:
                    raise StoreError(f"{path} is read-only and holds no hpstudio history")
                if version < schema.SCHEMA_VERSION:
                    conn = self._upgraded_copy(conn, version)
                return conn
            conn.execute("PRAGMA journal_mode = WAL")
            if version is None:
                with conn:
                    for ddl in schema.SCHEMA_DDL:
                        conn.execute(ddl)
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                                 (str(schema.SCHEMA_VERSION),))
            elif version < schema.SCHEMA_VERSION:
                self._upgrade(conn, version)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        except OSError as exc:
            raise StoreError(f"cannot open history {path}: {exc.strerror}; "
                             "choose another file with --db") from None
        return conn

    def _raw_connect(self) -> sqlite3.Connection:
        if self.read_only:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=self._timeout)
        else:
            conn = sqlite3.connect(self.path, timeout=self._timeout)
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _upgrade(self, conn: sqlite3.Connection, version: int) -> None:
        """Upgrade the file in place: a backup copy first, then one transaction."""
        schema.backup(conn, self.path, version)
        try:
            conn.execute("BEGIN IMMEDIATE")
            current = self._read_version(conn)  # another process may have upgraded it
            if current is not None and current < schema.SCHEMA_VERSION:
                schema.upgrade_from_1(conn)
                conn.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                             (str(schema.SCHEMA_VERSION),))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.upgraded_from = version

    def _upgraded_copy(self, conn: sqlite3.Connection, version: int) -> sqlite3.Connection:
        """A read-only old history, upgraded in memory so it reads like any other."""
        memory = sqlite3.connect(":memory:")
        conn.backup(memory)
        conn.close()
        with memory:
            schema.upgrade_from_1(memory)
        self._memory = memory
        self.upgraded_from = version
        return memory

    def _read_version(self, conn: sqlite3.Connection) -> int | None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables - {"sqlite_sequence"}:
                raise StoreError(f"{self.path} is an SQLite database but not an hpstudio history "
                                 "(no meta table); choose another file with --db")
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else None
        if version is not None and version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer hpstudio (history schema {version}, this "
                f"version reads up to {schema.SCHEMA_VERSION}); upgrade hpstudio to open it"
            )
        return version

    def _explain(self, exc: sqlite3.DatabaseError) -> StoreError:
        text = str(exc)
        if "malformed" in text:
            return self._damaged(text)
        if "not a database" in text:
            return StoreError(f"{self.path} is not an hpstudio history (not an SQLite database, "
                              "or a damaged one); choose another file with --db")
        if "locked" in text or "busy" in text:
            return StoreError(f"history {self.path} is locked by another program; close it, or "
                              "choose another file with --db")
        if "readonly" in text or "read-only" in text:
            return StoreError(f"history {self.path} is read-only; make it writable, or choose "
                              "another file with --db")
        if "disk is full" in text or "database or disk is full" in text:
            return StoreError(f"the disk holding history {self.path} is full; what was saved "
                              "before is intact: free some space and resume the study")
        return StoreError(f"history {self.path}: {text}")

    def _damaged(self, detail: str) -> StoreError:
        return StoreError(
            f"history {self.path} is damaged ({detail}); nothing more is written to it. "
            f"Recover what it holds with `sqlite3 {self.path} .recover | sqlite3 recovered.db` "
            "and open recovered.db, or choose another file with --db")

    def check_integrity(self) -> None:
        """Refuse a damaged history before a run adds anything to it.

        SQLite's quick check reads every page once (about 0.06 s for 100,000 trials); a
        damaged page met in the middle of a run would otherwise leave a failed study
        behind at each attempt."""
        problems = self._rows("PRAGMA quick_check(3)")
        found = [row[0] for row in problems if row[0] != "ok"]
        if found:
            raise self._damaged("; ".join(line.splitlines()[-1] for line in found))

    # ----- connections ---------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The held connection, or (transient) one for this call only."""
        if self._closed:
            raise StoreError(f"history {self.path} was closed")
        if self._conn is not None:
            yield self._conn
            return
        try:
            conn = self._raw_connect()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading, also after this store was closed (readers handed
        out by ``open_trials`` may outlive it): then the file is opened read-only."""
        if not self._closed:
            with self._connection() as conn:
                yield conn
            return
        if self._memory is not None:
            raise StoreError(f"history {self.path} was closed")
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        try:
            yield conn
        finally:
            conn.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._closed = True

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"history {self.path} is read-only; make it writable, or choose "
                             "another file with --db")

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._check_writable()
        try:
            with self._connection() as conn, conn:
                return conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            with self._reader() as conn:
                conn.row_factory = sqlite3.Row
                try:
                    return conn.execute(sql, params).fetchall()
                finally:
                    conn.row_factory = None
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._reader() as conn:
                return conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    @property
    def sqlite_utils(self) -> Any:
        """The held connection wrapped by sqlite-utils, for ad-hoc inspection and tooling."""
        if self._conn is None:
            raise StoreError("a transient history store holds no connection to inspect")
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self._conn)
        return self._db

    # ----- studies -------------------------------------------------------------------------
    def add_study(self, study: NewStudy) -> int:
        from hpstudio.core.versions import library_versions

        cursor = self._write(
            "INSERT INTO studies (name, spec, base_dir, strategy, estimator, dataset, metric, "
            "status, created, data_fingerprint, versions, n_total, pid, host, origin, metrics, "
            "refit, n_splits, description, owner, heartbeat) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (study.name, json.dumps(study.spec), study.base_dir, study.strategy,
             study.estimator, study.dataset, study.metric, study.status.value, time.time(),
             study.data_fingerprint, json.dumps(library_versions()), study.n_total,
             os.getpid(), socket.gethostname(), study.origin.value,
             json.dumps(list(study.metrics)), study.refit, study.n_splits,
             json.dumps(study.description), study.owner,
             time.time() if study.owner else None),
        )
        return int(cursor.lastrowid or 0)

    def claim_study(self, study_id: int, owner: str, n_total: int | None = None) -> None:
        """One transaction holding the write lock reads the study's liveness and takes it:
        of two processes claiming at once, the second sees the first one's heartbeat."""
        self._check_writable()
        try:
            with self._connection() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute("SELECT name, status, heartbeat, host, pid, owner FROM "
                                       "studies WHERE id=?", (study_id,)).fetchone()
                    if row is None:
                        raise StudyNotFound(f"no study #{study_id} in {self.path}")
                    name, status, beat, host, pid, holder = row
                    alive = live_status(StudyStatus(status), beat, host, pid)
                    if alive is StudyStatus.RUNNING and holder != owner:
                        raise StudyBusy(f"study #{study_id} {name!r} is running in another "
                                        f"process ({host}, pid {pid}); wait for it or stop it "
                                        "first")
                    conn.execute(
                        "UPDATE studies SET status=?, stop_reason=NULL, finished=NULL, pid=?, "
                        "host=?, owner=?, heartbeat=?, n_total=COALESCE(?, n_total) WHERE id=?",
                        (StudyStatus.RUNNING.value, os.getpid(), socket.gethostname(), owner,
                         time.time(), n_total, study_id))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def heartbeat(self, study_id: int, owner: str) -> bool:
        cursor = self._write("UPDATE studies SET heartbeat=? WHERE id=? AND owner=?",
                             (time.time(), study_id, owner))
        return cursor.rowcount == 1

    def set_status(self, study_id: int, status: StudyStatus, reason: str | None = None,
                   elapsed: float | None = None, owner: str | None = None) -> bool:
        finished = None if status is StudyStatus.RUNNING else time.time()
        cursor = self._write(
            "UPDATE studies SET status=?, stop_reason=?, finished=?, elapsed=COALESCE(?, elapsed)"
            " WHERE id=? AND (? IS NULL OR owner IS NULL OR owner=?)",
            (status.value, reason, finished, elapsed, study_id, owner, owner))
        return cursor.rowcount == 1

    def for_thread(self) -> HistoryStore:
        if self._memory is not None:  # an in-memory upgraded copy: read-only anyway
            return self
        return HistoryStore(self.path, timeout=self._timeout, transient=True)

    def set_n_splits(self, study_id: int, n_splits: int) -> None:
        self._write("UPDATE studies SET n_splits=? WHERE id=?", (n_splits, study_id))

    def rename_study(self, study_id: int, name: str) -> None:
        self._write("UPDATE studies SET name=? WHERE id=?", (name, study_id))

    def set_note(self, study_id: int, note: str) -> None:
        self._write("UPDATE studies SET note=? WHERE id=?", (note, study_id))

    def delete_study(self, study_id: int) -> None:
        self._check_writable()
        try:
            with self._connection() as conn, conn:
                conn.execute("DELETE FROM trials WHERE study_id=?", (study_id,))
                conn.execute("DELETE FROM studies WHERE id=?", (study_id,))
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        self._metrics.pop(study_id, None)

    def resolve(self, ref: str | int) -> int:
        text = str(ref).strip()
        if text.isdigit():
            rows = self._rows("SELECT id FROM studies WHERE id=?", (int(text),))
            if rows:
                return int(rows[0][0])
        rows = self._rows("SELECT id FROM studies WHERE name=? ORDER BY id DESC LIMIT 1",
                          (text,))
        if not rows:
            raise StudyNotFound(f"no study {text!r} in {self.path}; `hpstudio studies` lists them")
        return int(rows[0][0])

    def get_study(self, study_id: int) -> StudyRow:
        rows = self._query("SELECT * FROM studies WHERE id=?", (study_id,))
        if not rows:
            raise StudyNotFound(f"no study #{study_id} in {self.path}")
        row = rows[0]
        return StudyRow(
            row["id"], row["name"], json.loads(row["spec"]), self._live_status(row),
            row["stop_reason"], row["created"], row["finished"], row["data_fingerprint"],
            json.loads(row["versions"] or "{}"), row["n_total"], row["note"] or "",
            row["base_dir"], row["elapsed"] or 0.0, StudyOrigin(row["origin"] or "spec"),
            _metrics_of(row["metrics"]), row["refit"] or SCORE, row["n_splits"],
            json.loads(row["description"] or "{}"), row["metric"] or SCORE)

    def list_studies(self) -> list[StudySummary]:
        rows = self._query(
            "SELECT s.*, "
            "(SELECT COUNT(*) FROM trials t WHERE t.study_id=s.id AND t.state='complete') AS n_ok, "
            "(SELECT COUNT(*) FROM trials t WHERE t.study_id=s.id AND t.state='failed') AS n_bad, "
            "(SELECT COUNT(*) FROM trials t WHERE t.study_id=s.id AND t.state='pruned') AS n_cut, "
            "(SELECT MAX(mean_test_score) FROM trials t WHERE t.study_id=s.id "
            " AND t.state='complete') AS best "
            "FROM studies s ORDER BY s.id"
        )
        return [
            StudySummary(r["id"], r["name"], self._live_status(r), r["strategy"] or "",
                         r["estimator"] or "", r["dataset"] or "", r["metric"] or "",
                         r["n_total"], r["n_ok"], r["n_bad"], r["best"], r["created"],
                         r["finished"], r["stop_reason"], r["note"] or "",
                         StudyOrigin(r["origin"] or "spec"), r["n_cut"],
                         r["spec"] not in (None, "null"))
            for r in rows
        ]

    @staticmethod
    def _live_status(row: Any) -> StudyStatus:
        """A study marked running whose process is gone was interrupted: say so."""
        return live_status(StudyStatus(row["status"]), row["heartbeat"], row["host"],
                           row["pid"])

    def _study_metrics(self, study_id: int) -> tuple[str, ...]:
        metrics = self._metrics.get(study_id)
        if metrics is None:
            rows = self._rows("SELECT metrics FROM studies WHERE id=?", (study_id,))
            metrics = _metrics_of(rows[0][0]) if rows else (SCORE,)
            self._metrics[study_id] = metrics
        return metrics

    # ----- trials ----------------------------------------------------------------------------
    def save_trial(self, trial: TrialRecord) -> None:
        """Commit one finished trial and its folds in one transaction; a repeat is ignored."""
        self._check_writable()
        metrics = self._study_metrics(trial.study_id)
        fold_errors = [f.error for f in trial.folds]
        budget = trial.budget
        row = (
            trial.study_id, trial.number, trial.rung,
            None if budget is None else budget.resource,
            None if budget is None else budget.amount, trial.subspace, _dumps(trial.params),
            trial.state.value, trial.value, _num(trial.mean_test_score),
            _num(trial.std_test_score), _num(trial.mean_train_score),
            _num(trial.std_train_score), _num(trial.mean_fit_time),
            _num(trial.mean_score_time), len(trial.split_test_scores),
            schema.pack_scores(trial.test_scores, metrics),
            schema.pack_scores(trial.train_scores, metrics),
            schema.pack_floats(trial.fit_times), schema.pack_floats(trial.score_times),
            trial.started, trial.finished, trial.error,
            json.dumps(fold_errors) if any(e is not None for e in fold_errors) else None,
        )
        new_workers: dict[str, int] = {}
        try:
            with self._connection() as conn, conn:
                timeline = self._timeline_blob(conn, trial.folds, new_workers)
                conn.execute(schema.TRIAL_INSERT, (*row, timeline, trial.reused_from))
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        self._worker_ids.update(new_workers)  # committed: safe to remember

    def _timeline_blob(self, conn: sqlite3.Connection, folds: Sequence[FoldResult],
                       new_workers: dict[str, int]) -> bytes | None:
        """A trial's folds packed as FOLD_TIMELINE records (worker labels as ids)."""
        if not folds:
            return None
        packed = []
        for f in folds:
            label = f.worker or ""
            wid = self._worker_ids.get(label) or new_workers.get(label)
            if wid is None:
                conn.execute("INSERT OR IGNORE INTO workers (label) VALUES (?)", (label,))
                wid = conn.execute("SELECT id FROM workers WHERE label=?", (label,)).fetchone()[0]
                new_workers[label] = wid
            packed.append((f.fold, wid, f.started, f.finished, f.error is not None))
        return np.array(packed, dtype=schema.FOLD_TIMELINE).tobytes()

    def load_trials(self, study_id: int, *, with_folds: bool = False) -> list[TrialRecord]:
        rows = self._rows(f"SELECT {_RECORD_COLUMNS} FROM trials WHERE study_id=? "
                          "ORDER BY number, rung", (study_id,))
        if not rows:
            return []
        study = self._study_header(study_id)
        labels = self._worker_labels() if with_folds else {}
        return _records(study_id, rows, study, labels, with_folds)

    def trial_marks(self, study_id: int) -> list[tuple[int, int, int]]:
        rows = self._rows("SELECT id, number, rung FROM trials WHERE study_id=? ORDER BY id",
                          (study_id,))
        return [(int(i), int(n), int(r)) for i, n, r in rows]

    def trials_after(self, study_id: int, mark: int) -> tuple[list[TrialRecord], int]:
        """Row ids only grow (a new row's id is past every stored one), so the rows past
        the last one read are exactly the trials saved since."""
        rows = self._rows(f"SELECT id, {_RECORD_COLUMNS} FROM trials WHERE study_id=? "
                          "AND id>? ORDER BY id", (study_id, mark))
        if not rows:
            return [], mark
        records = _records(study_id, [row[1:] for row in rows], self._study_header(study_id),
                           self._worker_labels(), True)
        return records, int(rows[-1][0])

    def _study_header(self, study_id: int) -> tuple[tuple[str, ...], str]:
        rows = self._rows("SELECT metrics, refit FROM studies WHERE id=?", (study_id,))
        if not rows:
            return (SCORE,), SCORE
        return _metrics_of(rows[0][0]), rows[0][1] or SCORE

    def _worker_labels(self) -> dict[int, str]:
        return dict(self._rows("SELECT id, label FROM workers"))

    def _read_records(self, study_id: int,
                      keys: Sequence[tuple[int, int]] | None) -> list[TrialRecord]:
        """Records for a TrialTable: those of ``keys``, or every one in table order."""
        study = self._study_header(study_id)
        labels = self._worker_labels()
        sql = f"SELECT {_RECORD_COLUMNS} FROM trials WHERE study_id=?"
        if keys is None:
            rows = self._rows(f"{sql} ORDER BY number, rung", (study_id,))
        else:
            rows = []
            for number, rung in keys:
                rows += self._rows(f"{sql} AND number=? AND rung=?", (study_id, number, rung))
        return _records(study_id, rows, study, labels, True)

    def open_trials(self, study_id: int, log_params: Iterable[str] = ()) -> TrialTable:
        """A study's trials for display: whole columns now, each record when first read.

        This is how a 100,000-trial study opens in well under a second: one query, the
        refit metric's aggregates straight from their REAL columns, parameters kept as
        text until a view needs them."""
        with collector_paused():  # 100,000 rows of tuples and lists, no cycles to collect
            rows = self._rows(
                "SELECT number, rung, state, mean_test_score, std_test_score, "
                "mean_train_score, mean_fit_time, mean_score_time, started, finished, "
                "subspace, n_resources, n_splits, error, params, reused_from FROM trials "
                "WHERE study_id=? ORDER BY number, rung", (study_id,))
            metrics, refit = self._study_header(study_id)
            cols = _transpose(rows, 16)
            columns = StoredColumns(
                number=np.asarray(cols[0], dtype=np.int64),
                rung=np.asarray(cols[1], dtype=np.int64),
                state=np.asarray(cols[2], dtype=object), mean_test_score=_float_array(cols[3]),
                std_test_score=_float_array(cols[4]), mean_train_score=_float_array(cols[5]),
                mean_fit_time=_float_array(cols[6]), mean_score_time=_float_array(cols[7]),
                started=_float_array(cols[8]), finished=_float_array(cols[9]),
                subspace=np.asarray([s or 0 for s in cols[10]], dtype=np.int64),
                n_resources=_float_array(cols[11]), n_splits=np.asarray(cols[12], dtype=np.int64),
                error=list(cols[13]), params_json=list(cols[14]),
                reused_from=np.array([-1 if r is None else r for r in cols[15]], dtype=np.int64),
            )
            return TrialTable.from_stored(
                columns, records=lambda keys: self._read_records(study_id, keys),
                folds=lambda: self.fold_columns(study_id),
                extra_metric=lambda metric: self._metric_columns(study_id, metric),
                log_params=log_params, metrics=metrics, refit=refit)

    def _metric_columns(self, study_id: int,
                        metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean test, std test and mean train of one metric, in (number, rung) order."""
        metrics, _ = self._study_header(study_id)
        rows = self._rows("SELECT test_scores, train_scores FROM trials WHERE study_id=? "
                          "ORDER BY number, rung", (study_id,))
        out = np.full((3, len(rows)), np.nan)
        if metric not in metrics:
            return out[0], out[1], out[2]
        for i, (tests, trains) in enumerate(rows):
            test = np.asarray(schema.unpack_scores(tests, metrics)[metric])
            if test.size:
                out[0, i] = np.average(test)
                out[1, i] = np.sqrt(np.average((test - out[0, i]) ** 2))
            if trains is not None:
                train = np.asarray(schema.unpack_scores(trains, metrics)[metric])
                if train.size:
                    out[2, i] = np.average(train)
        return out[0], out[1], out[2]

    def fold_columns(self, study_id: int) -> FoldColumns:
        """Every fold of a study as arrays, for the timeline, in (number, rung, fold) order."""
        rows = self._rows("SELECT number, rung, fold_timeline FROM trials WHERE study_id=? "
                          "AND fold_timeline IS NOT NULL ORDER BY number, rung", (study_id,))
        labels = self._worker_labels()
        if not rows:
            return FoldColumns.empty()
        numbers, rungs, blobs = _transpose(rows, 3)
        table = np.frombuffer(b"".join(blobs.tolist()), dtype=schema.FOLD_TIMELINE)
        per_trial = np.fromiter(map(len, blobs), np.int64, len(blobs))
        per_trial //= schema.FOLD_TIMELINE.itemsize
        ids = np.unique(table["worker"])
        names = tuple(labels.get(i, "") for i in ids.tolist())
        return FoldColumns(
            np.repeat(np.asarray(numbers, dtype=np.int64), per_trial),
            table["fold"].astype(np.int64), np.searchsorted(ids, table["worker"]), names,
            table["started"].astype(float), table["finished"].astype(float),
            table["failed"].astype(bool), np.repeat(np.asarray(rungs, dtype=np.int64),
                                                    per_trial))

    def count_states(self, study_id: int) -> dict[TrialState, int]:
        rows = self._rows("SELECT state, COUNT(*) FROM trials WHERE study_id=? GROUP BY state",
                          (study_id,))
        return {_STATES[state]: int(n) for state, n in rows}

    def save_nested(self, study_id: int, result: dict[str, Any]) -> None:
        self._check_writable()
        try:
            with self._connection() as conn, conn:
                conn.execute(schema.NESTED_DDL)
                conn.execute("INSERT OR REPLACE INTO nested_cv (study_id, result) VALUES (?, ?)",
                             (study_id, _dumps(result)))
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def load_nested(self, study_id: int) -> dict[str, Any] | None:
        if not self._rows("SELECT 1 FROM sqlite_master WHERE name='nested_cv'"):
            return None  # a history from before nested CV
        rows = self._rows("SELECT result FROM nested_cv WHERE study_id=?", (study_id,))
        return json.loads(rows[0][0]) if rows else None


# ----- decoding -------------------------------------------------------------------------------


def _metrics_of(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else (SCORE,)


def _records(study_id: int, rows: list[tuple[Any, ...]],
             study: tuple[tuple[str, ...], str], labels: dict[int, str],
             with_folds: bool) -> list[TrialRecord]:
    """Trial records from their rows; each packed column is decoded in one numpy call
    when its rows have one shape (the usual case), so 100,000 trials load quickly."""
    (numbers, rungs, resources, amounts, subspaces, params, states, values, tests, trains,
     fits, score_times, starts, ends, errors, fold_errors, timelines,
     reused) = _transpose(rows, 18)
    metrics, refit = study
    params_list = json.loads("[" + ",".join(params.tolist()) + "]")
    test = _score_rows(tests.tolist(), metrics)
    train = _score_rows(trains.tolist(), metrics)
    fit = _float_rows(fits.tolist())
    scored = _float_rows(score_times.tolist())
    out = []
    for i, number in enumerate(numbers.tolist()):
        rung = rungs[i]
        budget = None if resources[i] is None else Budget(resources[i], amounts[i])
        folds: tuple[FoldResult, ...] = ()
        if with_folds and timelines[i] is not None:
            folds = _folds(number, rung, test[i], train[i], fit[i], scored[i], timelines[i],
                           fold_errors[i], labels)
        out.append(TrialRecord(
            study_id, number, params_list[i], _STATES[states[i]], test[i] or {refit: ()},
            train[i], fit[i],
            scored[i], starts[i], ends[i], subspaces[i] or 0, errors[i], refit, rung, budget,
            values[i], folds, reused[i]))
    return out


def _float_rows(blobs: list[bytes | None]) -> list[tuple[float, ...]]:
    """Packed float arrays, one per row, as tuples (None and empty as ())."""
    sizes = {len(b) for b in blobs if b}
    if len(sizes) == 1 and all(blobs):
        flat = np.frombuffer(b"".join(blobs), dtype="<f8")  # type: ignore[arg-type]
        return list(map(tuple, flat.reshape(len(blobs), -1).tolist()))
    return [tuple(schema.unpack_floats(b).tolist()) for b in blobs]


def _score_rows(blobs: list[bytes | None],
                metrics: tuple[str, ...]) -> list[dict[str, tuple[float, ...]] | None]:
    """Per-split scores of each row by metric; None where a row has none (no train)."""
    present = [b for b in blobs if b is not None]
    if not present:
        return [None] * len(blobs)
    splits = iter(_float_rows(present))
    width = len(metrics)
    rows: list[dict[str, tuple[float, ...]] | None] = []
    for blob in blobs:
        if blob is None:
            rows.append(None)
            continue
        flat = next(splits)
        per = len(flat) // width if width else 0
        rows.append({m: flat[j * per:(j + 1) * per] for j, m in enumerate(metrics)})
    return rows


def _folds(number: int, rung: int, test: dict[str, tuple[float, ...]] | None,
           train: dict[str, tuple[float, ...]] | None, fit: tuple[float, ...],
           scored: tuple[float, ...], timeline: bytes, fold_errors: str | None,
           labels: dict[int, str]) -> tuple[FoldResult, ...]:
    errors = json.loads(fold_errors) if fold_errors else []
    packed = np.frombuffer(timeline, dtype=schema.FOLD_TIMELINE)
    test = test or {}
    return tuple(
        FoldResult(number, int(p["fold"]), {m: v[k] for m, v in test.items()},
                   None if train is None else {m: v[k] for m, v in train.items()},
                   fit[k], scored[k], float(p["started"]), float(p["finished"]),
                   labels.get(int(p["worker"]), ""), errors[k] if k < len(errors) else None,
                   rung)
        for k, p in enumerate(packed) if k < len(fit))


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default)


def _json_default(value: Any) -> Any:
    """Parameter values JSON has no form for: estimator objects (a study run from Python)
    as the spec's ``{ class, fixed }``, so that the app can build them again."""
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "get_params") and not isinstance(value, type):
        from hpstudio.core.describe import describe_value

        return describe_value(value)
    return str(value)


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _float_array(values: Sequence[Any]) -> np.ndarray:
    # NULL (a failed trial's score) becomes NaN in the conversion itself
    return np.array(values, dtype=float) if len(values) else np.empty(0)


def _transpose(rows: list[tuple[Any, ...]], width: int) -> list[np.ndarray]:
    """The columns of a fetched result, as object arrays.

    numpy's fromiter into a record type transposes in one C loop; ``zip(*rows)`` takes
    about three times as long on 100,000 rows, which opening a big study would feel."""
    record = np.dtype([(f"c{i}", object) for i in range(width)])
    table = np.fromiter(rows, dtype=record, count=len(rows))
    return [table[f"c{i}"] for i in range(width)]

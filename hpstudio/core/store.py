"""The local SQLite history: studies, trials and fold results.

Each finished trial is committed in its own transaction the moment it ends (WAL mode),
before anyone is told about it, so a kill or a crash loses at most the trials in flight.
A connection belongs to the thread that opened it; the GUI opens one per thread.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.errors import StoreError, StudyNotFound
from hpstudio.core.records import FoldResult, StudyStatus, StudySummary, TrialRecord, TrialState
from hpstudio.core.stored_trials import FoldColumns, StoredTrials, TrialColumns

SCHEMA_VERSION = 1
DB_ENV_VAR = "HPSTUDIO_DB"


def default_db_path() -> Path:
    """The per-user history file, unless ``HPSTUDIO_DB`` names another."""
    if os.environ.get(DB_ENV_VAR):
        return Path(os.environ[DB_ENV_VAR])
    from platformdirs import user_data_path

    return user_data_path("hpstudio", appauthor=False) / "history.db"


@dataclass(frozen=True)
class StudyRow:
    """A stored study with its spec as written, for reopening, resuming and exporting."""

    id: int
    name: str
    spec: dict[str, Any]
    status: StudyStatus
    stop_reason: str | None
    created: float
    finished: float | None
    data_fingerprint: str | None
    versions: dict[str, str]
    n_total: int | None
    note: str
    base_dir: str | None
    elapsed: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, base_dir TEXT,
    strategy TEXT, estimator TEXT, dataset TEXT, metric TEXT,
    status TEXT NOT NULL, stop_reason TEXT, created REAL NOT NULL, finished REAL,
    data_fingerprint TEXT, versions TEXT, n_total INTEGER, note TEXT DEFAULT '',
    pid INTEGER, host TEXT, elapsed REAL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    number INTEGER NOT NULL, subspace INTEGER, params TEXT NOT NULL, state TEXT NOT NULL,
    mean_test_score REAL, std_test_score REAL, mean_train_score REAL, std_train_score REAL,
    mean_fit_time REAL, mean_score_time REAL, split_test_scores TEXT, split_train_scores TEXT,
    fit_times TEXT, score_times TEXT, started REAL, finished REAL, error TEXT,
    fold_timeline BLOB,
    UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS folds (
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    number INTEGER NOT NULL, fold INTEGER NOT NULL, test_score REAL, train_score REAL,
    fit_time REAL, score_time REAL, started REAL, finished REAL, worker TEXT, error TEXT,
    PRIMARY KEY (study_id, number, fold)
);
CREATE TABLE IF NOT EXISTS workers (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE);
"""

# trials.fold_timeline and the workers table came after the first release. They are
# added to an older history when it is opened for writing; an older hpstudio writing to
# a newer history leaves fold_timeline NULL, and those trials' folds are read from the
# folds table instead. So the schema version does not change.
_TIMELINE_DDL = (
    "ALTER TABLE trials ADD COLUMN fold_timeline BLOB",
    "CREATE TABLE IF NOT EXISTS workers (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)",
)

# One trial's folds packed for the timeline: reading 100,000 such blobs is several
# times faster than reading 500,000 rows of the folds table, which stays the record.
FOLD_TIMELINE = np.dtype([("fold", "<i4"), ("worker", "<i4"), ("started", "<f8"),
                          ("finished", "<f8"), ("failed", "u1")])

_TRIAL_INSERT = (
    "study_id, number, subspace, params, state, mean_test_score, std_test_score, "
    "mean_train_score, std_train_score, mean_fit_time, mean_score_time, split_test_scores, "
    "split_train_scores, fit_times, score_times, started, finished, error",
    ",".join("?" * 18),
)

_TRIAL_COLUMNS = (
    "number, subspace, params, state, split_test_scores, split_train_scores, fit_times, "
    "score_times, started, finished, error"
)


class HistoryStore:
    """The repository every front end goes through; no other module writes SQL."""

    def __init__(self, path: str | Path | None = None, *, timeout: float = 5.0) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = False
        self._conn = self._connect(timeout)
        self._db = None
        self._has_timeline = self._ensure_timeline()
        self._worker_ids: dict[str, int] = {}

    # ----- opening -----------------------------------------------------------------------
    def _connect(self, timeout: float) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise StoreError(f"{path} is a folder; give a history file path such as {path}/h.db")
        exists = path.exists()
        if exists and not os.access(path, os.W_OK):
            self.read_only = True
        try:
            if not exists:
                path.parent.mkdir(parents=True, exist_ok=True)
            if self.read_only:
                conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                       timeout=timeout)
            else:
                conn = sqlite3.connect(path, timeout=timeout)
            conn.execute("PRAGMA foreign_keys = ON")
            version = self._read_version(conn)
            if not self.read_only:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                if version is None:
                    with conn:
                        conn.executescript(_SCHEMA)
                        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                                     (str(SCHEMA_VERSION),))
            elif version is None:
                raise StoreError(f"{path} is read-only and holds no hpstudio history")
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        except OSError as exc:
            raise StoreError(f"cannot open history {path}: {exc.strerror}; "
                             "choose another file with --db") from None
        return conn

    def _ensure_timeline(self) -> bool:
        """Whether trials carry their packed fold timeline (added here when missing)."""
        conn = self._conn
        columns = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "fold_timeline" in columns and "workers" in tables:
            return True
        if self.read_only or "trials" not in tables:
            return False
        try:
            with conn:
                if "fold_timeline" not in columns:
                    conn.execute(_TIMELINE_DDL[0])
                conn.execute(_TIMELINE_DDL[1])
        except sqlite3.OperationalError:  # locked by another program: read the folds table
            return False
        return True

    def _read_version(self, conn: sqlite3.Connection) -> int | None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            if tables - {"sqlite_sequence"}:
                raise StoreError(f"{self.path} is an SQLite database but not an hpstudio history "
                                 "(no meta table); choose another file with --db")
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else None
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer hpstudio (history schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}); upgrade hpstudio to open it"
            )
        return version

    def _explain(self, exc: sqlite3.DatabaseError) -> StoreError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            return StoreError(f"{self.path} is not an hpstudio history (not an SQLite database, "
                              "or a damaged one); choose another file with --db")
        if "locked" in text or "busy" in text:
            return StoreError(f"history {self.path} is locked by another program; close it, or "
                              "choose another file with --db")
        if "readonly" in text or "read-only" in text:
            return StoreError(f"history {self.path} is read-only; make it writable, or choose "
                              "another file with --db")
        return StoreError(f"history {self.path}: {text}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self.read_only:
            raise StoreError(f"history {self.path} is read-only; make it writable, or choose "
                             "another file with --db")
        try:
            with self._conn:
                return self._conn.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        try:
            return list(self.sqlite_utils.query(sql, params))
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    @property
    def sqlite_utils(self) -> Any:
        """The same connection wrapped by sqlite-utils, for ad-hoc inspection and tooling."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self._conn)
        return self._db

    # ----- studies -------------------------------------------------------------------------
    def create_study(self, spec: dict[str, Any], *, base_dir: str | None, n_total: int | None,
                     data_fingerprint: str | None, dataset: str) -> int:
        from hpstudio.core.versions import library_versions

        search = spec.get("search", {})
        cursor = self._write(
            "INSERT INTO studies (name, spec, base_dir, strategy, estimator, dataset, metric, "
            "status, created, data_fingerprint, versions, n_total, pid, host) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (spec["name"], json.dumps(spec), base_dir, search.get("strategy", "grid"),
             spec["estimator"]["class"], dataset, spec.get("scoring", {}).get("metric") or "score",
             StudyStatus.RUNNING.value, time.time(), data_fingerprint,
             json.dumps(library_versions()), n_total, os.getpid(), socket.gethostname()),
        )
        return int(cursor.lastrowid or 0)

    def mark_running(self, study_id: int, n_total: int | None) -> None:
        self._write("UPDATE studies SET status=?, stop_reason=NULL, finished=NULL, pid=?, host=?, "
                    "n_total=COALESCE(?, n_total) WHERE id=?",
                    (StudyStatus.RUNNING.value, os.getpid(), socket.gethostname(), n_total,
                     study_id))

    def set_status(self, study_id: int, status: StudyStatus, reason: str | None = None,
                   elapsed: float | None = None) -> None:
        """Record how a run ended; ``elapsed`` is the study's total running time so far."""
        finished = None if status is StudyStatus.RUNNING else time.time()
        self._write("UPDATE studies SET status=?, stop_reason=?, finished=?, "
                    "elapsed=COALESCE(?, elapsed) WHERE id=?",
                    (status.value, reason, finished, elapsed, study_id))

    def rename_study(self, study_id: int, name: str) -> None:
        self._write("UPDATE studies SET name=? WHERE id=?", (name, study_id))

    def set_note(self, study_id: int, note: str) -> None:
        self._write("UPDATE studies SET note=? WHERE id=?", (note, study_id))

    def delete_study(self, study_id: int) -> None:
        if self.read_only:
            self._write("")  # raises the read-only message
        try:
            with self._conn:
                self._conn.execute("DELETE FROM folds WHERE study_id=?", (study_id,))
                self._conn.execute("DELETE FROM trials WHERE study_id=?", (study_id,))
                self._conn.execute("DELETE FROM studies WHERE id=?", (study_id,))
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def resolve(self, ref: str | int) -> int:
        """A study id from an id or a name (the newest study of that name)."""
        text = str(ref).strip()
        if text.isdigit():
            rows = self._query("SELECT id FROM studies WHERE id=?", (int(text),))
            if rows:
                return int(rows[0]["id"])
        rows = self._query("SELECT id FROM studies WHERE name=? ORDER BY id DESC LIMIT 1", (text,))
        if not rows:
            raise StudyNotFound(f"no study {text!r} in {self.path}; `hpstudio studies` lists them")
        return int(rows[0]["id"])

    def get_study(self, study_id: int) -> StudyRow:
        rows = self._query("SELECT * FROM studies WHERE id=?", (study_id,))
        if not rows:
            raise StudyNotFound(f"no study #{study_id} in {self.path}")
        row = rows[0]
        return StudyRow(row["id"], row["name"], json.loads(row["spec"]), self._live_status(row),
                        row["stop_reason"], row["created"], row["finished"],
                        row["data_fingerprint"], json.loads(row["versions"] or "{}"),
                        row["n_total"], row["note"] or "", row["base_dir"],
                        row["elapsed"] or 0.0)

    def list_studies(self) -> list[StudySummary]:
        rows = self._query(
            "SELECT s.*, "
            "(SELECT COUNT(*) FROM trials t WHERE t.study_id=s.id AND t.state='complete') AS n_ok, "
            "(SELECT COUNT(*) FROM trials t WHERE t.study_id=s.id AND t.state='failed') AS n_bad, "
            "(SELECT MAX(mean_test_score) FROM trials t WHERE t.study_id=s.id "
            " AND t.state='complete') AS best "
            "FROM studies s ORDER BY s.id"
        )
        return [
            StudySummary(r["id"], r["name"], self._live_status(r), r["strategy"] or "",
                         r["estimator"] or "", r["dataset"] or "", r["metric"] or "",
                         r["n_total"], r["n_ok"], r["n_bad"], r["best"], r["created"],
                         r["finished"], r["stop_reason"], r["note"] or "")
            for r in rows
        ]

    @staticmethod
    def _live_status(row: dict[str, Any]) -> StudyStatus:
        """A study marked running whose process is gone was interrupted: say so."""
        status = StudyStatus(row["status"])
        if (status is StudyStatus.RUNNING and row.get("host") == socket.gethostname()
                and not _pid_alive(row.get("pid"))):
            return StudyStatus.INTERRUPTED
        return status

    # ----- trials ----------------------------------------------------------------------------
    def save_trial(self, trial: TrialRecord) -> None:
        """Commit one finished trial and its folds in one transaction; a repeat is ignored."""
        if self.read_only:
            self._write("")
        split_train = trial.split_train_scores
        row = (
            trial.study_id, trial.number, trial.subspace, _dumps(trial.params), trial.state.value,
            _num(trial.mean_test_score), _num(trial.std_test_score),
            _num(trial.mean_train_score), _num(trial.std_train_score),
            trial.mean_fit_time, trial.mean_score_time, _dumps(trial.split_test_scores),
            None if split_train is None else _dumps(split_train), _dumps(trial.fit_times),
            _dumps(trial.score_times), trial.started, trial.finished, trial.error,
        )
        folds = [
            (trial.study_id, f.trial_number, f.fold, _num(f.test_score), _num(f.train_score),
             f.fit_time, f.score_time, f.started, f.finished, f.worker, f.error)
            for f in trial.folds
        ]
        new_workers: dict[str, int] = {}
        try:
            with self._conn:
                columns, marks = _TRIAL_INSERT
                if self._has_timeline:
                    row = (*row, self._timeline_blob(trial.folds, new_workers))
                    columns, marks = f"{columns}, fold_timeline", f"{marks},?"
                self._conn.execute(
                    f"INSERT OR IGNORE INTO trials ({columns}) VALUES ({marks})", row)
                self._conn.executemany(
                    "INSERT OR IGNORE INTO folds VALUES (?,?,?,?,?,?,?,?,?,?,?)", folds)
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        self._worker_ids.update(new_workers)  # committed: safe to remember

    def _timeline_blob(self, folds: Sequence[FoldResult], new_workers: dict[str, int]) -> bytes:
        """A trial's folds packed as FOLD_TIMELINE records (worker labels as ids)."""
        packed = []
        for f in folds:
            label = f.worker or ""
            wid = self._worker_ids.get(label)
            if wid is None:
                wid = new_workers.get(label)
            if wid is None:
                self._conn.execute("INSERT OR IGNORE INTO workers (label) VALUES (?)", (label,))
                wid = self._conn.execute("SELECT id FROM workers WHERE label=?",
                                         (label,)).fetchone()[0]
                new_workers[label] = wid
            packed.append((f.fold, wid, f.started, f.finished, f.error is not None))
        return np.array(packed, dtype=FOLD_TIMELINE).tobytes()

    def load_trials(self, study_id: int, *, with_folds: bool = False) -> list[TrialRecord]:
        """Every finished trial, in number order.

        Reopening a 100,000-trial study must take well under a second, so each JSON column
        is decoded with one ``json.loads`` over the whole column rather than once per row.
        """
        try:
            rows = self._conn.execute(
                f"SELECT {_TRIAL_COLUMNS} FROM trials WHERE study_id=? ORDER BY number",
                (study_id,)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        if not rows:
            return []
        (numbers, subspaces, params, states, tests, trains, fits, scores, starts, ends,
         errors) = _transpose(rows, 11)
        params_list = _loads_column(params)
        tests_list = _float_rows(tests)
        trains_list = _float_rows(trains)
        fits_list = _float_rows(fits)
        scores_list = _float_rows(scores)
        folds: dict[int, list[FoldResult]] = {}
        if with_folds:
            for f in self._query("SELECT * FROM folds WHERE study_id=? ORDER BY number, fold",
                                 (study_id,)):
                folds.setdefault(f["number"], []).append(FoldResult(
                    f["number"], f["fold"], _nan(f["test_score"]), f["train_score"],
                    f["fit_time"], f["score_time"], f["started"], f["finished"], f["worker"] or "",
                    f["error"]))
        state_of = {state.value: state for state in TrialState}
        return [
            TrialRecord(study_id, number, params_list[i], state_of[states[i]], tests_list[i],
                        trains_list[i], fits_list[i], scores_list[i], starts[i], ends[i],
                        subspaces[i] or 0, errors[i], tuple(folds.get(number, ())))
            for i, number in enumerate(numbers)
        ]

    def open_trials(self, study_id: int) -> StoredTrials:
        """A study's trials for display: whole columns now, each record when first read.

        This is how a 100,000-trial study opens in well under a second: one query, the
        aggregates straight from their REAL columns, one JSON parse for all the params.
        """
        try:
            rows = self._conn.execute(
                "SELECT number, state, mean_test_score, std_test_score, mean_train_score, "
                "mean_fit_time, mean_score_time, started, finished, subspace, error, params "
                "FROM trials WHERE study_id=? ORDER BY number", (study_id,)).fetchall()
            first = self._conn.execute("SELECT split_test_scores FROM trials WHERE study_id=? "
                                       "LIMIT 1", (study_id,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        cols = _transpose(rows, 12)
        first_split = first[0] if first else None
        columns = TrialColumns(
            number=np.asarray(cols[0], dtype=np.int64), state=np.asarray(cols[1], dtype=object),
            mean_test_score=_float_array(cols[2]), std_test_score=_float_array(cols[3]),
            mean_train_score=_float_array(cols[4]), mean_fit_time=_float_array(cols[5]),
            mean_score_time=_float_array(cols[6]), started=_float_array(cols[7]),
            finished=_float_array(cols[8]),
            subspace=np.asarray([s or 0 for s in cols[9]], dtype=np.int64),
            error=list(cols[10]), params=_loads_column(cols[11]),
            n_folds=len(json.loads(first_split)) if first_split else 0,
        )
        return StoredTrials(study_id, columns, lambda number: self._score_texts(study_id, number),
                            lambda: self.fold_columns(study_id))

    def _score_texts(self, study_id: int, number: int | None) -> list[tuple[Any, ...]]:
        """The JSON score texts of one trial, or of every trial in number order (what
        a record is decoded from; opening a study does not read them)."""
        sql = ("SELECT split_test_scores, split_train_scores, fit_times, score_times "
               "FROM trials WHERE study_id=?")
        if number is None:
            return self._read_after_close(f"{sql} ORDER BY number", (study_id,))
        return self._read_after_close(f"{sql} AND number=?", (study_id, number))

    def _read_after_close(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows for a StoredTrials, which may outlive this store (another history was
        opened meanwhile): then the file is read through a connection of its own."""
        try:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.ProgrammingError:  # this store was closed
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    return conn.execute(sql, params).fetchall()
                finally:
                    conn.close()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def fold_columns(self, study_id: int) -> FoldColumns:
        """Every fold of a study as arrays, for the timeline, in (number, fold) order."""
        try:
            if not self._has_timeline:
                return self._fold_rows(study_id)
            numbers, blobs = _transpose(self._conn.execute(
                "SELECT number, fold_timeline FROM trials WHERE study_id=? ORDER BY number",
                (study_id,)).fetchall(), 2)
            packed = np.not_equal(blobs, None)
            labels = dict(self._conn.execute("SELECT id, label FROM workers").fetchall())
            fast = _unpack_timelines(numbers[packed], blobs[packed].tolist(), labels)
            if packed.all():
                return fast
            # trials written by an older hpstudio: their folds from the folds table
            rest = self._fold_rows(study_id, set(numbers[~packed].tolist()))
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        return _merge_folds(fast, rest)

    def _fold_rows(self, study_id: int, numbers: set[int] | None = None) -> FoldColumns:
        """Folds read row by row from the folds table (all, or those of ``numbers``)."""
        rows = self._conn.execute(
            "SELECT number, fold, worker, started, finished, error IS NOT NULL FROM folds "
            "WHERE study_id=? ORDER BY number, fold", (study_id,)).fetchall()
        cols = _transpose(rows, 6)
        number = np.asarray(cols[0], dtype=np.int64)
        keep = slice(None)
        if numbers is not None:
            keep = np.isin(number, np.fromiter(numbers, np.int64, len(numbers)))
        workers = ["" if w is None else w for w in cols[2][keep].tolist()]
        labels = tuple(dict.fromkeys(workers))
        code_of = {label: i for i, label in enumerate(labels)}
        return FoldColumns(
            number[keep], np.asarray(cols[1][keep], dtype=np.int64),
            np.fromiter(map(code_of.__getitem__, workers), np.int64, len(workers)), labels,
            _float_array(cols[3][keep]), _float_array(cols[4][keep]),
            np.asarray(cols[5][keep], dtype=bool))

    def trial_columns(self, study_id: int) -> dict[str, Any]:
        """Whole columns as arrays: opening a 100,000-trial study must not build row objects."""
        try:
            cursor = self._conn.execute(
                "SELECT number, state, mean_test_score, std_test_score, mean_train_score, "
                "mean_fit_time, started, finished, params FROM trials WHERE study_id=? "
                "ORDER BY number", (study_id,))
            rows = cursor.fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None
        columns = _transpose(rows, 9)
        return {
            "number": np.asarray(columns[0], dtype=np.int64),
            "state": np.asarray(columns[1], dtype=object),
            "mean_test_score": _float_array(columns[2]),
            "std_test_score": _float_array(columns[3]),
            "mean_train_score": _float_array(columns[4]),
            "mean_fit_time": _float_array(columns[5]),
            "started": _float_array(columns[6]),
            "finished": _float_array(columns[7]),
            "params": list(columns[8]),  # JSON text; decoded lazily by whoever shows them
        }

    def count_trials(self, study_id: int) -> tuple[int, int]:
        rows = self._query("SELECT state, COUNT(*) AS n FROM trials WHERE study_id=? "
                           "GROUP BY state", (study_id,))
        counts = {r["state"]: r["n"] for r in rows}
        return counts.get("complete", 0), counts.get("failed", 0)

    def save_trials(self, trials: Iterable[TrialRecord]) -> None:
        for trial in trials:
            self.save_trial(trial)


_BRACKETS = str.maketrans("", "", "[] ")


def _float_rows(texts: Sequence[str | None]) -> list[tuple[float, ...] | None]:
    """Decode a column of JSON number arrays into tuples, NULL rows as None.

    A study's rows all hold one value per fold, so the whole column parses as one flat
    numeric array; JSON's number parser would be several times slower at 100,000 rows.
    """
    present = [t for t in texts if t is not None]
    if not present:
        return [None] * len(texts)
    flat = ",".join(present).translate(_BRACKETS).replace("null", "nan")
    widths = {t.count(",") + 1 for t in present[:: max(1, len(present) // 64)]}
    try:
        values = np.array(flat.split(","), dtype=float)
        if len(widths) != 1 or values.size % len(present):
            raise ValueError("rows of different lengths")
        rows = iter(map(tuple, values.reshape(len(present), -1).tolist()))
    except ValueError:
        rows = iter(tuple(math.nan if v is None else float(v) for v in row)
                    for row in _loads_column(present))
    return [None if t is None else next(rows) for t in texts]


def _loads_column(texts: Sequence[str | None]) -> list[Any]:
    """Decode a column of JSON texts (NULL as None) with a single parser call."""
    return json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _float_array(values: Sequence[Any]) -> np.ndarray:
    # NULL (a failed trial's score) becomes NaN in the conversion itself
    return np.array(values, dtype=float) if len(values) else np.empty(0)


def _unpack_timelines(numbers: np.ndarray, blobs: list[bytes],
                      labels: dict[int, str]) -> FoldColumns:
    """FoldColumns from trials' packed timelines, in the order of ``numbers``."""
    table = np.frombuffer(b"".join(blobs), dtype=FOLD_TIMELINE)
    per_trial = np.fromiter(map(len, blobs), np.int64, len(blobs)) // FOLD_TIMELINE.itemsize
    ids = np.unique(table["worker"])
    names = tuple(labels.get(i, "") for i in ids.tolist())
    return FoldColumns(
        np.repeat(np.asarray(numbers, dtype=np.int64), per_trial),
        table["fold"].astype(np.int64), np.searchsorted(ids, table["worker"]), names,
        table["started"].astype(float), table["finished"].astype(float),
        table["failed"].astype(bool))


def _merge_folds(a: FoldColumns, b: FoldColumns) -> FoldColumns:
    """Two sets of folds as one, in (number, fold) order, with one list of labels."""
    labels = tuple(dict.fromkeys(a.worker_labels + b.worker_labels))
    code_of = {label: i for i, label in enumerate(labels)}
    remap_a = np.array([code_of[x] for x in a.worker_labels], dtype=np.int64)
    remap_b = np.array([code_of[x] for x in b.worker_labels], dtype=np.int64)
    codes = np.concatenate([remap_a[a.worker_code] if len(remap_a) else a.worker_code,
                            remap_b[b.worker_code] if len(remap_b) else b.worker_code])
    number = np.concatenate([a.number, b.number])
    fold = np.concatenate([a.fold, b.fold])
    order = np.lexsort((fold, number))
    return FoldColumns(
        number[order], fold[order], codes[order], labels,
        np.concatenate([a.started, b.started])[order],
        np.concatenate([a.finished, b.finished])[order],
        np.concatenate([a.failed, b.failed])[order])


def _transpose(rows: list[tuple[Any, ...]], width: int) -> list[np.ndarray]:
    """The columns of a fetched result, as object arrays.

    numpy's fromiter into a record type transposes in one C loop; ``zip(*rows)`` takes
    about three times as long on 100,000 rows, which opening a big study would feel."""
    record = np.dtype([(f"c{i}", object) for i in range(width)])
    table = np.fromiter(rows, dtype=record, count=len(rows))
    return [table[f"c{i}"] for i in range(width)]


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is not running a study
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True

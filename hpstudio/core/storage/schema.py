"""The SQLite history's schema, and the upgrade of every older history to it.

Schema 2 stores one row per trial (a candidate at a rung): the refit metric's means as
REAL columns (listing, sorting and the best score are SQL), every metric's per-split
scores and the per-split times as packed float64 arrays (exact to the bit, and a
100,000-trial study decodes in one numpy call), the folds' timeline packed beside them,
and the folds' error texts only where a fold failed. The folds table of schema 1 is
folded into those columns, which makes saving a trial one INSERT.

A history of schema 1 (hpstudio 0.1.0) is upgraded in place when it is opened for
writing: first a consistent backup copy beside it, then one transaction that rebuilds the
trials table from the old trials and folds tables. Any failure rolls the file back to
schema 1 untouched.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA_VERSION = 2

STUDIES_DDL = """
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, base_dir TEXT,
    strategy TEXT, estimator TEXT, dataset TEXT, metric TEXT,
    status TEXT NOT NULL, stop_reason TEXT, created REAL NOT NULL, finished REAL,
    data_fingerprint TEXT, versions TEXT, n_total INTEGER, note TEXT DEFAULT '',
    pid INTEGER, host TEXT, elapsed REAL DEFAULT 0,
    origin TEXT NOT NULL DEFAULT 'spec', metrics TEXT, refit TEXT, n_splits INTEGER,
    description TEXT, owner TEXT, heartbeat REAL
)
"""
# Columns that schema 2 adds to a schema-1 studies table (the others are shared).
_STUDY_COLUMNS_ADDED = (
    "origin TEXT NOT NULL DEFAULT 'spec'", "metrics TEXT", "refit TEXT", "n_splits INTEGER",
    "description TEXT", "owner TEXT", "heartbeat REAL",
)

TRIALS_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    number INTEGER NOT NULL, rung INTEGER NOT NULL DEFAULT 0,
    resource TEXT, n_resources REAL, subspace INTEGER, params TEXT NOT NULL,
    state TEXT NOT NULL, value REAL,
    mean_test_score REAL, std_test_score REAL, mean_train_score REAL, std_train_score REAL,
    mean_fit_time REAL, mean_score_time REAL, n_splits INTEGER NOT NULL DEFAULT 0,
    test_scores BLOB, train_scores BLOB, fit_times BLOB, score_times BLOB,
    started REAL, finished REAL, error TEXT, fold_errors TEXT, fold_timeline BLOB,
    reused_from INTEGER,
    UNIQUE (study_id, number, rung)
)
"""

#: A study's nested CV result as JSON. Histories made before it get the table when they
#: first store one; a history without it simply has no nested results.
NESTED_DDL = ("CREATE TABLE IF NOT EXISTS nested_cv (study_id INTEGER PRIMARY KEY "
              "REFERENCES studies(id) ON DELETE CASCADE, result TEXT NOT NULL)")

SCHEMA_DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    STUDIES_DDL,
    TRIALS_DDL.format(table="trials"),
    "CREATE TABLE IF NOT EXISTS workers (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)",
    NESTED_DDL,
)

#: One fold of a trial's timeline, packed: the worker is an id into the workers table.
FOLD_TIMELINE = np.dtype([("fold", "<i4"), ("worker", "<i4"), ("started", "<f8"),
                          ("finished", "<f8"), ("failed", "u1")])

TRIAL_COLUMNS = (
    "study_id", "number", "rung", "resource", "n_resources", "subspace", "params", "state",
    "value", "mean_test_score", "std_test_score", "mean_train_score", "std_train_score",
    "mean_fit_time", "mean_score_time", "n_splits", "test_scores", "train_scores",
    "fit_times", "score_times", "started", "finished", "error", "fold_errors",
    "fold_timeline", "reused_from",
)
TRIAL_INSERT = (f"INSERT OR IGNORE INTO trials ({', '.join(TRIAL_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(TRIAL_COLUMNS))})")


# ----- packing ----------------------------------------------------------------------------


def pack_floats(values: Any) -> bytes:
    """Floats (any shape) as little-endian float64 bytes, exact to the bit."""
    return np.asarray(values, dtype="<f8").tobytes()


def unpack_floats(blob: bytes | None) -> np.ndarray:
    if not blob:
        return np.empty(0)
    return np.frombuffer(blob, dtype="<f8")


def pack_scores(scores: Mapping[str, Sequence[float]] | None,
                metrics: Sequence[str]) -> bytes | None:
    """A trial's per-split scores as an (n_metrics, n_splits) array in study order."""
    if scores is None:
        return None
    width = max((len(v) for v in scores.values()), default=0)
    rows = [list(scores.get(m, ())) or [math.nan] * width for m in metrics]
    return pack_floats(rows)


def unpack_scores(blob: bytes | None, metrics: Sequence[str]) -> dict[str, tuple[float, ...]]:
    flat = unpack_floats(blob)
    if not metrics:
        return {}
    table = flat.reshape(len(metrics), -1) if flat.size else np.empty((len(metrics), 0))
    return {m: tuple(row.tolist()) for m, row in zip(metrics, table, strict=True)}


# ----- the upgrade from schema 1 --------------------------------------------------------------


def backup_path(path: Path, version: int) -> Path:
    """Where the copy of a history taken before its upgrade from ``version`` lives."""
    return path.with_name(f"{path.name}.schema{version}-backup")


def backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """A consistent copy of the database beside it (WAL content included)."""
    target = backup_path(path, version)
    if target.exists():  # an earlier, interrupted upgrade: keep the first copy
        return target
    partial = target.with_name(target.name + ".partial")
    copy = sqlite3.connect(partial)
    try:
        conn.backup(copy)
    finally:
        copy.close()
    partial.replace(target)
    return target


def upgrade_from_1(conn: sqlite3.Connection) -> None:
    """Rebuild a schema-1 history as schema 2, in the caller's transaction.

    Schema 1 kept each trial's per-split scores and times as JSON arrays and each fold
    as a row of the folds table; the trials of hpstudio releases before the packed
    timeline have no ``fold_timeline``. Everything is carried over: scores and times
    (JSON floats parse back to the same doubles), each fold's worker, start, end and
    error text."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    study_columns = {row[1] for row in conn.execute("PRAGMA table_info(studies)")}
    for column in _STUDY_COLUMNS_ADDED:
        if column.split()[0] not in study_columns:
            conn.execute(f"ALTER TABLE studies ADD COLUMN {column}")
    conn.execute("UPDATE studies SET metrics = ? WHERE metrics IS NULL", (json.dumps(["score"]),))
    conn.execute("UPDATE studies SET refit = 'score' WHERE refit IS NULL")
    conn.execute("CREATE TABLE IF NOT EXISTS workers "
                 "(id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)")
    conn.execute(TRIALS_DDL.format(table="trials_v2"))
    trial_columns = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
    timeline = "fold_timeline" if "fold_timeline" in trial_columns else "NULL"
    folds = _schema1_folds(conn) if "folds" in tables else {}
    worker_ids = dict(conn.execute("SELECT label, id FROM workers").fetchall())
    rows = conn.execute(
        "SELECT study_id, number, subspace, params, state, mean_test_score, std_test_score, "
        "mean_train_score, std_train_score, mean_fit_time, mean_score_time, "
        "split_test_scores, split_train_scores, fit_times, score_times, started, finished, "
        f"error, {timeline} FROM trials ORDER BY study_id, number").fetchall()
    out = []
    for row in rows:
        (study_id, number, subspace, params, state, mean, std, mean_train, std_train,
         mean_fit, mean_score, tests, trains, fits, score_times, started, finished, error,
         packed) = row
        test = _json_floats(tests)
        train = None if trains is None else _json_floats(trains)
        its_folds = folds.get((study_id, number), [])
        if packed is None and its_folds:
            packed = _timeline_of(conn, its_folds, worker_ids)
        fold_errors = [f[5] for f in its_folds]
        out.append((
            study_id, number, 0, None, None, subspace, params, state, None, mean, std,
            mean_train, std_train, mean_fit, mean_score, len(test), pack_floats([test]),
            None if train is None else pack_floats([train]), pack_floats(_json_floats(fits)),
            pack_floats(_json_floats(score_times)), started, finished, error,
            json.dumps(fold_errors) if any(e is not None for e in fold_errors) else None,
            packed, None,
        ))
    conn.executemany(TRIAL_INSERT.replace("INTO trials", "INTO trials_v2"), out)
    conn.execute("DROP TABLE trials")
    if "folds" in tables:
        conn.execute("DROP TABLE folds")
    conn.execute("ALTER TABLE trials_v2 RENAME TO trials")
    # schema 1 split by cv.folds (5 by default); the trials say how many they ran
    conn.execute("UPDATE studies SET n_splits = COALESCE((SELECT MAX(t.n_splits) FROM trials t "
                 "WHERE t.study_id = studies.id AND t.n_splits > 0), "
                 "json_extract(spec, '$.cv.folds'), 5) WHERE n_splits IS NULL")


def _json_floats(text: str | None) -> list[float]:
    values = json.loads(text) if text else []
    return [math.nan if v is None else float(v) for v in values]


def _schema1_folds(conn: sqlite3.Connection) -> dict[tuple[int, int], list[tuple[Any, ...]]]:
    """Schema 1's fold rows by (study, number): (fold, worker, started, finished, failed,
    error), in fold order."""
    folds: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
    for study_id, number, fold, worker, started, finished, error in conn.execute(
            "SELECT study_id, number, fold, worker, started, finished, error FROM folds "
            "ORDER BY study_id, number, fold"):
        folds.setdefault((study_id, number), []).append(
            (fold, worker or "", started, finished, error is not None, error))
    return folds


def _timeline_of(conn: sqlite3.Connection, folds: list[tuple[Any, ...]],
                 worker_ids: dict[str, int]) -> bytes:
    packed = []
    for fold, worker, started, finished, failed, _ in folds:
        wid = worker_ids.get(worker)
        if wid is None:
            wid = int(conn.execute("INSERT INTO workers (label) VALUES (?)",
                                   (worker,)).lastrowid or 0)
            worker_ids[worker] = wid
        packed.append((fold, wid, _nan(started), _nan(finished), failed))
    return np.array(packed, dtype=FOLD_TIMELINE).tobytes()


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)

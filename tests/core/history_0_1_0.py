"""A history file exactly as hpstudio 0.1.0 wrote it (schema 1), for the upgrade tests.

The SQL and the encoding below are those of the 0.1.0 release (``hpstudio/core/store.py``
of that version): per-split scores and times as JSON arrays, one row per fold in the
folds table, and, from the release that added it, each trial's packed fold timeline and
the workers table. Trials are taken from records made by today's study loop and written
the way 0.1.0 wrote them; ``with_timeline=False`` writes the first release's layout.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.records import TrialRecord

SCHEMA_0_1_0 = """
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
    UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS folds (
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    number INTEGER NOT NULL, fold INTEGER NOT NULL, test_score REAL, train_score REAL,
    fit_time REAL, score_time REAL, started REAL, finished REAL, worker TEXT, error TEXT,
    PRIMARY KEY (study_id, number, fold)
);
"""
TIMELINE_0_1_0 = (
    "ALTER TABLE trials ADD COLUMN fold_timeline BLOB",
    "CREATE TABLE IF NOT EXISTS workers (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE)",
)
FOLD_TIMELINE_0_1_0 = np.dtype([("fold", "<i4"), ("worker", "<i4"), ("started", "<f8"),
                                ("finished", "<f8"), ("failed", "u1")])


class History010:
    """Writes studies and trials with 0.1.0's statements."""

    def __init__(self, path: Path, *, with_timeline: bool = True) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.with_timeline = with_timeline
        with self.conn:
            self.conn.executescript(SCHEMA_0_1_0)
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '1')")
            if with_timeline:
                for ddl in TIMELINE_0_1_0:
                    self.conn.execute(ddl)

    def create_study(self, spec: dict[str, Any], *, status: str, fingerprint: str,
                     pid: int | None = None, elapsed: float = 0.0,
                     stop_reason: str | None = None, note: str = "") -> int:
        search = spec.get("search", {})
        cursor = self.conn.execute(
            "INSERT INTO studies (name, spec, base_dir, strategy, estimator, dataset, metric, "
            "status, created, data_fingerprint, versions, n_total, pid, host, elapsed, "
            "stop_reason, note, finished) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (spec["name"], json.dumps(spec), None, search.get("strategy", "grid"),
             spec["estimator"]["class"], "iris",
             spec.get("scoring", {}).get("metric") or "score", status, 1_700_000_000.0,
             fingerprint, json.dumps({"hpstudio": "0.1.0"}), None,
             os.getpid() if pid is None else pid, socket.gethostname(), elapsed, stop_reason,
             note, None if status == "running" else 1_700_000_100.0))
        self.conn.commit()
        return int(cursor.lastrowid or 0)

    def save_trial(self, study_id: int, trial: TrialRecord) -> None:
        """0.1.0's ``save_trial``: one transaction, the trial row and its fold rows."""
        test = trial.split_test_scores
        train = trial.split_train_scores
        row = (
            study_id, trial.number, trial.subspace, _dumps(trial.params), trial.state.value,
            _num(_mean(test)), _num(_std(test)), None if train is None else _num(_mean(train)),
            None if train is None else _num(_std(train)), _mean(trial.fit_times),
            _mean(trial.score_times), _dumps(list(test)),
            None if train is None else _dumps(list(train)), _dumps(list(trial.fit_times)),
            _dumps(list(trial.score_times)), trial.started, trial.finished, trial.error,
        )
        folds = [
            (study_id, f.trial_number, f.fold, _num(f.test_scores["score"]),
             None if f.train_scores is None else _num(f.train_scores["score"]),
             f.fit_time, f.score_time, f.started, f.finished, f.worker, f.error)
            for f in trial.folds
        ]
        columns = ("study_id, number, subspace, params, state, mean_test_score, std_test_score, "
                   "mean_train_score, std_train_score, mean_fit_time, mean_score_time, "
                   "split_test_scores, split_train_scores, fit_times, score_times, started, "
                   "finished, error")
        marks = ",".join("?" * 18)
        with self.conn:
            if self.with_timeline:
                row = (*row, self._timeline(trial))
                columns, marks = f"{columns}, fold_timeline", f"{marks},?"
            self.conn.execute(f"INSERT OR IGNORE INTO trials ({columns}) VALUES ({marks})", row)
            self.conn.executemany(
                "INSERT OR IGNORE INTO folds VALUES (?,?,?,?,?,?,?,?,?,?,?)", folds)

    def _timeline(self, trial: TrialRecord) -> bytes:
        packed = []
        for f in trial.folds:
            self.conn.execute("INSERT OR IGNORE INTO workers (label) VALUES (?)", (f.worker,))
            wid = self.conn.execute("SELECT id FROM workers WHERE label=?",
                                    (f.worker,)).fetchone()[0]
            packed.append((f.fold, wid, f.started, f.finished, f.error is not None))
        return np.array(packed, dtype=FOLD_TIMELINE_0_1_0).tobytes()

    def close(self) -> None:
        self.conn.close()


def read_version_as_0_1_0(path: Path) -> str | None:
    """What 0.1.0 says when it opens a history: its schema check, word for word."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    finally:
        conn.close()
    version = int(row[0]) if row else None
    if version is not None and version > 1:
        return (f"{path} was written by a newer hpstudio (history schema {version}, this "
                f"version reads up to 1); upgrade hpstudio to open it")
    return None


def _dumps(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.item() if isinstance(v, np.generic) else str(v))


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _mean(values: tuple[float, ...]) -> float:
    return float(np.average(np.asarray(values, dtype=float))) if values else math.nan


def _std(values: tuple[float, ...]) -> float:
    if not values:
        return math.nan
    arr = np.asarray(values, dtype=float)
    return float(np.sqrt(np.average((arr - np.average(arr)) ** 2)))

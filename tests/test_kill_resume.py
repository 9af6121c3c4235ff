"""A real `hpstudio run` killed with SIGKILL loses nothing finished and resumes exactly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from hpstudio.cli import main
from hpstudio.core.storage.schema import FOLD_TIMELINE

SPEC = """
name = "killed"
[data]
builtin = "digits"
[estimator]
class = "sklearn.ensemble.RandomForestClassifier"
fixed = { random_state = 0, n_estimators = 15 }
[[space]]
max_depth = [4, 6, 8, 10, 12, 14]
max_features = [0.2, 0.4, 0.6]
[cv]
folds = 3
[search]
strategy = "grid"
"""


def finished_rows(db) -> dict[int, tuple]:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return {row[0]: row[1:] for row in
                conn.execute("SELECT number, params, finished, mean_test_score FROM trials")}
    except sqlite3.OperationalError:  # not created yet
        return {}
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_mid_study_then_resume(tmp_path, capsys):
    db = tmp_path / "h.db"
    spec = tmp_path / "killed.toml"
    spec.write_text(SPEC)
    process = subprocess.Popen(
        [sys.executable, "-m", "hpstudio.cli", "run", str(spec), "--db", str(db), "--jobs", "2",
         "-q"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(finished_rows(db)) < 4:
        assert process.poll() is None, "the study ended before it could be killed"
        assert time.monotonic() < deadline, "no trial was stored in time"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the runner and its workers, with no warning
    process.wait()
    before = finished_rows(db)
    assert 4 <= len(before) < 18

    assert main(["studies", "--db", str(db)]) == 0
    assert "interrupted" in capsys.readouterr().out

    # running the same spec again resumes the interrupted study
    assert main(["run", str(spec), "--db", str(db), "--jobs", "2", "-q"]) == 0
    out = capsys.readouterr()
    assert f"resuming study #1 'killed': {len(before)} trials already done" in out.err
    assert "study #1 'killed': finished" in out.out
    after = finished_rows(db)
    assert sorted(after) == list(range(18))  # every candidate exactly once
    assert len({row[0] for row in after.values()}) == 18
    for number, row in before.items():
        assert after[number] == row  # finished before the kill: not run again
    conn = sqlite3.connect(db)
    # each trial holds its folds: 3 splits and 3 timeline entries, none doubled
    assert conn.execute("SELECT SUM(n_splits), SUM(length(fold_timeline)) FROM trials"
                        ).fetchone() == (18 * 3, 18 * 3 * FOLD_TIMELINE.itemsize)
    assert conn.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 1

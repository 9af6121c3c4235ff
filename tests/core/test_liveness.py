"""A study runs in one process at a time, and an interrupted one can always be resumed."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpstudio.core.records import StudyStatus
from hpstudio.core.storage import HistoryStore, NewStudy, liveness
from hpstudio.core.storage.base import StudyBusy

SPEC = {"name": "s", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2]}]}
DEAD_PID = 2**22 + 7


def running_study(db: Path, *, host: str, pid: int, heartbeat: float | None) -> int:
    """A study marked running by some process, as another machine or version left it."""
    with HistoryStore(db) as store:
        study = store.add_study(NewStudy(name="s", spec=SPEC))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE studies SET host=?, pid=?, heartbeat=?, owner='elsewhere' "
                     "WHERE id=?", (host, pid, heartbeat, study))
    return study


@pytest.mark.parametrize(("host", "pid", "age", "status"), [
    ("other-machine", 12345, 3600.0, StudyStatus.INTERRUPTED),  # history moved, host renamed
    ("other-machine", 12345, 1.0, StudyStatus.RUNNING),  # beating on another machine
    (socket.gethostname(), os.getpid(), 3600.0, StudyStatus.INTERRUPTED),  # a reused pid
    (socket.gethostname(), DEAD_PID, 1.0, StudyStatus.INTERRUPTED),  # killed: no need to wait
    (socket.gethostname(), os.getpid(), 1.0, StudyStatus.RUNNING),
    ("other-machine", 12345, None, StudyStatus.INTERRUPTED),  # no heartbeat: written by 0.1.0
    (socket.gethostname(), os.getpid(), None, StudyStatus.RUNNING),
], ids=["moved-stale", "remote-beating", "reused-pid", "killed-here", "beating-here",
        "remote-0.1.0", "local-0.1.0"])
def test_running_means_a_live_heartbeat(db_path, host, pid, age, status):
    beat = None if age is None else time.time() - age
    study = running_study(db_path, host=host, pid=pid, heartbeat=beat)
    with HistoryStore(db_path) as store:
        assert store.get_study(study).status is status
        assert store.list_studies()[0].status is status
        if status is StudyStatus.INTERRUPTED:
            store.claim_study(study, "me")  # from any machine: it can be resumed
            assert store.get_study(study).status is StudyStatus.RUNNING
        else:
            with pytest.raises(StudyBusy, match="running in another process"):
                store.claim_study(study, "me")


def test_a_running_study_keeps_its_heartbeat_while_it_runs(db_path, monkeypatch):
    """A study loop beats from a thread of its own; another connection sees it running."""
    from hpstudio.core.executor import SerialExecutor
    from hpstudio.core.spec import StudySpec
    from hpstudio.core.study import StudyRunner

    monkeypatch.setattr(liveness, "STALE_AFTER_SECONDS", 0.5)
    monkeypatch.setattr("hpstudio.core.study.HEARTBEAT_SECONDS", 0.05)
    seen: list[StudyStatus] = []
    spec = StudySpec.from_dict({**SPEC, "space": [{"max_depth": list(range(1, 9))}]})

    def listener(event) -> None:
        time.sleep(0.1)  # each trial takes longer than the staleness above, were it silent
        with HistoryStore(db_path) as other:
            seen.append(other.list_studies()[0].status)

    with HistoryStore(db_path) as store:
        StudyRunner(store, executor=SerialExecutor(), listener=listener).run(spec)
    assert StudyStatus.RUNNING in seen and StudyStatus.INTERRUPTED not in seen[:-1]


def test_two_resumes_started_at_once_run_the_study_once(tmp_path, write_spec):
    """Both processes race to claim the interrupted study: one runs it, the other says
    it is running elsewhere."""
    spec = write_spec("""
name = "race"
[data]
builtin = "iris"
[estimator]
class = "sklearn.ensemble.RandomForestClassifier"
fixed = { random_state = 0, n_estimators = 30 }
[[space]]
max_depth = [1, 2, 3, 4, 5, 6]
min_samples_leaf = [1, 2, 4, 8]
[cv]
folds = 3
""")
    db = tmp_path / "race.db"
    env = {**os.environ, "HPSTUDIO_DB": str(db)}
    first = subprocess.run([sys.executable, "-m", "hpstudio.cli", "run", str(spec), "-q",
                            "--jobs", "1"], env=env, capture_output=True, text=True,
                           timeout=240)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(db) as conn:  # as if it had been killed after two trials
        conn.execute("DELETE FROM trials WHERE number >= 2")
        conn.execute("UPDATE studies SET status='running', pid=?, heartbeat=NULL", (DEAD_PID,))
    runs = [subprocess.Popen([sys.executable, "-m", "hpstudio.cli", "resume", "race", "-q",
                              "--jobs", "1"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=240), p.stdout.read(), p.stderr.read()) for p in runs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 2], outcomes
    loser = next(err for code, _, err in outcomes if code == 2)
    assert "is running in another process" in loser and len(loser.strip().splitlines()) == 2
    with sqlite3.connect(db) as conn:
        numbers = [n for (n,) in conn.execute("SELECT number FROM trials ORDER BY number")]
        status = conn.execute("SELECT status FROM studies").fetchone()[0]
    assert numbers == list(range(24)) and status == "finished"

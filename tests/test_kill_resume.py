"""A real `hpstudio run` that is killed or terminated loses nothing finished, leaves no
worker behind, and resumes exactly.

The runs are subprocesses with their output piped, as in `hpstudio run spec.toml | cat`:
the pipe must reach its end soon after the runner is gone, which it cannot while any
worker or helper process still holds it. Every process of a run carries an environment
marker, so the ones still alive are found whoever their parent is now.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from hpstudio.cli import EXIT_TERMINATED, TERMINATED_REASON, main
from hpstudio.core.executor import STOP_GRACE_SECONDS
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
GRID = {(depth, features) for depth, features in
        itertools.product([4, 6, 8, 10, 12, 14], [0.2, 0.4, 0.6])}
N_CANDIDATES = len(GRID)
N_FOLDS = 3

MARKER = "HPSTUDIO_TEST_RUN"  # inherited by the runner's workers and helper processes
GONE_WITHIN = 5.0  # seconds for every process of a dead run to end and its pipes to close


@pytest.fixture
def marker() -> Iterator[str]:
    """A fresh marker for this test's runs; whatever still carries it afterwards is killed."""
    value = uuid.uuid4().hex
    yield value
    for process in marked_processes(value):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "killed.toml"
    path.write_text(SPEC)
    return path


def start_run(spec: Path, db: Path, marker: str, *command: str) -> subprocess.Popen:
    """``hpstudio run SPEC`` (or the command given) with its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "hpstudio.cli", *(command or ("run", str(spec))), "--db", str(db),
         "--jobs", "2", "-q"], start_new_session=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, MARKER: marker}, text=True)


def terminate(process: subprocess.Popen, whom: str = "runner") -> tuple[str, str]:
    """SIGTERM to the runner, or to its whole process group as a service manager sends it;
    the runner must stop in order and exit with its pipes closed."""
    if whom == "group":
        os.killpg(process.pid, signal.SIGTERM)
    else:
        os.kill(process.pid, signal.SIGTERM)
    out, err = output_until_eof(process, STOP_GRACE_SECONDS + GONE_WITHIN)
    assert process.returncode == EXIT_TERMINATED, err
    assert f"stopped ({TERMINATED_REASON})" in out
    return out, err


def marked_processes(marker: str) -> list[psutil.Process]:
    """Live processes (zombies do not count) whose environment carries ``marker``."""
    found = []
    for process in psutil.process_iter(["environ", "status"]):
        environ = process.info["environ"] or {}
        if environ.get(MARKER) == marker and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def describe(processes: list[psutil.Process]) -> list[str]:
    out = []
    for process in processes:
        try:
            out.append(f"{process.pid}: {' '.join(process.cmdline())[:120]}")
        except psutil.Error:
            out.append(f"{process.pid}: (gone)")
    return out


def assert_all_gone(marker: str, within: float = GONE_WITHIN) -> None:
    deadline = time.monotonic() + within
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"still running {within:g} s after the runner ended: {describe(left)}"


def output_until_eof(process: subprocess.Popen, within: float) -> tuple[str, str]:
    """The run's stdout and stderr, read to their end: fails if a pipe stays open."""
    try:
        return process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the output pipes were still open {within:g} s after the signal")


def finished_rows(db: Path) -> dict[int, tuple]:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return {row[0]: row[1:] for row in conn.execute(
            "SELECT number, params, state, finished, mean_test_score, test_scores "
            "FROM trials")}
    except sqlite3.OperationalError:  # not created yet
        return {}
    finally:
        conn.close()


def stored_studies(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM studies").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()


def wait_for_rows(process: subprocess.Popen, db: Path, at_least: int) -> bool:
    """Wait until ``at_least`` trials are stored (0: until the study is); False if the run
    ended first."""
    deadline = time.monotonic() + 120
    while len(finished_rows(db)) < at_least or not stored_studies(db):
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, "nothing was stored in time"
        time.sleep(0.02)
    return True


def assert_complete_and_unchanged(db: Path, earlier: dict[int, tuple]) -> None:
    """Every candidate stored exactly once, and rows stored earlier left as they were."""
    after = finished_rows(db)
    assert sorted(after) == list(range(N_CANDIDATES))
    params = [json.loads(row[0]) for row in after.values()]
    assert sorted((p["max_depth"], p["max_features"]) for p in params) == sorted(GRID)
    for number, row in earlier.items():
        assert after[number] == row  # finished before the kill: not run again
    conn = sqlite3.connect(db)
    try:
        # each trial holds its folds: its splits and timeline entries, none doubled
        assert conn.execute("SELECT SUM(n_splits), SUM(length(fold_timeline)) FROM trials"
                            ).fetchone() == (N_CANDIDATES * N_FOLDS,
                                             N_CANDIDATES * N_FOLDS * FOLD_TIMELINE.itemsize)
        assert conn.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 1
    finally:
        conn.close()


def study_status(db: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["studies", "--db", str(db)]) == 0
    return capsys.readouterr().out


@pytest.mark.slow
def test_sigkill_mid_study_ends_its_workers_then_resume(tmp_path, spec, marker, capsys):
    db = tmp_path / "h.db"
    process = start_run(spec, db, marker)
    assert wait_for_rows(process, db, 4), "the study ended before it could be killed"
    assert len(marked_processes(marker)) >= 3  # the runner and its two workers at least
    os.kill(process.pid, signal.SIGKILL)  # the runner alone, with no warning
    output_until_eof(process, GONE_WITHIN)
    assert_all_gone(marker)
    before = finished_rows(db)
    assert 4 <= len(before) < N_CANDIDATES

    assert "interrupted" in study_status(db, capsys)

    # running the same spec again resumes the interrupted study
    assert main(["run", str(spec), "--db", str(db), "--jobs", "2", "-q"]) == 0
    out = capsys.readouterr()
    assert f"resuming study #1 'killed': {len(before)} trials already done" in out.err
    assert "study #1 'killed': finished" in out.out
    assert_complete_and_unchanged(db, before)


@pytest.mark.slow
@pytest.mark.parametrize("whom", ["runner", "group"])
def test_sigterm_stops_the_study_cleanly_then_resume(tmp_path, spec, marker, capsys, whom):
    db = tmp_path / "h.db"
    process = start_run(spec, db, marker)
    assert wait_for_rows(process, db, 3), "the study ended before it could be terminated"
    before = finished_rows(db)
    out, err = terminate(process, whom)
    assert "study #1 'killed': stopped" in out
    assert f"`hpstudio resume 1 --db {db}` goes on" in err
    assert_all_gone(marker)
    stopped = finished_rows(db)
    assert len(before) <= len(stopped) < N_CANDIDATES
    assert {number: stopped[number] for number in before} == before
    assert f"stopped: {TERMINATED_REASON}" in study_status(db, capsys)

    resumed = stopped
    if whom == "runner":  # a terminated `hpstudio resume` stops the same way
        process = start_run(spec, db, marker, "resume", "killed")
        assert wait_for_rows(process, db, len(stopped) + 1), "ended before the signal"
        terminate(process, whom)
        assert_all_gone(marker)
        resumed = finished_rows(db)
        assert {number: resumed[number] for number in stopped} == stopped
        assert f"stopped: {TERMINATED_REASON}" in study_status(db, capsys)

    # running the same spec resumes it to the end
    assert main(["run", str(spec), "--db", str(db), "--jobs", "2", "-q"]) == 0
    result = capsys.readouterr()
    assert f"resuming study #1 'killed': {len(resumed)} trials already done" in result.err
    assert "study #1 'killed': finished" in result.out
    assert_complete_and_unchanged(db, resumed)


@pytest.mark.slow
def test_sigterm_stops_the_demo(tmp_path, marker, capsys):
    db = tmp_path / "h.db"
    process = start_run(tmp_path, db, marker, "demo")
    assert wait_for_rows(process, db, 1), "the demo ended before it could be terminated"
    _, err = terminate(process)
    assert f"`hpstudio resume 1 --db {db}` goes on" in err
    assert_all_gone(marker)
    assert f"stopped: {TERMINATED_REASON}" in study_status(db, capsys)


@pytest.mark.slow
def test_sigint_still_interrupts_and_ends_the_workers(tmp_path, spec, marker, capsys):
    db = tmp_path / "h.db"
    process = start_run(spec, db, marker)
    assert wait_for_rows(process, db, 2), "the study ended before it could be interrupted"
    os.kill(process.pid, signal.SIGINT)
    _, err = output_until_eof(process, STOP_GRACE_SECONDS + GONE_WITHIN)
    assert process.returncode == 130, err
    assert "hpstudio: interrupted; finished trials are saved" in err
    assert_all_gone(marker)
    assert "stopped: interrupted (Ctrl+C)" in study_status(db, capsys)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume(tmp_path, spec, marker, capsys):
    """Kills while Python starts, just after the study is stored (its workers starting,
    no trial yet) and in the middle of trials, each followed by a resume."""
    rng = random.Random(20240611)
    db = tmp_path / "h.db"
    # (kind, seconds to wait, trials more than already stored to wait for first)
    moments: list[tuple[str, float, int]] = [
        ("at once", rng.uniform(0.0, 0.1), 0),
        ("stored", rng.uniform(0.0, 0.3), 0),
        ("stored", rng.uniform(0.0, 0.3), 1),
        ("stored", rng.uniform(0.0, 0.3), rng.randint(2, 4)),
        ("stored", rng.uniform(0.0, 0.3), rng.randint(2, 4)),
    ]
    stored: dict[int, tuple] = {}
    for kind, delay, more in moments:
        process = start_run(spec, db, marker)
        if kind == "stored":
            assert wait_for_rows(process, db, len(stored) + more), "finished before the kill"
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        output_until_eof(process, GONE_WITHIN)
        assert_all_gone(marker)
        rows = finished_rows(db)
        assert {number: rows[number] for number in stored} == stored
        stored = rows
    assert len(stored) < N_CANDIDATES

    assert main(["run", str(spec), "--db", str(db), "--jobs", "2", "-q"]) == 0
    assert "study #1 'killed': finished" in capsys.readouterr().out
    assert_complete_and_unchanged(db, stored)

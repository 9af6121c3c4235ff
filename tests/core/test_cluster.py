"""The Dask executor on a real local cluster (worker processes on loopback).

One cluster of two worker processes is shared by the module; each study connects its own
client to it by address, which is also the path a remote cluster takes.
"""

from __future__ import annotations

import importlib.metadata
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from hpstudio.cli import main
from hpstudio.core import cluster as cluster_module
from hpstudio.core.cluster import (
    MISSING_DASK,
    DaskExecutor,
    make_cluster_executor,
    parse_cluster_address,
)
from hpstudio.core.data import load_dataset
from hpstudio.core.errors import HpstudioError
from hpstudio.core.evaluate import FoldTask, context_for
from hpstudio.core.events import StudyEvent, TrialFinished
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.records import FoldResult, StudyStatus, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.storage.schema import FOLD_TIMELINE
from hpstudio.core.study import StudyRunner

TREE = {
    "name": "tree-iris",
    "data": {"builtin": "iris"},
    "estimator": {"class": "sklearn.tree.DecisionTreeClassifier", "fixed": {"random_state": 0}},
    "space": [{"max_depth": [1, 2, 3, 4], "criterion": ["gini", "entropy"]}],
    "cv": {"folds": 5},
    "scoring": {"train_score": True},
}
FOREST = {
    "name": "forest-cancer",
    "data": {"builtin": "breast_cancer"},
    "estimator": {"class": "sklearn.ensemble.RandomForestClassifier",
                  "fixed": {"random_state": 0, "n_estimators": 50, "n_jobs": 1}},
    "space": [{"max_depth": [3, 5, 8, 12], "max_features": ["sqrt", "log2"]}],
    "cv": {"folds": 3},
}


@pytest.fixture(scope="module")
def cluster() -> Any:
    executor = make_cluster_executor("local:2")
    yield executor
    executor.close()


def run_study(raw: dict[str, Any], db: Path, executor: Any,
              listener: Any = None) -> tuple[Any, HistoryStore]:
    store = HistoryStore(db)
    outcome = StudyRunner(store, executor=executor, listener=listener).run(
        StudySpec.from_dict(raw))
    return outcome, store


def scores(store: HistoryStore, study_id: int) -> dict[int, tuple[Any, ...]]:
    return {t.number: (t.params, t.state, t.split_test_scores, t.split_train_scores)
            for t in store.load_trials(study_id)}


def worker_pids(cluster: DaskExecutor) -> set[int]:
    return set(cluster.client.run(os.getpid).values())


def our_keys_on_scheduler(cluster: DaskExecutor, timeout: float = 5.0) -> list[str]:
    """Keys of fold tasks or datasets the scheduler still holds, once releases settled."""
    def keys(dask_scheduler: Any) -> list[str]:
        return [str(k) for k in dask_scheduler.tasks
                if str(k).startswith(("evaluate_fold-", "hpstudio-data-"))]

    deadline = time.time() + timeout
    while (left := cluster.client.run_on_scheduler(keys)) and time.time() < deadline:
        time.sleep(0.1)
    return left


def test_parse_cluster_address() -> None:
    assert parse_cluster_address("local:3").local_workers == 3
    assert parse_cluster_address(" tcp://10.0.0.5:8786 ").scheduler == "tcp://10.0.0.5:8786"
    for bad in ("", "local:0", "local:two"):
        with pytest.raises(HpstudioError, match="--cluster"):
            parse_cluster_address(bad)


def test_grid_study_on_cluster_scores_like_local(cluster: DaskExecutor, tmp_path: Path) -> None:
    remote, store = run_study(TREE, tmp_path / "h.db",
                              make_cluster_executor(cluster.scheduler_address))
    local, _ = run_study(TREE, tmp_path / "h.db", LocalExecutor(n_jobs=2))
    assert remote.status is local.status is StudyStatus.FINISHED
    on_cluster = scores(store, remote.study_id)
    assert len(on_cluster) == 8
    assert on_cluster == scores(store, local.study_id)
    # The folds really ran in the cluster's worker processes, and nothing was left there.
    folds = store.load_trials(remote.study_id, with_folds=True)
    assert {int(f.worker) for t in folds for f in t.folds} <= worker_pids(cluster)
    assert our_keys_on_scheduler(cluster) == []


def test_cancel_pending_drops_queued_folds_and_reports_running_ones(
        cluster: DaskExecutor) -> None:
    spec = StudySpec.from_dict({**FOREST, "estimator": {
        **FOREST["estimator"], "fixed": {"random_state": 0, "n_estimators": 300, "n_jobs": 1}}})
    dataset = load_dataset(spec.data)
    executor = make_cluster_executor(cluster.scheduler_address)
    try:
        executor.start(context_for(spec, dataset, spec.validate()), dataset.X, dataset.y)
        tasks = [FoldTask(n, fold, {"max_depth": 4}) for n in range(4) for fold in range(3)]
        for task in tasks:
            executor.submit(task)
        got: list[FoldResult] = []
        deadline = time.time() + 20
        while not got and time.time() < deadline:  # the workers are busy: one fold is back
            got += executor.results(timeout=0.1)
        executor.cancel_pending()
        while executor.in_flight and time.time() < deadline:
            got += executor.results(timeout=0.1)
        assert executor.in_flight == 0
        # Each worker ran at most the fold it had started, plus one picked up meanwhile.
        assert 1 <= len(got) <= 2 * 2 < len(tasks)
        assert len({(r.trial_number, r.fold) for r in got}) == len(got)
        assert all(r.error is None for r in got)
    finally:
        executor.close()
    assert our_keys_on_scheduler(cluster) == []


def test_a_fold_run_twice_is_reported_once(cluster: DaskExecutor) -> None:
    spec = StudySpec.from_dict(TREE)
    dataset = load_dataset(spec.data)
    executor = make_cluster_executor(cluster.scheduler_address)
    try:
        executor.start(context_for(spec, dataset, spec.validate()), dataset.X, dataset.y)
        task = FoldTask(0, 1, {"max_depth": 2, "criterion": "gini"})
        executor.submit(task)
        executor._submit(task, 1)  # what a re-run after a lost result submits
        assert executor.in_flight == 2
        got: list[FoldResult] = []
        deadline = time.time() + 20
        while executor.in_flight and time.time() < deadline:
            got += executor.results(timeout=0.1)
        assert [(r.trial_number, r.fold) for r in got] == [(0, 1)]
    finally:
        executor.close()


def test_workers_with_other_library_versions_are_refused(
        cluster: DaskExecutor, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only this process sees the patch; the workers report their real versions.
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.0.0")
    with pytest.raises(HpstudioError, match=r"cannot run this study.*on every worker"):
        make_cluster_executor(cluster.scheduler_address)


def test_killed_worker_has_its_folds_rerun_and_nothing_stored_twice(
        cluster: DaskExecutor, tmp_path: Path) -> None:
    before = worker_pids(cluster)
    killed: list[int] = []

    def kill_one_worker(event: StudyEvent) -> None:
        if isinstance(event, TrialFinished) and not killed:
            killed.append(min(before))
            os.kill(killed[0], signal.SIGKILL)

    outcome, store = run_study(FOREST, tmp_path / "h.db",
                               make_cluster_executor(cluster.scheduler_address), kill_one_worker)
    assert killed and outcome.status is StudyStatus.FINISHED
    assert outcome.n_complete == 8 and outcome.n_failed == 0
    trials = store.load_trials(outcome.study_id)
    assert sorted(t.number for t in trials) == list(range(8))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    db = store.sqlite_utils
    rows = db.execute("SELECT number, COUNT(*) FROM trials WHERE study_id = ? GROUP BY number",
                      [outcome.study_id]).fetchall()
    assert sorted(rows) == [(n, 1) for n in range(8)]
    rows = db.execute("SELECT number, n_splits, length(fold_timeline) FROM trials "
                      "WHERE study_id = ?", [outcome.study_id]).fetchall()
    assert sorted(rows) == [(n, 3, 3 * FOLD_TIMELINE.itemsize) for n in range(8)]
    # The lost folds were recomputed to the very same scores a local run gives.
    local, _ = run_study(FOREST, tmp_path / "h.db", LocalExecutor(n_jobs=2))
    assert scores(store, outcome.study_id) == scores(store, local.study_id)
    assert killed[0] not in worker_pids(cluster)


# ----- the command line -----------------------------------------------------------------------


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "tree.toml"
    StudySpec.from_dict({**TREE, "space": [{"max_depth": [1, 2, 3, 4]}],
                         "cv": {"folds": 3}}).save(path)
    return path


def test_cli_runs_a_study_on_a_local_cluster(spec_file: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.db"
    assert main(["run", str(spec_file), "--db", str(db), "--cluster", "local:2", "-q"]) == 0
    out, err = capsys.readouterr()
    assert "finished" in out and "on 2 workers" in err
    with HistoryStore(db) as store:
        (study,) = store.list_studies()
        assert study.n_complete == 4 and study.status is StudyStatus.FINISHED


def test_cli_without_dask_says_how_to_install_it(
        spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now fails
    db = tmp_path / "cli.db"
    assert main(["run", str(spec_file), "--db", str(db), "--cluster", "local:2", "-q"]) == 2
    assert MISSING_DASK in capsys.readouterr().err
    with HistoryStore(db) as store:
        assert store.list_studies() == []  # refused before any study was created


def test_cli_with_an_unreachable_scheduler_says_so(
        spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:  # a loopback port that nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setattr(cluster_module, "DEFAULT_TIMEOUT", 1.0)
    started = time.time()
    code = main(["run", str(spec_file), "--db", str(tmp_path / "cli.db"), "--cluster", address])
    assert code == 2 and time.time() - started < 10
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert "`dask scheduler`" in err and "Traceback" not in err

"""The local executor's workers: warm across studies, deaf to SIGTERM, and a stop waits
for running folds once. (A killed runner's workers ending is tested end to end in
test_kill_resume.py, on a real `hpstudio run`.)"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import psutil

from hpstudio.cli import main
from hpstudio.core import executor as executor_module
from hpstudio.core.evaluate import EvaluationContext, FoldTask
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.records import FoldResult

X, Y = np.arange(40.0).reshape(20, 2), np.array([0, 1] * 10)


def context() -> EvaluationContext:
    return EvaluationContext(
        data_path="", estimator_class="sklearn.tree.DecisionTreeClassifier",
        fixed_params={"random_state": 0}, numeric_columns=(), categorical_columns=(),
        classifier=True, folds=2, shuffle=False, seed=None, metric=None, train_score=False)


def run_folds(executor: LocalExecutor, n: int) -> list[FoldResult]:
    for number in range(n):
        executor.submit(FoldTask(number, number % 2, {"max_depth": 1 + number}))
    results: list[FoldResult] = []
    deadline = time.monotonic() + 60
    while len(results) < n and time.monotonic() < deadline:
        results += executor.results(timeout=1)
    assert len(results) == n
    return results


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_pool_stays_warm_across_studies():
    first = LocalExecutor(2)
    first.start(context(), X, Y)
    run_folds(first, 4)
    first.close()
    second_started = time.time()
    second = LocalExecutor(2)
    second.start(context(), X, Y)
    results = run_folds(second, 4)
    second.close()
    assert second._pool is first._pool
    for pid in {int(r.worker) for r in results}:  # started before the second study was
        assert psutil.Process(pid).create_time() < second_started


def test_a_worker_ignores_sigterm_and_goes_on_serving():
    """A SIGTERM sent to the whole process group must leave the stopping to the runner."""
    executor = LocalExecutor(1)
    executor.start(context(), X, Y)
    worker = int(run_folds(executor, 1)[0].worker)
    os.kill(worker, signal.SIGTERM)
    deadline = time.monotonic() + 1.0
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(worker)
    assert [int(r.worker) for r in run_folds(executor, 2)] == [worker, worker]
    executor.close()


def test_closing_after_the_grace_period_does_not_wait_it_again(monkeypatch):
    grace = 2.0
    monkeypatch.setattr(executor_module, "STOP_GRACE_SECONDS", grace)
    executor = LocalExecutor(1)
    executor.start(context(), X, Y)
    future = executor._pool.submit(time.sleep, 600)  # stands for a hung estimator's fit
    executor._futures[future] = FoldTask(0, 0, {})
    executor.cancel_pending()  # the stop request, as the study loop makes it
    assert executor.results(timeout=grace) == []  # the loop waits out the grace period
    started = time.monotonic()
    executor.close()
    assert time.monotonic() - started < grace / 2
    assert future.done()  # its worker was killed


def test_a_stopping_study_does_not_start_lost_folds_again():
    executor = LocalExecutor(1)
    executor.start(context(), X, Y)
    future = executor._pool.submit(os._exit, 1)  # the worker dies under the fold
    executor._futures[future] = FoldTask(0, 0, {})
    executor.cancel_pending()
    assert executor.results(timeout=30) == []
    assert executor.in_flight == 0
    executor.close()


def test_the_cli_restores_the_sigterm_handler_after_a_run(write_spec, db_path):
    def previous(signum, frame):  # pragma: no cover - never called
        raise AssertionError("not expected to run")

    spec = write_spec('name = "tiny"\n[data]\nbuiltin = "iris"\n[estimator]\n'
                      'class = "sklearn.tree.DecisionTreeClassifier"\n'
                      '[[space]]\nmax_depth = [1, 2]\n[cv]\nfolds = 2\n')
    original = signal.signal(signal.SIGTERM, previous)
    try:
        assert main(["run", str(spec), "--jobs", "1", "-q"]) == 0
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, original)

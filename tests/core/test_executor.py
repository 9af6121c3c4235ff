"""The local executor: closing never hangs on a fit that does not return."""

from __future__ import annotations

import time

import numpy as np

from hpstudio.core import executor as executor_module
from hpstudio.core.evaluate import EvaluationContext, FoldTask
from hpstudio.core.executor import LocalExecutor


def context() -> EvaluationContext:
    return EvaluationContext(
        data_path="", estimator_class="sklearn.tree.DecisionTreeClassifier",
        fixed_params={"random_state": 0}, numeric_columns=(), categorical_columns=(),
        classifier=True, folds=2, shuffle=False, seed=None, metric=None, train_score=False)


def test_close_kills_a_fit_that_never_returns_and_the_next_study_runs(monkeypatch):
    monkeypatch.setattr(executor_module, "STOP_GRACE_SECONDS", 0.5)
    X, y = np.arange(40.0).reshape(20, 2), np.array([0, 1] * 10)
    hung = LocalExecutor(2)
    hung.start(context(), X, y)
    future = hung._pool.submit(time.sleep, 600)  # stands for a hung estimator's fit
    hung._futures[future] = FoldTask(0, 0, {})
    started = time.monotonic()
    hung.close()
    assert time.monotonic() - started < 10
    fresh = LocalExecutor(2)
    fresh.start(context(), X, y)
    fresh.submit(FoldTask(0, 0, {"max_depth": 1}))
    results = []
    deadline = time.monotonic() + 60
    while not results and time.monotonic() < deadline:
        results = fresh.results(timeout=1)
    fresh.close()
    assert len(results) == 1 and results[0].error is None and results[0].test_scores["score"] >= 0

"""Synthetic studies for previews, benchmarks and process-level tests (no Qt).

A realistic shape (log-scale C and gamma, a categorical kernel, a few failures,
k folds spread over workers) without running any fit.
"""

from __future__ import annotations

import math

import numpy as np

from hpstudio.core.records import FoldResult, TrialRecord, TrialState

__all__ = ["SYNTHETIC_LOG_PARAMS", "synthetic_trials"]

SYNTHETIC_LOG_PARAMS = frozenset({"C", "gamma"})
_KERNELS = ("linear", "poly", "rbf")


def synthetic_trials(
    n: int,
    n_params: int = 3,
    folds: int = 5,
    workers: int = 2,
    failed_every: int = 37,
    seed: int = 0,
    start_number: int = 0,
    t_start: float = 1_700_000_000.0,
) -> list[TrialRecord]:
    """``n`` trial records with 2-4 params (C, gamma, kernel, max_iter).

    Folds run back to back on ``workers`` round-robin workers, so the timeline of a
    synthetic study has no gaps and no overlaps within a worker.
    """
    rng = np.random.default_rng(seed)
    n_params = min(max(n_params, 2), 4)
    log_c = rng.uniform(-3, 3, n)
    log_g = rng.uniform(-4, 1, n)
    kernel = rng.integers(0, len(_KERNELS), n)
    max_iter = rng.integers(10, 500, n)
    base = 0.9 - 0.04 * (log_c - 1) ** 2 - 0.03 * (log_g + 1.5) ** 2 + 0.05 * (kernel == 2)
    noise = rng.normal(0, 0.02, (n, folds))
    split = np.clip(base[:, None] + noise, -1.0, 1.0)
    train = np.clip(split + rng.uniform(0.0, 0.08, (n, 1)), -1.0, 1.0)
    fit = rng.uniform(0.01, 0.05, (n, folds))
    worker_names = [f"pid-{1000 + w}" for w in range(workers)]
    worker_clock = [t_start] * workers
    out: list[TrialRecord] = []
    for i in range(n):
        number = start_number + i
        failed = failed_every > 0 and i % failed_every == failed_every - 1
        params: dict[str, object] = {"C": float(10 ** log_c[i]), "gamma": float(10 ** log_g[i])}
        if n_params >= 3:
            params["kernel"] = _KERNELS[kernel[i]]
        if n_params >= 4:
            params["max_iter"] = int(max_iter[i])
        fold_results = []
        for f in range(folds):
            w = (i * folds + f) % workers
            t0 = worker_clock[w]
            t1 = t0 + float(fit[i, f])
            worker_clock[w] = t1
            fold_results.append(
                FoldResult(
                    trial_number=number, fold=f,
                    test_scores={"score": math.nan if failed else float(split[i, f])},
                    train_scores=None if failed else {"score": float(train[i, f])},
                    fit_time=float(fit[i, f]), score_time=0.001,
                    started=t0, finished=t1, worker=worker_names[w],
                    error="ValueError: synthetic failure" if failed else None,
                )
            )
        started = min(fr.started for fr in fold_results)
        finished = max(fr.finished for fr in fold_results)
        out.append(
            TrialRecord(
                study_id=1, number=number, params=params,
                state=TrialState.FAILED if failed else TrialState.COMPLETE,
                test_scores={"score": () if failed else tuple(float(v) for v in split[i])},
                train_scores=None if failed else {"score": tuple(float(v) for v in train[i])},
                fit_times=tuple(float(v) for v in fit[i]),
                score_times=(0.001,) * folds,
                started=started, finished=finished,
                error="ValueError: synthetic failure" if failed else None,
                folds=tuple(fold_results),
            )
        )
    return out

"""A study's trials as scikit-learn's ``cv_results_``: the same keys, values and dtypes.

``hpstudio.tune`` hands back what ``GridSearchCV`` would have: a dict of NumPy arrays with
``mean_fit_time``, ``param_<name>`` (masked where a candidate of another sub-space lacks
the parameter), ``params``, ``split<k>_test_<metric>``, ``mean_test_<metric>``,
``std_test_<metric>``, ``rank_test_<metric>`` (failed candidates ranked last, ties
sharing the lower rank), the train scores when asked for, and ``iter`` /
``n_resources`` for searches that ran candidates at several budgets. One metric is
named ``score``, as scikit-learn names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpstudio.core.records import TrialRecord

__all__ = ["best_index", "cv_results"]


def cv_results(trials: Sequence[TrialRecord], metrics: Sequence[str], *,
               train: bool = False) -> dict[str, Any]:
    """``cv_results_`` of ``trials``, one row per trial in the order given (a study's
    candidates, rung by rung), for metric keys ``metrics``."""
    n_splits = max((len(t.fit_times) for t in trials), default=0)
    results: dict[str, Any] = {}
    if any(t.rung or t.budget is not None for t in trials):
        results["iter"] = np.array([t.rung for t in trials])
        results["n_resources"] = np.array(
            [t.budget.amount if t.budget is not None else np.nan for t in trials])
    for kind, getter in (("fit_time", _fit_times), ("score_time", _score_times)):
        table = _table([getter(t) for t in trials], n_splits)
        results[f"mean_{kind}"] = _mean(table)
        results[f"std_{kind}"] = _std(table)
    params = [dict(t.params) for t in trials]
    results.update(_param_arrays(params))
    results["params"] = params
    for metric in metrics:  # scikit-learn's order: each metric's test keys, then train
        results.update(_test_columns(trials, metric, n_splits))
        if train:
            table = _table([(t.train_scores or {}).get(metric, ()) for t in trials], n_splits)
            for k in range(table.shape[1]):
                results[f"split{k}_train_{metric}"] = table[:, k]
            results[f"mean_train_{metric}"] = _mean(table)
            results[f"std_train_{metric}"] = _std(table)
    return results


def best_index(results: dict[str, Any], rank: str) -> int | None:
    """The candidate scikit-learn would pick: rank 1 of the ranking metric, the first of
    ties; among trials of the last rung when candidates ran at several budgets."""
    ranks = results.get(f"rank_test_{rank}")
    means = results.get(f"mean_test_{rank}")
    if ranks is None or not len(ranks) or np.isnan(means).all():
        return None
    if "iter" in results:
        last = np.flatnonzero(results["iter"] == results["iter"].max())
        scores = means[last]
        if np.isnan(scores).all():
            return None
        return int(last[int(np.nanargmax(scores))])
    return int(np.argmin(ranks))


def _test_columns(trials: Sequence[TrialRecord], metric: str,
                  n_splits: int) -> dict[str, np.ndarray]:
    """Split, mean, std and rank of one metric's test scores; failed candidates (NaN)
    rank last, ties share the lower rank."""
    from scipy.stats import rankdata

    n = len(trials)
    out: dict[str, np.ndarray] = {}
    table = _table([t.test_scores.get(metric, ()) for t in trials], n_splits)
    if table.shape[1] == 0:  # imported without per-split scores: the value stands in
        means = np.array([t.mean_test(metric) for t in trials], dtype=float)
        stds = np.full(n, np.nan)
    else:
        for k in range(table.shape[1]):
            out[f"split{k}_test_{metric}"] = table[:, k]
        means, stds = _mean(table), _std(table)
    out[f"mean_test_{metric}"] = means
    out[f"std_test_{metric}"] = stds
    if n and np.isnan(means).all():
        ranks = np.ones(n, dtype=np.int32)
    elif n:
        filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
        ranks = rankdata(-filled, method="min").astype(np.int32, copy=False)
    else:
        ranks = np.empty(0, dtype=np.int32)
    out[f"rank_test_{metric}"] = ranks
    return out


def _fit_times(trial: TrialRecord) -> tuple[float, ...]:
    return trial.fit_times


def _score_times(trial: TrialRecord) -> tuple[float, ...]:
    return trial.score_times


def _table(rows: list[Sequence[float]], width: int) -> np.ndarray:
    """Per-split values as an (n_candidates, n_splits) array, NaN where a split is missing."""
    if not any(len(r) for r in rows):
        return np.empty((len(rows), 0))
    table = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        table[i, : len(row)] = np.asarray(row, dtype=float)[:width]
    return table


def _mean(table: np.ndarray) -> np.ndarray:
    if table.shape[1] == 0:
        return np.full(table.shape[0], np.nan)
    return np.average(table, axis=1)


def _std(table: np.ndarray) -> np.ndarray:
    if table.shape[1] == 0:
        return np.full(table.shape[0], np.nan)
    means = np.average(table, axis=1)
    return np.sqrt(np.average((table - means[:, np.newaxis]) ** 2, axis=1))


def _param_arrays(params: list[dict[str, Any]]) -> dict[str, np.ma.MaskedArray]:
    """One masked array per parameter, typed as scikit-learn types it (object for text)."""
    n = len(params)
    names = list(dict.fromkeys(name for p in params for name in p))
    out = {}
    for name in names:
        present = {i: p[name] for i, p in enumerate(params) if name in p}
        values = list(present.values())
        try:
            probe = np.array(values)
        except ValueError:
            dtype = np.dtype(object)
        else:
            dtype = probe.dtype if probe.dtype.kind != "U" and probe.ndim == 1 else np.dtype(object)
        array = np.ma.MaskedArray(np.empty(n, dtype=dtype), mask=True)
        for i, value in present.items():
            array[i] = value
        out[f"param_{name}"] = array
    return out

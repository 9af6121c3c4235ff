"""Trade-offs between two objectives of the trials, and how the scores are spread (no Qt).

Behind the Pareto, empirical distribution and rank views: which trials no other beats on
both of two metrics (or on score and fit time), the cheapest trial that is almost as good
as the best, the empirical distribution function of the scores (Optuna's ``plot_edf``),
and each trial's rank as a fraction (Optuna's ``plot_rank`` colours).
"""

from __future__ import annotations

import numpy as np

__all__ = ["cheapest_almost_as_good", "edf_curve", "pareto_front", "rank_fractions"]


def pareto_front(x: np.ndarray, y: np.ndarray, *, maximize_x: bool = True,
                 maximize_y: bool = True) -> np.ndarray:
    """Which points no other point dominates (at least as good on both, better on one).

    Points with a NaN in either coordinate are never on the front. O(n log n): sorted
    best-x first, a point is dominated when a point of strictly better x already
    reached its y, or a point of the same x has a better y."""
    a = np.asarray(x, dtype=float) * (1.0 if maximize_x else -1.0)
    b = np.asarray(y, dtype=float) * (1.0 if maximize_y else -1.0)
    on_front = np.zeros(len(a), dtype=bool)
    valid = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if not len(valid):
        return on_front
    order = valid[np.lexsort((-b[valid], -a[valid]))]
    a_s, b_s = a[order], b[order]
    starts = np.r_[True, a_s[1:] != a_s[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    best_in_group = b_s[first][group]
    running = np.maximum.accumulate(b_s)
    before_group = np.r_[-np.inf, running[first[1:] - 1]][group]
    dominated = (before_group >= b_s) | (b_s < best_in_group)
    on_front[order[~dominated]] = True
    return on_front


def cheapest_almost_as_good(score: np.ndarray, standard_error: np.ndarray, cost: np.ndarray,
                            usable: np.ndarray) -> int | None:
    """The cheapest trial whose score is within one standard error of the best one's
    (the higher score among equally cheap ones); None when no trial is usable."""
    score = np.asarray(score, dtype=float)
    cost = np.asarray(cost, dtype=float)
    usable = np.asarray(usable, dtype=bool) & np.isfinite(score) & np.isfinite(cost)
    rows = np.flatnonzero(usable)
    if not len(rows):
        return None
    best = rows[int(np.argmax(score[rows]))]
    se = float(standard_error[best]) if np.isfinite(standard_error[best]) else 0.0
    near = rows[score[rows] >= score[best] - se]
    return int(near[np.lexsort((-score[near], cost[near]))[0]])


def edf_curve(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical distribution function of the finite values: x sorted, y the share
    of values at most x (the step reaches 1 at the largest)."""
    v = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    if not len(v):
        return v, v.copy()
    return v, np.arange(1, len(v) + 1, dtype=float) / len(v)


def rank_fractions(values: np.ndarray) -> np.ndarray:
    """Each value's rank as a fraction: 0 for the best (largest), 1 for the worst; ties
    share their mean rank; NaN stays NaN."""
    from scipy.stats import rankdata

    values = np.asarray(values, dtype=float)
    out = np.full(len(values), np.nan)
    finite = np.isfinite(values)
    n = int(finite.sum())
    if n == 1:
        out[finite] = 0.0
    elif n > 1:
        out[finite] = (rankdata(-values[finite]) - 1.0) / (n - 1)
    return out

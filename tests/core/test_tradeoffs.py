"""Pareto front, cheapest-almost-as-good, empirical distribution and ranks of trials."""

from __future__ import annotations

import numpy as np

from hpstudio.core.tradeoffs import (
    cheapest_almost_as_good,
    edf_curve,
    pareto_front,
    rank_fractions,
)


def brute_force_front(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(len(a), bool)
    for i in range(len(a)):
        if not (np.isfinite(a[i]) and np.isfinite(b[i])):
            continue
        dominated = (a >= a[i]) & (b >= b[i]) & ((a > a[i]) | (b > b[i]))
        out[i] = not dominated.any()
    return out


def test_the_front_is_every_undominated_point_ties_and_nan_included():
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = rng.integers(0, 6, 40).astype(float)  # many ties on both axes
        b = rng.integers(0, 6, 40).astype(float)
        a[rng.integers(0, 40, 3)] = np.nan
        assert np.array_equal(pareto_front(a, b), brute_force_front(a, b))
        assert np.array_equal(pareto_front(a, b, maximize_x=False),
                              brute_force_front(-a, b))


def test_score_against_fit_time_keeps_the_cheap_and_the_good():
    score = np.array([0.90, 0.95, 0.80, 0.94, 0.70])
    time = np.array([1.0, 10.0, 0.1, 2.0, 0.2])
    front = pareto_front(time, score, maximize_x=False)
    assert front.tolist() == [True, True, True, True, False]
    se = np.full(5, 0.015)
    assert cheapest_almost_as_good(score, se, time, np.ones(5, bool)) == 3
    assert cheapest_almost_as_good(score, np.zeros(5), time, np.ones(5, bool)) == 1
    assert cheapest_almost_as_good(score, se, time, np.zeros(5, bool)) is None


def test_edf_and_rank_fractions():
    x, y = edf_curve(np.array([0.3, np.nan, 0.1, 0.2, 0.2]))
    assert x.tolist() == [0.1, 0.2, 0.2, 0.3] and y.tolist() == [0.25, 0.5, 0.75, 1.0]
    assert edf_curve(np.array([np.nan]))[0].size == 0
    ranks = rank_fractions(np.array([0.9, np.nan, 0.5, 0.7, 0.7]))
    assert ranks[0] == 0.0 and ranks[2] == 1.0 and np.isnan(ranks[1])
    assert ranks[3] == ranks[4] == 0.5
    assert rank_fractions(np.array([0.4])).tolist() == [0.0]

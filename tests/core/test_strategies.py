"""Grid and random strategies: sklearn's order, log-uniform sampling, no repeats, resume."""

from __future__ import annotations

import math

import numpy as np
from sklearn.model_selection import ParameterGrid

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.space import FloatRange, IntRange, Values, candidate_key
from hpstudio.core.strategies.grid import GridStrategy
from hpstudio.core.strategies.random import RandomStrategy


def drain(strategy) -> list:
    out = []
    while (candidate := strategy.ask()) is not None:
        out.append(candidate)
    return out


def finished(number: int, params: dict) -> TrialRecord:
    return TrialRecord(1, number, params, TrialState.COMPLETE, {"score": (1.0,)}, None, (0.0,),
                       (0.0,),
                       0.0, 0.0)


def test_grid_enumerates_in_parameter_grid_order():
    space = [{"b": Values((1, 2)), "a": IntRange(1, 7, step=3)},
             {"c": FloatRange(1e-2, 1e2, log=True, num=5)}]
    expected = list(ParameterGrid([{"b": [1, 2], "a": [1, 4, 7]},
                                   {"c": list(np.geomspace(1e-2, 1e2, 5))}]))
    got = drain(GridStrategy(space))
    assert [c.params for c in got] == expected
    assert [c.number for c in got] == list(range(len(expected)))
    assert [c.subspace for c in got] == [0] * 6 + [1] * 5


def test_grid_resume_skips_finished_numbers():
    space = [{"a": Values((1, 2, 3, 4))}]
    strategy = GridStrategy(space)
    strategy.restore([finished(0, {"a": 1}), finished(2, {"a": 3})])
    assert [c.number for c in drain(strategy)] == [1, 3]


def test_random_samples_log_ranges_log_uniformly():
    strategy = RandomStrategy([{"C": FloatRange(1e-3, 1e3, log=True)}], n_trials=3000, seed=0)
    values = np.log10([c.params["C"] for c in drain(strategy)])
    assert values.min() >= -3 and values.max() <= 3
    counts, _ = np.histogram(values, bins=6, range=(-3, 3))
    assert counts.min() > 400  # each decade gets about a sixth (500) of the draws


def test_random_never_repeats_in_a_finite_space_and_stops_when_exhausted():
    space = [{"a": Values((1, 2, 3)), "b": IntRange(1, 4)}, {"c": Values(("x", "y"))}]
    candidates = drain(RandomStrategy(space, n_trials=100, seed=1))
    keys = [candidate_key(c.params) for c in candidates]
    assert len(keys) == len(set(keys)) == 14


def test_random_never_repeats_with_log_int_ranges():
    space = [{"n": IntRange(1, 50, log=True)}]
    candidates = drain(RandomStrategy(space, n_trials=60, seed=3))
    values = [c.params["n"] for c in candidates]
    assert len(values) == len(set(values)) == 50


def test_random_sequence_is_reproducible_and_resumes():
    space = [{"C": FloatRange(0.1, 10.0, log=True), "k": Values(("a", "b"))}]
    first = drain(RandomStrategy(space, n_trials=10, seed=42))
    again = drain(RandomStrategy(space, n_trials=10, seed=42))
    assert [c.params for c in first] == [c.params for c in again]
    resumed = RandomStrategy(space, n_trials=10, seed=42)
    resumed.restore([finished(c.number, c.params) for c in first[:4]])
    rest = drain(resumed)
    assert [c.params for c in rest] == [c.params for c in first[4:]]
    assert all(not math.isnan(c.params["C"]) for c in rest)


def test_grid_starts_the_slowest_candidates_last_in_line_first():
    """In the tail, candidates predicted slowest from finished trials start first."""
    from hpstudio.core.strategies.grid import TAIL

    space = [{"n": Values((10, 1000)), "k": Values(tuple(range(TAIL)))}]
    strategy = GridStrategy(space)
    grid = drain(GridStrategy(space))
    first = [strategy.ask() for _ in range(TAIL)]  # grid order until the tail
    assert [c.number for c in first] == list(range(TAIL))
    for c in first:  # n=1000 fits take 100 times longer
        seconds = 1.0 if c.params["n"] == 1000 else 0.01
        strategy.tell(TrialRecord(1, c.number, c.params, TrialState.COMPLETE, (1.0,), None,
                                  (seconds,), (0.0,), 0.0, 0.0))
    tail = drain(strategy)
    assert sorted(c.number for c in tail) == list(range(TAIL, 2 * TAIL))  # nothing lost
    assert all(c.params == grid[c.number].params for c in tail)  # numbers keep sklearn's order
    slow = [c.params["n"] == 1000 for c in tail]
    assert slow == sorted(slow, reverse=True) and any(slow) and not all(slow)

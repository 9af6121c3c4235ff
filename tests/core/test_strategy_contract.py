"""What every search strategy promises the study loop, run against each one.

A strategy never proposes a candidate twice (at one rung: successive halving proposes a
candidate again at each higher rung), takes back a stored study with ``restore`` and then
skips what finished, answers ``None`` once it has nothing more to propose (and
keeps answering ``None``), keeps its proposals inside the space, and stays silent on
single folds unless it prunes. A new strategy joins ``STRATEGIES`` and must pass all of
them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from hpstudio.core.records import Candidate, FoldResult, TrialRecord, TrialState
from hpstudio.core.space import FloatRange, IntRange, SubSpace, Values, candidate_key
from hpstudio.core.spec import SearchSpec
from hpstudio.core.strategies.base import Strategy, StudyFacts
from hpstudio.core.strategies.bayes import BayesStrategy
from hpstudio.core.strategies.grid import GridStrategy
from hpstudio.core.strategies.halving import make_halving
from hpstudio.core.strategies.pruning import FoldPruner
from hpstudio.core.strategies.random import RandomStrategy

SPACE: list[SubSpace] = [
    {"kernel": Values(("rbf", "poly")), "C": FloatRange(0.01, 100.0, log=True, num=4)},
    {"kernel": Values(("linear",)), "degree": IntRange(1, 3)},
]
BUDGET = 9  # fewer than the 11 grid candidates, so the budget is what ends random / bayes


def grid(space: list[SubSpace]) -> Strategy:
    return GridStrategy(space)


def random(space: list[SubSpace]) -> Strategy:
    return RandomStrategy(space, n_trials=BUDGET, seed=3)


def bayes(space: list[SubSpace]) -> Strategy:
    search = SearchSpec(strategy="bayes", n_trials=BUDGET, seed=3, initial_points=3)
    return BayesStrategy(space, search, max_wait=30.0)


FACTS = StudyFacts(n_samples=1000, n_splits=2)


def halving(strategy: str, asynchronous: bool) -> Callable[[list[SubSpace]], Strategy]:
    def make(space: list[SubSpace]) -> Strategy:
        search = SearchSpec(strategy=strategy, seed=3, resource="n_samples",
                            n_trials=BUDGET if strategy == "halving-random" else None,
                            asynchronous=asynchronous)
        made = make_halving(search, space)
        made.bind(FACTS)
        return made
    return make


def pruned_grid(space: list[SubSpace]) -> Strategy:
    made = FoldPruner(GridStrategy(space))
    made.bind(FACTS)
    return made


STRATEGIES: dict[str, Callable[[list[SubSpace]], Strategy]] = {
    "grid": grid, "random": random, "bayes": bayes,
    "halving-grid": halving("halving-grid", False),
    "halving-grid-async": halving("halving-grid", True),
    "halving-random": halving("halving-random", False),
    "halving-random-async": halving("halving-random", True),
    "grid-pruned": pruned_grid}


@pytest.fixture(params=list(STRATEGIES))
def make(request) -> Callable[[list[SubSpace]], Strategy]:
    return STRATEGIES[request.param]


def score(params: dict) -> float:
    """A smooth objective, so Bayesian search has something to model."""
    c = params.get("C", 1.0)
    return -abs(math.log10(c) - 0.5) - 0.1 * params.get("degree", 0)


def trial(candidate: Candidate) -> TrialRecord:
    value = score(candidate.params)
    return TrialRecord(1, candidate.number, dict(candidate.params), TrialState.COMPLETE,
                       {"score": (value, value)}, None, (0.01, 0.01), (0.0, 0.0), 0.0, 1.0,
                       candidate.subspace, rung=candidate.rung, budget=candidate.budget)


def run(strategy: Strategy, stop_after: int | None = None) -> list[Candidate]:
    """Ask and tell one candidate at a time, as a one-worker study loop would."""
    asked: list[Candidate] = []
    while stop_after is None or len(asked) < stop_after:
        strategy.note_backlog(0, 1)
        candidate = strategy.ask()
        if candidate is None:
            assert not strategy.waiting  # nothing is in flight: None means finished
            break
        asked.append(candidate)
        strategy.tell(trial(candidate))
    return asked


def in_space(candidate: Candidate) -> bool:
    sub = SPACE[candidate.subspace]
    if set(candidate.params) != set(sub):
        return False
    for name, dim in sub.items():
        value = candidate.params[name]
        if isinstance(dim, Values):
            if value not in dim.values:
                return False
        elif not dim.low <= value <= dim.high:
            return False
    return True


def test_never_proposes_a_candidate_twice(make):
    asked = run(make(SPACE))
    keys = [(candidate_key(c.params), c.rung) for c in asked]
    assert len(keys) == len(set(keys)) > 0
    numbers = [c.key for c in asked]
    assert len(numbers) == len(set(numbers))
    by_number: dict[int, object] = {}
    for c in asked:  # one number, one point of the space (whatever its budget)
        assert by_number.setdefault(c.number, c.subspace) == c.subspace


def test_proposals_stay_in_the_space_and_within_the_total(make):
    strategy = make(SPACE)
    asked = run(strategy)
    assert all(in_space(c) for c in asked)
    assert strategy.total is not None and len(asked) == strategy.total


def test_exhaustion_answers_none_and_keeps_answering_none(make):
    strategy = make(SPACE)
    run(strategy)
    assert strategy.ask() is None and strategy.ask() is None


def test_restore_then_ask_skips_what_finished(make):
    first = make(SPACE)
    done = run(first, stop_after=4)
    resumed = make(SPACE)
    resumed.restore([trial(c) for c in done])
    rest = run(resumed)
    before = {(candidate_key(c.params), c.rung) for c in done}
    assert not before & {(candidate_key(c.params), c.rung) for c in rest}
    assert not {c.key for c in done} & {c.key for c in rest}
    assert len(done) + len(rest) == resumed.total


def test_restore_of_everything_leaves_nothing_to_propose(make):
    first = make(SPACE)
    done = run(first)
    again = make(SPACE)
    again.restore([trial(c) for c in done])
    assert again.ask() is None


def test_strategies_without_pruning_let_every_fold_run(make):
    strategy = make(SPACE)
    candidate = strategy.ask()
    assert candidate is not None
    fold = FoldResult(candidate.number, 0, {"score": -10.0}, None, 0.1, 0.0, 0.0, 0.1, "w")
    assert strategy.hear_fold(candidate, fold, [fold]) is False

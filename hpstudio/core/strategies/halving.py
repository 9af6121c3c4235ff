"""Successive halving: every candidate on a small budget, the best third on three times
as much, and so on up to the full budget.

Synchronous mode follows scikit-learn's ``HalvingGridSearchCV`` / ``HalvingRandomSearchCV``
to the letter: the same rungs (``factor``, ``resource``, ``min_resources`` with
"exhaust" and "smallest", ``max_resources``, ``aggressive_elimination``), the same
candidates kept at each rung (scikit-learn's ranking, ties and NaN included) and, because
each fold of a budgeted candidate is evaluated exactly as scikit-learn's
``_SubsampleMetaSplitter`` or ``set_params`` would, the same scores. It only differs in
*when* fits start: a candidate whose place in the next rung is already certain (so many
of its rung's results beat no more than it that the rest cannot push it out) starts there
at once instead of waiting for the rung to end, which changes no result.

Asynchronous mode (ASHA-style) never lets a worker wait at a rung: when no certain
promotion and no new candidate is left to start, it promotes the best candidate that
ranks in the top ``1/factor`` of the results its rung has so far. Such promotions are made
on partial evidence, so a rung may hold a few more candidates than the synchronous one,
and a candidate may reach the last rung that the synchronous mode would have dropped; the
synchronous choices are always among the asynchronous ones, and the closing notes of a run
count the difference.

Budgets reach the workers as ``Budget(resource, amount)``: ``apply_budget`` (called by
``evaluate_fold``) subsamples a fold's rows for ``n_samples``, or sets the estimator
parameter otherwise. ``resource = "auto"`` picks the estimator's own budget parameter
(``n_estimators`` for forests and boosting, ``max_iter`` for iterative models) when it has
one that the space does not search, and the rows otherwise.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpstudio.core.errors import SpecError
from hpstudio.core.records import Budget, Candidate, TrialRecord
from hpstudio.core.search_options import (
    RESOURCE_AUTO,
    RESOURCE_SAMPLES,
    default_min_resources,
    resource_in_space,
)
from hpstudio.core.space import FloatRange, IntRange, SubSpace, Values, candidate_key, iter_grid
from hpstudio.core.strategies.base import Strategy, StudyFacts
from hpstudio.core.strategies.rung_agreement import agreement_notes

#: Estimator parameters that ``resource = "auto"`` uses as the budget, in this order.
AUTO_PARAMETERS = ("n_estimators", "max_iter")
Key = tuple[int, int]  # (number, rung)


# ----- the plan: rungs and their budgets, as scikit-learn computes them ------------------------


@dataclass(frozen=True)
class RungPlan:
    """The rungs of a halving study: each one's budget and (synchronous) candidates."""

    resource: str  # "n_samples", or the parameter as the search space names it
    amounts: tuple[int, ...]  # n_resources of each rung (scikit-learn's ``n_resources_``)
    candidates: tuple[int, ...]  # candidates of each rung (``n_candidates_``)
    min_resources: float
    max_resources: int
    n_required: int
    n_possible: int
    why: str = ""  # how the resource was chosen, for the log

    @property
    def n_rungs(self) -> int:
        return len(self.amounts)

    @property
    def trials(self) -> int:
        return sum(self.candidates)

    def budget_share(self, grown: bool = False) -> float:
        """The trials' budgets in full-budget trials: what a duration estimate should count.

        ``grown``: promoted candidates continue their fits from the rung below (forests
        on ``n_estimators``), so a rung costs only what it adds to the one before."""
        top = max(self.max_resources, 1)
        share, before = 0.0, 0
        for count, amount in zip(self.candidates, self.amounts, strict=True):
            share += count * (min(amount, top) - (before if grown else 0)) / top
            before = min(amount, top)
        return share

    def describe(self) -> str:
        """``24 → 8 → 3 candidates on n_estimators 6 → 18 → 54``."""
        counts = " → ".join(f"{n:,}" for n in self.candidates)
        amounts = " → ".join(f"{a:,}" for a in self.amounts)
        what = "rows" if self.resource == RESOURCE_SAMPLES else self.resource
        return f"{counts} candidates on {what} {amounts}"


def plan_rungs(n_candidates: int, *, factor: float, min_resources: int | str | None,
               max_resources: int, aggressive_elimination: bool, resource: str,
               n_splits: int, n_classes: int | None, strategy: str = "halving-grid",
               why: str = "") -> RungPlan:
    """scikit-learn's ``BaseSuccessiveHalving._run_search`` arithmetic, operation for
    operation (the same floors of the same logarithms, so the same rungs)."""
    setting = min_resources if min_resources is not None else default_min_resources(strategy)
    minimum: float = _first_minimum(setting, resource, n_splits, n_classes)
    if minimum > max_resources:
        raise SpecError(
            f"search.min_resources: the first rung needs {minimum:g} {_unit(resource)} but "
            f"max_resources is {max_resources}; lower min_resources or raise max_resources")
    n_candidates = max(1, n_candidates)
    n_required = 1 + math.floor(math.log(n_candidates, factor))
    if setting == "exhaust":
        minimum = max(minimum, max_resources // factor ** (n_required - 1))
    n_possible = 1 + math.floor(math.log(max_resources // minimum, factor))
    n_iterations = n_required if aggressive_elimination else min(n_possible, n_required)
    amounts, counts = [], []
    count = n_candidates
    for itr in range(n_iterations):
        power = itr
        if aggressive_elimination:
            power = max(0, itr - n_required + n_possible)
        amounts.append(min(int(factor ** power * minimum), max_resources))
        counts.append(count)
        count = math.ceil(count / factor)
    return RungPlan(resource, tuple(amounts), tuple(counts), minimum, max_resources,
                    n_required, n_possible, why)


def _first_minimum(setting: int | str, resource: str, n_splits: int,
                   n_classes: int | None) -> int:
    if setting in ("smallest", "exhaust"):
        if resource == RESOURCE_SAMPLES:
            return n_splits * 2 * (n_classes or 1)  # scikit-learn's "magic factor" of 2
        return 1
    return int(setting)


def _unit(resource: str) -> str:
    return "rows" if resource == RESOURCE_SAMPLES else resource


@dataclass(frozen=True)
class Resource:
    """The budget a study spends: its name, its largest amount, and why it was chosen."""

    name: str  # "n_samples" or the parameter as the space names it
    maximum: int
    why: str


def resolve_resource(search: Any, facts: StudyFacts, searched: set[str]) -> Resource:
    """The spec's ``resource`` made concrete for this estimator and data.

    An estimator parameter's largest budget is ``max_resources``, else the value the
    estimator has (its default, or the spec's fixed value), so a forest of 60 trees is
    halved on up to 60 trees."""
    params = facts.estimator_params
    resource = search.resource
    if resource == RESOURCE_SAMPLES:
        return Resource(RESOURCE_SAMPLES, search.max_resources or facts.n_samples,
                        "the rows of each training fold")
    if resource != RESOURCE_AUTO:
        name = resource_in_space(resource, params) if params else resource
        if name is None:
            raise SpecError(f"search.resource: {facts.estimator or 'the estimator'} has no "
                            f"parameter {resource!r}; use \"n_samples\", \"auto\" or one of "
                            "its integer parameters such as n_estimators or max_iter")
        if name in searched:
            raise SpecError(f"search.resource: {name} is searched in the space; the budget "
                            "cannot also be a searched hyperparameter")
        maximum = search.max_resources or _positive_int(params.get(name))
        if maximum is None:
            raise SpecError(f"search.max_resources: give the largest {name} to spend "
                            f"({facts.estimator}'s own value is {params.get(name)!r})")
        return Resource(name, maximum, f"{facts.estimator}'s parameter {name}")
    skipped = []
    for wanted in AUTO_PARAMETERS:
        name = _budget_parameter(params, wanted)
        if name is None:
            continue
        value = _positive_int(params[name])
        if name in searched:
            skipped.append(f"{name} is searched")
            continue
        if value is None:
            skipped.append(f"its {name} is {params[name]!r}")
            continue
        maximum = search.max_resources or value
        return Resource(name, maximum, f"resource \"auto\" chose {name}, "
                                       f"{facts.estimator}'s own budget parameter "
                                       f"(up to {maximum:,})")
    reason = "; ".join(skipped) if skipped else (
        f"{facts.estimator or 'the estimator'} has no n_estimators or max_iter")
    return Resource(RESOURCE_SAMPLES, search.max_resources or facts.n_samples,
                    f"resource \"auto\" chose the rows of each training fold ({reason})")


def _budget_parameter(params: Mapping[str, Any], wanted: str) -> str | None:
    """``wanted`` itself, or the one ``step__wanted`` of a pipeline."""
    if wanted in params:
        return wanted
    nested = [name for name in params if name.endswith(f"__{wanted}")]
    return nested[0] if len(nested) == 1 else None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        return None
    return int(value)


# ----- the worker's side: a fold under a budget -----------------------------------------------


def apply_budget(budget: Budget, train: np.ndarray, test: np.ndarray, params: dict[str, Any],
                 n_samples: int, prefix: str = "") -> tuple[np.ndarray, np.ndarray,
                                                             dict[str, Any]]:
    """A fold's train and test rows and the candidate's parameters under ``budget``.

    ``n_samples``: both parts are subsampled to ``amount / n_samples`` of their rows, as
    scikit-learn's ``_SubsampleMetaSplitter`` does (``resample`` without replacement,
    seeded by the search's seed, so every candidate of a rung sees the same rows). An
    estimator parameter is set to the amount."""
    if budget.resource == RESOURCE_SAMPLES:
        from sklearn.utils import resample

        fraction = budget.amount / n_samples
        train = resample(train, replace=False, random_state=budget.seed,
                         n_samples=int(fraction * len(train)))
        test = resample(test, replace=False, random_state=budget.seed,
                        n_samples=int(fraction * len(test)))
        return train, test, params
    name = budget.resource
    if prefix and name.startswith(prefix):
        name = name[len(prefix):]
    amount = budget.amount
    value = int(amount) if float(amount).is_integer() else amount
    return train, test, {**params, name: value}


# ----- candidates of the first rung -----------------------------------------------------------


def first_rung(strategy: str, space: Sequence[SubSpace], n_trials: int | None,
               seed: int | None, exhaust_count: int) -> list[tuple[int, dict[str, Any]]]:
    """(sub-space, params) of every candidate, in scikit-learn's order: ``ParameterGrid``
    for halving-grid, ``ParameterSampler`` seeded like HalvingRandomSearchCV for
    halving-random (``n_trials`` draws; None: scikit-learn's "exhaust"; a candidate drawn
    twice is kept once)."""
    if strategy == "halving-grid":
        return list(iter_grid(space))
    from sklearn.model_selection import ParameterSampler

    distributions = [{name: _distribution(f"space[{i}].{name}", dim)
                      for name, dim in sub.items()} for i, sub in enumerate(space)]
    n = n_trials if n_trials is not None else max(1, exhaust_count)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fewer candidates than asked for
        sampled = list(ParameterSampler(distributions if len(distributions) > 1
                                        else distributions[0], n, random_state=seed))
    keys = [set(sub) for sub in space]
    out, seen = [], set()
    for params in map(_plain, sampled):
        key = candidate_key(params)
        if key in seen:  # drawn twice: tried once (scikit-learn would fit it twice)
            continue
        seen.add(key)
        out.append((next((i for i, k in enumerate(keys) if k == set(params)), 0), params))
    return out


def _distribution(name: str, dim: Any) -> Any:
    """A space dimension as scikit-learn's ParameterSampler takes it."""
    from scipy import stats

    if isinstance(dim, Values):
        return list(dim.values)
    if dim.num is not None or dim.step is not None:
        return dim.grid(name)
    if isinstance(dim, IntRange):
        return _LogInt(dim.low, dim.high) if dim.log else stats.randint(dim.low, dim.high + 1)
    assert isinstance(dim, FloatRange)
    if dim.log:
        return stats.loguniform(dim.low, dim.high)
    return stats.uniform(dim.low, dim.high - dim.low)


class _LogInt:
    """Integers drawn log-uniformly from [low, high] (what a log int range means)."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def rvs(self, random_state: Any = None) -> int:
        rng = np.random.mtrand._rand if random_state is None else random_state
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
        return int(min(self.high, max(self.low, math.floor(value))))


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}


# ----- the strategies -----------------------------------------------------------------------------


class _Halving(Strategy):
    """What both modes share: the plan, the candidates, the results per rung."""

    def __init__(self, search: Any, space: Sequence[SubSpace]) -> None:
        self._search = search
        self._space = list(space)
        self.plan: RungPlan | None = None
        self._base: list[tuple[int, dict[str, Any]]] = []
        self._scores: list[dict[int, float]] = []  # per rung: number -> mean score (NaN)
        self._asked: set[Key] = set()

    def bind(self, facts: StudyFacts) -> None:
        search = self._search
        searched = {name for sub in self._space for name in sub}
        resource = resolve_resource(search, facts, searched)
        setting = search.min_resources or default_min_resources(search.strategy)
        exhaust = 0
        if search.strategy == "halving-random" and search.n_trials is None:
            first = _first_minimum(setting, resource.name, facts.n_splits, facts.n_classes)
            exhaust = resource.maximum // max(1, first)
        self._base = first_rung(search.strategy, self._space, search.n_trials, search.seed,
                                exhaust)
        self.plan = plan_rungs(
            len(self._base), factor=search.factor, min_resources=search.min_resources,
            max_resources=resource.maximum,
            aggressive_elimination=search.aggressive_elimination, resource=resource.name,
            n_splits=facts.n_splits, n_classes=facts.n_classes, strategy=search.strategy,
            why=resource.why)
        self._scores = [{} for _ in range(self.plan.n_rungs)]
        self._asked = set()

    @property
    def _bound_plan(self) -> RungPlan:
        if self.plan is None:
            raise RuntimeError("bind() the strategy to the study's facts first")
        return self.plan

    def candidate(self, number: int, rung: int) -> Candidate:
        """Candidate ``number`` at ``rung``, with its budget (and the budget parameter in
        its parameters, as scikit-learn's ``cv_results_`` lists it)."""
        plan = self._bound_plan
        subspace, params = self._base[number]
        amount = plan.amounts[rung]
        if plan.resource == RESOURCE_SAMPLES:
            budget = Budget(RESOURCE_SAMPLES, amount, self._search.seed)
        else:
            budget = Budget(plan.resource, amount, last=rung == plan.n_rungs - 1)
            params = {**params, plan.resource: amount}
        return Candidate(number, dict(params), subspace, rung, budget)

    def _take(self, number: int, rung: int) -> Candidate:
        self._asked.add((number, rung))
        return self.candidate(number, rung)

    def tell(self, trial: TrialRecord) -> None:
        if self.plan is None or not 0 <= trial.rung < self.plan.n_rungs:
            return
        if not 0 <= trial.number < len(self._base):
            return
        score = trial.mean_test_score if trial.ok else math.nan
        self._scores[trial.rung][trial.number] = float(score)
        self._asked.add(trial.key)
        self._advance()

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        if self.plan is not None:
            self._scores = [{} for _ in range(self.plan.n_rungs)]
            self._asked = set()
        for trial in sorted(finished, key=lambda t: (t.rung, t.number)):
            self.tell(trial)

    def _advance(self) -> None:
        """Move rungs forward after a result (what each mode decides)."""

    def _pending(self) -> int:
        told = sum(len(s) for s in self._scores)
        return len(self._asked) - told

    def closing_notes(self) -> list[str]:
        if self.plan is None:
            return []
        return agreement_notes(self.plan.amounts, _unit(self.plan.resource), self._scores)

    def describe_plan(self) -> list[str]:
        plan = self._bound_plan
        mode = "asynchronous" if self._search.asynchronous else "synchronous"
        return [f"successive halving ({mode}, factor {self._search.factor:g}): {plan.why}",
                f"rungs: {plan.describe()} ({plan.trials:,} trials in the synchronous plan)"]


class HalvingStrategy(_Halving):
    """Synchronous successive halving: scikit-learn's rungs and choices, exactly.

    ``eager`` (the default) starts a candidate at the next rung as soon as its place
    there is certain; False waits for every rung to end, as scikit-learn does."""

    def __init__(self, search: Any, space: Sequence[SubSpace], *, eager: bool = True) -> None:
        super().__init__(search, space)
        self.eager = eager
        self._members: list[list[int] | None] = []

    def bind(self, facts: StudyFacts) -> None:
        super().bind(facts)
        plan = self._bound_plan
        self._members = [list(range(len(self._base)))] + [None] * (plan.n_rungs - 1)

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        if self.plan is not None:
            self._members = [list(range(len(self._base)))] + [None] * (self.plan.n_rungs - 1)
        super().restore(finished)

    @property
    def total(self) -> int | None:
        return None if self.plan is None else self.plan.trials

    @property
    def waiting(self) -> bool:
        return not self._done()

    def ask(self) -> Candidate | None:
        plan = self._bound_plan
        for rung in reversed(range(plan.n_rungs)):  # the larger budgets first: longest first
            for number in self._ready(rung):
                if (number, rung) not in self._asked:
                    return self._take(number, rung)
        return None

    def members(self, rung: int) -> list[int] | None:
        """The candidates of a rung in scikit-learn's order; None until it is decided."""
        return self._members[rung] if rung < len(self._members) else None

    def _ready(self, rung: int) -> list[int]:
        official = self._members[rung]
        if official is not None:  # the likely winners first: their promotions come sooner
            return official if rung == 0 else official[::-1]
        if self.eager and rung > 0:
            return self._certain(rung - 1)
        return []

    def _certain(self, rung: int) -> list[int]:
        """Candidates of ``rung`` whose promotion is already certain, best first: even if
        every result still missing beat them, they would stay in the top ``k``."""
        plan = self._bound_plan
        scores = self._scores[rung]
        k = plan.candidates[rung + 1]
        missing = plan.candidates[rung] - len(scores)
        ascending = sorted(s for s in scores.values() if not math.isnan(s))
        out = []
        for number, score in sorted(scores.items(), key=lambda item: -_key(item[1])):
            if math.isnan(score):
                break
            ahead = len(ascending) - bisect_left(ascending, score) - 1  # at least as good
            if ahead + missing + 1 > k:
                break  # the rest score lower still
            out.append(number)
        return out

    def _advance(self) -> None:
        plan = self._bound_plan
        for rung in range(plan.n_rungs - 1):
            members = self._members[rung]
            if members is None or self._members[rung + 1] is not None:
                continue
            scores = self._scores[rung]
            if all(n in scores for n in members):
                keep = plan.candidates[rung + 1]
                self._members[rung + 1] = top_k(members, [scores[n] for n in members], keep)

    def _done(self) -> bool:
        last = self._members[-1] if self._members else None
        return last is not None and all(n in self._scores[-1] for n in last)


def top_k(numbers: Sequence[int], scores: Sequence[float], k: int) -> list[int]:
    """scikit-learn's ``_top_k``: the ``k`` best in ascending order of score, NaN first
    (so kept only when fewer than ``k`` are finite), ties as ``np.argsort`` orders them."""
    values = np.asarray(scores, dtype=float)
    order = np.roll(np.argsort(values), np.count_nonzero(np.isnan(values)))
    return [int(numbers[i]) for i in order[-k:]]


def _key(score: float) -> float:
    return -math.inf if math.isnan(score) else score


class AsyncHalvingStrategy(_Halving):
    """Asynchronous successive halving: no rung boundary ever makes a worker wait.

    Each ask proposes, in this order: a promotion that is already certain (as in the
    synchronous mode: even if every missing result of its rung beat the candidate, it
    would stay in the top ``ceil(n / factor)``); a new first-rung candidate; and only
    when neither exists and a worker is idle (fewer folds in flight than workers), a
    speculative promotion in the ASHA manner: the best candidate of a rung that ranks in
    the top ``floor(done / factor)`` of the results it has so far. Once a rung can get no
    more candidates, its top ``ceil(n / factor)`` are all promoted, so the synchronous
    choices are always among the asynchronous ones; a speculative promotion that the
    rung's final ranking would not have made is extra work, counted in the closing notes.
    """

    def __init__(self, search: Any, space: Sequence[SubSpace]) -> None:
        super().__init__(search, space)
        self._next = 0
        self.speculative: set[Key] = set()  # promotions made on partial results
        self._idle = True  # whether a worker has nothing to run (unknown: assume so)

    def note_backlog(self, in_flight: int, n_workers: int) -> None:
        self._idle = in_flight < n_workers

    def bind(self, facts: StudyFacts) -> None:
        super().bind(facts)
        self._next = 0
        self.speculative = set()

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        self._next = 0
        super().restore(finished)

    @property
    def total(self) -> int | None:
        if self.plan is None:
            return None
        if self._finished():
            return len(self._asked)
        return max(self.plan.trials, len(self._asked))

    @property
    def waiting(self) -> bool:
        return self._pending() > 0

    def ask(self) -> Candidate | None:
        plan = self._bound_plan
        for rung in reversed(range(plan.n_rungs - 1)):
            certain = self._certain(rung)
            if certain:
                return self._take(certain[0], rung + 1)
        while self._next < len(self._base):
            number = self._next
            self._next += 1
            if (number, 0) not in self._asked:
                return self._take(number, 0)
        for rung in reversed(range(plan.n_rungs - 1)):
            hopeful = self._speculative(rung) if self._idle or not self._pending() else []
            if hopeful:
                self.speculative.add((hopeful[0], rung + 1))
                return self._take(hopeful[0], rung + 1)
        return None

    def _ranked(self, rung: int) -> list[int]:
        scores = self._scores[rung]
        return sorted((n for n, s in scores.items() if not math.isnan(s)),
                      key=lambda n: (-scores[n], n))

    def _members_of(self, rung: int) -> set[int] | None:
        """Every candidate ``rung`` will hold, once that is known: those promoted into it
        and the rest of the top of the rung below, once that one has ended."""
        if rung == 0:
            return set(range(len(self._base)))
        if not self._closed(rung - 1):
            return None
        below = self._members_of(rung - 1)
        assert below is not None
        keep = math.ceil(len(below) / self._search.factor)
        top = self._ranked(rung - 1)[:keep]
        return {n for (n, r) in self._asked if r == rung} | set(top)

    def _size(self, rung: int) -> int | None:
        members = self._members_of(rung)
        return None if members is None else len(members)

    def _certain(self, rung: int) -> list[int]:
        """Candidates of ``rung`` sure to be in its final top, not yet promoted."""
        size = self._size(rung)
        if size is None:
            return []
        scores = self._scores[rung]
        keep = math.ceil(size / self._search.factor)
        missing = size - len(scores)
        out = []
        for place, number in enumerate(self._ranked(rung)):
            ties = sum(1 for s in scores.values() if s == scores[number]) - 1
            if place + ties + missing + 1 > keep:
                break
            if (number, rung + 1) not in self._asked:
                out.append(number)
        return out

    def _speculative(self, rung: int) -> list[int]:
        keep = math.floor(len(self._scores[rung]) / self._search.factor)
        return [n for n in self._ranked(rung)[:keep] if (n, rung + 1) not in self._asked]

    def _closed(self, rung: int) -> bool:
        """Whether no more candidates can enter ``rung`` and all of them have results."""
        members = self._members_of(rung)
        return members is not None and all(n in self._scores[rung] for n in members)

    def _finished(self) -> bool:
        plan = self._bound_plan
        return (self._next >= len(self._base) and self._pending() == 0
                and not any(self._certain(r) or self._speculative(r)
                            for r in range(plan.n_rungs - 1)))

    def closing_notes(self) -> list[str]:
        if self.plan is None:
            return []
        plan = self.plan
        ran = [sum(1 for (_, r) in self._asked if r == rung) for rung in range(plan.n_rungs)]
        lines = [f"asynchronous halving ran {' + '.join(map(str, ran))} trials per rung; "
                 f"the synchronous rungs run {' + '.join(map(str, plan.candidates))}"]
        wrong = 0
        for number, rung in self.speculative:
            below = self._scores[rung - 1]
            keep = math.ceil(len(below) / self._search.factor)
            if number not in self._ranked(rung - 1)[:keep]:
                wrong += 1
        if self.speculative:
            lines.append(f"{len(self.speculative)} promotion"
                         f"{'s' if len(self.speculative) != 1 else ''} made on partial "
                         f"results so that no worker waited; {wrong} of them the rung's final "
                         "ranking would not have made")
        return lines + super().closing_notes()


def make_halving(search: Any, space: Sequence[SubSpace]) -> _Halving:
    """The halving strategy a spec asks for."""
    if search.asynchronous:
        return AsyncHalvingStrategy(search, space)
    return HalvingStrategy(search, space)


__all__ = [
    "AUTO_PARAMETERS",
    "AsyncHalvingStrategy",
    "HalvingStrategy",
    "Resource",
    "RungPlan",
    "apply_budget",
    "first_rung",
    "make_halving",
    "plan_rungs",
    "resolve_resource",
    "top_k",
]

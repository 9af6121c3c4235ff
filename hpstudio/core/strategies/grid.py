"""Exhaustive grid search: trial n is always scikit-learn's candidate n.

Numbers, storage and exports follow ``ParameterGrid`` order. Only the order in which
candidates are *started* may differ: candidates sharing the leading steps of a pipeline are
started together when an ``order`` key is given (so a worker reuses those steps' output),
and once the last candidates fit in a small tail, the most expensive ones (predicted from
the fit times of finished trials sharing their values) go first, so the study does not end
with one worker busy on a slow fit while the others idle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from statistics import fmean
from typing import Any

from hpstudio.core.records import Candidate, TrialRecord
from hpstudio.core.space import SubSpace, candidate_key, iter_grid
from hpstudio.core.strategies.base import SequenceStrategy

TAIL = 64  # candidates left when longest-first ordering takes over


class GridStrategy(SequenceStrategy):
    """``order``: a sort key of a candidate's parameters; candidates with equal keys are
    started one after the other (in number order within a key)."""

    def __init__(self, subspaces: Sequence[SubSpace], limit: int | None = None,
                 order: Callable[[Mapping[str, Any]], Any] | None = None) -> None:
        super().__init__()
        self._candidates = [
            Candidate(number, params, subspace)
            for number, (subspace, params) in enumerate(iter_grid(subspaces))
        ]
        self._total = min(len(self._candidates), limit) if limit else len(self._candidates)
        # The SequenceStrategy counts positions in the start order; ``_number`` maps them to
        # trial numbers (the identity without an order).
        self._number = list(range(self._total))
        if order is not None:
            first_seen: dict[Any, int] = {}
            for number in self._number:
                first_seen.setdefault(order(self._candidates[number].params), number)
            self._number.sort(key=lambda n: first_seen[order(self._candidates[n].params)])
        self._position = {number: position for position, number in enumerate(self._number)}
        self._log_costs: dict[tuple[str, str], list[float]] = {}
        self._all_log_costs: list[float] = []
        self._tail: list[int] | None = None

    @property
    def total(self) -> int:
        return self._total

    def candidate(self, number: int) -> Candidate | None:
        """The candidate started at position ``number`` of the start order."""
        return self._candidates[self._number[number]] if number < self._total else None

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        super().restore(finished)
        self._done = {self._position[n] for n in self._done if n in self._position}
        self._tail = None
        for trial in finished:
            self.tell(trial)

    def tell(self, trial: TrialRecord) -> None:
        if not trial.fit_times:
            return
        cost = math.log(max(1e-6, trial.mean_fit_time + trial.mean_score_time))
        self._all_log_costs.append(cost)
        for key in candidate_key(trial.params):
            self._log_costs.setdefault(key, []).append(cost)

    def ask(self) -> Candidate | None:
        if self._tail is None:
            if not self._log_costs or self._total - self._next > TAIL:
                return super().ask()
            self._tail = [n for n in range(self._next, self._total) if n not in self._done]
        if not self._tail:
            return None
        # max() keeps the first of equals, so ties still start in grid order
        position = max(self._tail, key=self._predicted_log_cost)
        self._tail.remove(position)
        return self.candidate(position)

    def _predicted_log_cost(self, position: int) -> float:
        """Additive in log time: each value's mean cost over the trials that used it."""
        candidate = self.candidate(position)
        assert candidate is not None
        known = [fmean(costs) for key in candidate_key(candidate.params)
                 if (costs := self._log_costs.get(key))]
        return fmean(known) if known else fmean(self._all_log_costs)

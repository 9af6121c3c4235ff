"""Exhaustive grid search in ``ParameterGrid`` order, so trial n is sklearn's candidate n."""

from __future__ import annotations

from collections.abc import Sequence

from hpstudio.core.records import Candidate
from hpstudio.core.space import SubSpace, iter_grid
from hpstudio.core.strategies.base import SequenceStrategy


class GridStrategy(SequenceStrategy):
    def __init__(self, subspaces: Sequence[SubSpace], limit: int | None = None) -> None:
        super().__init__()
        self._candidates = [
            Candidate(number, params, subspace)
            for number, (subspace, params) in enumerate(iter_grid(subspaces))
        ]
        self._total = min(len(self._candidates), limit) if limit else len(self._candidates)

    @property
    def total(self) -> int:
        return self._total

    def candidate(self, number: int) -> Candidate | None:
        return self._candidates[number] if number < self._total else None

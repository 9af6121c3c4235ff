"""Seeded random search: log ranges sampled log-uniformly, no candidate proposed twice.

The sequence is a pure function of the seed, so a resumed study regenerates it and
skips what already finished. When the space is finite and smaller than the budget,
the study ends once every candidate has been tried.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpstudio.core.records import Candidate
from hpstudio.core.space import (
    SubSpace,
    Values,
    candidate_key,
    is_log,
    space_size,
    subspace_size,
)
from hpstudio.core.strategies.base import SequenceStrategy

_MAX_REJECTIONS = 2000
_MAX_ENUMERATED = 200_000


class RandomStrategy(SequenceStrategy):
    def __init__(self, subspaces: Sequence[SubSpace], n_trials: int, seed: int | None) -> None:
        super().__init__()
        self._subspaces = list(subspaces)
        self._rng = np.random.default_rng(seed)
        self._generated: list[Candidate] = []
        self._seen: set[Any] = set()
        self._exhausted = False
        size = space_size(self._subspaces)
        self._total = int(min(n_trials, size)) if math.isfinite(size) else n_trials
        self._permutation: list[tuple[int, dict[str, Any]]] | None = None
        if math.isfinite(size) and size <= _MAX_ENUMERATED and not any(
            is_log(dim) for sub in self._subspaces for dim in sub.values()
        ):
            # Small finite space: a seeded permutation of every candidate is exact and fast.
            everything = list(_enumerate_all(self._subspaces))
            order = self._rng.permutation(len(everything))
            self._permutation = [everything[i] for i in order]

    @property
    def total(self) -> int:
        return self._total

    def candidate(self, number: int) -> Candidate | None:
        while len(self._generated) <= number and not self._exhausted:
            self._generate_one()
        return self._generated[number] if number < len(self._generated) else None

    def _generate_one(self) -> None:
        number = len(self._generated)
        if self._permutation is not None:
            if number >= len(self._permutation):
                self._exhausted = True
                return
            subspace, params = self._permutation[number]
            self._generated.append(Candidate(number, params, subspace))
            return
        for _ in range(_MAX_REJECTIONS):
            subspace = int(self._rng.integers(len(self._subspaces)))
            params = {name: dim.sample(self._rng)
                      for name, dim in self._subspaces[subspace].items()}
            key = candidate_key(params)
            if key not in self._seen:
                self._seen.add(key)
                self._generated.append(Candidate(number, params, subspace))
                return
        self._exhausted = True  # a finite space with every candidate already drawn


def _enumerate_all(subspaces: Sequence[SubSpace]) -> list[tuple[int, dict[str, Any]]]:
    from sklearn.model_selection import ParameterGrid

    out: list[tuple[int, dict[str, Any]]] = []
    seen: set[Any] = set()
    for index, sub in enumerate(subspaces):
        if not math.isfinite(subspace_size(sub)):
            continue
        grid = {name: list(dim.values) if isinstance(dim, Values)
                else list(range(dim.low, dim.high + 1)) for name, dim in sub.items()}
        for params in ParameterGrid(grid):
            key = candidate_key(params)
            if key not in seen:
                seen.add(key)
                out.append((index, params))
    return out

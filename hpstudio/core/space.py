"""Search-space dimensions and sub-spaces.

A search space is a list of sub-spaces, exactly like scikit-learn's ``param_grid``
list of dicts, so anything a user can write for ``GridSearchCV`` can be written here
and enumerated in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from hpstudio.core.errors import SpecError


@dataclass(frozen=True)
class Values:
    """An explicit list of values, tried as given (in order, for grid search)."""

    values: tuple[Any, ...]

    def grid(self, name: str) -> list[Any]:
        return list(self.values)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    @property
    def size(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class IntRange:
    """Integers in [low, high], both inclusive; log-uniform when ``log``."""

    low: int
    high: int
    log: bool = False
    num: int | None = None
    step: int | None = None

    def grid(self, name: str) -> list[int]:
        if self.step is not None:
            return list(range(self.low, self.high + 1, self.step))
        if self.num is None:
            return list(range(self.low, self.high + 1))
        space = np.geomspace if self.log else np.linspace
        points = np.rint(space(self.low, self.high, self.num)).astype(int)
        return [int(v) for v in dict.fromkeys(points.tolist())]

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high + 1)))
            return int(min(self.high, max(self.low, math.floor(value))))
        return int(rng.integers(self.low, self.high + 1))

    @property
    def size(self) -> int:
        return self.high - self.low + 1


@dataclass(frozen=True)
class FloatRange:
    """Reals in [low, high]; log-uniform when ``log`` (for C, alpha, gamma, learning rates)."""

    low: float
    high: float
    log: bool = False
    num: int | None = None
    step: float | None = None

    def grid(self, name: str) -> list[float]:
        if self.step is not None:
            count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
            return [float(self.low + i * self.step) for i in range(count)]
        if self.num is None:
            raise SpecError(
                f"{name}: grid search needs `num` (number of points) or `step` to discretise "
                f"the float range [{self.low}, {self.high}]; e.g. {{ low = {self.low}, "
                f"high = {self.high}, num = 5 }}"
            )
        space = np.geomspace if self.log else np.linspace
        return [float(v) for v in space(self.low, self.high, self.num)]

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    @property
    def size(self) -> float:
        return math.inf


Dimension = Union[Values, IntRange, FloatRange]  # noqa: UP007 - used at run time
SubSpace = Mapping[str, Dimension]


def grid_of(subspaces: Sequence[SubSpace]) -> list[dict[str, list[Any]]]:
    """The ``param_grid`` that scikit-learn would be given for these sub-spaces."""
    return [{name: dim.grid(name) for name, dim in sub.items()} for sub in subspaces]


def subspace_size(sub: SubSpace) -> float:
    return math.prod(dim.size for dim in sub.values()) if sub else 1


def space_size(subspaces: Sequence[SubSpace]) -> float:
    """Distinct candidates in the space; ``inf`` when any float range is continuous."""
    return sum(subspace_size(sub) for sub in subspaces)


def grid_size(subspaces: Sequence[SubSpace]) -> int:
    return sum(math.prod(len(dim.grid(n)) for n, dim in sub.items()) for sub in subspaces)


def iter_grid(subspaces: Sequence[SubSpace]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(sub-space index, params) in ``ParameterGrid`` order, so results line up with sklearn."""
    from sklearn.model_selection import ParameterGrid

    for index, grid in enumerate(grid_of(subspaces)):
        yield from ((index, params) for params in ParameterGrid(grid))


def candidate_key(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A hashable identity for a candidate: equal params give equal keys across runs."""
    return tuple(sorted((name, _canonical(value)) for name, value in params.items()))


def _canonical(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return repr(value)


def is_log(dim: Dimension) -> bool:
    return isinstance(dim, IntRange | FloatRange) and dim.log


def log_scale_names(subspaces: Sequence[SubSpace]) -> set[str]:
    """Hyperparameters that plots should draw on a log axis."""
    return {name for sub in subspaces for name, dim in sub.items() if is_log(dim)}

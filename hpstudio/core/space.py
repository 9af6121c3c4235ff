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

# The most candidates a grid may have. Grid search lists every candidate before the first
# fit (to number them in ``ParameterGrid`` order), so a bigger grid is refused by counting,
# before anything is allocated, rather than left to exhaust memory.
MAX_GRID_CANDIDATES = 1_000_000
# Above this many points an int range's exact grid (rounded, de-duplicated) is approximated.
_EXACT_INT_GRID_LIMIT = 100_000


@dataclass(frozen=True)
class Values:
    """An explicit list of values, tried as given (in order, for grid search)."""

    values: tuple[Any, ...]

    def grid(self, name: str) -> list[Any]:
        return list(self.values)

    def grid_count(self, name: str) -> int:
        return len(self.values)

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
        _refuse_big_grid(name, self, self._point_count())
        if self.step is not None:
            return list(range(self.low, self.high + 1, self.step))
        if self.num is None:
            return list(range(self.low, self.high + 1))
        space = np.geomspace if self.log else np.linspace
        points = np.rint(space(self.low, self.high, self.num)).astype(int)
        return [int(v) for v in dict.fromkeys(points.tolist())]

    def grid_count(self, name: str) -> int:
        """Points of :meth:`grid`, counted without listing them (rounding may merge some)."""
        count = self._point_count()
        if self.num is not None and self.step is None and count <= _EXACT_INT_GRID_LIMIT:
            return len(self.grid(name))
        return count

    def _point_count(self) -> int:
        if self.step is not None:
            return len(range(self.low, self.high + 1, self.step))
        width = self.high - self.low + 1
        return width if self.num is None else min(self.num, width)

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
        count = self.grid_count(name)
        _refuse_big_grid(name, self, count)
        if self.step is not None:
            return [float(self.low + i * self.step) for i in range(count)]
        space = np.geomspace if self.log else np.linspace
        return [float(v) for v in space(self.low, self.high, self.num)]

    def grid_count(self, name: str) -> int:
        """Points of :meth:`grid`, counted without listing them."""
        if self.step is not None:
            return step_count(self.low, self.high, self.step)
        if self.num is None:
            raise SpecError(
                f"{name}: grid search needs `num` (number of points) or `step` to discretise "
                f"the float range [{self.low}, {self.high}]; e.g. {{ low = {self.low}, "
                f"high = {self.high}, num = 5 }}"
            )
        return self.num

    def sample(self, rng: np.random.Generator) -> float:
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))

    @property
    def size(self) -> float:
        return math.inf


Dimension = Union[Values, IntRange, FloatRange]  # noqa: UP007 - used at run time
SubSpace = Mapping[str, Dimension]


def step_count(low: float, high: float, step: float) -> int:
    """Points of ``low, low + step, ...`` up to ``high``; more than any grid allows if huge.

    Computed in floating point, where a tiny step over a wide range overflows to infinity;
    such a count is returned as one past :data:`MAX_GRID_CANDIDATES` so callers refuse it.
    """
    ratio = (high - low) / step + 1e-9
    if not math.isfinite(ratio) or ratio >= MAX_GRID_CANDIDATES:
        return MAX_GRID_CANDIDATES + 1
    return math.floor(ratio) + 1


def _refuse_big_grid(name: str, dim: IntRange | FloatRange, count: int) -> None:
    if count > MAX_GRID_CANDIDATES:
        raise SpecError(
            f"{name}: grid search over [{dim.low}, {dim.high}] would try "
            f"{_count_text(count)} values, more than the {MAX_GRID_CANDIDATES:,} a grid may "
            "have; give `num` (number of points) or a larger `step`, or use random search"
        )


def _count_text(count: int) -> str:
    """Exact counts as they are; the overflow marker of :func:`step_count` as a bound."""
    if count == MAX_GRID_CANDIDATES + 1:
        return f"more than {MAX_GRID_CANDIDATES:,}"
    return f"{count:,}"


def check_grid(subspaces: Sequence[SubSpace]) -> int:
    """The number of grid candidates; SpecError if a grid cannot be listed.

    Counting is arithmetic, so this stays instant for any space: a range of ten billion
    integers is refused by its count, never by trying to list it.
    """
    total = 0
    for index, sub in enumerate(subspaces):
        size = 1
        for name, dim in sub.items():
            count = dim.grid_count(f"space[{index}].{name}")
            if not isinstance(dim, Values):
                _refuse_big_grid(f"space[{index}].{name}", dim, count)
            size *= count
            if size > MAX_GRID_CANDIDATES:
                raise SpecError(
                    f"space[{index}]: grid search over this sub-space would try "
                    f"{_count_text(size)} candidates, more than the {MAX_GRID_CANDIDATES:,} "
                    "a grid may have; use fewer values or points, or random search"
                )
        total += size
        if total > MAX_GRID_CANDIDATES:
            raise SpecError(
                f"space: grid search would try {_count_text(total)} candidates, more than "
                f"the {MAX_GRID_CANDIDATES:,} a grid may have; use fewer values or points, "
                "or random search"
            )
    return total


def grid_of(subspaces: Sequence[SubSpace]) -> list[dict[str, list[Any]]]:
    """The ``param_grid`` that scikit-learn would be given for these sub-spaces."""
    check_grid(subspaces)
    return [{name: dim.grid(f"space[{index}].{name}") for name, dim in sub.items()}
            for index, sub in enumerate(subspaces)]


def subspace_size(sub: SubSpace) -> float:
    return math.prod(dim.size for dim in sub.values()) if sub else 1


def space_size(subspaces: Sequence[SubSpace]) -> float:
    """Distinct candidates in the space; ``inf`` when any float range is continuous."""
    return sum(subspace_size(sub) for sub in subspaces)


def grid_size(subspaces: Sequence[SubSpace]) -> int:
    """Candidates of a grid search, counted arithmetically (however large the grid)."""
    return sum(
        math.prod(dim.grid_count(f"space[{index}].{name}") for name, dim in sub.items())
        for index, sub in enumerate(subspaces)
    )


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

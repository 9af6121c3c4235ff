"""Refine a study: a new spec whose search space is narrowed around its best trials.

A coarse first search over wide ranges, then a second one zoomed in where the good
candidates were, is how people tune by hand. This module does the zooming, with a rule
simple enough to state in one sentence so the user can check and edit the result:

* keep the top ``fraction`` of complete trials (at least ``min_top``);
* a numeric range becomes the [min, max] of those trials' values, widened on each side by
  ``margin`` of the original range's width (measured in log space for log ranges), rounded
  outwards to three significant digits and clipped to the original bounds;
* a value list keeps only the values those trials used (in the original order);
* the strategy, its budget and grid resolutions (``num``/``step``) stay as they were.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import TrialRecord
from hpstudio.core.space import Dimension, FloatRange, IntRange, SubSpace, Values
from hpstudio.core.spec import StudySpec

__all__ = ["RangeChange", "Refinement", "describe_dimension", "refine_spec", "top_trials"]

DEFAULT_FRACTION = 0.10
DEFAULT_MIN_TOP = 5
DEFAULT_MARGIN = 0.10
_DIGITS = 3


@dataclass(frozen=True)
class RangeChange:
    """One hyperparameter of one sub-space, before and after refining."""

    subspace: int
    name: str
    old: Dimension
    new: Dimension

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def old_text(self) -> str:
        return describe_dimension(self.old)

    @property
    def new_text(self) -> str:
        return describe_dimension(self.new)


@dataclass(frozen=True)
class Refinement:
    """The refined spec and what was done to get it, for the user to review."""

    spec: StudySpec
    changes: tuple[RangeChange, ...]
    n_top: int
    n_complete: int
    dropped_subspaces: tuple[int, ...]
    explanation: str


def top_trials(trials: Sequence[TrialRecord], *, fraction: float = DEFAULT_FRACTION,
               min_top: int = DEFAULT_MIN_TOP) -> list[TrialRecord]:
    """The best complete trials, best first (ties: lower trial number first)."""
    complete = [t for t in trials if t.ok and math.isfinite(t.mean_test_score)]
    complete.sort(key=lambda t: (-t.mean_test_score, t.number))
    count = min(len(complete), max(min_top, math.ceil(fraction * len(complete))))
    return complete[:count]


def refine_spec(spec: StudySpec, trials: Sequence[TrialRecord], *,
                fraction: float = DEFAULT_FRACTION, min_top: int = DEFAULT_MIN_TOP,
                margin: float = DEFAULT_MARGIN) -> Refinement:
    """A new spec named "<name> refined" whose space is narrowed around the top trials."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if margin < 0:
        raise ValueError(f"margin must be ≥ 0, got {margin}")
    top = top_trials(trials, fraction=fraction, min_top=min_top)
    if not top:
        raise HpstudioError(f"study {spec.name!r} has no complete trial yet, so there is "
                            "nothing to refine around; run it first")
    n_complete = sum(1 for t in trials if t.ok and math.isfinite(t.mean_test_score))
    single = len(spec.space) == 1
    changes: list[RangeChange] = []
    subspaces: list[SubSpace] = []
    dropped: list[int] = []
    for index, sub in enumerate(spec.space):
        members = top if single else [t for t in top if t.subspace == index]
        if not members:
            dropped.append(index)
            continue
        narrowed: dict[str, Dimension] = {}
        for name, dim in sub.items():
            values = [t.params[name] for t in members if name in t.params]
            new = _narrow(dim, values, margin)
            narrowed[name] = new
            changes.append(RangeChange(index, name, dim, new))
        subspaces.append(narrowed)
    new_spec = replace(spec, name=f"{spec.name} refined", space=tuple(subspaces))
    return Refinement(new_spec, tuple(changes), len(top), n_complete, tuple(dropped),
                      _explain(spec, len(top), n_complete, fraction, min_top, margin, dropped))


def describe_dimension(dim: Dimension) -> str:
    """A short human reading of a dimension, as the refine dialog lists it."""
    if isinstance(dim, Values):
        return "[" + ", ".join(_value_text(v) for v in dim.values) + "]"
    text = f"{_num_text(dim.low)} … {_num_text(dim.high)}"
    extras = [e for e in ("log" if dim.log else "",
                          f"num={dim.num}" if dim.num is not None else "",
                          f"step={_num_text(dim.step)}" if dim.step is not None else "") if e]
    return text + (f" ({', '.join(extras)})" if extras else "")


# ----- narrowing ----------------------------------------------------------------------------


def _narrow(dim: Dimension, values: list[Any], margin: float) -> Dimension:
    if isinstance(dim, Values):
        return _narrow_values(dim, values)
    numbers = [float(v) for v in values
               if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    if not numbers:
        return dim
    if dim.log:
        numbers = [v for v in numbers if v > 0]
        if not numbers:
            return dim
    return _narrow_range(dim, min(numbers), max(numbers), margin)


def _narrow_values(dim: Values, values: list[Any]) -> Values:
    used = {_key(v) for v in values}
    kept = tuple(v for v in dim.values if _key(v) in used)
    return Values(kept) if kept else dim


def _narrow_range(dim: IntRange | FloatRange, lo: float, hi: float,
                  margin: float) -> IntRange | FloatRange:
    forward, back = (math.log, math.exp) if dim.log else (float, float)
    pad = margin * (forward(dim.high) - forward(dim.low))
    low = back(forward(lo) - pad)
    high = back(forward(hi) + pad)
    if isinstance(dim, IntRange):
        new_low = max(dim.low, min(math.floor(low + 1e-9), int(lo)))
        new_high = min(dim.high, max(math.ceil(high - 1e-9), int(hi)))
        return replace(dim, low=int(new_low), high=int(new_high))
    new_low = max(dim.low, min(_round_out(low, down=True), lo))
    new_high = min(dim.high, max(_round_out(high, down=False), hi))
    return replace(dim, low=float(new_low), high=float(new_high))


def _round_out(value: float, *, down: bool) -> float:
    """Round to a few significant digits, away from the inside of the range."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (math.floor(math.log10(abs(value))) - _DIGITS + 1)
    scaled = value / scale
    # guard against 0.30000000000000004-style noise before taking floor/ceil
    nearest = round(scaled)
    if abs(scaled - nearest) < 1e-9:
        scaled = nearest
    rounded = (math.floor(scaled) if down else math.ceil(scaled)) * scale
    return float(f"{rounded:.{_DIGITS + 2}g}")


def _key(value: Any) -> str:
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    return f"{type(value).__name__}:{value!r}" if isinstance(value, bool) else repr(value)


def _explain(spec: StudySpec, n_top: int, n_complete: int, fraction: float, min_top: int,
             margin: float, dropped: Sequence[int]) -> str:
    text = (
        f"Narrowed around the top {n_top} of {n_complete} complete trials (the best "
        f"{fraction:.0%}, at least {min_top}): each numeric range is the [min, max] of their "
        f"values widened by {margin:.0%} of the original range on each side (in log space for "
        "log ranges) and clipped to the original bounds; each value list keeps only the values "
        "they used."
    )
    if spec.search.strategy == "grid":
        text += " Grid resolution (num/step) is kept."
    else:
        text += f" Strategy {spec.search.strategy!r} and its budget are kept."
    if dropped:
        listed = ", ".join(str(i + 1) for i in dropped)
        text += f" Sub-space {listed} had no top trial and was left out."
    return text


def _num_text(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.4g}"


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items()) + "}"
    return str(value)

"""What ``hpstudio.tune`` needs from the core: scikit-learn's arguments as a study.

``tune`` takes what ``GridSearchCV`` / ``RandomizedSearchCV`` take (an estimator object,
a ``param_grid`` or ``param_distributions``, ``cv``, ``scoring``, ``refit``, ``groups``)
and runs them through the study loop. This module turns those arguments into the core's
terms: sub-spaces of Values / IntRange / FloatRange, a splitter whose splits are computed
the same way in every worker, and the scorers by metric key. Everything here is checked
before the first fit, with a message naming the argument at fault.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpstudio.core.describe import is_estimator, plain
from hpstudio.core.errors import SpecError
from hpstudio.core.records import SCORE
from hpstudio.core.space import Dimension, FloatRange, IntRange, SubSpace, Values

__all__ = ["FixedSplits", "GroupsBound", "Scoring", "check_param_names", "log_params",
           "make_splitter", "normalize_scoring", "space_from_param_grid"]

DISTRIBUTIONS_UNDERSTOOD = ("scipy.stats uniform, loguniform (reciprocal) and randint, "
                            "skopt Real, Integer and Categorical")


# ----- the search space --------------------------------------------------------------------


def space_from_param_grid(param_grid: Any) -> tuple[SubSpace, ...]:
    """scikit-learn's ``param_grid`` / ``param_distributions`` as sub-spaces.

    A dict is one sub-space, a list of dicts one per dict. A value is a list (or tuple,
    range, 1-d array) of candidates, which may be estimator objects; a ``scipy.stats``
    uniform, loguniform or randint distribution; or a scikit-optimize dimension."""
    if isinstance(param_grid, Mapping):
        grids: Sequence[Any] = [param_grid]
    elif isinstance(param_grid, Sequence) and not isinstance(param_grid, str):
        grids = param_grid
    else:
        raise SpecError(f"param_grid: expected a dict of parameter -> values or a list of "
                        f"such dicts, got {type(param_grid).__name__}")
    if not grids:
        raise SpecError("param_grid: the list of sub-spaces is empty; give at least one dict")
    subspaces = []
    for index, grid in enumerate(grids):
        where = "param_grid" if len(grids) == 1 else f"param_grid[{index}]"
        if not isinstance(grid, Mapping):
            raise SpecError(f"{where}: expected a dict of parameter -> values, got "
                            f"{type(grid).__name__}")
        if not grid:
            raise SpecError(f"{where}: empty dict; give at least one parameter")
        subspace: dict[str, Dimension] = {}
        for name, value in grid.items():
            if not isinstance(name, str) or not name:
                raise SpecError(f"{where}: parameter names are text, got {name!r}")
            subspace[name] = dimension_of(f"{where}[{name!r}]", value)
        subspaces.append(subspace)
    return tuple(subspaces)


def dimension_of(key: str, value: Any) -> Dimension:
    """One parameter's candidates as a dimension of the core's search space."""
    if _is_frozen_distribution(value):
        return _from_distribution(key, value)
    skopt = _from_skopt(key, value)
    if skopt is not None:
        return skopt
    if isinstance(value, str | bytes) or is_estimator(value) or not _is_sequence(value):
        raise SpecError(
            f"{key}: expected a list of values, such as [{value!r:.40}], or a distribution "
            f"({DISTRIBUTIONS_UNDERSTOOD}); got {type(value).__name__}")
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise SpecError(f"{key}: an array of candidates must be one-dimensional, got shape "
                        f"{value.shape}")
    values = tuple(plain(v) for v in value)
    if not values:
        raise SpecError(f"{key}: empty list; give at least one value")
    return Values(values)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence | np.ndarray | range)


def _is_frozen_distribution(value: Any) -> bool:
    return hasattr(value, "rvs") and hasattr(value, "dist") and hasattr(value, "args")


def _from_distribution(key: str, frozen: Any) -> Dimension:
    """A frozen scipy.stats distribution as the range it draws from."""
    name = getattr(frozen.dist, "name", type(frozen.dist).__name__)
    shapes = [s.strip() for s in (frozen.dist.shapes or "").split(",") if s.strip()]
    args = dict(zip(shapes, frozen.args, strict=False))
    kwds = dict(frozen.kwds)
    loc = kwds.pop("loc", frozen.args[len(shapes)] if len(frozen.args) > len(shapes) else 0)
    scale = kwds.pop("scale",
                     frozen.args[len(shapes) + 1] if len(frozen.args) > len(shapes) + 1 else 1)
    args.update({k: v for k, v in kwds.items() if k in shapes})
    if name == "randint":
        low, high = args.get("low"), args.get("high")
        if not all(_is_int(v) for v in (low, high, loc)):
            raise SpecError(f"{key}: randint takes whole numbers low and high")
        if high - 1 < low:
            raise SpecError(f"{key}: randint({low}, {high}) draws nothing: its high is "
                            "exclusive, so it must be greater than low")
        return IntRange(int(low + loc), int(high - 1 + loc))
    if name == "uniform":
        if not (_is_number(loc) and _is_number(scale)) or scale <= 0:
            raise SpecError(f"{key}: uniform needs a finite loc and a scale > 0")
        return FloatRange(float(loc), float(loc + scale))
    if name in ("loguniform", "reciprocal"):
        low, high = args.get("a"), args.get("b")
        if loc != 0 or scale != 1:
            raise SpecError(f"{key}: a log-uniform range has no loc or scale; give its bounds, "
                            "e.g. loguniform(1e-3, 1e3)")
        if not (_is_number(low) and _is_number(high)) or not 0 < low < high:
            raise SpecError(f"{key}: loguniform needs 0 < a < b")
        return FloatRange(float(low), float(high), log=True)
    raise SpecError(f"{key}: scipy.stats.{name} has no bounds a search range can hold; "
                    f"use one of {DISTRIBUTIONS_UNDERSTOOD}, or a list of values")


def _from_skopt(key: str, value: Any) -> Dimension | None:
    kind = type(value).__name__
    if not type(value).__module__.startswith("skopt") or kind not in (
            "Real", "Integer", "Categorical"):
        return None
    if kind == "Categorical":
        return Values(tuple(plain(v) for v in value.categories))
    log = getattr(value, "prior", "uniform") == "log-uniform"  # any base: the same shape
    if not value.low <= value.high or (log and value.low <= 0):
        raise SpecError(f"{key}: {value} needs low ≤ high{' and low > 0' if log else ''}")
    if kind == "Integer":
        return IntRange(int(value.low), int(value.high), log=log)
    return FloatRange(float(value.low), float(value.high), log=log)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def log_params(subspaces: Sequence[SubSpace]) -> list[str]:
    """Parameters drawn on a log scale (for the plots' axes)."""
    return sorted({name for sub in subspaces for name, dim in sub.items()
                   if isinstance(dim, IntRange | FloatRange) and dim.log})


def check_param_names(estimator: Any, subspaces: Sequence[SubSpace]) -> None:
    """Refuse a parameter the estimator does not have, before any fit, with a suggestion.

    A name under a value set in the same sub-space (``reduce_dim__n_components`` where
    ``reduce_dim`` takes estimator objects) is checked against those objects."""
    valid = set(estimator.get_params(deep=True))
    for index, sub in enumerate(subspaces):
        for name in sub:
            if name in valid or _set_by_sibling(name, sub):
                continue
            close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            where = f"param_grid[{index}]" if len(subspaces) > 1 else "param_grid"
            raise SpecError(f"{where}: {type(estimator).__name__} has no parameter "
                            f"{name!r}{hint}; valid names are those of "
                            "estimator.get_params(deep=True)")


def _set_by_sibling(name: str, sub: SubSpace) -> bool:
    parts = name.split("__")
    for end in range(1, len(parts)):
        head, rest = "__".join(parts[:end]), "__".join(parts[end:])
        dim = sub.get(head)
        if isinstance(dim, Values):
            holders = [v for v in dim.values if is_estimator(v)]
            if holders and all(rest in v.get_params(deep=True) or v == "passthrough"
                               for v in holders):
                return True
    return False


# ----- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scoring:
    """The scorers of a study by metric key, in the user's order, and which one ranks.

    ``label`` is how the ranking metric is named for people ("accuracy"; "score" for the
    estimator's own); ``refit`` is False when no best estimator should be refitted."""

    scorers: tuple[tuple[str, Any], ...]
    rank: str
    label: str
    refit: bool
    multimetric: bool

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.scorers)

    @property
    def ranked_first(self) -> tuple[tuple[str, Any], ...]:
        """The scorers with the ranking one first: the study loop ranks trials by the
        first metric it is given."""
        first = [item for item in self.scorers if item[0] == self.rank]
        return tuple(first + [item for item in self.scorers if item[0] != self.rank])

    @property
    def single_name(self) -> str | None:
        """The scorer's name when there is one metric given by name (a spec can hold it)."""
        if self.multimetric:
            return None
        scorer = self.scorers[0][1]
        return scorer if isinstance(scorer, str) else None


def normalize_scoring(scoring: Any, refit: Any) -> Scoring:
    """scikit-learn's ``scoring`` and ``refit`` as a :class:`Scoring`; SpecError if wrong."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        scorer = _check_scorer("scoring", scoring)
        label = scoring if isinstance(scoring, str) else (
            SCORE if scoring is None else getattr(scoring, "__name__", SCORE))
        if refit not in (None, True, False) and refit != SCORE:
            raise SpecError(f"refit: {refit!r} is not a metric of this search; with one "
                            "metric give refit=True (the default) or False")
        return Scoring(((SCORE, scorer),), SCORE, str(label), refit is not False, False)
    if isinstance(scoring, Mapping):
        items = list(scoring.items())
        for key, _ in items:
            if not isinstance(key, str) or not key:
                raise SpecError(f"scoring: metric names are text, got {key!r}")
    elif isinstance(scoring, list | tuple | set | frozenset):
        names = list(scoring)
        if not all(isinstance(n, str) for n in names):
            raise SpecError("scoring: a list of metrics holds scorer names, such as "
                            "['accuracy', 'f1_macro']; give a dict to name callables")
        if len(set(names)) != len(names):
            raise SpecError(f"scoring: {names} names a metric twice")
        items = [(n, n) for n in names]
    else:
        raise SpecError(f"scoring: expected None, a scorer name, a callable, a list of names "
                        f"or a dict of them, got {type(scoring).__name__}")
    if not items:
        raise SpecError("scoring: no metric given; give at least one")
    scorers = tuple((key, _check_scorer(f"scoring[{key!r}]", value)) for key, value in items)
    keys = [key for key, _ in scorers]
    if refit is None:
        rank, do_refit = keys[0], True
    elif refit is False:
        rank, do_refit = keys[0], False
    elif isinstance(refit, str) and refit in keys:
        rank, do_refit = refit, True
    else:
        raise SpecError(f"refit: with several metrics, name the one that picks the best "
                        f"candidate, one of {keys} (got {refit!r})")
    return Scoring(scorers, rank, rank, do_refit, True)


def _check_scorer(where: str, scorer: Any) -> Any:
    if scorer is None or callable(scorer):
        return scorer
    if not isinstance(scorer, str):
        raise SpecError(f"{where}: expected a scorer name or a callable, got {scorer!r:.60}")
    from sklearn.metrics import get_scorer_names

    names = set(get_scorer_names())
    if scorer not in names:
        close = difflib.get_close_matches(scorer, sorted(names), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError(f"{where}: unknown scorer {scorer!r}{hint}; any name from "
                        "sklearn.metrics.get_scorer_names() is allowed")
    return scorer


# ----- splitting ---------------------------------------------------------------------------


class GroupsBound:
    """A splitter with its ``groups`` attached, so every caller of ``split(X, y)`` (the
    workers, the split count, the split warnings) splits by the same groups."""

    def __init__(self, splitter: Any, groups: Any) -> None:
        self.splitter = splitter
        self.groups = groups

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        return self.splitter.split(X, y, self.groups)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return int(self.splitter.get_n_splits(X, y, self.groups))

    def __repr__(self) -> str:
        return f"{self.splitter!r} with groups"


class FixedSplits:
    """Splits computed once, for a splitter that would split differently at each call
    (shuffling with no fixed seed): every worker must evaluate on the same folds."""

    def __init__(self, splits: Iterable[tuple[Any, Any]]) -> None:
        self.splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Any:
        yield from self.splits

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return len(self.splits)

    def __repr__(self) -> str:
        return f"FixedSplits({len(self.splits)} splits)"


def make_splitter(cv: Any, X: Any, y: Any, classifier: bool, groups: Any = None) -> Any:
    """The study's splitter: scikit-learn's ``check_cv`` rule (an int is StratifiedKFold
    for classifiers, KFold otherwise), groups bound, splits made fixed when a second call
    would give others; SpecError when ``cv`` cannot split this data."""
    from sklearn.model_selection import check_cv

    if isinstance(cv, bool) or (isinstance(cv, int | np.integer) and cv < 2):
        raise SpecError(f"cv: expected a number of folds ≥ 2 or a splitter, got {cv!r}")
    try:
        splitter = check_cv(5 if cv is None else cv, y, classifier=classifier)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"cv: {exc}") from None
    if groups is not None:
        splitter = GroupsBound(splitter, np.asarray(groups))
    try:
        first = _fingerprint(splitter.split(X, y))
        if _fingerprint(splitter.split(X, y)) != first:
            splitter = FixedSplits(splitter.split(X, y))
    except (TypeError, ValueError) as exc:
        raise SpecError(f"cv: {type(exc).__name__}: {exc}") from None
    return splitter


def _fingerprint(splits: Iterable[tuple[Any, Any]]) -> list[bytes]:
    return [np.asarray(test).tobytes() + b"|" + np.asarray(train).tobytes()
            for train, test in splits]

"""Parameter importance by functional ANOVA over a random forest (no Qt).

Which hyperparameters matter? A one-way ANOVA of the score on each parameter is
cheap, but one absurd score or a handful of trials is enough to make a parameter
with no effect look important, and its shares need not add up to anything. The
functional ANOVA of Hutter, Hoos and Leyton-Brown (2014) asks the question of a
model instead: a random forest is fitted to the trials, and the variance of its
prediction over the search space is split into the part each parameter explains
on its own (its main effect) and the rest (interactions). The shares of the main
effects are fractions of one variance, so they sum to at most 1 by construction.

The forest is the one Optuna's ``FanovaImportanceEvaluator`` fits (scikit-learn's
``RandomForestRegressor``, 64 trees, depth 64, same seed) on the same encoding
(numbers as they are, categories one-hot, parameters in name order), so fitted to
the scores the shares are Optuna's to rounding on numeric and two-way parameters.
The variance decomposition is computed here rather than by calling Optuna because
Optuna walks every tree in Python once per split point, which grows with the square
of the trials (16 s for 1,000 trials on a 2-core machine, 2 s for 300); the
decomposition below is vectorised over the leaves of each tree and takes a few
milliseconds per tree. Three choices differ from Optuna's, each for a reason a user
of a search space would give:

* a log-scaled parameter is analysed on its log axis (the axis the search sampled
  and the plots show), where Optuna integrates over the linear range and so sees
  mostly the top decade;
* a categorical parameter varies over its categories, each weighing the same, where
  Optuna's one-hot box also counts combinations that no trial can have (no
  category, or two at once);
* a trial that lacks a parameter (it belongs to another sub-space) is kept, where
  Optuna drops every trial that lacks any parameter. When a categorical parameter
  says which trials have it (``gamma`` exactly when ``kernel`` is "rbf"), its gaps
  are filled with values drawn from the trials that have it, so the kernel keeps
  the credit for the sub-space; otherwise "not set" is one more state of the
  parameter, weighing the share of trials without it.

By default the forest is fitted to the ranks of the scores, not the scores: the
question is which settings make a trial better, and on ranks the answer no longer
depends on the metric's scale (``neg_mean_squared_error`` and its root give the same
shares) and one absurd score (a diverged fit at -1e12) moves the fit no more than
any other worst trial. On raw scores such a trial owns the variance and hands it to
whichever parameters isolate it; clipping it to an outlier fence was not enough in
30-trial studies, ranks were. ``target="scores"`` fits the scores themselves, which
is Optuna's fANOVA exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from numbers import Real
from typing import Any, Literal

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "DEFAULT_MAX_TRIALS",
    "Importances",
    "ParameterValues",
    "fanova_importances",
    "parameters_from_dicts",
]

DEFAULT_MAX_TRIALS = 2000
"""Trials fed to the forest at most: about half a second on one laptop core, and
enough for the forest to see the shape of a few-parameter space. Beyond it the
best tenth are kept and the rest drawn uniformly (see :func:`fanova_importances`)."""

N_TREES = 64
MAX_DEPTH = 64
_BEST_SHARE = 0.1  # of the trial cap, kept by score when a study is subsampled

METHOD = "fANOVA over a random forest"
Target = Literal["ranks", "scores"]


@dataclass(frozen=True)
class ParameterValues:
    """One hyperparameter over the trials, as the analysis reads it.

    ``values`` holds the number itself for a numeric parameter and the category code
    (0, 1, ... ; any distinct numbers) for a categorical one, with NaN where the
    trial does not have the parameter (it belongs to another sub-space). This is
    the layout of the plots' parameter columns, so they pass straight in. A ``log``
    parameter is analysed on its log10 axis, unless it has a value of 0 or less,
    which only its linear axis can hold.
    """

    name: str
    values: np.ndarray
    log: bool = False
    categorical: bool = False


@dataclass(frozen=True)
class Importances:
    """Each parameter's share of the score variance, and what it was computed on.

    ``shares`` maps every parameter to the fraction of the forest's prediction
    variance its main effect explains, largest first; they sum to at most 1, and
    ``interactions`` is the rest (parameters acting together). ``spread`` is the
    standard deviation of each share over the trees, a hint of how firm it is.
    ``n_used`` trials of ``n_scored`` with a finite score fed the forest
    (``n_best`` of them kept for their score when the study was subsampled), fitted
    to their score ``target`` ("ranks" or "scores"). ``note`` says why every share
    is 0 when there was nothing to analyse.
    """

    shares: dict[str, float]
    spread: dict[str, float] = field(default_factory=dict)
    n_used: int = 0
    n_scored: int = 0
    n_best: int = 0
    target: Target = "ranks"
    n_trees: int = N_TREES
    method: str = METHOD
    note: str = ""

    @property
    def interactions(self) -> float:
        """Share of the variance no single parameter explains (never below 0); 0 when
        there was nothing to analyse."""
        return 0.0 if self.note else max(0.0, 1.0 - sum(self.shares.values()))

    @property
    def sampled(self) -> bool:
        return self.n_used < self.n_scored

    def describe(self) -> str:
        """One line for a plot's caption: the method and the trials it used."""
        if self.note:
            return f"{self.method}: {self.note}"
        used = f"{self.n_used:,} trials"
        if self.sampled:
            used = (f"{self.n_used:,} of {self.n_scored:,} trials (the best {self.n_best:,} "
                    f"and {self.n_used - self.n_best:,} drawn at random)")
        on = "score ranks" if self.target == "ranks" else "scores"
        return f"{self.method} ({self.n_trees} trees) fitted to the {on} of {used}"


def parameters_from_dicts(
    params: Sequence[Mapping[str, Any]], log_params: Iterable[str] = ()
) -> list[ParameterValues]:
    """Columns from one ``params`` dict per trial (``cv_results_['params']``).

    A parameter is numeric when every value it takes is a real number (``bool``
    excluded), categorical otherwise; a missing key marks a trial of another
    sub-space. Categories are coded in sorted order (None, booleans, numbers,
    strings, then the rest by their text), as the plots code them, so a code means
    the same category whatever order the trials came in.
    """
    log = frozenset(log_params)
    names = sorted({name for p in params for name in p})
    columns = []
    for name in names:
        raw = [p.get(name, _ABSENT) for p in params]
        present = [v for v in raw if v is not _ABSENT]
        numeric = all(isinstance(v, Real) and not isinstance(v, bool) for v in present)
        if numeric:
            values = np.array([math.nan if v is _ABSENT else float(v) for v in raw])
        else:
            distinct = {_category_key(v): v for v in present}
            order = sorted(distinct, key=lambda key: _category_order(distinct[key]))
            codes = {key: code for code, key in enumerate(order)}
            values = np.array(
                [math.nan if v is _ABSENT else codes[_category_key(v)] for v in raw], float
            )
        columns.append(ParameterValues(name, values, log=name in log and numeric,
                                       categorical=not numeric))
    return columns


_ABSENT = object()


def _category_key(value: Any) -> Any:
    """Identity of a category: its type and value (True is not 1), or its text when
    it cannot be hashed (a list, a dict)."""
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    return (type(value).__name__, value)


def _category_order(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool | np.bool_):
        return (1, bool(value))
    if isinstance(value, Real):
        return (2, float(value))
    if isinstance(value, str):
        return (3, value)
    return (4, repr(value))


def fanova_importances(
    parameters: Sequence[ParameterValues],
    scores: np.ndarray,
    *,
    target: Target = "ranks",
    max_trials: int = DEFAULT_MAX_TRIALS,
    seed: int = 0,
    n_trees: int = N_TREES,
    max_depth: int = MAX_DEPTH,
) -> Importances:
    """Share of the score variance each parameter explains on its own (fANOVA).

    ``scores`` holds one mean CV score per trial, higher is better; NaN (a failed
    trial) and infinite scores are left out. The forest learns the ranks of the
    scores (``target="ranks"``, robust to outlying scores) or the scores themselves
    (``"scores"``, Optuna's choice). Studies with more than ``max_trials`` scored
    trials are subsampled: the best tenth of the cap by score, so the forest
    resolves the region the user cares about, and the rest drawn uniformly from the
    others, so it still sees the whole space; both depend only on ``seed``.
    Parameters are analysed in name order (the order Optuna uses, which the forest's
    random draws depend on). A parameter that takes a single value among the trials
    used gets 0. Fewer than two usable trials or constant scores give every
    parameter 0, with ``note`` saying why.
    """
    if target not in ("ranks", "scores"):
        raise ValueError(f"target must be 'ranks' or 'scores', not {target!r}")
    scores = np.asarray(scores, dtype=float).ravel()
    params = sorted(parameters, key=lambda p: p.name)
    for p in params:
        if len(p.values) != len(scores):
            raise ValueError(f"parameter {p.name!r} has {len(p.values)} values "
                             f"for {len(scores)} scores")
    zeros = {p.name: 0.0 for p in params}
    scored = np.flatnonzero(np.isfinite(scores))
    base = Importances(zeros, dict(zeros), n_scored=len(scored), target=target,
                       n_trees=n_trees)
    if len(scored) < 2:
        return replace(base, note=f"needs at least 2 trials with a score, has {len(scored)}")
    rows, n_best = _subsample(scored, scores, max_trials, seed)
    base = replace(base, n_used=len(rows), n_best=n_best)
    y = scores[rows]
    if not np.ptp(y) > 1e-12 * max(1.0, float(np.abs(y).max())):
        return replace(base, note="the scores are all the same")
    if target == "ranks":
        y = (rankdata(y) - 0.5) / len(y)
    values = _fill_switched_absences(params, rows, seed)
    encoded = [e for e in map(_encode, params, values) if e is not None]
    if not encoded:
        return replace(base, note="no parameter takes two values")
    x = np.concatenate([e.columns for e in encoded], axis=1)
    forest = _fit_forest(x, y, n_trees, max_depth, seed)
    fractions = _forest_fractions(forest, encoded, x.shape[1])
    if fractions is None:
        return replace(base, note="the forest found no variance to explain")
    shares, spread = dict(zeros), dict(zeros)
    for e, column in zip(encoded, fractions.T, strict=True):
        shares[e.name] = float(column.mean())
        spread[e.name] = float(column.std())
    order = sorted(shares, key=lambda name: -shares[name])
    return replace(base, shares={name: shares[name] for name in order},
                   spread={name: spread[name] for name in order})


# -- the trials fed to the forest ------------------------------------------------------

def _subsample(
    scored: np.ndarray, scores: np.ndarray, max_trials: int, seed: int
) -> tuple[np.ndarray, int]:
    """Rows to fit on (in trial order) and how many were kept for their score."""
    if max_trials < 2:
        raise ValueError("max_trials must be at least 2")
    if len(scored) <= max_trials:
        return scored, 0
    n_best = max(1, int(max_trials * _BEST_SHARE))
    by_score = np.argsort(-scores[scored], kind="stable")
    best, rest = scored[by_score[:n_best]], scored[by_score[n_best:]]
    drawn = np.random.default_rng(seed).choice(rest, max_trials - n_best, replace=False)
    return np.sort(np.concatenate([best, drawn])), n_best


def _fill_switched_absences(
    params: list[ParameterValues], rows: np.ndarray, seed: int
) -> list[np.ndarray]:
    """Each parameter's values over ``rows``, with the gaps filled where another
    parameter already tells the sub-spaces apart.

    A trial lacks a parameter because it belongs to another sub-space. When a
    categorical parameter set in every trial fixes which trials have it (``gamma``
    exists exactly when ``kernel`` is "rbf"), "not set" says nothing new, and as a
    state of its own it would take the credit for the sub-space from ``kernel``.
    Such gaps are filled with values drawn from the trials that have the parameter,
    which the forest sees as noise. Otherwise (the only trace of a sub-space, like a
    ``bootstrap`` set in one of them) "not set" stays a state of the parameter."""
    values = [np.asarray(p.values, dtype=float)[rows] for p in params]
    switches = [v for p, v in zip(params, values, strict=True)
                if p.categorical and np.isfinite(v).all()]
    rng = np.random.default_rng(seed)
    filled = []
    for v in values:
        present = np.isfinite(v)
        if present.all() or not present.any() or not any(
            _tells_apart(s, present) for s in switches
        ):
            filled.append(v)
            continue
        v = v.copy()
        v[~present] = rng.choice(v[present], int((~present).sum()))
        filled.append(v)
    return filled


def _tells_apart(switch: np.ndarray, present: np.ndarray) -> bool:
    """Whether every value of ``switch`` goes either always or never with ``present``."""
    _, group = np.unique(switch, return_inverse=True)
    counts = np.bincount(group)
    having = np.bincount(group, weights=present)
    return bool(np.all((having == 0) | (having == counts)))


# -- encoding a parameter as forest columns plus the measure fANOVA integrates over ----

@dataclass(frozen=True)
class _Encoded:
    """A parameter as forest input: its columns and the measure over its states.

    Numeric: one column, uniform over ``[low, high]`` with weight ``1 - absent``
    plus, when some trials lack it, a point at ``sentinel`` (below ``low``) with
    weight ``absent``. Categorical: one 0/1 column per state (the categories seen,
    then "absent" if any trial lacks it), the state's measure in ``weights``: the
    categories share ``1 - absent`` equally."""

    name: str
    columns: np.ndarray
    categorical: bool
    low: float = 0.0
    high: float = 0.0
    sentinel: float = 0.0
    absent: float = 0.0
    weights: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def width(self) -> int:
        return self.columns.shape[1]


def _encode(p: ParameterValues, values: np.ndarray) -> _Encoded | None:
    values = np.asarray(values, dtype=float)
    present = np.isfinite(values)
    absent_share = 1.0 - float(present.mean())
    if not present.any():
        return None
    if p.categorical:
        codes, inverse = np.unique(values[present], return_inverse=True)
        n_states = len(codes) + (absent_share > 0)
        if n_states < 2:
            return None
        state = np.full(len(values), len(codes))
        state[present] = inverse
        onehot = np.zeros((len(values), n_states))
        onehot[np.arange(len(values)), state] = 1.0
        weights = np.full(len(codes), (1.0 - absent_share) / len(codes))
        if absent_share > 0:
            weights = np.append(weights, absent_share)
        return _Encoded(p.name, onehot, True, weights=weights)
    axis = values[present]
    if p.log and (axis > 0).all():
        axis = np.log10(axis)
    low, high = float(axis.min()), float(axis.max())
    if absent_share == 0 and high == low:
        return None
    if high == low:  # one value where set: an interval of any width stands for it
        low, high = low - 0.5, high + 0.5
    sentinel = low - (high - low)  # splits against it fall at or below ``low``
    column = np.full(len(values), sentinel)
    column[present] = axis
    return _Encoded(p.name, column[:, None], False, low, high, sentinel, absent_share)


# -- the forest and its variance decomposition -----------------------------------------

def _fit_forest(x: np.ndarray, y: np.ndarray, n_trees: int, max_depth: int, seed: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor  # deferred: sklearn loads slowly

    forest = RandomForestRegressor(
        n_estimators=n_trees, max_depth=max_depth, min_samples_split=2, min_samples_leaf=1,
        random_state=seed,
    )
    return forest.fit(x, y)


def _forest_fractions(forest: Any, encoded: list[_Encoded], n_columns: int) -> np.ndarray | None:
    """Per tree (rows) and parameter (columns): main-effect variance / total variance,
    over the trees whose prediction varies at all; None when none does."""
    starts = np.cumsum([0] + [e.width for e in encoded])
    rows = []
    for estimator in forest.estimators_:
        leaves = _leaf_boxes(estimator.tree_, n_columns)
        row = _tree_fractions(leaves, encoded, starts)
        if row is not None:
            rows.append(row)
    return np.array(rows) if rows else None


@dataclass(frozen=True)
class _Leaves:
    value: np.ndarray  # (n_leaves,) prediction
    lower: np.ndarray  # (n_leaves, n_columns): x > lower on the path to the leaf
    upper: np.ndarray  # (n_leaves, n_columns): x <= upper
    thresholds: list[np.ndarray]  # per column, the tree's split points on it


def _leaf_boxes(tree: Any, n_columns: int) -> _Leaves:
    """The box of each leaf, found level by level (vectorised over a level's nodes)."""
    left, right = tree.children_left, tree.children_right
    feature, threshold = tree.feature, tree.threshold
    n = tree.node_count
    lower = np.full((n, n_columns), -np.inf)
    upper = np.full((n, n_columns), np.inf)
    level = np.array([0])
    while level.size:
        level = level[left[level] >= 0]  # the split nodes of this level
        if not level.size:
            break
        f, t = feature[level], threshold[level]
        lo, hi = left[level], right[level]
        lower[lo], upper[lo] = lower[level], upper[level]
        lower[hi], upper[hi] = lower[level], upper[level]
        upper[lo, f] = t
        lower[hi, f] = t
        level = np.concatenate([lo, hi])
    leaf = left < 0
    split = ~leaf
    thresholds = [threshold[split & (feature == j)] for j in range(n_columns)]
    return _Leaves(tree.value[leaf, 0, 0].astype(float), lower[leaf], upper[leaf], thresholds)


def _tree_fractions(
    leaves: _Leaves, encoded: list[_Encoded], starts: np.ndarray
) -> np.ndarray | None:
    """fANOVA of one tree: each parameter's main-effect variance over the total.

    Each leaf is a box; its weight under the product measure is the product over
    parameters of the measure of its side along that parameter (``share``). The
    main effect of a parameter at a state is the mean prediction with that state
    fixed and the others integrated out: the sum over the leaves holding the state
    of value times the leaf's weight along the other parameters."""
    share = np.column_stack([
        _measure(e, leaves.lower[:, s:s + e.width], leaves.upper[:, s:s + e.width])
        for e, s in zip(encoded, starts, strict=False)
    ])
    weight = share.prod(axis=1)
    mean = float(weight @ leaves.value)
    total = float(weight @ (leaves.value - mean) ** 2)
    if not total > 0:
        return None
    out = np.empty(len(encoded))
    for i, (e, s) in enumerate(zip(encoded, starts, strict=False)):
        others = np.delete(share, i, axis=1).prod(axis=1) * leaves.value
        lower, upper = leaves.lower[:, s:s + e.width], leaves.upper[:, s:s + e.width]
        if e.categorical:
            effect = _holds_states(lower, upper).T.astype(float) @ others
            masses = e.weights
        else:
            effect, masses = _numeric_effect(e, lower[:, 0], upper[:, 0], others,
                                             leaves.thresholds[s])
        out[i] = max(0.0, float(masses @ (effect - mean) ** 2)) / total
    return out


def _holds_states(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(n_leaves, n_states): whether each one-hot state lies in each leaf's box.

    State c is the point with 1 in column c and 0 elsewhere: the leaf must admit a 1
    in column c and a 0 in every other column, counted per row so the cost grows
    with the number of states, not its square."""
    admits_one = (lower < 1.0) & (upper >= 1.0)
    refuses_zero = ~((lower < 0.0) & (upper >= 0.0))
    refusals = refuses_zero.sum(axis=1, keepdims=True)
    return admits_one & (refusals - refuses_zero == 0)


def _measure(e: _Encoded, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Measure of each leaf's side along one parameter (a number in [0, 1])."""
    if e.categorical:
        return _holds_states(lower, upper) @ e.weights
    lo, hi = lower[:, 0], upper[:, 0]
    inside = np.clip(np.minimum(hi, e.high) - np.maximum(lo, e.low), 0.0, None)
    out = inside / (e.high - e.low) * (1.0 - e.absent)
    if e.absent:
        out += e.absent * ((lo < e.sentinel) & (e.sentinel <= hi))
    return out


def _numeric_effect(
    e: _Encoded, lower: np.ndarray, upper: np.ndarray, others: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Main effect on each segment between the tree's split points (and at the
    "absent" point), with each one's measure.

    A leaf covers a run of consecutive segments, so its contribution is added at
    the run's start and taken away at its end, and one cumulative sum gives every
    segment's value in O(leaves + segments)."""
    inner = thresholds[(thresholds > e.low) & (thresholds < e.high)]
    edges = np.unique(np.concatenate([[e.low, e.high], inner]))
    first = np.searchsorted(edges, np.clip(lower, e.low, e.high))
    stop = np.searchsorted(edges, np.clip(upper, e.low, e.high))
    n_segments = len(edges) - 1
    runs = np.bincount(first, others, n_segments + 1) - np.bincount(stop, others, n_segments + 1)
    effect = np.cumsum(runs)[:n_segments]
    masses = np.diff(edges) / (e.high - e.low) * (1.0 - e.absent)
    if e.absent:
        holds = (lower < e.sentinel) & (e.sentinel <= upper)
        effect = np.append(effect, others[holds].sum())
        masses = np.append(masses, e.absent)
    return effect, masses

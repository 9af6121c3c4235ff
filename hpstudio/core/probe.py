"""Cheap estimates of what a study will cost, made before it runs.

The editor shows "18 candidates × 5 folds = 90 fits" while the user types and, after one
probe fit, "≈ 12 s on 2 workers". Both must stay instant for any space the user can type,
so candidates are counted arithmetically, never by enumerating a grid (an int range of a
billion values must not allocate a billion-element list just to be counted).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hpstudio.core.errors import SpecError
from hpstudio.core.space import Dimension, FloatRange, SubSpace, Values, space_size


@dataclass(frozen=True)
class PlannedWork:
    """How many trials and fits a spec implies if no time or patience budget stops it."""

    strategy: str
    candidates: float  # distinct candidates in the space; inf for continuous ranges
    trials: int
    folds: int  # splits per candidate (0: only the data can tell)
    splitter: str | None = None  # the named splitter, None for the folds shorthand
    outer: int | None = None  # outer folds of nested CV (each runs the whole search)
    rungs: Any = None  # successive halving: its RungPlan
    grown: bool = False  # halving on n_estimators of a forest: promotions add trees
    budgets_known: bool = True  # False: rows of data not known yet (no dataset)

    @property
    def fits(self) -> int:
        """Fits of the search, and with nested CV of each outer fold's search and refit."""
        search = self.trials * self.folds
        return search if self.outer is None else search * (self.outer + 1) + self.outer

    @property
    def full_budget_fits(self) -> float:
        """The fits counted as full-budget fits (a fit on a third of the rows counts a
        third): what a duration estimate from one full probe fit should multiply."""
        if self.rungs is None:
            return float(self.fits)
        return self.rungs.budget_share(self.grown) * self.folds

    def describe(self) -> str:
        """The count line of the editor, e.g. ``18 candidates × 5 folds = 90 fits``."""
        if self.splitter is None:
            folds = f"{self.folds} folds"
        elif self.folds:
            folds = f"{self.folds} {self.splitter} split{'s' if self.folds != 1 else ''}"
        else:
            folds = f"the splits {self.splitter} makes of the data"
        search = self.trials * self.folds
        fits = f"{search:,} fit{'s' if search != 1 else ''}"
        if not self.folds:
            fits = "? fits until the data is loaded"
        elif self.outer is not None:
            fits += (f"; nested CV runs it again in {self.outer or '?'} outer folds: "
                     f"{self.fits:,} fits")
        if self.rungs is not None:
            plan = self.rungs
            counts = " → ".join(f"{n:,}" for n in plan.candidates)
            on = plan.describe().split(" candidates ", 1)[1] if self.budgets_known else (
                "rows" if plan.resource == "n_samples" else plan.resource)
            return (f"{counts} candidates in {plan.n_rungs} rung"
                    f"{'s' if plan.n_rungs != 1 else ''} ({on}) = {self.trials:,} trials "
                    f"× {folds} = {fits}")
        if self.strategy == "grid":
            if math.isfinite(self.candidates) and self.trials < self.candidates:
                what = f"{self.trials:,} of {int(self.candidates):,} candidates"
            else:
                what = f"{self.trials:,} candidate{'s' if self.trials != 1 else ''}"
        else:
            what = f"{self.trials:,} trial{'s' if self.trials != 1 else ''}"
        return f"{what} × {folds} = {fits}"


def dimension_grid_size(name: str, dim: Dimension) -> int:
    """Points a dimension contributes to a grid, computed without materialising the grid."""
    return dim.grid_count(name)


def grid_candidates(subspaces: Sequence[SubSpace]) -> int:
    """Candidates of a grid search over these sub-spaces (what ``ParameterGrid`` would yield)."""
    return sum(
        math.prod(dimension_grid_size(f"space[{index}].{name}", dim) for name, dim in sub.items())
        for index, sub in enumerate(subspaces)
    )


def planned_work(spec: Any, dataset: Any = None,
                 allowed_packages: Iterable[str] = ()) -> PlannedWork:
    """Trials and fits of a :class:`~hpstudio.core.spec.StudySpec`, safe for huge spaces.

    The splits per candidate come from the splitter (``get_n_splits``); splitters whose
    count depends on the data (leave-one-out, groups) are counted on ``dataset`` when
    given, and left unknown (0) otherwise. Successive halving counts its rungs; its rows
    budget needs the ``dataset`` (without one the data is taken to be large enough for
    every rung)."""
    search = spec.search
    if search.strategy in ("halving-grid", "halving-random"):
        return _planned_halving(spec, dataset, tuple(allowed_packages))
    if search.strategy == "grid":
        candidates: float = grid_candidates(spec.space)
        trials = int(min(candidates, search.n_trials)) if search.n_trials else int(candidates)
    else:
        candidates = space_size(spec.space)
        budget = search.n_trials or 0
        trials = int(min(budget, candidates)) if math.isfinite(candidates) else budget
    return PlannedWork(search.strategy, candidates, trials, _splits(spec.cv, dataset),
                       spec.cv.splitter, None if spec.cv.outer is None
                       else _splits(spec.cv.outer, dataset))


def _splits(cv: Any, dataset: Any) -> int:
    from hpstudio.core.splitters import planned_splits

    known = planned_splits(cv)
    if known is not None or dataset is None:
        return known or 0
    from hpstudio.core.splitters import count_splits, splitter_for

    try:
        splitter = splitter_for(cv, dataset.y, False, dataset.groups)
        return count_splits(splitter, cv.splitter, dataset.X, dataset.y, dataset.groups)
    except (SpecError, TypeError, ValueError):
        return 0


def _planned_halving(spec: Any, dataset: Any, allowed: tuple[str, ...]) -> PlannedWork:
    from hpstudio.core.grown_fits import grows_between_rungs, is_grown_budget
    from hpstudio.core.strategies.base import StudyFacts
    from hpstudio.core.strategies.halving import Resource, plan_rungs, resolve_resource

    search = spec.search
    folds = _splits(spec.cv, dataset) or spec.cv.folds
    n_samples = int(dataset.X.shape[0]) if dataset is not None else 10**12
    n_classes = dataset.n_classes if dataset is not None else None
    estimator_class = _estimator_class(spec, allowed)
    facts = StudyFacts(n_samples, folds, n_classes, spec.estimator.short_name,
                       _estimator_params(estimator_class, spec))
    searched = {name for sub in spec.space for name in sub}
    try:
        resource = resolve_resource(search, facts, searched)
        known = True
    except SpecError:
        if facts.estimator_params:
            raise  # a budget parameter the estimator lacks, or one that is searched
        # the estimator cannot be imported here: count the rungs as if budgets were ample
        name = search.resource if search.resource not in ("auto", "n_samples") else "n_samples"
        resource = Resource(name, search.max_resources or 10**12, "")
        known = False
    setting = search.min_resources
    if search.strategy == "halving-grid":
        candidates: float = grid_candidates(spec.space)
        count = int(candidates)
    else:
        candidates = space_size(spec.space)
        if search.n_trials is not None:
            count = search.n_trials
        else:  # scikit-learn's "exhaust": as many as the smallest budget allows
            first = 1 if resource.name != "n_samples" else folds * 2 * (n_classes or 1)
            count = resource.maximum // max(1, first if isinstance(setting, str | None)
                                            else setting)
        if math.isfinite(candidates):
            count = int(min(count, candidates))
    plan = plan_rungs(count, factor=search.factor, min_resources=setting,
                      max_resources=resource.maximum,
                      aggressive_elimination=search.aggressive_elimination,
                      resource=resource.name, n_splits=folds, n_classes=n_classes,
                      strategy=search.strategy, why=resource.why)
    return PlannedWork(search.strategy, candidates, plan.trials, folds, spec.cv.splitter,
                       None if spec.cv.outer is None else _splits(spec.cv.outer, dataset),
                       rungs=plan, budgets_known=known and (dataset is not None
                                                            or resource.name != "n_samples"),
                       grown=is_grown_budget(resource.name) and grows_between_rungs(
                           estimator_class, facts.estimator_params.get("random_state")))


def _estimator_class(spec: Any, allowed: tuple[str, ...]) -> type | None:
    """The estimator's class; None when it cannot be imported here (the editor counts
    while the class is still being typed)."""
    from hpstudio.core.errors import HpstudioError
    from hpstudio.core.estimators import resolve_estimator_class

    try:
        return resolve_estimator_class(spec.estimator.cls, allowed)
    except HpstudioError:
        return None


def _estimator_params(cls: type | None, spec: Any) -> dict[str, Any]:
    """The estimator's parameters with the fixed values applied; {} without the class."""
    from hpstudio.core.estimators import default_params

    return {} if cls is None else {**default_params(cls), **dict(spec.estimator.fixed)}


def first_candidate(spec: Any) -> dict[str, Any]:
    """The parameters a probe fit uses: the first grid point of the first sub-space.

    For a grid this is exactly ``ParameterGrid``'s first candidate. A continuous float range
    has no first point, so its middle (geometric middle on a log scale) stands in for it.
    """
    params: dict[str, Any] = {}
    for name, dim in spec.space[0].items():
        if isinstance(dim, Values):
            params[name] = dim.values[0]
        elif isinstance(dim, FloatRange) and dim.num is None and dim.step is None:
            params[name] = (math.sqrt(dim.low * dim.high) if dim.log
                            else (dim.low + dim.high) / 2)
        else:
            params[name] = dim.low
    return params


def probe_fit_seconds(spec: Any, dataset: Any, allowed_packages: Iterable[str] = ()) -> float:
    """Seconds to fit and score the estimator once, on the first cross-validation split.

    Uses the same estimator construction, preprocessing and splitter as the workers, so the
    estimate reflects what a trial really costs. Errors from the fit propagate: a candidate
    that cannot even be fitted is worth telling the user about before the study starts. A
    study that cannot succeed on the data (more folds than rows) raises SpecError first.
    """
    from hpstudio.core.data import split_off_groups
    from hpstudio.core.estimators import resolve_estimator_class
    from hpstudio.core.evaluate import build_estimator, context_for, fold_inputs, split_indices
    from hpstudio.core.feasibility import check_feasible

    if not spec.space:
        raise SpecError("space: give at least one sub-space before estimating its cost")
    if getattr(dataset, "groups", None) is None and spec.data.groups is not None:
        dataset = split_off_groups(dataset, spec.data.groups)  # the editor's data keeps it
    cls = resolve_estimator_class(spec.estimator.cls, allowed_packages)
    check_feasible(spec, dataset, allowed_packages)  # its reason, not the splitter's error
    context = context_for(spec, dataset, cls, tuple(allowed_packages))
    train, test = split_indices(context, dataset.X, dataset.y, dataset.groups)[0]
    estimator, X_train, y_train, X_test, y_test = fold_inputs(
        build_estimator(context), context, first_candidate(spec), dataset.X, dataset.y,
        train, test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        estimator.fit(X_train, y_train)
        estimator.score(X_test, y_test)
        return time.perf_counter() - started


def estimate_seconds(fit_seconds: float, fits: int, workers: int) -> float:
    """Wall-clock seconds for ``fits`` fits of ``fit_seconds`` each spread over ``workers``."""
    if fits <= 0:
        return 0.0
    return fit_seconds * fits / max(1, min(workers, fits))


def format_duration(seconds: float) -> str:
    """A rough human duration: the estimate is only good to a factor, so few digits."""
    if seconds < 1:
        return "< 1 s"
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{round(hours)} h"
    return f"{seconds / 86400:.1f} days"

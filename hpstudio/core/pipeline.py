"""The study's estimator as a scikit-learn Pipeline: described once, built in one place.

A spec names a chain ``data -> preprocess -> [[steps]] -> estimator``. :func:`plan_for` turns
it (and, once loaded, the data's column types) into a :class:`PipelinePlan`, a small
picklable description that travels to the workers; :func:`build_pipeline` makes the unfitted
estimator from it and :func:`apply_params` sets a candidate's parameters on it. Workers, the
duration probe, out-of-fold predictions, refitting and exports all go through these three
functions, so each fits exactly what a trial fits.

Names are scikit-learn's own ``get_params(deep=True)`` names (``pca__n_components``,
``preprocess__numeric__imputer__strategy``); a bare name (``C``) means the estimator's own
parameter, so every spec written before pipelines existed still runs. A study with nothing
but an estimator (no steps, no preprocessing, no choice of the estimator itself) builds the
bare estimator rather than a one-step Pipeline, so its numbers stay those of
``GridSearchCV(estimator)`` to the bit.

Values a spec may give (in ``fixed``, in ``[[steps]]`` and in the space):

* ``{ class = "dotted.Path", fixed = {...} }``: an object, built with those parameters (an
  estimator for a step or the estimator itself; any object with ``get_params`` elsewhere,
  such as a Gaussian-process kernel). The class must pass the allowed-package rule of
  :mod:`hpstudio.core.estimators`: scikit-learn's own, or a package the user allowed.
* ``{ function = "dotted.path" }``: a function of an allowed package (a ``score_func``).
* ``"passthrough"``: for a step, hands its input on unchanged.
* A list where scikit-learn wants a tuple (``ngram_range = [1, 2]``): TOML has no tuples, so
  a list becomes a tuple when the parameter's default is a tuple or when scikit-learn's
  parameter constraints accept a tuple but no list. Other lists are passed as lists.

Nothing in a spec is executed: classes and functions are only looked up, under that rule.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpstudio.core.errors import SpecError
from hpstudio.core.estimators import TRUSTED_PACKAGES, resolve_estimator_class
from hpstudio.core.space import SubSpace, Values
from hpstudio.core.spec import (
    DEFAULT_ESTIMATOR_NAME,
    PASSTHROUGH,
    PREPROCESS_STEP,
    StepSpec,
    _did_you_mean,
)

NUMERIC = "numeric"  # the preprocessing's transformer of number columns
CATEGORICAL = "categorical"  # ... of category columns
_DOTTED_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_SHOWN_NAMES = 60  # parameter names listed in a message at most


# ----- the description ---------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns the built-in preprocessing treats how (in the data's column order)."""

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelinePlan:
    """What a study fits, apart from a candidate's parameters; small and picklable.

    ``wrapped`` is False when the study is the estimator alone: then the estimator is built
    bare, and ``model__C`` and ``C`` both name its ``C``.
    """

    estimator: StepSpec
    steps: tuple[StepSpec, ...] = ()
    columns: ColumnPlan | None = None  # None: no built-in preprocessing step
    wrapped: bool = False

    @property
    def step_names(self) -> tuple[str, ...]:
        """The pipeline's step names in order (``preprocess`` first when there is one)."""
        head = (PREPROCESS_STEP,) if self.columns is not None else ()
        return (*head, *(s.name for s in self.steps), self.estimator.name)

    def qualify(self, name: str) -> str:
        """A spec's parameter name as the built object's ``set_params`` knows it."""
        head = name.split("__", 1)[0]
        if self.wrapped:
            return name if head in self.step_names else f"{self.estimator.name}__{name}"
        prefix = f"{self.estimator.name}__"
        return name[len(prefix):] if name.startswith(prefix) else name

    def prefix_depth(self, name: str) -> int:
        """The position of the step a parameter belongs to (the estimator's is the last)."""
        head = self.qualify(name).split("__", 1)[0]
        names = self.step_names
        return names.index(head) if self.wrapped and head in names else len(names) - 1


def plan_for(spec: Any, dataset: Any = None) -> PipelinePlan:
    """The pipeline a study fits; ``dataset`` (loaded) gives the columns' types.

    Without a dataset (validation), the preprocessing lists only the columns the spec types
    itself: the names it offers to tune do not depend on which columns the file has.
    """
    estimator = StepSpec(spec.estimator.name, spec.estimator.cls, dict(spec.estimator.fixed))
    columns: ColumnPlan | None = None
    if spec.data.csv and spec.data.preprocess:
        if dataset is not None:
            columns = ColumnPlan(tuple(dataset.numeric_columns),
                                 tuple(dataset.categorical_columns),
                                 tuple(getattr(dataset, "text_columns", ())))
        else:
            declared = spec.data.columns
            columns = ColumnPlan(*(tuple(c for c, kind in declared.items() if kind == wanted)
                                   for wanted in ("number", "category", "text")))
    names_estimator_step = any(
        name == estimator.name or name.startswith(f"{estimator.name}__")
        for sub in spec.space for name in sub)
    wrapped = bool(spec.steps) or columns is not None or names_estimator_step
    return PipelinePlan(estimator, tuple(spec.steps), columns, wrapped)


def legacy_plan(estimator_class: str, fixed: Mapping[str, Any], numeric: Sequence[str],
                categorical: Sequence[str]) -> PipelinePlan:
    """The plan of an evaluation context made without one (the estimator behind the
    preprocessing of a data file's columns, as before pipelines could be described)."""
    columns = ColumnPlan(tuple(numeric), tuple(categorical)) if (numeric or categorical) \
        else None
    return PipelinePlan(StepSpec(DEFAULT_ESTIMATOR_NAME, estimator_class, dict(fixed)), (),
                        columns, columns is not None)


def text_transformer_names(columns: Sequence[str]) -> tuple[str, ...]:
    """The preprocessing's TF-IDF transformer of each text column: named after the column,
    with characters other than letters, digits and ``_`` made ``_`` (and a number added if
    that name is taken)."""
    taken = {NUMERIC, CATEGORICAL}
    names = []
    for column in columns:
        base = re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z_]", "_", str(column))).strip("_")
        base = base or "text"
        name, number = base, 2
        while name in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add(name)
        names.append(name)
    return tuple(names)


# ----- building ----------------------------------------------------------------------------


def build_pipeline(plan: PipelinePlan, allowed_packages: Iterable[str] = ()) -> Any:
    """The unfitted estimator of ``plan``: a Pipeline, or the bare estimator."""
    allowed = tuple(allowed_packages)
    estimator = make_instance(plan.estimator.cls, plan.estimator.fixed, allowed,
                              "estimator.class", step=True)
    if not plan.wrapped:
        return estimator
    from sklearn.pipeline import Pipeline

    steps: list[tuple[str, Any]] = []
    if plan.columns is not None:
        steps.append((PREPROCESS_STEP, make_preprocessor(plan.columns)))
    for index, step in enumerate(plan.steps):
        if step.cls == PASSTHROUGH:
            steps.append((step.name, PASSTHROUGH))
        else:
            steps.append((step.name, make_instance(step.cls, step.fixed, allowed,
                                                   f"steps[{index}].class", step=True)))
    steps.append((plan.estimator.name, estimator))
    return Pipeline(steps)


def make_preprocessor(columns: ColumnPlan) -> Any:
    """Impute + scale numbers, impute + one-hot categories, TF-IDF each text column.

    ``numeric`` and ``categorical`` are always there, even without columns of their kind
    (scikit-learn skips a transformer with no columns), so their parameters can be named
    whatever the file holds.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    transformers: list[tuple[str, Any, Any]] = [
        (NUMERIC, Pipeline([("imputer", SimpleImputer(strategy="median")),
                            ("scaler", StandardScaler())]), list(columns.numeric)),
        (CATEGORICAL, Pipeline([("imputer", SimpleImputer(strategy="most_frequent")),
                                ("onehot", OneHotEncoder(handle_unknown="ignore",
                                                         sparse_output=False))]),
         list(columns.categorical)),
    ]
    for name, column in zip(text_transformer_names(columns.text), columns.text, strict=True):
        transformers.append((name, TfidfVectorizer(), column))  # one column: 1-D text
    return ColumnTransformer(transformers)


def apply_params(estimator: Any, plan: PipelinePlan, params: Mapping[str, Any],
                 allowed_packages: Iterable[str] = ()) -> Any:
    """Set a candidate's parameters (spec names and values) on a fresh ``estimator``.

    One ``set_params`` call, as ``GridSearchCV`` makes it, so a step replaced by a choice
    receives the parameters of its sub-space; lists then become tuples where needed.
    """
    allowed = tuple(allowed_packages)
    named = {plan.qualify(name): materialize(value, allowed, f"params.{name}")
             for name, value in params.items()}
    if named:
        estimator.set_params(**named)
        tuples_where_needed(estimator, named)
    return estimator


def tuples_where_needed(estimator: Any, named: Mapping[str, Any]) -> None:
    """Turn list values into tuples where their owner's parameter needs a tuple."""
    lists = [name for name, value in named.items() if isinstance(value, list)]
    if not lists:
        return
    deep = estimator.get_params(deep=True)
    for name in lists:
        prefix, _, attribute = name.rpartition("__")
        owner = deep.get(prefix) if prefix else estimator
        if owner is not None and hasattr(owner, "set_params") \
                and needs_tuple(type(owner), attribute):
            owner.set_params(**{attribute: tuple(named[name])})


def needs_tuple(cls: type, parameter: str) -> bool:
    """Whether ``cls`` wants a tuple for ``parameter`` (its default is one, or its
    constraints accept a tuple and no list)."""
    try:
        default = inspect.signature(cls).parameters[parameter].default
    except (KeyError, TypeError, ValueError):
        default = None
    if isinstance(default, tuple):
        return True
    constraints = getattr(cls, "_parameter_constraints", {}).get(parameter) or ()
    return tuple in constraints and not any(c is list or c == "array-like" for c in constraints)


# ----- values: objects and functions named in a spec ---------------------------------------


def is_object_value(value: Any) -> bool:
    """``{ class = "...", fixed = {...} }``: an object to build."""
    return (isinstance(value, Mapping) and "class" in value and set(value) <= {"class", "fixed"}
            and isinstance(value["class"], str)
            and isinstance(value.get("fixed", {}), Mapping))


def is_function_value(value: Any) -> bool:
    """``{ function = "..." }``: a function to look up."""
    return (isinstance(value, Mapping) and set(value) == {"function"}
            and isinstance(value["function"], str))


def is_choice_value(value: Any) -> bool:
    """A value that replaces a whole component: an object, or a passthrough step."""
    return is_object_value(value) or value == PASSTHROUGH


def materialize(value: Any, allowed_packages: Iterable[str] = (), key: str = "value") -> Any:
    """A spec value as scikit-learn takes it: objects built, functions looked up."""
    if is_object_value(value):
        return make_instance(value["class"], value.get("fixed", {}), allowed_packages, key)
    if is_function_value(value):
        return resolve_function(value["function"], allowed_packages, key)
    if isinstance(value, Mapping):
        return {k: materialize(v, allowed_packages, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v, allowed_packages, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def make_instance(path: str, fixed: Mapping[str, Any], allowed_packages: Iterable[str] = (),
                  key: str = "value", *, step: bool = False) -> Any:
    """Build ``path(**fixed)`` after checking the class under the allowed-package rule.

    ``step``: the object is a pipeline step or the estimator, so it must be an estimator
    (a ``BaseEstimator`` with ``fit``); other values need only ``get_params``.
    """
    allowed = tuple(allowed_packages)
    cls = resolve_class(path, allowed, key, estimator=step)
    kwargs = {}
    for name, value in fixed.items():
        value = materialize(value, allowed, f"{key}.fixed.{name}")
        if isinstance(value, list) and needs_tuple(cls, name):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise SpecError(f"{key}: cannot build {cls.__name__}: {exc}") from None


def resolve_class(path: str, allowed_packages: Iterable[str] = (), key: str = "value", *,
                  estimator: bool = True) -> type:
    """The class ``path`` names, if its package is trusted; SpecError naming ``key`` if not."""
    allowed = tuple(allowed_packages)
    if estimator:
        try:
            return resolve_estimator_class(path, allowed)
        except SpecError as exc:
            raise SpecError(_rekey(str(exc), key)) from None
    found = _lookup(path, allowed, key, "class")
    if not (isinstance(found, type) and hasattr(found, "get_params")):
        raise SpecError(f"{key}: {path!r} is not a scikit-learn object with parameters "
                        "(an estimator, a kernel, ...)")
    return found


def resolve_function(path: str, allowed_packages: Iterable[str] = (),
                     key: str = "value") -> Any:
    """The function ``path`` names, if its package is trusted (e.g. a ``score_func``)."""
    found = _lookup(path, tuple(allowed_packages), key, "function")
    if isinstance(found, type) or not callable(found):
        raise SpecError(f"{key}: {path!r} is not a function; write {{ class = {path!r} }} "
                        "for a class")
    return found


def _lookup(path: str, allowed: tuple[str, ...], key: str, what: str) -> Any:
    if not isinstance(path, str) or not _DOTTED_PATH.match(path):
        example = "sklearn.feature_selection.chi2" if what == "function" \
            else "sklearn.decomposition.PCA"
        raise SpecError(f"{key}: {path!r} is not a dotted {what} path; write e.g. {example}")
    package = path.split(".", 1)[0]
    if package not in (*TRUSTED_PACKAGES, *allowed):
        raise SpecError(f"{key}: {path!r} is outside scikit-learn; hpstudio imports from other "
                        f"packages only when you allow them: run with --allow-package {package}")
    module_path, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise SpecError(f"{key}: cannot import module {module_path!r} ({exc})") from None
    if not hasattr(module, name):
        raise SpecError(f"{key}: {module_path!r} has no {what} {name!r}")
    return getattr(module, name)


def _rekey(message: str, key: str) -> str:
    return f"{key}:{message.removeprefix('estimator.class:')}" \
        if message.startswith("estimator.class:") else f"{key}: {message}"


def value_label(value: Any) -> str:
    """A short label of a value for tables and plots: ``PCA(n_components=5)``, ``chi2``."""
    if is_object_value(value):
        fixed = value.get("fixed") or {}
        args = ", ".join(f"{k}={value_label(v)}" for k, v in fixed.items())
        return f"{value['class'].rsplit('.', 1)[-1]}({args})"
    if is_function_value(value):
        return value["function"].rsplit(".", 1)[-1]
    if isinstance(value, list):
        return "[" + ", ".join(value_label(v) for v in value) + "]"
    return str(value)


# ----- validation ----------------------------------------------------------------------------


def check_pipeline(spec: Any, allowed_packages: Iterable[str] = ()) -> type:
    """Check every class and every parameter name of ``spec``'s pipeline; return the
    estimator class. Raises SpecError naming the key, with "did you mean" hints.

    A name under a component that a sub-space chooses (``reduce_dim__n_components`` with
    ``reduce_dim = [PCA, NMF]``) must be valid for every choice of that sub-space.
    """
    allowed = tuple(allowed_packages)
    estimator_class = resolve_class(spec.estimator.cls, allowed, "estimator.class")
    own = _parameter_names(estimator_class)
    for name in spec.estimator.fixed:
        if name not in own:
            raise SpecError(f"estimator.fixed.{name}: {spec.estimator.short_name} has no "
                            f"parameter {name!r}{_did_you_mean(name, own)}; its parameters "
                            f"are: {_listed(own)}")
    for index, step in enumerate(spec.steps):
        if step.cls == PASSTHROUGH:
            continue
        step_class = resolve_class(step.cls, allowed, f"steps[{index}].class")
        names = _parameter_names(step_class)
        for name in step.fixed:
            if name not in names:
                raise SpecError(f"steps[{index}].fixed.{name}: {step_class.__name__} has no "
                                f"parameter {name!r}{_did_you_mean(name, names)}; its "
                                f"parameters are: {_listed(names)}")
    plan = plan_for(spec)
    base = build_pipeline(plan, allowed)
    for index, sub in enumerate(spec.space):
        _check_subspace(plan, base, index, sub, allowed, spec.estimator.short_name, own)
    _check_target(spec, plan, estimator_class, allowed)
    return estimator_class


def _check_subspace(plan: PipelinePlan, base: Any, index: int, sub: SubSpace,
                    allowed: tuple[str, ...], estimator_name: str, own: set[str]) -> None:
    base_names = set(base.get_params(deep=True))
    qualified = {plan.qualify(name): name for name in sub}
    choices: dict[str, list[tuple[str, Any]]] = {}
    for q, name in qualified.items():
        dim = sub[name]
        if not isinstance(dim, Values):
            continue
        key = f"space[{index}].{name}"
        built = [(value_label(v), materialize(v, allowed, f"{key}[{i}]"))
                 for i, v in enumerate(dim.values)]
        if any(is_choice_value(v) for v in dim.values):
            choices[q] = built
            if q in plan.step_names:
                for (label, obj), value in zip(built, dim.values, strict=True):
                    if is_object_value(value) and not hasattr(obj, "fit"):
                        raise SpecError(f"{key}: {label} is not an estimator (it has no fit); "
                                        "a step takes a scikit-learn transformer or estimator")
    for q, name in qualified.items():
        key = f"space[{index}].{name}"
        owner = max((c for c in choices if q.startswith(f"{c}__")), key=len, default=None)
        if owner is None:
            if q not in base_names:
                raise SpecError(_unknown_name(key, name, q, plan, base, estimator_name, own))
            continue
        rest = q[len(owner) + 2:]
        for label, obj in choices[owner]:
            if not hasattr(obj, "get_params"):
                raise SpecError(f"{key}: when {qualified[owner]} is {label} there is no "
                                f"{rest!r} to set; put each choice in a sub-space of its own, "
                                "with its own parameters")
            names = set(obj.get_params(deep=True))
            if rest not in names:
                raise SpecError(f"{key}: {type(obj).__name__} (a choice of "
                                f"{qualified[owner]}) has no parameter {rest!r}"
                                f"{_did_you_mean(rest, names)}; its parameters are: "
                                f"{_listed(names)}")


def _unknown_name(key: str, name: str, qualified: str, plan: PipelinePlan, base: Any,
                  estimator_name: str, own: set[str]) -> str:
    bare = "__" not in name and not (plan.wrapped and name in plan.step_names)
    deep = base.get_params(deep=True)
    if bare:
        hint = _did_you_mean(name, own)
        if not hint:
            elsewhere = sorted(n for n in deep if n.endswith(f"__{name}"))
            hint = f" (did you mean {elsewhere[0]!r}?)" if elsewhere else ""
        return (f"{key}: {estimator_name} has no parameter {name!r}{hint}; its parameters "
                f"are: {_listed(own)}")
    parts = qualified.split("__")
    head = name.split("__", 1)[0]
    steps = plan.step_names if plan.wrapped else (plan.estimator.name,)
    if head not in steps and head not in own:  # neither a step nor the estimator's object
        return (f"{key}: the pipeline has no step {head!r}{_did_you_mean(head, steps)}; "
                f"its steps are: {', '.join(steps)}")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = "__".join(parts[:cut])
        owner = deep.get(prefix)
        if owner is not None and hasattr(owner, "get_params"):
            rest = "__".join(parts[cut:])
            names = set(owner.get_params(deep=True))
            where = f"step {prefix}" if prefix in plan.step_names else f"at {prefix}"
            return (f"{key}: {type(owner).__name__} ({where}) has no parameter {rest!r}"
                    f"{_did_you_mean(rest, names)}; its parameters are: {_listed(names)}")
    return (f"{key}: the pipeline has no step {parts[0]!r}{_did_you_mean(parts[0], steps)}; "
            f"its steps are: {', '.join(steps)}")


def _check_target(spec: Any, plan: PipelinePlan, estimator_class: type,
                  allowed: tuple[str, ...]) -> None:
    """A data file without a target suits only estimators that need none."""
    if not spec.data.csv or spec.data.target is not None:
        return
    classes = [estimator_class]
    for sub in spec.space:
        for name, dim in sub.items():
            if plan.qualify(name) == plan.estimator.name and isinstance(dim, Values):
                classes += [resolve_class(v["class"], allowed, f"space.{name}")
                            for v in dim.values if is_object_value(v)]
    for cls in classes:
        if needs_target(cls):
            raise SpecError(f"data.target: a CSV needs the name of its target column for "
                            f"{cls.__name__}; only estimators without a target (KernelDensity, "
                            "GaussianMixture, ...) run without one")
        if not hasattr(cls, "score"):
            raise SpecError(f"data.target: without a target a candidate is scored by its "
                            f"estimator's own score, and {cls.__name__} has none; give the "
                            "target column")
    if spec.scoring.metric is not None:
        raise SpecError("scoring.metric: the data has no target to score predictions against; "
                        "leave the metric out, and each candidate is scored by its "
                        "estimator's own score")


def needs_target(cls: type) -> bool:
    """Whether an estimator class learns from a target (classifiers, regressors)."""
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(cls()).target_tags.required)
    except Exception:  # needs arguments, or predates tags: fall back on the mixins
        from sklearn.base import ClassifierMixin, RegressorMixin

        return issubclass(cls, ClassifierMixin | RegressorMixin)


def _parameter_names(cls: type) -> set[str]:
    from hpstudio.core.estimators import default_params

    try:
        return set(cls().get_params(deep=True))
    except Exception:
        return set(default_params(cls))


def _listed(names: Iterable[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:_SHOWN_NAMES])
    return shown + (f", ... ({len(ordered) - _SHOWN_NAMES} more)"
                    if len(ordered) > _SHOWN_NAMES else "")


# ----- what the space editor offers ----------------------------------------------------------

# Plumbing of composite steps, not worth a row in the space editor.
_PLUMBING = frozenset({"memory", "steps", "transform_input", "verbose", "transformers",
                       "n_jobs", "remainder", "sparse_threshold", "transformer_weights",
                       "verbose_feature_names_out", "force_int_remainder_cols", "copy", "dtype",
                       "input", "encoding", "decode_error", "feature_name_combiner"})


def step_rows(plan: PipelinePlan, allowed_packages: Iterable[str] = ()
              ) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters a search space may name besides the estimator's own, with defaults.

    Each step appears itself (``pca``: a step may be a choice) and with its parameters
    (``pca__n_components``), the preprocessing with what is worth tuning in it, and the
    estimator's step name (the estimator as a choice). Returns ``(rows, problems)``:
    ``problems`` maps a step name to why it cannot be built (its rows are then missing).
    """
    allowed = tuple(allowed_packages)
    rows: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if not plan.wrapped and not plan.steps and plan.columns is None:
        parts: list[tuple[str, Any]] = []
    else:
        parts = []
        if plan.columns is not None:
            parts.append((PREPROCESS_STEP, make_preprocessor(plan.columns)))
        for index, step in enumerate(plan.steps):
            if step.cls == PASSTHROUGH:
                parts.append((step.name, PASSTHROUGH))
                continue
            try:
                parts.append((step.name, make_instance(step.cls, step.fixed, allowed,
                                                       f"steps[{index}].class", step=True)))
            except SpecError as exc:
                problems[step.name] = str(exc)
    for name, obj in parts:
        rows[name] = obj
        if obj == PASSTHROUGH:
            continue
        composite = any(isinstance(getattr(obj, a, None), list)
                        for a in ("steps", "transformers", "transformer_list"))
        for key, value in obj.get_params(deep=True).items():
            if composite and key.rsplit("__", 1)[-1] in _PLUMBING:
                continue
            if isinstance(value, list) and value and isinstance(value[0], tuple):
                continue  # a composite's list of (name, step) pairs
            rows[f"{name}__{key}"] = value
    try:
        rows[plan.estimator.name] = make_instance(plan.estimator.cls, plan.estimator.fixed,
                                                  allowed, "estimator.class", step=True)
    except SpecError as exc:
        problems[plan.estimator.name] = str(exc)
    return rows, problems

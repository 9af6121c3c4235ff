"""scikit-learn objects written back as data: spec values, and Python source.

The reverse of :func:`hpstudio.core.pipeline.materialize`. An estimator, a kernel or a whole
Pipeline becomes the spec's value language (``{ class, fixed }``, ``{ function }``, lists,
plain values), so a study can be made from an object built in code; and it becomes Python
source that builds the same object, for exported snippets. Both write only the parameters
that differ from the class's defaults, as scikit-learn's own ``repr`` does.

Estimator objects described as data are what a study stores about the model it tuned. A
study run from Python or recorded from a fitted search holds estimator objects the
history cannot keep (pickles run code when opened). What it keeps instead is a
description in the spec's own vocabulary: an estimator is ``{"class": dotted path,
"fixed": {changed parameters}}``, recursively for estimators inside estimators (pipeline
steps, a bagged base estimator), a function is ``{"function": dotted path}``, and a value
no spec can hold is ``{"repr": its repr}``.

When an estimator is a plain class of an allowed package whose changed parameters are all
plain values, it becomes the spec's ``[estimator]`` section, and the study can be run
again by the app; otherwise the description is kept for people to read, and the study is
shown read-only.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from hpstudio.core.errors import SpecError
from hpstudio.core.spec import DEFAULT_ESTIMATOR_NAME, PASSTHROUGH

__all__ = ["PythonWriter", "class_path", "describe_value", "is_estimator", "is_plain_value",
           "pipeline_sections", "public_path", "short_name", "spec_estimator"]

_MAX_DEPTH = 16
_WIDTH = 88  # a rendered call longer than this is split over lines


def is_estimator(value: Any) -> bool:
    """An estimator object (not a class): what scikit-learn's ``clone`` clones."""
    return hasattr(value, "get_params") and hasattr(value, "fit") and not isinstance(value, type)


def _has_params(value: Any) -> bool:
    return hasattr(value, "get_params") and not isinstance(value, type)


def class_path(obj: Any) -> str:
    """The shortest public dotted path of an object's class (or of a class, a function)."""
    from hpstudio.core.paste import _public_path

    target = obj if isinstance(obj, type) or inspect.isfunction(obj) else type(obj)
    try:
        return _public_path(target)
    except TypeError:  # an unhashable class object: use its defining module
        return f"{target.__module__}.{target.__qualname__}"


def short_name(obj: Any) -> str:
    return class_path(obj).rsplit(".", 1)[-1]


def changed_params(estimator: Any) -> dict[str, Any]:
    """The constructor parameters that differ from their defaults (what a repr shows)."""
    params = estimator.get_params(deep=False)
    try:
        signature = inspect.signature(type(estimator).__init__)
    except (TypeError, ValueError):
        return dict(params)
    changed = {}
    for name, value in params.items():
        parameter = signature.parameters.get(name)
        default = inspect.Parameter.empty if parameter is None else parameter.default
        if default is inspect.Parameter.empty or not _same(value, default):
            changed[name] = value
    return changed


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if _has_params(a) or _has_params(b):  # e.g. a kernel: equal when built the same way
        return (type(a) is type(b) and _has_params(a)
                and changed_params(a) == changed_params(b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (ValueError, TypeError):  # arrays compare element-wise
        return repr(a) == repr(b)


def describe_value(value: Any, depth: int = 0, *, strict: bool = False) -> Any:
    """A JSON-ready description of any parameter value (see the module docstring).

    ``strict``: what the spec cannot hold raises SpecError instead of becoming a
    ``{"repr"}`` (for a spec that must run)."""
    if depth > _MAX_DEPTH or (strict and not _describable(value)):
        if strict:
            raise SpecError(f"a {type(value).__name__} cannot be written in a study spec; "
                            "give numbers, text, lists, tables, estimators or functions")
        return {"repr": _short_repr(value)}
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"repr": repr(value)}
    if _has_params(value):  # an estimator, or a kernel: anything built from its parameters
        return {"class": class_path(value),
                "fixed": {name: describe_value(v, depth + 1, strict=strict)
                          for name, v in changed_params(value).items()}}
    if isinstance(value, list | tuple):
        return [describe_value(v, depth + 1, strict=strict) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: describe_value(v, depth + 1, strict=strict) for k, v in value.items()}
    if inspect.isfunction(value) or inspect.isbuiltin(value) or isinstance(value, type):
        return {"function": class_path(value)}
    return {"repr": _short_repr(value)}


def _describable(value: Any) -> bool:
    """Whether the spec's value language holds ``value`` (at this level)."""
    if value is None or isinstance(value, bool | str | int | np.generic):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if _has_params(value) or isinstance(value, list | tuple):
        return True
    if isinstance(value, Mapping):
        return all(isinstance(k, str) for k in value)
    return inspect.isfunction(value) or inspect.isbuiltin(value) or isinstance(value, type)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def is_plain_value(value: Any, depth: int = 0) -> bool:
    """A value the spec can hold as it is: numbers, text, booleans, None, lists of them."""
    if depth > _MAX_DEPTH:
        return False
    if value is None or isinstance(value, bool | str | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_plain_value(v, depth + 1) for v in value)
    return False


def plain(value: Any) -> Any:
    """NumPy scalars as the Python numbers they hold (exactly), anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def spec_estimator(estimator: Any, allowed_packages: Iterable[str] = ()) -> Any:
    """The spec's EstimatorSpec for a plain estimator of an allowed package, else None.

    Composite estimators (pipelines, estimators holding estimators), functions and
    values no spec can hold make it None: the study is then kept with its description
    only."""
    from hpstudio.core.estimators import resolve_estimator_class
    from hpstudio.core.spec import EstimatorSpec

    if not is_estimator(estimator):
        return None
    path = class_path(estimator)
    try:
        if resolve_estimator_class(path, allowed_packages) is not type(estimator):
            return None
    except SpecError:
        return None
    fixed = {name: plain(value) for name, value in changed_params(estimator).items()}
    fixed = {name: list(v) if isinstance(v, tuple) else v for name, v in fixed.items()}
    if not all(is_plain_value(v) for v in fixed.values()):
        return None
    return EstimatorSpec(path, fixed)


def public_path(obj: Any) -> str:
    """Where a class or function is imported from (``sklearn.decomposition.PCA``)."""
    from hpstudio.core.paste import _public_path

    return _public_path(obj)


def pipeline_sections(estimator: Any) -> dict[str, Any]:
    """The ``[estimator]`` and ``[[steps]]`` sections that describe ``estimator``.

    A Pipeline's last step becomes the estimator (named as in the Pipeline) and the others
    its steps; anything else is the estimator alone. Parameter names of the result are
    the object's own ``get_params(deep=True)`` names.
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return {"estimator": _section(DEFAULT_ESTIMATOR_NAME, estimator)}
    *steps, (last_name, last) = estimator.steps
    out: dict[str, Any] = {"estimator": _section(last_name, last)}
    if steps:
        out["steps"] = [_section(name, step) for name, step in steps]
    return out


def _section(name: str, obj: Any) -> dict[str, Any]:
    if obj is None or obj == PASSTHROUGH:
        return {"name": name, "class": PASSTHROUGH}
    described = describe_value(obj, strict=True)
    section = {"name": name, "class": described["class"]}
    if described.get("fixed"):
        section["fixed"] = described["fixed"]
    return section


# ----- as Python source --------------------------------------------------------------------


class PythonWriter:
    """Writes objects as Python source and collects the imports they need.

    Composite steps (a Pipeline, a ColumnTransformer, a FeatureUnion) inside a pipeline are
    bound to variables of their own, named after their step, so that the source reads top
    down as the pipeline is built rather than as one deeply nested call.
    """

    RESERVED = frozenset({"data", "X", "y", "cv", "scores", "pd", "model", "estimator"})

    def __init__(self) -> None:
        self.imports: dict[str, set[str]] = {}
        self._names: set[str] = set(self.RESERVED)

    def import_lines(self) -> list[str]:
        return [f"from {module} import {', '.join(sorted(names))}"
                for module, names in sorted(self.imports.items())]

    def name_of(self, obj: Any) -> str:
        module, _, name = public_path(obj).rpartition(".")
        self.imports.setdefault(module, set()).add(name)
        return name

    def assignments(self, name: str, obj: Any) -> list[str]:
        """Lines that bind ``name`` to ``obj``, its composite steps bound first."""
        lines: list[str] = []
        expression = self._composite(obj, lines) if _is_composite(obj) \
            else self.expression(obj)
        return [*lines, f"{name} = {expression}"]

    def variable(self, step_name: str) -> str:
        """A fresh variable name for a step (its own name when that is free)."""
        import keyword

        base = step_name if step_name.isidentifier() and not keyword.iskeyword(step_name) \
            else "step"
        name, number = base, 2
        while name in self._names:
            name, number = f"{base}_{number}", number + 1
        self._names.add(name)
        return name

    def _composite(self, obj: Any, lines: list[str]) -> str:
        params = changed_params(obj)
        for key in ("steps", "transformers", "transformer_list"):
            params.pop(key, None)
        parts = getattr(obj, "steps", None) or getattr(obj, "transformer_list", None)
        entries = [tuple(p) for p in (parts if parts is not None else [
            (n, t, c) for n, t, c in obj.transformers if not _no_columns(c)])]
        items = []
        for entry in entries:
            step_name, step, *rest = entry
            if _is_composite(step):
                variable = self.variable(step_name)
                lines += self.assignments(variable, step)
                shown = variable
            else:
                shown = self.expression(step, 4)
            items.append("(" + ", ".join([repr(step_name), shown,
                                          *(self.expression(r, 4) for r in rest)]) + ")")
        arguments = [f"{k}={self.expression(v, 4)}" for k, v in params.items()]
        listed = _layout("[", items, "]", 0)
        return f"{self.name_of(type(obj))}({', '.join([listed, *arguments])})"

    def expression(self, value: Any, indent: int = 0) -> str:
        """Source that builds ``value``, laid out from column ``indent``."""
        if hasattr(value, "get_params") and not isinstance(value, type):
            args = [f"{k}={self.expression(v, indent + 4)}"
                    for k, v in changed_params(value).items()]
            return _layout(f"{self.name_of(type(value))}(", args, ")", indent)
        if isinstance(value, np.generic):
            return repr(value.item())
        if isinstance(value, list | tuple):
            items = [self.expression(v, indent + 4) for v in value]
            open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
            if isinstance(value, tuple) and len(items) == 1:
                close = ",)"
            return _layout(open_, items, close, indent)
        if isinstance(value, Mapping):
            items = [f"{k!r}: {self.expression(v, indent + 4)}" for k, v in value.items()]
            return _layout("{", items, "}", indent)
        if isinstance(value, type) or (callable(value) and hasattr(value, "__module__")):
            return self.name_of(value)
        if isinstance(value, float) and not math.isfinite(value):
            return f"float({str(value)!r})"
        return repr(value)


def _is_composite(obj: Any) -> bool:
    return any(hasattr(obj, attribute) and isinstance(getattr(obj, attribute), list)
               for attribute in ("steps", "transformers", "transformer_list")) \
        and hasattr(obj, "get_params")


def _no_columns(columns: Any) -> bool:
    return isinstance(columns, list | tuple) and len(columns) == 0


def _layout(open_: str, items: list[str], close: str, indent: int) -> str:
    one_line = open_ + ", ".join(items) + close
    if len(one_line) + indent <= _WIDTH and "\n" not in one_line:
        return one_line
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{item},\n" for item in items)
    return f"{open_}\n{body}{' ' * indent}{close.lstrip(',')}"

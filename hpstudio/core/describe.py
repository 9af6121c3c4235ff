"""scikit-learn objects written back as data: spec values, and Python source.

The reverse of :func:`hpstudio.core.pipeline.materialize`. An estimator, a kernel or a whole
Pipeline becomes the spec's value language (``{ class, fixed }``, ``{ function }``, lists,
plain values), so a study can be made from an object built in code; and it becomes Python
source that builds the same object, for exported snippets. Both write only the parameters
that differ from the class's defaults, as scikit-learn's own ``repr`` does.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from hpstudio.core.errors import SpecError
from hpstudio.core.spec import DEFAULT_ESTIMATOR_NAME, PASSTHROUGH

_WIDTH = 88  # a rendered call longer than this is split over lines


def public_path(obj: Any) -> str:
    """Where a class or function is imported from (``sklearn.decomposition.PCA``)."""
    from hpstudio.core.paste import _public_path

    return _public_path(obj)


def changed_params(obj: Any) -> dict[str, Any]:
    """The constructor parameters of ``obj`` that differ from their defaults."""
    try:
        defaults = {name: p.default for name, p in inspect.signature(type(obj)).parameters.items()}
    except (TypeError, ValueError):
        defaults = {}
    out = {}
    for name, value in obj.get_params(deep=False).items():
        default = defaults.get(name, inspect.Parameter.empty)
        if default is inspect.Parameter.empty or not _same(value, default):
            out[name] = value
    return out


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if hasattr(value, "get_params") or hasattr(default, "get_params"):
        return (type(value) is type(default) and hasattr(value, "get_params")
                and changed_params(value) == changed_params(default))
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    if isinstance(value, float) and isinstance(default, float) and math.isnan(value) \
            and math.isnan(default):
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:
        return False


# ----- as spec values ----------------------------------------------------------------------


def describe_value(value: Any) -> Any:
    """``value`` in the spec's value language; SpecError for what it cannot hold."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        fixed = {name: describe_value(v) for name, v in changed_params(value).items()}
        described: dict[str, Any] = {"class": public_path(type(value))}
        if fixed:
            described["fixed"] = fixed
        return described
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [describe_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): describe_value(v) for k, v in value.items()}
    if callable(value) and not isinstance(value, type):
        return {"function": public_path(value)}
    raise SpecError(f"a {type(value).__name__} cannot be written in a study spec; give "
                    "numbers, text, lists, tables, estimators or functions")


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
    described = describe_value(obj)
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

"""Estimator objects described as data: what a study stores about the model it tuned.

A study run from Python or recorded from a fitted search holds estimator objects the
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

__all__ = ["class_path", "describe_value", "is_estimator", "is_plain_value", "short_name",
           "spec_estimator"]

_MAX_DEPTH = 16


def is_estimator(value: Any) -> bool:
    """An estimator object (not a class): what scikit-learn's ``clone`` clones."""
    return hasattr(value, "get_params") and hasattr(value, "fit") and not isinstance(value, type)


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
    if is_estimator(a) or is_estimator(b):
        return False
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (ValueError, TypeError):  # arrays compare element-wise
        return repr(a) == repr(b)


def describe_value(value: Any, depth: int = 0) -> Any:
    """A JSON-ready description of any parameter value (see the module docstring)."""
    if depth > _MAX_DEPTH:
        return {"repr": _short_repr(value)}
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"repr": repr(value)}
    if is_estimator(value):
        return {"class": class_path(value),
                "fixed": {name: describe_value(v, depth + 1)
                          for name, v in changed_params(value).items()}}
    if isinstance(value, list | tuple):
        return [describe_value(v, depth + 1) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: describe_value(v, depth + 1) for k, v in value.items()}
    if inspect.isfunction(value) or inspect.isbuiltin(value) or isinstance(value, type):
        return {"function": class_path(value)}
    return {"repr": _short_repr(value)}


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

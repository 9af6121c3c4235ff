"""The ``[search]`` keys that decide where compute goes: successive halving, early stopping
of hopeless trials, per-fold timeouts and the reuse of earlier fits.

They are read here rather than in ``spec.py`` so that the spec parser stays one call away
from them: ``_parse_search`` hands the raw section over, and ``to_dict`` asks which of them
to write (only those that differ from their defaults, so a plain grid spec saves as before).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hpstudio.core.errors import SpecError

HALVING_STRATEGIES = ("halving-grid", "halving-random")
#: Strategies whose candidates are a grid (float ranges need ``num`` or ``step``).
GRID_STRATEGIES = ("grid", "halving-grid")
MIN_RESOURCES_CHOICES = ("exhaust", "smallest")
PRUNE_CHOICES = ("none", "folds")
RESOURCE_AUTO = "auto"
RESOURCE_SAMPLES = "n_samples"
MAX_FACTOR = 1000
MAX_RESOURCES = 2**53
MAX_TIMEOUT = 366 * 24 * 3600

#: The keys of this module with their defaults (SearchSpec's last fields).
DEFAULTS: dict[str, Any] = {
    "factor": 3,
    "resource": RESOURCE_AUTO,
    "min_resources": None,  # scikit-learn's default: "exhaust" (grid), "smallest" (random)
    "max_resources": None,  # all rows, or the estimator's own value of the parameter
    "aggressive_elimination": False,
    "asynchronous": False,
    "trial_timeout": None,
    "prune": None,
    "reuse": True,
}
_HALVING_ONLY = ("factor", "resource", "min_resources", "max_resources",
                 "aggressive_elimination", "asynchronous")


def is_halving(strategy: str) -> bool:
    return strategy in HALVING_STRATEGIES


def is_grid_like(strategy: str) -> bool:
    """Whether the strategy lists a grid (so every float range needs ``num`` or ``step``)."""
    return strategy in GRID_STRATEGIES


def default_min_resources(strategy: str) -> str:
    """scikit-learn's default: HalvingGridSearchCV exhausts, HalvingRandomSearchCV starts
    from the smallest budget."""
    return "smallest" if strategy == "halving-random" else "exhaust"


def parse_search_options(raw: Mapping[str, Any], strategy: str,
                         n_trials: int | None) -> dict[str, Any]:
    """The keys of this module from a raw ``[search]`` section, checked; defaults filled."""
    from hpstudio.core.spec import _describe, _expect_bound, _expect_choice, _expect_type, _show

    out = dict(DEFAULTS)
    if not is_halving(strategy):
        for key in _HALVING_ONLY:
            if key in raw:
                raise SpecError(
                    f"search.{key}: only successive halving uses it; set strategy = "
                    f"\"halving-grid\" or \"halving-random\", or remove the key")
    factor = raw.get("factor", 3)
    _expect_bound("search.factor", factor)
    if not 1 < factor <= MAX_FACTOR:
        raise SpecError(f"search.factor: expected a number > 1 (how many candidates a rung "
                        f"keeps one of), at most {MAX_FACTOR}, got {_describe(factor)}")
    out["factor"] = factor
    resource = raw.get("resource", RESOURCE_AUTO)
    _expect_type("search.resource", resource, str)
    if not resource.strip() or not all(part.isidentifier() for part in resource.split("__")):
        raise SpecError(f"search.resource: {_show(resource)} is not a budget; give \"auto\", "
                        "\"n_samples\" or an estimator parameter such as \"n_estimators\"")
    out["resource"] = resource
    minimum = raw.get("min_resources")
    if minimum is not None:
        if isinstance(minimum, str):
            _expect_choice("search.min_resources", minimum, MIN_RESOURCES_CHOICES)
        else:
            _expect_whole("search.min_resources", minimum)
    out["min_resources"] = minimum
    maximum = raw.get("max_resources")
    if maximum == "auto":
        maximum = None
    if maximum is not None:
        _expect_whole("search.max_resources", maximum)
        if isinstance(minimum, int) and minimum > maximum:
            raise SpecError(f"search.min_resources: {minimum} is more than max_resources "
                            f"({maximum}); the first rung cannot spend more than the last")
    out["max_resources"] = maximum
    for key in ("aggressive_elimination", "asynchronous", "reuse"):
        if key in raw:
            _expect_type(f"search.{key}", raw[key], bool)
            out[key] = raw[key]
    if strategy == "halving-random" and n_trials is None and (minimum or "smallest") == "exhaust":
        raise SpecError("search.min_resources: \"exhaust\" needs search.n_trials with "
                        "halving-random (the candidates of the first rung); give n_trials, "
                        "or min_resources = \"smallest\"")
    timeout = raw.get("trial_timeout")
    if timeout is not None:
        _expect_bound("search.trial_timeout", timeout, what="seconds")
        if not 0 < timeout <= MAX_TIMEOUT:
            raise SpecError(f"search.trial_timeout: expected seconds > 0 and at most a year, "
                            f"got {_describe(timeout)}; leave it out for no timeout")
        out["trial_timeout"] = float(timeout)
    prune = raw.get("prune")
    if prune is not None:
        _expect_choice("search.prune", prune, PRUNE_CHOICES)
        out["prune"] = None if prune == "none" else prune
    return out


def search_options_to_raw(search: Any) -> dict[str, Any]:
    """The keys of this module that differ from their defaults, as the spec writes them."""
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        value = getattr(search, key, default)
        differs = value != default or type(value) is not type(default)
        if differs and value is not None:
            out[key] = value
    return out


def check_resource(search: Any, estimator_params: Iterable[str],
                   space: Iterable[Mapping[str, Any]], estimator: str) -> None:
    """Refuse a budget parameter the estimator lacks or that the space also searches."""
    if not is_halving(search.strategy):
        return
    resource = search.resource
    if resource in (RESOURCE_AUTO, RESOURCE_SAMPLES):
        return
    valid = set(estimator_params)
    name = resource_in_space(resource, valid)
    if name is None:
        from hpstudio.core.spec import _did_you_mean

        raise SpecError(
            f"search.resource: {estimator} has no parameter {resource!r}"
            f"{_did_you_mean(resource, valid)}; use \"n_samples\", \"auto\" or one of its "
            "integer parameters such as n_estimators or max_iter")
    for index, sub in enumerate(space):
        if name in sub:
            raise SpecError(
                f"search.resource: {name} is searched in space[{index}]; the budget cannot "
                "also be a searched hyperparameter: take it out of the space or choose "
                "another resource")


def resource_in_space(resource: str, names: Iterable[str]) -> str | None:
    """The resource as the space names parameters (``model__n_estimators`` behind the
    CSV preprocessing is ``n_estimators``); None when the estimator has no such one."""
    names = set(names)
    if resource in names:
        return resource
    head, _, rest = resource.partition("__")
    if rest and head == "model" and rest in names:
        return rest
    return None


def _expect_whole(key: str, value: Any) -> None:
    from hpstudio.core.spec import _describe

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{key}: expected a whole number ≥ 1, \"exhaust\" or \"smallest\", "
                        f"got {_describe(value)}")
    if value > MAX_RESOURCES:
        raise SpecError(f"{key}: {value} is more than {MAX_RESOURCES:,}; no budget is that large")


__all__ = [
    "DEFAULTS",
    "GRID_STRATEGIES",
    "HALVING_STRATEGIES",
    "MIN_RESOURCES_CHOICES",
    "PRUNE_CHOICES",
    "RESOURCE_AUTO",
    "RESOURCE_SAMPLES",
    "check_resource",
    "default_min_resources",
    "is_grid_like",
    "is_halving",
    "parse_search_options",
    "resource_in_space",
    "search_options_to_raw",
]

"""Several metrics per fold, scorers with arguments, and the rule that picks the best.

A study scores every fold with one metric (``[scoring] metric``) or several
(``metrics``), under scikit-learn's names: with one metric its key is ``score``
(``mean_test_score``), with several each metric's key is its name (``mean_test_roc_auc``)
and ``refit`` names the one that ranks the trials, as in ``GridSearchCV(scoring=[...],
refit=...)``. A metric is a scorer name of ``sklearn.metrics.get_scorer_names()`` or a
table that makes a scorer with arguments: ``{ metric = "fbeta", beta = 2 }`` (a scorer
name or a metric function of ``sklearn.metrics``, with its keyword arguments) or
``{ function = "sklearn.metrics.mean_pinball_loss", alpha = 0.05, greater_is_better =
false }``. Only functions of ``sklearn.metrics`` are ever called: a spec names them, it
never carries code.

The best trial is the one with the highest mean score of the refit metric, or, with
``refit_rule = "simplest"``, the simplest candidate whose mean score is at least the
best's mean minus the best's standard deviation over the splits, where the parameter
named by ``complexity`` orders the candidates (``simpler = "lower"``: lower values are
simpler). That is the refit callable of scikit-learn's gallery example "Balance model
complexity and cross-validated score" (``plot_grid_search_refit_callable.py``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hpstudio.core.errors import SpecError
from hpstudio.core.records import SCORE

if TYPE_CHECKING:
    from hpstudio.core.records import TrialRecord
    from hpstudio.core.trials import TrialTable

__all__ = [
    "REFIT_RULES",
    "SIMPLER",
    "MetricSpec",
    "build_scorer",
    "check_metrics",
    "choose_best_index",
    "choose_best_trial",
    "keys_of_raw",
    "metric_keys",
    "parse_metric",
    "refit_key",
    "scorer_entries",
    "scoring_label",
    "simplest_within_one_std",
]

REFIT_RULES = ("best", "simplest")
SIMPLER = ("lower", "higher")
_LOWER_IS_BETTER = ("_loss", "_error", "_deviance")
_METRIC_KEYS = frozenset({"metric", "function", "name", "greater_is_better", "response_method"})
_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function")
_TRUE_AND_PREDICTED = frozenset({"y_true", "y_pred", "y_score", "y_prob", "y_proba",
                                 "labels_true", "labels_pred", "y_pred_proba"})


@dataclass(frozen=True)
class MetricSpec:
    """A scorer with arguments: ``make_scorer`` of a ``sklearn.metrics`` function.

    ``metric`` is a scorer name (its function, response method and sign are kept, the
    arguments added) or a metric function's name with or without its ``_score`` /
    ``_loss`` / ``_error`` ending; ``function`` is a full ``sklearn.metrics.NAME``.
    ``name`` is the metric's key in the results (default: ``metric``, or the function's
    name)."""

    metric: str | None = None
    function: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    greater_is_better: bool | None = None
    response_method: str | None = None

    def __hash__(self) -> int:  # args is a dict: hash what the spec says
        return hash(repr(self))

    @property
    def key(self) -> str:
        if self.name:
            return self.name
        if self.metric:
            return self.metric
        return (self.function or "metric").rsplit(".", 1)[-1]

    def to_raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        if self.metric is not None:
            raw["metric"] = self.metric
        if self.function is not None:
            raw["function"] = self.function
        if self.name is not None:
            raw["name"] = self.name
        if self.greater_is_better is not None:
            raw["greater_is_better"] = self.greater_is_better
        if self.response_method is not None:
            raw["response_method"] = self.response_method
        raw.update(self.args)
        return raw


# ----- parsing (called by the spec's parser) -----------------------------------------------


def parse_metric(key: str, raw: Any, decode: Callable[[str, Any], Any]) -> str | MetricSpec:
    """One entry of ``metrics``: a scorer name, or a table making a scorer with arguments.

    ``decode`` is the spec's value decoder (it turns "None" into None and refuses what a
    spec cannot save)."""
    if isinstance(raw, str):
        if not raw.strip():
            raise SpecError(f"{key}: empty; give a scorer name such as 'accuracy'")
        return raw
    if not isinstance(raw, Mapping):
        raise SpecError(f"{key}: expected a scorer name like 'accuracy' or a table like "
                        f"{{ metric = \"fbeta\", beta = 2 }}, got {raw!r}")
    for name in raw:
        if not isinstance(name, str) or not name:
            raise SpecError(f"{key}: argument names must be text")
    metric, function = raw.get("metric"), raw.get("function")
    if (metric is None) == (function is None):
        raise SpecError(f"{key}: give exactly one of `metric` (a scorer or metric name, e.g. "
                        "\"fbeta\") or `function` (e.g. \"sklearn.metrics.mean_pinball_loss\")")
    for label, text in (("metric", metric), ("function", function), ("name", raw.get("name"))):
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise SpecError(f"{key}.{label}: expected a name, got {text!r}")
    if function is not None:
        module, _, short = function.rpartition(".")
        if module != "sklearn.metrics" or not short.isidentifier() or short.startswith("_"):
            raise SpecError(f"{key}.function: {function!r} is not a function of "
                            "sklearn.metrics; give one such as "
                            "\"sklearn.metrics.mean_pinball_loss\"")
    elif not metric.isidentifier():
        raise SpecError(f"{key}.metric: {metric!r} is not a metric name")
    greater = raw.get("greater_is_better")
    if greater is not None and not isinstance(greater, bool):
        raise SpecError(f"{key}.greater_is_better: expected true or false, got {greater!r}")
    response = raw.get("response_method")
    if response is not None and response not in _RESPONSE_METHODS:
        raise SpecError(f"{key}.response_method: {response!r} is not one of "
                        f"{', '.join(_RESPONSE_METHODS)}")
    args = {name: decode(f"{key}.{name}", value) for name, value in raw.items()
            if name not in _METRIC_KEYS}
    return MetricSpec(metric, function, args, raw.get("name"), greater, response)


def entry_key(entry: str | MetricSpec) -> str:
    return entry.key if isinstance(entry, MetricSpec) else entry


def check_entries(metrics: Sequence[str | MetricSpec], refit: str | None,
                  metric: str | None) -> None:
    """Distinct keys, none called ``score`` among several, a refit that is one of them."""
    keys = [entry_key(e) for e in metrics]
    seen: set[str] = set()
    for index, name in enumerate(keys):
        if name in seen:
            raise SpecError(f"scoring.metrics[{index}]: {name!r} is listed twice; give the "
                            "second one its own name, e.g. { metric = ..., name = \"f2\" }")
        seen.add(name)
        if len(keys) > 1 and name == SCORE:
            raise SpecError(f"scoring.metrics[{index}]: {SCORE!r} is the name of the only "
                            "metric of a single-metric study; name this one otherwise")
    if refit is None:
        return
    choices = keys or ([metric] if metric else [])
    if refit not in choices and not (not keys and metric is None and refit == SCORE):
        listed = ", ".join(choices) if choices else "the estimator's score"
        raise SpecError(f"scoring.refit: {refit!r} is not one of the study's metrics "
                        f"({listed})")


def check_rule(rule: str, complexity: str | None, param_names: Sequence[str]) -> None:
    """The simplest-within-one-std rule needs a parameter of the space to order by."""
    if rule != "simplest":
        if complexity is not None:
            raise SpecError("scoring.complexity: only the refit rule \"simplest\" uses it; set "
                            "refit_rule = \"simplest\" or leave complexity out")
        return
    if complexity is None:
        raise SpecError("scoring.complexity: the refit rule \"simplest\" needs the parameter "
                        "that orders candidates by complexity, e.g. complexity = \"max_depth\"")
    if complexity not in param_names:
        raise SpecError(f"scoring.complexity: {complexity!r} is not a parameter of the search "
                        f"space ({', '.join(param_names)})")


# ----- keys and labels ----------------------------------------------------------------------


def scorer_entries(scoring: Any) -> tuple[tuple[str, str | MetricSpec | None], ...]:
    """(key, scorer) per metric in the order given: one metric is keyed ``score``."""
    metrics = tuple(getattr(scoring, "metrics", ()) or ())
    if not metrics:
        return ((SCORE, scoring.metric),)
    if len(metrics) == 1:
        return ((SCORE, metrics[0]),)
    return tuple((entry_key(e), e) for e in metrics)


def metric_keys(scoring: Any) -> tuple[str, ...]:
    return tuple(key for key, _ in scorer_entries(scoring))


def refit_key(scoring: Any) -> str:
    """The key of the metric that ranks the trials."""
    keys = metric_keys(scoring)
    refit = getattr(scoring, "refit", None)
    if len(keys) == 1 or refit is None:
        return keys[0]
    return refit


def scoring_label(scoring: Any) -> str:
    """The ranking metric's name as the user gave it ("score": the estimator's own)."""
    entries = scorer_entries(scoring)
    if len(entries) == 1:
        entry = entries[0][1]
        return "score" if entry is None else entry_key(entry)
    return refit_key(scoring)


def keys_of_raw(raw: Mapping[str, Any]) -> tuple[tuple[str, ...], str, str]:
    """(metric keys, refit key, label) of a ``[scoring]`` section as a spec dict holds it
    (what the history stores with a study)."""
    metrics = raw.get("metrics") or ()
    metric = raw.get("metric")
    if isinstance(metric, Mapping):
        metrics = [metric]
        metric = None
    entries = [m if isinstance(m, str) else _key_of_raw_entry(m) for m in metrics]
    if len(entries) <= 1:
        label = entries[0] if entries else (metric or SCORE)
        return (SCORE,), SCORE, label
    refit = raw.get("refit") or entries[0]
    return tuple(entries), refit, refit


def _key_of_raw_entry(raw: Mapping[str, Any]) -> str:
    if raw.get("name"):
        return str(raw["name"])
    if raw.get("metric"):
        return str(raw["metric"])
    return str(raw.get("function", "metric")).rsplit(".", 1)[-1]


# ----- building scorers (imports scikit-learn) -------------------------------------------------


def build_scorer(estimator: Any, entry: str | MetricSpec | None) -> Any:
    """A scorer for ``entry``: a named scorer, the estimator's own score (None), or
    ``make_scorer`` of a ``sklearn.metrics`` function with the entry's arguments."""
    if not isinstance(entry, MetricSpec):
        from sklearn.metrics import check_scoring

        return check_scoring(estimator, scoring=entry)
    from sklearn.metrics import make_scorer

    func, kwargs, greater, response = _resolve(entry)
    return make_scorer(func, response_method=response, greater_is_better=greater, **kwargs)


def _resolve(entry: MetricSpec) -> tuple[Callable[..., Any], dict[str, Any], bool, Any]:
    """(function, keyword arguments, greater is better, response method) of an entry."""
    import sklearn.metrics as metrics
    from sklearn.metrics import get_scorer, get_scorer_names

    kwargs: dict[str, Any] = {}
    greater: bool | None = None
    response: Any = None
    if entry.function is not None:
        short = entry.function.rsplit(".", 1)[-1]
        func = getattr(metrics, short, None) if short in _public_metrics() else None
        if func is None:
            raise SpecError(f"scoring: {entry.function!r} is not a function of sklearn.metrics"
                            f"{_did_you_mean(short, _public_metrics())}")
    elif entry.metric in get_scorer_names():
        base = get_scorer(entry.metric)
        func = getattr(base, "_score_func", None)
        if func is None:
            raise SpecError(f"scoring: the scorer {entry.metric!r} takes no arguments here; "
                            "give its metric function instead")
        kwargs = dict(getattr(base, "_kwargs", {}))
        greater = getattr(base, "_sign", 1) > 0
        response = getattr(base, "_response_method", None)
    else:
        name = entry.metric or ""
        found = next((n for n in (f"{name}_score", name, f"{name}_loss", f"{name}_error")
                      if n in _public_metrics()), None)
        if found is None:
            options = set(_public_metrics()) | set(get_scorer_names())
            raise SpecError(f"scoring: unknown metric {name!r}{_did_you_mean(name, options)}; "
                            "give a scorer name or a function of sklearn.metrics")
        func = getattr(metrics, found)
    kwargs.update(entry.args)
    if entry.greater_is_better is not None:
        greater = entry.greater_is_better
    if greater is None:
        greater = not func.__name__.endswith(_LOWER_IS_BETTER)
    if entry.response_method is not None:
        response = entry.response_method
    return func, kwargs, greater, response or "predict"


def _public_metrics() -> list[str]:
    import sklearn.metrics as metrics

    return [n for n in getattr(metrics, "__all__", dir(metrics))
            if not n.startswith("_") and callable(getattr(metrics, n, None))]


def check_metrics(scoring: Any) -> None:
    """Every scorer name known, every metric function found, every argument one its
    function takes (raised as SpecError naming the key)."""
    from sklearn.metrics import get_scorer_names

    names = set(get_scorer_names())
    entries = [("scoring.metric", scoring.metric)] if scoring.metric is not None else []
    entries += [(f"scoring.metrics[{i}]", e) for i, e in enumerate(scoring.metrics or ())]
    for key, entry in entries:
        if isinstance(entry, str):
            if entry not in names:
                raise SpecError(f"{key}: unknown scorer {entry!r}{_did_you_mean(entry, names)}; "
                                "any name from sklearn.metrics.get_scorer_names() is allowed, "
                                "or a table such as { metric = \"fbeta\", beta = 2 }")
            continue
        try:
            func, _, _, _ = _resolve(entry)
        except SpecError as exc:
            raise SpecError(f"{key}: {str(exc).removeprefix('scoring: ')}") from None
        accepted = _keywords(func)
        if accepted is None:
            continue
        for name in entry.args:
            if name not in accepted:
                raise SpecError(f"{key}.{name}: {func.__name__} has no argument {name!r}"
                                f"{_did_you_mean(name, accepted)}; it takes "
                                f"{', '.join(sorted(accepted)) or 'no arguments'}")


def _keywords(func: Callable[..., Any]) -> set[str] | None:
    """The arguments a metric function takes besides the true and predicted values."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.name not in _TRUE_AND_PREDICTED
            and p.kind is not inspect.Parameter.VAR_POSITIONAL}


# ----- choosing the best ----------------------------------------------------------------------


def simplest_within_one_std(mean: np.ndarray, std: np.ndarray, complexity: np.ndarray,
                            usable: np.ndarray, *, lower_is_simpler: bool = True,
                            order: np.ndarray | None = None) -> int | None:
    """The gallery's refit callable: among candidates whose mean score is at least the
    best mean minus the best's standard deviation over the splits, the one with the
    lowest (or highest) complexity; ties go to the first in ``order`` (candidate order).

    Candidates without a complexity value (another sub-space) are not considered
    unless none has one."""
    mean = np.asarray(mean, dtype=float)
    usable = np.asarray(usable, dtype=bool) & np.isfinite(mean)
    if not usable.any():
        return None
    order = np.arange(len(mean)) if order is None else np.asarray(order)
    rows = np.flatnonzero(usable)
    rows = rows[np.argsort(order[rows], kind="stable")]
    best = rows[int(np.argmax(mean[rows]))]
    spread = float(std[best]) if math.isfinite(float(std[best])) else 0.0
    threshold = mean[best] - spread
    candidates = rows[mean[rows] >= threshold]
    values = np.asarray(complexity, dtype=float)[candidates]
    known = np.isfinite(values)
    if not known.any():
        return int(best)
    candidates, values = candidates[known], values[known]
    pick = np.argmin(values) if lower_is_simpler else np.argmax(values)
    return int(candidates[pick])


def choose_best_index(table: TrialTable, scoring: Any = None) -> int | None:
    """The row of ``table`` a study's refit rule picks (the top rung's trials compete)."""
    ok = table.complete
    rung = table.rung
    if ok.any():
        ok = ok & (rung == rung[ok].max())
    rule = getattr(scoring, "refit_rule", "best") if scoring is not None else "best"
    if rule != "simplest" or not ok.any():
        scores = np.where(ok, table.test, -np.inf)
        if not len(scores) or not np.isfinite(scores).any():
            return None
        top = np.flatnonzero(scores == scores.max())
        return int(top[np.argmin(table.number[top])])
    column = table.params.get(scoring.complexity)
    values = (column.values if column is not None and not column.categorical
              else np.full(len(table), np.nan))
    return simplest_within_one_std(table.test, table.col("std"), values, ok,
                                   lower_is_simpler=scoring.simpler != "higher",
                                   order=table.number * 1024 + table.rung)


def choose_best_trial(trials: Sequence[TrialRecord], scoring: Any = None) -> TrialRecord | None:
    """The trial the refit rule picks among finished trials (None when none is complete)."""
    from hpstudio.core.trials import TrialTable

    if not trials:
        return None
    table = TrialTable.from_trials(trials, metrics=trials[0].metrics, refit=trials[0].refit)
    index = choose_best_index(table, scoring)
    return None if index is None else table.record(index)


def rule_text(scoring: Any) -> str:
    """How the best trial is chosen, in words."""
    if getattr(scoring, "refit_rule", "best") != "simplest":
        return f"highest mean {scoring_label(scoring)}"
    end = "lowest" if scoring.simpler != "higher" else "highest"
    return (f"the {end} {scoring.complexity} within one standard deviation of the best mean "
            f"{scoring_label(scoring)}")


def _did_you_mean(name: str, options: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ----- from Python objects (what a face given ``scoring=`` / ``refit=`` writes) -------------


def scoring_section(scoring: Any = None, refit: Any = True,
                    train_score: bool = False) -> dict[str, Any]:
    """The ``[scoring]`` section for scikit-learn's ``scoring=`` and ``refit=`` arguments.

    ``scoring``: None (the estimator's score), a scorer name, a list of names, or a dict of
    name -> scorer name or scorer made by ``make_scorer`` of a ``sklearn.metrics`` function
    (written back as ``{ function = ..., name = ..., ...arguments }``). ``refit``: True
    (one metric), or the name of the metric that ranks. A callable refit has no spec form
    (use ``refit_rule = "simplest"`` for the one-standard-deviation rule)."""
    section: dict[str, Any] = {}
    if train_score:
        section["train_score"] = True
    if scoring is None or isinstance(scoring, str):
        if scoring is not None:
            section["metric"] = scoring
    elif isinstance(scoring, list | tuple | set):
        section["metrics"] = [str(s) for s in scoring]
    elif isinstance(scoring, Mapping):
        section["metrics"] = [_entry_of(name, value) for name, value in scoring.items()]
    elif callable(scoring):
        section["metrics"] = [_entry_of(None, scoring)]
    else:
        raise SpecError(f"scoring: {scoring!r} is not a scorer name, a list or a dict of them")
    if callable(refit):
        raise SpecError("refit: a callable cannot be written in a spec; for the simplest "
                        "candidate within one std of the best use refit_rule = \"simplest\" "
                        "and complexity = PARAMETER")
    if isinstance(refit, str) and len(section.get("metrics", ())) > 1:
        section["refit"] = refit
    return section


def _entry_of(name: str | None, scorer: Any) -> str | dict[str, Any]:
    if isinstance(scorer, str):
        return scorer if name in (None, scorer) else {"metric": scorer, "name": name}
    func = getattr(scorer, "_score_func", None)
    module = getattr(func, "__module__", "") or ""
    if func is None or not module.startswith("sklearn.metrics"):
        raise SpecError(f"scoring{'.' + name if name else ''}: only scorers made by "
                        "make_scorer of a sklearn.metrics function can be written in a spec")
    entry: dict[str, Any] = {"function": f"sklearn.metrics.{func.__name__}"}
    if name:
        entry["name"] = name
    if getattr(scorer, "_sign", 1) < 0:
        entry["greater_is_better"] = False
    response = getattr(scorer, "_response_method", "predict")
    if isinstance(response, str) and response != "predict":
        entry["response_method"] = response
    entry.update(getattr(scorer, "_kwargs", {}))
    return entry

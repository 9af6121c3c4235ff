"""Searches that ran elsewhere, as studies: fitted scikit-learn searches, saved
``cv_results_`` tables, Optuna studies.

Each source becomes a :class:`Recording`: a ``NewStudy`` (origin recorded or imported,
no spec: such a study is looked at, compared and exported, never run again) and its
trial records, saved with ``Recording.save``. Nothing is invented: a ``cv_results_``
gives per-split scores but only the mean of each candidate's fit and score times, which
every split is given (the study's description says so); an Optuna trial has one value and
no folds, kept as the trial's ``value``, and the views that need folds say they are
absent. An objective Optuna minimises is stored negated (``neg_<name>``), as
scikit-learn's scorers do, so that greater is better everywhere.
"""

from __future__ import annotations

import ast
import itertools
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.describe import class_path, describe_value, plain
from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import SCORE, Budget, StudyOrigin, StudyStatus, TrialRecord, TrialState

__all__ = ["Recording", "read_cv_results_csv", "read_optuna_study", "record_cv_results",
           "record_search"]

_STRATEGIES = {"GridSearchCV": "grid", "RandomizedSearchCV": "random",
               "HalvingGridSearchCV": "halving-grid", "HalvingRandomSearchCV": "halving-random",
               "BayesSearchCV": "bayes"}
_SPLIT = re.compile(r"^split(\d+)_(test|train)_(.+)$")
_TIMES_NOTE = ("fit and score times are each candidate's means over its splits, as "
               "cv_results_ holds them")


@dataclass(frozen=True)
class Recording:
    """A study to store: how it is listed and described, and its trials (study id 0
    until saved)."""

    study: Any  # NewStudy
    trials: tuple[TrialRecord, ...]
    reason: str
    skipped: int = 0  # trials of the source that had not ended (Optuna's running ones)

    def save(self, store: Any) -> int:
        """Add the study and its trials to ``store``; the new study's id."""
        study_id = int(store.add_study(self.study))
        store.save_trials(replace(t, study_id=study_id) for t in self.trials)
        store.set_status(study_id, StudyStatus.FINISHED, self.reason)
        return study_id


# ----- fitted searches ---------------------------------------------------------------------


def record_search(search: Any, *, name: str | None = None, stored: Any = None,
                  data_fingerprint: str | None = None) -> Recording:
    """A fitted scikit-learn or scikit-optimize search as a recorded study."""
    results = getattr(search, "cv_results_", None)
    if not isinstance(results, Mapping) or "params" not in results:
        raise HpstudioError(f"{type(search).__name__} has no cv_results_: record a search "
                            "after its fit (GridSearchCV, RandomizedSearchCV, the halving "
                            "searches or BayesSearchCV)")
    kind = type(search).__name__
    estimator = getattr(search, "estimator", None)
    estimator_path = class_path(estimator) if estimator is not None else ""
    metrics = _metric_keys(results)
    rank = _refit_metric(getattr(search, "refit", True), metrics)
    resource = getattr(search, "resource", None) if "iter" in results else None
    description: dict[str, Any] = {
        "made_by": f"hpstudio.record of a fitted {kind}",
        "search_class": kind,
        "estimator": estimator_path,
        "estimator_params": describe_value(estimator),
        "cv": repr(getattr(search, "cv", None)),
        "scoring": _scoring_names(getattr(search, "scoring", None), metrics),
        "refit": rank,
        "times": _TIMES_NOTE,
        "log_params": _log_params_of(search),
    }
    if stored is not None:
        description["data"] = {"stored": stored.key, "folder": str(stored.path.parent)}
    if getattr(search, "best_index_", None) is not None:
        description["best_index"] = int(search.best_index_)
    label = _metric_label(getattr(search, "scoring", None), metrics, rank)
    subspaces = _subspace_of_candidates(search, len(results["params"]))
    return record_cv_results(
        results, name=name or f"{kind} {estimator_path.rsplit('.', 1)[-1]}".strip(),
        origin=StudyOrigin.RECORDED, strategy=_STRATEGIES.get(kind, kind), metrics=metrics,
        rank=rank, label=label, estimator=estimator_path, description=description,
        resource=resource, subspaces=subspaces,
        n_splits=getattr(search, "n_splits_", None), data_fingerprint=data_fingerprint,
        dataset=_dataset_label(stored), reason=f"recorded from a fitted {kind}")


def record_cv_results(results: Mapping[str, Any], *, name: str, origin: StudyOrigin,
                      strategy: str, metrics: Sequence[str], rank: str, label: str,
                      estimator: str = "", description: dict[str, Any] | None = None,
                      resource: str | None = None, subspaces: Sequence[int] | None = None,
                      n_splits: int | None = None, data_fingerprint: str | None = None,
                      dataset: str = "", reason: str = "recorded",
                      states: Sequence[str] | None = None,
                      errors: Sequence[str] | None = None,
                      numbers: Sequence[int] | None = None) -> Recording:
    """A study from a ``cv_results_`` mapping (of a search, or read from a CSV)."""
    from hpstudio.core.storage import NewStudy

    params = [{str(k): plain(v) for k, v in p.items()} for p in results["params"]]
    n = len(params)
    iters = [int(v) for v in results["iter"]] if "iter" in results else [0] * n
    if numbers is None:
        numbers = _candidate_numbers(params, iters)
    splits = _split_columns(results)
    width = max((k + 1 for k, _, _ in splits), default=0)
    now = time.time()
    trials = []
    for i in range(n):
        test = {m: _splits(results, splits, "test", m, i) for m in metrics}
        train = None
        if any(kind == "train" for _, kind, _ in splits):
            train = {m: _splits(results, splits, "train", m, i) for m in metrics}
        value = None
        if not test[rank]:  # no per-split scores: the mean stands for the candidate
            value = _number(results.get(f"mean_test_{rank}", [math.nan] * n)[i])
        state = _state_of(test[rank], value, None if states is None else states[i])
        n_times = width or 1
        fit = _number(results.get("mean_fit_time", [math.nan] * n)[i])
        score = _number(results.get("mean_score_time", [math.nan] * n)[i])
        budget = None
        if resource is not None and "n_resources" in results:
            budget = Budget(str(resource), float(results["n_resources"][i]))
        error = errors[i] if errors is not None and errors[i] else None
        if state is TrialState.FAILED and error is None:
            error = "the fit failed in the search (its scores are NaN)"
        trials.append(TrialRecord(
            study_id=0, number=int(numbers[i]), params=params[i], state=state,
            test_scores=test, train_scores=train, fit_times=(fit,) * n_times,
            score_times=(score,) * n_times, started=now, finished=now,
            subspace=0 if subspaces is None else int(subspaces[i]), error=error, refit=rank,
            rung=iters[i], budget=budget, value=value))
    keys = _ranked_first(metrics, rank)
    description = {"search": {"strategy": strategy}, **(description or {})}
    study = NewStudy(
        name=name, spec=None, origin=origin, n_total=len(trials),
        data_fingerprint=data_fingerprint, dataset=dataset, strategy=strategy,
        estimator=estimator, metric=label, metrics=keys, refit=rank,
        n_splits=n_splits if n_splits is not None else (width or None),
        description=description)
    return Recording(study, tuple(trials), reason)


def _metric_keys(results: Mapping[str, Any]) -> list[str]:
    keys = [k[len("mean_test_"):] for k in results if k.startswith("mean_test_")]
    if not keys:
        raise HpstudioError("the cv_results_ hold no mean_test_* column: nothing was scored")
    return keys


def _refit_metric(refit: Any, metrics: Sequence[str]) -> str:
    if isinstance(refit, str) and refit in metrics:
        return refit
    return SCORE if SCORE in metrics else metrics[0]


def _ranked_first(metrics: Sequence[str], rank: str) -> tuple[str, ...]:
    return (rank, *[m for m in metrics if m != rank])


def _metric_label(scoring: Any, metrics: Sequence[str], rank: str) -> str:
    if rank == SCORE:
        if isinstance(scoring, str):
            return scoring
        if callable(scoring):
            return getattr(scoring, "__name__", None) or SCORE
        return SCORE
    return rank


def _scoring_names(scoring: Any, metrics: Sequence[str]) -> Any:
    if scoring is None or isinstance(scoring, str):
        return scoring
    if isinstance(scoring, Mapping):
        return {k: v if isinstance(v, str) else repr(v) for k, v in scoring.items()}
    if isinstance(scoring, list | tuple | set):
        return list(scoring)
    return repr(scoring)


def _split_columns(results: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    found = []
    for key in results:
        match = _SPLIT.match(key)
        if match:
            found.append((int(match.group(1)), match.group(2), match.group(3)))
    return sorted(found)


def _splits(results: Mapping[str, Any], splits: list[tuple[int, str, str]], kind: str,
            metric: str, i: int) -> tuple[float, ...]:
    return tuple(_number(results[f"split{k}_{kind}_{metric}"][i])
                 for k, column_kind, m in splits if column_kind == kind and m == metric)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _state_of(splits: tuple[float, ...], value: float | None, given: str | None) -> TrialState:
    if given:
        try:
            return TrialState(given)
        except ValueError:
            pass
    scores = splits if splits else (() if value is None else (value,))
    if not scores or any(math.isnan(s) for s in scores):
        return TrialState.FAILED
    return TrialState.COMPLETE


def _candidate_numbers(params: list[dict[str, Any]], iters: list[int]) -> list[int]:
    """Each row's candidate: its index among the first rung's rows (halving searches run
    a candidate again at each rung it survives); the row index otherwise."""
    if not any(iters):
        return list(range(len(params)))
    first = [i for i, it in enumerate(iters) if it == min(iters)]
    by_key: dict[str, int] = {}
    for number, i in enumerate(first):
        by_key.setdefault(_params_key(params[i]), number)
    numbers = []
    extra = len(first)
    for i, p in enumerate(params):
        if iters[i] == min(iters):
            numbers.append(first.index(i))
            continue
        number = by_key.get(_params_key(p))
        if number is None:  # a candidate not seen at the first rung: a number of its own
            number = extra
            extra += 1
            by_key[_params_key(p)] = number
        numbers.append(number)
    return numbers


def _params_key(params: Mapping[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in params.items()))


def _subspace_of_candidates(search: Any, n: int) -> list[int] | None:
    """For a grid search, which dict of its ``param_grid`` each candidate came from."""
    grid = getattr(search, "param_grid", None)
    if grid is None or "iter" in getattr(search, "cv_results_", {}):
        return None
    from sklearn.model_selection import ParameterGrid

    grids = [grid] if isinstance(grid, Mapping) else list(grid)
    out: list[int] = []
    for index, sub in enumerate(grids):
        out += [index] * len(ParameterGrid(sub))
    return out if len(out) == n else None


def _log_params_of(search: Any) -> list[str]:
    """Parameters a search drew on a log scale (loguniform, log-uniform priors), or whose
    listed values are evenly spaced in log (np.logspace)."""
    spaces = (getattr(search, "param_distributions", None)
              or getattr(search, "search_spaces", None) or getattr(search, "param_grid", None))
    if spaces is None:
        return []
    grids = [spaces] if isinstance(spaces, Mapping) else list(spaces)
    names = set()
    for grid in grids:
        if isinstance(grid, tuple) and len(grid) == 2:  # BayesSearchCV's (space, n_iter)
            grid = grid[0]
        if not isinstance(grid, Mapping):
            continue
        for name, value in grid.items():
            dist = getattr(getattr(value, "dist", None), "name", "")
            if dist in ("loguniform", "reciprocal") or getattr(value, "prior", "") == \
                    "log-uniform" or _log_spaced(value):
                names.add(str(name))
    return sorted(names)


def _log_spaced(values: Any) -> bool:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        return False
    try:
        numbers = sorted({float(v) for v in values if not isinstance(v, bool)})
    except (TypeError, ValueError):
        return False
    if len(numbers) < 3 or numbers[0] <= 0:
        return False
    ratios = [b / a for a, b in itertools.pairwise(numbers)]
    return min(ratios) > 1.9 and max(ratios) / min(ratios) < 1.1


def _dataset_label(stored: Any) -> str:
    return f"stored {stored.key[:8]}" if stored is not None else ""


# ----- a cv_results_ CSV -------------------------------------------------------------------


def read_cv_results_csv(path: str | Path, *, name: str | None = None,
                        refit: str | None = None) -> Recording:
    """A ``cv_results_`` saved as CSV (``pd.DataFrame(search.cv_results_).to_csv(F)``, or
    ``hpstudio trials --csv``) as an imported study.

    The ``params`` column is read as Python or JSON literals (NumPy scalars written as
    ``np.float64(0.1)`` included; a value written as code, such as an estimator, stays
    its text); without it, the ``param_*`` columns are used."""
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise HpstudioError(f"{path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise HpstudioError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") \
            from None
    if frame.empty:
        raise HpstudioError(f"{path}: the CSV has no rows")
    metrics = [k[len("mean_test_"):] for k in frame.columns if k.startswith("mean_test_")]
    if not metrics:
        raise HpstudioError(f"{path}: no mean_test_* column; expected a cv_results_ table "
                            "(pd.DataFrame(search.cv_results_).to_csv(...))")
    if refit is not None and refit not in metrics:
        raise HpstudioError(f"--refit: {refit!r} is not a metric of {path.name}; its "
                            f"metrics are {', '.join(metrics)}")
    rank = refit or (SCORE if SCORE in metrics else metrics[0])
    results: dict[str, Any] = {c: frame[c].to_numpy() for c in frame.columns}
    results["params"] = _params_from_frame(frame, path)
    states = frame["state"].astype(str).tolist() if "state" in frame.columns else None
    errors = None
    if "error" in frame.columns:
        errors = ["" if isinstance(e, float) and math.isnan(e) else str(e)
                  for e in frame["error"].tolist()]
    numbers = None
    if "number" in frame.columns:
        numbers = [int(v) for v in frame["number"].tolist()]
    elif "iter" not in frame.columns:
        numbers = list(range(len(frame)))
    log_names = sorted({c[len("param_"):] for c in frame.columns if c.startswith("param_")
                        and _log_spaced(frame[c].dropna().tolist())})
    description = {"made_by": "hpstudio import", "source": str(path.resolve()),
                   "times": _TIMES_NOTE, "refit": rank, "log_params": log_names}
    resource = "n_resources" if "n_resources" in frame.columns else None
    return record_cv_results(
        results, name=name or path.stem, origin=StudyOrigin.IMPORTED, strategy="imported",
        metrics=metrics, rank=rank, label=rank, description=description, resource=resource,
        dataset=path.name, reason=f"imported from {path.name}", states=states,
        errors=errors, numbers=numbers)


def _params_from_frame(frame: Any, path: Path) -> list[dict[str, Any]]:
    if "params" in frame.columns:
        out = []
        for row, text in enumerate(frame["params"].tolist()):
            value = read_literal(text) if isinstance(text, str) else None
            if not isinstance(value, dict):
                raise HpstudioError(f"{path}: row {row + 2}: the params cell {str(text)[:60]!r} "
                                    "is not a dict of parameters")
            out.append({str(k): v for k, v in value.items()})
        return out
    names = [c for c in frame.columns if c.startswith("param_")]
    if not names:
        raise HpstudioError(f"{path}: neither a params column nor param_* columns; nothing "
                            "says which candidate each row is")
    out = []
    for _, row in frame[names].iterrows():
        params = {}
        for column in names:
            cell = row[column]
            if isinstance(cell, float) and math.isnan(cell):
                continue  # masked: the candidate's sub-space has no such parameter
            params[column[len("param_"):]] = read_literal(cell) if isinstance(cell, str) \
                else plain(cell)
        out.append(params)
    return out


def read_literal(text: str) -> Any:
    """A Python literal written by ``repr`` (NumPy scalars and ``nan`` included), read
    without evaluating anything; a part written as code stays its source text."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return text
    return _literal(node, text)


_NUMPY_SCALARS = {"float64", "float32", "float16", "int64", "int32", "int16", "int8",
                  "uint64", "uint32", "uint16", "uint8", "str_", "bool_", "bytes_",
                  "longdouble", "intp"}


def _literal(node: ast.expr, text: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict):
        return {_literal(k, text) if k is not None else None: _literal(v, text)
                for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.List):
        return [_literal(e, text) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e, text) for e in node.elts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _literal(node.operand, text)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id in ("nan", "inf"):
        return float(node.id)
    if isinstance(node, ast.Attribute) and node.attr in ("True_", "False_", "nan", "inf"):
        return {"True_": True, "False_": False, "nan": math.nan, "inf": math.inf}[node.attr]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in _NUMPY_SCALARS and len(node.args) == 1
            and not node.keywords):
        return _literal(node.args[0], text)
    return ast.get_source_segment(text.strip(), node) or ast.dump(node)


# ----- an Optuna study ---------------------------------------------------------------------


def read_optuna_study(storage: str, study_name: str, *, name: str | None = None) -> Recording:
    """An Optuna study (``optuna.load_study(study_name, storage)``) as an imported study.

    Every ended trial is kept: its parameters, state, value and duration. Optuna trials
    have no folds; the value is the trial's ``value`` (negated when the study minimises),
    and running or waiting trials are skipped (``Recording.skipped``)."""
    try:
        import optuna
    except ImportError:
        raise HpstudioError("importing an Optuna study needs optuna: pip install optuna") \
            from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        known = _optuna_names(optuna, storage)
        raise HpstudioError(f"no Optuna study {study_name!r} in {_redacted(storage)}"
                            + (f"; it holds: {', '.join(known)}" if known else "")) from None
    except Exception as exc:  # a bad URL, a missing driver, an unreadable file
        raise HpstudioError(f"cannot open the Optuna storage {_redacted(storage)}: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                            ) from None
    directions = [d.name.lower() for d in study.directions]
    minimise = directions[0] == "minimize"
    names = list(getattr(study, "metric_names", None) or []) or ["objective"]
    objective = str(names[0])
    label = f"neg_{objective}" if minimise else objective
    sign = -1.0 if minimise else 1.0
    states = {"COMPLETE": TrialState.COMPLETE, "PRUNED": TrialState.PRUNED,
              "FAIL": TrialState.FAILED}
    trials = []
    skipped = 0
    log_names: set[str] = set()
    for trial in study.get_trials(deepcopy=False):
        state = states.get(trial.state.name)
        if state is None:
            skipped += 1
            continue
        started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
        finished = trial.datetime_complete.timestamp() if trial.datetime_complete \
            else started
        values = trial.values or []
        value = sign * float(values[0]) if values and values[0] is not None else None
        for param, distribution in trial.distributions.items():
            if getattr(distribution, "log", False):
                log_names.add(param)
        error = None
        if state is TrialState.FAILED:
            error = str(trial.system_attrs.get("fail_reason")
                        or "the trial failed in Optuna (which keeps no reason)")
        trials.append(TrialRecord(
            study_id=0, number=int(trial.number),
            params={str(k): plain(v) for k, v in trial.params.items()}, state=state,
            test_scores={SCORE: ()}, train_scores=None,
            fit_times=(max(0.0, finished - started),), score_times=(0.0,), started=started,
            finished=finished, error=error, value=value))
    description = {
        "made_by": "hpstudio import optuna", "source": "optuna",
        "search": {"strategy": "optuna"},
        "storage": _redacted(storage), "study_name": study_name,
        "directions": directions, "objective": objective,
        "folds": "absent: Optuna trials have one value each, no per-fold scores",
        "log_params": sorted(log_names),
    }
    if len(directions) > 1:
        description["objectives_not_imported"] = [str(n) for n in names[1:]] or \
            [f"objective {i}" for i in range(1, len(directions))]
    from hpstudio.core.storage import NewStudy

    new = NewStudy(
        name=name or study_name, spec=None, origin=StudyOrigin.IMPORTED,
        n_total=len(trials), dataset="", strategy="optuna", estimator="", metric=label,
        metrics=(SCORE,), refit=SCORE, n_splits=None, description=description)
    return Recording(new, tuple(trials), f"imported from Optuna study {study_name!r}", skipped)


def _optuna_names(optuna: Any, storage: str) -> list[str]:
    try:
        return sorted(optuna.get_all_study_names(storage=storage))
    except Exception:  # the storage could not be listed either: the first error says why
        return []


def _redacted(url: str) -> str:
    """A storage URL without its password (``user:secret@host`` -> ``user:***@host``)."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)

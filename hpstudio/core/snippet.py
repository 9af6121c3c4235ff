"""A runnable Python script for one trial: the pipeline, the data, the cross-validated score.

The script builds the very object a worker fits (the study's pipeline with the trial's
parameters, written back as source by :mod:`hpstudio.core.describe`), loads the data as
hpstudio loaded it (pandas with the same reader arguments, the same columns dropped and
typed), splits it as the study did, and prints the mean score, which matches the stored
one. It needs scikit-learn and pandas only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpstudio.core.records import TrialRecord

_DATASETS: dict[tuple[Any, ...], Any] = {}  # column types of a data file, by file state


def trial_script(study: Any, trial: TrialRecord, allowed_packages: tuple[str, ...] = ()) -> str:
    """The script for ``trial`` of ``study`` (a StudyRow with a spec)."""
    from hpstudio.core.describe import PythonWriter
    from hpstudio.core.evaluate import build_estimator, context_for, set_candidate
    from hpstudio.core.pipeline import resolve_class
    from hpstudio.core.splitters import describe

    spec = study.study_spec("write a runnable snippet")
    cls = resolve_class(spec.estimator.cls, allowed_packages, "estimator.class")
    dataset = _dataset(spec)
    context = context_for(spec, dataset, cls, allowed_packages)
    model = set_candidate(build_estimator(context), context, _params(trial))
    writer = PythonWriter()
    writer.imports.setdefault("sklearn.base", set()).add("is_classifier")
    writer.imports.setdefault("sklearn.model_selection", set()).update(
        {"check_cv", "cross_val_score"})
    body = _data_lines(spec, dataset, writer)
    body += ["", *_model_lines(model, writer)]
    body += ["", *_score_lines(spec, trial, dataset, writer)]
    metric = spec.scoring.label
    header = [
        f'"""Trial {trial.number} of hpstudio study #{study.id} {study.name!r}: '
        f'{metric} = {trial.mean_test_score:.6g} ({describe(spec.cv)}).',
        "",
        "Builds the pipeline with the trial's parameters, loads the data as the study did and",
        'prints the cross-validated score, which matches the study\'s."""',
    ]
    imports = (["import pandas as pd"] if spec.data.csv else []) + writer.import_lines()
    return "\n".join([*header, *imports, "", *body]) + "\n"


def _params(trial: TrialRecord) -> dict[str, Any]:
    params = dict(trial.params)
    if trial.budget is not None and trial.budget.resource != "n_samples":
        amount = trial.budget.amount
        params[trial.budget.resource] = int(amount) if float(amount).is_integer() else amount
    return params


def _dataset(spec: Any) -> Any:
    """The study's data as loaded for a run (cached while the file is unchanged)."""
    from hpstudio.core.data import load_dataset

    if spec.data.builtin:
        key: tuple[Any, ...] = ("builtin", spec.data.builtin)
    else:
        path = spec.data.csv_path()
        stat = path.stat() if path.exists() else None
        key = (str(path), stat and stat.st_mtime_ns, stat and stat.st_size, spec.data.target,
               tuple(spec.data.columns.items()), spec.data.preprocess)
    if key not in _DATASETS:
        if len(_DATASETS) > 8:
            _DATASETS.clear()
        _DATASETS[key] = load_dataset(spec.data)
    return _DATASETS[key]


def _data_lines(spec: Any, dataset: Any, writer: Any) -> list[str]:
    if spec.data.builtin:
        loader = f"load_{spec.data.builtin}"
        writer.imports.setdefault("sklearn.datasets", set()).add(loader)
        return [f"X, y = {loader}(return_X_y=True)"]
    from hpstudio.core.tabular import pandas_reader

    path = Path(spec.data.csv_path()).resolve()
    reader, options = pandas_reader(path)
    arguments = "".join(f", {k}={v!r}" for k, v in options.items())
    lines = [f"data = pd.{reader}({str(path)!r}{arguments})"]
    data = spec.data
    if data.target is not None:
        lines += [f"data = data.dropna(subset=[{data.target!r}]).reset_index(drop=True)",
                  f"y = data.pop({data.target!r})"]
    else:
        lines += ["y = None  # no target: each candidate is scored by its estimator's score"]
    if getattr(data, "groups", None):
        lines.append(f"groups = data.pop({data.groups!r})  # used to split, not a feature")
    kept = list(dataset.X.columns)
    lines.append(f"X = data[{kept!r}].copy()")
    for column in getattr(dataset, "text_columns", ()):
        lines.append(f"X[{column!r}] = X[{column!r}].fillna('').astype(str)")
    for column, kind in data.columns.items():
        if kind == "number" and data.preprocess:
            lines.append(f"X[{column!r}] = pd.to_numeric(X[{column!r}])")
    return lines


def _model_lines(model: Any, writer: Any) -> list[str]:
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Pipeline):
        return [*writer.assignments("estimator", model), "model = estimator"]
    *steps, (name, estimator) = model.steps
    lines = writer.assignments("estimator", estimator)
    rendered = []
    for step_name, step in steps:
        if hasattr(step, "get_params") and any(
                isinstance(getattr(step, a, None), list)
                for a in ("steps", "transformers", "transformer_list")):
            variable = writer.variable(step_name)
            lines += writer.assignments(variable, step)
            rendered.append(f"({step_name!r}, {variable})")
        else:
            rendered.append(f"({step_name!r}, {writer.expression(step, 4)})")
    rendered.append(f"({name!r}, estimator)")
    lines.append(f"model = {writer.name_of(Pipeline)}([")
    lines += [f"    {item}," for item in rendered]
    lines.append("])")
    return lines


def _score_lines(spec: Any, trial: TrialRecord, dataset: Any, writer: Any) -> list[str]:
    if spec.cv.splitter:
        lines = [f"cv = {_splitter_source(spec, dataset, writer)}"]
    else:
        lines = ["# scikit-learn's rule for cv=k: stratified folds for a classifier, k-fold "
                 "otherwise",
                 f"cv = check_cv({spec.cv.folds}, y, classifier=is_classifier(model))"]
        if spec.cv.shuffle:
            lines.append(f"cv.shuffle, cv.random_state = True, {spec.cv.seed!r}")
    scoring = _scorer_source(spec, writer)
    target = ", y" if dataset.y is not None else ""
    groups = ", groups=groups" if getattr(spec.data, "groups", None) else ""
    lines += [f"scores = cross_val_score(model, X{target}{groups}, cv=cv"
              f"{', scoring=' + scoring if scoring else ''})",
              f'print(f"{spec.scoring.label} = {{scores.mean():.10g}} '
              f'(the study scored {trial.mean_test_score:.6g})")']
    return lines


def _splitter_source(spec: Any, dataset: Any, writer: Any) -> str:
    """The study's splitter as the source that builds it."""
    from hpstudio.core.estimators import is_classifier_class
    from hpstudio.core.pipeline import resolve_class
    from hpstudio.core.splitters import make_cv

    classifier = is_classifier_class(resolve_class(spec.estimator.cls, (), "estimator.class"))
    splitter = make_cv(spec.cv.splitter, spec.cv.params, spec.cv.folds, spec.cv.shuffle,
                       spec.cv.seed, dataset.y, classifier, dataset.groups)
    return writer.expression(splitter)


def _scorer_source(spec: Any, writer: Any) -> str:
    """The ranking metric as cross_val_score's ``scoring`` ("" for the estimator's own)."""
    from hpstudio.core.scoring import MetricSpec, refit_key, scorer_entries

    entries = dict(scorer_entries(spec.scoring))
    entry = entries.get(refit_key(spec.scoring))
    if entry is None:
        return ""
    if not isinstance(entry, MetricSpec):
        return repr(entry)
    from hpstudio.core.scoring import build_scorer

    scorer = build_scorer(None, entry)
    func = scorer._score_func
    arguments = [writer.name_of(func), *(f"{k}={writer.expression(v)}"
                                         for k, v in scorer._kwargs.items())]
    if scorer._sign < 0:
        arguments.append("greater_is_better=False")
    response = getattr(scorer, "_response_method", "predict")
    if response != "predict":
        arguments.append(f"response_method={response!r}")
    writer.imports.setdefault("sklearn.metrics", set()).add("make_scorer")
    return f"make_scorer({', '.join(arguments)})"

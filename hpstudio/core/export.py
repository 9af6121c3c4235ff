"""Getting results out: best parameters as JSON or Python, trials as CSV, a refitted model.

Column names follow scikit-learn's ``cv_results_`` so an exported table loads into
pandas exactly as a ``GridSearchCV`` result would.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import SCORE, TrialRecord
from hpstudio.core.storage import StudyRow

_TRUSTED_MODEL_PACKAGES = ("sklearn", "numpy", "scipy", "builtins")
#: How to load a refitted model and its pipeline, shown in the export dialog and the README.
LOADING_EXAMPLE = """import json, skops.io as sio
model = sio.load("{model}", trusted=json.load(open("{model}.json"))["trusted_types"])"""
_JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")


def best_trial(trials: Sequence[TrialRecord]) -> TrialRecord | None:
    """The complete trial with the best mean test score of the refit metric.

    As scikit-learn's halving searches choose, only trials of the highest rung reached
    (the largest budget) compete; ties go to the lower trial number."""
    complete = [t for t in trials if t.ok and not math.isnan(t.mean_test_score)]
    if not complete:
        return None
    top = max(t.rung for t in complete)
    return max((t for t in complete if t.rung == top),
               key=lambda t: (t.mean_test_score, -t.number))


def pick_trial(trials: Sequence[TrialRecord], number: int | None,
               scoring: Any = None) -> TrialRecord:
    """The requested trial, or the best one (by the study's refit rule when ``scoring``
    is given); a clear error when there is none to export."""
    if number is None:
        if scoring is not None and getattr(scoring, "refit_rule", "best") != "best":
            from hpstudio.core.scoring import choose_best_trial

            trial = choose_best_trial(trials, scoring)
        else:
            trial = best_trial(trials)
        if trial is None:
            raise HpstudioError("the study has no successful trial to export yet")
        return trial
    for trial in trials:
        if trial.number == number:
            return trial
    raise HpstudioError(f"the study has no finished trial number {number}")


def params_document(study: StudyRow, trial: TrialRecord) -> dict[str, Any]:
    """The chosen trial's parameters and how they were scored, as a JSON document.

    A study without a spec (recorded or imported) says what its description holds."""
    spec = study.spec
    described = study.description
    document = {
        "study": {"id": study.id, "name": study.name, "origin": study.origin.value},
        "trial": trial.number,
        "estimator": study.estimator,
        "params": trial.params,
        "fixed_params": (_decode_none(spec["estimator"].get("fixed", {})) if spec
                         else described.get("fixed_params", {})),
        "score": trial.mean_test_score,
        "std_score": trial.std_test_score,
        "metric": study.metric,
        "cv": spec.get("cv", {}) if spec else described.get("cv", {}),
        "data": spec["data"] if spec else described.get("data", {}),
        "data_fingerprint": study.data_fingerprint,
        "versions": study.versions,
    }
    if spec:
        document["pipeline"] = pipeline_document(study.study_spec("describe its pipeline"),
                                                 trial)
    if len(trial.metrics) > 1:
        document["scores"] = {m: trial.mean_test(m) for m in trial.metrics}
    if trial.budget is not None:
        document["budget"] = {"resource": trial.budget.resource,
                              "amount": trial.budget.amount, "rung": trial.rung}
    return document


def write_params_json(path: str | Path, study: StudyRow, trial: TrialRecord) -> None:
    text = json.dumps(params_document(study, trial), indent=2, default=_plain)
    Path(path).write_text(text + "\n", encoding="utf-8")


def python_snippet(study: StudyRow, trial: TrialRecord,
                   allowed_packages: Sequence[str] = ()) -> str:
    """A runnable script: it builds the trial's pipeline (``estimator`` is its last step,
    ``model`` the whole), loads the data, and prints the cross-validated score."""
    from hpstudio.core.snippet import trial_script

    return trial_script(study, trial, tuple(allowed_packages))


def pipeline_document(spec: Any, trial: TrialRecord) -> dict[str, Any]:
    """The whole pipeline by name: each step's class and fixed parameters, the estimator,
    and the trial's parameters under the names ``set_params`` takes."""
    from hpstudio.core.pipeline import plan_for

    plan = plan_for(spec)
    steps: list[dict[str, Any]] = []
    if plan.columns is not None:
        steps.append({"name": "preprocess", "class": "sklearn.compose.ColumnTransformer",
                      "columns": dict(spec.data.columns)})
    steps += [{"name": s.name, "class": s.cls, "fixed": _decode_none(dict(s.fixed))}
              for s in spec.steps]
    steps.append({"name": spec.estimator.name, "class": spec.estimator.cls,
                  "fixed": _decode_none(dict(spec.estimator.fixed))})
    return {"steps": steps if plan.wrapped else steps[-1:],
            "params": {plan.qualify(name): value for name, value in trial.params.items()}}


def cv_results_frame(trials: Sequence[TrialRecord]) -> Any:
    """All trials as a DataFrame with ``cv_results_`` column names, plus state and error.

    As scikit-learn names them: ``split{k}_test_score``, ``mean_test_score``,
    ``rank_test_score`` with one metric; ``split{k}_test_{metric}``, ``mean_test_{metric}``,
    ``rank_test_{metric}`` for each of several; ``iter`` and ``n_resources`` when trials
    ran at rungs of successive halving. Failed and pruned trials rank last."""
    import pandas as pd
    from scipy.stats import rankdata

    names = list(dict.fromkeys(name for t in trials for name in t.params))
    metrics = list(dict.fromkeys(m for t in trials for m in t.metrics)) or [SCORE]
    halving = any(t.rung or t.budget is not None for t in trials)
    rows: list[dict[str, Any]] = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number}
        if halving:
            row["iter"] = t.rung
            row["n_resources"] = None if t.budget is None else t.budget.amount
        row.update({
            "mean_fit_time": t.mean_fit_time,
            "std_fit_time": float(np.std(t.fit_times)) if t.fit_times else math.nan,
            "mean_score_time": t.mean_score_time,
            "std_score_time": float(np.std(t.score_times)) if t.score_times else math.nan,
        })
        row.update({f"param_{n}": t.params.get(n) for n in names})
        row["params"] = json.dumps(t.params, default=_plain)
        for metric in metrics:
            splits = t.test_scores.get(metric, ())
            row.update({f"split{k}_test_{metric}": v for k, v in enumerate(splits)})
            row[f"mean_test_{metric}"] = t.mean_test(metric)
            row[f"std_test_{metric}"] = t.std_test(metric)
            row[f"rank_test_{metric}"] = 0  # filled below, over all trials
        if t.train_scores is not None:
            for metric in metrics:
                splits = t.train_scores.get(metric, ())
                row.update({f"split{k}_train_{metric}": v for k, v in enumerate(splits)})
                row[f"mean_train_{metric}"] = _mean_or_nan(splits)
                row[f"std_train_{metric}"] = float(np.std(splits)) if splits else math.nan
        row["state"] = t.state.value
        row["error"] = t.error or ""
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        usable = (frame["state"] == "complete").to_numpy()
        for metric in metrics:
            scores = frame[f"mean_test_{metric}"].to_numpy(dtype=float)
            # scikit-learn ranks failed (NaN) candidates last, with 'min' ties
            filled = np.where(np.isnan(scores) | ~usable, -np.inf, scores)
            frame[f"rank_test_{metric}"] = rankdata(-filled, method="min").astype(int)
    return frame


def _mean_or_nan(values: Sequence[float]) -> float:
    return float(np.average(np.asarray(values, dtype=float))) if len(values) else math.nan


def write_trials_csv(path: str | Path, trials: Sequence[TrialRecord]) -> None:
    cv_results_frame(trials).to_csv(path, index=False)


def refit_model(study: StudyRow, trial: TrialRecord, path: str | Path,
                allowed_packages: Sequence[str] = ()) -> Path:
    """Fit the chosen candidate's whole pipeline on all the data and save it (skops unless
    the name says joblib).

    A sidecar JSON next to the model (``<model>.json``) records params, score, versions, data
    fingerprint and, for skops, the types loading must trust (``LOADING_EXAMPLE``).
    """
    from hpstudio.core.data import load_dataset
    from hpstudio.core.evaluate import build_estimator, context_for, set_candidate

    path = Path(path)
    spec = study.study_spec("refit a model")
    cls = spec.validate(allowed_packages)
    dataset = load_dataset(spec.data)
    context = context_for(spec, dataset, cls, tuple(allowed_packages))
    estimator = set_candidate(build_estimator(context), context, trial.params)
    estimator.fit(dataset.X, dataset.y)
    uses_joblib = path.suffix.lower() in _JOBLIB_SUFFIXES
    if uses_joblib:
        import joblib

        joblib.dump(estimator, path)
    else:
        import skops.io as sio

        sio.dump(estimator, path)
    document = params_document(study, trial)
    document["model_file"] = path.name
    document["model_format"] = "joblib" if uses_joblib else "skops"
    if not uses_joblib:
        # what skops.io.load must be told to trust: the pipeline's own types, listed by
        # skops itself, so that loading needs no guessing (see LOADING_EXAMPLE)
        document["trusted_types"] = sio.get_untrusted_types(file=path)
    document["refit_data_fingerprint"] = dataset.fingerprint()
    sidecar = path.with_name(path.name + ".json")
    sidecar.write_text(json.dumps(document, indent=2, default=_plain) + "\n", encoding="utf-8")
    return sidecar


def load_model(path: str | Path) -> Any:
    """Load a model written by ``refit_model``, trusting only the types skops reports."""
    path = Path(path)
    if path.suffix.lower() in _JOBLIB_SUFFIXES:
        import joblib

        return joblib.load(path)
    import skops.io as sio

    unknown = sio.get_untrusted_types(file=path)
    foreign = [t for t in unknown if t.split(".", 1)[0] not in _TRUSTED_MODEL_PACKAGES]
    if foreign:
        raise HpstudioError(f"{path} holds types outside scikit-learn/numpy/scipy "
                            f"({', '.join(foreign)}); inspect it with skops before loading")
    return sio.load(path, trusted=unknown)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_none(fixed: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "None" else v) for k, v in fixed.items()}

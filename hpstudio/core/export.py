"""Getting results out: best parameters as JSON or Python, trials as CSV, a refitted model.

Column names follow scikit-learn's ``cv_results_`` so an exported table loads into
pandas exactly as a ``GridSearchCV`` result would.
"""

from __future__ import annotations

import json
import math
import pprint
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import TrialRecord
from hpstudio.core.spec import StudySpec
from hpstudio.core.store import StudyRow

_TRUSTED_MODEL_PACKAGES = ("sklearn", "numpy", "scipy", "builtins")
_JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")


def best_trial(trials: Sequence[TrialRecord]) -> TrialRecord | None:
    complete = [t for t in trials if t.ok and not math.isnan(t.mean_test_score)]
    return max(complete, key=lambda t: (t.mean_test_score, -t.number), default=None)


def pick_trial(trials: Sequence[TrialRecord], number: int | None) -> TrialRecord:
    """The requested trial, or the best one; a clear error when there is none to export."""
    if number is None:
        trial = best_trial(trials)
        if trial is None:
            raise HpstudioError("the study has no successful trial to export yet")
        return trial
    for trial in trials:
        if trial.number == number:
            return trial
    raise HpstudioError(f"the study has no finished trial number {number}")


def params_document(study: StudyRow, trial: TrialRecord) -> dict[str, Any]:
    spec = study.spec
    return {
        "study": {"id": study.id, "name": study.name},
        "trial": trial.number,
        "estimator": spec["estimator"]["class"],
        "params": trial.params,
        "fixed_params": _decode_none(spec["estimator"].get("fixed", {})),
        "score": trial.mean_test_score,
        "std_score": trial.std_test_score,
        "metric": spec.get("scoring", {}).get("metric") or "score",
        "cv": spec.get("cv", {}),
        "data": spec["data"],
        "data_fingerprint": study.data_fingerprint,
        "versions": study.versions,
    }


def write_params_json(path: str | Path, study: StudyRow, trial: TrialRecord) -> None:
    text = json.dumps(params_document(study, trial), indent=2, default=_plain)
    Path(path).write_text(text + "\n", encoding="utf-8")


def python_snippet(study: StudyRow, trial: TrialRecord) -> str:
    """A runnable script that builds the estimator with the chosen parameters."""
    spec = StudySpec.from_dict(study.spec, base_dir=study.base_dir)
    module, _, cls = spec.estimator.cls.rpartition(".")
    params = {**dict(spec.estimator.fixed), **trial.params}
    args = ",\n".join(f"    {name}={_literal(value)}" for name, value in params.items())
    metric = spec.scoring.label
    lines = [
        f'"""Trial {trial.number} of hpstudio study #{study.id} {study.name!r}: '
        f'{metric} = {trial.mean_test_score:.6g} ({spec.cv.folds}-fold CV)."""',
        f"from {module} import {cls}",
        "",
        f"estimator = {cls}(\n{args},\n)" if args else f"estimator = {cls}()",
    ]
    if spec.data.csv:
        lines[1:1] = [
            "from sklearn.compose import ColumnTransformer, make_column_selector",
            "from sklearn.impute import SimpleImputer",
            "from sklearn.pipeline import make_pipeline",
            "from sklearn.preprocessing import OneHotEncoder, StandardScaler",
        ]
        lines += [
            "",
            "# The CSV's columns were preprocessed inside each fold, as here.",
            "preprocess = ColumnTransformer([",
            '    ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),',
            '     make_column_selector(dtype_include="number")),',
            '    ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),',
            '                                  OneHotEncoder(handle_unknown="ignore",',
            "                                                sparse_output=False)),",
            '     make_column_selector(dtype_exclude="number")),',
            "])",
            "model = make_pipeline(preprocess, estimator)",
        ]
    return "\n".join(lines) + "\n"


def cv_results_frame(trials: Sequence[TrialRecord]) -> Any:
    """All trials as a DataFrame with ``cv_results_`` column names, plus state and error."""
    import pandas as pd
    from scipy.stats import rankdata

    names = list(dict.fromkeys(name for t in trials for name in t.params))
    rows: list[dict[str, Any]] = []
    for t in trials:
        row: dict[str, Any] = {
            "number": t.number,
            "mean_fit_time": t.mean_fit_time,
            "std_fit_time": float(np.std(t.fit_times)) if t.fit_times else math.nan,
            "mean_score_time": t.mean_score_time,
            "std_score_time": float(np.std(t.score_times)) if t.score_times else math.nan,
        }
        row.update({f"param_{n}": t.params.get(n) for n in names})
        row["params"] = json.dumps(t.params, default=_plain)
        row.update({f"split{k}_test_score": v for k, v in enumerate(t.split_test_scores)})
        row["mean_test_score"] = t.mean_test_score
        row["std_test_score"] = t.std_test_score
        if t.split_train_scores is not None:
            row.update({f"split{k}_train_score": v for k, v in enumerate(t.split_train_scores)})
            row["mean_train_score"] = t.mean_train_score
            row["std_train_score"] = t.std_train_score
        row["state"] = t.state.value
        row["error"] = t.error or ""
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        scores = frame["mean_test_score"].to_numpy(dtype=float)
        # scikit-learn ranks failed (NaN) candidates last, with 'min' ties
        filled = np.where(np.isnan(scores), -np.inf, scores)
        frame.insert(frame.columns.get_loc("std_test_score") + 1, "rank_test_score",
                     rankdata(-filled, method="min").astype(int))
    return frame


def write_trials_csv(path: str | Path, trials: Sequence[TrialRecord]) -> None:
    cv_results_frame(trials).to_csv(path, index=False)


def refit_model(study: StudyRow, trial: TrialRecord, path: str | Path,
                allowed_packages: Sequence[str] = ()) -> Path:
    """Fit the chosen candidate on all the data and save it (skops unless the name says joblib).

    A sidecar JSON next to the model records params, score, versions and data fingerprint.
    """
    from hpstudio.core.data import load_dataset
    from hpstudio.core.evaluate import build_estimator, context_for

    path = Path(path)
    spec = StudySpec.from_dict(study.spec, base_dir=study.base_dir)
    cls = spec.validate(allowed_packages)
    dataset = load_dataset(spec.data)
    context = context_for(spec, dataset, cls, tuple(allowed_packages))
    estimator = build_estimator(context)
    estimator.set_params(**{context.param_prefix + k: v for k, v in trial.params.items()})
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


def _literal(value: Any) -> str:
    return pprint.pformat(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_none(fixed: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == "None" else v) for k, v in fixed.items()}

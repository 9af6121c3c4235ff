"""What a trial's model answers: out-of-fold predictions and the reports made from them.

A cross-validation score says how good a candidate is on average; its predictions say
where it goes wrong (which classes it confuses, which targets it under-estimates). Each
row is predicted by the model fitted on the folds that did not hold it, exactly as
``sklearn.model_selection.cross_val_predict`` does over the study's own estimator,
preprocessing, parameters and splitter, so the numbers agree with what a scikit-learn
user would compute by hand.

Computing them refits the candidate once per fold: front ends run it off their main
thread. Everything here is plain data (numpy arrays, dicts), ready for a table, a plot,
a CSV or a JSON file.
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.errors import DataError, HpstudioError
from hpstudio.core.records import TrialRecord

__all__ = [
    "ClassificationReport",
    "Predictions",
    "RegressionSummary",
    "classification_report_table",
    "out_of_fold_predictions",
    "prediction_report",
    "regression_summary",
    "write_predictions_csv",
    "write_report_json",
]

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True, eq=False)
class Predictions:
    """Out-of-fold predictions of one trial: ``y_pred[i]`` predicts ``y_true[i]``, the
    target of row ``row[i]`` of the study's dataset, by a model that never saw that row."""

    trial_number: int
    task: str  # "classification" or "regression"
    row: np.ndarray  # int64 position of each row in the dataset (rows without a target
    # were left out by the study, and are here too)
    y_true: np.ndarray
    y_pred: np.ndarray
    estimator: str
    params: dict[str, Any]
    n_splits: int
    dataset: str
    labels: tuple[Any, ...] = ()  # classes in sorted order (classification only)
    notes: tuple[str, ...] = field(default=())  # caveats worth showing with the results

    @property
    def classifier(self) -> bool:
        return self.task == CLASSIFICATION

    def __len__(self) -> int:
        return len(self.y_true)


@dataclass(frozen=True, eq=False)
class ClassificationReport:
    """A confusion matrix (rows: true class, columns: predicted class, in ``labels``
    order) and per-class precision, recall, F1 and support, with their averages."""

    labels: tuple[Any, ...]
    matrix: np.ndarray  # int64 counts, shape (k, k)
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # int64: rows of each true class
    accuracy: float
    macro: tuple[float, float, float]  # precision, recall, F1 averaged over classes
    weighted: tuple[float, float, float]  # ... weighted by support

    def rows(self) -> list[tuple[str, float, float, float, int]]:
        """(class, precision, recall, F1, support) per class, then the two averages."""
        out = [(str(label), float(p), float(r), float(f), int(s)) for label, p, r, f, s
               in zip(self.labels, self.precision, self.recall, self.f1, self.support,
                      strict=True)]
        total = int(self.support.sum())
        out.append(("macro avg", *self.macro, total))
        out.append(("weighted avg", *self.weighted, total))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": [_plain(v) for v in self.labels],
            "confusion_matrix": self.matrix.tolist(),
            "per_class": [{"class": _plain(label), "precision": float(p), "recall": float(r),
                           "f1": float(f), "support": int(s)}
                          for label, p, r, f, s in zip(self.labels, self.precision,
                                                       self.recall, self.f1, self.support,
                                                       strict=True)],
            "accuracy": self.accuracy,
            "macro_avg": dict(zip(("precision", "recall", "f1"), self.macro, strict=True)),
            "weighted_avg": dict(zip(("precision", "recall", "f1"), self.weighted,
                                     strict=True)),
        }


@dataclass(frozen=True)
class RegressionSummary:
    """How far the predictions are from the targets, in the target's own units."""

    r2: float
    mae: float
    rmse: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"r2": self.r2, "mae": self.mae, "rmse": self.rmse, "n": self.n}


def out_of_fold_predictions(spec: Any, trial: TrialRecord,
                            allowed_packages: Iterable[str] = (), *,
                            expected_fingerprint: str | None = None) -> Predictions:
    """Predict every row of ``spec``'s dataset with ``trial``'s parameters, each by the
    model fitted without it, over the folds the study was scored on.

    The estimator, its preprocessing and the splitter are the workers' own
    (``context_for``, ``build_estimator``, ``make_splitter``), and the parameters are set
    the way ``fold_inputs`` sets them. ``expected_fingerprint`` is the data fingerprint
    stored with the study: when the data read now differs, a note says so. A fit that
    raises becomes an ``HpstudioError`` naming the trial.
    """
    from sklearn.model_selection import cross_val_predict

    from hpstudio.core.data import load_dataset
    from hpstudio.core.evaluate import build_estimator, context_for, make_splitter, set_candidate

    allowed = tuple(allowed_packages)
    cls = spec.validate(allowed)
    dataset = load_dataset(spec.data)
    context = context_for(spec, dataset, cls, allowed)
    estimator = set_candidate(build_estimator(context), context, _trial_params(trial))
    from hpstudio.core.splitters import split_groups

    splitter = make_splitter(context, dataset.y, dataset.groups)
    groups = split_groups(context.splitter, dataset.groups)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y_pred = cross_val_predict(estimator, dataset.X, dataset.y, cv=splitter,
                                       groups=groups)
    except Exception as exc:  # the candidate's own fit failing is the user's to know
        raise HpstudioError(f"trial {trial.number} cannot be refitted for its predictions: "
                            f"{type(exc).__name__}: {exc}") from exc
    y_true = np.asarray(dataset.y)
    task = CLASSIFICATION if context.classifier else REGRESSION
    labels: tuple[Any, ...] = ()
    if task == CLASSIFICATION:
        labels = tuple(np.unique(np.concatenate([np.unique(y_true), np.unique(y_pred)])))
    notes = []
    if expected_fingerprint and dataset.fingerprint() != expected_fingerprint:
        notes.append("the data read now differs from the data the study ran on; these "
                     "predictions are for the data as it is now")
    if trial.state.value != "complete":
        notes.append(f"trial {trial.number} is {trial.state.value}: its parameters were "
                     "refitted on every fold anyway")
    return Predictions(
        trial_number=trial.number, task=task,
        row=np.arange(len(y_true), dtype=np.int64), y_true=y_true, y_pred=np.asarray(y_pred),
        estimator=spec.estimator.cls, params=dict(trial.params),
        n_splits=int(splitter.get_n_splits(dataset.X, dataset.y, groups)),
        dataset=spec.data.label,
        labels=labels, notes=tuple(notes))


def _trial_params(trial: TrialRecord) -> dict[str, Any]:
    """The parameters a worker set for this trial, its budget included."""
    params = dict(trial.params)
    budget = trial.budget
    if budget is not None:
        if budget.resource == "n_samples":
            raise DataError(f"trial {trial.number} was fitted on a subsample "
                            f"({budget.amount:g} rows per fold); pick a trial of the last "
                            "rung to see predictions on every row")
        amount = budget.amount
        params[budget.resource] = int(amount) if float(amount).is_integer() else amount
    return params


def classification_report_table(y_true: Sequence[Any], y_pred: Sequence[Any],
                                labels: Sequence[Any] | None = None) -> ClassificationReport:
    """Confusion matrix and per-class precision / recall / F1 / support (scikit-learn's
    ``confusion_matrix`` and ``precision_recall_fscore_support``; a class never
    predicted has precision 0, not a warning)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    if labels is None:
        labels = np.unique(np.concatenate([np.unique(y_true), np.unique(y_pred)]))
    labels = list(labels)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    averages = {}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                     average=average, zero_division=0)
        averages[average] = (float(p), float(r), float(f))
    return ClassificationReport(
        labels=tuple(labels), matrix=np.asarray(matrix, dtype=np.int64),
        precision=np.asarray(precision, dtype=float), recall=np.asarray(recall, dtype=float),
        f1=np.asarray(f1, dtype=float), support=np.asarray(support, dtype=np.int64),
        accuracy=float(accuracy_score(y_true, y_pred)), macro=averages["macro"],
        weighted=averages["weighted"])


def regression_summary(y_true: Sequence[float], y_pred: Sequence[float]) -> RegressionSummary:
    """R², mean absolute error and root mean squared error, as scikit-learn computes them."""
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return RegressionSummary(r2=float(r2_score(y_true, y_pred)),
                             mae=float(mean_absolute_error(y_true, y_pred)),
                             rmse=float(root_mean_squared_error(y_true, y_pred)),
                             n=len(y_true))


def prediction_report(predictions: Predictions) -> dict[str, Any]:
    """The whole report as plain data: what was predicted, how, and how well."""
    document: dict[str, Any] = {
        "trial": predictions.trial_number,
        "estimator": predictions.estimator,
        "params": {k: _plain(v) for k, v in predictions.params.items()},
        "dataset": predictions.dataset,
        "task": predictions.task,
        "method": "sklearn.model_selection.cross_val_predict",
        "n_splits": predictions.n_splits,
        "n_rows": len(predictions),
        "notes": list(predictions.notes),
    }
    if predictions.classifier:
        document["classification"] = classification_report_table(
            predictions.y_true, predictions.y_pred, predictions.labels).to_dict()
    else:
        document["regression"] = regression_summary(predictions.y_true,
                                                    predictions.y_pred).to_dict()
    return document


def write_predictions_csv(predictions: Predictions, path: str | Path) -> Path:
    """One line per row: ``row,true,predicted`` (row: position in the study's dataset)."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "true", "predicted"])
        writer.writerows(zip(predictions.row.tolist(), _cells(predictions.y_true),
                             _cells(predictions.y_pred), strict=True))
    return path


def write_report_json(predictions: Predictions, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(prediction_report(predictions), indent=2) + "\n",
                    encoding="utf-8")
    return path


def _cells(values: np.ndarray) -> list[Any]:
    if values.dtype.kind == "f":
        return [repr(float(v)) for v in values]  # shortest text that reads back exactly
    return [_plain(v) for v in values.tolist()]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value

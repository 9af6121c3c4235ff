"""Out-of-fold predictions of a trial, against scikit-learn computing them by hand.

Each study runs in one process (serial executor, in-memory history); the predictions of
its best trial must equal ``cross_val_predict`` over the same estimator, parameters and
splits, and each fold's predictions must give back that fold's stored score.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.errors import HpstudioError
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.predictions import (
    classification_report_table,
    out_of_fold_predictions,
    prediction_report,
    regression_summary,
    write_predictions_csv,
    write_report_json,
)
from hpstudio.core.records import Budget, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner

IRIS = {"name": "iris-tree", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3], "min_samples_leaf": [1, 5]}],
        "cv": {"folds": 5, "shuffle": True, "seed": 7}}
DIABETES = {"name": "forest-diabetes", "data": {"builtin": "diabetes"},
            "estimator": {"class": "sklearn.ensemble.RandomForestRegressor",
                          "fixed": {"random_state": 0}},
            "space": [{"n_estimators": [5, 10], "max_features": [2, 4]}],
            "cv": {"folds": 4}, "scoring": {"metric": "neg_mean_squared_error"}}


def run_study(raw: dict):
    spec = StudySpec.from_dict(raw)
    history = MemoryHistory()
    outcome = StudyRunner(history, executor=SerialExecutor()).run(spec)
    return spec, outcome.best, history.load_trials(outcome.study_id)


@pytest.fixture(scope="module")
def iris_study():
    return run_study(IRIS)


@pytest.fixture(scope="module")
def diabetes_study():
    return run_study(DIABETES)


def test_classifier_predictions_equal_cross_val_predict(iris_study) -> None:
    spec, best, _ = iris_study
    predictions = out_of_fold_predictions(spec, best)
    X, y = load_iris(return_X_y=True)
    splitter = StratifiedKFold(5, shuffle=True, random_state=7)
    expected = cross_val_predict(DecisionTreeClassifier(random_state=0, **best.params), X, y,
                                 cv=splitter)
    assert predictions.classifier and predictions.trial_number == best.number
    np.testing.assert_array_equal(predictions.y_pred, expected)
    np.testing.assert_array_equal(predictions.y_true, y)
    np.testing.assert_array_equal(predictions.row, np.arange(len(y)))
    assert predictions.labels == (0, 1, 2) and predictions.n_splits == 5
    # the models behind them are the trial's own: each fold gives back its stored score
    for k, (_, test) in enumerate(splitter.split(X, y)):
        assert accuracy_score(y[test], predictions.y_pred[test]) == best.split_test_scores[k]


def test_regressor_predictions_equal_cross_val_predict(diabetes_study) -> None:
    spec, best, trials = diabetes_study
    X, y = load_diabetes(return_X_y=True)
    for trial in (best, trials[0]):  # the best one, or any selected one
        predictions = out_of_fold_predictions(spec, trial)
        model = RandomForestRegressor(random_state=0, **trial.params)
        expected = cross_val_predict(model, X, y, cv=KFold(4))
        assert not predictions.classifier and predictions.labels == ()
        np.testing.assert_array_equal(predictions.y_pred, expected)
        for k, (_, test) in enumerate(KFold(4).split(X, y)):
            score = -mean_squared_error(y[test], predictions.y_pred[test])
            assert score == pytest.approx(trial.split_test_scores[k], rel=1e-12)


def test_classification_report_table_is_sklearns(iris_study) -> None:
    spec, best, _ = iris_study
    predictions = out_of_fold_predictions(spec, best)
    y, pred = predictions.y_true, predictions.y_pred
    report = classification_report_table(y, pred, predictions.labels)
    np.testing.assert_array_equal(report.matrix, confusion_matrix(y, pred))
    reference = classification_report(y, pred, output_dict=True)
    for i, label in enumerate(report.labels):
        row = reference[str(label)]
        assert (report.precision[i], report.recall[i], report.f1[i], report.support[i]) == \
            pytest.approx((row["precision"], row["recall"], row["f1-score"], row["support"]))
    assert report.accuracy == reference["accuracy"]
    for name, values in (("macro avg", report.macro), ("weighted avg", report.weighted)):
        ref = reference[name]
        assert values == pytest.approx((ref["precision"], ref["recall"], ref["f1-score"]))
    rows = report.rows()
    assert [r[0] for r in rows] == ["0", "1", "2", "macro avg", "weighted avg"]
    assert rows[-1][4] == len(y)


def test_a_class_never_predicted_has_zero_precision_not_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = classification_report_table(["a", "b", "b", "c"], ["a", "b", "b", "b"])
    assert report.labels == ("a", "b", "c")
    assert report.precision.tolist() == [1.0, 2 / 3, 0.0]
    assert report.matrix.tolist() == [[1, 0, 0], [0, 2, 0], [0, 1, 0]]


def test_regression_summary_is_sklearns() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.3, size=50)
    summary = regression_summary(y, pred)
    assert summary.r2 == r2_score(y, pred)
    assert summary.mae == mean_absolute_error(y, pred)
    assert summary.rmse == pytest.approx(np.sqrt(mean_squared_error(y, pred)), rel=1e-15)
    assert summary.n == 50


def test_exports_read_back(diabetes_study, iris_study, tmp_path: Path) -> None:
    spec, best, _ = diabetes_study
    predictions = out_of_fold_predictions(spec, best)
    path = write_predictions_csv(predictions, tmp_path / "answers.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "true", "predicted"]
    assert [int(r[0]) for r in rows[1:]] == list(range(len(predictions)))
    np.testing.assert_array_equal([float(r[1]) for r in rows[1:]], predictions.y_true)
    np.testing.assert_array_equal([float(r[2]) for r in rows[1:]], predictions.y_pred)
    document = json.loads(write_report_json(predictions, tmp_path / "report.json").read_text())
    summary = regression_summary(predictions.y_true, predictions.y_pred)
    assert document["regression"] == summary.to_dict()
    assert document["trial"] == best.number and document["params"] == best.params
    assert document["method"] == "sklearn.model_selection.cross_val_predict"
    assert document["n_splits"] == 4 and document["n_rows"] == 442
    spec, best, _ = iris_study
    document = prediction_report(out_of_fold_predictions(spec, best))
    matrix = np.array(document["classification"]["confusion_matrix"])
    assert matrix.sum() == 150 and document["classification"]["labels"] == [0, 1, 2]
    json.dumps(document)  # plain data throughout


def test_a_fit_that_raises_names_the_trial(iris_study) -> None:
    spec, best, _ = iris_study
    broken = dataclasses.replace(best, number=41, params={"max_depth": -3},
                                 state=TrialState.FAILED)
    with pytest.raises(HpstudioError, match=r"trial 41 cannot be refitted .*max_depth"):
        out_of_fold_predictions(spec, broken)


def test_changed_data_and_budgets(iris_study) -> None:
    spec, best, _ = iris_study
    noted = out_of_fold_predictions(spec, best, expected_fingerprint="0123456789abcdef")
    assert any("differs from the data the study ran on" in n for n in noted.notes)
    assert out_of_fold_predictions(spec, best).notes == ()
    # a budget in an estimator parameter is set like the worker set it
    deep = dataclasses.replace(best, params={"min_samples_leaf": 1},
                               budget=Budget("max_depth", 2.0))
    X, y = load_iris(return_X_y=True)
    expected = cross_val_predict(DecisionTreeClassifier(random_state=0, max_depth=2), X, y,
                                 cv=StratifiedKFold(5, shuffle=True, random_state=7))
    np.testing.assert_array_equal(out_of_fold_predictions(spec, deep).y_pred, expected)
    subsample = dataclasses.replace(best, budget=Budget("n_samples", 30.0))
    with pytest.raises(HpstudioError, match="subsample"):
        out_of_fold_predictions(spec, subsample)

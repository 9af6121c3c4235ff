"""The Answers dock: a selected (or the best) trial's out-of-fold predictions, computed in
the background and shown as scikit-learn would report them.

Studies are run headless into the test's history (serial executor), then reopened in the
window, so every wait is on the answers arriving, never a sleep.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel

from hpstudio.core.executor import SerialExecutor
from hpstudio.core.predictions import out_of_fold_predictions
from hpstudio.core.records import StudyOrigin, StudyStatus, TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore, NewStudy
from hpstudio.core.study import StudyRunner
from hpstudio.gui.main_window import MainWindow
from hpstudio.gui.session import StudySession
from hpstudio.gui.widgets.answers import AnswersPanel

WAIT_MS = 60_000
IRIS = {"name": "iris-tree", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3]}], "cv": {"folds": 4}}
DIABETES = {"name": "ridge-diabetes", "data": {"builtin": "diabetes"},
            "estimator": {"class": "sklearn.linear_model.Ridge"},
            "space": [{"alpha": [0.01, 1.0]}], "cv": {"folds": 3}}


def run_into(db_path: Path, raw: dict) -> int:
    with HistoryStore(db_path) as store:
        return StudyRunner(store, executor=SerialExecutor()).run(
            StudySpec.from_dict(raw)).study_id


@pytest.fixture
def window(qtbot, db_path: Path):
    win = MainWindow(db_path, interactive=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def select(win: MainWindow, number: int) -> None:
    row = win.trial_model.row_of_number(number)
    index = win.trial_proxy.mapFromSource(win.trial_model.index(row, 0))
    flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
             | QItemSelectionModel.SelectionFlag.Rows)
    win.trial_view.selectionModel().setCurrentIndex(index, flags)


def test_selecting_a_trial_shows_its_confusion_matrix(qtbot, window, db_path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier

    study_id = run_into(db_path, IRIS)
    assert window.show_study(study_id)
    answers = window.answers
    assert answers is not None and not answers.busy  # hidden: nothing is refitted yet
    with qtbot.waitSignal(answers.answersShown, timeout=WAIT_MS) as shown:
        assert window.select_plot_tab("answers")
    best = window.trial_model.best_trial()
    assert shown.args == [best.number]  # nothing selected: the best trial
    # select another trial: its answers replace the best one's
    with qtbot.waitSignal(answers.answersShown, timeout=WAIT_MS) as shown:
        select(window, 0)
    assert shown.args == [0]
    predictions = answers.predictions
    assert predictions is not None and predictions.trial_number == 0
    np.testing.assert_array_equal(answers.confusion_counts(),
                                  confusion_matrix(predictions.y_true, predictions.y_pred))
    X, y = load_iris(return_X_y=True)
    by_hand = cross_val_predict(DecisionTreeClassifier(random_state=0, max_depth=1), X, y,
                                cv=StratifiedKFold(4))
    np.testing.assert_array_equal(answers.confusion_counts(), confusion_matrix(y, by_hand))
    assert answers.class_labels() == ["0", "1", "2"]
    rows = answers.report_texts()
    assert [r[0] for r in rows] == ["0", "1", "2", "macro avg", "weighted avg"]
    assert [int(r[4]) for r in rows[:3]] == [50, 50, 50]
    assert answers.summary_text().startswith(
        f"accuracy {np.mean(by_hand == y):.4g}")
    # back to a trial seen before: shown at once, from what was computed
    with qtbot.waitSignal(answers.answersShown, timeout=1000):
        select(window, best.number)
    assert not answers.busy and answers.predictions.trial_number == best.number


def test_a_regressor_shows_its_fit_and_residuals_and_exports(qtbot, db_path,
                                                             tmp_path) -> None:
    from sklearn.metrics import r2_score

    study_id = run_into(db_path, DIABETES)
    with HistoryStore(db_path) as store:
        row = store.get_study(study_id)
        table = store.open_trials(study_id)
    spec = row.study_spec()
    session = StudySession()
    panel = AnswersPanel(session, lambda: (spec, row.data_fingerprint))
    qtbot.addWidget(panel)
    session.show(table)
    panel.show()
    qtbot.waitUntil(lambda: panel.settled and panel.predictions is not None, timeout=WAIT_MS)
    best = table.record(table.best_index())
    expected = out_of_fold_predictions(spec, best)
    points = panel.regression_points()
    np.testing.assert_array_equal(points["true"], expected.y_true)
    np.testing.assert_array_equal(points["predicted"], expected.y_pred)
    np.testing.assert_array_equal(points["residual"], expected.y_true - expected.y_pred)
    assert f"R² {r2_score(expected.y_true, expected.y_pred):.4g}" in panel.summary_text()
    assert panel.notes.isHidden()  # the data is the study's own
    csv_path, json_path = panel.export(tmp_path / "answers")
    assert csv_path.name == "answers.csv" and json_path.name == "answers.json"
    with csv_path.open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["row", "true", "predicted"] and len(lines) == 443
    assert [float(v) for v in lines[1][1:]] == [expected.y_true[0], expected.y_pred[0]]
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["trial"] == best.number and report["regression"]["n"] == 442
    assert math.isclose(report["regression"]["r2"], r2_score(expected.y_true, expected.y_pred))


def test_a_study_without_a_spec_says_why_it_has_no_answers(qtbot, window, db_path) -> None:
    with HistoryStore(db_path) as store:
        study_id = store.add_study(NewStudy(
            name="recorded", spec=None, origin=StudyOrigin.RECORDED,
            status=StudyStatus.FINISHED, estimator="sklearn.svm.SVC", metric="accuracy"))
        store.save_trials([TrialRecord(study_id, 0, {"C": 1.0}, TrialState.COMPLETE,
                                       {"score": (0.9, 0.8)}, None, (0.1, 0.1), (0.0, 0.0),
                                       1000.0, 1001.0)])
        expected = store.get_study(study_id)
    assert window.show_study(study_id)
    with qtbot.waitSignal(window.answers.answersFailed, timeout=WAIT_MS) as failed:
        window.select_plot_tab("answers")
    with pytest.raises(Exception) as reason:
        expected.study_spec("refit its trials")
    assert failed.args == [str(reason.value)]
    assert window.answers.message == str(reason.value)
    assert "without a spec" in window.answers.message_label.text()
    assert not window.answers.export_button.isEnabled()


def test_a_failing_trial_and_a_new_study_while_refitting(qtbot, db_path) -> None:
    """A trial whose fit raises shows the error; a result that arrives after another
    study was shown is dropped."""
    import dataclasses

    study_id = run_into(db_path, IRIS)
    with HistoryStore(db_path) as store:
        spec = store.get_study(study_id).study_spec()
        table = store.open_trials(study_id)
    session = StudySession()
    panel = AnswersPanel(session, lambda: (spec, None))
    qtbot.addWidget(panel)
    session.show(table)
    panel.show()
    broken = dataclasses.replace(table.record(0), number=99, params={"max_depth": -1},
                                 state=TrialState.FAILED)
    with qtbot.waitSignal(panel.answersFailed, timeout=WAIT_MS) as failed:
        panel.show_trial(broken)
    assert "trial 99 cannot be refitted" in failed.args[0]
    panel.show_trial(table.record(1))
    assert panel.busy
    session.clear()  # another study: the refit in flight no longer matters
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert panel.predictions is None and panel.message.startswith("No trial yet")

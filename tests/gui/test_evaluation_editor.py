"""The editor's evaluation settings as a user meets them: the splitter with its parameters,
nested CV, the groups column of a data file, more metrics and the refit rule; and the
Statistics dock's comparison and nested CV of a stored study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from hpstudio.core.executor import SerialExecutor
from hpstudio.core.nested import load_result
from hpstudio.core.scoring import MetricSpec
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner
from hpstudio.core.top_comparison import compare_study
from hpstudio.gui.session import StudySession
from hpstudio.gui.widgets.editor import StudyEditor
from hpstudio.gui.widgets.evaluation_panel import EvaluationPanel, table_text

WAIT_MS = 60_000  # upper bounds for background work on a loaded machine


def settle(qtbot, editor: StudyEditor) -> None:
    qtbot.waitUntil(lambda: editor.space_editor.parameters_known()
                    and not editor.data_panel.is_loading(), timeout=WAIT_MS)


def spec_of(**sections) -> StudySpec:
    return StudySpec.from_dict({
        "name": "eval", "data": {"builtin": "breast_cancer"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2, 3]}], **sections})


def test_a_spec_with_a_splitter_nested_cv_and_several_metrics_round_trips(qtbot, editor):
    spec = spec_of(
        cv={"splitter": "RepeatedStratifiedKFold",
            "params": {"n_splits": 3, "n_repeats": 2, "random_state": 0},
            "outer": {"splitter": "KFold", "params": {"n_splits": 3, "shuffle": True,
                                                      "random_state": 1}}},
        scoring={"metrics": ["roc_auc", {"metric": "fbeta", "beta": 2, "name": "f2"},
                             "accuracy"],
                 "refit": "f2", "refit_rule": "simplest", "complexity": "max_depth",
                 "train_score": True})
    editor.set_spec(spec)
    assert editor.spec() == spec
    settle(qtbot, editor)
    assert editor.spec() == spec
    panel = editor.strategy_panel
    assert not panel.folds_spin.isEnabled()  # the shorthand is not in use
    assert panel.splitter_picker.outer_label.text() == (
        "KFold(n_splits=3, shuffle=True, random_state=1)")
    assert isinstance(panel.metric_combo.currentData(), MetricSpec)
    assert "3 candidates × 6 RepeatedStratifiedKFold splits = 18 fits" in _count_text(editor)


def test_choosing_a_splitter_and_its_parameters_builds_the_cv_section(qtbot, editor):
    editor.set_spec(spec_of())
    settle(qtbot, editor)
    picker = editor.strategy_panel.splitter_picker
    picker.set_splitter("ShuffleSplit")
    assert list(picker.fields) == ["n_splits", "test_size", "train_size", "random_state"]
    assert picker.fields["n_splits"].placeholderText() == "default: 10"
    picker.set_param("n_splits", "4")
    picker.set_param("test_size", "0.25")
    picker.set_param("random_state", "7")
    cv = editor.spec().cv
    assert (cv.splitter, dict(cv.params)) == ("ShuffleSplit", {
        "n_splits": 4, "test_size": 0.25, "random_state": 7})
    assert editor.is_valid()
    picker.nested_check.setChecked(True)
    picker.outer_spin.setValue(3)
    assert editor.spec().cv.outer.folds == 3
    picker.set_param("n_splits", "0")
    assert not editor.is_valid()
    assert editor.validation_message().startswith(
        "cv.params.n_splits: expected a whole number ≥ 1, got 0")
    picker.set_param("n_splits", "[4, 5")  # half a list: told, never a crash
    assert editor.validation_message().startswith(
        "cv.params.n_splits: expected a whole number, got '[4, 5'")
    picker.set_param("n_splits", "4")
    assert editor.is_valid()
    picker.set_splitter(None)
    assert editor.spec().cv.splitter is None and editor.strategy_panel.folds_spin.isEnabled()
    editor.undo()
    assert editor.spec().cv.splitter == "ShuffleSplit"


def test_ticking_more_metrics_and_the_simplest_rule(qtbot, editor):
    editor.set_spec(spec_of(scoring={"metric": "roc_auc"}))
    settle(qtbot, editor)
    metrics = editor.strategy_panel.metrics_picker
    metrics.set_checked(["accuracy", "f1_macro"])
    scoring = editor.spec().scoring
    assert scoring.metrics == ("roc_auc", "accuracy", "f1_macro")
    assert scoring.refit == "roc_auc" and scoring.metric is None
    metrics.rule_combo.setCurrentIndex(metrics.rule_combo.findData("simplest"))
    assert not editor.is_valid()  # the rule needs its parameter
    assert "scoring.complexity" in editor.validation_message()
    assert [metrics.complexity_combo.itemText(i)
            for i in range(metrics.complexity_combo.count())] == ["max_depth"]
    metrics.complexity_combo.setCurrentText("max_depth")
    assert editor.is_valid()
    assert editor.spec().scoring.complexity == "max_depth"
    metrics.set_checked([])
    assert editor.spec().scoring.metrics == () and editor.spec().scoring.metric == "roc_auc"


def test_the_groups_column_of_a_data_file_is_picked_under_data(qtbot, editor, tmp_path: Path):
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["site"] = np.arange(len(frame)) % 5
    frame["species"] = y
    frame.to_csv(tmp_path / "iris.csv", index=False)
    spec = StudySpec.from_dict({
        "name": "g", "data": {"csv": "iris.csv", "target": "species", "groups": "site"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2]}], "cv": {"splitter": "LeaveOneGroupOut"}},
        base_dir=tmp_path)
    editor.set_spec(spec)
    settle(qtbot, editor)
    assert editor.spec() == spec
    groups = editor.data_panel.groups_picker
    assert groups.column() == "site"
    assert [groups.itemData(i) for i in range(groups.count())] == [None, "a", "b", "c", "d",
                                                                    "site"]
    assert "2 candidates × 5 LeaveOneGroupOut splits = 10 fits" in _count_text(editor)
    groups.set_column(None)
    assert not editor.is_valid()
    assert "LeaveOneGroupOut needs the column of groups" in editor.validation_message()
    groups.set_column("site")
    assert editor.is_valid()


def _count_text(editor: StudyEditor) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in editor.space_editor.findChildren(QLabel))


def test_the_statistics_dock_compares_the_top_trials_and_shows_nested_cv(qtbot):
    spec = StudySpec.from_dict({
        "name": "s", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3, 4]}],
        "cv": {"splitter": "RepeatedStratifiedKFold",
               "params": {"n_splits": 3, "n_repeats": 2, "random_state": 0},
               "outer": {"folds": 3}},
        "scoring": {"metrics": ["accuracy", "f1_macro"]}})
    store = MemoryHistory()
    study = StudyRunner(store, executor=SerialExecutor()).run(spec).study_id
    session = StudySession()
    panel = EvaluationPanel(session, lambda: (store, study))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    session.show(store.open_trials(study), metric="accuracy")
    qtbot.waitUntil(lambda: panel.settled and panel.comparison() is not None, timeout=WAIT_MS)
    expected = compare_study(store, study, top=5)
    rows = table_text(panel.compare_table)
    assert rows == [list(r) for r in expected.lines()[1:]]
    assert panel.compare_summary.text().startswith(expected.summary())
    nested = load_result(store, study)
    assert [r[3] for r in table_text(panel.nested_table)] == [
        f"{f.test_scores['accuracy']:.4g}" for f in nested.folds]
    assert nested.describe() in panel.nested_summary.text()
    # the other metric, and a wider region of practical equivalence
    session.set_shown_metric("f1_macro")
    panel.rope_spin.setValue(0.05)
    qtbot.waitUntil(lambda: panel.settled and panel.comparison().metric == "f1_macro"
                    and panel.comparison().rope == 0.05, timeout=WAIT_MS)
    assert panel.comparison().rows[0][2].p_equivalent >= expected.rows[0][2].p_equivalent - 1e-9


def test_a_two_metric_nested_study_runs_in_the_window_and_every_view_follows(
        qtbot, db_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from hpstudio.core.storage import HistoryStore
    from hpstudio.gui.main_window import MainWindow
    from hpstudio.gui.models import COL_MEAN, TrialTableModel

    shown: list[str] = []
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(
            lambda _parent, _title, text, *a, **k: shown.append(text)))
    window = MainWindow(db_path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    spec = spec_of(cv={"folds": 3, "outer": {"folds": 3}},
                   scoring={"metrics": ["roc_auc", "accuracy"], "refit": "accuracy"})
    assert window.load_spec(spec)
    window.editor.strategy_panel.set_n_jobs(1)
    qtbot.waitUntil(lambda: window.editor.space_editor.parameters_known()
                    and not window.editor.data_panel.is_loading(), timeout=WAIT_MS)
    assert window.editor.spec() == spec
    with qtbot.waitSignal(window.studyStored, timeout=60_000) as stored:
        assert window.start_study()
    qtbot.waitUntil(lambda: window.runner is None, timeout=WAIT_MS)
    study = stored.args[0]
    with HistoryStore(db_path) as store:
        trials = store.load_trials(study)
        nested = load_result(store, study)
    model = window.trial_model
    means = {model.trial_at(r).number: model.data(model.index(r, COL_MEAN),
                                                  TrialTableModel.SortRole)
             for r in range(model.rowCount())}
    assert means == pytest.approx({t.number: t.mean_test("accuracy") for t in trials})
    chooser = window.plots.metric_chooser
    assert chooser.metrics() == ["roc_auc", "accuracy"] and not chooser.isHidden()
    chooser.choose("roc_auc")
    means = {model.trial_at(r).number: model.data(model.index(r, COL_MEAN),
                                                  TrialTableModel.SortRole)
             for r in range(model.rowCount())}
    assert means == pytest.approx({t.number: t.mean_test("roc_auc") for t in trials})
    assert len(nested.folds) == 3
    assert window.select_plot_tab("statistics")
    qtbot.waitUntil(lambda: window.statistics.settled
                    and window.statistics.nested() is not None, timeout=WAIT_MS)
    assert len(table_text(window.statistics.nested_table)) == 3
    assert not shown

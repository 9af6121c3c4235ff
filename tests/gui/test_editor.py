"""The study editor, driven through its panels as a user would (offscreen, pytest-qt)."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from hpstudio.core.estimators import catalogue_entry
from hpstudio.core.space import FloatRange, IntRange, Values
from hpstudio.core.spec import CVSpec, DataSpec, SearchSpec, StudySpec
from hpstudio.gui.resources import invalid_cell_color
from hpstudio.gui.widgets.editor import StudyEditor
from hpstudio.gui.widgets.space_editor import (
    HIGH,
    KIND,
    LOG,
    LOW,
    NAME,
    POINTS,
    VALUES,
    SubSpaceModel,
)
from hpstudio.gui.widgets.strategy_panel import (
    CLASSIFICATION_METRICS,
    DEFAULT_METRIC_LABEL,
    REGRESSION_METRICS,
)

BACKGROUND = Qt.ItemDataRole.BackgroundRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
CHECK = Qt.ItemDataRole.CheckStateRole
WAIT_MS = 15_000


def settle(qtbot, editor: StudyEditor) -> None:
    """Wait for the background work set_spec starts: the data and the estimator's params."""
    qtbot.waitUntil(lambda: editor.space_editor.parameters_known()
                    and not editor.data_panel.is_loading(), timeout=WAIT_MS)


def loaded(qtbot, editor: StudyEditor, demo: StudySpec) -> StudyEditor:
    editor.set_spec(demo)
    settle(qtbot, editor)
    return editor


def find(picker, name: str):
    return picker.tree.findItems(name, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)[0]


def set_cell(model: SubSpaceModel, name: str, column: int, text: str) -> None:
    assert model.setData(model.cell(name, column), text, Qt.ItemDataRole.EditRole)


# ----- the spec round trip and the count line -------------------------------------------------


def test_demo_round_trips_before_and_after_the_background_loads(qtbot, editor, demo) -> None:
    editor.set_spec(demo)
    assert editor.spec() == demo  # at once, before anything loaded
    settle(qtbot, editor)
    assert editor.spec() == demo
    assert editor.spec().to_dict() == demo.to_dict()  # key order too, so saving is stable
    assert editor.is_valid() and editor.validation_message() == ""
    assert editor.space_editor.subspace_count() == 2
    second = editor.space_editor.model(1)
    assert [r.name for r in second.rows if r.included] == ["bootstrap", "max_features",
                                                           "n_estimators"]
    assert "max_depth" in [r.name for r in second.rows]  # every get_params() name is offered


def test_background_loads_are_not_edits(qtbot, editor, demo) -> None:
    with qtbot.waitSignal(editor.specChanged):
        editor.set_spec(demo)
    with qtbot.assertNotEmitted(editor.specChanged):
        settle(qtbot, editor)
    with qtbot.waitSignal(editor.specChanged):
        editor.name_edit.setText("renamed")
    assert editor.spec().name == "renamed"


def test_a_name_the_estimator_lacks_is_marked_once_its_parameters_load(qtbot, editor,
                                                                       demo) -> None:
    typo = replace(demo, space=({"n_estimatorz": Values((3, 10))},))
    editor.set_spec(typo)
    settle(qtbot, editor)
    model = editor.space_editor.model(0)
    cell = model.cell("n_estimatorz", NAME)
    assert model.data(cell, BACKGROUND) == invalid_cell_color()
    assert "RandomForestRegressor has no parameter 'n_estimatorz'" in model.data(cell, TOOLTIP)
    assert not editor.is_valid()
    model.include("n_estimatorz", False)
    model.include("n_estimators")
    set_cell(model, "n_estimators", VALUES, "3, 10")
    assert editor.spec().space == ({"n_estimators": Values((3, 10))},)


def test_count_label_for_the_demo(qtbot, editor, demo) -> None:
    editor.set_spec(demo)
    assert editor.space_editor.count_label.text() == "18 candidates × 5 folds = 90 fits"
    assert editor.space_editor.explosion_frame.isHidden()
    editor.strategy_panel.folds_spin.setValue(3)
    assert editor.space_editor.count_label.text() == "18 candidates × 3 folds = 54 fits"


# ----- choosing data and estimator ------------------------------------------------------------


def test_choose_dataset_and_estimator_through_the_widgets(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    picker = editor.estimator_picker
    with qtbot.waitSignal(editor.data_panel.datasetChanged, timeout=WAIT_MS):
        editor.data_panel.builtin_combo.setCurrentText("iris")
    assert editor.data_panel.summary_label.text() == (
        "classification · 150 rows · 4 feature columns · 3 classes")
    assert find(picker, "RandomForestRegressor").isHidden()
    assert not editor.is_valid()
    assert "regression estimator but the data is a classification task" in (
        editor.validation_message())

    svc = find(picker, "SVC")
    assert not svc.isHidden()
    with qtbot.waitSignal(picker.estimatorChanged) as picked:
        picker.tree.setCurrentItem(svc)
    assert picked.args == ["sklearn.svm.SVC"]
    assert "Kernel support vector classifier" in picker.description.text()
    qtbot.waitUntil(editor.space_editor.parameters_known, timeout=WAIT_MS)
    spec = editor.spec()
    assert spec.data.builtin == "iris"
    assert spec.estimator.cls == "sklearn.svm.SVC" and dict(spec.estimator.fixed) == {}
    assert spec.space == (catalogue_entry("sklearn.svm.SVC").space,)
    assert editor.is_valid()
    assert editor.space_editor.count_label.text() == "49 candidates × 5 folds = 245 fits"


def test_other_class_path_is_resolved_and_errors_shown_inline(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    picker = editor.estimator_picker
    picker.other_edit.setText("sklearn.linear_model.HuberRegressor")
    with qtbot.waitSignal(picker.estimatorChanged):
        qtbot.keyClick(picker.other_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(editor.space_editor.parameters_known, timeout=WAIT_MS)
    editor.space_editor.model(0).include("epsilon")
    assert editor.spec().estimator.cls == "sklearn.linear_model.HuberRegressor"
    assert editor.spec().space == ({"epsilon": Values((1.35,))},)
    assert editor.is_valid()

    picker.other_edit.setText("sklearn.nope.Thing")
    picker.other_button.click()
    qtbot.waitUntil(lambda: "cannot import" in picker.error_label.text(), timeout=WAIT_MS)
    assert "cannot import module 'sklearn.nope'" in picker.error_label.text()
    assert "still using HuberRegressor" in picker.error_label.text()
    # a typo is not a choice: the estimator and its space stay as they were
    assert editor.spec().estimator.cls == "sklearn.linear_model.HuberRegressor"
    assert editor.spec().space == ({"epsilon": Values((1.35,))},)
    assert editor.is_valid()


# ----- the table ------------------------------------------------------------------------------


def test_include_a_parameter_and_set_a_log_float_range_in_the_cells(qtbot, editor, demo) -> None:
    spec = replace(demo, data=replace(demo.data, builtin="iris"),
                   estimator=replace(demo.estimator, cls="sklearn.svm.SVC", fixed={}),
                   space=({"C": Values((1.0, 10.0))},))
    loaded(qtbot, editor, spec)
    model = editor.space_editor.model(0)
    view = editor.space_editor.view(0)
    editor.show()
    qtbot.waitExposed(editor)
    # Ticking a parameter starts from its default.
    model.include("kernel")
    assert editor.spec().space[0]["kernel"] == Values(("rbf",))
    set_cell(model, "kernel", VALUES, "rbf, 'linear'")
    # A range is typed into the cells: kind, low (through the real cell editor), high, points, log.
    assert model.setData(model.cell("tol", KIND), "float range")
    low = model.cell("tol", LOW)
    view.setCurrentIndex(low)
    view.edit(low)
    line = view.focusWidget()
    line.selectAll()
    qtbot.keyClicks(line, "1e-5")
    qtbot.keyClick(line, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: model.rows[model.row_of("tol")].low == "1e-5")
    set_cell(model, "tol", HIGH, "1e-2")
    set_cell(model, "tol", POINTS, "4")
    assert model.setData(model.cell("tol", LOG), Qt.CheckState.Checked, CHECK)
    space = editor.spec().space[0]
    assert space == {"C": Values((1.0, 10.0)), "kernel": Values(("rbf", "linear")),
                     "tol": FloatRange(1e-5, 1e-2, log=True, num=4)}
    assert list(space) == ["C", "kernel", "tol"]  # the order they were ticked
    assert editor.space_editor.count_label.text() == "16 candidates × 5 folds = 80 fits"
    assert model.data(model.cell("tol", NAME), CHECK) == Qt.CheckState.Checked
    # An int range with a step, and unticking.
    assert model.setData(model.cell("max_iter", KIND), "int range")
    set_cell(model, "max_iter", LOW, "100")
    set_cell(model, "max_iter", HIGH, "400")
    set_cell(model, "max_iter", POINTS, "step 100")
    assert editor.spec().space[0]["max_iter"] == IntRange(100, 400, step=100)
    model.include("max_iter", False)
    assert "max_iter" not in editor.spec().space[0]


def test_sub_spaces_can_be_added_duplicated_and_removed(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    space = editor.space_editor
    with qtbot.waitSignal(editor.specChanged):
        space.duplicate_button.click()  # duplicates the current tab, the first
    assert space.subspace_count() == 3
    assert editor.spec().space == (demo.space[0], demo.space[0], demo.space[1])
    assert space.count_label.text() == "30 candidates × 5 folds = 150 fits"
    assert space.tabs.tabText(1) == "Sub-space 2"

    space.add_subspace()
    assert space.subspace_count() == 4 and space.tabs.currentIndex() == 3
    assert not editor.is_valid()
    assert "space[3]: empty sub-space" in editor.validation_message()
    assert "⚠" in space.tabs.tabText(3)
    space.model(3).include("max_depth")
    set_cell(space.model(3), "max_depth", VALUES, "3, 6")
    assert editor.spec().space[3] == {"max_depth": Values((3, 6))}
    assert editor.is_valid()

    space.remove_subspace(1)
    space.tabs.setCurrentIndex(2)
    space.remove_button.click()
    assert editor.spec() == demo
    space.remove_subspace(0)
    assert space.subspace_count() == 1 and not space.remove_button.isEnabled()
    space.remove_subspace(0)  # the last sub-space stays
    assert editor.spec().space == (demo.space[1],)


@pytest.mark.parametrize(("name", "column", "text", "reason"), [
    ("min_samples_leaf", HIGH, "0", "low (1) is greater than high (0); swap them"),
    ("n_estimators", VALUES, "", "empty list; give at least one value"),
    ("min_samples_leaf", LOW, "abc", "low: expected a number, got 'abc'"),
    ("n_estimators", VALUES, "3, 'ten", "a quote or bracket is not closed"),
])
def test_an_invalid_cell_is_marked_and_blocks_start(qtbot, editor, demo, name, column, text,
                                                    reason) -> None:
    loaded(qtbot, editor, demo)
    model = editor.space_editor.model(0)
    model.include("min_samples_leaf")  # prefilled from the catalogue: 1..8, 4 points
    assert editor.is_valid()
    with qtbot.waitSignal(editor.validityChanged) as signal:
        set_cell(model, name, column, text)
    valid, message = signal.args
    assert valid is False and reason in message
    assert not editor.is_valid() and reason in editor.validation_message()
    cell = model.cell(name, column)
    assert model.data(cell, BACKGROUND) == invalid_cell_color()
    assert reason in model.data(cell, TOOLTIP)
    assert model.data(model.cell("max_features", VALUES), BACKGROUND) is None
    assert reason in editor.message_label.text()
    assert editor.space_editor.count_label.text().startswith("—")
    with pytest.raises(Exception, match=re.escape(reason)):
        editor.spec()
    with qtbot.waitSignal(editor.validityChanged) as signal:
        model.include(name, False)
    assert signal.args == [True, ""]


def test_float_range_without_points_is_invalid_only_for_grid(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    model = editor.space_editor.model(0)
    assert model.setData(model.cell("ccp_alpha", KIND), "float range")
    set_cell(model, "ccp_alpha", LOW, "0")
    set_cell(model, "ccp_alpha", HIGH, "0.1")
    set_cell(model, "ccp_alpha", POINTS, "")
    assert "grid search needs `num`" in model.data(model.cell("ccp_alpha", POINTS), TOOLTIP)
    assert not editor.is_valid()
    editor.strategy_panel.set_strategy("random")
    assert editor.is_valid()
    assert editor.spec().space[0]["ccp_alpha"] == FloatRange(0.0, 0.1)


def test_explosion_warning_offers_random_and_bayes(qtbot, editor, demo) -> None:
    ten = Values(tuple(range(1, 11)))
    huge = replace(demo, space=({"n_estimators": ten, "max_depth": ten, "min_samples_leaf": ten,
                                 "max_features": ten,
                                 "max_leaf_nodes": Values(tuple(range(2, 12)))},))
    editor.set_spec(huge)
    space = editor.space_editor
    assert space.count_label.text() == "100,000 candidates × 5 folds = 500,000 fits"
    assert not space.explosion_frame.isHidden()
    assert "100,000 candidates is a lot for grid search" in space.explosion_label.text()
    with qtbot.waitSignal(editor.specChanged):
        qtbot.mouseClick(space.random_button, Qt.MouseButton.LeftButton)
    assert editor.spec().search.strategy == "random" and editor.spec().search.n_trials == 60
    assert space.count_label.text() == "60 trials × 5 folds = 300 fits"
    assert space.explosion_frame.isHidden()

    editor.set_spec(huge)
    space.bayes_button.click()
    assert (editor.spec().search.strategy, editor.spec().search.n_trials) == ("bayes", 60)
    assert not editor.strategy_panel.surrogate_combo.isHidden()


# ----- strategy panel -------------------------------------------------------------------------


def test_metric_list_follows_the_task(qtbot, editor, demo) -> None:
    panel = editor.strategy_panel
    editor.set_spec(demo)
    assert panel.metric_names() == [None, *REGRESSION_METRICS]
    assert panel.metric_combo.itemText(0) == DEFAULT_METRIC_LABEL
    assert editor.spec().scoring.metric == "neg_mean_squared_error"
    with qtbot.waitSignal(editor.data_panel.datasetChanged, timeout=WAIT_MS):
        editor.data_panel.set_builtin("wine")
    assert panel.metric_names() == [None, *CLASSIFICATION_METRICS]
    assert "roc_auc (binary)" in [panel.metric_combo.itemText(i)
                                  for i in range(panel.metric_combo.count())]
    assert editor.spec().scoring.metric is None  # a regression metric cannot score classes
    panel.metric_combo.setCurrentIndex(panel.metric_names().index("f1_macro"))
    assert editor.spec().scoring.metric == "f1_macro"


def test_strategy_options_round_trip(qtbot, editor, demo) -> None:
    spec = replace(demo, cv=CVSpec(4, shuffle=True, seed=7),
                   search=SearchSpec("bayes", n_trials=40, seed=3, time_limit=120.5, patience=9,
                                     surrogate="ET", acquisition="LCB", initial_points=5,
                                     initial_generator="sobol"))
    editor.set_spec(spec)
    assert editor.spec() == spec
    assert not editor.strategy_panel.initial_points_spin.isHidden()
    editor.strategy_panel.strategy_combo.setCurrentIndex(0)  # grid
    assert editor.strategy_panel.initial_points_spin.isHidden()


def test_run_settings_and_read_only(qtbot, editor, demo) -> None:
    editor.set_spec(demo)
    assert editor.n_jobs() == os.cpu_count()
    assert editor.cluster_address() is None
    editor.strategy_panel.cluster_edit.setText("  tcp://10.0.0.5:8786 ")
    assert editor.cluster_address() == "tcp://10.0.0.5:8786"
    editor.set_read_only(True)
    model = editor.space_editor.model(0)
    assert not model.flags(model.cell("n_estimators", VALUES)) & Qt.ItemFlag.ItemIsEditable
    assert not model.setData(model.cell("max_depth", NAME), Qt.CheckState.Checked, CHECK)
    assert editor.name_edit.isReadOnly()
    assert not editor.data_panel.builtin_combo.isEnabled()
    assert not editor.space_editor.add_button.isEnabled()
    assert editor.spec() == demo
    editor.set_read_only(False)
    assert model.flags(model.cell("n_estimators", VALUES)) & Qt.ItemFlag.ItemIsEditable


# ----- CSV files ------------------------------------------------------------------------------


GOOD_CSV = """age,city,income,bought
34,Lyon,2100.5,yes
51,Paris,,no
,Nice,1800.0,yes
29,Lyon,2500.25,no
45,,3100.0,yes
38,Paris,2700.0,no
"""


def test_a_good_csv_shows_preview_types_task_and_classes(qtbot, editor, tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    panel = editor.data_panel
    editor.estimator_picker.select("sklearn.tree.DecisionTreeClassifier")
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.choose_csv(path)
    model = panel.preview_model
    assert model.rowCount() == 6 and model.columnCount() == 4
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(4)]
    assert headers == ["age\nnumber", "city\ncategory", "income\nnumber", "bought\ncategory"]
    assert model.data(model.index(0, 1)) == "Lyon"
    assert model.data(model.index(1, 2)) == "NaN"
    assert model.data(model.index(1, 2), TOOLTIP) == "missing value"
    # no column is guessed as the target: the user picks it
    assert panel.data_spec().target is None and panel.task() is None
    assert panel.target_combo.currentText() == "— choose the target —"
    assert panel.summary_label.text() == "no target · 6 rows · 4 feature columns"
    assert "data.target: choose the column" in editor.validation_message()

    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.target_combo.setCurrentText("bought")
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(4)]
    assert headers[3] == "bought\ntext · target"
    assert panel.summary_label.text() == (
        "classification · 6 rows · 3 feature columns · 2 classes")
    assert panel.error_label.isHidden()
    assert [panel.target_combo.itemText(i) for i in range(1, 5)] == ["age", "city", "income",
                                                                       "bought"]
    assert panel.data_spec().csv == str(path) and panel.data_spec().target == "bought"
    assert editor.strategy_panel.metric_names() == [None, *CLASSIFICATION_METRICS]

    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.target_combo.setCurrentText("income")
    assert panel.summary_label.text().startswith("regression · 5 rows · 3 feature columns")
    assert "1 rows without a target were left out" in panel.summary_label.text()
    assert panel.data_spec().target == "income"
    assert editor.strategy_panel.metric_names() == [None, *REGRESSION_METRICS]

    other = tmp_path / "other.csv"  # the same column in another file: the target is kept
    other.write_text(GOOD_CSV.replace("city", "town"), encoding="utf-8")
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.choose_csv(other)
    assert panel.data_spec().target == "income"
    without = tmp_path / "without.csv"  # a file without it: nothing is guessed
    without.write_text(GOOD_CSV.replace("income", "salary"), encoding="utf-8")
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.choose_csv(without)
    assert panel.data_spec().target is None


def test_column_types_and_preprocessing_are_chosen_in_the_data_panel(qtbot, editor,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    panel = editor.data_panel
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.choose_csv(path, target="bought")
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.set_column_type("city", "drop")
    assert panel.dataset().categorical_columns == () and panel.dataset().n_columns == 2
    assert panel.preview_model.headerData(1, Qt.Orientation.Horizontal) == "city\ndrop"
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT_MS):
        panel.set_preprocess(False)
    assert panel.data_spec() == DataSpec(csv=str(path), target="bought",
                                         columns={"city": "drop"}, preprocess=False)
    assert panel.dataset().needs_preprocessing is False
    card_texts = [c.text() for c in editor.pipeline_editor.cards()]
    assert not any(text.startswith("preprocess") for text in card_texts)


@pytest.mark.parametrize(("content", "target", "reason"), [
    (None, None, "CSV file not found"),
    ('a,b\n1,"unterminated\n3,4\n', None, "is not a readable CSV"),
    (b"\x80\x81\x82" * 100, None, "is not a readable CSV"),
    ("", None, "is empty; a CSV needs a header row"),
    (GOOD_CSV, "price", "target column 'price' is not in"),
])
def test_a_bad_csv_gets_a_clear_message(qtbot, editor, tmp_path: Path, content, target,
                                        reason) -> None:
    path = tmp_path / "data.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    panel = editor.data_panel
    with qtbot.waitSignal(panel.errorOccurred, timeout=WAIT_MS) as error:
        panel.choose_csv(path, target=target)
    assert reason in error.args[0]
    assert not panel.error_label.isHidden() and reason in panel.error_label.text()
    assert "Traceback" not in panel.error_label.text()
    assert panel.dataset() is None
    assert not editor.is_valid()


# ----- the duration estimate ------------------------------------------------------------------


def test_probe_estimate_appears_and_follows_workers(qtbot, editor, demo) -> None:
    editor.set_spec(demo)
    label = editor.space_editor.estimate_label
    qtbot.waitUntil(lambda: "worker" in label.text(), timeout=WAIT_MS)
    workers = editor.n_jobs()
    assert re.fullmatch(rf"(≈ \S+ \S+|< 1 s) on {workers} workers?", label.text())
    assert editor.probe_seconds() is not None and editor.probe_seconds() > 0
    assert "one fit of the first candidate took" in label.toolTip()
    editor.strategy_panel.workers_spin.setValue(1)
    assert label.text().endswith("on 1 worker")  # recomputed without another probe


def test_a_study_the_data_cannot_support_disables_start_with_the_reason(qtbot, editor,
                                                                         tmp_path: Path) -> None:
    """More folds than the smallest class has members: the reason is shown in the editor
    (not only in a tooltip) and the study is not valid, before anything runs."""
    path = tmp_path / "small.csv"
    rows = ["x,label"] + [f"{i},a" for i in range(10)] + ["10,b", "11,b"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    editor.set_spec(StudySpec.from_dict({
        "name": "small", "data": {"csv": str(path), "target": "label"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2]}], "cv": {"folds": 5}}))
    settle(qtbot, editor)
    qtbot.waitUntil(lambda: not editor.is_valid(), timeout=WAIT_MS)
    message = editor.validation_message()
    assert "cv.folds = 5" in message and "smallest class 'b' has 2 members" in message
    assert editor.message_label.isVisible() or editor.message_label.isVisibleTo(editor)
    editor.strategy_panel.folds_spin.setValue(2)
    qtbot.waitUntil(editor.is_valid, timeout=WAIT_MS)


def test_the_estimator_catalogue_is_built_off_the_gui_thread(qtbot, monkeypatch):
    """Reading a value written as a call (the step row's ``SVC()``) needs scikit-learn's
    catalogue of estimators, which imports every scikit-learn module: built on the GUI
    thread, it froze the window for most of a second."""
    import functools
    import threading

    from hpstudio.core import paste
    from hpstudio.gui.widgets import editor as editor_module

    built_on_gui_thread: list[bool] = []
    original = paste._sklearn_estimators.__wrapped__

    @functools.lru_cache(maxsize=1)
    def recording() -> dict[str, str]:
        built_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return original()

    monkeypatch.setattr(paste, "_sklearn_estimators", recording)
    monkeypatch.setattr(editor_module, "_CLASS_INFO", {})  # as in a fresh app
    widget = StudyEditor(probe_delay_ms=30)
    qtbot.addWidget(widget)
    spec = StudySpec.from_dict({
        "name": "svc", "data": {"builtin": "digits"},
        "estimator": {"class": "sklearn.svm.SVC"},
        "space": [{"C": [1.0, 10.0]}]})
    widget.set_spec(spec)
    settle(qtbot, widget)
    assert widget.is_valid()
    assert built_on_gui_thread == [False]

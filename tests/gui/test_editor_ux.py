"""The study editor as a new user meets it: typos, clicks, warnings, defaults, undo, help."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget

from hpstudio.core.probe import planned_work
from hpstudio.core.space import Values
from hpstudio.core.spec import SearchSpec, StudySpec
from hpstudio.gui.widgets.editor import StudyEditor
from hpstudio.gui.widgets.estimator_picker import EstimatorPicker
from hpstudio.gui.widgets.explanations import CV_HELP, STRATEGY_HELP, metric_help
from hpstudio.gui.widgets.message_line import MessageLine, fit_lines
from hpstudio.gui.widgets.space_editor import HIGH, NAME, VALUES, SubSpaceModel
from hpstudio.gui.widgets.strategy_panel import ALLOW_RISK, DEFAULT_TRIALS, parse_packages

WAIT_MS = 15_000
TOOLTIP = Qt.ItemDataRole.ToolTipRole
STATUS_TIP = Qt.ItemDataRole.StatusTipRole
RF = "sklearn.ensemble.RandomForestRegressor"
RIDGE = "sklearn.linear_model.Ridge"


def settle(qtbot, editor: StudyEditor) -> None:
    qtbot.waitUntil(lambda: editor.space_editor.parameters_known()
                    and not editor.data_panel.is_loading(), timeout=WAIT_MS)


def loaded(qtbot, editor: StudyEditor, spec: StudySpec) -> StudyEditor:
    editor.set_spec(spec)
    settle(qtbot, editor)
    return editor


def set_cell(model: SubSpaceModel, name: str, column: int, text: str) -> None:
    assert model.setData(model.cell(name, column), text, Qt.ItemDataRole.EditRole)


def tree_item(picker: EstimatorPicker, name: str):
    flags = Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive
    return picker.tree.findItems(name, flags)[0]


def click_tree(qtbot, picker: EstimatorPicker, name: str) -> None:
    """Pick ``name`` in the tree as the user does, and wait for its parameters."""
    picker.tree.setCurrentItem(tree_item(picker, name))


def enter_class(qtbot, picker: EstimatorPicker, path: str) -> None:
    picker.other_edit.setText(path)
    qtbot.keyClick(picker.other_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker.entered_path() is None
                    or not picker.error_label.text().startswith("checking"), timeout=WAIT_MS)


# ----- a typo in the class field, and coming back to an estimator -----------------------------


def test_a_typo_in_the_class_field_keeps_the_estimator_and_the_space(qtbot, editor,
                                                                     demo) -> None:
    loaded(qtbot, editor, demo)
    set_cell(editor.space_editor.model(0), "n_estimators", VALUES, "5, 50, 500")
    built = editor.spec()
    picker = editor.estimator_picker
    enter_class(qtbot, picker, "sklearn.ensemble.RandomForestRegresor")
    message = picker.error_label.text()
    assert "Did you mean sklearn.ensemble.RandomForestRegressor?" in message
    assert "still using RandomForestRegressor" in message
    assert not picker.error_label.isHidden() and picker.other_edit.property("invalid")
    assert editor.spec() == built  # nothing of the space was touched
    assert editor.is_valid()
    assert picker.current_path() == RF and picker.tree.currentItem().text(0) == (
        "RandomForestRegressor")
    assert editor.undo_stack.count() == 1  # the cell edit; the typo is no edit

    enter_class(qtbot, picker, RIDGE)  # fixed, it is used (and its space starts fresh)
    settle(qtbot, editor)
    assert picker.error_label.isHidden() and not picker.other_edit.property("invalid")
    assert editor.spec().estimator.cls == RIDGE
    assert tree_item(picker, "Ridge").isSelected()


def test_each_estimator_keeps_its_space_and_fixed_params_across_switches(qtbot, editor,
                                                                        demo) -> None:
    loaded(qtbot, editor, demo)
    space = editor.space_editor
    set_cell(space.model(0), "n_estimators", VALUES, "7, 70")
    space.fixed_edit.setText("random_state=3")
    forest = editor.spec()
    picker = editor.estimator_picker

    click_tree(qtbot, picker, "Ridge")
    settle(qtbot, editor)
    assert editor.spec().estimator.cls == RIDGE
    assert space.subspace_count() == 1
    space.model(0).include("fit_intercept")
    set_cell(space.model(0), "fit_intercept", VALUES, "True, False")
    ridge = editor.spec()

    click_tree(qtbot, picker, "RandomForestRegressor")
    settle(qtbot, editor)
    assert editor.spec() == forest  # both sub-spaces, the edited cell, the fixed params
    assert space.fixed_edit.text() == "random_state=3"

    click_tree(qtbot, picker, "Ridge")
    settle(qtbot, editor)
    assert editor.spec() == ridge


# ----- the estimator list under the mouse -----------------------------------------------------


def test_a_click_in_the_estimator_list_highlights_the_clicked_row(qtbot) -> None:
    picker = EstimatorPicker()
    qtbot.addWidget(picker)
    picker.resize(320, 420)
    picker.tree.setFixedHeight(150)  # a short list, which scrolls
    picker.show()
    qtbot.waitExposed(picker)
    tree = picker.tree
    svc = tree_item(picker, "SVC")
    tree.scrollToItem(svc, tree.ScrollHint.PositionAtBottom)  # far from the middle
    QApplication.processEvents()
    before = tree.visualItemRect(svc)
    assert before.isValid() and abs(before.center().y() - tree.viewport().height() // 2) > 20
    where = before.center()
    qtbot.mousePress(tree.viewport(), Qt.MouseButton.LeftButton, pos=where)
    QApplication.processEvents()  # timers queued by the press run before the release
    qtbot.mouseMove(tree.viewport(), where + QPoint(1, 0))
    qtbot.mouseRelease(tree.viewport(), Qt.MouseButton.LeftButton, pos=where + QPoint(1, 0))
    QApplication.processEvents()
    assert tree.visualItemRect(svc) == before  # the list stayed where the user pointed
    assert [item.text(0) for item in tree.selectedItems()] == ["SVC"]
    assert tree.currentItem() is svc and picker.current_path() == "sklearn.svm.SVC"
    assert "<b>SVC</b>" in picker.description.text()


def test_a_loaded_spec_still_scrolls_its_estimator_into_view(qtbot, editor, demo) -> None:
    editor.resize(900, 700)
    editor.show()
    qtbot.waitExposed(editor)
    svc_spec = replace(demo, estimator=replace(demo.estimator, cls="sklearn.svm.SVR", fixed={}),
                       space=({"C": Values((1.0,))},))
    editor.set_spec(svc_spec)
    tree = editor.estimator_picker.tree
    item = tree_item(editor.estimator_picker, "SVR")
    qtbot.waitUntil(lambda: tree.viewport().rect().contains(tree.visualItemRect(item)),
                    timeout=WAIT_MS)


# ----- warnings never move the rows -----------------------------------------------------------


def row_top_left(editor: StudyEditor, name: str) -> QPoint:
    view = editor.space_editor.view(0)
    rect = view.visualRect(editor.space_editor.model(0).cell(name, NAME))
    return view.viewport().mapTo(editor, rect.topLeft())


def test_a_warning_appearing_or_clearing_does_not_move_the_rows(qtbot, editor, demo) -> None:
    editor.resize(1000, 760)
    loaded(qtbot, editor, demo)
    editor.show()
    qtbot.waitExposed(editor)
    QApplication.processEvents()
    model = editor.space_editor.model(0)
    before = row_top_left(editor, "max_features")
    assert editor.message_label.isHidden()

    set_cell(model, "min_samples_leaf", HIGH, "0")  # low > high: a warning below the table
    QApplication.processEvents()
    assert not editor.message_label.isHidden() and "swap them" in editor.message_label.text()
    assert row_top_left(editor, "max_features") == before

    model.include("min_samples_leaf", False)  # the warning clears
    QApplication.processEvents()
    assert editor.message_label.isHidden()
    assert row_top_left(editor, "max_features") == before

    picker = editor.estimator_picker  # a rejected class name under the tree
    enter_class(qtbot, picker, "sklearn.nope.Nothing")
    QApplication.processEvents()
    assert "cannot import" in picker.error_label.text()
    assert row_top_left(editor, "max_features") == before


def test_message_line_keeps_its_height_and_elides_long_text(qtbot) -> None:
    line = MessageLine(2)
    qtbot.addWidget(line)
    line.resize(200, line.height())
    height = line.height()
    long_text = "space[0].max_depth: " + "a very long explanation " * 20
    line.setText(long_text)
    line.hide()
    assert line.height() == height and line.sizePolicy().retainSizeWhenHidden()
    assert line.text() == long_text and line.toolTip() == long_text
    metrics = line.fontMetrics()
    shown = fit_lines(long_text, metrics, 200, 2)
    assert shown.endswith("…") and long_text.startswith(shown[:-1].rstrip())
    bounds = metrics.boundingRect(QRect(0, 0, 200, 10_000), int(Qt.TextFlag.TextWordWrap), shown)
    assert bounds.height() <= 2 * metrics.lineSpacing()
    assert fit_lines("short", metrics, 200, 2) == "short"


# ----- the trial budget of random and Bayesian search -----------------------------------------


def test_random_and_bayes_start_from_the_specs_default_budget(qtbot, editor, demo) -> None:
    editor.set_spec(demo)  # grid, no trial limit
    panel = editor.strategy_panel
    panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("random"))
    assert editor.spec().search.n_trials == DEFAULT_TRIALS
    assert editor.space_editor.count_label.text() == planned_work(editor.spec()).describe()
    # the same budget as a spec file without n_trials gets
    raw = demo.to_dict()
    raw["search"] = {"strategy": "bayes"}
    parsed = StudySpec.from_dict(raw)
    editor.set_spec(replace(demo, search=SearchSpec("bayes")))
    assert editor.spec().search.n_trials == parsed.search.n_trials == DEFAULT_TRIALS
    panel.set_strategy("grid")
    panel.trials_spin.setValue(0)
    panel.set_strategy("random")  # the explosion buttons' path, without a budget
    assert editor.spec().search.n_trials == DEFAULT_TRIALS
    panel.trials_spin.setValue(12)
    panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("bayes"))
    assert editor.spec().search.n_trials == 12  # a budget the user set stays


# ----- allowing other packages ----------------------------------------------------------------


def test_an_other_package_is_refused_until_allowed_in_the_field(qtbot, editor, demo, tmp_path,
                                                                monkeypatch) -> None:
    package = tmp_path / "hpx_models"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from sklearn.linear_model import Ridge\n\n\nclass TrustedRidge(Ridge):\n"
        "    pass\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded(qtbot, editor, demo)
    picker, panel = editor.estimator_picker, editor.strategy_panel
    assert panel.allowed_risk.text() == ALLOW_RISK  # the risk, in one line
    assert ALLOW_RISK in panel.allowed_edit.toolTip()
    enter_class(qtbot, picker, "hpx_models.TrustedRidge")
    message = picker.error_label.text()
    assert "add it to Allowed packages (Run settings) or run with --allow-package hpx_models" \
        in message
    assert editor.spec().estimator.cls == RF

    panel.allowed_edit.setText("hpx_models, xgboost")
    with qtbot.waitSignal(editor.allowedPackagesChanged) as allowed:
        panel.allowed_edit.editingFinished.emit()
    assert allowed.args == [("hpx_models", "xgboost")]
    assert editor.allowed_packages() == ("hpx_models", "xgboost")
    # the refused class is tried again with the new list, and used
    qtbot.waitUntil(lambda: editor.estimator_picker.current_path() == "hpx_models.TrustedRidge",
                    timeout=WAIT_MS)
    settle(qtbot, editor)
    editor.space_editor.model(0).include("alpha")
    assert editor.spec().estimator.cls == "hpx_models.TrustedRidge"
    assert editor.spec().space == ({"alpha": Values((1.0,))},)

    panel.allowed_edit.setText("bad-name")
    with qtbot.assertNotEmitted(editor.allowedPackagesChanged):
        panel.allowed_edit.editingFinished.emit()
    assert panel.allowed_edit.property("invalid")
    assert "'bad-name' is not a package name" in panel.allowed_edit.toolTip()


def test_parse_packages() -> None:
    assert parse_packages(" xgboost, lightgbm;imblearn  xgboost ") == (
        "xgboost", "lightgbm", "imblearn")
    assert parse_packages("") == ()
    with pytest.raises(ValueError, match=r"'x\.y' is not a package name"):
        parse_packages("x.y")


# ----- undo and redo --------------------------------------------------------------------------


def test_every_kind_of_edit_undoes_and_redoes(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    space, panel, picker = editor.space_editor, editor.strategy_panel, editor.estimator_picker
    states = [editor.spec()]

    def edited(change) -> None:
        change()
        settle(qtbot, editor)
        assert editor.spec() != states[-1], "the edit changed nothing"
        states.append(editor.spec())

    edited(lambda: qtbot.keyClicks(editor.name_edit, "-v2"))  # 3 keystrokes, one step
    edited(lambda: set_cell(space.model(0), "n_estimators", VALUES, "5, 50"))
    edited(lambda: space.duplicate_button.click())
    edited(lambda: space.remove_subspace(0))
    edited(lambda: space.fixed_edit.setText("random_state=7"))
    edited(lambda: panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("bayes")))
    edited(lambda: panel.trials_spin.setValue(30))
    edited(lambda: panel.folds_spin.setValue(3))
    edited(lambda: panel.shuffle_check.setChecked(True))
    edited(lambda: panel.metric_combo.setCurrentIndex(panel.metric_names().index("r2")))
    edited(lambda: click_tree(qtbot, picker, "Ridge"))
    with qtbot.waitSignal(editor.data_panel.datasetChanged, timeout=WAIT_MS):
        editor.data_panel.builtin_combo.setCurrentText("wine")  # r2 cannot score classes:
    settle(qtbot, editor)
    assert editor.spec().scoring.metric is None  # the metric reset is part of this edit
    states.append(editor.spec())
    stack = editor.undo_stack
    assert stack.count() == len(states) - 1
    assert editor.undo_action.text() == "&Undo change the data"

    for expected in reversed(states[:-1]):
        editor.undo_action.trigger()
        settle(qtbot, editor)
        assert editor.spec() == expected
    assert not stack.canUndo() and not editor.undo_action.isEnabled()
    assert editor.redo_action.text() == "&Redo rename the study"
    for expected in states[1:]:
        editor.redo_action.trigger()
        settle(qtbot, editor)
        assert editor.spec() == expected
    assert not editor.redo_action.isEnabled()


def test_undo_keys_and_read_only(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    editor.show()
    qtbot.waitExposed(editor)
    editor.activateWindow()
    view = editor.space_editor.view(0)
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    assert editor.undo_action.shortcut().toString() == "Ctrl+Z"
    assert "Ctrl+Shift+Z" in [k.toString() for k in editor.redo_action.shortcuts()]
    model = editor.space_editor.model(0)
    set_cell(model, "max_features", VALUES, "3")
    edited = editor.spec()
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editor.spec() == demo
    qtbot.keyClick(view, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Shift)  # QTest leaves Shift held after a chord
    assert QApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    assert editor.spec() == edited
    editor.set_read_only(True)  # a running or stored study: nothing to undo into
    assert not editor.undo_action.isEnabled()
    editor.undo()
    assert editor.spec() == edited
    editor.set_read_only(False)
    assert editor.undo_action.isEnabled()
    editor.set_spec(demo)  # a new document starts a new history
    assert editor.undo_stack.count() == 0 and not editor.undo_action.isEnabled()


def test_background_loads_and_tab_switches_are_not_undo_steps(qtbot, editor, demo) -> None:
    loaded(qtbot, editor, demo)
    editor.space_editor.tabs.setCurrentIndex(1)
    click_tree(qtbot, editor.estimator_picker, "Ridge")  # its parameters load afterwards
    settle(qtbot, editor)
    assert editor.undo_stack.count() == 1
    editor.undo()
    settle(qtbot, editor)
    assert editor.spec() == demo
    assert editor.space_editor.tabs.currentIndex() == 1  # the tab the user left


# ----- one-line help --------------------------------------------------------------------------


def test_strategies_metrics_and_cv_settings_explain_themselves(qtbot, editor, demo) -> None:
    editor.set_spec(demo)
    panel = editor.strategy_panel
    combo = panel.strategy_combo
    for index in range(combo.count()):
        text = combo.itemData(index, TOOLTIP)
        assert text == STRATEGY_HELP[combo.itemData(index)]
        assert combo.itemData(index, STATUS_TIP) == text and "\n" not in text
    combo.setCurrentIndex(combo.findData("bayes"))
    assert combo.toolTip().endswith(STRATEGY_HELP["bayes"]) and combo.statusTip() == (
        combo.toolTip())
    metrics = panel.metric_combo
    for index, name in enumerate(panel.metric_names()):
        assert metrics.itemData(index, TOOLTIP) == metric_help(name)
        assert metrics.itemData(index, STATUS_TIP) == metric_help(name)
    assert metric_help(None).startswith("The estimator's own score")
    assert "neg_mean_squared_error" in metrics.toolTip()
    for widget, key in ((panel.folds_spin, "folds"), (panel.shuffle_check, "shuffle"),
                        (panel.cv_seed_spin, "seed"), (panel.train_score_check, "train_score")):
        assert widget.toolTip() == widget.statusTip() == widget.whatsThis() == CV_HELP[key]
    labelled = [w for w in panel.findChildren(QWidget)
                if w.statusTip() == CV_HELP["folds"] and w is not panel.folds_spin]
    assert labelled  # the row's label says it too
    for widget in (panel.surrogate_combo, panel.acquisition_combo,
                   panel.initial_generator_combo, panel.trials_spin, panel.time_limit_spin,
                   panel.patience_spin, panel.seed_spin):
        assert widget.toolTip() and widget.statusTip()

"""Pasting a param_grid written in Python into the editor: read, never run; one undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sklearn.model_selection import ParameterGrid

from hpstudio.core.space import Values, iter_grid
from hpstudio.core.spec import DataSpec, EstimatorSpec, StudySpec
from hpstudio.gui.widgets.editor import StudyEditor
from hpstudio.gui.widgets.paste_grid import PasteGridDialog, open_paste_dialog

WAIT_MS = 15_000

# The README's worked example (scikit-learn's grid-search guide), as a user has it.
README_GRID = """
param_grid = [
    {'n_estimators': [3, 10, 30], 'max_features': [2, 4, 6, 8]},
    {'bootstrap': [False], 'n_estimators': [3, 10], 'max_features': [2, 3, 4]},
]
"""
README_EXPECTED = [
    {"n_estimators": [3, 10, 30], "max_features": [2, 4, 6, 8]},
    {"bootstrap": [False], "n_estimators": [3, 10], "max_features": [2, 3, 4]},
]
# Two grids of scikit-learn's gallery: the SVC on digits of "Custom refit strategy of a
# grid search with cross-validation", and the SVC's gamma and C of the comparison of grid
# search with successive halving; and one written with numpy spacing and range.
DIGITS_GRID = """
tuned_parameters = [
    {"kernel": ["rbf"], "gamma": [1e-3, 1e-4], "C": [1, 10, 100, 1000]},
    {"kernel": ["linear"], "C": [1, 10, 100, 1000]},
]
"""
DIGITS_EXPECTED = [
    {"kernel": ["rbf"], "gamma": [1e-3, 1e-4], "C": [1, 10, 100, 1000]},
    {"kernel": ["linear"], "C": [1, 10, 100, 1000]},
]
HALVING_GRID = """
param_grid = {
    "gamma": [1e-3, 1e-2, 1e-1, 1, 10, 100],
    "C": [1, 10, 100, 1e3, 1e4, 1e5],
}
"""
HALVING_EXPECTED = [{"gamma": [1e-3, 1e-2, 1e-1, 1, 10, 100], "C": [1, 10, 100, 1e3, 1e4, 1e5]}]
SPACING_GRID = ("import numpy as np\n"
                "param_grid = {'C': np.logspace(-2, 2, 5), 'degree': range(1, 4)}")
SPACING_EXPECTED = [{"C": [0.01, 0.1, 1.0, 10.0, 100.0], "degree": [1, 2, 3]}]


def loaded(qtbot, editor: StudyEditor, spec: StudySpec) -> StudyEditor:
    editor.set_spec(spec)
    qtbot.waitUntil(lambda: editor.space_editor.parameters_known()
                    and not editor.data_panel.is_loading(), timeout=WAIT_MS)
    return editor


def paste(qtbot, editor: StudyEditor, text: str) -> PasteGridDialog:
    dialog = open_paste_dialog(editor)
    assert dialog is not None
    qtbot.addWidget(dialog)
    dialog.set_text(text)
    return dialog


def candidates(spec: StudySpec) -> list[dict]:
    return [params for _, params in iter_grid(spec.space)]


@pytest.mark.parametrize(("estimator", "text", "expected"), [
    ("sklearn.ensemble.RandomForestRegressor", README_GRID, README_EXPECTED),
    ("sklearn.svm.SVC", DIGITS_GRID, DIGITS_EXPECTED),
    ("sklearn.svm.SVC", HALVING_GRID, HALVING_EXPECTED),
    ("sklearn.svm.SVC", SPACING_GRID, SPACING_EXPECTED),
])
def test_a_pasted_grid_gives_parameter_grids_candidates(qtbot, editor, demo, estimator, text,
                                                        expected):
    spec = demo if "Forest" in estimator else StudySpec(
        "svc", DataSpec(builtin="iris"), EstimatorSpec(estimator, {"random_state": 0}),
        ({"C": Values((1.0,))},))
    loaded(qtbot, editor, spec)
    dialog = paste(qtbot, editor, text)
    assert dialog.ok_button.isEnabled()
    assert f"{len(list(ParameterGrid(expected))):,} grid candidates" in dialog.status.text()
    dialog.accept()
    pasted = editor.spec()
    assert candidates(pasted) == list(ParameterGrid(expected))
    assert editor.is_valid(), editor.validation_message()
    assert pasted.estimator == spec.estimator  # the fixed parameters are kept


def test_the_paste_is_one_undoable_edit(qtbot, editor, demo):
    loaded(qtbot, editor, demo)
    before = editor.spec()
    paste(qtbot, editor, "{'n_estimators': [5, 50], 'max_depth': [None, 4]}").accept()
    assert len(editor.spec().space) == 1
    assert candidates(editor.spec()) == list(ParameterGrid(
        {"n_estimators": [5, 50], "max_depth": [None, 4]}))
    assert editor.undo_action.isEnabled()
    editor.undo()
    assert editor.spec() == before
    editor.redo()
    assert len(editor.spec().space) == 1


def test_what_cannot_be_read_is_named_and_nothing_changes(qtbot, editor, demo):
    loaded(qtbot, editor, demo)
    before = editor.spec()
    dialog = paste(qtbot, editor, "{'n_estimators': [int(x) for x in range(3)]}")
    assert not dialog.ok_button.isEnabled()
    assert "comprehension is code" in dialog.status.text()
    assert "line 1" in dialog.status.text()
    dialog.accept()  # refused: the text does not read
    assert dialog.result() == 0 and editor.spec() == before
    dialog.set_text("{'n_estimators': __import__('os').system('true')}")
    assert not dialog.ok_button.isEnabled() and dialog.message
    dialog.set_text("{'max_features': loguniform(0.1, 1)}")  # ranges, for random search
    assert dialog.ok_button.isEnabled()
    assert "random or Bayesian" in dialog.status.text()


def test_the_key_opens_the_dialog_and_a_read_only_editor_takes_no_paste(qtbot, editor, demo):
    loaded(qtbot, editor, demo)
    editor.show()
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow, timeout=WAIT_MS)
    editor.space_editor.view(0).setFocus()
    qtbot.keyClick(editor.space_editor.view(0), Qt.Key.Key_V,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(editor.space_editor.view(0), Qt.Key.Key_Shift)  # let go of Shift
    qtbot.waitUntil(lambda: editor.findChild(PasteGridDialog) is not None, timeout=WAIT_MS)
    editor.findChild(PasteGridDialog).reject()
    editor.set_read_only(True)
    assert open_paste_dialog(editor) is None

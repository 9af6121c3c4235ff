"""The pipeline in the editor: a row of steps from the transformer catalogue, each step's
parameters grouped under it in the search space, a sub-space choosing another model, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hpstudio.core.space import Values
from hpstudio.core.spec import StudySpec
from hpstudio.core.step_catalogue import FAMILIES, STEP_CATALOGUE
from hpstudio.gui.widgets.editor import StudyEditor
from hpstudio.gui.widgets.pipeline_editor import MODEL
from hpstudio.gui.widgets.space_editor import KIND, NAME, VALUES

WAIT_MS = 15_000
PCA = "sklearn.decomposition.PCA"
SCALER = "sklearn.preprocessing.StandardScaler"
FOREST = "sklearn.ensemble.RandomForestClassifier"

THREE_STEPS = {
    "name": "digits-pipeline", "data": {"builtin": "digits"},
    "steps": [{"name": "scaler", "class": SCALER},
              {"name": "pca", "class": PCA, "fixed": {"random_state": 0}},
              {"name": "select", "class": "sklearn.feature_selection.SelectKBest"}],
    "estimator": {"name": "classify", "class": "sklearn.svm.SVC"},
    "space": [{"pca__n_components": [10, 20], "select__k": [5, 10], "classify__C": [1.0, 10.0]},
              {"classify": [{"class": FOREST, "fixed": {"random_state": 0}}],
               "classify__n_estimators": [50, 100]}],
    "cv": {"folds": 3},
}


@pytest.fixture
def editor(qtbot) -> StudyEditor:
    widget = StudyEditor(probe_delay_ms=30)
    qtbot.addWidget(widget)
    widget.estimator_picker.select("sklearn.svm.SVC")
    qtbot.waitUntil(widget.space_editor.parameters_known, timeout=WAIT_MS)
    return widget


def rows_of(editor: StudyEditor, index: int = 0) -> list[str]:
    return [row.name for row in editor.space_editor.model(index).rows]


def test_steps_are_added_moved_and_removed_and_the_spec_follows(qtbot, editor) -> None:
    pipeline = editor.pipeline_editor
    pipeline.add_step(SCALER)
    pipeline.add_step(PCA)
    assert [s.name for s in editor.spec().steps] == ["scaler", "pca"]
    assert [c.text() for c in pipeline.cards()] == [
        "data\niris", "scaler\nStandardScaler", "pca\nPCA", "model\nSVC"]
    pipeline.move_step(1, -1)
    assert [s.cls for s in editor.spec().steps] == [PCA, SCALER]
    pipeline.remove_step(0)
    assert [s.name for s in editor.spec().steps] == ["scaler"]
    pipeline.select(MODEL)
    pipeline.name_edit.setText("svc")
    pipeline.name_edit.textEdited.emit("svc")
    assert editor.spec().estimator.name == "svc"
    pipeline.select(0)
    pipeline.fixed_edit.textEdited.emit("with_mean=False")
    assert dict(editor.spec().steps[0].fixed) == {"with_mean": False}
    pipeline.fixed_edit.textEdited.emit("with_mean=")
    assert not editor.is_valid() and "steps[0].fixed" in editor.validation_message()


def test_the_catalogue_offers_every_family_with_descriptions(editor) -> None:
    menu = editor.pipeline_editor.add_button.menu()
    families = [a.text() for a in menu.actions() if a.menu() is not None]
    assert families == list(FAMILIES)
    offered = [a for family in menu.actions() if family.menu() is not None
               for a in family.menu().actions()]
    assert len(offered) == len(STEP_CATALOGUE)
    pca = next(a for a in offered if a.toolTip() == PCA)
    assert "dimensionality reduction" in pca.text()
    pca.trigger()
    assert [s.cls for s in editor.spec().steps] == [PCA]


def test_a_steps_parameters_appear_grouped_under_it(qtbot, editor) -> None:
    editor.pipeline_editor.add_step(PCA)
    qtbot.waitUntil(lambda: "pca__n_components" in rows_of(editor), timeout=WAIT_MS)
    model = editor.space_editor.model(0)
    names = rows_of(editor)
    assert names.index("pca") < names.index("pca__n_components") < names.index("C")
    first = names.index("pca")
    assert model.headerData(first, Qt.Orientation.Vertical) == "pca"
    assert model.headerData(first + 1, Qt.Orientation.Vertical) == ""
    assert model.data(model.cell("pca__n_components", NAME)) == "n_components"
    assert model.headerData(names.index("C"), Qt.Orientation.Vertical) in ("model", "")
    assert model.setData(model.cell("pca__n_components", KIND), "values",
                         Qt.ItemDataRole.EditRole)
    assert model.setData(model.cell("pca__n_components", VALUES), "2, 3",
                         Qt.ItemDataRole.EditRole)
    spec = editor.spec()
    assert spec.space[0]["pca__n_components"] == Values((2, 3))
    spec.validate()


def test_a_sub_space_chooses_another_model_and_offers_its_parameters(qtbot, editor) -> None:
    editor.pipeline_editor.add_step(SCALER)
    qtbot.waitUntil(lambda: "scaler__with_mean" in rows_of(editor), timeout=WAIT_MS)
    second = editor.space_editor.add_subspace()
    assert second.setData(second.cell("model", VALUES), "RandomForestClassifier(max_depth=3)",
                          Qt.ItemDataRole.EditRole)
    qtbot.waitUntil(lambda: "n_estimators" in [r.name for r in second.rows], timeout=WAIT_MS)
    assert "gamma" not in [r.name for r in second.rows]  # SVC's rows give way to the forest's
    assert second.setData(second.cell("n_estimators", VALUES), "5, 10", Qt.ItemDataRole.EditRole)
    first = editor.space_editor.model(0)
    first.setData(first.cell("C", VALUES), "1.0", Qt.ItemDataRole.EditRole)
    spec = editor.spec()
    assert spec.space[1]["model"] == Values(({"class": FOREST, "fixed": {"max_depth": 3}},))
    assert spec.space[1]["n_estimators"] == Values((5, 10))
    spec.validate()
    assert editor.is_valid(), editor.validation_message()


def test_a_three_step_spec_loads_and_saves_back_unchanged(qtbot, editor) -> None:
    spec = StudySpec.from_dict(THREE_STEPS)
    editor.set_spec(spec)
    qtbot.waitUntil(lambda: editor.space_editor.groups() == ("scaler", "pca", "select",
                                                              "classify"), timeout=WAIT_MS)
    qtbot.waitUntil(editor.is_valid, timeout=WAIT_MS)
    assert editor.spec() == spec
    forest = editor.space_editor.model(1)
    assert forest.data(forest.cell("classify", VALUES)) == \
        "RandomForestClassifier(random_state=0)"
    assert forest.data(forest.cell("classify", NAME)) == "⟨the step itself⟩"


def test_pipeline_edits_are_undone_and_redone(qtbot, editor) -> None:
    pipeline = editor.pipeline_editor
    pipeline.add_step(SCALER)
    pipeline.add_step(PCA)
    assert editor.undo_stack.undoText() == "add the step pca"
    pipeline.move_step(1, -1)
    assert editor.undo_stack.undoText() == "move the step pca"
    editor.undo()
    assert [s.name for s in editor.spec().steps] == ["scaler", "pca"]
    editor.undo()
    assert [s.name for s in editor.spec().steps] == ["scaler"]
    assert [c.text() for c in pipeline.cards()][1:] == ["scaler\nStandardScaler", "model\nSVC"]
    editor.redo()
    editor.redo()
    assert [s.name for s in editor.spec().steps] == ["pca", "scaler"]

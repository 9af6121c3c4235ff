"""A new user's first session, from an empty history to an exported model.

Driven through the window as a user drives it (widgets, actions, the studies dock, the
export dialog), waiting on signals, never on time. Each step leaves a screenshot in
``HPSTUDIO_WALKTHROUGH_DIR`` (a folder of the test run by default) to look at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hpstudio.core.records import StudyStatus
from hpstudio.core.spec import StudySpec
from hpstudio.demo import demo_spec_path
from hpstudio.gui.main_window import SETTINGS_DIR_ENV, MainWindow

WAIT_MS = 120_000


@pytest.fixture
def shots(tmp_path: Path):
    folder = Path(os.environ.get("HPSTUDIO_WALKTHROUGH_DIR", tmp_path / "walkthrough"))
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def shot(win: MainWindow, name: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{name}.png"
        assert win.grab().save(str(path)), f"could not save {path}"
        taken.append(path)
        return path

    shot.taken = taken  # type: ignore[attr-defined]
    return shot


def test_a_new_user_goes_from_an_empty_history_to_an_exported_model(
        qtbot, tmp_path, monkeypatch, shots):
    import skops.io as sio
    from sklearn.datasets import load_diabetes

    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question",
                        lambda *a, **k: pytest.fail(f"unexpected question {a[1:3]}"))
    win = MainWindow(tmp_path / "history.db")
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    assert win.history.browser.model.studies() == []  # nothing yet
    shots(win, "empty")

    # the demo study in the editor, as `hpstudio` opens it; fewer folds, through the widget
    assert win.load_spec(StudySpec.from_file(demo_spec_path()))
    qtbot.waitUntil(lambda: win.editor.is_valid() and not win.editor.data_panel.is_loading(),
                    timeout=WAIT_MS)
    win.editor.strategy_panel.folds_spin.setValue(3)
    qtbot.waitUntil(lambda: win.editor.spec().cv.folds == 3)
    assert win.start_action.isEnabled()
    shots(win, "editor")

    with qtbot.waitSignal(win.runEnded, timeout=WAIT_MS):
        win.start_action.trigger()
    assert win.last_run.status is StudyStatus.FINISHED
    win.flush_trials()
    assert win.trial_model.rowCount() == 18
    shots(win, "finished")

    # the best trial, in the table and the plots
    best = win.trial_model.best_trial()
    win.plots.trialClicked.emit(best.number)
    assert win.details.trial.number == best.number
    assert win.select_plot_tab("history")
    shots(win, "best-trial")

    # the study in the Studies dock
    win.history.dock.raise_()
    qtbot.waitUntil(lambda: len(win.history.browser.model.studies()) == 1, timeout=WAIT_MS)
    studies = win.history.browser.model.studies()
    assert studies[0].status is StudyStatus.FINISHED and studies[0].n_complete == 18
    shots(win, "studies")

    # export: parameters as JSON, then the refitted model, loaded as the dialog shows
    dialog = win.history.export(studies[0].id)
    qtbot.addWidget(dialog)
    dialog.show()
    document = json.loads(dialog.preview.toPlainText())
    assert document["params"] == best.params
    assert dialog.save_params(tmp_path / "best.json")
    with qtbot.waitSignal(dialog.refitFinished, timeout=WAIT_MS):
        assert dialog.start_refit(tmp_path / "model")
    dialog.grab().save(str(Path(shots.taken[-1]).parent / "06-export-dialog.png"))
    model = tmp_path / "model.skops"
    untrusted = sio.get_untrusted_types(file=model)
    X, _y = load_diabetes(return_X_y=True)
    assert sio.load(model, trusted=untrusted).predict(X).shape == (442,)
    assert json.loads((tmp_path / "best.json").read_text())["params"] == best.params
    dialog.close()

    assert len(shots.taken) == 5 and all(p.stat().st_size > 10_000 for p in shots.taken)

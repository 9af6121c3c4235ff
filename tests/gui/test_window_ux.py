"""The main window's keys, pause toggle, undo menu and allowed packages, used as a user would."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

import hpstudio.core.study as study_module
import hpstudio.gui.runner as runner_module
from hpstudio.core.spec import StudySpec
from hpstudio.gui.main_window import ALLOWED_PACKAGES_KEY, MainWindow, app_settings
from hpstudio.gui.widgets.space_editor import VALUES

WAIT_MS = 60_000
LONG_SPACE = [{"max_depth": list(range(1, 9)), "min_samples_leaf": list(range(1, 11))}]


def tiny_spec(space: list[dict[str, Any]] | None = None) -> StudySpec:
    return StudySpec.from_dict({
        "name": "tiny", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": space or [{"max_depth": [1, 2, 3]}], "cv": {"folds": 3},
    })


@pytest.fixture
def window(qtbot, db_path: Path, monkeypatch: pytest.MonkeyPatch):
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda *a, **k: None))
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    win = MainWindow(db_path)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitActive(win)
    yield win
    if win.runner is not None:
        win.runner.stop("test over")
        with qtbot.waitSignal(win.runEnded, timeout=WAIT_MS):
            pass


def load(qtbot, win: MainWindow, spec: StudySpec) -> None:
    assert win.load_spec(spec)
    win.editor.strategy_panel.set_n_jobs(2)
    qtbot.waitUntil(lambda: win.editor.space_editor.parameters_known()
                    and not win.editor.data_panel.is_loading(), timeout=WAIT_MS)


def press(qtbot, win: MainWindow, key: Qt.Key,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed with the focus in the trial table, outside the editor."""
    win.trial_view.setFocus()
    qtbot.keyClick(win.trial_view, key, modifiers)
    if modifiers != Qt.KeyboardModifier.NoModifier:
        qtbot.keyClick(win.trial_view, Qt.Key.Key_Shift)  # QTest leaves Shift held after a
        # chord, which later clicks in other tests would read as Shift+click


class ShiftedClock:
    """The time module, with a jump forward that both the core and the window see."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


# ----- pause and resume -----------------------------------------------------------------------


def test_f6_pauses_and_f6_resumes_and_the_log_leaves_the_pause_out(
        qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ShiftedClock()
    monkeypatch.setattr(study_module, "time", clock)
    monkeypatch.setattr(runner_module, "time", clock)
    load(qtbot, window, tiny_spec(LONG_SPACE))
    assert window.start_study()
    runner = window.runner
    qtbot.waitUntil(lambda: window.trial_model.rowCount() >= 2, timeout=WAIT_MS)
    pause = window.pause_action
    assert pause.text() == "&Pause" and pause.shortcut().toString() == "F6"

    with qtbot.waitSignal(runner.paused, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_F6)
    assert pause.text() == "&Resume" and pause.isEnabled()
    assert "(F6)" in pause.toolTip()
    clock.offset += 3600.0  # an hour away from the computer, paused
    window._update_run_label()
    assert "elapsed 0:" in window.run_label.text()  # minutes, not an hour

    with qtbot.waitSignal(runner.resumed, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_F6)
    assert pause.text() == "&Pause"
    with qtbot.waitSignal(runner.trialFinished, timeout=WAIT_MS):
        pass
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        window.stop_action.trigger()
    [ended] = [m for m in window.log_panel.messages() if "stopped (stopped by user)" in m]
    hours, minutes = re.search(r" in (?:(\d+):)?(\d+):\d\d", ended).groups()
    assert hours is None and int(minutes) < 10, ended  # the hour paused is not counted
    assert "elapsed 0:" in window.run_label.text()


def test_f6_while_pausing_takes_the_pause_back(qtbot, window: MainWindow) -> None:
    load(qtbot, window, tiny_spec(LONG_SPACE))
    assert window.start_study()
    qtbot.waitUntil(lambda: window.trial_model.rowCount() >= 1, timeout=WAIT_MS)
    window.toggle_pause()  # requested: the folds in flight still run
    assert window.pause_action.text() == "&Resume"
    window.toggle_pause()
    assert window.pause_action.text() == "&Pause"
    assert not window.runner.is_paused
    rows = window.trial_model.rowCount()
    with qtbot.waitSignal(window.runner.trialFinished, timeout=WAIT_MS):
        pass  # trials keep coming
    window.flush_trials()
    assert window.trial_model.rowCount() > rows
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        window.stop_study()


# ----- keys in the menus ----------------------------------------------------------------------


def menu_actions(menu: QMenu) -> list[QAction]:
    found = []
    for action in menu.actions():
        if action.isSeparator():
            continue
        if action.menu() is not None:
            found += menu_actions(action.menu())
        else:
            found.append(action)
    return found


def test_every_menu_and_toolbar_action_has_its_own_shortcut(qtbot, window: MainWindow,
                                                            tmp_path: Path) -> None:
    spec_file = tmp_path / "tiny.toml"
    tiny_spec().save(spec_file)
    assert window.open_spec(spec_file)  # one recent file in File → Open recent
    actions = [a for top in window.menuBar().actions() if top.menu() is not None
               for a in menu_actions(top.menu())]
    actions += [a for a in window.toolbar.actions() if not a.isSeparator()]
    browser = window.history.browser
    actions += list(browser.actions_by_name.values())
    assert len(actions) > 25
    missing = [a.text() for a in actions if a.shortcut().isEmpty()]
    assert missing == []
    texts = {a.text().replace("&", "") for a in actions}
    assert {"Undo", "Redo", "What's This?", "Resume study", "Rename"} <= texts
    # one key, one action: a key bound twice would be refused as ambiguous
    owners = {id(a): a for a in window.findChildren(QAction)}
    keys = Counter(k.toString() for a in owners.values() for k in a.shortcuts())
    assert [k for k, n in keys.items() if n > 1] == []
    # the toolbar says the key in its tooltips
    assert window.start_action.toolTip().endswith("(F5)")


def test_edit_menu_undoes_editor_edits_from_anywhere_in_the_window(qtbot,
                                                                   window: MainWindow) -> None:
    load(qtbot, window, tiny_spec())
    edit_menu = window.findChild(QMenu, "menuEdit")
    assert [a.text().replace("&", "") for a in edit_menu.actions()] == [
        "Undo", "Redo", "", "Paste param_grid…"]
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z")
    model = window.editor.space_editor.model(0)
    assert model.setData(model.cell("max_depth", VALUES), "4, 5")
    edited = window.editor.spec()
    assert window.undo_action.isEnabled()
    assert window.undo_action.text() == "&Undo edit max_depth"
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.spec() == tiny_spec()
    press(qtbot, window, Qt.Key.Key_Z,
          Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.editor.spec() == edited
    assert window.start_study()  # read-only while it runs: nothing to undo
    assert not window.undo_action.isEnabled()
    qtbot.waitUntil(lambda: window.runner is None, timeout=WAIT_MS)


# ----- allowed packages -----------------------------------------------------------------------


def test_allowed_packages_are_remembered_and_given_to_the_runner(qtbot, db_path: Path,
                                                                 window: MainWindow) -> None:
    panel = window.editor.strategy_panel
    panel.allowed_edit.setText("xgboost, lightgbm")
    panel.allowed_edit.editingFinished.emit()
    assert window.allowed_packages == ("xgboost", "lightgbm")
    load(qtbot, window, tiny_spec())
    assert window.start_study()
    assert window.runner.request.allowed_packages == ("xgboost", "lightgbm")
    qtbot.waitUntil(lambda: window.runner is None, timeout=WAIT_MS)
    assert app_settings().value(ALLOWED_PACKAGES_KEY) == ["xgboost", "lightgbm"]
    assert any("allowed packages: xgboost, lightgbm" in m
               for m in window.log_panel.messages("warning"))

    again = MainWindow(db_path)  # the next start
    qtbot.addWidget(again)
    assert again.allowed_packages == ("xgboost", "lightgbm")
    assert again.editor.strategy_panel.allowed_edit.text() == "xgboost, lightgbm"
    again.allow_packages_for_session(["imblearn", "xgboost"])  # --allow-package
    assert again.allowed_packages == ("xgboost", "lightgbm", "imblearn")
    assert again.editor.allowed_packages() == ("xgboost", "lightgbm", "imblearn")
    assert app_settings().value(ALLOWED_PACKAGES_KEY) == ["xgboost", "lightgbm"]


def test_run_app_allows_packages_given_on_the_command_line(qtbot, db_path: Path,
                                                           tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from hpstudio.gui.app import run_app

    seen: list[tuple[str, ...]] = []
    original = MainWindow.allow_packages_for_session

    def record(self: MainWindow, packages: Any) -> None:
        original(self, packages)
        seen.append(self.allowed_packages)

    monkeypatch.setattr(MainWindow, "allow_packages_for_session", record)
    spec_file = tmp_path / "tiny.toml"
    tiny_spec().save(spec_file)
    png = tmp_path / "shot.png"
    assert run_app(spec=spec_file, db=db_path, screenshot=png,
                   allowed_packages=["hpx_trusted"]) == 0
    assert seen == [("hpx_trusted",)]


# ----- rows stay where they are -----------------------------------------------------------------


def test_editor_rows_stay_put_in_the_window_when_a_warning_comes_and_goes(
        qtbot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QApplication

    from hpstudio.gui.widgets.space_editor import HIGH, NAME

    load(qtbot, window, StudySpec.from_dict({
        "name": "rows", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2], "min_samples_leaf": {"low": 1, "high": 4}}]}))
    window.editor_dock.raise_()
    QApplication.processEvents()
    editor = window.editor
    view, model = editor.space_editor.view(0), editor.space_editor.model(0)

    def where() -> tuple[int, int]:
        rect = view.visualRect(model.cell("max_depth", NAME))
        point = view.viewport().mapTo(window, rect.topLeft())
        return point.x(), point.y()

    before = where()
    assert model.setData(model.cell("min_samples_leaf", HIGH), "0")
    QApplication.processEvents()
    assert "swap them" in editor.message_label.text() and editor.message_label.isVisible()
    assert where() == before
    assert model.setData(model.cell("min_samples_leaf", HIGH), "4")
    QApplication.processEvents()
    assert not editor.message_label.isVisible()
    assert where() == before

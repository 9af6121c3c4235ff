"""The studies browser under the mouse: a click selects, renaming is asked for explicitly."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from hpstudio.core.records import StudyStatus
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.gui.widgets.studies_browser import COL_NAME, StudiesBrowser

EDITING = QAbstractItemView.State.EditingState


def make_studies(path: Path, names: list[str]) -> list[int]:
    spec = StudySpec.from_dict({
        "data": {"builtin": "iris"}, "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2]}]}).to_dict()
    ids = []
    with HistoryStore(path) as store:
        for name in names:
            study = store.create_study({**spec, "name": name}, base_dir=None, n_total=2,
                                       data_fingerprint=None, dataset="iris")
            store.set_status(study, StudyStatus.FINISHED)
            ids.append(study)
    return ids


def test_a_click_on_the_selected_study_does_not_rename_it_f2_does(qtbot, db_path: Path) -> None:
    ids = make_studies(db_path, ["first", "second"])
    browser = StudiesBrowser()
    qtbot.addWidget(browser)
    browser.resize(900, 300)
    browser.set_store(HistoryStore(db_path))
    browser.show()
    qtbot.waitExposed(browser)
    view = browser.view
    browser.select_ids([ids[0]])
    name_cell = browser.proxy.mapFromSource(browser.model.index(browser.model.row_of(ids[0]),
                                                                COL_NAME))
    where = view.visualRect(name_cell).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    # Qt starts a click-to-rename only after the double-click interval: wait past it
    settled = QTimer(browser)
    settled.setSingleShot(True)
    with qtbot.waitSignal(settled.timeout, timeout=10_000):
        settled.start(QApplication.doubleClickInterval() + 200)
    assert view.state() != EDITING
    assert browser.selected_ids() == [ids[0]]

    rename = browser.actions_by_name["rename"]
    assert rename.shortcut().toString() == "F2"
    browser.activateWindow()
    qtbot.waitActive(browser)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert view.state() == EDITING
    editor = view.findChild(QLineEdit)
    assert editor is not None and editor.text() == "first"
    editor.selectAll()
    qtbot.keyClicks(editor, "renamed")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.state() != EDITING)
    with HistoryStore(db_path) as store:
        assert store.get_study(ids[0]).name == "renamed"


def test_double_click_opens_and_the_context_menu_names_the_keys(qtbot, db_path: Path) -> None:
    ids = make_studies(db_path, ["only"])
    browser = StudiesBrowser()
    qtbot.addWidget(browser)
    browser.set_store(HistoryStore(db_path))
    browser.show()
    qtbot.waitExposed(browser)
    browser.select_ids(ids)
    where = browser.view.visualRect(browser.proxy.index(0, COL_NAME)).center()
    with qtbot.waitSignal(browser.openRequested) as opened:
        qtbot.mousePress(browser.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.mouseDClick(browser.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert opened.args == [ids[0]]
    assert browser.view.state() != EDITING
    for action in browser.actions_by_name.values():
        assert not action.shortcut().isEmpty(), action.text()
        assert action.shortcut().toString() in action.toolTip()

"""The window on a laptop screen (1024 × 700) and a large one: nothing a user needs is out
of sight."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QToolButton

from hpstudio.core.spec import StudySpec
from hpstudio.demo import demo_spec_path
from hpstudio.gui.main_window import SETTINGS_DIR_ENV, MainWindow
from hpstudio.gui.models import COL_MEAN


@pytest.fixture
def sized(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))  # a first start

    def make(width: int, height: int) -> MainWindow:
        win = MainWindow(tmp_path / "h.db")
        qtbot.addWidget(win)
        win.resize(width, height)
        win.show()
        qtbot.waitExposed(win)
        assert win.load_spec(StudySpec.from_file(demo_spec_path()))
        qtbot.waitUntil(lambda: not win._layout_pending)
        return win

    return make


def visible_toolbar_actions(win: MainWindow) -> set[str]:
    buttons = [b for b in win.toolbar.findChildren(QToolButton)
               if b.defaultAction() is not None and b.isVisible()]
    return {b.defaultAction().objectName() for b in buttons}


def test_a_laptop_sized_window_keeps_everything_in_sight(qtbot, sized):
    win = sized(1024, 700)
    # every toolbar action has a button on screen (icons alone: no overflow)
    wanted = {a.objectName() for a in win.toolbar.actions() if a.isVisible()
              and not a.isSeparator()}
    qtbot.waitUntil(lambda: wanted <= visible_toolbar_actions(win))
    # the search space is not below the fold: the editor is two tabs on a short dock
    assert win.editor.compact
    # the trial table shows the scores beside the editor, not only "#" and "state"
    view = win.trial_view
    right = view.columnViewportPosition(COL_MEAN) + view.columnWidth(COL_MEAN)
    assert 0 < right <= view.viewport().width()
    # the studies panel opens several rows tall
    assert win.log_dock.height() >= 110  # a header and several rows of studies


def test_a_large_window_shows_the_editor_in_one_column(qtbot, sized):
    win = sized(1920, 1080)
    qtbot.waitUntil(lambda: not win.editor.compact)
    assert win.editor_dock.width() >= 0.5 * win.width()
    wanted = {a.objectName() for a in win.toolbar.actions() if a.isVisible()
              and not a.isSeparator()}
    assert wanted <= visible_toolbar_actions(win)

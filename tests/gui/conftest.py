"""Qt tests run without a display, and never read or write the user's own settings;
the fixtures most editor tests share."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hpstudio.core.spec import StudySpec
    from hpstudio.gui.plots.panel import PlotsPanel
    from hpstudio.gui.widgets.editor import StudyEditor

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Window geometry, dock layout and recent files go to a temporary folder.

    ``HPSTUDIO_SETTINGS_DIR`` is what the main window reads; ``QSettings.setPath`` also
    covers any widget that builds a plain ``QSettings`` for organisation "hpstudio".
    """
    from PySide6.QtCore import QSettings

    folder = tmp_path / "settings"
    folder.mkdir()
    monkeypatch.setenv("HPSTUDIO_SETTINGS_DIR", str(folder))
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture(scope="module")
def demo() -> StudySpec:
    """The worked example's spec, as the app ships it."""
    from hpstudio.core.spec import StudySpec

    return StudySpec.from_file(str(files("hpstudio.demo").joinpath("forest-diabetes.toml")))


@pytest.fixture
def editor(qtbot) -> StudyEditor:
    """An empty study editor that probes a duration soon after a change."""
    from hpstudio.gui.widgets.editor import StudyEditor

    widget = StudyEditor(probe_delay_ms=30)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def panel(qtbot) -> Iterator[PlotsPanel]:
    """A plots panel of a usual size, with no study; its helper process ends with it."""
    from hpstudio.gui.plots.panel import PlotsPanel

    widget = PlotsPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    yield widget
    widget.shutdown()

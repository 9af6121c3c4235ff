"""Qt tests run without a display, and never read or write the user's own settings."""

import os
from pathlib import Path

import pytest

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

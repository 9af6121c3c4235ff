"""Fixtures shared by every test: an isolated history file, never the user's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpstudio.core.storage import DB_ENV_VAR


@pytest.fixture(autouse=True)
def isolated_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "history.db"
    monkeypatch.setenv(DB_ENV_VAR, str(path))
    return path


@pytest.fixture
def db_path(isolated_history: Path) -> Path:
    return isolated_history


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write a TOML spec into tmp_path and return its path."""

    def write(text: str, name: str = "spec.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write

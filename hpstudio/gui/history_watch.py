"""Hearing that a history file changed, whoever wrote it: a script, a notebook, the CLI.

SQLite in WAL mode appends each commit to ``history.db-wal`` and copies it into
``history.db`` at checkpoints, so watching both files (and their folder, where the -wal
file comes and goes with the writers' connections) hears every commit. The operating
system tells (inotify, kqueue, ReadDirectoryChangesW, through ``QFileSystemWatcher``);
nothing is polled, so an idle history costs nothing.

The app's own reads open and close connections, which creates and removes the -wal and
-shm files in the folder: a notification is therefore checked against what a commit
changes (the sizes and modification times of the two files, and the header of the WAL
index in the -shm file, which every commit rewrites: see SQLite's "WAL-mode file
format"), and ``changed`` is emitted only when that moved. Bursts
(a fast study commits many trials a second) are coalesced: at most one ``changed`` per
``interval_ms``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

__all__ = ["HistoryWatcher"]

INTERVAL_MS = 150  # the most often ``changed`` is emitted: well within a second
_SHM_HEADER = 48  # bytes of the WAL-index header: frame count and checksums, per commit
_Signature = tuple[tuple[int, int] | None, tuple[int, int] | None, bytes | None]


class HistoryWatcher(QObject):
    """Emits ``changed()`` soon after another connection commits to the history file."""

    changed = Signal()

    def __init__(self, path: str | Path | None = None, parent: QObject | None = None, *,
                 interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.path: Path | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._heard)
        self._watcher.directoryChanged.connect(self._heard)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._check)
        self._seen: _Signature = (None, None, None)
        self.emitted = 0  # how many changes were told (for tests and diagnostics)
        if path is not None:
            self.set_path(path)

    def set_path(self, path: str | Path | None) -> None:
        """Watch another history file (None: none)."""
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        self.path = None if path is None else Path(path).absolute()
        if self.path is None:
            return
        if self.path.parent.is_dir():
            self._watcher.addPath(str(self.path.parent))
        self._watch_files()
        self._seen = self._signature()

    def _heard(self, _path: str) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _check(self) -> None:
        self._watch_files()  # a recreated file is watched again
        signature = self._signature()
        if signature != self._seen:
            self._seen = signature
            self.emitted += 1
            self.changed.emit()

    def _watch_files(self) -> None:
        if self.path is None:
            return
        watched = set(self._watcher.files())
        for file in (self.path, _wal(self.path)):
            if str(file) not in watched and file.exists():
                self._watcher.addPath(str(file))

    def _signature(self) -> _Signature:
        assert self.path is not None
        return (_stat(self.path), _stat(_wal(self.path)), _header(_shm(self.path)))


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _shm(path: Path) -> Path:
    return path.with_name(path.name + "-shm")


def _header(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_SHM_HEADER)
    except OSError:
        return None


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)

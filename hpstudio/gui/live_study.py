"""The shown study, kept current while another process writes it.

A study run by a script (``hpstudio.tune``), a notebook or ``hpstudio run`` in a
terminal commits each trial to the history the moment it ends. When the window shows
that study, its table and plots grow with it, without reopening: the history watcher
hears the commit, and only the trials saved since the last read are read
(``trials_after``) and appended to the session, like the trials of the window's own
runs. A study the window runs itself is fed by its runner and left alone here.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from hpstudio.core.errors import HpstudioError
from hpstudio.gui.history_watch import HistoryWatcher

__all__ = ["LiveStudy", "install_live_study"]


def install_live_study(window: Any) -> LiveStudy:
    """Follow the window's shown study; kept as ``window.live_study``."""
    browser = getattr(getattr(window, "history", None), "browser", None)
    watcher = getattr(browser, "watcher", None)
    live = LiveStudy(window, watcher)
    window.live_study = live
    return live


class LiveStudy(QObject):
    """Appends to the window's session the trials other processes save to its study."""

    def __init__(self, window: Any, watcher: HistoryWatcher | None = None) -> None:
        super().__init__(window)
        self.window = window
        if watcher is None:  # no studies browser: watch the window's history ourselves
            watcher = HistoryWatcher(window.db_path, self)
        self.watcher = watcher
        self.watcher.changed.connect(self.update)
        self._table: Any = None  # the session table the mark refers to
        self._study: int | None = None
        self._mark = 0
        self.appended = 0  # trials added from other processes (for tests and diagnostics)

    def update(self) -> int:
        """Read the shown study's new trials into the session; how many were added."""
        window = self.window
        study_id = window.current_study_id
        if study_id is None or window.runner is not None:
            return 0
        if self.watcher.path is not None and window.db_path.absolute() != self.watcher.path:
            return 0  # the window shows another history than the one heard
        session = window.session
        try:
            store = window.history_store()
            if session.table is not self._table or study_id != self._study:
                self._rebase(store, study_id, session.table)
            trials, self._mark = store.trials_after(study_id, self._mark)
        except HpstudioError:
            return 0  # a busy or vanished history: the next change tries again
        table = session.table
        new = [t for t in trials if not table.contains(t.number, t.rung)]
        if new:
            session.add_trials(new)
            self.appended += len(new)
        return len(new)

    def _rebase(self, store: Any, study_id: int, table: Any) -> None:
        """Start reading after the trials the shown table already holds: from the first
        one it lacks (saved between its load and now), else after the newest."""
        marks = store.trial_marks(study_id)
        missing = [mark for mark, number, rung in marks if not table.contains(number, rung)]
        if missing:
            self._mark = min(missing) - 1
        else:
            self._mark = marks[-1][0] if marks else 0
        self._table, self._study = table, study_id

"""The study log: timestamped lines of what the study did, coloured by level.

A run's story (started, resumed, each failed trial, paused, stopped and why, finished)
is what a user reads after coming back to the computer, so it is kept as plain text
lines with a time, and warnings and errors stand out in colour.
"""

from __future__ import annotations

import html
import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QPlainTextEdit, QWidget

__all__ = ["LEVELS", "LogEntry", "LogPanel"]

LEVELS = ("info", "success", "warning", "error")
_COLORS = {"success": "#2e9e44", "warning": "#c77c00", "error": "#d64545"}
_MAX_LINES = 5000


@dataclass(frozen=True)
class LogEntry:
    when: float
    level: str
    message: str

    @property
    def text(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.when))
        return f"{stamp}  {self.message}"


class LogPanel(QPlainTextEdit):
    """A read-only, bounded log view; ``entries`` keeps the lines for copying and tests."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logPanel")
        self.setReadOnly(True)
        self.setMaximumBlockCount(_MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setPlaceholderText("What the study does appears here.")
        self.entries: deque[LogEntry] = deque(maxlen=_MAX_LINES)

    def log(self, message: str, level: str = "info") -> LogEntry:
        """Append one line; unknown levels are shown as info."""
        level = level if level in LEVELS else "info"
        entry = LogEntry(time.time(), level, message)
        self.entries.append(entry)
        color = _COLORS.get(level) or self.palette().color(QPalette.ColorRole.Text).name()
        weight = "font-weight:600;" if level == "error" else ""
        self.appendHtml(f'<span style="white-space:pre;color:{QColor(color).name()};{weight}">'
                        f"{html.escape(entry.text)}</span>")
        scrollbar = self.verticalScrollBar()
        scrollbar.setValue(scrollbar.maximum())
        return entry

    def messages(self, level: str | None = None) -> list[str]:
        """The logged messages (without time stamps), optionally of one level only."""
        return [e.message for e in self.entries if level is None or e.level == level]

    def clear_log(self) -> None:
        self.entries.clear()
        self.clear()

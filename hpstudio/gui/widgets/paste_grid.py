"""Paste a ``param_grid`` or ``param_distributions`` written in Python into the editor.

The text is read by :func:`hpstudio.core.paste.parse_param_grid`, which parses and never
evaluates it; the dialog shows as you type what it understood (sub-spaces, parameters,
candidates) or the parser's message naming the part it cannot read. Accepting replaces
the editor's sub-spaces in one edit, which one Undo takes back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import SpecError
from hpstudio.core.paste import parse_param_grid
from hpstudio.core.space import SubSpace, check_grid, space_size

__all__ = ["PasteGridDialog", "describe_subspaces", "install_paste_grid"]

PASTE_SHORTCUT = "Ctrl+Shift+V"
_PARSE_DELAY_MS = 250  # typing pauses this long before the text is read again
_EXAMPLE = ("param_grid = [\n"
            "    {'C': [1, 10, 100], 'kernel': ['linear']},\n"
            "    {'C': np.logspace(-2, 2, 5), 'gamma': loguniform(1e-4, 1e-1), "
            "'kernel': ['rbf']},\n"
            "]")
_TIP = ("Paste a param_grid or param_distributions as written in Python: a dict or a list "
        "of dicts; lists, range(...), np.logspace/linspace/geomspace/arange, "
        "scipy.stats uniform/loguniform/randint, skopt Real/Integer/Categorical and "
        "estimator constructors such as PCA(n_components=5). It is read, never run.")


def install_paste_grid(editor: Any) -> QAction:
    """The editor's "Paste param_grid…" action (Ctrl+Shift+V, and a button beside the
    sub-space tabs); returned so the window can put it in its Edit menu."""
    action = QAction("Paste param_&grid…", editor)
    action.setObjectName("actionPasteGrid")
    action.setShortcut(QKeySequence(PASTE_SHORTCUT))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.setToolTip(f"{_TIP} ({PASTE_SHORTCUT})")
    action.setStatusTip(_TIP)
    action.triggered.connect(lambda _checked=False: open_paste_dialog(editor))
    editor.addAction(action)
    corner = editor.space_editor.tabs.cornerWidget()
    if corner is not None and corner.layout() is not None:
        button = QToolButton(corner)
        button.setObjectName("pasteGridButton")
        button.setDefaultAction(action)
        button.setText("Paste…")
        button.setAutoRaise(True)
        corner.layout().addWidget(button)
    return action


def open_paste_dialog(editor: Any) -> PasteGridDialog | None:
    """Ask for a grid; accepted, it replaces the editor's sub-spaces (one undoable edit)."""
    if editor.is_read_only():
        return None
    dialog = PasteGridDialog(editor.allowed_packages(), parent=editor)
    dialog.accepted.connect(lambda: apply_subspaces(editor, dialog.subspaces))
    dialog.open()
    return dialog


def apply_subspaces(editor: Any, subspaces: Sequence[SubSpace] | None) -> bool:
    if not subspaces or editor.is_read_only():
        return False
    editor.space_editor.replace_subspaces(subspaces)
    return True


class PasteGridDialog(QDialog):
    """A text box for the pasted grid, what it reads as, and OK once it reads."""

    def __init__(self, allowed_packages: Sequence[str] = (), parent: QWidget | None = None,
                 *, parse: Callable[[str, Sequence[str]], Any] = parse_param_grid) -> None:
        super().__init__(parent)
        self.setObjectName("pasteGridDialog")
        self.setWindowTitle("Paste a param_grid")
        self.allowed_packages = tuple(allowed_packages)
        self._parse = parse
        self.subspaces: tuple[SubSpace, ...] | None = None
        self.message = ""
        intro = QLabel(_TIP)
        intro.setWordWrap(True)
        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setObjectName("pasteGridText")
        self.text_edit.setPlaceholderText(_EXAMPLE)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        self.text_edit.setFont(font)
        self.text_edit.setTabChangesFocus(True)
        self.status = QLabel(self)
        self.status.setObjectName("pasteGridStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use these sub-spaces")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text_edit, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(640, 420)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_PARSE_DELAY_MS)
        self._timer.timeout.connect(self.read)
        self.text_edit.textChanged.connect(self._timer.start)
        self.read()

    def set_text(self, text: str) -> None:
        """Put ``text`` in the box and read it at once (a paste, or a test)."""
        self.text_edit.setPlainText(text)
        self.read()

    def read(self) -> bool:
        """Parse the box's text; the status says what it holds or what is wrong."""
        self._timer.stop()
        text = self.text_edit.toPlainText()
        self.subspaces = None
        if not text.strip():
            self.message = ""
            self._show("Paste the grid above.", ok=False, error=False)
            return False
        try:
            self.subspaces = tuple(self._parse(text, self.allowed_packages))
        except SpecError as exc:
            self.message = str(exc)
            self._show(self.message, ok=False, error=True)
            return False
        self.message = ""
        self._show(describe_subspaces(self.subspaces), ok=True, error=False)
        return True

    def accept(self) -> None:
        if self.subspaces is None and not self.read():
            return
        super().accept()

    def _show(self, text: str, *, ok: bool, error: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")
        self.ok_button.setEnabled(ok)


def describe_subspaces(subspaces: Sequence[SubSpace]) -> str:
    """What a pasted grid holds, in a line: sub-spaces, parameters, candidates."""
    names = list(dict.fromkeys(name for sub in subspaces for name in sub))
    parts = [f"{len(subspaces)} sub-space{'s' if len(subspaces) != 1 else ''}",
             f"{len(names)} parameter{'s' if len(names) != 1 else ''} "
             f"({', '.join(names[:6])}{', …' if len(names) > 6 else ''})"]
    try:
        parts.append(f"{check_grid(subspaces):,} grid candidates")
    except SpecError:
        size = space_size(subspaces)
        parts.append("continuous ranges: for random or Bayesian search" if math.isinf(size)
                     else "too many candidates for a grid: use random or Bayesian search")
    return " · ".join(parts)

"""The estimator picker: the catalogue grouped by family, filtered by the data's task.

The catalogue is plain data from the core, so building the tree imports no scikit-learn.
Any other estimator can be named by its dotted path. A typed path is only a request
(``pathEntered``): the editor checks on a worker thread that it imports, and either
accepts it (``accept_entered``: it becomes the estimator) or rejects it
(``reject_entered``: the error shows next to the field and the last valid estimator stays),
so a typo never costs the user the search space they built.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.estimators import CATALOGUE, CatalogueEntry, catalogue_entry
from hpstudio.gui.resources import INVALID_COLOR, set_invalid
from hpstudio.gui.widgets.message_line import MessageLine

__all__ = ["EstimatorPicker"]

_PATH_ROLE = Qt.ItemDataRole.UserRole
_OTHER_HINT = ("Any scikit-learn estimator, or one of an allowed package, by its dotted "
               "import path; Enter to use it")


class EstimatorPicker(QWidget):
    """Pick a catalogue estimator or type any class path; emits ``estimatorChanged(path)``."""

    estimatorChanged = Signal(str)
    pathEntered = Signal(str)  # a typed class path, to be checked before it is used

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path: str | None = None
        self._task: str | None = None
        self._updating = False
        self._recentre_wanted = False
        self._entered: str | None = None  # a typed path being checked, or rejected
        self._items: dict[str, QTreeWidgetItem] = {}

        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(80)
        self._families: dict[str, QTreeWidgetItem] = {}
        for entry in CATALOGUE:
            self._add_entry(entry)
        self.tree.expandAll()

        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.RichText)
        self.other_edit = QLineEdit()
        self.other_edit.setPlaceholderText("other class… e.g. sklearn.linear_model.HuberRegressor")
        self.other_edit.setToolTip(_OTHER_HINT)
        self.other_button = QPushButton("Use")
        # Reserved lines: a message appearing or clearing must not move the tree above.
        self.error_label = MessageLine(2)
        self.error_label.hide()

        other = QHBoxLayout()
        other.addWidget(self.other_edit, 1)
        other.addWidget(self.other_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.description)
        layout.addLayout(other)
        layout.addWidget(self.error_label)

        self.tree.currentItemChanged.connect(self._on_item_changed)
        self.other_edit.returnPressed.connect(self._on_other_entered)
        self.other_button.clicked.connect(self._on_other_entered)

    def _add_entry(self, entry: CatalogueEntry) -> None:
        family = self._families.get(entry.family)
        if family is None:
            family = QTreeWidgetItem(self.tree, [entry.family])
            family.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = QFont()
            font.setBold(True)
            family.setFont(0, font)
            self._families[entry.family] = family
        item = QTreeWidgetItem(family, [entry.name])
        item.setData(0, _PATH_ROLE, entry.path)
        item.setToolTip(0, f"{entry.description}\n{entry.path} ({entry.task})")
        self._items[entry.path] = item

    # ----- public API -------------------------------------------------------------------------
    def current_path(self) -> str | None:
        return self._path

    def set_estimator(self, path: str | None) -> None:
        """Show ``path`` as the current estimator without emitting (a spec was loaded)."""
        self._updating = True
        try:
            self._show(path, scroll=True)
        finally:
            self._updating = False

    def select(self, path: str) -> None:
        """Choose ``path`` as a user would: shows it and emits ``estimatorChanged``."""
        self._show(path, scroll=True)
        self.estimatorChanged.emit(path)

    def entered_path(self) -> str | None:
        """The typed path being checked, or the one that was rejected (None when neither)."""
        return self._entered

    def accept_entered(self, path: str) -> None:
        """The typed ``path`` imports as an estimator: it becomes the choice."""
        if path != self._entered:
            return
        self._entered = None
        if path != self._path:
            self.select(path)
        else:
            self._show(path, scroll=True)

    def reject_entered(self, path: str, error: str) -> None:
        """The typed ``path`` does not import: say why next to it, keep the current choice."""
        if path != self._entered:
            return
        current = self._path.rsplit(".", 1)[-1] if self._path else None
        kept = f" (still using {current})" if current else ""
        error = error.removeprefix("estimator.class: ")  # said by the field it is under
        error = error.replace("run with --allow-package", "add it to Allowed packages "
                              "(Run settings) or run with --allow-package")
        self._say(f"{error}{kept}", error=True)
        self._mark_other(error)

    def set_task(self, task: str | None) -> None:
        """Offer only estimators for ``task``; the current choice stays even if it is hidden."""
        self._task = task
        for path, item in self._items.items():
            entry = catalogue_entry(path)
            item.setHidden(task is not None and entry is not None and entry.task != task)
        for family in self._families.values():
            family.setHidden(all(family.child(i).isHidden() for i in range(family.childCount())))
        self._describe()

    def entry(self) -> CatalogueEntry | None:
        return catalogue_entry(self._path) if self._path else None

    def set_resolution(self, path: str, error: str | None) -> None:
        """Report whether the current ``path`` imports as an estimator (checked off-thread)."""
        if path != self._path or self._entered is not None:
            return
        self._say(error, error=True)
        self._mark_other(error if self.entry() is None else None)

    def set_read_only(self, read_only: bool) -> None:
        self.tree.setEnabled(not read_only)
        self.other_edit.setReadOnly(read_only)
        self.other_button.setEnabled(not read_only)

    # ----- internals --------------------------------------------------------------------------
    def _show(self, path: str | None, *, scroll: bool) -> None:
        self._path = path
        self._entered = None
        self._say(None)
        self._mark_other(None)
        item = self._items.get(path or "")
        guard = self._updating
        self._updating = True
        try:
            if item is not None:
                if self.tree.currentItem() is not item:
                    self.tree.setCurrentItem(item)
                if scroll:
                    self._scroll_to_current()
                self.other_edit.clear()
            else:
                self._recentre_wanted = False
                self.tree.setCurrentItem(None)
                self.tree.clearSelection()
                self.other_edit.setText(path or "")
        finally:
            self._updating = guard
        self._describe()

    def _scroll_to_current(self) -> None:
        """Centre the choice now and again once laid out (the tree may not be sized yet).

        Only for choices made elsewhere (a loaded spec, a typed path): an item clicked in
        the tree is on screen already, and scrolling under the pointer would put the
        neighbouring row beneath it by the time the button is released.
        """
        self.tree.scrollToItem(self.tree.currentItem(), QTreeWidget.ScrollHint.PositionAtCenter)
        self._recentre_wanted = True
        QTimer.singleShot(0, self._recentre)

    def _recentre(self) -> None:
        item = self.tree.currentItem()
        if item is not None and self._recentre_wanted:
            self.tree.scrollToItem(item, QTreeWidget.ScrollHint.PositionAtCenter)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._recentre)

    def _describe(self) -> None:
        entry = self.entry()
        if entry is not None:
            text = f"<b>{entry.name}</b> — {entry.description}"
            if self._task is not None and entry.task != self._task:
                text += (f"<br><span style='color:{INVALID_COLOR}'>This is a {entry.task} "
                         f"estimator but the data is a {self._task} task.</span>")
        elif self._path:
            text = f"<b>{self._path.rsplit('.', 1)[-1]}</b> — {self._path}"
        else:
            text = "<i>Pick an estimator.</i>"
        self.description.setText(text)

    def _on_item_changed(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        if self._updating or item is None:
            return
        path = item.data(0, _PATH_ROLE)
        if path and path != self._path:
            self._recentre_wanted = False  # the user is pointing at the tree: keep it still
            self._show(path, scroll=False)
            self.estimatorChanged.emit(path)

    def _on_other_entered(self) -> None:
        path = self.other_edit.text().strip()
        if not path or (path == self._path and self._entered is None):
            return
        self._entered = path
        self._say(f"checking {path}…", error=False)
        self._mark_other(None)
        self.pathEntered.emit(path)

    def _say(self, message: str | None, *, error: bool = True) -> None:
        """The line under the class field: an error in red, progress in the normal colour."""
        self.error_label.setStyleSheet(f"color: {INVALID_COLOR};" if error else "")
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def _mark_other(self, error: str | None) -> None:
        set_invalid(self.other_edit, bool(error), error or "")
        if not error:
            self.other_edit.setToolTip(_OTHER_HINT)

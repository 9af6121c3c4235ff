"""The estimator picker: the catalogue grouped by family, filtered by the data's task.

The catalogue is plain data from the core, so building the tree imports no scikit-learn.
Any other estimator can be named by its dotted path; whether that path resolves is
checked by the editor on a worker thread and reported back with ``set_resolution``.
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

__all__ = ["EstimatorPicker"]

_PATH_ROLE = Qt.ItemDataRole.UserRole


class EstimatorPicker(QWidget):
    """Pick a catalogue estimator or type any class path; emits ``estimatorChanged(path)``."""

    estimatorChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path: str | None = None
        self._task: str | None = None
        self._updating = False
        self._items: dict[str, QTreeWidgetItem] = {}

        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(100)
        self._families: dict[str, QTreeWidgetItem] = {}
        for entry in CATALOGUE:
            self._add_entry(entry)
        self.tree.expandAll()

        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.RichText)
        self.other_edit = QLineEdit()
        self.other_edit.setPlaceholderText("other class… e.g. sklearn.linear_model.HuberRegressor")
        self.other_edit.setToolTip("Any scikit-learn estimator, by its dotted import path")
        self.other_button = QPushButton("Use")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {INVALID_COLOR};")
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
        """Show ``path`` as the current estimator without emitting (used by ``set_spec``)."""
        self._updating = True
        try:
            self._show(path)
        finally:
            self._updating = False

    def select(self, path: str) -> None:
        """Choose ``path`` as a user would: shows it and emits ``estimatorChanged``."""
        self._show(path)
        self.estimatorChanged.emit(path)

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
        """Report whether ``path`` could be imported as an estimator (checked off-thread)."""
        if path != self._path:
            return
        self.error_label.setText(error or "")
        self.error_label.setVisible(bool(error))
        set_invalid(self.other_edit, bool(error) and self.entry() is None, error or "")

    def set_read_only(self, read_only: bool) -> None:
        self.tree.setEnabled(not read_only)
        self.other_edit.setReadOnly(read_only)
        self.other_button.setEnabled(not read_only)

    # ----- internals --------------------------------------------------------------------------
    def _show(self, path: str | None) -> None:
        self._path = path
        self.error_label.hide()
        set_invalid(self.other_edit, False)
        item = self._items.get(path or "")
        guard = self._updating
        self._updating = True
        try:
            if item is not None:
                self.tree.setCurrentItem(item)
                self._scroll_to_current()
                self.other_edit.clear()
            else:
                self.tree.setCurrentItem(None)
                self.tree.clearSelection()
                self.other_edit.setText(path or "")
        finally:
            self._updating = guard
        self._describe()

    def _scroll_to_current(self) -> None:
        """Centre the choice now and again once laid out (the tree may not be sized yet)."""
        self.tree.scrollToItem(self.tree.currentItem(), QTreeWidget.ScrollHint.PositionAtCenter)
        QTimer.singleShot(0, self._recentre)

    def _recentre(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
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
            self.select(path)

    def _on_other_entered(self) -> None:
        path = self.other_edit.text().strip()
        if path and path != self._path:
            self.select(path)

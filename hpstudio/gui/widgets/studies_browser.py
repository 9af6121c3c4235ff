"""The studies browser: every study of the open history, to filter, sort, reopen and manage.

The browser reads through its own :class:`HistoryStore`, opened on the GUI thread:
listing is one query, so it stays responsive even while a study writes to the same file
from the runner thread (WAL lets readers and the writer proceed together). What to do
with a study (open, resume, compare, export) is not decided here: the browser emits a
request signal and :mod:`hpstudio.gui.history` routes it to the main window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from hpstudio.core.errors import StoreError
from hpstudio.core.records import StudyStatus, StudySummary
from hpstudio.core.storage import HistoryStore
from hpstudio.gui.history_watch import HistoryWatcher

__all__ = ["COLUMNS", "RESUMABLE", "StudiesBrowser", "StudiesTableModel"]

#: (header, tooltip) of each column, in display order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("ID", "Study id (what the command line calls STUDY)"),
    ("Name", "Study name (F2 or Rename in the context menu to change it)"),
    ("Created", "When the study was started"),
    ("Estimator", "scikit-learn estimator"),
    ("Dataset", "Data the study was run on"),
    ("Strategy", "Search strategy"),
    ("Trials", "Trials done / planned"),
    ("Best", "Best mean test score"),
    ("Metric", "Scoring metric"),
    ("Status", "running, finished, stopped (and why), failed or interrupted"),
    ("Note", "Your note (Ctrl+Alt+N or Note… in the context menu to edit it)"),
)
COL_ID, COL_NAME, COL_CREATED, COL_ESTIMATOR, COL_DATASET, COL_STRATEGY = range(6)
COL_TRIALS, COL_BEST, COL_METRIC, COL_STATUS, COL_NOTE = range(6, 11)
SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: Studies that ``StudyRunner.run(study_id=...)`` can carry on with.
RESUMABLE = frozenset({StudyStatus.STOPPED, StudyStatus.INTERRUPTED, StudyStatus.FAILED})
_STATUS_COLORS = {
    StudyStatus.RUNNING: QtGui.QColor(30, 110, 200),
    StudyStatus.FAILED: QtGui.QColor(200, 40, 40),
    StudyStatus.INTERRUPTED: QtGui.QColor(190, 120, 0),
}
_EDITING_RETRY_MS = 500  # a change heard while a name is being edited is read after it
#: The least time between two listings caused by changes: a running study commits many
#: trials a second, and listing a large history costs tens of milliseconds.
_RELIST_MIN_MS = 700


class StudiesTableModel(QtCore.QAbstractTableModel):
    """Study summaries as rows; Name and Note are editable and written through the store."""

    #: Emitted with a StoreError's text when an edit could not be written.
    editFailed = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[StudySummary] = []
        self.store: HistoryStore | None = None

    # -- content -----------------------------------------------------------------------
    def set_studies(self, studies: Sequence[StudySummary]) -> None:
        self.beginResetModel()
        self._rows = list(studies)
        self.endResetModel()

    def study(self, row: int) -> StudySummary:
        return self._rows[row]

    def studies(self) -> list[StudySummary]:
        return list(self._rows)

    def row_of(self, study_id: int) -> int | None:
        return next((i for i, s in enumerate(self._rows) if s.id == study_id), None)

    # -- Qt model interface --------------------------------------------------------------
    def rowCount(self, parent: QtCore.QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QtCore.QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

    def flags(self, index: QtCore.QModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() in (COL_NAME, COL_NOTE):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: QtCore.QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        study = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return display_text(study, column)
        if role == SORT_ROLE:
            return sort_key(study, column)
        if role == ID_ROLE:
            return study.id
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_STATUS and study.stop_reason:
                return f"{study.status.value}: {study.stop_reason}"
            if column == COL_ESTIMATOR:
                return study.estimator
            if column == COL_NOTE and study.note:
                return study.note
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_STATUS:
            return _STATUS_COLORS.get(study.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_ID, COL_TRIALS, COL_BEST):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: QtCore.QModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or self.store is None or not index.isValid():
            return False
        study = self._rows[index.row()]
        text = str(value)
        try:
            if index.column() == COL_NAME:
                text = text.strip()
                if not text or text == study.name:
                    return False
                self.store.rename_study(study.id, text)
                updated = _replace(study, name=text)
            elif index.column() == COL_NOTE:
                if text == study.note:
                    return False
                self.store.set_note(study.id, text)
                updated = _replace(study, note=text)
            else:
                return False
        except StoreError as exc:
            self.editFailed.emit(str(exc))
            return False
        self._rows[index.row()] = updated
        self.dataChanged.emit(index, index)
        return True


class StudiesFilterModel(QtCore.QSortFilterProxyModel):
    """Text filter over every column at once (a study matches if any cell contains it)."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)


class StudiesBrowser(QtWidgets.QWidget):
    """Filterable, sortable table of studies with the actions a user takes on them.

    Request signals carry study ids; the browser itself performs only what concerns the
    history file: listing, renaming, notes and deleting.
    """

    openRequested = QtCore.Signal(int)
    duplicateRequested = QtCore.Signal(int)
    resumeRequested = QtCore.Signal(int)
    compareRequested = QtCore.Signal(list)
    refineRequested = QtCore.Signal(int)
    exportRequested = QtCore.Signal(int)
    historyChanged = QtCore.Signal(str)  # path of the history file now shown

    #: Seconds to wait for a history another program has locked: short, as the GUI waits.
    timeout = 2.0

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.store: HistoryStore | None = None
        #: Called with (title, text) to report a problem; a warning box when None.
        self.error_handler: Callable[[str, str], None] | None = None
        self.model = StudiesTableModel(self)
        self.model.editFailed.connect(self._show_error)
        self.proxy = StudiesFilterModel(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QtWidgets.QLineEdit(self)
        self.filter_edit.setObjectName("studiesFilter")
        self.filter_edit.setPlaceholderText("Filter (name, estimator, dataset, status…)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.set_filter_text)
        self.path_label = QtWidgets.QLabel(self)
        self.path_label.setObjectName("historyPath")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setMaximumWidth(360)

        self.view = QtWidgets.QTableView(self)
        self.view.setObjectName("studiesView")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(COL_ID, Qt.SortOrder.DescendingOrder)  # newest first
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        # Renaming is explicit (F2, Rename in the context menu): a click on a row that
        # happens to be selected already must select it, not start editing its name.
        self.view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_context_menu)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

        self.actions_by_name: dict[str, QtGui.QAction] = {}
        # Keys act while the browser has the focus, and differ from the window's own keys
        # (two actions on one key would both be refused as ambiguous).
        specs = (
            ("open", "Open", "Ctrl+Return", "Show this study's spec, trials and plots "
             "(read-only)", self.open_selected),
            ("duplicate", "Duplicate", "Ctrl+D", "Load a copy of this study's spec, ready to "
             "edit and run", self.duplicate_selected),
            ("resume", "Resume", "Ctrl+Alt+R", "Carry on a stopped or interrupted study where "
             "it left off", self.resume_selected),
            ("compare", "Compare", "Ctrl+Alt+C", "Overlay the best-so-far curves of the "
             "selected studies", self.compare_selected),
            ("refine", "Refine…", "Ctrl+Alt+F", "New study with ranges narrowed around the "
             "best trials", self.refine_selected),
            ("export", "Export…", "Ctrl+Alt+E", "Export parameters, trials or a refitted model",
             self.export_selected),
            ("rename", "Rename", "F2", "Rename the study, in its Name cell",
             self.rename_selected),
            ("note", "Note…", "Ctrl+Alt+N", "Add or edit a note on the study",
             self.edit_note_selected),
            ("delete", "Delete…", QtGui.QKeySequence.StandardKey.Delete,
             "Delete the study and all its trials", self.delete_selected),
            ("refresh", "Refresh", "Ctrl+Alt+L", "Read the history again", self.refresh),
        )
        toolbar = QtWidgets.QToolBar(self)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name, text, key, tip, slot in specs:
            action = QtGui.QAction(text, self)
            action.setObjectName(f"studies_{name}")
            action.setShortcut(QtGui.QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shown = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({shown})")
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.actions_by_name[name] = action
            self.addAction(action)
            if name not in ("rename", "note"):
                toolbar.addAction(action)

        # One row of controls above the table keeps the dock short enough to share the
        # bottom area with the log without forcing the window taller.
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(toolbar)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.path_label)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

        # Studies start, and running ones gain trials, in this process or any other: the
        # watcher hears the history file change (nothing is polled) and the browser
        # re-lists (one query) while it is visible, touching the view only when something
        # changed; a hidden browser re-lists when it is shown again.
        self.watcher = HistoryWatcher(parent=self)
        self.watcher.changed.connect(self._on_history_changed)
        self._stale = False
        self._listed_at = -math.inf
        self._relist = QtCore.QTimer(self)
        self._relist.setSingleShot(True)
        self._relist.timeout.connect(self._refresh_if_stale)
        self._update_actions()

    # -- the history file ----------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return None if self.store is None else self.store.path

    def open_path(self, path: str | Path | None) -> bool:
        """Show the history at ``path``; on failure say why and keep showing the current one."""
        try:
            store = HistoryStore(path, timeout=self.timeout, transient=True)
        except StoreError as exc:
            self._show_error(str(exc), title="Cannot open history")
            return False
        self.set_store(store)
        return True

    def set_store(self, store: HistoryStore) -> None:
        old, self.store = self.store, store
        if old is not None and old is not store:
            old.close()
        self.model.store = store
        self.watcher.set_path(store.path)
        suffix = " (read-only)" if store.read_only else ""
        metrics = self.path_label.fontMetrics()
        shown = metrics.elidedText(str(store.path), Qt.TextElideMode.ElideMiddle,
                                   self.path_label.maximumWidth() - 40)
        self.path_label.setText(f"{shown}{suffix}")
        self.path_label.setToolTip(f"History file: {store.path}{suffix}")
        self.refresh()
        self.historyChanged.emit(str(store.path))

    def refresh(self) -> None:
        """Re-list the studies, keeping the selection and the scroll position."""
        if self.store is None:
            return
        self._stale = False
        self._listed_at = time.monotonic()
        try:
            studies = self.store.list_studies()
        except StoreError as exc:
            self._show_error(str(exc), title="Cannot read history")
            return
        if studies != self.model.studies():
            selected = self.selected_ids()
            scroll = self.view.verticalScrollBar().value()
            self.model.set_studies(studies)
            self.select_ids(selected)
            self.view.verticalScrollBar().setValue(scroll)
        self._update_actions()

    def _on_history_changed(self) -> None:
        """The history file changed (a study started, a trial ended, a rename)."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = True
        if self.view.state() == QtWidgets.QAbstractItemView.State.EditingState:
            self._relist.start(_EDITING_RETRY_MS)
            return
        wait_ms = (self._listed_at - time.monotonic()) * 1000 + _RELIST_MIN_MS
        if wait_ms > 0:
            if not self._relist.isActive():
                self._relist.start(int(wait_ms) + 1)
            return
        self.refresh()

    def _refresh_if_stale(self) -> None:
        if self._stale:
            self._on_history_changed()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def close_store(self) -> None:
        self.watcher.set_path(None)
        if self.store is not None:
            self.store.close()
            self.store = None
            self.model.store = None

    # -- filter and selection -------------------------------------------------------------
    def set_filter_text(self, text: str) -> None:
        if self.filter_edit.text() != text:
            self.filter_edit.setText(text)  # comes back here through textChanged
            return
        self.proxy.setFilterFixedString(text)
        self._update_actions()

    def visible_ids(self) -> list[int]:
        """Study ids in the order the view shows them (after filter and sort)."""
        return [int(self.proxy.index(r, 0).data(ID_ROLE)) for r in range(self.proxy.rowCount())]

    def selected_ids(self) -> list[int]:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return [int(index.data(ID_ROLE)) for index in sorted(rows, key=lambda i: i.row())]

    def selected_studies(self) -> list[StudySummary]:
        by_id = {s.id: s for s in self.model.studies()}
        return [by_id[i] for i in self.selected_ids() if i in by_id]

    def select_ids(self, ids: Sequence[int]) -> None:
        selection = QtCore.QItemSelection()
        for study_id in ids:
            row = self.model.row_of(study_id)
            if row is None:
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                selection.select(index, index.siblingAtColumn(len(COLUMNS) - 1))
        flags = (QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QtCore.QItemSelectionModel.SelectionFlag.Rows)
        self.view.selectionModel().select(selection, flags)

    def study(self, study_id: int) -> StudySummary | None:
        row = self.model.row_of(study_id)
        return None if row is None else self.model.study(row)

    # -- actions on the selection ----------------------------------------------------------
    def open_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.openRequested.emit(ids[0])

    def duplicate_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.duplicateRequested.emit(ids[0])

    def resume_selected(self) -> None:
        study = next(iter(self.selected_studies()), None)
        if study is None:
            return
        if study.status not in RESUMABLE:
            self._show_error(f"study #{study.id} {study.name!r} is {study.status.value}; only a "
                             "stopped, interrupted or failed study can be resumed",
                             title="Cannot resume")
            return
        self.resumeRequested.emit(study.id)

    def compare_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) < 2:
            self._show_error("select two or more studies to compare (Ctrl+click)",
                             title="Compare studies")
            return
        self.compareRequested.emit(ids)

    def refine_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.refineRequested.emit(ids[0])

    def export_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.exportRequested.emit(ids[0])

    def rename_selected(self) -> None:
        """Edit the Name cell of the current study in place (F2, or the context menu)."""
        current = self.view.currentIndex()
        if not current.isValid() or not self.selected_ids():
            return
        name_cell = current.siblingAtColumn(COL_NAME)
        self.view.setCurrentIndex(name_cell)
        self.view.edit(name_cell)

    def edit_note_selected(self) -> None:
        study = next(iter(self.selected_studies()), None)
        if study is None:
            return
        note, ok = QtWidgets.QInputDialog.getMultiLineText(
            self, "Study note", f"Note on study #{study.id} {study.name!r}:", study.note)
        if ok:
            self.set_note(study.id, note)

    def rename_study(self, study_id: int, name: str) -> bool:
        return self._edit(study_id, COL_NAME, name)

    def set_note(self, study_id: int, note: str) -> bool:
        return self._edit(study_id, COL_NOTE, note)

    def delete_selected(self) -> None:
        self.delete_studies(self.selected_ids())

    def delete_studies(self, ids: Sequence[int]) -> bool:
        """Delete after confirmation; a running study is refused (its runner still writes)."""
        if self.store is None or not ids:
            return False
        studies = [s for s in (self.study(i) for i in ids) if s is not None]
        running = [s for s in studies if s.status is StudyStatus.RUNNING]
        if running:
            self._show_error(f"study #{running[0].id} {running[0].name!r} is running; stop it "
                             "before deleting it", title="Cannot delete")
            return False
        if len(studies) == 1:
            s = studies[0]
            text = (f"Delete study #{s.id} {s.name!r} and its {s.n_complete + s.n_failed} "
                    "trials? This cannot be undone.")
        else:
            text = f"Delete {len(studies)} studies and all their trials? This cannot be undone."
        answer = QtWidgets.QMessageBox.question(
            self, "Delete studies", text,
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            QtWidgets.QMessageBox.StandardButton.No)
        if answer != QtWidgets.QMessageBox.StandardButton.Yes:
            return False
        try:
            for study in studies:
                self.store.delete_study(study.id)
        except StoreError as exc:
            self._show_error(str(exc), title="Cannot delete")
            self.refresh()
            return False
        self.refresh()
        return True

    # -- internals --------------------------------------------------------------------------
    def _edit(self, study_id: int, column: int, value: str) -> bool:
        row = self.model.row_of(study_id)
        if row is None:
            return False
        return self.model.setData(self.model.index(row, column), value)

    def _update_actions(self) -> None:
        studies = self.selected_studies()
        one = len(studies) >= 1
        runnable = one and studies[0].has_spec  # recorded / imported: look, never run
        for name in ("open", "export", "rename", "note", "delete"):
            self.actions_by_name[name].setEnabled(one)
        for name in ("duplicate", "refine"):
            self.actions_by_name[name].setEnabled(runnable)
        self.actions_by_name["resume"].setEnabled(runnable and studies[0].status in RESUMABLE)
        self.actions_by_name["compare"].setEnabled(len(studies) >= 2)

    def _show_context_menu(self, pos: QtCore.QPoint) -> None:
        menu = QtWidgets.QMenu(self)
        for name in ("open", "duplicate", "resume", None, "compare", "refine", "export", None,
                     "rename", "note", "delete"):
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(self.actions_by_name[name])
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _show_error(self, text: str, title: str = "History") -> None:
        if self.error_handler is not None:
            self.error_handler(title, text)
        else:
            QtWidgets.QMessageBox.warning(self, title, text)


# ----- cell text and sort keys ------------------------------------------------------------------


def display_text(study: StudySummary, column: int) -> str:
    if column == COL_ID:
        return str(study.id)
    if column == COL_NAME:
        return study.name
    if column == COL_CREATED:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(study.created))
    if column == COL_ESTIMATOR:
        return study.estimator.rsplit(".", 1)[-1]
    if column == COL_DATASET:
        return study.dataset
    if column == COL_STRATEGY:
        return study.strategy
    if column == COL_TRIALS:
        done = study.n_complete + study.n_failed + study.n_pruned
        total = "?" if study.n_total is None else str(study.n_total)
        extra = [f"{n} {what}" for n, what in ((study.n_failed, "failed"),
                                                (study.n_pruned, "pruned")) if n]
        return f"{done} / {total}" + (f" ({', '.join(extra)})" if extra else "")
    if column == COL_BEST:
        best = study.best_score
        return "–" if best is None or math.isnan(best) else f"{best:.6g}"
    if column == COL_METRIC:
        return study.metric
    if column == COL_STATUS:
        return status_text(study)
    if column == COL_NOTE:
        return study.note
    return ""


def status_text(study: StudySummary) -> str:
    """The status, with why a study stopped or failed (a finished study needs no reason),
    and where a study without a spec came from (it can only be looked at)."""
    text = study.status.value
    if study.stop_reason and study.status in (StudyStatus.STOPPED, StudyStatus.FAILED):
        text = f"{text}: {study.stop_reason}"
    if not study.has_spec:
        text = f"{text} ({study.origin.value}, read-only)"
    return text


def sort_key(study: StudySummary, column: int) -> Any:
    """Numbers sort as numbers (trials, best score, date), text case-insensitively."""
    if column == COL_ID:
        return study.id
    if column == COL_CREATED:
        return study.created
    if column == COL_TRIALS:
        return study.n_complete + study.n_failed
    if column == COL_BEST:
        best = study.best_score
        return -math.inf if best is None or math.isnan(best) else float(best)
    return display_text(study, column).casefold()


def _replace(study: StudySummary, **changes: Any) -> StudySummary:
    from dataclasses import replace

    return replace(study, **changes)

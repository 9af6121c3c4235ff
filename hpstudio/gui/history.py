"""The history features of the main window: studies browser, open/resume, compare, refine, export.

``install_history(window)`` is called once at the end of ``MainWindow.__init__``. It adds
a "Studies" dock, the Compare / Export / Refine actions and File → Open history…, and
routes the browser's requests to the window's public API (``show_study``,
``resume_study``, ``load_spec``, ``set_db_path``). The window knows nothing of this
module beyond that one call, and this module touches the window only through that API,
so either side can change its insides freely.

Reads for these features (listing, trial columns for comparing, trials for exporting and
refining) go through the browser's own :class:`HistoryStore`, opened on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from hpstudio.core.compare import best_so_far, comparison_warnings
from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import StudyStatus, TrialRecord
from hpstudio.core.refine import (
    DEFAULT_FRACTION,
    DEFAULT_MARGIN,
    DEFAULT_MIN_TOP,
    Refinement,
    refine_spec,
)
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import default_db_path
from hpstudio.gui.widgets.compare_view import CompareView
from hpstudio.gui.widgets.export_dialog import ExportDialog
from hpstudio.gui.widgets.studies_browser import StudiesBrowser

__all__ = ["HISTORY_FILTER", "HistoryController", "RefineDialog", "install_history",
           "selected_trial_number"]

HISTORY_FILTER = "hpstudio history (*.db *.sqlite *.sqlite3 *.hpstudio);;All files (*)"
OPEN_HISTORY_ACTION = "actionOpenHistory"


def install_history(window: QtWidgets.QMainWindow) -> HistoryController:
    """Add the history features to ``window``; the controller is kept as ``window.history``."""
    controller = HistoryController(window)
    window.history = controller  # type: ignore[attr-defined]
    return controller


class HistoryController(QtCore.QObject):
    """Owns the studies dock and the history actions of one main window."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.browser = StudiesBrowser()
        self.browser.error_handler = self._error
        self.dock = QtWidgets.QDockWidget("Studies", window)
        self.dock.setObjectName("studiesDock")
        self.dock.setWidget(self.browser)
        self.dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dialogs: list[QtWidgets.QDialog] = []  # open non-modal dialogs, kept alive

        self.open_history_action = self._find_action(OPEN_HISTORY_ACTION)
        self.compare_action = self._action("actionCompareStudies", "&Compare studies",
                                           "compare", "Overlay the best-so-far curves of the "
                                           "studies selected in the Studies dock",
                                           self.compare_selected)
        self.export_action = self._action("actionExport", "&Export…", "export",
                                          "Export the best or the selected trial: parameters, "
                                          "trials CSV, refitted model", self.export_current)
        self.export_action.setShortcut(QtGui.QKeySequence("Ctrl+E"))
        self.refine_action = self._action("actionRefine", "&Refine…", "refine",
                                          "New study with ranges narrowed around the best "
                                          "trials of this one", self.refine_current)
        self._install_menus()

        self.browser.openRequested.connect(self.open_study)
        self.browser.duplicateRequested.connect(self.duplicate_study)
        self.browser.resumeRequested.connect(self.resume_study)
        self.browser.compareRequested.connect(self.compare)
        self.browser.refineRequested.connect(self.refine)
        self.browser.exportRequested.connect(self.export)
        stored = getattr(window, "studyStored", None)
        if stored is not None:
            stored.connect(self._on_study_stored)
        db_path = getattr(window, "db_path", None)
        if self.browser.open_path(db_path if db_path is not None else default_db_path()):
            self.report_unfinished()

    def report_unfinished(self) -> None:
        """Say at start what the last runs left: interrupted studies (their process ended
        before they did) and a newest study that failed, each with what to do."""
        log = getattr(getattr(self.window, "log_panel", None), "log", None)
        if log is None:
            return
        studies = self.browser.model.studies()
        for study in studies:
            if study.status is StudyStatus.INTERRUPTED:
                log(f"study #{study.id} {study.name!r} was interrupted: its process ended "
                    "before the study did (closed, killed, crashed or out of disk space); "
                    "its finished trials are saved, resume it from the Studies tab", "warning")
        newest = max(studies, key=lambda s: s.id, default=None)
        if newest is not None and newest.status is StudyStatus.FAILED:
            log(f"the last study, #{newest.id} {newest.name!r}, failed: "
                f"{newest.stop_reason or 'no reason was recorded'}", "error")

    # -- menus and actions ------------------------------------------------------------------
    def _action(self, name: str, text: str, icon: str, tip: str,
                slot: Callable[[], Any]) -> QtGui.QAction:
        action = self._find_action(name)
        if action is None:
            action = QtGui.QAction(text, self.window)
            action.setObjectName(name)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            _set_icon(action, icon)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _find_action(self, name: str) -> QtGui.QAction | None:
        return self.window.findChild(QtGui.QAction, name)

    def _install_menus(self) -> None:
        bar = self.window.menuBar()
        file_menu = self._menu(bar, "menuFile", "&File")
        if self.open_history_action is None:
            action = QtGui.QAction("Open &history…", self.window)
            action.setObjectName(OPEN_HISTORY_ACTION)
            action.setToolTip("Open another history file (an hpstudio SQLite database)")
            _set_icon(action, "history")
            self.open_history_action = action
            _insert_before_quit(file_menu, action)
        self.open_history_action.triggered.connect(lambda _checked=False: self.ask_open_history())
        study_menu = self._menu(bar, "menuStudy", "&Study")
        for action in (self.compare_action, self.refine_action, self.export_action):
            if action not in study_menu.actions():
                study_menu.addAction(action)
        view_menu = self._menu(bar, "menuView", "&View")
        toggle = self.dock.toggleViewAction()
        toggle.setText("&Studies")
        toggle.setObjectName("actionShowStudies")
        toggle.setShortcut(QtGui.QKeySequence("Ctrl+H"))
        view_menu.addAction(toggle)
        toolbar = self._main_toolbar()
        if toolbar is not None:
            toolbar.addSeparator()
            for action in (self.compare_action, self.refine_action, self.export_action):
                if action not in toolbar.actions():
                    toolbar.addAction(action)

    def _menu(self, bar: QtWidgets.QMenuBar, name: str, title: str) -> QtWidgets.QMenu:
        """The window's menu of that objectName (or title), created when it has none."""
        menu = self.window.findChild(QtWidgets.QMenu, name)
        if menu is not None:
            return menu
        plain = title.replace("&", "").casefold()
        for action in bar.actions():
            candidate = action.menu()
            if candidate is not None and action.text().replace("&", "").casefold() == plain:
                return candidate
        menu = bar.addMenu(title)
        menu.setObjectName(name)
        return menu

    def _main_toolbar(self) -> QtWidgets.QToolBar | None:
        toolbars = [t for t in self.window.findChildren(QtWidgets.QToolBar)
                    if t.parent() is self.window]
        named = [t for t in toolbars if t.objectName() in ("mainToolBar", "toolBar")]
        return (named or toolbars or [None])[0]

    # -- the history file ----------------------------------------------------------------------
    @property
    def store(self) -> Any:
        return self.browser.store

    def ask_open_history(self) -> bool:
        start = str(self.browser.path.parent) if self.browser.path else str(default_db_path())
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open history", start,
                                                        HISTORY_FILTER)
        return bool(path) and self.open_history(path)

    def open_history(self, path: str | Path) -> bool:
        """Switch the browser and the window to another history; on failure keep both as they
        were and show why (locked, read-only, newer schema, not a database)."""
        previous = self.browser.path
        if not self.browser.open_path(path):
            return False
        set_db_path = getattr(self.window, "set_db_path", None)
        if set_db_path is None:
            return True
        try:
            accepted = set_db_path(Path(path)) is not False  # the window explains a refusal
        except HpstudioError as exc:
            self._error("Cannot open history", str(exc))
            accepted = False
        if not accepted and previous is not None:
            self.browser.open_path(previous)
        return accepted

    def _on_study_stored(self, study_id: int) -> None:
        self.browser.refresh()
        self.browser.select_ids([study_id])

    # -- requests from the browser ---------------------------------------------------------------
    def open_study(self, study_id: int) -> None:
        self._call("show_study", study_id)

    def resume_study(self, study_id: int) -> None:
        self._call("resume_study", study_id)
        self.browser.refresh()

    def duplicate_study(self, study_id: int) -> None:
        try:
            row = self.store.get_study(study_id)
            spec = row.study_spec("duplicate it")
        except HpstudioError as exc:
            self._error("Cannot duplicate", str(exc))
            return
        self._call("load_spec", spec.with_name(f"{row.name} (copy)"))

    def compare_selected(self) -> None:
        """The toolbar's Compare: the studies picked in the browser (shown, so they can be)."""
        self.dock.show()
        self.dock.raise_()
        self.browser.compare_selected()

    def compare(self, study_ids: Sequence[int]) -> CompareView | None:
        """Open a comparison of these studies (best-so-far curves and a summary table)."""
        if len(study_ids) < 2:
            self._error("Compare studies", "select two or more studies to compare")
            return None
        try:
            rows = [self.store.get_study(i) for i in study_ids]
            curves = [best_so_far(self.store.open_trials(r.id), study_id=r.id, name=r.name)
                      for r in rows]
        except HpstudioError as exc:
            self._error("Cannot compare", str(exc))
            return None
        metrics = {r.metric for r in rows}
        view = CompareView(curves, metric=" / ".join(sorted(metrics)),
                           warnings=comparison_warnings(rows), parent=self.window)
        self._keep(view)
        return view

    def refine_current(self) -> None:
        study_id = self._target_study()
        if study_id is not None:
            self.refine(study_id)

    def refine(self, study_id: int) -> RefineDialog | None:
        try:
            row = self.store.get_study(study_id)
            spec = row.study_spec("refine it")
            trials = self.store.load_trials(study_id)
            dialog = RefineDialog(spec, trials, parent=self.window)
        except HpstudioError as exc:
            self._error("Cannot refine", str(exc))
            return None
        dialog.accepted.connect(lambda: self._call("load_spec", dialog.refinement.spec))
        self._keep(dialog)
        return dialog

    def export_current(self) -> None:
        study_id = self._target_study()
        if study_id is not None:
            self.export(study_id, self._selected_trial(study_id))

    def export(self, study_id: int, trial_number: int | None = None) -> ExportDialog | None:
        try:
            row = self.store.get_study(study_id)
            trials = self.store.load_trials(study_id)
        except HpstudioError as exc:
            self._error("Cannot export", str(exc))
            return None
        dialog = ExportDialog(row, trials, trial_number,
                              allowed_packages=getattr(self.window, "allowed_packages", ()),
                              parent=self.window)
        self._keep(dialog)
        return dialog

    # -- helpers ------------------------------------------------------------------------------
    def _target_study(self) -> int | None:
        """The study a window-level action applies to: the one shown in the window, unless
        the user is working in the browser (it has focus), then the one selected there."""
        ids = self.browser.selected_ids()
        if ids and self.browser.view.hasFocus():
            return ids[0]
        current = getattr(self.window, "current_study_id", None)
        if current is not None:
            return int(current)
        if ids:
            return ids[0]
        self._error("No study", "open a study or select one in the Studies dock first")
        return None

    def _selected_trial(self, study_id: int) -> int | None:
        """The trial selected in the window's trial table, if it shows this study."""
        if getattr(self.window, "current_study_id", None) != study_id:
            return None
        return selected_trial_number(self.window)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.window, method)(*args)
        except HpstudioError as exc:
            self._error("hpstudio", str(exc))
            return None

    def _keep(self, dialog: QtWidgets.QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialogs.append(dialog)
        dialog.destroyed.connect(lambda *_: self._forget(dialog))
        dialog.show()

    def _forget(self, dialog: QtWidgets.QDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def _error(self, title: str, text: str) -> None:
        """Through the window's own reporting when it has one (log, status bar, and a box
        only when a person is at the window), else a warning box."""
        show_error = getattr(self.window, "show_error", None)
        if callable(show_error):
            show_error(title, text, warning=True)
        else:
            QtWidgets.QMessageBox.warning(self.window, title, text)


def selected_trial_number(window: Any) -> int | None:
    """The trial number of the first row selected in ``window.trial_view``, if any."""
    view = getattr(window, "trial_view", None)
    selection = view.selectionModel() if view is not None else None
    if selection is None or not selection.selectedRows():
        return None
    index = min(selection.selectedRows(), key=lambda i: i.row())
    model = view.model()
    while isinstance(model, QtCore.QAbstractProxyModel):
        index = model.mapToSource(index)
        model = model.sourceModel()
    row = index.row()
    for name in ("trial_number", "number_at", "trial_number_at"):
        getter = getattr(model, name, None)
        if callable(getter):
            return int(getter(row))
    for name in ("trial_at", "trial", "record"):
        getter = getattr(model, name, None)
        if callable(getter):
            return int(getter(row).number)
    return None


class RefineDialog(QtWidgets.QDialog):
    """Shows how refining narrows each range (old → new) and why, before loading the spec."""

    def __init__(self, spec: StudySpec, trials: Sequence[TrialRecord],
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refineDialog")
        self.setWindowTitle(f"Refine {spec.name!r}")
        self.base_spec = spec
        self.trials = list(trials)

        self.fraction_spin = QtWidgets.QSpinBox(self)
        self.fraction_spin.setRange(1, 100)
        self.fraction_spin.setSuffix(" %")
        self.fraction_spin.setValue(round(DEFAULT_FRACTION * 100))
        self.min_top_spin = QtWidgets.QSpinBox(self)
        self.min_top_spin.setRange(1, 1000)
        self.min_top_spin.setValue(DEFAULT_MIN_TOP)
        self.margin_spin = QtWidgets.QSpinBox(self)
        self.margin_spin.setRange(0, 100)
        self.margin_spin.setSuffix(" %")
        self.margin_spin.setValue(round(DEFAULT_MARGIN * 100))
        self.name_edit = QtWidgets.QLineEdit(self)
        form = QtWidgets.QFormLayout()
        form.addRow("Keep the top", self.fraction_spin)
        form.addRow("but at least (trials)", self.min_top_spin)
        form.addRow("Widen each range by", self.margin_spin)
        form.addRow("New study name", self.name_edit)

        self.explanation = QtWidgets.QLabel(self)
        self.explanation.setObjectName("refineExplanation")
        self.explanation.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, 4, self)
        self.table.setObjectName("refineTable")
        self.table.setHorizontalHeaderLabels(["Sub-space", "Hyperparameter", "Was", "Becomes"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText(
            "Load into editor")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.explanation)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self.resize(620, 460)

        self.refinement: Refinement = self._compute()
        self.name_edit.setText(self.refinement.spec.name)
        self._show()
        for spin in (self.fraction_spin, self.min_top_spin, self.margin_spin):
            spin.valueChanged.connect(self._recompute)

    def _compute(self) -> Refinement:
        return refine_spec(self.base_spec, self.trials,
                           fraction=self.fraction_spin.value() / 100,
                           min_top=self.min_top_spin.value(),
                           margin=self.margin_spin.value() / 100)

    def _recompute(self) -> None:
        self.refinement = self._compute()
        self._show()

    def _show(self) -> None:
        refinement = self.refinement
        self.explanation.setText(refinement.explanation)
        self.table.setRowCount(len(refinement.changes))
        for row, change in enumerate(refinement.changes):
            cells = (str(change.subspace + 1), change.name, change.old_text, change.new_text)
            for column, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if column == 3 and change.changed:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The old → new table as text, for checking what the dialog shows."""
        return [tuple(self.table.item(r, c).text() for c in range(4))  # type: ignore[misc]
                for r in range(self.table.rowCount())]

    def accept(self) -> None:
        name = self.name_edit.text().strip()
        if name:
            self.refinement = _with_spec(self.refinement, self.refinement.spec.with_name(name))
        super().accept()


def _with_spec(refinement: Refinement, spec: StudySpec) -> Refinement:
    from dataclasses import replace

    return replace(refinement, spec=spec)


def _set_icon(action: QtGui.QAction, name: str) -> None:
    try:
        from hpstudio.gui.resources import toolbar_icon

        action.setIcon(toolbar_icon(name))
    except Exception:  # an icon is decoration; a missing one must not stop the window
        pass


def _insert_before_quit(menu: QtWidgets.QMenu, action: QtGui.QAction) -> None:
    """Put the action above Quit/Exit (and its separator) when the menu has one."""
    actions = menu.actions()
    for index, existing in enumerate(actions):
        if existing.text().replace("&", "").casefold().startswith(("quit", "exit")):
            before = actions[index - 1] if index and actions[index - 1].isSeparator() else existing
            menu.insertAction(before, action)
            return
    menu.addAction(action)

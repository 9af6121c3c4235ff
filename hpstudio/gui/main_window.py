"""The main window: the study editor, the trial table and details, plots, log and controls.

The window composes widgets and routes signals; it owns no study logic. A run happens in
``QtStudyRunner`` (a QThread over the core loop), stored studies are read through the
core's ``HistoryStore``, and every user error arrives as an ``HpstudioError`` whose message
is shown as it is: in a message box when a person is at the window, on stderr when the
window runs unattended (``--run --screenshot``).

Public API used by the history features, the app entry point and the tests:
attributes ``editor``, ``plots``, ``answers``, ``trial_model``, ``trial_proxy``, ``trial_view``,
``details``, ``log_panel``, ``runner`` (None when idle), ``db_path``, ``current_study_id``;
methods ``open_spec``, ``load_spec``, ``new_spec``, ``save_spec_as``, ``show_study``,
``start_study``, ``resume_study``, ``pause_study``, ``resume_paused``, ``toggle_pause``,
``stop_study``, ``set_db_path``, ``select_plot_tab``, ``set_allowed_packages``,
``allow_packages_for_session``; signals ``studyStored(int)`` (a run ended and its
study is final in SQLite) and ``runEnded()`` (the runner thread is gone).
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
    QWhatsThis,
    QWidget,
)

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import StudyStatus, TrialState
from hpstudio.core.spec import DataSpec, EstimatorSpec, StudySpec
from hpstudio.core.storage import default_db_path
from hpstudio.gui.models import COL_NUMBER, TrialFilterProxy, TrialTableModel
from hpstudio.gui.runner import QtStudyRunner, RunClock, RunRequest, RunResult
from hpstudio.gui.session import StudySession
from hpstudio.gui.widgets.editor import StudyEditor
from hpstudio.gui.widgets.log_panel import LogPanel
from hpstudio.gui.widgets.trial_details import TrialDetails

if TYPE_CHECKING:  # imported for real in finish_setup, after the window is shown
    from hpstudio.gui.plots.panel import PlotsPanel
    from hpstudio.gui.widgets.answers import AnswersPanel

__all__ = ["MainWindow", "about_text", "app_settings", "library_versions"]

SPEC_FILTER = "Study spec (*.toml *.json);;All files (*)"
HISTORY_FILTER = "hpstudio history (*.db *.sqlite *.sqlite3 *.hpstudio);;All files (*)"
SETTINGS_DIR_ENV = "HPSTUDIO_SETTINGS_DIR"
MAX_RECENT = 8
ALLOWED_PACKAGES_KEY = "security/allowed_packages"
#: Shortcuts of actions that the history features install without one.
_HISTORY_SHORTCUTS = {"actionCompareStudies": "Ctrl+Shift+C", "actionRefine": "Ctrl+R"}
_DOCK_SHORTCUTS = {"editorDock": "Ctrl+1", "plotsDock": "Ctrl+2", "logDock": "Ctrl+3"}
_PAUSE_TIP = "Finish the folds in flight and start no new ones (F6 again resumes)"
_CONTINUE_TIP = "Carry on with the paused study"
_STOP_TIP = "Stop the study: queued folds are dropped, running ones finish and are saved"
_STOP_NOW_TIP = "Stop now: drop the folds still running (their work is lost) and end the study"
_RESUMABLE = frozenset({StudyStatus.STOPPED, StudyStatus.INTERRUPTED, StudyStatus.FAILED})
_CLOCK_MS = 1000
_WIDE_TOOLBAR = 1300  # window width from which toolbar buttons show their names


def app_settings() -> QSettings:
    """Window geometry, dock layout and recent files (never study data).

    ``HPSTUDIO_SETTINGS_DIR`` points them at another folder (tests, benchmarks, portable
    installs); otherwise Qt's per-user location for organisation and application "hpstudio".
    """
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        return QSettings(str(Path(folder) / "hpstudio.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "hpstudio",
                     "hpstudio")


def library_versions() -> dict[str, str]:
    """Versions shown in About, read from package metadata so nothing heavy is imported."""
    from importlib import metadata

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from hpstudio import __version__

    versions = {"hpstudio": __version__, "Python": platform.python_version(),
                "Qt": qVersion(), "PySide6": pyside_version}
    for label, dist in (("scikit-learn", "scikit-learn"), ("scikit-optimize", "scikit-optimize"),
                        ("pyqtgraph", "pyqtgraph"), ("numpy", "numpy")):
        try:
            versions[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[label] = "not installed"
    return versions


def about_text() -> str:
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>"
                   for name, version in library_versions().items())
    return ("<h3>hpstudio</h3><p>Hyperparameter tuning studio for scikit-learn models: "
            "grid, random and Bayesian search with k-fold cross-validation, live plots "
            "and a local SQLite history.</p>"
            f"<table>{rows}</table>")


def new_study_spec() -> StudySpec:
    """A small, valid starting point: a decision tree on iris with the catalogue's space."""
    from hpstudio.core.estimators import CATALOGUE

    entry = next(e for e in CATALOGUE if e.name == "DecisionTreeClassifier")
    return StudySpec(name="untitled", data=DataSpec(builtin="iris"),
                     estimator=EstimatorSpec(entry.path, dict(entry.fixed)),
                     space=(dict(entry.space),))


class MainWindow(QMainWindow):
    """The hpstudio window; see the module docstring for its public API."""

    studyStored = Signal(int)
    runEnded = Signal()

    def __init__(self, db_path: str | Path | None = None, *, interactive: bool = True,
                 defer_plots: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("hpstudio[*]")
        self.interactive = interactive
        self.db_path: Path = Path(db_path) if db_path is not None else default_db_path()
        self.current_study_id: int | None = None
        self.runner: QtStudyRunner | None = None
        self.allowed_packages: tuple[str, ...] = ()
        self.executor_factory: Any = None  # a callable returning an Executor (tests, benches)
        self.spec_path: Path | None = None
        self.last_error: str | None = None
        self.last_run: RunResult | None = None
        self.plots: PlotsPanel | None = None  # built by finish_setup
        self.answers: AnswersPanel | None = None  # built by finish_setup
        self.statistics: Any = None  # the Statistics dock's panel, built by finish_setup
        self._store: Any = None  # HistoryStore for reading, on the GUI thread, opened lazily
        self._viewing_stored = False
        self._resumable_id: int | None = None  # the shown study, if it was stopped or failed
        self._close_when_idle = False
        self._run = RunClock()
        self._setup_done = False
        self._columns_fitted = False
        self._follow = True  # keep the newest row in view while trials arrive
        self._layout_pending = False  # default dock sizes wait for the window to be shown
        self.session = StudySession(self)
        self.session.appended.connect(self._on_rows_added)

        self._build_central()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self._update_actions()
        if not defer_plots:
            self.finish_setup()

    # ----- construction -------------------------------------------------------------------
    def _build_central(self) -> None:
        self.trial_model = TrialTableModel(self, session=self.session)
        self.trial_proxy = TrialFilterProxy(self)
        self.trial_proxy.setSourceModel(self.trial_model)
        view = QTableView()
        view.setObjectName("trialTable")
        view.setModel(self.trial_proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setAlternatingRowColors(True)
        view.verticalHeader().setVisible(False)
        view.verticalHeader().setDefaultSectionSize(22)
        header = view.horizontalHeader()
        # Rows are in trial-number order until the user sorts by another column; a click
        # sorts scores best first (the model's InitialSortOrderRole), a third one clears
        # the sort and goes back to number order.
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(COL_NUMBER, Qt.SortOrder.AscendingOrder)
        header.setStretchLastSection(True)
        header.setDefaultSectionSize(90)
        for edge in (header, view.verticalHeader()):  # size columns from a sample of rows
            edge.setResizeContentsPrecision(64)
        view.setSortingEnabled(True)
        self.trial_view = view
        self.details = TrialDetails()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("centralSplitter")
        splitter.addWidget(view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 220])
        self.central_splitter = splitter
        self.setCentralWidget(splitter)

    def _build_docks(self) -> None:
        """Editor and plots share the wide left area as tabs (one edits, the other watches);
        the table and details take the centre; the log (and the studies) the bottom."""
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.editor = StudyEditor()
        # scrolled, so the editor's minimum size never forces the window past the screen
        editor_scroll = QScrollArea()
        editor_scroll.setObjectName("editorScroll")
        editor_scroll.setWidgetResizable(True)
        editor_scroll.setFrameShape(QFrame.Shape.NoFrame)
        editor_scroll.setWidget(self.editor)
        self.editor_dock = self._dock("editorDock", "Study", editor_scroll,
                                      Qt.DockWidgetArea.LeftDockWidgetArea)
        editor_scroll.viewport().installEventFilter(self)
        self._editor_viewport = editor_scroll.viewport()
        self._plots_placeholder = QLabel("Loading plots…")
        self._plots_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plots_dock = self._dock("plotsDock", "Plots", self._plots_placeholder,
                                     Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.editor_dock, self.plots_dock)
        self.editor_dock.raise_()
        self.log_panel = LogPanel()
        self.log_dock = self._dock("logDock", "Log", self.log_panel,
                                   Qt.DockWidgetArea.BottomDockWidgetArea)

    def _default_layout(self) -> None:
        """Dock sizes for a first start (later starts restore the user's own layout), in
        proportion to the window as it is shown: the editor and plots a little more than
        half the width, so the trial table keeps its score columns beside them, and the
        log and studies tall enough for several rows of studies."""
        if not self.isVisible():
            self._layout_pending = True  # sizes only mean something once the window is shown
            return
        self._layout_pending = False
        width, height = self.width(), self.height()
        share = 0.55 if width >= _WIDE_TOOLBAR else 0.62  # the editor's settings need ~620 px
        self.resizeDocks([self.editor_dock], [int(width * share)], Qt.Orientation.Horizontal)
        self.resizeDocks([self.log_dock], [max(130, int(height * 0.18))],
                         Qt.Orientation.Vertical)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._layout_pending:
            QTimer.singleShot(0, self._default_layout)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is getattr(self, "_editor_viewport", None) \
                and event.type() == QEvent.Type.Resize:
            # a dock too short for the editor in one column gets it as two tabs
            self.editor.set_compact(self._editor_viewport.height() < self.editor.tall_height())
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_toolbar()

    def _fit_toolbar(self) -> None:
        """Icons with their names on a wide window; icons alone (names in tooltips) on a
        laptop-sized one, so that no action drops off the end of the toolbar."""
        toolbar = getattr(self, "toolbar", None)
        if toolbar is None:
            return
        style = (Qt.ToolButtonStyle.ToolButtonTextBesideIcon if self.width() >= _WIDE_TOOLBAR
                 else Qt.ToolButtonStyle.ToolButtonIconOnly)
        if toolbar.toolButtonStyle() != style:
            toolbar.setToolButtonStyle(style)

    def _dock(self, name: str, title: str, widget: QWidget,
              area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        # These docks sit in tab groups whose tabs already name them (and can be dragged
        # out to float); a title bar would repeat the name and take a row of height.
        dock.setTitleBarWidget(QWidget(dock))
        self.addDockWidget(area, dock)
        return dock

    def _action(self, name: str, text: str, tip: str, slot: Any, *, icon: str | None = None,
                shortcut: QKeySequence | str | None = None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if icon is not None:
            _set_icon(action, icon)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        _set_tips(action, tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.new_action = self._action("actionNew", "&New study", "Start a new study spec",
                                       self.new_spec, icon="new", shortcut=std.New)
        self.open_action = self._action("actionOpenSpec", "&Open spec…",
                                        "Open a study spec (TOML or JSON)", self._ask_open_spec,
                                        icon="open", shortcut=std.Open)
        self.save_action = self._action("actionSaveSpec", "&Save spec as…",
                                        "Save the spec in the editor as TOML or JSON",
                                        self.save_spec_as, icon="save", shortcut=std.Save)
        self.edit_copy_action = self._action("actionEditCopy", "&Edit as new study",
                                             "Unlock the editor with this study's spec, to "
                                             "change it and run it as a new study",
                                             self.edit_as_new, shortcut="Ctrl+Shift+N")
        self.open_history_action = self._action("actionOpenHistory", "Open &history…",
                                                "Open another history file",
                                                self._ask_open_history, icon="history",
                                                shortcut="Ctrl+Shift+O")
        # Ctrl+Q rather than the platform's Quit key, which some desktops leave unbound
        self.quit_action = self._action("actionQuit", "&Quit", "Quit hpstudio", self.close,
                                        shortcut="Ctrl+Q")
        self.start_action = self._action("actionStart", "&Start",
                                         "Run the study in the editor as a new study",
                                         self.start_study, icon="start", shortcut="F5")
        # One key pauses and resumes: the action's text and icon say what it will do.
        self.pause_action = self._action("actionPause", "&Pause", _PAUSE_TIP,
                                         self.toggle_pause, icon="pause", shortcut="F6")
        self.resume_action = self._action("actionResume", "&Resume study",
                                          "Carry on with the stopped or interrupted study "
                                          "shown, from where it ended", self._resume_any,
                                          icon="start", shortcut="F7")
        self.stop_action = self._action("actionStop", "S&top", _STOP_TIP, self.stop_study,
                                        icon="stop", shortcut="Shift+F5")
        self.about_action = self._action("actionAbout", "&About hpstudio",
                                         "Versions of hpstudio and its libraries", self.about,
                                         shortcut="F1")
        self.whats_this_action = QWhatsThis.createAction(self)
        self.whats_this_action.setObjectName("actionWhatsThis")
        self.whats_this_action.setShortcut(QKeySequence("Shift+F1"))
        _set_tips(self.whats_this_action, "Click any field of the editor to have it explained")
        # The editor owns its undo history; the window only offers it in the Edit menu.
        self.undo_action = self.editor.undo_action
        self.redo_action = self.editor.redo_action
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.undo_action.setObjectName("actionUndo")
        self.redo_action.setObjectName("actionRedo")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setObjectName("menuFile")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = QMenu("Open &recent", file_menu)
        self.recent_menu.setObjectName("menuRecent")
        file_menu.addMenu(self.recent_menu)
        file_menu.addActions([self.save_action, self.edit_copy_action])
        file_menu.addSeparator()
        file_menu.addAction(self.open_history_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.setObjectName("menuEdit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addAction(self.editor.paste_grid_action)
        view_menu = bar.addMenu("&View")
        view_menu.setObjectName("menuView")
        for dock in (self.editor_dock, self.plots_dock, self.log_dock):
            toggle = dock.toggleViewAction()
            toggle.setShortcut(QKeySequence(_DOCK_SHORTCUTS[dock.objectName()]))
            _set_tips(toggle, f"Show or hide the {dock.windowTitle()} panel")
            view_menu.addAction(toggle)
        run_menu = bar.addMenu("&Run")
        run_menu.setObjectName("menuRun")
        run_menu.addActions([self.start_action, self.pause_action, self.resume_action,
                             self.stop_action])
        self.study_menu = bar.addMenu("&Study")  # filled by the history features
        self.study_menu.setObjectName("menuStudy")
        help_menu = bar.addMenu("&Help")
        help_menu.setObjectName("menuHelp")
        help_menu.addActions([self.whats_this_action, self.about_action])

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolBar")
        toolbar.addActions([self.start_action, self.pause_action, self.resume_action,
                            self.stop_action])
        toolbar.addSeparator()
        toolbar.addActions([self.new_action, self.open_action, self.save_action])
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        self._fit_toolbar()

    def _build_status_bar(self) -> None:
        self.progress = QProgressBar()
        self.progress.setObjectName("studyProgress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m")
        self.progress.setVisible(False)
        self.run_label = QLabel()
        self.run_label.setObjectName("runStatus")
        self.statusBar().addPermanentWidget(self.run_label)
        self.statusBar().addPermanentWidget(self.progress)
        self._clock = QTimer(self)
        self._clock.setInterval(_CLOCK_MS)
        self._clock.timeout.connect(self._update_run_label)

    def _connect(self) -> None:
        self.trial_view.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.editor.validityChanged.connect(self._on_validity)
        self.editor.specChanged.connect(self._on_spec_changed)
        self.editor.allowedPackagesChanged.connect(self._remember_allowed_packages)
        error_signal = getattr(self.editor, "errorOccurred", None)
        if error_signal is not None:  # data the editor cannot read (a bad CSV)
            error_signal.connect(lambda message: self.show_error("Cannot use the data", message,
                                                                 warning=True))

    def finish_setup(self) -> None:
        """Build the parts that import pyqtgraph (plots, history dock) and install them.

        ``run_app`` calls this just after the window is first shown, so the window appears
        without waiting for those imports; tests and other callers get it from ``__init__``.
        """
        if self._setup_done:
            return
        self._setup_done = True
        from hpstudio.gui.plots.panel import PlotsPanel

        plots = PlotsPanel(session=self.session)
        plots.trialClicked.connect(self._select_number)
        plots.filterChanged.connect(self._on_filter)
        self.plots = plots
        self.plots_dock.setWidget(plots)
        self._plots_placeholder.deleteLater()
        self._install_answers()
        self._install_statistics()
        from hpstudio.gui.history import install_history

        install_history(self)
        from hpstudio.gui.live_study import install_live_study

        install_live_study(self)  # the shown study grows while another process writes it
        self._complete_shortcuts()
        history_dock = getattr(getattr(self, "history", None), "dock", None)
        if isinstance(history_dock, QDockWidget):
            self.tabifyDockWidget(self.log_dock, history_dock)
            self.log_dock.raise_()
        if not self.study_menu.actions():
            self.study_menu.menuAction().setVisible(False)
        self._restore_state()

    def _install_answers(self) -> None:
        """The Answers dock: out-of-fold predictions of the best or selected trial, in a
        tab next to the plots (refitted in the background, only while it is shown)."""
        from PySide6.QtWidgets import QMenu

        from hpstudio.gui.widgets.answers import AnswersPanel

        self.answers = AnswersPanel(self.session, self._answers_spec,
                                    lambda: self.allowed_packages)
        self.answers_dock = self._dock("answersDock", "Answers", self.answers,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.plots_dock, self.answers_dock)
        self.answers_dock.visibilityChanged.connect(self.answers.set_on_screen)
        self.editor_dock.raise_()
        view_menu = self.menuBar().findChild(QMenu, "menuView")
        if view_menu is not None:
            toggle = self.answers_dock.toggleViewAction()
            toggle.setShortcut(QKeySequence("Ctrl+4"))
            view_menu.addAction(toggle)

    def _install_statistics(self) -> None:
        """The Statistics dock: is the best really better, and the nested CV estimate."""
        from hpstudio.gui.widgets.evaluation_panel import EvaluationPanel

        self.statistics = EvaluationPanel(self.session, self._statistics_source,
                                          lambda: self.allowed_packages)
        self.statistics_dock = self._dock("statisticsDock", "Statistics", self.statistics,
                                          Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.plots_dock, self.statistics_dock)
        self.statistics_dock.visibilityChanged.connect(self.statistics.set_on_screen)
        self.studyStored.connect(lambda _study_id: self.statistics.refresh())
        self.editor_dock.raise_()

    def _statistics_source(self) -> tuple[Any, int] | None:
        if self.current_study_id is None:
            return None
        from hpstudio.core.storage import HistoryStore

        return HistoryStore(self.db_path, transient=True), self.current_study_id

    def _answers_spec(self) -> tuple[StudySpec, str | None]:
        """The shown study's spec and stored data fingerprint, for its trials' answers: a
        stored study's own (one without a spec raises why), or the editor's before that."""
        if self.current_study_id is not None:
            row = self.history_store().get_study(self.current_study_id)
            return row.study_spec("refit its trials"), row.data_fingerprint
        return self.editor.spec(), None

    def _complete_shortcuts(self) -> None:
        """Every menu and toolbar action has a key: give one to those installed without."""
        for name, key in _HISTORY_SHORTCUTS.items():
            action = self.findChild(QAction, name)
            if action is not None and action.shortcut().isEmpty():
                action.setShortcut(QKeySequence(key))
                _set_tips(action, action.statusTip() or action.toolTip())

    # ----- specs ------------------------------------------------------------------------------
    def load_spec(self, spec: StudySpec) -> bool:
        """Put ``spec`` in the editor as a new, editable study (table and plots cleared)."""
        if self._busy("load another spec"):
            return False
        self.editor.set_spec(spec)
        self.editor.set_read_only(False)
        self._viewing_stored = False
        self.current_study_id = None
        self._resumable_id = None
        self._clear_results(spec)
        self._set_title(spec.name)
        self.setWindowModified(False)
        self.editor_dock.raise_()
        return True

    def new_spec(self) -> bool:
        self.spec_path = None
        return self.load_spec(new_study_spec())

    def open_spec(self, path: str | Path) -> bool:
        """Read a spec file into the editor; a bad file is explained, never raised."""
        path = Path(path)
        try:
            spec = StudySpec.from_file(path)
        except HpstudioError as exc:
            self.show_error("Cannot open the spec", str(exc))
            return False
        if not self.load_spec(spec):
            return False
        self.spec_path = path
        self._add_recent(path)
        self.log_panel.log(f"opened spec {path}")
        return True

    def save_spec_as(self, path: str | Path | None = None) -> bool:
        """Write the editor's spec as TOML (or JSON for a .json name)."""
        try:
            spec = self.editor.spec()
        except HpstudioError as exc:
            self.show_error("Cannot save the spec", str(exc))
            return False
        if path is None:
            start = str(self.spec_path or Path.cwd() / f"{spec.name}.toml")
            chosen, _ = QFileDialog.getSaveFileName(self, "Save spec as", start, SPEC_FILTER)
            if not chosen:
                return False
            path = chosen
        path = Path(path)
        try:
            _relocated(spec, path.resolve().parent).save(path)
        except OSError as exc:
            self.show_error("Cannot save the spec", f"cannot write {path}: {exc.strerror}")
            return False
        self.spec_path = path
        self._add_recent(path)
        self.setWindowModified(False)
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    def edit_as_new(self) -> None:
        """Unlock the editor on the shown study's spec; Start then runs it as a new study."""
        if self._busy("edit the spec"):
            return
        self.editor.set_read_only(False)
        self._viewing_stored = False
        self._update_actions()

    def set_allowed_packages(self, packages: Any) -> None:
        """Packages besides scikit-learn whose estimator classes a study may import."""
        self.allowed_packages = tuple(packages)
        setter = getattr(self.editor, "set_allowed_packages", None)
        if setter is not None:
            setter(self.allowed_packages)

    def allow_packages_for_session(self, packages: Any) -> None:
        """Allow ``packages`` too (``--allow-package``), without saving them in the settings."""
        added = [p for p in packages if p not in self.allowed_packages]
        self.set_allowed_packages((*self.allowed_packages, *added))

    def _remember_allowed_packages(self, packages: Any) -> None:
        """The user allowed packages in the editor: use them and keep them for next time."""
        self.allowed_packages = tuple(packages)
        settings = app_settings()
        settings.setValue(ALLOWED_PACKAGES_KEY, list(self.allowed_packages))
        settings.sync()
        if self.allowed_packages:
            self.log_panel.log(f"allowed packages: {', '.join(self.allowed_packages)} (their "
                               "code runs when a study uses them)", "warning")

    # ----- the history ---------------------------------------------------------------------
    def set_db_path(self, path: str | Path) -> bool:
        """Use another history file for reading and for the next runs; errors are shown."""
        if self._busy("switch the history file"):
            return False
        from hpstudio.core.storage import HistoryStore

        try:
            store = HistoryStore(Path(path), transient=True)
        except HpstudioError as exc:
            self.show_error("Cannot open the history", str(exc))
            return False
        if self._store is not None:
            self._store.close()
        self._store = store
        self.db_path = Path(path)
        self.current_study_id = None
        self._resumable_id = None
        self.log_panel.log(f"history: {self.db_path}")
        self._update_actions()
        return True

    def history_store(self) -> Any:
        """The GUI thread's read connection to the history (opened on first use)."""
        if self._store is None or Path(self._store.path) != self.db_path:
            from hpstudio.core.storage import HistoryStore

            if self._store is not None:
                self._store.close()
            self._store = HistoryStore(self.db_path, transient=True)
        return self._store

    def show_study(self, study_id: int) -> bool:
        """Reopen a stored study: its spec in the editor (read-only), its trials everywhere.

        The trials come as a trial table read as columns: the table view and the plots
        read its arrays, a record is decoded only for the row shown in the details, and the
        folds only when the timeline is drawn, so a 100,000-trial study opens in well under
        a second."""
        running = self.runner is not None
        if running and study_id != self.current_study_id and self._busy("open another study"):
            return False
        try:
            store = self.history_store()
            row = store.get_study(study_id)
            spec = row.study_spec("show it in the editor") if row.runnable else None
            log_params = _log_params(spec) if spec is not None else tuple(
                row.description.get("log_params", ()))
            table = store.open_trials(study_id, log_params)
        except HpstudioError as exc:
            self.show_error("Cannot open the study", str(exc))
            return False
        self.flush_trials()
        if spec is not None:
            self.editor.set_spec(spec)
        self.editor.set_read_only(True)
        self._viewing_stored = True
        self.current_study_id = study_id
        self._resumable_id = study_id if row.status in _RESUMABLE and row.runnable else None
        self.session.show(table, param_names=() if spec is None else spec.param_names,
                          metric=row.metric)
        self._fit_columns()
        self.details.show_trial(None)
        self.plots_dock.raise_()
        self._set_title(f"{row.name} (#{study_id})")
        self.setWindowModified(False)
        done = len(table)
        failed = done - table.count(TrialState.COMPLETE)
        self._show_progress(done, row.n_total, failed)
        reason = f" ({row.stop_reason})" if row.stop_reason else ""
        origin = "" if row.runnable else f", {row.origin.value}: shown read-only"
        self.statusBar().showMessage(
            f"study #{study_id} {row.name!r}: {row.status.value}{reason}, {done} trials{origin}",
            10000)
        self._update_actions()
        return True

    # ----- running ------------------------------------------------------------------------------
    def start_study(self) -> bool:
        """Run the editor's spec as a new study in the background."""
        if self._busy("start another study"):
            return False
        try:
            spec = self.editor.spec()
        except HpstudioError as exc:
            self.show_error("Cannot start the study", str(exc))
            return False
        from hpstudio.core.study import resumable_study  # the core loop, not at start-up

        try:
            earlier = resumable_study(self.history_store(), spec)
        except HpstudioError:
            earlier = None
        if earlier is not None:  # as `hpstudio run` does: go on instead of starting over
            self.log_panel.log(f"resuming study #{earlier} {spec.name!r}: it has this name and "
                               "spec and stopped before its end (give the study another name "
                               "to start afresh)")
            return self.resume_study(earlier)
        self.current_study_id = None
        self._resumable_id = None
        self._clear_results(spec)
        return self._launch(RunRequest(self.db_path, spec=spec, **self._run_options()))

    def resume_study(self, study_id: int) -> bool:
        """Carry on with a stopped or interrupted study from where it ended."""
        if self._busy("resume another study"):
            return False
        if not self.show_study(study_id):
            return False
        row = self.history_store().get_study(study_id)
        if row.status is StudyStatus.FINISHED:
            self.show_error("Nothing to resume", f"study #{study_id} {row.name!r} is already "
                            "finished; use Edit as new study to run it again", warning=True)
            return False
        return self._launch(RunRequest(self.db_path, study_id=study_id, **self._run_options()))

    def pause_study(self) -> None:
        if self.runner is not None and not self.runner.is_paused:
            self.runner.pause()
            self._run.pausing = True
            self.statusBar().showMessage("pausing: finishing the folds in flight…")
            self._update_actions()

    def resume_paused(self) -> None:
        if self.runner is not None:
            self.runner.resume()
            self._run.pausing = False
            self._update_actions()

    def toggle_pause(self) -> None:
        """Pause a running study, or resume a paused (or pausing) one: F6 does both."""
        if self.runner is None or self.runner.stop_requested:
            return
        if self.runner.is_paused or self._run.pausing:
            self.resume_paused()
        else:
            self.pause_study()

    def stop_study(self, reason: str = "stopped by user") -> None:
        """Stop: running folds finish and are saved. Asked again while stopping, it stops
        now: the folds in flight are dropped and their workers stopped."""
        if self.runner is None:
            return
        if self.runner.stop_requested:
            self.runner.stop(reason, now=True)
            self.statusBar().showMessage("stopping now: the folds in flight are dropped")
        else:
            self.runner.stop(reason)
            self.statusBar().showMessage("stopping: waiting for the folds in flight "
                                         "(Stop again to stop now)…")
        self._update_actions()

    def _resume_any(self) -> None:
        if self.runner is None and self._resumable_id is not None:
            self.resume_study(self._resumable_id)

    def _run_options(self) -> dict[str, Any]:
        cluster = self.editor.cluster_address()
        return {"n_jobs": None if cluster else self.editor.n_jobs(), "cluster": cluster,
                "allowed_packages": self.allowed_packages,
                "executor_factory": self.executor_factory}

    def _launch(self, request: RunRequest) -> bool:
        runner = QtStudyRunner(request, self)
        runner.started.connect(self._on_started)
        runner.trialFinished.connect(self._on_trial)
        runner.paused.connect(self._on_paused)
        runner.resumed.connect(self._on_resumed)
        runner.logged.connect(self._on_logged)
        runner.studyFinished.connect(self._on_study_finished)
        runner.failed.connect(self._on_failed)
        runner.ended.connect(self._on_ended)
        self.runner = runner
        self.last_error = None
        self._resumable_id = None
        self._run = RunClock()
        self.editor.set_read_only(True)
        what = f"resuming study #{request.study_id}" if request.study_id else "starting"
        self.statusBar().showMessage(f"{what}: loading the data…")
        self._update_actions()
        runner.start()
        return True

    # ----- runner signals (GUI thread) -------------------------------------------------------
    def _on_started(self, event: Any) -> None:
        self.current_study_id = event.study_id
        self._run.start(event)
        verb = "resumed" if event.resumed else "started"
        total = event.n_total if event.n_total is not None else "?"
        done = event.n_complete + event.n_failed
        self.log_panel.log(f"{verb} study #{event.study_id} {event.name!r}: {done}/{total} "
                           f"trials done, {event.n_workers} workers")
        self._set_title(f"{event.name} (#{event.study_id})")
        self._show_progress(done, event.n_total, event.n_failed)
        self._clock.start()
        self.plots_dock.raise_()
        self._columns_fitted = False
        self.statusBar().showMessage(f"{verb} study #{event.study_id}", 5000)
        self._update_actions()

    def _on_trial(self, event: Any) -> None:
        if not self.session.pending_count:  # where the view was before this batch arrives
            scrollbar = self.trial_view.verticalScrollBar()
            self._follow = scrollbar.value() >= scrollbar.maximum()
        self.session.add_trials([event.trial])
        self._run.trial(event)

    def flush_trials(self) -> None:
        """Show the trials that arrived since the last frame in the table and the plots."""
        self.session.flush()

    def _on_rows_added(self, first: int, count: int) -> None:
        """After the session appended rows (the table view and the plots have them)."""
        if not self._columns_fitted:
            self._columns_fitted = True
            # once the view has taken the new rows in: sized now, it would see none yet
            QTimer.singleShot(0, self._fit_columns)
        if self._follow:
            self.trial_view.scrollToBottom()
        last = self.session.table.record(first + count - 1)
        if not last.ok:
            self.statusBar().showMessage(f"trial {last.number} {last.state.value}: "
                                         f"{last.error or 'stopped early'}", 8000)
        self._update_run_label()

    def _on_paused(self) -> None:
        self._run.pause()
        self.flush_trials()
        self.statusBar().showMessage("paused: no folds running; Resume to carry on")
        self._update_actions()

    def _on_resumed(self) -> None:
        self._run.resume()
        self.statusBar().showMessage("resumed", 3000)
        self._update_actions()

    def _on_logged(self, message: str, level: str) -> None:
        self.log_panel.log(message, level)

    def _on_study_finished(self, event: Any) -> None:
        self.flush_trials()
        self._clock.stop()
        self._run.end(event)
        status = event.status.value
        reason = f" ({event.reason})" if event.reason else ""
        best = ""
        if event.best is not None:
            best = (f"; best {self.trial_model.metric} {event.best.mean_test_score:.6g} "
                    f"(trial {event.best.number})")
        level = {"finished": "success", "stopped": "warning"}.get(status, "error")
        running_time = self._run.excluding_pauses(event.elapsed)  # as the status bar counts
        self.log_panel.log(f"study #{event.study_id} {status}{reason}: {event.n_complete} "
                           f"complete, {event.n_failed} failed in {_duration(running_time)}"
                           f"{best}", level)
        self.statusBar().showMessage(f"study #{event.study_id} {status}{reason}")
        self._update_run_label()
        self._resumable_id = event.study_id if event.status in _RESUMABLE else None
        if event.best is not None and not self.trial_view.selectionModel().hasSelection():
            self._select_number(event.best.number)
        self.studyStored.emit(event.study_id)

    def _on_failed(self, message: str) -> None:
        self.show_error("The study failed", message)

    def _on_ended(self) -> None:
        self.flush_trials()
        self._clock.stop()
        runner, self.runner = self.runner, None
        if runner is not None:
            self.last_run = RunResult(runner.study_id, runner.outcome, runner.error,
                                      runner.input_error)
            runner.deleteLater()
        self.editor.set_read_only(self._viewing_stored)
        self._update_actions()
        self.runEnded.emit()
        if self._close_when_idle:
            self.close()

    # ----- selection and brushing ---------------------------------------------------------
    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        trial = self.trial_proxy.data(current, TrialTableModel.TrialRole) if current.isValid() \
            else None
        self.details.show_trial(trial)
        if self.plots is not None:
            self.plots.select_trial(None if trial is None else trial.number)
        if self.answers is not None:
            self.answers.show_trial(trial)  # None: the best trial

    def _select_number(self, number: int) -> None:
        """Select trial ``number`` in the table (a click in a plot)."""
        self.flush_trials()
        row = self.trial_model.row_of_number(number)
        if row is None:
            return
        index = self.trial_proxy.mapFromSource(self.trial_model.index(row, 0))
        if not index.isValid():  # filtered out by a brush: show its details anyway
            self.details.show_trial(self.trial_model.trial_at(row))
            return
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        self.trial_view.selectionModel().setCurrentIndex(index, flags)
        self.trial_view.scrollTo(index)

    def _on_filter(self, numbers: Any) -> None:
        self.trial_proxy.set_number_filter(numbers)
        shown = self.trial_proxy.rowCount()
        if numbers is not None:
            self.statusBar().showMessage(f"{shown} of {self.trial_model.rowCount()} trials "
                                         "pass the plot's brushes", 5000)

    def select_plot_tab(self, name: str) -> bool:
        """Show plot tab ``name`` (history, slices, parallel, ...) or the Answers dock
        ("answers"); unknown names explained."""
        if self.plots is None:
            self.finish_setup()
        if name.strip().lower() == "answers" and self.answers is not None:
            self.answers_dock.raise_()
            return True
        if name.strip().lower() == "statistics" and self.statistics is not None:
            self.statistics_dock.raise_()
            return True
        try:
            self.plots.show_plot(name.strip().lower())
        except KeyError:
            tabs = ", ".join([*getattr(self.plots, "plots", {}), "answers", "statistics"])
            self.show_error("Unknown plot", f"no plot tab {name!r}; choose one of {tabs}",
                            warning=True)
            return False
        return True

    # ----- editor -------------------------------------------------------------------------
    def _on_validity(self, valid: bool, reason: str) -> None:
        self._update_actions()
        if not valid and reason:
            self.statusBar().showMessage(reason, 8000)

    def _on_spec_changed(self) -> None:
        if not self._viewing_stored and self.runner is None:
            self.setWindowModified(True)

    # ----- messages --------------------------------------------------------------------------
    def show_error(self, title: str, message: str, *, warning: bool = False) -> None:
        """Tell the user what went wrong: a message box, or stderr when unattended."""
        self.last_error = message
        self.log_panel.log(f"{title}: {message}", "warning" if warning else "error")
        self.statusBar().showMessage(message, 10000)
        if not self.interactive:
            print(f"hpstudio: {'warning' if warning else 'error'}: {message}", file=sys.stderr)
        elif warning:
            QMessageBox.warning(self, title, message)
        else:
            QMessageBox.critical(self, title, message)

    def about(self) -> None:
        QMessageBox.about(self, "About hpstudio", about_text())

    def _busy(self, what: str) -> bool:
        """True (and say so) when a run is in progress and ``what`` must wait for it."""
        if self.runner is None:
            return False
        self.show_error("A study is running", f"stop the running study before you {what}",
                        warning=True)
        return True

    # ----- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner is not None and self.runner.is_running:
            event.ignore()
            if self._close_when_idle:
                return  # already stopping; the window closes when the run has ended
            if self.interactive:
                answer = QMessageBox.question(
                    self, "Stop the running study?",
                    "A study is running. Stop it and quit?\n\nFolds in flight finish and are "
                    "saved; the study can be resumed later from the history.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No)
                if answer != QMessageBox.StandardButton.Yes:
                    return
            self._close_when_idle = True
            self.stop_study("window closed")
            return
        self._save_settings()
        if self.plots is not None and hasattr(self.plots, "shutdown"):
            self.plots.shutdown()
        if self._store is not None:
            self._store.close()
            self._store = None
        event.accept()

    def request_quit(self, reason: str = "interrupted") -> None:
        """Close without asking (Ctrl+C in the terminal): stop a run, close once it ended."""
        if self.runner is not None and self.runner.is_running:
            self._close_when_idle = True
            self.stop_study(reason)
        else:
            self.close()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop a run and wait (bounded) for its thread; for quitting the application."""
        if self.runner is None:
            return True
        self.runner.stop("application quit")
        return self.runner.wait(timeout_ms)

    # ----- settings ------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = app_settings()
        geometry = settings.value("window/geometry")
        if not (isinstance(geometry, QByteArray | bytes) and self.restoreGeometry(geometry)):
            self.resize(1440, 900)
        self._default_layout()
        self._rebuild_recent()
        stored = settings.value(ALLOWED_PACKAGES_KEY, [])
        stored = [stored] if isinstance(stored, str) else list(stored or [])
        if stored:
            self.set_allowed_packages(str(p) for p in stored)

    def _restore_state(self) -> None:
        """The user's dock layout, or the default one (again, now that every dock exists)."""
        state = app_settings().value("window/state")
        if not (isinstance(state, QByteArray | bytes) and self.restoreState(state)):
            self._default_layout()

    def _save_settings(self) -> None:
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.sync()

    def recent_files(self) -> list[str]:
        value = app_settings().value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        text = str(path.resolve())
        files = [text, *[f for f in self.recent_files() if f != text]][:MAX_RECENT]
        settings = app_settings()
        settings.setValue("recent/files", files)
        settings.sync()
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for number, text in enumerate(files, start=1):
            action = self.recent_menu.addAction(text)
            action.setShortcut(QKeySequence(f"Ctrl+Alt+{number}"))
            action.triggered.connect(lambda _c=False, p=text: self.open_spec(p))
        self.recent_menu.setEnabled(bool(files))

    # ----- dialogs ---------------------------------------------------------------------------
    def _ask_open_spec(self) -> None:
        start = str(self.spec_path.parent) if self.spec_path else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Open spec", start, SPEC_FILTER)
        if path:
            self.open_spec(path)

    def ask_open_history(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open history", str(self.db_path.parent),
                                              HISTORY_FILTER)
        if path:
            self.set_db_path(path)

    def _ask_open_history(self) -> None:
        """The history features handle this action when installed (they also switch the
        studies browser); this is the window's own fallback."""
        if getattr(self, "history", None) is None:
            self.ask_open_history()

    # ----- helpers ------------------------------------------------------------------------
    def _clear_results(self, spec: StudySpec) -> None:
        from hpstudio.core.scoring import metric_keys, refit_key

        self.session.clear(param_names=spec.param_names, metric=spec.scoring.label,
                           log_params=_log_params(spec), metrics=metric_keys(spec.scoring),
                           refit=refit_key(spec.scoring))
        self.trial_proxy.set_number_filter(None)
        self._fit_columns()
        self.details.show_trial(None)
        self.progress.setVisible(False)
        self.run_label.clear()

    def _fit_columns(self) -> None:
        """Widen columns to their header and first rows (a bounded sample, not every row),
        and every column at least as wide as a six-digit score: the first trials of a run
        are few and short, and later ones would be elided ("139.…")."""
        view = self.trial_view
        view.resizeColumnsToContents()
        least = view.fontMetrics().horizontalAdvance("-0.000000") + 12
        for column in range(1, self.trial_model.columnCount()):
            if view.columnWidth(column) < least:
                view.setColumnWidth(column, least)

    def _set_title(self, name: str) -> None:
        self.setWindowTitle(f"{name}[*] — hpstudio")

    def _show_progress(self, done: int, total: int | None, failed: int) -> None:
        self.progress.setVisible(True)
        self.progress.setMaximum(max(total or 0, done, 1))
        self.progress.setValue(done)
        self.run_label.setText(f"{done} done · {failed} failed")

    def _update_run_label(self) -> None:
        clock = self._run
        if clock.event is None:
            return
        total = clock.total
        done = clock.done
        self.progress.setMaximum(max(total or 0, done, 1))
        self.progress.setValue(done)
        parts = [f"{done - clock.failed} complete", f"{clock.failed} failed",
                 f"elapsed {_duration(clock.elapsed())}"]
        eta = clock.eta()
        if eta is not None and self.runner is not None:
            parts.append(f"ETA {_duration(eta)}")
        self.run_label.setText(" · ".join(parts))

    def _update_actions(self) -> None:
        runner = self.runner
        running = runner is not None
        paused = running and runner.is_paused
        stopping = running and runner.stop_requested
        valid = bool(self.editor.is_valid())
        self.start_action.setEnabled(not running and valid)
        self.start_action.setVisible(not paused)
        self.pause_action.setEnabled(running and not stopping)
        holding = running and (paused or self._run.pausing)
        _set_icon(self.pause_action, "start" if holding else "pause")
        self.pause_action.setText("&Resume" if holding else "&Pause")
        _set_tips(self.pause_action, _CONTINUE_TIP if holding else _PAUSE_TIP)
        resumable = not running and self._resumable_id is not None
        self.resume_action.setEnabled(resumable)
        self.resume_action.setVisible(resumable)
        self.stop_action.setEnabled(running)
        self.stop_action.setText("Stop &now" if stopping else "S&top")
        _set_tips(self.stop_action, _STOP_NOW_TIP if stopping else _STOP_TIP)
        for action in (self.new_action, self.open_action, self.open_history_action):
            action.setEnabled(not running)
        self.edit_copy_action.setEnabled(not running and self._viewing_stored)


def _log_params(spec: StudySpec) -> set[str]:
    return {name for sub in spec.space for name, dim in sub.items() if getattr(dim, "log", False)}


def _relocated(spec: StudySpec, folder: Path) -> StudySpec:
    """The spec with a relative CSV path made absolute when saved into another folder."""
    data = spec.data
    if not data.csv or Path(data.csv).is_absolute():
        return spec
    if data.base_dir and Path(data.base_dir).resolve() == folder:
        return spec
    return replace(spec, data=replace(data, csv=str(data.csv_path().resolve()),
                                      base_dir=str(folder)))


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _set_tips(action: QAction, tip: str) -> None:
    """The tip in the status bar; the toolbar's tooltip also names the shortcut."""
    key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setStatusTip(tip)
    action.setToolTip(f"{tip} ({key})" if key else tip)


def _set_icon(action: QAction, name: str) -> None:
    try:
        from hpstudio.gui.resources import toolbar_icon

        action.setIcon(toolbar_icon(name))
    except Exception:  # an icon is decoration: a broken one must not stop the window
        pass

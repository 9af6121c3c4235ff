"""The study editor: data, estimator, search space and strategy composed into one spec.

The editor owns the cross-panel logic so each panel stays ignorant of the others: the
data's task filters estimators and metrics, a newly picked estimator starts from its
catalogue space (and one picked again finds the space the user left it with), the
strategy and folds drive the count line, and a probe fit (run by the core on a worker
thread, debounced) turns the count into a duration. Every edit is recorded on an undo
stack (``undo_stack``, with ``undo_action`` and ``redo_action``). The editor never fits or
reads files itself; it asks ``hpstudio.core`` through background jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import SpecError
from hpstudio.core.estimators import (
    catalogue_entry,
    default_params,
    is_classifier_class,
    resolve_estimator_class,
)
from hpstudio.core.feasibility import feasibility_problem
from hpstudio.core.pipeline import (
    ColumnPlan,
    PipelinePlan,
    is_object_value,
    needs_target,
    step_rows,
)
from hpstudio.core.probe import (
    PlannedWork,
    estimate_seconds,
    first_candidate,
    format_duration,
    planned_work,
)
from hpstudio.core.space import Values
from hpstudio.core.spec import (
    PASSTHROUGH,
    PREPROCESS_STEP,
    DataSpec,
    EstimatorSpec,
    StepSpec,
    StudySpec,
    check_evaluation,
)
from hpstudio.core.step_catalogue import step_entry
from hpstudio.gui.background import run_in_background
from hpstudio.gui.resources import INVALID_COLOR
from hpstudio.gui.widgets.data_panel import BUILTIN_TASKS, DataPanel
from hpstudio.gui.widgets.editor_undo import EditorState, SnapshotCommand, describe_change
from hpstudio.gui.widgets.estimator_picker import EstimatorPicker
from hpstudio.gui.widgets.message_line import MessageLine
from hpstudio.gui.widgets.paste_grid import install_paste_grid
from hpstudio.gui.widgets.pipeline_editor import (
    PipelineEditor,
    PipelineState,
    describe_preprocessing,
)
from hpstudio.gui.widgets.space_editor import SpaceEditor, SpaceState
from hpstudio.gui.widgets.strategy_panel import StrategyPanel

__all__ = ["EXPLOSION_CANDIDATES", "SUGGESTED_TRIALS", "StudyEditor"]

#: From this many grid candidates on, the editor suggests random or Bayesian search.
EXPLOSION_CANDIDATES = 10_000
#: The trial budget those suggestions use.
SUGGESTED_TRIALS = 60


@dataclass(frozen=True)
class _ClassInfo:
    """What the editor needs to know about an estimator class, found on a worker thread."""

    name: str
    params: dict[str, Any]
    classifier: bool
    needs_target: bool = True


_CLASS_INFO: dict[tuple[str, tuple[str, ...]], _ClassInfo | str] = {}  # str: the error
# The rows a pipeline adds to the search space (steps, preprocessing), by pipeline
_STEP_ROWS: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, str]]] = {}


class _Shown:
    """A default shown as text in the space editor (the estimator's own class, as a call)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _introspect(path: str, allowed: tuple[str, ...]) -> _ClassInfo:
    """Import the class (this is what imports scikit-learn) and read its parameters.

    It also builds scikit-learn's catalogue of estimators, which the space editor reads
    when a value is written as a call (``SVC()``): built there, on the GUI thread, the
    first such value froze the window for most of a second."""
    from hpstudio.core.paste import warm_catalogue

    cls = resolve_estimator_class(path, allowed)
    warm_catalogue()
    return _ClassInfo(cls.__name__, default_params(cls), is_classifier_class(cls),
                      needs_target(cls))


class StudyEditor(QWidget):
    """Edits a :class:`StudySpec`; ``spec()`` returns it, ``is_valid()`` says if it can run."""

    specChanged = Signal()
    validityChanged = Signal(bool, str)
    errorOccurred = Signal(str)  # data that cannot be read; the window may show a dialog
    allowedPackagesChanged = Signal(tuple)  # the user allowed other packages (a setting)

    def __init__(self, parent: QWidget | None = None, *, probe_delay_ms: int = 700) -> None:
        super().__init__(parent)
        self._allowed: tuple[str, ...] = ()
        self._read_only = False
        self._quiet = False
        self._space_owner: str | None = None  # the estimator whose space is shown
        self._spaces: dict[str, SpaceState] = {}  # the space each estimator was left with
        self.undo_stack = QUndoStack(self)
        self._undo_state: EditorState | None = None  # the state the last edit left
        self._undo_key: Any = None  # its draft key: an edit is a change of this
        self._restoring = False  # undo/redo or a load is putting a state back
        self._after_restore = False  # nothing was edited since the last undo/redo
        self._consequence = False  # a change that follows from the last edit (a load)
        self._validity: tuple[bool, str] | None = None
        self._snapshot: Any = None  # what specChanged last reported
        self._probe_cache: dict[tuple[Any, ...], float | str] = {}
        self._probe_running = False
        self._probe_pending = False
        self._work: PlannedWork | None = None
        self._rows_pending: set[tuple[Any, ...]] = set()  # pipeline rows being computed
        self._choices_pending: set[tuple[str, tuple[str, ...]]] = set()

        self.name_edit = QLineEdit("study")
        self.name_edit.setPlaceholderText("study name")
        self.data_panel = DataPanel()
        self.pipeline_editor = PipelineEditor()
        self.estimator_picker = EstimatorPicker()
        self.space_editor = SpaceEditor()
        self.strategy_panel = StrategyPanel()
        # A reserved line beside the name: a message appearing or clearing moves nothing.
        self.message_label = MessageLine(1)
        self.message_label.setStyleSheet(f"color: {INVALID_COLOR};")
        self.message_label.hide()
        self.undo_action = self._edit_action("Undo", "Undo the last edit of the study",
                                             _keys(QKeySequence.StandardKey.Undo), self.undo)
        self.redo_action = self._edit_action(
            "Redo", "Redo the edit just undone",
            _keys(QKeySequence.StandardKey.Redo, first="Ctrl+Shift+Z"), self.redo)
        self.undo_stack.indexChanged.connect(lambda _index: self._sync_undo_actions())
        self._probe_timer = QTimer(self)
        self._probe_timer.setSingleShot(True)
        self._probe_timer.setInterval(probe_delay_ms)
        self._probe_timer.timeout.connect(self._run_probe)
        self._build_layout()
        self.paste_grid_action = install_paste_grid(self)  # a param_grid pasted as Python
        self._connect()
        self.estimator_picker.set_task(self.data_panel.task())
        self.strategy_panel.set_task(self.data_panel.task())
        self._show_pipeline_data()
        self._refresh(probe=False)
        self._reset_undo()

    def _build_layout(self) -> None:
        """Data and estimator side by side on top, the space and the settings below.

        Two rows rather than three columns, so the editor still works in a dock of about
        700 px; the splitters let a wide window give the space table the room it needs.
        """
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(_group("Data", self.data_panel))
        top.addWidget(_group("Estimator", self.estimator_picker))
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.strategy_panel)
        scroll.setMinimumWidth(self.strategy_panel.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width())
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(_group("Search space", self.space_editor))
        bottom.addWidget(scroll)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 0)
        rows = QSplitter(Qt.Orientation.Vertical)
        rows.setChildrenCollapsible(False)
        scroll.setMinimumHeight(120)  # the settings scroll; the space table keeps its room
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Study name"))
        name_row.addWidget(self.name_edit, 2)
        name_row.addWidget(self.message_label, 3)
        self._pipeline_group = _group("Pipeline", self.pipeline_editor)
        self._top, self._bottom, self._rows = top, bottom, rows
        # Two arrangements of the same parts: everything in one column on a tall dock;
        # on a short one (a laptop screen) two tabs, "Data and model" and "Search", so the
        # search space is never below the fold.
        tall = QWidget()
        tall_layout = QVBoxLayout(tall)
        tall_layout.setContentsMargins(0, 0, 0, 0)
        self._tall_layout = tall_layout
        self._tabs = QTabWidget()
        self._tabs.setObjectName("editorTabs")
        model_page, search_page = QWidget(), QWidget()
        self._model_layout = QVBoxLayout(model_page)
        self._search_layout = QVBoxLayout(search_page)
        for page_layout in (self._model_layout, self._search_layout):
            page_layout.setContentsMargins(0, 4, 0, 0)
        self._tabs.addTab(model_page, "Data and model")
        self._tabs.addTab(search_page, "Search")
        self._arrangement = QStackedWidget()
        self._arrangement.addWidget(tall)
        self._arrangement.addWidget(self._tabs)
        self.compact = True  # set_compact(False) below builds the tall arrangement
        self.set_compact(False)
        layout = QVBoxLayout(self)
        layout.addLayout(name_row)
        layout.addWidget(self._arrangement, 1)

    def set_compact(self, compact: bool) -> None:
        """Tabs (``compact``) or one column: the main window picks by the room it has."""
        if compact == self.compact:
            return
        self.compact = compact
        if compact:
            self._model_layout.addWidget(self._pipeline_group)
            self._model_layout.addWidget(self._top, 1)
            self._search_layout.addWidget(self._bottom, 1)
            self._arrangement.setCurrentWidget(self._tabs)
        else:
            self._rows.addWidget(self._top)
            self._rows.addWidget(self._bottom)
            self._rows.setStretchFactor(0, 2)
            self._rows.setStretchFactor(1, 3)
            self._tall_layout.addWidget(self._pipeline_group)
            self._tall_layout.addWidget(self._rows, 1)
            self._arrangement.setCurrentIndex(0)

    def tall_height(self) -> int:
        """The height the one-column arrangement needs."""
        return (self._pipeline_group.minimumSizeHint().height()
                + self._top.minimumSizeHint().height()
                + self._bottom.minimumSizeHint().height()
                + self.name_edit.sizeHint().height() + 40)

    def _connect(self) -> None:
        self.name_edit.textChanged.connect(lambda _: self._refresh(probe=False))
        self.data_panel.dataChanged.connect(self._on_data_changed)
        self.pipeline_editor.pipelineChanged.connect(self._on_pipeline_changed)
        self.data_panel.datasetChanged.connect(self._on_dataset_changed)
        self.data_panel.errorOccurred.connect(self.errorOccurred)
        self.estimator_picker.estimatorChanged.connect(self._on_estimator_picked)
        self.estimator_picker.pathEntered.connect(self._check_entered_path)
        self.strategy_panel.allowedPackagesChanged.connect(self._on_allowed_edited)
        self.space_editor.spaceChanged.connect(self._refresh)
        self.space_editor.spaceChanged.connect(
            lambda: self.strategy_panel.metrics_picker.set_param_names(self._space_names()))
        # not an edit, but undo should bring the user back to the tab they were on
        self.space_editor.tabs.currentChanged.connect(lambda _index: self._record_edit())
        self.space_editor.randomRequested.connect(
            lambda: self.strategy_panel.set_strategy("random", SUGGESTED_TRIALS))
        self.space_editor.bayesRequested.connect(
            lambda: self.strategy_panel.set_strategy("bayes", SUGGESTED_TRIALS))
        self.strategy_panel.strategyChanged.connect(self.space_editor.set_strategy)
        self.strategy_panel.changed.connect(self._refresh)
        self.strategy_panel.runSettingsChanged.connect(self._update_estimate)

    def _space_names(self) -> list[str]:
        try:
            return list(dict.fromkeys(n for sub in self.space_editor.space() for n in sub))
        except SpecError:
            return []

    # ----- public API -------------------------------------------------------------------------
    def set_spec(self, spec: StudySpec) -> None:
        """Show ``spec`` and return at once: data and estimator parameters load off-thread.

        A new document: the undo history and the spaces kept per estimator start afresh.
        """
        self._quiet = True
        self._spaces.clear()
        self._space_owner = spec.estimator.cls
        try:
            self.name_edit.setText(spec.name)
            task = BUILTIN_TASKS.get(spec.data.builtin) if spec.data.builtin else None
            self.strategy_panel.set_task(task)
            self.estimator_picker.set_task(task)
            self.strategy_panel.set_search(spec.search)
            self.strategy_panel.set_cv(spec.cv)
            self.strategy_panel.set_scoring(spec.scoring)
            self.space_editor.set_strategy(spec.search.strategy)
            self.estimator_picker.set_estimator(spec.estimator.cls)
            self.pipeline_editor.set_state(PipelineState.of(spec.steps, spec.estimator.name))
            self.pipeline_editor.set_model(spec.estimator.cls)
            self.data_panel.set_data_spec(spec.data)
            self._show_pipeline_data()
            info = self._class_info(spec.estimator.cls)
            known = info if isinstance(info, _ClassInfo) else None
            self.space_editor.set_space(
                spec.space, spec.estimator.fixed, catalogue_entry(spec.estimator.cls),
                self._parameters_of(spec.estimator.cls, known),
                known.name if known else spec.estimator.short_name)
            self.strategy_panel.metrics_picker.set_param_names(spec.param_names)
        finally:
            self._quiet = False
        self._resolve_estimator(spec.estimator.cls)
        self._restoring = True
        try:
            self._refresh()
        finally:
            self._restoring = False
        self._reset_undo()

    def spec(self) -> StudySpec:
        """The spec as edited; raises SpecError naming the first problem when it is malformed."""
        path = self.estimator_picker.current_path()
        if not path:
            raise SpecError("estimator.class: pick an estimator")
        info = self._class_info(path)
        if isinstance(info, str):
            raise SpecError(info)
        steps = self.pipeline_editor.steps()
        spec = StudySpec(
            name=self.name_edit.text().strip() or "study",
            data=self.data_panel.data_spec(),
            estimator=EstimatorSpec(path, self.space_editor.fixed_params(),
                                    self.pipeline_editor.estimator_name()),
            space=self.space_editor.space(),
            cv=self.strategy_panel.cv(),
            scoring=self.strategy_panel.scoring(),
            search=self.strategy_panel.search(),
            steps=steps,
        )
        check_evaluation(spec)
        return spec

    def is_valid(self) -> bool:
        return self._validity is not None and self._validity[0]

    def validation_message(self) -> str:
        """Why the study cannot start ("" when it can)."""
        return self._validity[1] if self._validity else ""

    def set_read_only(self, read_only: bool) -> None:
        """Lock editing (a study is running, or a stored one is shown); probing stops too."""
        self._read_only = read_only
        self.name_edit.setReadOnly(read_only)
        for panel in (self.data_panel, self.pipeline_editor, self.estimator_picker,
                      self.space_editor, self.strategy_panel):
            panel.set_read_only(read_only)
        if read_only:
            self._probe_timer.stop()
        self._sync_undo_actions()
        self._refresh()

    def is_read_only(self) -> bool:
        return self._read_only

    def n_jobs(self) -> int:
        return self.strategy_panel.n_jobs()

    def cluster_address(self) -> str | None:
        return self.strategy_panel.cluster_address()

    def set_allowed_packages(self, packages: Iterable[str]) -> None:
        """Packages besides scikit-learn whose estimator classes may be imported."""
        self._allowed = tuple(packages)
        if self.strategy_panel.allowed_packages() != self._allowed:
            self.strategy_panel.set_allowed_packages(self._allowed)
        path = self.estimator_picker.current_path()
        if path:
            self._resolve_estimator(path)
        entered = self.estimator_picker.entered_path()
        if entered:  # a class refused for its package may import now
            self._check_entered_path(entered)

    def allowed_packages(self) -> tuple[str, ...]:
        return self._allowed

    # ----- undo and redo ----------------------------------------------------------------------
    def undo(self) -> None:
        if not self._read_only:
            self.undo_stack.undo()

    def redo(self) -> None:
        if not self._read_only:
            self.undo_stack.redo()

    def probe_seconds(self) -> float | None:
        """Seconds of the last probe fit for the current spec, if one has finished."""
        key = self._probe_key()
        value = self._probe_cache.get(key) if key else None
        return value if isinstance(value, float) else None

    # ----- reactions --------------------------------------------------------------------------
    def _on_dataset_changed(self) -> None:
        """A load finished: what it changes (a metric that no longer fits the task, a target
        chosen for the user) belongs to the edit that started the load."""
        self._consequence = True
        try:
            task = self.data_panel.task()
            if task is not None:
                self.estimator_picker.set_task(task)
                self.strategy_panel.set_task(task)
            self._show_pipeline_data()
            self._apply_parameters()
            self._refresh()
        finally:
            self._consequence = False

    def _on_data_changed(self) -> None:
        self._show_pipeline_data()
        self._refresh(probe=False)

    def _on_pipeline_changed(self) -> None:
        self._apply_parameters()
        self._refresh()

    def _show_pipeline_data(self) -> None:
        """The pipeline row's first cards: the data and its preprocessing."""
        data = self.data_panel.source()
        if not data.csv or not data.preprocess:
            self.pipeline_editor.set_data(data.label, None)
            return
        columns = self._column_plan()
        assert columns is not None
        self.pipeline_editor.set_data(data.label, describe_preprocessing(
            len(columns.numeric), len(columns.categorical), len(columns.text))
            if self.data_panel.dataset() is not None else "columns")

    def _on_estimator_picked(self, path: str) -> None:
        """Keep the space of the estimator left; show the one picked as it was left, or
        its catalogue space the first time."""
        if self._space_owner is not None and self._space_owner != path:
            self._spaces[self._space_owner] = self.space_editor.snapshot()
        self.pipeline_editor.set_model(path)
        self._quiet = True
        try:
            self._show_space_of(path, self._spaces.get(path))
        finally:
            self._quiet = False
        self._resolve_estimator(path)
        self._refresh()

    def _show_space_of(self, path: str, state: SpaceState | None) -> None:
        info = self._class_info(path)
        known = info if isinstance(info, _ClassInfo) else None
        entry = catalogue_entry(path)
        params = self._parameters_of(path, known)
        name = known.name if known else path.rsplit(".", 1)[-1]
        if state is None:
            self.space_editor.reset_for_estimator(entry, params, name)
        else:
            self.space_editor.restore(state, entry, params, name)
        self._space_owner = path

    def _on_allowed_edited(self, packages: tuple[str, ...]) -> None:
        self.set_allowed_packages(packages)
        self.allowedPackagesChanged.emit(self._allowed)

    def _check_entered_path(self, path: str) -> None:
        """A typed class path becomes the estimator only once it imports."""
        key = (path, self._allowed)
        if key in _CLASS_INFO:
            self._entered_checked(path, _CLASS_INFO[key])
            return
        allowed = self._allowed
        run_in_background(self, lambda: _introspect(path, allowed),
                          lambda info, error: self._entered_resolved(key, info, error))

    def _entered_resolved(self, key: tuple[str, tuple[str, ...]], info: _ClassInfo | None,
                          error: BaseException | None) -> None:
        _CLASS_INFO[key] = _class_result(key[0], info, error)
        if key[1] == self._allowed:  # else a check with the new packages is under way
            self._entered_checked(key[0], _CLASS_INFO[key])

    def _entered_checked(self, path: str, info: _ClassInfo | str) -> None:
        if isinstance(info, str):
            self.estimator_picker.reject_entered(path, info)
        else:
            self.estimator_picker.accept_entered(path)

    # ----- estimator classes, resolved off the GUI thread -------------------------------------
    def _class_info(self, path: str) -> _ClassInfo | str | None:
        return _CLASS_INFO.get((path, self._allowed))

    def _resolve_estimator(self, path: str) -> None:
        key = (path, self._allowed)
        if key in _CLASS_INFO:
            self._apply_class_info(path, _CLASS_INFO[key])
            return
        allowed = self._allowed
        run_in_background(self, lambda: _introspect(path, allowed),
                          lambda info, error: self._class_resolved(key, info, error))

    def _class_resolved(self, key: tuple[str, tuple[str, ...]], info: _ClassInfo | None,
                        error: BaseException | None) -> None:
        result = _class_result(key[0], info, error)
        _CLASS_INFO[key] = result
        if key == (self.estimator_picker.current_path(), self._allowed):
            self._apply_class_info(key[0], result)
            self._refresh()

    def _apply_class_info(self, path: str, info: _ClassInfo | str) -> None:
        if isinstance(info, str):
            self.estimator_picker.set_resolution(path, info)
            return
        self.estimator_picker.set_resolution(path, None)
        self._apply_parameters()

    # ----- the pipeline's rows in the search space --------------------------------------------
    def _column_plan(self) -> ColumnPlan | None:
        """The preprocessing's columns (declared ones until the file is read); None: none."""
        data = self.data_panel.source()
        if not data.csv or not data.preprocess:
            return None
        dataset = self.data_panel.dataset()
        if dataset is not None:
            return ColumnPlan(tuple(dataset.numeric_columns), tuple(dataset.categorical_columns),
                              tuple(getattr(dataset, "text_columns", ())))
        return ColumnPlan(*(tuple(c for c, kind in data.columns.items() if kind == wanted)
                            for wanted in ("number", "category", "text")))

    def _rows_key(self, path: str) -> tuple[Any, ...]:
        state = self.pipeline_editor.state()
        try:
            steps = tuple((s.name, s.cls, repr(sorted(s.fixed.items())))
                          for s in self.pipeline_editor.steps())
        except SpecError:
            steps = tuple((r.name, r.cls, "") for r in state.steps)
        return (path, state.estimator_name, steps, self._column_plan(), self._allowed)

    def _parameters_of(self, path: str, info: _ClassInfo | None) -> dict[str, Any] | None:
        merged = self._merged_parameters(path, info) if info is not None else None
        return merged[0] if merged else (info.params if info else None)

    def _merged_parameters(self, path: str, info: _ClassInfo) -> tuple[
            dict[str, Any], dict[str, Any], tuple[str, ...], dict[str, str]] | None:
        """(rows with defaults, catalogue ranges, groups, step problems) of the whole
        pipeline; None while its steps are being introspected (a job is started)."""
        state = self.pipeline_editor.state()
        name = state.estimator_name
        model_row = {name: _Shown(f"{info.name}()")}
        prefill: dict[str, Any] = {name: Values(({"class": path},))}
        columns = self._column_plan()
        if not state.steps and columns is None:
            return {**info.params, **model_row}, prefill, (name,), {}
        key = self._rows_key(path)
        found = _STEP_ROWS.get(key)
        if found is None:
            self._start_rows_job(key)
            return None
        rows, problems = found
        try:
            fixed = {step.name: dict(step.fixed) for step in self.pipeline_editor.steps()}
        except SpecError:
            fixed = {}
        for row in state.steps:
            entry = step_entry(row.cls)
            if entry is not None:
                prefill.update({f"{row.name}__{p}": dim for p, dim in entry.space.items()})
            value: dict[str, Any] = {"class": row.cls}
            if fixed.get(row.name):
                value["fixed"] = fixed[row.name]
            prefill[row.name] = Values((PASSTHROUGH,) if row.cls == PASSTHROUGH else (value,))
        groups = ((PREPROCESS_STEP,) if columns is not None else ()) + tuple(
            r.name for r in state.steps) + (name,)
        rows = {k: v for k, v in rows.items() if k != name}
        return {**info.params, **rows, **model_row}, prefill, groups, problems

    def _start_rows_job(self, key: tuple[Any, ...]) -> None:
        if key in self._rows_pending:
            return
        self._rows_pending.add(key)
        path, name, _steps, columns, allowed = key
        try:
            steps = self.pipeline_editor.steps()
        except SpecError:  # a name or fixed text being typed: the classes still give rows
            steps = tuple(StepSpec(r.name, r.cls, {}) for r in self.pipeline_editor.state().steps)
        plan = PipelinePlan(StepSpec(name, path, {}), steps, columns, True)
        run_in_background(self, lambda: step_rows(plan, allowed),
                          lambda rows, error: self._rows_ready(key, rows, error))

    def _rows_ready(self, key: tuple[Any, ...], rows: Any, error: BaseException | None) -> None:
        self._rows_pending.discard(key)
        if error is not None:
            rows = ({}, {key[1]: f"the pipeline cannot be built: {error}"})
        if len(_STEP_ROWS) > 64:
            _STEP_ROWS.clear()
        _STEP_ROWS[key] = rows
        path = self.estimator_picker.current_path()
        if path and key == self._rows_key(path):
            self._apply_parameters()
            self._refresh(probe=False)

    def _update_choices(self) -> None:
        """A sub-space that chooses a step or the estimator offers the rows of the classes
        it chooses (introspected off-thread) instead of the pipeline's own."""
        for index in range(self.space_editor.subspace_count()):
            model = self.space_editor.model(index)
            choices: dict[str, dict[str, Any]] = {}
            for group in self.space_editor.groups():
                values = model.choice_values(group)
                paths = [v["class"] for v in values or () if is_object_value(v)]
                if not paths:
                    continue
                params: dict[str, Any] = {}
                for path in paths:
                    info = self._class_info(path)
                    if info is None:
                        self._resolve_choice(path)
                    elif isinstance(info, _ClassInfo):
                        params.update(info.params)
                choices[group] = params
            quiet, self._quiet = self._quiet, True
            try:
                model.set_choices(choices)
            finally:
                self._quiet = quiet

    def _resolve_choice(self, path: str) -> None:
        key = (path, self._allowed)
        if key in self._choices_pending:
            return
        self._choices_pending.add(key)
        allowed = self._allowed

        def done(info: _ClassInfo | None, error: BaseException | None) -> None:
            self._choices_pending.discard(key)
            _CLASS_INFO[key] = _class_result(path, info, error)
            self._refresh(probe=False)

        run_in_background(self, lambda: _introspect(path, allowed), done)

    def _apply_parameters(self) -> None:
        """Give the space editor the whole pipeline's rows, grouped by step."""
        path = self.estimator_picker.current_path()
        info = self._class_info(path) if path else None
        if not isinstance(info, _ClassInfo) or path is None:
            return
        merged = self._merged_parameters(path, info)
        if merged is None:
            return
        params, prefill, groups, problems = merged
        self.pipeline_editor.set_problems(problems)
        self.space_editor.set_groups(groups)
        self.space_editor.set_parameters(params, info.name, prefill)

    # ----- the undo record --------------------------------------------------------------------
    def _edit_action(self, text: str, tip: str, keys: list[QKeySequence],
                     slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.setEnabled(False)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _sync_undo_actions(self) -> None:
        stack = self.undo_stack
        if not (shiboken6.isValid(stack) and shiboken6.isValid(self.undo_action)):
            return  # the editor is being destroyed (the stack clears itself on the way)
        for action, word, can, text in (
                (self.undo_action, "Undo", stack.canUndo(), stack.undoText()),
                (self.redo_action, "Redo", stack.canRedo(), stack.redoText())):
            action.setEnabled(can and not self._read_only)
            action.setText(f"&{word} {text}" if can and text else f"&{word}")

    def _capture(self) -> EditorState:
        panel = self.strategy_panel
        return EditorState(self.name_edit.text(), self.data_panel.source(),
                           self.estimator_picker.current_path(), self.space_editor.snapshot(),
                           panel.search(), panel.cv(), panel.scoring(),
                           self.pipeline_editor.state())

    def _reset_undo(self) -> None:
        """Start a new history from what is shown now (a loaded spec)."""
        self.undo_stack.clear()
        self._undo_state = self._capture()
        self._undo_key = self._draft_state()
        self._after_restore = False
        self._sync_undo_actions()

    def _record_edit(self) -> None:
        """Push the edit that led here, if the spec's draft changed since the last record.

        Changes the user did not make (parameters or data arriving, a tab switched) only
        refresh the stored state. A change that follows from the last edit (a metric reset
        when the loaded data turns out to be of another task) is folded into that edit.
        """
        if self._undo_state is None:
            return
        state, key = self._capture(), self._draft_state()
        if key == self._undo_key or self._restoring or self._read_only:
            self._undo_state, self._undo_key = state, key
            return
        before = self._undo_state
        self._undo_state, self._undo_key = state, key
        stack = self.undo_stack
        if self._consequence:
            top = stack.command(stack.index() - 1) if stack.index() > 0 else None
            if (isinstance(top, SnapshotCommand) and stack.index() == stack.count()
                    and not self._after_restore):
                top.after = state
            return
        self._after_restore = False
        text, merge_key = describe_change(before, state)
        stack.push(SnapshotCommand(self._restore_state, before, state, text, merge_key))

    def _restore_state(self, state: EditorState) -> None:
        """Put ``state`` back in every panel (undo, redo)."""
        self._quiet = True
        self._restoring = True
        try:
            self.name_edit.setText(state.name)
            if (self.data_panel.source() != state.data
                    or self.data_panel.source().base_dir != state.data.base_dir):
                self.data_panel.set_data_spec(state.data)
            task = (BUILTIN_TASKS.get(state.data.builtin) if state.data.builtin
                    else self.data_panel.task())
            self.strategy_panel.set_task(task)
            self.estimator_picker.set_task(task)
            self.strategy_panel.set_search(state.search)
            self.strategy_panel.set_cv(state.cv)
            self.strategy_panel.set_scoring(state.scoring)
            self.space_editor.set_strategy(state.search.strategy)
            self.estimator_picker.set_estimator(state.estimator)
            self.pipeline_editor.set_state(state.pipeline or PipelineState())
            self.pipeline_editor.set_model(state.estimator)
            self._show_pipeline_data()
            if state.estimator:
                self._show_space_of(state.estimator, state.space)
            else:
                self.space_editor.restore(state.space)
                self._space_owner = None
        finally:
            self._quiet = False
        try:
            if state.estimator:
                self._resolve_estimator(state.estimator)
            self._refresh()
        finally:
            self._restoring = False
        self._after_restore = True

    # ----- validity, count and estimate -------------------------------------------------------
    def _refresh(self, probe: bool = True) -> None:
        if self._quiet:
            return
        self._update_choices()
        problems: list[str] = []
        spec: StudySpec | None = None
        try:
            spec = self.spec()
        except SpecError as exc:
            problems.append(str(exc))
        problems += self._runtime_problems()
        if spec is not None and not problems:
            problems += self._feasibility_problems(spec)
        self._update_count(spec)
        message = problems[0] if problems else ""
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))
        self._set_validity(not problems, message)
        snapshot = spec if spec is not None else self._draft_state()
        if snapshot != self._snapshot:  # background loads must not look like edits
            self._snapshot = snapshot
            self.specChanged.emit()
        self._record_edit()
        self._update_estimate()
        if probe and not self._read_only:
            self._probe_timer.start()

    def _draft_state(self) -> tuple[Any, ...]:
        """Everything the user can edit, for telling edits apart while the spec is invalid."""
        try:
            data: Any = self.data_panel.data_spec()
        except SpecError as exc:
            data = str(exc)
        panel = self.strategy_panel
        return (self.name_edit.text(), data, self.estimator_picker.current_path(),
                self.space_editor.state_key(), panel.search(), panel.cv(), panel.scoring(),
                self.pipeline_editor.state())

    def _runtime_problems(self) -> list[str]:
        """What makes a well-formed spec unable to run here: unreadable data, wrong task."""
        problems = []
        if self.data_panel.error():
            problems.append(self.data_panel.error() or "")
        path = self.estimator_picker.current_path()
        task = self.data_panel.task()
        entry = catalogue_entry(path) if path else None
        info = self._class_info(path) if path else None
        if entry is not None and task is not None and entry.task != task:
            problems.append(f"{entry.name} is a {entry.task} estimator but the data is a {task} "
                            f"task; pick a {task} estimator")
        elif isinstance(info, _ClassInfo) and info.classifier and task == "regression":
            problems.append(f"{info.name} is a classifier but the data is a regression task; "
                            "pick a regressor")
        problems += self.pipeline_editor.problems()
        data = self.data_panel.source()
        wants_target = info.needs_target if isinstance(info, _ClassInfo) else entry is not None
        if data.csv and data.target is None and wants_target and not self.data_panel.error():
            name = info.name if isinstance(info, _ClassInfo) else "the estimator"
            problems.append(f"data.target: choose the column {name} learns to predict: the "
                            "target, in the data panel")
        return problems

    def _feasibility_problems(self, spec: StudySpec) -> list[str]:
        """What the data makes impossible (more folds than rows, or than the members of a
        class): the run would refuse it, so Start says why first. Only once the data and
        the estimator's kind are known; nothing is imported on this thread."""
        dataset = self._split_dataset(spec)  # the groups column apart, as a run splits it
        info = self._class_info(spec.estimator.cls)
        if dataset is None or not isinstance(info, _ClassInfo):
            return []
        problem = feasibility_problem(spec, dataset, classifier=info.classifier)
        return [problem] if problem else []

    def _set_validity(self, valid: bool, message: str) -> None:
        if self._validity != (valid, message):
            self._validity = (valid, message)
            self.validityChanged.emit(valid, message)

    def _update_count(self, spec: StudySpec | None) -> None:
        self._work = None
        try:
            if spec is None:  # count the space even while data or estimator are missing
                spec = StudySpec("count", DataSpec(builtin="iris"), EstimatorSpec("count"),
                                 self.space_editor.space(), self.strategy_panel.cv(),
                                 search=self.strategy_panel.search())
            self._work = planned_work(spec, self._split_dataset(spec), self._allowed)
        except SpecError:
            self.space_editor.set_count("— fix the marked cells to count the fits")
            self.space_editor.show_explosion(None)
            return
        work = self._work
        self.space_editor.set_count(work.describe())
        if work.strategy == "grid" and work.trials >= EXPLOSION_CANDIDATES:
            self.space_editor.show_explosion(
                f"{work.trials:,} candidates is a lot for grid search: {work.fits:,} fits. "
                f"Random or Bayesian search often finds a comparable setting in "
                f"{SUGGESTED_TRIALS} trials.")
        else:
            self.space_editor.show_explosion(None)

    def _split_dataset(self, spec: StudySpec) -> Any:
        """The loaded data with the spec's groups column split off, for counting splits
        that depend on the data (None while it loads or when it lacks that column)."""
        dataset = self.data_panel.dataset()
        if dataset is None or spec.data.groups is None:
            return dataset
        from hpstudio.core.data import split_off_groups
        from hpstudio.core.errors import DataError

        try:
            return split_off_groups(dataset, spec.data.groups)
        except DataError:
            return None

    def _probe_key(self) -> tuple[Any, ...] | None:
        dataset = self.data_panel.dataset()
        if dataset is None or not self.is_valid():
            return None
        try:
            spec = self.spec()
        except SpecError:
            return None
        return (spec.estimator.cls, repr(sorted(spec.estimator.fixed.items())),
                repr(first_candidate(spec)), dataset, spec.cv, repr(spec.steps),
                spec.estimator.name, spec.data.groups)

    def _update_estimate(self) -> None:
        key = self._probe_key()
        result = self._probe_cache.get(key) if key else None
        if self._read_only or key is None or self._work is None:
            self.space_editor.set_estimate("")
        elif result is None:
            busy = self._probe_running or self._probe_timer.isActive()
            self.space_editor.set_estimate("estimating duration…" if busy else "")
        elif isinstance(result, str):
            self.space_editor.set_estimate(
                f"⚠ the first candidate fails to fit ({result.split(':', 1)[0]})",
                f"A trial fit of the first candidate failed, so every trial may fail:\n{result}")
        else:
            fits = self._work.fits
            cost = self._work.full_budget_fits  # halving's small budgets cost less
            cluster = self.cluster_address()
            if cluster:
                text = f"{_about(result * cost)} of fitting, shared by {cluster}"
            else:
                workers = self.n_jobs()
                total = estimate_seconds(result, cost, workers)
                text = (f"{_about(total)} on {workers} "
                        f"worker{'s' if workers != 1 else ''}")
            self.space_editor.set_estimate(
                text, f"one fit of the first candidate took {result:.3g} s; "
                      f"{fits:,} fits are planned")

    def _run_probe(self) -> None:
        if self._read_only:
            return
        if self._probe_running:
            self._probe_pending = True
            return
        key = self._probe_key()
        if key is None or key in self._probe_cache:
            self._update_estimate()
            return
        spec, dataset, allowed = self.spec(), self.data_panel.dataset(), self._allowed
        from hpstudio.core.probe import probe_fit_seconds

        self._probe_running = True
        self._update_estimate()
        run_in_background(self, lambda: probe_fit_seconds(spec, dataset, allowed),
                          lambda seconds, error: self._probe_done(key, seconds, error))

    def _probe_done(self, key: tuple[Any, ...], seconds: float | None,
                    error: BaseException | None) -> None:
        self._probe_running = False
        if len(self._probe_cache) > 256:  # one entry per edited first candidate: keep it small
            self._probe_cache.clear()
        self._probe_cache[key] = (float(seconds) if error is None and seconds is not None
                                  else f"{type(error).__name__}: {error}")
        self._update_estimate()
        if self._probe_pending:
            self._probe_pending = False
            self._probe_timer.start()


def _keys(standard: QKeySequence.StandardKey, first: str | None = None) -> list[QKeySequence]:
    """The platform's keys for ``standard``, after ``first``, each once (a key listed twice
    on one action would be refused as ambiguous)."""
    keys = [QKeySequence(first)] if first else []
    for key in QKeySequence.keyBindings(standard):
        if key not in keys:
            keys.append(key)
    return keys


def _class_result(path: str, info: _ClassInfo | None,
                  error: BaseException | None) -> _ClassInfo | str:
    if info is not None:
        return info
    if isinstance(error, SpecError):
        return str(error)
    return f"estimator.class: cannot use {path!r}: {error}"


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.addWidget(widget)
    return box


def _about(seconds: float) -> str:
    text = format_duration(seconds)
    return text if text.startswith("<") else f"≈ {text}"

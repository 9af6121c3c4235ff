"""The data panel: a bundled scikit-learn dataset or a CSV file, previewed and summarised.

A file's target is the user's choice (no column is guessed for them), and it is kept when
another file with the same column is opened. Each column can be typed number, category,
text or drop (the preview's header menu), and the built-in preprocessing turned off.

Reading a file or importing scikit-learn can take seconds, so every load runs on a worker
thread and reports back through a signal; the panel shows "loading…" meanwhile and never
blocks the window. Results of a superseded request (the user already picked something
else) are dropped by a generation counter rather than by cancelling the thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import HpstudioError, SpecError
from hpstudio.core.spec import BUILTIN_DATASETS, COLUMN_TYPES, DataSpec
from hpstudio.gui.background import run_in_background
from hpstudio.gui.resources import INVALID_COLOR
from hpstudio.gui.widgets.groups_picker import GroupsPicker

__all__ = ["BUILTIN_TASKS", "DataPanel", "PreviewModel"]

CLASSIFICATION = "classification"
REGRESSION = "regression"
#: Known without loading anything, so the metric list is right before a dataset arrives.
BUILTIN_TASKS = {name: REGRESSION if name == "diabetes" else CLASSIFICATION
                 for name in BUILTIN_DATASETS}
PREVIEW_ROWS = 20
NO_TARGET_TEXT = "— choose the target —"
_NO_TARGET_TASK = "no target"  # hpstudio.core.data.NO_TARGET, without importing the core data
_Index = QModelIndex | QPersistentModelIndex


# ----- the preview table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """The first rows of a table as text, with a type per column, ready for display."""

    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]  # None marks a missing value


def preview_from_frame(frame: Any) -> Preview:
    import pandas as pd

    types = tuple(_column_type(frame[c], pd) for c in frame.columns)
    rows = tuple(tuple(None if _is_missing(v) else _cell_text(v) for v in record)
                 for record in frame.itertuples(index=False, name=None))
    return Preview(tuple(str(c) for c in frame.columns), types, rows)


def _column_type(column: Any, pd: Any) -> str:
    api = pd.api.types
    if api.is_bool_dtype(column):
        return "boolean"
    if api.is_integer_dtype(column):
        return "integer"
    if api.is_float_dtype(column):
        return "number"
    if api.is_datetime64_any_dtype(column):
        return "date"
    return "text"


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class PreviewModel(QAbstractTableModel):
    """Read-only view of a :class:`Preview`; headers carry the column types."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._preview = Preview((), (), ())
        self._target: str | None = None
        self._roles: dict[str, str] | None = None  # column -> number | category | text | drop

    def set_preview(self, preview: Preview, target: str | None = None,
                    roles: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        self._preview, self._target, self._roles = preview, target, roles
        self.endResetModel()

    def role(self, column: str) -> str | None:
        """How a data file's column is used (None for a bundled dataset)."""
        if self._roles is None:
            return None
        if column in self._roles:
            return self._roles[column]
        kind = self._preview.types[self._preview.columns.index(column)]
        return "number" if kind in ("integer", "number") else "category"

    def set_target(self, target: str | None) -> None:
        self._target = target
        if self._preview.columns:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0,
                                        len(self._preview.columns) - 1)

    @property
    def preview(self) -> Preview:
        return self._preview

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._preview.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._preview.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._preview.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return "NaN" if value is None else value
        if role == Qt.ItemDataRole.ForegroundRole and (
                value is None or self.role(self._preview.columns[index.column()]) == "drop"):
            return QColor(140, 140, 140)
        if role == Qt.ItemDataRole.ToolTipRole and value is None:
            return "missing value"
        if role == Qt.ItemDataRole.TextAlignmentRole and self._preview.types[index.column()] in (
                "integer", "number"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        name, kind = self._preview.columns[section], self._preview.types[section]
        is_target = name == self._target
        used = self.role(name)
        if role == Qt.ItemDataRole.DisplayRole:
            shown = kind if used is None or is_target else used
            return f"{name}\n{shown}{' · target' if is_target else ''}"
        if role == Qt.ItemDataRole.ToolTipRole:
            missing = sum(row[section] is None for row in self._preview.rows)
            how = "" if used is None else (
                " Right-click to choose the target or type the column (number, category, "
                "text, drop).")
            return (f"{name}: {kind}; {missing} missing in the first {len(self._preview.rows)} "
                    f"rows.{how}")
        if role == Qt.ItemDataRole.ForegroundRole and used == "drop" and not is_target:
            return QColor(150, 150, 150)
        if role == Qt.ItemDataRole.FontRole and is_target:
            font = QFont()
            font.setBold(True)
            return font
        return None


# ----- loading jobs (run on worker threads) ---------------------------------------------------

_BUILTIN_CACHE: dict[str, tuple[Any, Preview]] = {}


def _load_builtin_job(name: str) -> tuple[Any, Preview]:
    import pandas as pd
    from sklearn import datasets

    from hpstudio.core.data import load_builtin

    dataset = load_builtin(name)
    names = getattr(datasets, f"load_{name}")().feature_names
    frame = pd.DataFrame(dataset.X[:PREVIEW_ROWS], columns=[str(n) for n in names])
    frame["target"] = dataset.y[:PREVIEW_ROWS]
    return dataset, preview_from_frame(frame)


@dataclass(frozen=True)
class _CsvResult:
    preview: Preview
    target: str | None
    dataset: Any
    error: str | None  # a problem with the target or the columns, after the file read fine


def _load_csv_job(path: Path, target: str | None, keep: str | None,
                  columns: dict[str, str], preprocess: bool) -> _CsvResult:
    """Read the file; ``target`` is asked for, ``keep`` is used when the file has it."""
    from hpstudio.core.data import load_csv, read_csv_preview
    from hpstudio.core.errors import DataError

    preview = preview_from_frame(read_csv_preview(path, rows=PREVIEW_ROWS))
    chosen = target if target is not None else (keep if keep in preview.columns else None)
    typed = {c: k for c, k in columns.items() if c in preview.columns and c != chosen}
    try:
        return _CsvResult(preview, chosen, load_csv(path, chosen, typed, preprocess), None)
    except DataError as exc:
        return _CsvResult(preview, chosen, None, str(exc))


# ----- the panel ------------------------------------------------------------------------------


class DataPanel(QWidget):
    """Choose the dataset; see its first rows, column types, task, size and classes."""

    dataChanged = Signal()  # the DataSpec changed (source or target)
    datasetChanged = Signal()  # a load finished or failed: dataset(), task(), error() changed
    errorOccurred = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._builtin: str | None = "iris"
        self._csv: str | None = None
        self._target: str | None = None
        self._columns: dict[str, str] = {}  # column types the user chose
        self._preprocess = True
        self._groups: str | None = None  # [data] groups: a column to split by
        self._base_dir: str | None = None
        self._stored: DataSpec | None = None  # data the Python API kept with the history
        self._dataset: Any = None
        self._task: str | None = BUILTIN_TASKS["iris"]
        self._error: str | None = None
        self._loading = False
        self._generation = 0
        self._updating = False
        self._read_only = False

        self.builtin_radio = QRadioButton("Bundled")
        self.builtin_combo = QComboBox()
        self.builtin_combo.addItems(list(BUILTIN_DATASETS))
        self.builtin_combo.setToolTip("Datasets that ship with scikit-learn")
        self.csv_radio = QRadioButton("CSV file")
        self.csv_edit = QLineEdit()
        self.csv_edit.setReadOnly(True)
        self.csv_edit.setPlaceholderText("no file chosen")
        self.browse_button = QPushButton("Browse…")
        self.target_combo = QComboBox()
        self.target_combo.setToolTip("The column to predict; every other column is a feature. "
                                     "Estimators without a target (density, clustering) need "
                                     "none")
        self.preprocess_check = QCheckBox("Preprocess columns")
        self.preprocess_check.setChecked(True)
        self.preprocess_check.setToolTip(
            "Inside each fold: impute and scale numbers, impute and one-hot categories, "
            "TF-IDF each text column (the pipeline's 'preprocess' step). Off: the columns "
            "(numbers only) go to the first step as they are")
        self.groups_picker = GroupsPicker()
        self.summary_label = QLabel()
        self.summary_label.setProperty("role", "hint")
        self.summary_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {INVALID_COLOR};")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.preview_model = PreviewModel(self)
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setAlternatingRowColors(True)
        self.preview.verticalHeader().setDefaultSectionSize(20)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview.horizontalHeader().setDefaultSectionSize(80)
        self.preview.setMinimumHeight(60)  # a header and a row: the space table comes first
        header = self.preview.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self._build_layout()

        self.builtin_radio.setChecked(True)
        self.builtin_radio.toggled.connect(self._on_source_toggled)
        self.builtin_combo.currentTextChanged.connect(self._on_builtin_picked)
        self.browse_button.clicked.connect(self.browse)
        self.target_combo.currentTextChanged.connect(self._on_target_picked)
        self.preprocess_check.toggled.connect(self._on_preprocess_toggled)
        self.groups_picker.picked.connect(self._on_groups_picked)
        self._sync_enabled()

    def _build_layout(self) -> None:
        source = QFormLayout()
        source.setContentsMargins(0, 0, 0, 0)
        source.addRow(self.builtin_radio, self.builtin_combo)
        csv_row = QHBoxLayout()
        csv_row.addWidget(self.csv_edit, 1)
        csv_row.addWidget(self.browse_button)
        source.addRow(self.csv_radio, csv_row)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_combo, 1)
        target_row.addWidget(self.preprocess_check)
        source.addRow("Target", target_row)
        source.addRow("Groups", self.groups_picker)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(source)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.preview, 1)

    # ----- public API -------------------------------------------------------------------------
    def data_spec(self) -> DataSpec:
        """The [data] section as chosen (a file's target may still be missing: estimators
        without one need none, and the editor says when one is needed)."""
        if self._stored is not None:
            return self._stored
        if self._builtin:
            return DataSpec(builtin=self._builtin)
        if not self._csv:
            raise SpecError("data.csv: choose a CSV file or a bundled dataset")
        return self.source()

    def source(self) -> DataSpec:
        """The choice as it stands, even while incomplete (a CSV whose target is not known
        yet): what the editor's undo puts back with :meth:`set_data_spec`."""
        if self._stored is not None:
            return self._stored
        if self._builtin:
            return DataSpec(builtin=self._builtin)
        return DataSpec(csv=self._csv, target=self._target, base_dir=self._base_dir,
                        columns=dict(self._columns), preprocess=self._preprocess,
                        groups=self._groups)

    def set_data_spec(self, spec: DataSpec) -> None:
        """Show ``spec`` and load it in the background (bundled sets come from a cache)."""
        self._base_dir = spec.base_dir
        self._groups = spec.groups
        self._stored = None
        if spec.stored:
            self._start_stored(spec)
        elif spec.builtin:
            self.set_builtin(spec.builtin)
        else:
            self._columns = dict(spec.columns)
            self._set_preprocess_box(spec.preprocess)
            self._start_csv(spec.csv or "", spec.target)

    def column_types(self) -> dict[str, str]:
        """The types the user gave columns (others are typed from the data)."""
        return dict(self._columns)

    def set_column_type(self, column: str, kind: str | None) -> None:
        """Type a file's column (number, category, text, drop); None: from the data again."""
        if kind is not None and kind not in COLUMN_TYPES:
            raise ValueError(f"unknown column type {kind!r}; use one of {COLUMN_TYPES}")
        if not self._csv or self._columns.get(column) == kind:
            return
        if kind is None:
            self._columns.pop(column, None)
        else:
            self._columns[column] = kind
        self._start_csv(self._csv, self._target)

    def set_preprocess(self, preprocess: bool) -> None:
        """Use the built-in preprocessing of the columns, or hand them on as they are."""
        changed = preprocess != self._preprocess
        self._set_preprocess_box(preprocess)
        if changed and self._csv and not self._builtin:
            self._start_csv(self._csv, self._target)

    def set_target(self, target: str | None) -> None:
        """Predict ``target`` (None: no target, for estimators that need none)."""
        if self._csv and target != self._target:
            self._columns.pop(target or "", None)
            self._start_csv(self._csv, target, keep=False)

    def set_builtin(self, name: str) -> None:
        if name not in BUILTIN_TASKS:
            raise ValueError(f"unknown bundled dataset {name!r}")
        self._builtin, self._csv, self._target, self._stored = name, None, None, None
        self._groups = None
        self._set_task(BUILTIN_TASKS[name])
        self._with_updating(lambda: (self.builtin_radio.setChecked(True),
                                     self.builtin_combo.setCurrentText(name),
                                     self.csv_edit.clear(), self.target_combo.clear(),
                                     self.groups_picker.set_columns((), None, None)))
        self._sync_enabled()
        self.dataChanged.emit()
        self._load_builtin(name)

    def choose_csv(self, path: str | Path, target: str | None = None) -> None:
        """Use the CSV at ``path`` (the file dialog ends here; tests call it directly).

        Without ``target`` the one chosen before is kept when this file has that column."""
        self._base_dir = None
        self._groups = None  # another file: its columns are not known yet
        self._start_csv(str(path), target, keep=True)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a data file", self._csv or "",
            "Data files (*.csv *.tsv *.tab *.txt *.parquet *.pq *.feather *.arrow *.xlsx *.xlsm "
            "*.xls);;All files (*)")
        if path:
            self.choose_csv(path)

    def dataset(self) -> Any:
        """The loaded :class:`~hpstudio.core.data.Dataset`, or None while loading / on error."""
        return self._dataset

    def task(self) -> str | None:
        """classification, regression, or None (unknown yet, or no target chosen)."""
        return self._task

    def error(self) -> str | None:
        return self._error

    def is_loading(self) -> bool:
        return self._loading

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for widget in (self.builtin_radio, self.builtin_combo, self.csv_radio,
                       self.browse_button, self.target_combo, self.preprocess_check,
                       self.groups_picker):
            widget.setEnabled(not read_only)
        if not read_only:
            self._sync_enabled()

    def showEvent(self, event: QShowEvent) -> None:
        """A panel shown before any spec was set still summarises its default dataset."""
        super().showEvent(event)
        if self._generation == 0 and self._builtin:
            self._load_builtin(self._builtin)

    # ----- loading ----------------------------------------------------------------------------
    def _start_stored(self, spec: DataSpec) -> None:
        """Data a study tuned from Python kept beside the history (``[data] stored``)."""
        from hpstudio.gui.widgets.stored_data import load_stored_job, stored_label

        self._builtin, self._csv, self._target, self._stored = None, None, None, spec
        self._set_task(None)
        self._with_updating(lambda: (self.csv_radio.setChecked(True),
                                     self.csv_edit.setText(stored_label(spec)),
                                     self.csv_edit.setToolTip(str(spec.stored_path())),
                                     self.target_combo.clear()))
        self._sync_enabled()
        self.dataChanged.emit()
        generation = self._begin_load()
        run_in_background(self, lambda: load_stored_job(spec, PREVIEW_ROWS),
                          lambda result, error: self._stored_loaded(generation, result, error))

    def _stored_loaded(self, generation: int, result: Any, error: BaseException | None) -> None:
        if generation != self._generation:
            return
        if result is None:
            self._finish(None, str(error))
            return
        dataset, frame = result
        self.preview_model.set_preview(preview_from_frame(frame), "target")
        self._set_task(dataset.task)
        self._finish(dataset, None)

    def _start_csv(self, csv: str, target: str | None, keep: bool = False) -> None:
        """Load ``csv`` with ``target``; ``keep``: without one, keep the last target if the
        file has that column."""
        kept = self._target if keep and target is None else None
        self._builtin, self._csv, self._target, self._stored = None, csv, target, None
        self._set_task(None)  # unknown until the file is read
        self._with_updating(lambda: (self.csv_radio.setChecked(True), self.csv_edit.setText(csv),
                                     self.csv_edit.setToolTip(csv)))
        self._sync_enabled()
        self.dataChanged.emit()
        path = DataSpec(csv=csv, base_dir=self._base_dir).csv_path()
        generation = self._begin_load()
        columns, preprocess = dict(self._columns), self._preprocess
        run_in_background(self, lambda: _load_csv_job(path, target, kept, columns, preprocess),
                          lambda result, error: self._csv_loaded(generation, result, error))

    def _load_builtin(self, name: str) -> None:
        generation = self._begin_load()
        if name in _BUILTIN_CACHE:
            self._builtin_loaded(generation, name, _BUILTIN_CACHE[name], None)
            return
        run_in_background(self, lambda: _load_builtin_job(name),
                          lambda result, error: self._builtin_loaded(generation, name, result,
                                                                     error))

    def _begin_load(self) -> int:
        self._generation += 1
        self._loading = True
        self._dataset = None
        self._show_error(None)
        self.summary_label.setText("loading…")
        return self._generation

    def _builtin_loaded(self, generation: int, name: str, result: Any,
                        error: BaseException | None) -> None:
        if generation != self._generation:
            return
        if error is not None:
            self._finish(None, f"cannot load the bundled dataset {name!r}: {error}")
            return
        _BUILTIN_CACHE[name] = result
        dataset, preview = result
        self.preview_model.set_preview(preview, "target")
        self._finish(dataset, None)

    def _csv_loaded(self, generation: int, result: _CsvResult | None,
                    error: BaseException | None) -> None:
        if generation != self._generation:
            return
        if result is None:
            self.preview_model.set_preview(Preview((), (), ()))
            self._with_updating(self.target_combo.clear)
            self._set_task(None)
            self._finish(None, _describe_csv_error(self._csv or "", error))
            return
        self._target = result.target
        self.preview_model.set_preview(result.preview, result.target, dict(self._columns))
        self._fill_targets(result.preview.columns, result.target)
        task = result.dataset.task if result.dataset is not None else None
        self._set_task(None if task == _NO_TARGET_TASK else task)
        self._finish(result.dataset, result.error)
        self.dataChanged.emit()  # the target may have been chosen for the user

    def _finish(self, dataset: Any, error: str | None) -> None:
        self._loading = False
        self._dataset = dataset
        self.summary_label.setText(_summary(dataset) if dataset is not None else "")
        self._show_error(error)
        self.datasetChanged.emit()
        if error:
            self.errorOccurred.emit(error)

    def _fill_targets(self, columns: Sequence[str], target: str | None) -> None:
        def fill() -> None:
            self.target_combo.clear()
            self.target_combo.addItem(NO_TARGET_TEXT)
            self.target_combo.addItems(list(columns))
            if target is not None and target not in columns:  # shown next to its error
                self.target_combo.insertItem(1, target)
            self.target_combo.setCurrentText(target if target is not None else NO_TARGET_TEXT)
            if self._groups == target:
                self._groups = None
            self.groups_picker.set_columns(columns, target, self._groups)

        self._with_updating(fill)

    # ----- reactions to the user --------------------------------------------------------------
    def _on_source_toggled(self, builtin_checked: bool) -> None:
        if self._updating:
            return
        if builtin_checked:
            self.set_builtin(self.builtin_combo.currentText())
        elif self._csv:
            self._start_csv(self._csv, self._target)
        else:
            self._sync_enabled()
            self.browse()

    def _on_builtin_picked(self, name: str) -> None:
        if not self._updating and name:
            self.set_builtin(name)

    def _on_groups_picked(self, column: str | None) -> None:
        if self._updating or column == self._groups:
            return
        self._groups = column
        self.dataChanged.emit()

    def _on_target_picked(self, text: str) -> None:
        target = None if text == NO_TARGET_TEXT else text
        if self._updating or not text or not self._csv or target == self._target:
            return
        self.set_target(target)

    def _on_preprocess_toggled(self, preprocess: bool) -> None:
        if self._updating or preprocess == self._preprocess:
            return
        self._preprocess = preprocess
        if self._csv and not self._builtin:
            self._start_csv(self._csv, self._target)

    def _set_preprocess_box(self, preprocess: bool) -> None:
        self._preprocess = preprocess
        self._with_updating(lambda: self.preprocess_check.setChecked(preprocess))

    def _column_menu(self, position: Any) -> None:
        """The preview header's menu: make a column the target, or type it."""
        header = self.preview.horizontalHeader()
        section = header.logicalIndexAt(position)
        columns = self.preview_model.preview.columns
        if self._builtin or self._read_only or not 0 <= section < len(columns):
            return
        column = columns[section]
        menu = QMenu(self)
        target = menu.addAction("Predict this column (target)")
        target.setCheckable(True)
        target.setChecked(column == self._target)
        target.triggered.connect(lambda checked: self.set_target(column if checked else None))
        menu.addSeparator()
        current = self._columns.get(column)
        automatic = menu.addAction("Type from the data")
        automatic.setCheckable(True)
        automatic.setChecked(current is None)
        automatic.triggered.connect(lambda: self.set_column_type(column, None))
        for kind in COLUMN_TYPES:
            action = menu.addAction(_KIND_WORDS[kind])
            action.setCheckable(True)
            action.setChecked(current == kind)
            action.triggered.connect(lambda _=False, k=kind: self.set_column_type(column, k))
        menu.popup(header.mapToGlobal(position))

    # ----- helpers ----------------------------------------------------------------------------
    def _set_task(self, task: str | None) -> None:
        self._task = task

    def _show_error(self, message: str | None) -> None:
        self._error = message
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def _sync_enabled(self) -> None:
        builtin = self.builtin_radio.isChecked()
        self.builtin_combo.setEnabled(builtin)
        self.csv_edit.setEnabled(not builtin)
        self.browse_button.setEnabled(not builtin)
        self.target_combo.setEnabled(not builtin)
        self.preprocess_check.setEnabled(not builtin)
        self.groups_picker.setEnabled(not builtin)

    def _with_updating(self, change: Callable[[], Any]) -> None:
        self._updating = True
        try:
            change()
        finally:
            self._updating = False


_KIND_WORDS = {"number": "Number (impute, scale)", "category": "Category (impute, one-hot)",
               "text": "Text (TF-IDF)", "drop": "Drop (not a feature, e.g. an id)"}


def _describe_csv_error(csv: str, error: BaseException | None) -> str:
    """The core's messages are already clear; anything else is worded like them."""
    if isinstance(error, HpstudioError):
        return str(error)
    return (f"{csv} is not a readable CSV ({error or 'unknown error'}); save it as "
            "comma-separated UTF-8 text with one header row")


def _summary(dataset: Any) -> str:
    parts = [dataset.task, f"{dataset.n_rows:,} rows", f"{dataset.n_columns} feature columns"]
    if dataset.n_classes is not None:
        parts.append(f"{dataset.n_classes} classes")
    text = " · ".join(parts)
    if getattr(dataset, "dropped_rows", 0):
        text += f" ({dataset.dropped_rows} rows without a target were left out)"
    return text

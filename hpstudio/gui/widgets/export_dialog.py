"""Export dialog: a trial's parameters (JSON or Python), all trials as CSV, a refitted model.

Everything written here comes from :mod:`hpstudio.core.export`, the same functions as
``hpstudio export``, so the app and the command line produce identical files. Refitting
can take as long as a fold does on the full data, so it runs in a thread pool while a
busy bar shows; the dialog stays responsive and reports errors in words.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt

from hpstudio.core import export
from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import TrialRecord
from hpstudio.core.storage import StudyRow

__all__ = [
    "FORMAT_JSON",
    "FORMAT_PYTHON",
    "MODEL_JOBLIB",
    "MODEL_SKOPS",
    "ExportDialog",
    "RefitTask",
]

FORMAT_JSON = "json"
FORMAT_PYTHON = "python"
MODEL_SKOPS = "skops"
MODEL_JOBLIB = "joblib"
_MODEL_SUFFIX = {MODEL_SKOPS: ".skops", MODEL_JOBLIB: ".joblib"}
_JOBLIB_SUFFIXES = (".joblib", ".pkl", ".pickle")


class RefitSignals(QtCore.QObject):
    """Signals of a :class:`RefitTask` (a QRunnable cannot carry signals itself)."""

    finished = QtCore.Signal(str, str)  # model path, sidecar path
    failed = QtCore.Signal(str)


class RefitTask(QtCore.QRunnable):
    """Fit the chosen candidate on all the data and save it, off the GUI thread."""

    def __init__(self, study: StudyRow, trial: TrialRecord, path: Path,
                 allowed_packages: Sequence[str] = ()) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it: the dialog drops it when it reports
        self.study, self.trial, self.path = study, trial, path
        self.allowed_packages = tuple(allowed_packages)
        self.signals = RefitSignals()

    def run(self) -> None:
        try:
            sidecar = export.refit_model(self.study, self.trial, self.path,
                                         self.allowed_packages)
        except HpstudioError as exc:
            self.signals.failed.emit(str(exc))
        except MemoryError:
            self.signals.failed.emit("not enough memory to refit on the full data")
        except Exception as exc:  # a fit on the full data can fail where folds did not
            self.signals.failed.emit(f"the refit failed: {type(exc).__name__}: {exc}")
        else:
            self.signals.finished.emit(str(self.path), str(sidecar))


class ExportDialog(QtWidgets.QDialog):
    """Export the best trial (or any trial) of one study."""

    refitFinished = QtCore.Signal(str)  # model path
    refitFailed = QtCore.Signal(str)  # error text

    def __init__(self, study: StudyRow, trials: Sequence[TrialRecord],
                 trial_number: int | None = None, *, allowed_packages: Sequence[str] = (),
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(f"Export — study #{study.id} {study.name}")
        self.study = study
        self.trials = list(trials)
        self.allowed_packages = tuple(allowed_packages)
        self._by_number = {t.number: t for t in self.trials}
        self._best = export.best_trial(self.trials)
        self.pool = QtCore.QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._task: RefitTask | None = None
        self._close_result: int | None = None  # closed during a refit: close after it
        self.last_model_path: Path | None = None

        # -- which trial
        self.best_radio = QtWidgets.QRadioButton(self._best_label(), self)
        self.trial_radio = QtWidgets.QRadioButton("Trial number:", self)
        self.trial_spin = QtWidgets.QSpinBox(self)
        numbers = sorted(self._by_number) or [0]
        self.trial_spin.setRange(numbers[0], numbers[-1])
        self.best_radio.setEnabled(self._best is not None)
        if trial_number is not None and trial_number in self._by_number:
            self.trial_radio.setChecked(True)
            self.trial_spin.setValue(trial_number)
        elif self._best is not None:
            self.best_radio.setChecked(True)
            self.trial_spin.setValue(self._best.number)
        else:
            self.trial_radio.setChecked(True)
        self.trial_info = QtWidgets.QLabel(self)
        self.trial_info.setObjectName("exportTrialInfo")
        self.trial_info.setWordWrap(True)
        trial_box = QtWidgets.QGroupBox("Trial", self)
        grid = QtWidgets.QGridLayout(trial_box)
        grid.addWidget(self.best_radio, 0, 0, 1, 2)
        grid.addWidget(self.trial_radio, 1, 0)
        grid.addWidget(self.trial_spin, 1, 1)
        grid.addWidget(self.trial_info, 2, 0, 1, 2)

        # -- parameters
        self.format_combo = QtWidgets.QComboBox(self)
        self.format_combo.addItem("JSON document", FORMAT_JSON)
        self.format_combo.addItem("Python snippet", FORMAT_PYTHON)
        self.preview = QtWidgets.QPlainTextEdit(self)
        self.preview.setObjectName("exportPreview")
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))
        self.copy_button = QtWidgets.QPushButton("Copy to clipboard", self)
        self.save_params_button = QtWidgets.QPushButton("Save parameters…", self)
        params_box = QtWidgets.QGroupBox("Parameters", self)
        params_layout = QtWidgets.QVBoxLayout(params_box)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Format:", self))
        row.addWidget(self.format_combo)
        row.addStretch(1)
        row.addWidget(self.copy_button)
        row.addWidget(self.save_params_button)
        params_layout.addLayout(row)
        params_layout.addWidget(self.preview, 1)

        # -- trials and model
        self.save_csv_button = QtWidgets.QPushButton("Save all trials as CSV…", self)
        self.save_csv_button.setToolTip("Every trial with scikit-learn's cv_results_ columns")
        self.model_combo = QtWidgets.QComboBox(self)
        self.model_combo.addItem("skops (.skops, safe to load)", MODEL_SKOPS)
        self.model_combo.addItem("joblib (.joblib, pickle: load only files you trust)",
                                 MODEL_JOBLIB)
        self.refit_button = QtWidgets.QPushButton("Refit on all data and save model…", self)
        self.refit_button.setToolTip("Fit this trial's parameters on the full dataset and save "
                                     "the model with a JSON sidecar (params, score, versions)")
        self.progress = QtWidgets.QProgressBar(self)
        self.progress.setObjectName("refitProgress")
        self.progress.setRange(0, 0)  # busy: a fit reports no progress of its own
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(12)
        self.progress.hide()
        self.loading_text = QtWidgets.QPlainTextEdit(self)
        self.loading_text.setObjectName("exportLoading")
        self.loading_text.setReadOnly(True)
        self.loading_text.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.loading_text.setFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))
        self.loading_text.setFixedHeight(3 * self.loading_text.fontMetrics().lineSpacing() + 12)
        self.loading_text.setToolTip("How to load the saved model (the whole pipeline) in "
                                     "Python; the types to trust are listed in the JSON sidecar")
        self.status_label = QtWidgets.QLabel(self)
        self.status_label.setObjectName("exportStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        model_box = QtWidgets.QGroupBox("Trials and model", self)
        model_layout = QtWidgets.QGridLayout(model_box)
        model_layout.addWidget(self.save_csv_button, 0, 0, 1, 2)
        model_layout.addWidget(QtWidgets.QLabel("Model format:", self), 1, 0)
        model_layout.addWidget(self.model_combo, 1, 1)
        model_layout.addWidget(self.refit_button, 2, 0, 1, 2)
        model_layout.addWidget(self.progress, 3, 0, 1, 2)
        model_layout.addWidget(QtWidgets.QLabel("Loading it:", self), 4, 0, 1, 2)
        model_layout.addWidget(self.loading_text, 5, 0, 1, 2)

        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close,
                                             self)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(trial_box)
        layout.addWidget(params_box, 1)
        layout.addWidget(model_box)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)
        self.resize(640, 620)

        self.best_radio.toggled.connect(self._update_preview)
        self.trial_radio.toggled.connect(self._update_preview)
        self.trial_spin.valueChanged.connect(self._on_spin_changed)
        self.format_combo.currentIndexChanged.connect(self._update_preview)
        self.model_combo.currentIndexChanged.connect(lambda _index: self._show_loading())
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.save_params_button.clicked.connect(self._ask_save_params)
        self.save_csv_button.clicked.connect(self._ask_save_csv)
        self.refit_button.clicked.connect(self._ask_refit)
        self._update_preview()
        self._show_loading()

    # -- the chosen trial -----------------------------------------------------------------
    def chosen_trial(self) -> TrialRecord | None:
        if self.best_radio.isChecked():
            return self._best
        return self._by_number.get(self.trial_spin.value())

    def set_trial(self, number: int | None) -> None:
        """Choose a trial by number, or the best one with None."""
        if number is None:
            self.best_radio.setChecked(True)
        else:
            self.trial_radio.setChecked(True)
            self.trial_spin.setValue(number)
        self._update_preview()

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def set_model_format(self, fmt: str) -> None:
        self.model_combo.setCurrentIndex(self.model_combo.findData(fmt))

    # -- parameters --------------------------------------------------------------------------
    def params_text(self, fmt: str | None = None) -> str:
        """The document shown in the preview: JSON as ``hpstudio export`` writes, or Python."""
        trial = self._require_trial()
        fmt = fmt or str(self.format_combo.currentData())
        if fmt == FORMAT_PYTHON:
            return export.python_snippet(self.study, trial, self.allowed_packages)
        document = export.params_document(self.study, trial)
        return json.dumps(document, indent=2, default=_plain) + "\n"

    def copy_to_clipboard(self) -> None:
        try:
            text = self.params_text()
        except HpstudioError as exc:
            self._error(str(exc))
            return
        QtGui.QGuiApplication.clipboard().setText(text)
        self._info("copied to the clipboard")

    def save_params(self, path: str | Path, fmt: str | None = None) -> bool:
        path = Path(path)
        fmt = fmt or (FORMAT_PYTHON if path.suffix.lower() == ".py"
                      else str(self.format_combo.currentData()))
        try:
            trial = self._require_trial()
            if fmt == FORMAT_PYTHON:
                path.write_text(export.python_snippet(self.study, trial, self.allowed_packages),
                                encoding="utf-8")
            else:
                export.write_params_json(path, self.study, trial)
        except (HpstudioError, OSError) as exc:
            self._error(_describe(exc, path))
            return False
        self._info(f"wrote trial {trial.number}'s parameters to {path}")
        return True

    def save_csv(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            export.write_trials_csv(path, self.trials)
        except OSError as exc:
            self._error(_describe(exc, path))
            return False
        self._info(f"wrote {len(self.trials)} trials to {path}")
        return True

    # -- refit --------------------------------------------------------------------------------
    @property
    def refitting(self) -> bool:
        return self._task is not None

    def model_path_for(self, path: str | Path, fmt: str | None = None) -> Path:
        """The file name the chosen format needs (``refit_model`` picks the format by suffix)."""
        path = Path(path)
        fmt = fmt or str(self.model_combo.currentData())
        suffix = path.suffix.lower()
        if fmt == MODEL_JOBLIB:
            return path if suffix in _JOBLIB_SUFFIXES else path.with_name(path.name + ".joblib")
        if suffix in _JOBLIB_SUFFIXES:
            return path.with_suffix(".skops")
        return path if suffix else path.with_suffix(".skops")

    def start_refit(self, path: str | Path, fmt: str | None = None) -> bool:
        """Refit the chosen trial in the background; ``refitFinished``/``refitFailed`` follow."""
        if self._task is not None:
            return False
        try:
            trial = self._require_trial()
        except HpstudioError as exc:
            self._error(str(exc))
            return False
        model_path = self.model_path_for(path, fmt)
        task = RefitTask(self.study, trial, model_path, self.allowed_packages)
        task.signals.finished.connect(self._on_refit_finished)
        task.signals.failed.connect(self._on_refit_failed)
        self._task = task
        self.refit_button.setEnabled(False)
        self.progress.show()
        self._info(f"refitting trial {trial.number} on all the data…")
        self.pool.start(task)
        return True

    def wait_for_refit(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)

    def _on_refit_finished(self, model_path: str, sidecar: str) -> None:
        self._refit_done()
        self.last_model_path = Path(model_path)
        self._show_loading()
        self._info(f"saved the model to {model_path} (details in {Path(sidecar).name})")
        self.refitFinished.emit(model_path)

    def _on_refit_failed(self, message: str) -> None:
        self._refit_done()
        self._error(message)
        QtWidgets.QMessageBox.warning(self, "Refit failed", message)
        self.refitFailed.emit(message)

    def _refit_done(self) -> None:
        self._task = None
        self.progress.hide()
        self.refit_button.setEnabled(self.chosen_trial() is not None)
        if self._close_result is not None:
            result, self._close_result = self._close_result, None
            super().done(result)

    def done(self, result: int) -> None:
        """Closing while a refit runs hides the dialog and closes it when the model is saved,
        so neither the GUI waits nor the file is left half written."""
        if self._task is not None:
            self._close_result = result
            self.hide()
            return
        super().done(result)

    # -- file dialogs -----------------------------------------------------------------------
    def _ask_save_params(self) -> None:
        python = self.format_combo.currentData() == FORMAT_PYTHON
        default = f"{_slug(self.study.name)}-params{'.py' if python else '.json'}"
        filters = "Python (*.py)" if python else "JSON (*.json)"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save parameters", default,
                                                        filters + ";;All files (*)")
        if path:
            self.save_params(path)

    def _ask_save_csv(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save trials", f"{_slug(self.study.name)}-trials.csv",
            "CSV (*.csv);;All files (*)")
        if path:
            self.save_csv(path)

    def _ask_refit(self) -> None:
        fmt = str(self.model_combo.currentData())
        suffix = _MODEL_SUFFIX[fmt]
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save refitted model", f"{_slug(self.study.name)}-model{suffix}",
            f"{fmt} model (*{suffix});;All files (*)")
        if path:
            self.start_refit(path)

    # -- internals --------------------------------------------------------------------------
    def _on_spin_changed(self, _value: int) -> None:
        if not self.trial_radio.isChecked():
            self.trial_radio.setChecked(True)  # editing the number means "this trial"
        self._update_preview()

    def _require_trial(self) -> TrialRecord:
        trial = self.chosen_trial()
        if trial is None:
            if self.best_radio.isChecked() or not self.trials:
                raise HpstudioError("the study has no successful trial to export yet")
            raise HpstudioError(f"the study has no finished trial number "
                                f"{self.trial_spin.value()}")
        return trial

    def _update_preview(self, *_args: Any) -> None:
        trial = self.chosen_trial()
        ok = trial is not None
        for widget in (self.copy_button, self.save_params_button):
            widget.setEnabled(ok)
        self.refit_button.setEnabled(ok and self._task is None)
        self.save_csv_button.setEnabled(bool(self.trials))
        if trial is None:
            self.preview.setPlainText("")
            self.trial_info.setText("No such trial." if self.trials else "No trials yet.")
            return
        state = "" if trial.ok else f" — failed: {trial.error}"
        self.trial_info.setText(f"Trial {trial.number}: {_score(trial.mean_test_score)} "
                                f"± {_score(trial.std_test_score)}{state}")
        try:
            self.preview.setPlainText(self.params_text())
        except HpstudioError as exc:
            self.preview.setPlainText("")
            self._error(str(exc))

    def loading_example(self) -> str:
        """Python that loads the model saved last (or one to be saved) with its pipeline."""
        fmt = str(self.model_combo.currentData())
        saved = self.last_model_path
        if saved is not None and (saved.suffix.lower() in _JOBLIB_SUFFIXES) == (
                fmt == MODEL_JOBLIB):
            name = saved.as_posix()
        else:
            name = f"{_slug(self.study.name)}{_MODEL_SUFFIX[fmt]}"
        if fmt == MODEL_JOBLIB:
            return f'import joblib\nmodel = joblib.load("{name}")  # a pickle: trusted files only'
        return export.LOADING_EXAMPLE.format(model=name)

    def _show_loading(self) -> None:
        self.loading_text.setPlainText(self.loading_example())

    def _best_label(self) -> str:
        if self._best is None:
            return "Best trial (none succeeded yet)"
        return (f"Best trial (#{self._best.number}, "
                f"{_score(self._best.mean_test_score)})")

    def _info(self, text: str) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText(text)

    def _error(self, text: str) -> None:
        self.status_label.setStyleSheet("QLabel { color: #c62828; }")
        self.status_label.setText(text)


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return str(value)


def _score(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.6g}"


def _slug(name: str) -> str:
    text = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-")
    return text or "study"


def _describe(exc: BaseException, path: Path) -> str:
    if isinstance(exc, OSError):
        return f"cannot write {path}: {exc.strerror or exc}"
    return str(exc)

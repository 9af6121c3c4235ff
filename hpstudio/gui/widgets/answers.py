"""The Answers pane: what the best (or the selected) trial's model predicts, row by row.

A score says how good a candidate is on average; its answers say where it goes wrong.
Every row of the study's dataset is predicted by the candidate fitted on the folds that
did not hold it (:func:`hpstudio.core.predictions.out_of_fold_predictions`, that is
``cross_val_predict`` over the study's own estimator and splits). A classifier shows its
confusion matrix and each class' precision, recall, F1 and support; a regressor shows
predicted against true values and the residuals, with R², MAE and RMSE. Both export the
predictions as CSV and the report as JSON.

The refits run on a background thread, one at a time, and only while the pane is shown;
results are kept per trial, so going back to a trial shows it at once. The pane follows
the session: a new study forgets what was computed for the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import HpstudioError
from hpstudio.core.predictions import (
    ClassificationReport,
    Predictions,
    RegressionSummary,
    classification_report_table,
    out_of_fold_predictions,
    regression_summary,
    write_predictions_csv,
    write_report_json,
)
from hpstudio.core.records import TrialRecord
from hpstudio.gui.background import run_in_background
from hpstudio.gui.session import StudySession

__all__ = ["AnswersPanel", "SpecSource"]

SpecSource = Callable[[], tuple[Any, str | None]]
"""Gives the shown study's spec and the data fingerprint stored with it (None: unknown);
raises ``HpstudioError`` with the reason when the study has no spec to refit from."""

_KEEP = 8  # trials whose answers are kept, most recent first
_REPORT_HEADERS = ("class", "precision", "recall", "F1", "support")
_DIAGONAL = QColor(46, 110, 190)
_OFF_DIAGONAL = QColor(210, 80, 50)


class AnswersPanel(QWidget):
    """Out-of-fold predictions of one trial. ``show_trial(trial)`` picks the trial (None:
    the study's best); ``answersShown(number)`` and ``answersFailed(message)`` say how a
    computation ended."""

    answersShown = Signal(int)
    answersFailed = Signal(str)

    def __init__(self, session: StudySession, spec_source: SpecSource,
                 allowed_packages: Callable[[], tuple[str, ...]] = tuple,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answersPanel")
        self.session = session
        self._spec_source = spec_source
        self._allowed_packages = allowed_packages
        self._selected: TrialRecord | None = None
        self._cache: dict[tuple[int, int], Predictions] = {}
        self._shown_key: tuple[int, int] | None = None
        self._running: tuple[int, int] | None = None
        self._generation = 0  # bumped by every new study: late results are dropped
        self._message = ""
        self._on_screen: bool | None = None  # None: judged from the widget itself
        self.predictions: Predictions | None = None
        self.report: ClassificationReport | RegressionSummary | None = None

        self.title = QLabel()
        self.title.setObjectName("answersTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the out-of-fold predictions (row, true, "
                                      "predicted) as CSV and the report as JSON")
        self.export_button.clicked.connect(self.export_dialog)
        self.export_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("answersNotes")
        self.notes.setStyleSheet("color: #8a5a00;")
        self.notes.setVisible(False)

        self.stack = QStackedWidget()
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stack.addWidget(self.message_label)
        self._classifier_page = _ClassifierPage()
        # scrolled: a matrix of many classes must not force the window past the screen
        self._classifier_scroll = QScrollArea()
        self._classifier_scroll.setWidgetResizable(True)
        self._classifier_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._classifier_scroll.setWidget(self._classifier_page)
        self.stack.addWidget(self._classifier_scroll)
        self._regressor_page: _RegressorPage | None = None  # pyqtgraph: built when needed

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.notes)
        layout.addWidget(self.stack, 1)
        session.reset.connect(self._on_reset)
        session.appended.connect(self._on_appended)
        self._on_reset()

    # ----- what to show --------------------------------------------------------------------
    def show_trial(self, trial: TrialRecord | None) -> None:
        """Show the answers of ``trial`` (None: of the study's best trial)."""
        self._selected = trial
        self._update()

    def wanted_trial(self) -> TrialRecord | None:
        """The trial whose answers the pane shows or is computing."""
        if self._selected is not None:
            return self._selected
        table = self.session.table
        best = table.best_index()
        return None if best is None else table.record(best)

    @property
    def busy(self) -> bool:
        """True while a refit runs in the background."""
        return self._running is not None

    @property
    def settled(self) -> bool:
        """True when what is on screen is final: the wanted trial's answers or the reason
        there are none (nothing is computing, nothing is waiting to be)."""
        trial = self.wanted_trial()
        if self.busy:
            return False
        return trial is None or (trial.number, trial.rung) == self._shown_key

    @property
    def message(self) -> str:
        """The text shown instead of results (empty when results are shown)."""
        return self._message

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._update()  # computed only while visible

    def set_on_screen(self, on_screen: bool) -> None:
        """Told by a dock whose tab was selected (True) or covered (False): a dock in a tab
        group stays "visible" to Qt while another tab covers it."""
        self._on_screen = on_screen
        self._update()

    def on_screen(self) -> bool:
        if self._on_screen is not None:
            return self._on_screen and self.isVisible()
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def _on_reset(self) -> None:
        self._generation += 1
        self._cache.clear()
        self._selected = None
        self._shown_key = None
        self._show_message("No trial yet: the answers of the best trial appear here once "
                           "one is complete, or select a trial in the table.")
        self._update()

    def _on_appended(self, _first: int, _count: int) -> None:
        if self._selected is None:
            self._update()  # the best trial may have changed

    def _update(self) -> None:
        if not self.on_screen():
            return  # not even the best trial's record is read for a covered pane
        trial = self.wanted_trial()
        if trial is None:
            return
        key = (trial.number, trial.rung)
        if key == self._shown_key or key == self._running:
            return
        cached = self._cache.get(key)
        if cached is not None:
            self._show_predictions(cached, key)
            return
        if self._running is not None:
            return  # one refit at a time; the wanted trial is looked at again when it ends
        try:
            spec, fingerprint = self._spec_source()
        except HpstudioError as exc:
            self._shown_key = key
            self._fail(str(exc))
            return
        allowed = tuple(self._allowed_packages())
        generation = self._generation
        self._running = key
        which = "best trial" if self._selected is None else "trial"
        self._show_message(f"Refitting {which} {trial.number} on each cross-validation fold "
                           "to predict every row it did not see…")

        def work() -> Predictions:
            return out_of_fold_predictions(spec, trial, allowed,
                                           expected_fingerprint=fingerprint)

        run_in_background(self, work, lambda result, error: self._on_done(
            generation, key, result, error))

    def _on_done(self, generation: int, key: tuple[int, int], result: Predictions | None,
                 error: BaseException | None) -> None:
        self._running = None
        if generation != self._generation:  # a result for a study no longer shown
            self._update()
            return
        wanted = self.wanted_trial()
        still_wanted = wanted is not None and (wanted.number, wanted.rung) == key
        if error is not None:
            if still_wanted:
                self._shown_key = key
                text = str(error) if isinstance(error, HpstudioError) else \
                    f"the answers could not be computed: {type(error).__name__}: {error}"
                self._fail(text)
        elif result is not None:
            self._cache[key] = result
            while len(self._cache) > _KEEP:
                self._cache.pop(next(iter(self._cache)))
            if still_wanted:
                self._show_predictions(result, key)
        self._update()

    # ----- showing -----------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self._show_message(message)
        self.answersFailed.emit(message)

    def _show_message(self, text: str) -> None:
        self._message = text
        self.predictions = None
        self.report = None
        self.title.setText("<b>Answers</b>")
        self.notes.setVisible(False)
        self.message_label.setText(text)
        self.stack.setCurrentWidget(self.message_label)
        self.export_button.setEnabled(False)

    def _show_predictions(self, predictions: Predictions, key: tuple[int, int]) -> None:
        self._message = ""
        self._shown_key = key
        self.predictions = predictions
        table = self.session.table
        best = table.best_index()
        is_best = best is not None and (int(table.number[best]), int(table.rung[best])) == key
        estimator = predictions.estimator.rsplit(".", 1)[-1]
        self.title.setText(
            f"<b>Trial {predictions.trial_number}</b>{' (best)' if is_best else ''} · "
            f"{estimator} · out-of-fold predictions of {len(predictions)} rows over "
            f"{predictions.n_splits} folds")
        self.notes.setText("\n".join(predictions.notes))
        self.notes.setVisible(bool(predictions.notes))
        if predictions.classifier:
            report = classification_report_table(predictions.y_true, predictions.y_pred,
                                                 predictions.labels)
            self._classifier_page.show_report(report)
            self.stack.setCurrentWidget(self._classifier_scroll)
        else:
            report = regression_summary(predictions.y_true, predictions.y_pred)
            page = self._regressor()
            page.show_predictions(predictions, report)
            self.stack.setCurrentWidget(page)
        self.report = report
        self.export_button.setEnabled(True)
        self.answersShown.emit(predictions.trial_number)

    def _regressor(self) -> _RegressorPage:
        if self._regressor_page is None:
            self._regressor_page = _RegressorPage()
            self.stack.addWidget(self._regressor_page)
        return self._regressor_page

    # ----- exporting ---------------------------------------------------------------------
    def export(self, csv_path: str | Path) -> tuple[Path, Path]:
        """Write the predictions to ``csv_path`` and the report next to it (.json)."""
        if self.predictions is None:
            raise HpstudioError("no answers to export yet: select a complete trial first")
        csv_path = Path(csv_path)
        if csv_path.suffix.lower() != ".csv":
            csv_path = csv_path.with_name(csv_path.name + ".csv")
        json_path = csv_path.with_suffix(".json")
        return (write_predictions_csv(self.predictions, csv_path),
                write_report_json(self.predictions, json_path))

    def export_dialog(self) -> None:
        if self.predictions is None:
            return
        name = f"trial-{self.predictions.trial_number}-predictions.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the answers", name,
                                              "CSV file (*.csv)")
        if not path:
            return
        try:
            written = self.export(path)
        except (OSError, HpstudioError) as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        QMessageBox.information(self, "Answers exported",
                                f"predictions: {written[0]}\nreport: {written[1]}")

    # ----- reading back (what a user sees) -----------------------------------------------
    def confusion_counts(self) -> np.ndarray:
        """The confusion matrix as shown: rows true classes, columns predicted ones."""
        return self._classifier_page.counts()

    def class_labels(self) -> list[str]:
        return self._classifier_page.labels()

    def report_texts(self) -> list[list[str]]:
        """The per-class table as shown, row by row."""
        return self._classifier_page.report_texts()

    def summary_text(self) -> str:
        page = self.stack.currentWidget()
        if page is self._classifier_scroll:
            return self._classifier_page.summary.text()
        return page.summary.text() if isinstance(page, _RegressorPage) else ""

    def regression_points(self) -> dict[str, np.ndarray]:
        """The regressor's plotted points: true, predicted and residual per row."""
        if self._regressor_page is None:
            return {}
        return self._regressor_page.points()


class _ClassifierPage(QWidget):
    """Confusion matrix (counts, shaded by the share of their true class) and the
    per-class precision / recall / F1 / support table."""

    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        axes = QLabel("rows: true class · columns: predicted class · shade: share of the "
                      "true class")
        axes.setObjectName("confusionAxes")
        axes.setStyleSheet("color: palette(mid);")
        self.matrix = _read_only_table()
        self.matrix.setObjectName("confusionMatrix")
        self.table = _read_only_table()
        self.table.setObjectName("classReport")
        self.table.setColumnCount(len(_REPORT_HEADERS))
        self.table.setHorizontalHeaderLabels(list(_REPORT_HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(axes)
        layout.addWidget(self.matrix)
        layout.addWidget(self.table)
        layout.addStretch(1)

    def show_report(self, report: ClassificationReport) -> None:
        total = int(report.support.sum())
        self.summary.setText(
            f"accuracy {report.accuracy:.4g} · macro F1 {report.macro[2]:.4g} · "
            f"weighted F1 {report.weighted[2]:.4g} · {total} rows")
        labels = [str(label) for label in report.labels]
        k = len(labels)
        self.matrix.clear()
        self.matrix.setRowCount(k)
        self.matrix.setColumnCount(k)
        self.matrix.setVerticalHeaderLabels([f"true {label}" for label in labels])
        self.matrix.setHorizontalHeaderLabels([f"pred. {label}" for label in labels])
        row_totals = report.matrix.sum(axis=1)
        for i in range(k):
            for j in range(k):
                count = int(report.matrix[i, j])
                share = count / row_totals[i] if row_totals[i] else 0.0
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip(f"{count} rows of class {labels[i]} predicted as {labels[j]} "
                                f"({share:.1%} of the class)")
                base = _DIAGONAL if i == j else _OFF_DIAGONAL
                if count:
                    item.setBackground(QBrush(_shade(base, share)))
                    if share > 0.55:
                        item.setForeground(QBrush(QColor("white")))
                self.matrix.setItem(i, j, item)
        mode = QHeaderView.ResizeMode.Stretch if k <= 12 else QHeaderView.ResizeMode.Interactive
        self.matrix.horizontalHeader().setSectionResizeMode(mode)
        _fit_height(self.matrix, max_rows=16)
        rows = report.rows()
        self.table.setRowCount(len(rows))
        for r, (name, precision, recall, f1, support) in enumerate(rows):
            cells = [name, f"{precision:.3f}", f"{recall:.3f}", f"{f1:.3f}", str(support)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if r >= len(rows) - 2:
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        _fit_height(self.table, max_rows=24)

    def counts(self) -> np.ndarray:
        m = self.matrix
        return np.array([[int(m.item(i, j).text()) for j in range(m.columnCount())]
                         for i in range(m.rowCount())], dtype=np.int64).reshape(
                             m.rowCount(), m.columnCount())

    def labels(self) -> list[str]:
        return [self.matrix.verticalHeaderItem(i).text().removeprefix("true ")
                for i in range(self.matrix.rowCount())]

    def report_texts(self) -> list[list[str]]:
        t = self.table
        return [[t.item(r, c).text() for c in range(t.columnCount())]
                for r in range(t.rowCount())]


class _RegressorPage(QWidget):
    """Predicted against true (the diagonal is a perfect model) and residuals against
    predicted (a pattern there is something the model missed)."""

    def __init__(self) -> None:
        super().__init__()
        import pyqtgraph as pg

        from hpstudio.gui.plots.axes import study_axes
        from hpstudio.gui.plots.base import plain_axes
        from hpstudio.gui.plots.items import FastScatter

        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = pg.GraphicsLayoutWidget()
        layout_item = self.view.ci
        dashed = pg.mkPen((120, 120, 120), style=Qt.PenStyle.DashLine)
        self.fit_plot = plain_axes(layout_item.addPlot(row=0, col=0,
                                                       axisItems=study_axes("left", "bottom")))
        self.fit_plot.setTitle("predicted vs true")
        self.fit_plot.setLabel("bottom", "true")
        self.fit_plot.setLabel("left", "predicted")
        self.diagonal = pg.PlotCurveItem(pen=dashed)
        self.fit_points = FastScatter(size=6, clickable=False)
        self.fit_plot.addItem(self.diagonal)
        self.fit_plot.addItem(self.fit_points)
        self.residual_plot = plain_axes(
            layout_item.addPlot(row=0, col=1, axisItems=study_axes("left", "bottom")))
        self.residual_plot.setTitle("residuals vs predicted")
        self.residual_plot.setLabel("bottom", "predicted")
        self.residual_plot.setLabel("left", "true − predicted")
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=dashed)
        self.residual_points = FastScatter(size=6, clickable=False)
        self.residual_plot.addItem(self.zero, ignoreBounds=True)
        self.residual_plot.addItem(self.residual_points)
        for plot in (self.fit_plot, self.residual_plot):
            plot.setMenuEnabled(False, enableViewBoxMenu=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self._points: dict[str, np.ndarray] = {}

    def show_predictions(self, predictions: Predictions, summary: RegressionSummary) -> None:
        self.summary.setText(f"R² {summary.r2:.4g} · MAE {summary.mae:.4g} · "
                             f"RMSE {summary.rmse:.4g} · {summary.n} rows")
        y_true = np.asarray(predictions.y_true, dtype=float)
        y_pred = np.asarray(predictions.y_pred, dtype=float)
        residual = y_true - y_pred
        self._points = {"true": y_true, "predicted": y_pred, "residual": residual}
        self.fit_points.setData(y_true, y_pred)
        both = np.concatenate([y_true, y_pred])
        finite = both[np.isfinite(both)]
        ends = [float(finite.min()), float(finite.max())] if len(finite) else []
        self.diagonal.setData(ends, ends)
        self.residual_points.setData(y_pred, residual)
        for plot in (self.fit_plot, self.residual_plot):
            plot.getViewBox().enableAutoRange()

    def points(self) -> dict[str, np.ndarray]:
        return {name: values.copy() for name, values in self._points.items()}


def _read_only_table() -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.verticalHeader().setDefaultSectionSize(22)
    return table


def _fit_height(table: QTableWidget, max_rows: int) -> None:
    """As tall as its rows (up to ``max_rows`` of them; more scroll), so a small matrix
    leaves the room to the table below it."""
    rows = min(table.rowCount(), max_rows)
    height = (table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
              + rows * table.verticalHeader().defaultSectionSize())
    if table.rowCount() > max_rows:
        table.setMinimumHeight(height)
        table.setMaximumHeight(16777215)
    else:
        table.setFixedHeight(height)


def _shade(color: QColor, share: float) -> QColor:
    """``color`` blended into white: stronger for a larger share of the true class."""
    weight = 0.15 + 0.85 * max(0.0, min(1.0, share))
    white = 255 * (1 - weight)
    return QColor(int(color.red() * weight + white), int(color.green() * weight + white),
                  int(color.blue() * weight + white))

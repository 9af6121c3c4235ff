"""The details pane: everything stored about the trial selected in the table or a plot.

The table shows one line per trial; this pane answers "why is this one good or bad":
its parameters, the score of every fold (a high spread means an unstable candidate),
train versus test (overfitting), the time each fold took, and the full error of a
failed trial.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.gui.models import format_value

__all__ = ["TrialDetails"]

_FOLD_HEADERS = ("fold", "test", "train", "fit s", "score s")


class TrialDetails(QWidget):
    """Shows one TrialRecord (or a hint when nothing is selected)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trialDetails")
        self._trial: TrialRecord | None = None
        self.title = QLabel()
        self.title.setObjectName("trialDetailsTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.params = QFormLayout()
        self.params.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.params.setContentsMargins(0, 0, 0, 0)
        self.folds = QTableWidget(0, len(_FOLD_HEADERS))
        self.folds.setHorizontalHeaderLabels(list(_FOLD_HEADERS))
        self.folds.verticalHeader().setVisible(False)
        self.folds.verticalHeader().setDefaultSectionSize(20)
        self.folds.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # columns as wide as their numbers (a narrow pane scrolls rather than eliding "-30…")
        self.folds.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.folds.horizontalHeader().setStretchLastSection(True)
        self.error = QPlainTextEdit()
        self.error.setReadOnly(True)
        self.error.setObjectName("trialError")
        self.error.setMaximumHeight(90)

        params_box = QWidget()
        params_box.setLayout(self.params)
        body = QHBoxLayout()
        body.addWidget(params_box, 2)
        body.addWidget(self.folds, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)
        layout.addWidget(self.error)
        self.show_trial(None)

    @property
    def trial(self) -> TrialRecord | None:
        return self._trial

    def show_trial(self, trial: TrialRecord | None) -> None:
        """Fill the pane from ``trial``; None shows a hint instead."""
        self._trial = trial
        while self.params.rowCount():
            self.params.removeRow(0)
        if trial is None:
            self.title.setText("<b>No trial selected</b>")
            self.summary.setText("Select a row of the table, or click a point in a plot.")
            self.folds.setRowCount(0)
            self.folds.setVisible(False)
            self.error.setVisible(False)
            return
        state = trial.state.value
        self.title.setText(f"<b>Trial {trial.number}</b> — {state}")
        self.summary.setText(_summary(trial))
        for name, value in trial.params.items():
            label = QLabel(format_value(value))
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.params.addRow(f"{name}:", label)
        self._fill_folds(trial)
        failed = trial.state is TrialState.FAILED
        self.error.setVisible(failed)
        self.error.setPlainText((trial.error or "") if failed else "")

    def _fill_folds(self, trial: TrialRecord) -> None:
        n = len(trial.split_test_scores)
        self.folds.setVisible(n > 0)
        self.folds.setRowCount(n)
        train = trial.split_train_scores
        for fold in range(n):
            cells: list[Any] = [
                str(fold),
                _score(trial.split_test_scores[fold]),
                _score(train[fold]) if train is not None and fold < len(train) else "",
                _seconds(trial.fit_times, fold),
                _seconds(trial.score_times, fold),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.folds.setItem(fold, column, item)

    def fold_texts(self) -> list[list[str]]:
        """The fold table as text, row by row (what a user reads; used by tests)."""
        return [[self.folds.item(r, c).text() for c in range(self.folds.columnCount())]
                for r in range(self.folds.rowCount())]


def _summary(trial: TrialRecord) -> str:
    parts = []
    if trial.ok:
        parts.append(f"mean test {trial.mean_test_score:.6g} ± {trial.std_test_score:.3g}")
        if trial.mean_train_score is not None:
            parts.append(f"mean train {trial.mean_train_score:.6g}")
        if not trial.split_test_scores:
            parts.append("no per-fold scores: the trial was imported with its value only")
    parts.append(f"fit {trial.mean_fit_time:.3f} s/fold")
    parts.append(f"took {trial.duration:.2f} s, finished "
                 f"{time.strftime('%H:%M:%S', time.localtime(trial.finished))}")
    if trial.subspace:
        parts.append(f"sub-space {trial.subspace + 1}")
    return " · ".join(parts)


def _score(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.6g}"


def _seconds(values: tuple[float, ...], fold: int) -> str:
    return f"{values[fold]:.3f}" if fold < len(values) else ""

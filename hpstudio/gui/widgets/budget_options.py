"""The strategy panel's rows for spending compute where it can win.

Successive halving's settings (factor, resource, min/max resources, aggressive
elimination, asynchronous rungs) show only for the halving strategies; the per-trial
timeout, early stopping of hopeless trials and the reuse of identical earlier fits apply
to every strategy. The rows live in the panel's own form (so labels line up); this
object owns them, reads them into ``SearchSpec`` fields and back.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from hpstudio.core.search_options import DEFAULTS, is_halving
from hpstudio.core.spec import SearchSpec
from hpstudio.core.trials import TrialTable
from hpstudio.gui.widgets.explanations import explain

__all__ = ["BUDGET_HELP", "BudgetOptions", "trial_marks"]

BUDGET_HELP = {
    "factor": "Each rung keeps one candidate in this many and gives it this many times the "
              "budget (scikit-learn's factor)",
    "resource": "What a rung's budget is: auto (the estimator's n_estimators or max_iter "
                "when it has one, else the rows), the rows of each training fold "
                "(n_samples), or an estimator parameter",
    "min_resources": "The first rung's budget: exhaust (as large as lets the last rung use "
                     "everything), smallest, or a number",
    "max_resources": "The last rung's budget at most: all rows, or the estimator's own "
                     "value of the resource parameter",
    "aggressive": "Replay the first rung until few enough candidates remain for the budget",
    "asynchronous": "Promote a candidate as soon as it ranks in the top of its rung so far: "
                    "no worker waits at a rung's end (may promote a few more)",
    "timeout": "Seconds one fold's fit may run; a fit past it is stopped (its worker "
               "replaced) and its trial fails \"timed out\"",
    "prune": "Stop a trial after a few folds when, fold by fold against the best so far, "
             "it cannot plausibly win (changes what an exhaustive grid reports)",
    "reuse": "Take an identical earlier fit (same data, estimator, parameters, splits and "
             "metric) from the history instead of fitting it again",
}
_MIN_CHOICES = (("scikit-learn's default", None), ("exhaust", "exhaust"),
                ("smallest", "smallest"))
_RESOURCES = ("auto", "n_samples", "n_estimators", "max_iter")


class BudgetOptions(QObject):
    """Halving, timeout, early-stopping and reuse rows, added to ``form``."""

    changed = Signal()

    def __init__(self, form: QFormLayout, parent: QWidget) -> None:
        super().__init__(parent)
        self._form = form
        self._strategy = "grid"
        self._updating = False
        self.factor_spin = QDoubleSpinBox(parent)
        self.factor_spin.setRange(1.1, 1000)
        self.factor_spin.setDecimals(1)
        self.resource_combo = QComboBox(parent)
        self.resource_combo.setEditable(True)
        self.resource_combo.addItems(list(_RESOURCES))
        self.min_combo = QComboBox(parent)
        self.min_combo.setEditable(True)
        for text, value in _MIN_CHOICES:
            self.min_combo.addItem(text, value)
        self.max_spin = QSpinBox(parent)
        self.max_spin.setRange(0, 2**31 - 1)
        self.max_spin.setSpecialValueText("auto")
        self.aggressive_check = QCheckBox("aggressive elimination", parent)
        self.async_check = QCheckBox("asynchronous rungs", parent)
        self.timeout_spin = QDoubleSpinBox(parent)
        self.timeout_spin.setRange(0, 366 * 24 * 3600)
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setSpecialValueText("none")
        self.prune_check = QCheckBox("stop hopeless trials early", parent)
        self.prune_note = QLabel("A trial stops once its first folds show it cannot beat "
                                 "the best; off for grid search by default.", parent)
        self.prune_note.setWordWrap(True)
        self.prune_note.setProperty("role", "hint")
        self.reuse_check = QCheckBox("reuse identical earlier fits", parent)
        for widget, key in ((self.factor_spin, "factor"), (self.resource_combo, "resource"),
                            (self.min_combo, "min_resources"), (self.max_spin, "max_resources"),
                            (self.aggressive_check, "aggressive"),
                            (self.async_check, "asynchronous"), (self.timeout_spin, "timeout"),
                            (self.prune_check, "prune"), (self.reuse_check, "reuse")):
            explain(widget, BUDGET_HELP[key])
        form.addRow("Factor", self.factor_spin)
        form.addRow("Resource", self.resource_combo)
        form.addRow("Min resources", self.min_combo)
        form.addRow("Max resources", self.max_spin)
        form.addRow("", self.aggressive_check)
        form.addRow("", self.async_check)
        form.addRow("Trial timeout", self.timeout_spin)
        form.addRow("", self.prune_check)
        form.addRow("", self.prune_note)
        form.addRow("", self.reuse_check)
        self._halving_rows = (self.factor_spin, self.resource_combo, self.min_combo,
                              self.max_spin, self.aggressive_check, self.async_check)
        self.set_values(SearchSpec())
        for spin in (self.factor_spin, self.timeout_spin):
            spin.valueChanged.connect(self._emit)
        self.max_spin.valueChanged.connect(self._emit)
        for combo in (self.resource_combo, self.min_combo):
            combo.currentTextChanged.connect(self._emit)
        for check in (self.aggressive_check, self.async_check, self.prune_check,
                      self.reuse_check):
            check.toggled.connect(self._emit)

    # ----- reading and writing ---------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The SearchSpec fields these rows set (halving's at their defaults unless the
        strategy halves, so another strategy's spec stays as it was)."""
        out = {
            "trial_timeout": self.timeout_spin.value() or None,
            "prune": "folds" if self.prune_check.isChecked() else None,
            "reuse": self.reuse_check.isChecked(),
        }
        if not is_halving(self._strategy):
            return {**{k: DEFAULTS[k] for k in _HALVING_FIELDS}, **out}
        return {
            "factor": _number(self.factor_spin.value()),
            "resource": self.resource_combo.currentText().strip() or "auto",
            "min_resources": self._min_resources(),
            "max_resources": self.max_spin.value() or None,
            "aggressive_elimination": self.aggressive_check.isChecked(),
            "asynchronous": self.async_check.isChecked(),
            **out,
        }

    def set_values(self, search: SearchSpec) -> None:
        self._updating = True
        try:
            self.factor_spin.setValue(float(search.factor))
            self.resource_combo.setCurrentText(search.resource)
            minimum = search.min_resources
            index = self.min_combo.findData(minimum) if not isinstance(minimum, int) else -1
            if index >= 0:
                self.min_combo.setCurrentIndex(index)
            else:
                self.min_combo.setCurrentText(str(minimum))
            self.max_spin.setValue(search.max_resources or 0)
            self.aggressive_check.setChecked(search.aggressive_elimination)
            self.async_check.setChecked(search.asynchronous)
            self.timeout_spin.setValue(search.trial_timeout or 0)
            self.prune_check.setChecked(search.prune == "folds")
            self.reuse_check.setChecked(search.reuse)
        finally:
            self._updating = False

    def set_strategy(self, strategy: str, *, by_user: bool = False) -> None:
        """Show halving's rows for the halving strategies. Switching to halving in the
        app starts asynchronous (the app's default; a spec's default is synchronous)."""
        was = is_halving(self._strategy)
        self._strategy = strategy
        halving = is_halving(strategy)
        for widget in self._halving_rows:
            self._form.setRowVisible(widget, halving)
        if by_user and halving and not was:
            self._updating = True
            self.async_check.setChecked(True)
            self._updating = False

    def _min_resources(self) -> int | str | None:
        text = self.min_combo.currentText().strip()
        index = self.min_combo.findText(text)
        if index >= 0:
            return self.min_combo.itemData(index)
        try:
            value = int(text)
        except ValueError:
            return None
        return value if value >= 1 else None

    def _emit(self, *_: object) -> None:
        if not self._updating:
            self.changed.emit()


_HALVING_FIELDS = ("factor", "resource", "min_resources", "max_resources",
                   "aggressive_elimination", "asynchronous")


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def trial_marks(table: TrialTable, index: int, column: str) -> str | None:
    """The trial table's tooltip for a reused trial (``"state"`` column) or a trial of a
    rung (``"number"`` column); None when there is nothing to say."""
    if column == "state":
        source = int(table.col("reused_from")[index])
        if source >= 0:
            return (f"reused: the scores of an identical fit in study #{source}, "
                    "not fitted again")
    if column == "number":
        amount = float(table.col("n_resources")[index])
        if amount == amount:  # not NaN: the trial ran on a budget
            budget = table.record(index).budget
            resource = budget.resource if budget is not None else "budget"
            return (f"rung {int(table.rung[index])}: {resource} = {amount:g}")
    return None

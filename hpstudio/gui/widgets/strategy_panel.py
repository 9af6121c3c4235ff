"""Strategy, budgets, cross-validation, metric and run settings.

Every option maps one-to-one onto a field of ``SearchSpec``, ``CVSpec`` or ``ScoringSpec``
so the panel round-trips any spec. Optional numbers use a spin box whose lowest value
reads "none", which keeps "not set" distinct from every real value without extra checkboxes.
The run settings (workers, cluster, allowed packages) are how to run, not part of the spec.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.spec import (
    ACQUISITIONS,
    INITIAL_GENERATORS,
    STRATEGIES,
    SURROGATES,
    CVSpec,
    ScoringSpec,
    SearchSpec,
)
from hpstudio.gui.resources import set_invalid
from hpstudio.gui.widgets.budget_options import BudgetOptions
from hpstudio.gui.widgets.explanations import (
    ACQUISITION_HELP,
    CV_HELP,
    GENERATOR_HELP,
    RUN_HELP,
    SEARCH_HELP,
    STRATEGY_HELP,
    SURROGATE_HELP,
    explain,
    explain_items,
    metric_help,
)
from hpstudio.gui.widgets.metrics_picker import MetricsPicker
from hpstudio.gui.widgets.splitter_picker import SplitterPicker

__all__ = ["ALLOW_RISK", "CLASSIFICATION_METRICS", "DEFAULT_METRIC_LABEL", "DEFAULT_TRIALS",
           "REGRESSION_METRICS", "StrategyPanel", "parse_packages"]

DEFAULT_METRIC_LABEL = "default (estimator's score: accuracy / r²)"
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "roc_auc",
                          "roc_auc_ovr", "neg_log_loss", "precision_macro", "recall_macro")
REGRESSION_METRICS = ("r2", "neg_mean_squared_error", "neg_root_mean_squared_error",
                      "neg_mean_absolute_error", "neg_median_absolute_error",
                      "explained_variance")
_METRIC_NOTES = {"roc_auc": " (binary)"}
_STRATEGY_LABELS = {"grid": "grid search", "random": "random search",
                    "bayes": "Bayesian optimisation",
                    "halving-grid": "successive halving (grid)",
                    "halving-random": "successive halving (random)"}
_MAX_INT = 2**31 - 1
#: The trial budget of random and Bayesian search when a spec names none (the spec reader's
#: default), shown instead of an empty budget when the user switches away from grid search.
DEFAULT_TRIALS = 50
#: What allowing a package means, said wherever a package can be allowed.
ALLOW_RISK = ("An allowed package's code runs when a study uses it; allow only packages "
              "you trust.")
_ALLOWED_HINT = (f"Packages besides scikit-learn whose estimator classes may be used, e.g. "
                 f"xgboost, lightgbm, imblearn. {ALLOW_RISK}")
_PACKAGE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_packages(text: str) -> tuple[str, ...]:
    """``"xgboost, lightgbm"`` as package names; ValueError names a word that is not one."""
    names: list[str] = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        if not _PACKAGE.fullmatch(word):
            raise ValueError(f"{word!r} is not a package name; write top-level names such as "
                             "xgboost, lightgbm")
        if word not in names:
            names.append(word)
    return tuple(names)


def _optional_spin(maximum: int = _MAX_INT, none_text: str = "none") -> QSpinBox:
    """A spin box whose value -1 means None (shown as ``none_text``)."""
    spin = QSpinBox()
    spin.setRange(-1, maximum)
    spin.setSpecialValueText(none_text)
    spin.setValue(-1)
    return spin


def _optional(spin: QSpinBox) -> int | None:
    return None if spin.value() < 0 else spin.value()


class StrategyPanel(QWidget):
    """The how of a study: search strategy and budgets, folds, metric, workers."""

    changed = Signal()  # anything that is part of the spec
    strategyChanged = Signal(str)
    runSettingsChanged = Signal()  # workers or cluster: how to run, not what
    allowedPackagesChanged = Signal(tuple)  # the user allowed other packages

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._task: str | None = None
        self._updating = False
        self._allowed: tuple[str, ...] = ()

        self.strategy_combo = QComboBox()
        for strategy in STRATEGIES:
            self.strategy_combo.addItem(_STRATEGY_LABELS[strategy], strategy)
        explain_items(self.strategy_combo, lambda key: STRATEGY_HELP.get(key, ""))
        self.trials_spin = QSpinBox()
        self.trials_spin.setRange(0, 10_000_000)
        self.trials_spin.setGroupSeparatorShown(True)
        self.seed_spin = _optional_spin()
        self.surrogate_combo = _combo(SURROGATES, SURROGATE_HELP)
        self.acquisition_combo = _combo(ACQUISITIONS, ACQUISITION_HELP)
        self.initial_points_spin = QSpinBox()
        self.initial_points_spin.setRange(1, 100_000)
        self.initial_generator_combo = _combo(INITIAL_GENERATORS, GENERATOR_HELP)
        self.time_limit_spin = QDoubleSpinBox()
        self.time_limit_spin.setRange(0, 1e9)
        self.time_limit_spin.setDecimals(3)
        self.time_limit_spin.setSuffix(" s")
        self.time_limit_spin.setSpecialValueText("none")
        self.patience_spin = _optional_spin(none_text="none")
        self.patience_spin.setMinimum(0)
        self.folds_spin = QSpinBox()
        self.folds_spin.setRange(2, 1000)
        self.shuffle_check = QCheckBox("shuffle before splitting")
        self.cv_seed_spin = _optional_spin()
        self.metric_combo = QComboBox()
        self.train_score_check = QCheckBox("also score the training folds")
        self.splitter_picker = SplitterPicker()
        self.metrics_picker = MetricsPicker()
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, os.cpu_count() or 1)
        self.workers_spin.setValue(os.cpu_count() or 1)
        self.cluster_edit = QLineEdit()
        self.cluster_edit.setPlaceholderText("empty = local workers")
        self.allowed_edit = QLineEdit()
        self.allowed_edit.setPlaceholderText("e.g. xgboost, lightgbm")
        self.allowed_risk = QLabel(ALLOW_RISK)
        self.allowed_risk.setWordWrap(True)
        self.allowed_risk.setProperty("role", "hint")
        for widget, text in ((self.trials_spin, SEARCH_HELP["trials"]),
                             (self.seed_spin, SEARCH_HELP["seed"]),
                             (self.initial_points_spin, SEARCH_HELP["initial_points"]),
                             (self.time_limit_spin, SEARCH_HELP["time_limit"]),
                             (self.patience_spin, SEARCH_HELP["patience"]),
                             (self.folds_spin, CV_HELP["folds"]),
                             (self.shuffle_check, CV_HELP["shuffle"]),
                             (self.cv_seed_spin, CV_HELP["seed"]),
                             (self.train_score_check, CV_HELP["train_score"]),
                             (self.workers_spin, RUN_HELP["workers"]),
                             (self.cluster_edit, RUN_HELP["cluster"]),
                             (self.allowed_edit, _ALLOWED_HINT)):
            explain(widget, text)

        self._search_form = QFormLayout()
        self._search_form.addRow("Strategy", self.strategy_combo)
        self._search_form.addRow("Trials", self.trials_spin)
        self._search_form.addRow("Seed", self.seed_spin)
        self._search_form.addRow("Surrogate", self.surrogate_combo)
        self._search_form.addRow("Acquisition", self.acquisition_combo)
        self._search_form.addRow("Initial points", self.initial_points_spin)
        self._search_form.addRow("Initial design", self.initial_generator_combo)
        self._search_form.addRow("Time limit", self.time_limit_spin)
        self._search_form.addRow("Patience", self.patience_spin)
        self.budget_options = BudgetOptions(self._search_form, self)  # halving, timeout, ...
        cv_form = QFormLayout()
        cv_form.addRow("Splitter", self.splitter_picker)
        cv_form.addRow("Folds", self.folds_spin)
        cv_form.addRow("", self.shuffle_check)
        cv_form.addRow("Split seed", self.cv_seed_spin)
        cv_form.addRow("Metric", self.metric_combo)
        cv_form.addRow("", self.train_score_check)
        cv_form.addRow(self.metrics_picker)
        run_form = QFormLayout()
        run_form.addRow("Workers", self.workers_spin)
        run_form.addRow("Cluster", self.cluster_edit)
        run_form.addRow("Allowed packages", self.allowed_edit)
        run_form.addRow(self.allowed_risk)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, form in (("Search", self._search_form), ("Cross-validation and metric", cv_form),
                            ("Run", run_form)):
            box = QGroupBox(title)
            box.setLayout(form)
            layout.addWidget(box)
        layout.addStretch(1)
        for form in (self._search_form, cv_form, run_form):
            _explain_labels(form)
        label = cv_form.labelForField(self.metric_combo)
        if label is not None:
            explain(label, CV_HELP["metric"])
        label = self._search_form.labelForField(self.strategy_combo)
        if label is not None:
            explain(label, "How the candidates are chosen: every combination, at random, or "
                           "guided by the trials so far")
        for combo in self.findChildren(QComboBox):  # long metric names must not widen the panel
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(9)

        self._fill_metrics(None, None)
        self.set_search(SearchSpec())
        self.set_cv(CVSpec())
        self.strategy_combo.currentIndexChanged.connect(self._on_strategy_changed)
        self.shuffle_check.toggled.connect(self._sync_enabled)
        for spin in (self.trials_spin, self.seed_spin, self.initial_points_spin,
                     self.patience_spin, self.folds_spin, self.cv_seed_spin):
            spin.valueChanged.connect(self._emit_changed)
        self.time_limit_spin.valueChanged.connect(self._emit_changed)
        for combo in (self.surrogate_combo, self.acquisition_combo, self.initial_generator_combo,
                      self.metric_combo):
            combo.currentIndexChanged.connect(self._emit_changed)
        for check in (self.shuffle_check, self.train_score_check):
            check.toggled.connect(self._emit_changed)
        self.splitter_picker.changed.connect(self._on_splitter_changed)
        self.metrics_picker.changed.connect(self._emit_changed)
        self.budget_options.changed.connect(self._emit_changed)
        self.workers_spin.valueChanged.connect(self.runSettingsChanged)
        self.cluster_edit.textChanged.connect(self.runSettingsChanged)
        self.allowed_edit.editingFinished.connect(self._on_allowed_edited)

    # ----- spec sections ----------------------------------------------------------------------
    def search(self) -> SearchSpec:
        strategy = self.strategy()
        trials = None if strategy == "halving-grid" else self.trials_spin.value() or None
        time_limit = self.time_limit_spin.value() or None
        return SearchSpec(strategy, trials, _optional(self.seed_spin), time_limit,
                          _optional(self.patience_spin) or None,
                          self.surrogate_combo.currentText(), self.acquisition_combo.currentText(),
                          self.initial_points_spin.value(),
                          self.initial_generator_combo.currentText(),
                          **self.budget_options.values())

    def set_search(self, search: SearchSpec) -> None:
        def apply() -> None:
            self.strategy_combo.setCurrentIndex(STRATEGIES.index(search.strategy))
            self._sync_trials_minimum()
            grid = search.strategy == "grid"
            self.trials_spin.setValue(search.n_trials or (0 if grid else DEFAULT_TRIALS))
            self.seed_spin.setValue(-1 if search.seed is None else search.seed)
            self.surrogate_combo.setCurrentText(search.surrogate)
            self.acquisition_combo.setCurrentText(search.acquisition)
            self.initial_points_spin.setValue(search.initial_points)
            self.initial_generator_combo.setCurrentText(search.initial_generator)
            self.time_limit_spin.setValue(search.time_limit or 0)
            self.patience_spin.setValue(search.patience or 0)
            self.budget_options.set_values(search)

        self._quietly(apply)
        self._sync_enabled()

    def cv(self) -> CVSpec:
        return self.splitter_picker.cv(CVSpec(self.folds_spin.value(),
                                              self.shuffle_check.isChecked(),
                                              _optional(self.cv_seed_spin)))

    def set_cv(self, cv: CVSpec) -> None:
        def apply() -> None:
            self.folds_spin.setValue(cv.folds)
            self.shuffle_check.setChecked(cv.shuffle)
            self.cv_seed_spin.setValue(-1 if cv.seed is None else cv.seed)
            self.splitter_picker.set_cv(cv)

        self._quietly(apply)
        self._sync_enabled()

    def scoring(self) -> ScoringSpec:
        return self.metrics_picker.scoring(self.metric_combo.currentData(),
                                           self.train_score_check.isChecked())

    def set_scoring(self, scoring: ScoringSpec) -> None:
        def apply() -> None:
            self._fill_metrics(self._task, self.metrics_picker.set_scoring(scoring))
            self.train_score_check.setChecked(scoring.train_score)

        self._quietly(apply)

    # ----- other settings ---------------------------------------------------------------------
    def strategy(self) -> str:
        return str(self.strategy_combo.currentData())

    def set_strategy(self, strategy: str, n_trials: int | None = None) -> None:
        """Switch strategy as the user would (emits); ``n_trials`` sets the trial budget."""
        self._quietly(lambda: self.strategy_combo.setCurrentIndex(STRATEGIES.index(strategy)))
        self.budget_options.set_strategy(strategy, by_user=True)
        self._sync_trials_minimum()
        if n_trials is not None:
            self._quietly(lambda: self.trials_spin.setValue(n_trials))
        self._sync_enabled()
        self.strategyChanged.emit(strategy)
        self.changed.emit()

    def set_task(self, task: str | None) -> None:
        """Offer the metrics that make sense for ``task``; keep the current one if it still does."""
        if task == self._task:
            return
        self._task = task
        current = self.metric_combo.currentData()
        valid = current is None or not isinstance(current, str) or current in _metrics_for(task)
        self._quietly(lambda: self._fill_metrics(task, current if valid else None))
        self._quietly(lambda: self.metrics_picker.set_task(task, _metrics_for(task)))
        if not valid:
            self.changed.emit()

    def metric_names(self) -> list[str | None]:
        """The metrics on offer, None standing for the estimator's own score."""
        return [self.metric_combo.itemData(i) for i in range(self.metric_combo.count())]

    def n_jobs(self) -> int:
        return self.workers_spin.value()

    def set_n_jobs(self, n_jobs: int) -> None:
        self.workers_spin.setValue(n_jobs)

    def cluster_address(self) -> str | None:
        return self.cluster_edit.text().strip() or None

    def set_cluster_address(self, address: str | None) -> None:
        self.cluster_edit.setText(address or "")

    def allowed_packages(self) -> tuple[str, ...]:
        return self._allowed

    def set_allowed_packages(self, packages: Iterable[str]) -> None:
        """Show ``packages`` in the field without emitting (restored settings)."""
        self._allowed = tuple(packages)
        self.allowed_edit.setText(", ".join(self._allowed))
        self._mark_allowed(None)

    def set_read_only(self, read_only: bool) -> None:
        for widget in self.findChildren(QWidget):
            if widget is self.allowed_edit:
                continue  # a setting of the app, not of the study shown
            if isinstance(widget, QComboBox | QSpinBox | QDoubleSpinBox | QCheckBox | QLineEdit
                          | QListWidget):
                widget.setEnabled(not read_only)
        if not read_only:
            self._sync_enabled()

    # ----- internals --------------------------------------------------------------------------
    def _fill_metrics(self, task: str | None, current: str | None) -> None:
        self.metric_combo.clear()
        self.metric_combo.addItem(DEFAULT_METRIC_LABEL, None)
        names = list(_metrics_for(task))
        if current is not None and current not in names:
            names.append(current)  # a spec may name any scikit-learn scorer; keep it
        for name in names:
            label = (name + _METRIC_NOTES.get(name, "") if isinstance(name, str)
                     else f"{name.key} (with arguments)")  # a scorer with arguments
            self.metric_combo.addItem(label, name)
        explain_items(self.metric_combo, metric_help)
        items = [self.metric_combo.itemData(i) for i in range(self.metric_combo.count())]
        self.metric_combo.setCurrentIndex(items.index(current) if current in items else 0)

    def _on_strategy_changed(self) -> None:
        if self._updating:
            return
        strategy = self.strategy()
        self.budget_options.set_strategy(strategy, by_user=True)
        self._sync_trials_minimum()
        self._sync_enabled()
        self.strategyChanged.emit(strategy)
        self.changed.emit()

    def _sync_trials_minimum(self) -> None:
        """Grid search may run every candidate (0 = no limit); the others need a budget,
        and get the spec's default one when grid search had none (not the spin's minimum)."""
        grid = self.strategy() == "grid"
        if not grid and self.trials_spin.value() == 0:
            self._quietly(lambda: self.trials_spin.setValue(DEFAULT_TRIALS))
        self.trials_spin.setMinimum(0 if grid else 1)
        self.trials_spin.setSpecialValueText("all candidates" if grid else "")

    def _sync_enabled(self) -> None:
        bayes = self.strategy() == "bayes"
        for widget in (self.surrogate_combo, self.acquisition_combo, self.initial_points_spin,
                       self.initial_generator_combo):
            self._search_form.setRowVisible(widget, bayes)
        self.seed_spin.setEnabled(self.strategy() != "grid")
        self._search_form.setRowVisible(self.trials_spin, self.strategy() != "halving-grid")
        self.budget_options.set_strategy(self.strategy())
        shorthand = self.splitter_picker.uses_shorthand()
        self.folds_spin.setEnabled(shorthand)
        self.shuffle_check.setEnabled(shorthand)
        self.cv_seed_spin.setEnabled(shorthand and self.shuffle_check.isChecked())

    def _on_splitter_changed(self) -> None:
        self._sync_enabled()
        self._emit_changed()

    def _on_allowed_edited(self) -> None:
        try:
            packages = parse_packages(self.allowed_edit.text())
        except ValueError as exc:
            self._mark_allowed(str(exc))
            return
        self._mark_allowed(None)
        if packages != self._allowed:
            self._allowed = packages
            self.allowedPackagesChanged.emit(packages)

    def _mark_allowed(self, error: str | None) -> None:
        set_invalid(self.allowed_edit, bool(error), error or "")
        if not error:
            explain(self.allowed_edit, _ALLOWED_HINT)

    def _emit_changed(self) -> None:
        if not self._updating:
            self.changed.emit()

    def _quietly(self, change: object) -> None:
        self._updating = True
        try:
            change()  # type: ignore[operator]
        finally:
            self._updating = False


def _metrics_for(task: str | None) -> tuple[str, ...]:
    if task == "classification":
        return CLASSIFICATION_METRICS
    if task == "regression":
        return REGRESSION_METRICS
    return CLASSIFICATION_METRICS + REGRESSION_METRICS


def _explain_labels(form: QFormLayout) -> None:
    """A row's label explains what its field does, like the field itself."""
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is None or field is None or label.widget() is None or field.widget() is None:
            continue
        if isinstance(field.widget(), QComboBox):
            continue  # a combo explains its current item, which the label should not follow
        text = field.widget().statusTip()
        if text:
            explain(label.widget(), text)


def _combo(items: tuple[str, ...], help_texts: dict[str, str]) -> QComboBox:
    combo = QComboBox()
    for item in items:
        combo.addItem(item, item)
    explain_items(combo, lambda key: help_texts.get(key, ""))
    return combo

"""More metrics than the one that ranks, and the rule that picks the best trial.

The panel's Metric field stays the metric that ranks the trials (``refit``); the metrics
ticked here are computed on every fold as well, under their scikit-learn names, and every
plot and the trial table can show them. The refit rule is either the highest mean score or
the simplest candidate within one standard deviation of the best, ordered by a parameter
of the space. A spec's scorers with arguments are kept as they are and listed here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from hpstudio.core.scoring import MetricSpec, entry_key
from hpstudio.core.spec import ScoringSpec
from hpstudio.gui.widgets.explanations import explain

__all__ = ["MetricsPicker", "entry_label"]

_DEFAULT_SCORER = {"classification": "accuracy", "regression": "r2"}
_RULES = (("best", "highest mean score"),
          ("simplest", "simplest within one std of the best"))


def entry_label(entry: str | MetricSpec) -> str:
    """How a metric reads in a list: its name, or a scorer with its arguments."""
    if isinstance(entry, str):
        return entry
    args = ", ".join(f"{k}={v!r}" for k, v in entry.args.items())
    source = entry.metric or entry.function or "?"
    return f"{entry.key}: {source}({args})" if args else f"{entry.key}: {source}"


class MetricsPicker(QWidget):
    """Extra metrics (checkable list) and the refit rule of a study."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.extra_list = QListWidget()
        self.extra_list.setMaximumHeight(96)
        explain(self.extra_list, "Metrics also computed on every fold; the plots and the trial "
                                 "table can show each of them")
        self.rule_combo = QComboBox()
        for key, label in _RULES:
            self.rule_combo.addItem(label, key)
        explain(self.rule_combo, "Which trial is the best: the highest mean score, or the "
                                 "simplest one whose mean is within one standard deviation "
                                 "of the best (scikit-learn's refit-callable example)")
        self.complexity_combo = QComboBox()
        self.complexity_combo.setEditable(True)
        self.complexity_combo.setToolTip("the parameter that orders candidates by complexity")
        self.simpler_combo = QComboBox()
        self.simpler_combo.addItem("lower is simpler", "lower")
        self.simpler_combo.addItem("higher is simpler", "higher")
        self.rule_box = QWidget()
        rule_row = QHBoxLayout(self.rule_box)
        rule_row.setContentsMargins(0, 0, 0, 0)
        rule_row.addWidget(self.complexity_combo, 1)
        rule_row.addWidget(self.simpler_combo)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Also score", self.extra_list)
        form.addRow("Best trial", self.rule_combo)
        form.addRow("", self.rule_box)
        self._task: str | None = None
        self._order: list[str] = []  # the metric keys in the order a spec gave them
        self._quiet = False
        self.extra_list.itemChanged.connect(lambda _item: self._emit())
        self.rule_combo.currentIndexChanged.connect(self._on_rule_changed)
        self.complexity_combo.currentTextChanged.connect(lambda _text: self._emit())
        self.simpler_combo.currentIndexChanged.connect(lambda _index: self._emit())
        self._fill([], [])
        self._sync_rule()

    # ----- the spec's [scoring] -------------------------------------------------------------
    def scoring(self, ranking: str | MetricSpec | None, train_score: bool) -> ScoringSpec:
        """The [scoring] section: ``ranking`` (the panel's Metric) ranks the trials."""
        rule = self.rule_combo.currentData()
        complexity = self.complexity_combo.currentText().strip() or None
        simpler = self.simpler_combo.currentData()
        rule_fields = (rule, complexity if rule == "simplest" else None,
                       simpler if rule == "simplest" else "lower")
        checked = self.checked()
        if not [e for e in checked if entry_key(e) != _key(ranking)]:
            if isinstance(ranking, MetricSpec):
                return ScoringSpec(None, train_score, (ranking,), None, *rule_fields)
            return ScoringSpec(ranking, train_score, (), None, *rule_fields)
        if ranking is None:  # the estimator's own score, by its scikit-learn name
            ranking = _DEFAULT_SCORER.get(self._task or "", checked[0])
        metrics = [ranking, *(e for e in checked if entry_key(e) != entry_key(ranking))]
        known = {key: i for i, key in enumerate(self._order)}
        metrics.sort(key=lambda e: known.get(entry_key(e), len(known)))
        return ScoringSpec(None, train_score, tuple(metrics), entry_key(ranking), *rule_fields)

    def set_scoring(self, scoring: ScoringSpec) -> str | MetricSpec | None:
        """Show ``scoring``; returns the metric that ranks (for the panel's Metric field)."""
        entries = list(scoring.metrics)
        ranking: str | MetricSpec | None = scoring.metric
        if entries:
            refit = scoring.refit or entry_key(entries[0])
            ranking = next((e for e in entries if entry_key(e) == refit), entries[0])
        self._order = [entry_key(e) for e in entries]
        self._quiet = True
        try:
            self._fill(self._offered(), [e for e in entries if e != ranking])
            self.rule_combo.setCurrentIndex(max(0, self.rule_combo.findData(
                scoring.refit_rule)))
            self.complexity_combo.setCurrentText(scoring.complexity or "")
            self.simpler_combo.setCurrentIndex(max(0, self.simpler_combo.findData(
                scoring.simpler)))
        finally:
            self._quiet = False
        self._sync_rule()
        return ranking

    def checked(self) -> list[str | MetricSpec]:
        out = []
        for row in range(self.extra_list.count()):
            item = self.extra_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def set_checked(self, names: Iterable[str]) -> None:
        """Tick these metrics (and untick the others), as the user would."""
        wanted = set(names)
        for row in range(self.extra_list.count()):
            item = self.extra_list.item(row)
            key = entry_key(item.data(Qt.ItemDataRole.UserRole))
            item.setCheckState(Qt.CheckState.Checked if key in wanted
                               else Qt.CheckState.Unchecked)

    def set_task(self, task: str | None, offered: Iterable[str]) -> None:
        """Offer ``offered`` metrics (those of the data's task); ticked ones stay."""
        self._task = task
        self._quiet = True
        try:
            self._fill(list(offered), self.checked())
        finally:
            self._quiet = False

    def set_param_names(self, names: Iterable[str]) -> None:
        """The space's parameters, offered as the complexity parameter."""
        names = list(names)
        current = [self.complexity_combo.itemText(i)
                   for i in range(self.complexity_combo.count())]
        if names == current:
            return
        text = self.complexity_combo.currentText()
        self._quiet = True
        try:
            self.complexity_combo.clear()
            self.complexity_combo.addItems(names)
            self.complexity_combo.setCurrentText(text)
        finally:
            self._quiet = False

    # ----- internals --------------------------------------------------------------------
    def _offered(self) -> list[str]:
        return [self.extra_list.item(r).data(Qt.ItemDataRole.UserRole)
                for r in range(self.extra_list.count())
                if isinstance(self.extra_list.item(r).data(Qt.ItemDataRole.UserRole), str)]

    def _fill(self, offered: list[str], checked: list[Any]) -> None:
        self.extra_list.blockSignals(True)
        try:
            self.extra_list.clear()
            keys = {entry_key(e) for e in checked}
            entries: list[Any] = list(offered)
            entries += [e for e in checked if entry_key(e) not in set(offered)]
            for entry in entries:
                item = QListWidgetItem(entry_label(entry))
                item.setData(Qt.ItemDataRole.UserRole, entry)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if entry_key(entry) in keys
                                   else Qt.CheckState.Unchecked)
                self.extra_list.addItem(item)
        finally:
            self.extra_list.blockSignals(False)

    def _on_rule_changed(self) -> None:
        self._sync_rule()
        self._emit()

    def _sync_rule(self) -> None:
        self.rule_box.setVisible(self.rule_combo.currentData() == "simplest")

    def _emit(self) -> None:
        if not self._quiet:
            self.changed.emit()


def _key(entry: str | MetricSpec | None) -> str | None:
    return None if entry is None else entry_key(entry)

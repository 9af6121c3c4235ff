"""The splitter of a study, with its parameters, and nested CV's outer folds.

The first choice is the folds shorthand (the panel's Folds / shuffle / seed fields, as
``cv=folds`` in scikit-learn); the others are every splitter class of
``sklearn.model_selection`` and a hold-out split, each with one field per parameter of
its constructor (empty: the default, shown as a hint). Values are read as the spec reads
them: numbers, true / false, None, a list such as [0, 1, -1], or text.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.spec import CVSpec
from hpstudio.core.splitters import (
    GROUP_SPLITTERS,
    HOLDOUT,
    SPLITTER_DEFAULTS,
    SPLITTER_PARAMS,
    describe,
)
from hpstudio.gui.widgets.explanations import explain

__all__ = ["SHORTHAND_LABEL", "SplitterPicker", "parse_value"]

SHORTHAND_LABEL = "k-fold (the folds below)"
_LABELS = {HOLDOUT: "hold-out (one train/test split)"}
_HINTS = {
    "KFold": "k folds in order (shuffled if asked)",
    "StratifiedKFold": "k folds keeping the class proportions",
    "GroupKFold": "k folds, each group entirely in one fold (needs the groups column)",
    "StratifiedGroupKFold": "groups kept whole, class proportions kept as far as possible",
    "RepeatedKFold": "k-fold repeated with different shuffles",
    "RepeatedStratifiedKFold": "stratified k-fold repeated with different shuffles; "
                               "what the corrected t-test is made for",
    "ShuffleSplit": "random train/test splits",
    "StratifiedShuffleSplit": "random splits keeping the class proportions",
    "GroupShuffleSplit": "random splits of whole groups",
    "LeaveOneOut": "each row is the test set once",
    "LeavePOut": "every set of p rows is the test set once",
    "LeaveOneGroupOut": "each group is the test set once",
    "LeavePGroupsOut": "every set of p groups is the test set once",
    "PredefinedSplit": "test folds given by the groups column (-1: always trained on)",
    "TimeSeriesSplit": "growing training windows, each tested on what follows",
    HOLDOUT: "one split made as train_test_split makes it",
}


def parse_value(key: str, text: str) -> Any:
    """A field's text as the value a spec would hold. Text that reads as nothing else stays
    text, so the spec's own checks name ``key`` and say what is expected (the editor's
    draft state, which undo records, must never fail to be read)."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class SplitterPicker(QWidget):
    """Splitter choice with a form of its parameters, and a nested-CV switch."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.addItem(SHORTHAND_LABEL, None)
        for name in SPLITTER_PARAMS:
            self.combo.addItem(_LABELS.get(name, name), name)
            self.combo.setItemData(self.combo.count() - 1, _HINTS.get(name, ""),
                                   Qt.ItemDataRole.ToolTipRole)
        explain(self.combo, "How the data is split for cross-validation: any splitter of "
                            "sklearn.model_selection")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "hint")
        self.params_box = QWidget()
        self._params_form = QFormLayout(self.params_box)
        self._params_form.setContentsMargins(12, 0, 0, 0)
        self.fields: dict[str, QLineEdit] = {}
        self.nested_check = QCheckBox("nested CV over")
        self.outer_spin = QSpinBox()
        self.outer_spin.setRange(2, 100)
        self.outer_spin.setValue(5)
        self.outer_spin.setSuffix(" outer folds")
        explain(self.nested_check, "Run the whole search again inside each outer fold and "
                                   "score its choice on the fold left out: an unbiased "
                                   "estimate of the tuned model (costs one search per fold)")
        self.outer_label = QLabel()
        nested = QHBoxLayout()
        nested.setContentsMargins(0, 0, 0, 0)
        nested.addWidget(self.nested_check)
        nested.addWidget(self.outer_spin)
        nested.addWidget(self.outer_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.hint)
        layout.addWidget(self.params_box)
        layout.addLayout(nested)
        self._outer: CVSpec | None = None  # an outer splitter from a spec, kept as it is
        self._quiet = False
        self.combo.currentIndexChanged.connect(self._on_splitter_changed)
        self.nested_check.toggled.connect(self._on_nested_toggled)
        self.outer_spin.valueChanged.connect(self._emit)
        self._build_fields(None)
        self._sync_nested()

    # ----- the spec's [cv] ----------------------------------------------------------------
    def splitter(self) -> str | None:
        return self.combo.currentData()

    def set_splitter(self, name: str | None) -> None:
        """Choose a splitter as the user would (emits ``changed``)."""
        self.combo.setCurrentIndex(max(0, self.combo.findData(name)))

    def set_param(self, name: str, text: str) -> None:
        self.fields[name].setText(text)

    def params(self) -> dict[str, Any]:
        """The parameters typed in (empty fields are left to their defaults)."""
        out = {}
        for name, field in self.fields.items():
            if field.text().strip():
                out[name] = parse_value(f"cv.params.{name}", field.text())
        return out

    def cv(self, shorthand: CVSpec) -> CVSpec:
        """The [cv] section: ``shorthand`` (the panel's folds fields) or the splitter."""
        outer = self.outer()
        name = self.splitter()
        if name is None:
            return replace(shorthand, splitter=None, params={}, outer=outer)
        return CVSpec(splitter=name, params=self.params(), outer=outer)

    def outer(self) -> CVSpec | None:
        if not self.nested_check.isChecked():
            return None
        if self._outer is not None:
            return self._outer
        return CVSpec(folds=self.outer_spin.value())

    def set_cv(self, cv: CVSpec) -> None:
        self._quiet = True
        try:
            self.combo.setCurrentIndex(max(0, self.combo.findData(cv.splitter)))
            self._build_fields(cv.splitter)
            for name, value in cv.params.items():
                if name in self.fields:
                    self.fields[name].setText(_text(value))
            outer = cv.outer
            self.nested_check.setChecked(outer is not None)
            simple = outer is not None and outer.splitter is None and not outer.shuffle
            self._outer = None if outer is None or simple else outer
            if simple:
                self.outer_spin.setValue(outer.folds)
        finally:
            self._quiet = False
        self._sync_nested()

    def uses_shorthand(self) -> bool:
        return self.splitter() is None

    # ----- internals --------------------------------------------------------------------
    def _build_fields(self, name: str | None) -> None:
        while self._params_form.rowCount():
            self._params_form.removeRow(0)
        self.fields = {}
        defaults = SPLITTER_DEFAULTS.get(name or "", {})
        for param in SPLITTER_PARAMS.get(name or "", ()):
            field = QLineEdit()
            if param == "test_fold":
                field.setPlaceholderText("from the groups column")
            elif param in defaults:
                field.setPlaceholderText(f"default: {_text(defaults[param])}")
            else:
                field.setPlaceholderText("required")
            field.textChanged.connect(self._emit)
            self._params_form.addRow(param, field)
            self.fields[param] = field
        self.params_box.setVisible(bool(self.fields))
        hint = _HINTS.get(name or "", "")
        if name in GROUP_SPLITTERS or name == "PredefinedSplit":
            hint += " · pick the groups column under Data"
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))

    def _on_splitter_changed(self) -> None:
        if self._quiet:
            return
        self._build_fields(self.splitter())
        self._emit()

    def _on_nested_toggled(self, on: bool) -> None:
        if not on:
            self._outer = None
        self._sync_nested()
        self._emit()

    def _sync_nested(self) -> None:
        kept = self._outer is not None
        self.outer_spin.setVisible(not kept)
        self.outer_spin.setEnabled(self.nested_check.isChecked())
        self.outer_label.setText(describe(self._outer) if kept else "")
        self.outer_label.setVisible(kept)

    def _emit(self, *_: object) -> None:
        if not self._quiet:
            self.changed.emit()


def _text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)

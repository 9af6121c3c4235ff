"""The pipeline as a row of steps: data → preprocessing → your steps → model.

Steps are added from a catalogue of scikit-learn transformers by family (each with a short
description, as the estimator catalogue has), removed, and moved left or right; the step
selected in the row shows its name, class and fixed parameters below it. The widget holds
the pipeline's part of the study spec (``[[steps]]`` and ``[estimator] name``) as a
:class:`PipelineState`, which the editor records for undo; the search space of each step is
edited in the space editor, where its parameters are grouped under it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import SpecError
from hpstudio.core.spec import (
    DEFAULT_ESTIMATOR_NAME,
    PASSTHROUGH,
    PREPROCESS_STEP,
    StepSpec,
    check_step_name,
)
from hpstudio.core.step_catalogue import FAMILIES, free_step_name, step_entry, steps_of_family
from hpstudio.gui.resources import INVALID_COLOR, set_invalid
from hpstudio.gui.widgets.message_line import MessageLine
from hpstudio.gui.widgets.space_editor import format_fixed, parse_fixed

__all__ = ["PipelineEditor", "PipelineState", "StepRow"]

MODEL = -1  # the selection index of the estimator's card
_CARD_STYLE = ("QToolButton {{ border: 1px solid {border}; border-radius: 6px; padding: 4px 8px;"
               " background: {background}; }} QToolButton:checked {{ border: 2px solid "
               "palette(highlight); }}")


@dataclass(frozen=True)
class StepRow:
    """One step as edited: its name, class path (or passthrough) and fixed-parameter text."""

    name: str
    cls: str
    fixed: str = ""


@dataclass(frozen=True)
class PipelineState:
    """The editable pipeline: the steps in order and the estimator's step name."""

    steps: tuple[StepRow, ...] = ()
    estimator_name: str = DEFAULT_ESTIMATOR_NAME

    @staticmethod
    def of(steps: tuple[StepSpec, ...], estimator_name: str) -> PipelineState:
        return PipelineState(tuple(StepRow(s.name, s.cls, format_fixed(s.fixed)) for s in steps),
                             estimator_name)


class PipelineEditor(QWidget):
    """Edits the pipeline's steps; ``pipelineChanged`` after every edit the user makes."""

    pipelineChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = PipelineState()
        self._selected: int | None = None  # a step index, MODEL, or None
        self._read_only = False
        self._data_label = "data"
        self._preprocessing: str | None = None
        self._model_path: str | None = None
        self._problems: dict[str, str] = {}  # step name -> why it cannot be built
        self._cards: list[QToolButton] = []
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)

        self.row = QWidget()
        self.row_layout = QHBoxLayout(self.row)
        self.row_layout.setContentsMargins(2, 2, 2, 2)
        scroll = QScrollArea()
        scroll.setWidget(self.row)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.scroll = scroll

        self.add_button = QToolButton()
        self.add_button.setText("+ Add step")
        self.add_button.setToolTip("Add a transformer after the selected step (or before the "
                                   "model), from scikit-learn's transformers by family")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setMenu(self._catalogue_menu())
        self.left_button = _button("◀", "Move the selected step one place earlier")
        self.right_button = _button("▶", "Move the selected step one place later")
        self.remove_button = _button("Remove", "Remove the selected step")
        self.left_button.clicked.connect(lambda: self._move_selected(-1))
        self.right_button.clicked.connect(lambda: self._move_selected(1))
        self.remove_button.clicked.connect(self._remove_selected)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("step name")
        self.name_edit.setMaximumWidth(160)
        self.name_edit.setToolTip("The step's name: its parameters are named name__parameter")
        self.class_label = QLabel()
        self.class_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a hint, not a control: on a narrow dock it gives its room up first
        self.class_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.fixed_edit = QLineEdit()
        self.fixed_edit.setPlaceholderText("fixed parameters, e.g. random_state=0")
        self.fixed_edit.setToolTip("Parameters the step gets in every trial, as name=value pairs")
        self.fixed_edit.setMinimumWidth(120)
        self.name_edit.textEdited.connect(self._on_name_edited)
        self.fixed_edit.textEdited.connect(self._on_fixed_edited)
        self.message = MessageLine(1)
        self.message.setStyleSheet(f"color: {INVALID_COLOR};")

        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        for widget in (self.add_button, self.left_button, self.right_button,
                       self.remove_button):
            tools.addWidget(widget)
        tools.addSpacing(12)
        tools.addWidget(QLabel("Step"))
        tools.addWidget(self.name_edit)
        tools.addWidget(self.class_label)
        tools.addWidget(self.fixed_edit, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        layout.addLayout(tools)
        layout.addWidget(self.message)
        self._rebuild()

    # ----- reading --------------------------------------------------------------------------
    def state(self) -> PipelineState:
        return self._state

    def estimator_name(self) -> str:
        return self._state.estimator_name

    def steps(self) -> tuple[StepSpec, ...]:
        """The ``[[steps]]`` as edited; SpecError naming the first problem."""
        steps = []
        taken = {self._state.estimator_name}
        check_step_name("estimator.name", self._state.estimator_name)
        for index, row in enumerate(self._state.steps):
            check_step_name(f"steps[{index}].name", row.name)
            if row.name in taken:
                raise SpecError(f"steps[{index}].name: {row.name!r} is already taken; give "
                                "each step its own name")
            taken.add(row.name)
            try:
                fixed = parse_fixed(row.fixed)
            except SpecError as exc:
                raise SpecError(str(exc).replace("estimator.fixed",
                                                 f"steps[{index}].fixed")) from None
            steps.append(StepSpec(row.name, row.cls, fixed))
        return tuple(steps)

    def problems(self) -> list[str]:
        """What keeps the pipeline from running: bad names or fixed text, classes that do
        not build (reported by the editor with :meth:`set_problems`)."""
        found = []
        try:
            self.steps()
        except SpecError as exc:
            found.append(str(exc))
        names = [r.name for r in self._state.steps] + [self._state.estimator_name]
        found += [self._problems[n] for n in names if n in self._problems]
        return found

    def selected(self) -> int | None:
        return self._selected

    # ----- changing -------------------------------------------------------------------------
    def set_state(self, state: PipelineState) -> None:
        """Show ``state`` without emitting (a spec was loaded, an edit undone)."""
        self._state = state
        if isinstance(self._selected, int) and self._selected >= len(state.steps):
            self._selected = len(state.steps) - 1 if state.steps else None
        self._rebuild()

    def add_step(self, path: str, name: str | None = None, index: int | None = None) -> int:
        """Add a step of class ``path`` (catalogue defaults for its name and fixed params);
        after the selected step, or before the model. Returns its index."""
        entry = step_entry(path)
        taken = {r.name for r in self._state.steps} | {self._state.estimator_name,
                                                        PREPROCESS_STEP}
        wanted = name or (entry.step_name if entry else path.rsplit(".", 1)[-1].lower())
        row = StepRow(free_step_name(wanted, taken), path,
                      format_fixed(entry.fixed) if entry else "")
        if index is None:
            index = self._selected + 1 if isinstance(self._selected, int) \
                and self._selected >= 0 else len(self._state.steps)
        steps = list(self._state.steps)
        steps.insert(index, row)
        self._selected = index
        self._edit(replace(self._state, steps=tuple(steps)))
        return index

    def remove_step(self, index: int) -> None:
        steps = list(self._state.steps)
        del steps[index]
        self._selected = min(index, len(steps) - 1) if steps else None
        self._edit(replace(self._state, steps=tuple(steps)))

    def move_step(self, index: int, delta: int) -> None:
        target = index + delta
        if not 0 <= target < len(self._state.steps):
            return
        steps = list(self._state.steps)
        steps[index], steps[target] = steps[target], steps[index]
        self._selected = target
        self._edit(replace(self._state, steps=tuple(steps)))

    def select(self, index: int | None) -> None:
        """Select a step by index, the model (``MODEL``) or nothing."""
        self._selected = index
        self._rebuild()

    def set_data(self, label: str, preprocessing: str | None) -> None:
        """What feeds the pipeline: the data's name and its preprocessing (None: none)."""
        if (label, preprocessing) != (self._data_label, self._preprocessing):
            self._data_label, self._preprocessing = label, preprocessing
            self._rebuild()

    def set_model(self, path: str | None) -> None:
        if path != self._model_path:
            self._model_path = path
            self._rebuild()

    def set_problems(self, problems: dict[str, str]) -> None:
        """Steps whose class cannot be built, by step name, with the reason."""
        if problems != self._problems:
            self._problems = dict(problems)
            self._rebuild()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self._sync_tools()

    # ----- internals ------------------------------------------------------------------------
    def _edit(self, state: PipelineState) -> None:
        self._state = state
        self._rebuild()
        self.pipelineChanged.emit()

    def _catalogue_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for family in FAMILIES:
            sub = menu.addMenu(family)
            sub.setToolTipsVisible(True)
            for entry in steps_of_family(family):
                action = sub.addAction(f"{entry.name} — {entry.description}")
                action.setToolTip(entry.path)
                action.triggered.connect(lambda _=False, p=entry.path: self.add_step(p))
        menu.addSeparator()
        placeholder = menu.addAction("passthrough — a placeholder a sub-space fills with a "
                                     "choice of step")
        placeholder.triggered.connect(lambda: self.add_step(PASSTHROUGH, "step"))
        return menu

    def _rebuild(self) -> None:
        for card in self._cards:
            self._group.removeButton(card)
        while self.row_layout.count():
            item = self.row_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._cards = []
        self._add_card(f"data\n{self._data_label}", "Where the rows come from", None)
        if self._preprocessing is not None:
            self._arrow()
            self._add_card(f"{PREPROCESS_STEP}\n{self._preprocessing}",
                           "The built-in preprocessing of the file's columns: its parameters "
                           "are under 'preprocess' in the search space", None)
        for index, row in enumerate(self._state.steps):
            self._arrow()
            entry = step_entry(row.cls)
            short = row.cls if row.cls == PASSTHROUGH else row.cls.rsplit(".", 1)[-1]
            tip = (entry.description + "\n" if entry else "") + row.cls
            self._add_card(f"{row.name}\n{short}", tip, index,
                           problem=self._problems.get(row.name))
        self._arrow()
        model = (self._model_path or "pick an estimator").rsplit(".", 1)[-1]
        self._add_card(f"{self._state.estimator_name}\n{model}",
                       "The estimator; choose it in the estimator catalogue. Its step name "
                       "prefixes its parameters (name__C) in a pipeline", MODEL,
                       problem=self._problems.get(self._state.estimator_name))
        self.row_layout.addStretch(1)
        tallest = max(card.sizeHint().height() for card in self._cards)
        margins = self.row_layout.contentsMargins()
        self.scroll.setFixedHeight(tallest + margins.top() + margins.bottom()
                                   + self.scroll.horizontalScrollBar().sizeHint().height())
        self._sync_details()
        self._sync_tools()

    def _add_card(self, text: str, tip: str, index: int | None,
                  problem: str | None = None) -> None:
        card = QToolButton()
        card.setText(text)
        card.setToolTip(f"{tip}\n{problem}" if problem else tip)
        card.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        card.setStyleSheet(_CARD_STYLE.format(
            border=INVALID_COLOR if problem else "palette(mid)",
            background="palette(alternate-base)" if index is None else "palette(base)"))
        if index is None:
            card.setEnabled(True)
            card.setCheckable(False)
            card.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        else:
            card.setCheckable(True)
            card.setChecked(index == self._selected)
            card.clicked.connect(lambda _=False, i=index: self.select(i))
            self._group.addButton(card)
        card.setProperty("step_index", index)
        self._cards.append(card)
        self.row_layout.addWidget(card)

    def _arrow(self) -> None:
        arrow = QLabel("→")
        arrow.setProperty("role", "hint")
        self.row_layout.addWidget(arrow)

    def cards(self) -> list[QToolButton]:
        """The row's cards in order (data, preprocessing, steps, model)."""
        return list(self._cards)

    def _sync_details(self) -> None:
        selected = self._selected
        row = self._state.steps[selected] if isinstance(selected, int) and selected >= 0 \
            else None
        if selected == MODEL:
            self.name_edit.setText(self._state.estimator_name)
            self.class_label.setText(f"estimator {(self._model_path or '').rsplit('.', 1)[-1]}"
                                     " (fixed parameters: in the search space)")
            self.fixed_edit.setText("")
        elif row is not None:
            self.name_edit.setText(row.name)
            self.class_label.setText(row.cls.rsplit(".", 1)[-1])
            self.fixed_edit.setText(row.fixed)
        else:
            self.name_edit.setText("")
            self.class_label.setText("select a step to rename it or fix its parameters")
            self.fixed_edit.setText("")
        problems = self.problems()
        self.message.setText(problems[0] if problems else "")
        try:
            self.steps()
            set_invalid(self.name_edit, False)
            set_invalid(self.fixed_edit, False)
        except SpecError as exc:
            fixed_problem = ".fixed" in str(exc)
            set_invalid(self.fixed_edit, fixed_problem, str(exc))
            set_invalid(self.name_edit, not fixed_problem, str(exc))

    def _sync_tools(self) -> None:
        editable = not self._read_only
        step = isinstance(self._selected, int) and self._selected >= 0
        self.add_button.setEnabled(editable)
        self.remove_button.setEnabled(editable and step)
        self.left_button.setEnabled(editable and step and self._selected > 0)
        self.right_button.setEnabled(
            editable and step and (self._selected or 0) < len(self._state.steps) - 1)
        self.name_edit.setReadOnly(not editable or self._selected is None)
        is_passthrough = step and self._state.steps[self._selected or 0].cls == PASSTHROUGH
        self.fixed_edit.setReadOnly(not editable or not step or is_passthrough)

    def _on_name_edited(self, text: str) -> None:
        if self._selected == MODEL:
            self._edit_keeping_focus(replace(self._state, estimator_name=text.strip()))
        elif isinstance(self._selected, int) and self._selected >= 0:
            steps = list(self._state.steps)
            steps[self._selected] = replace(steps[self._selected], name=text.strip())
            self._edit_keeping_focus(replace(self._state, steps=tuple(steps)))

    def _on_fixed_edited(self, text: str) -> None:
        if isinstance(self._selected, int) and self._selected >= 0:
            steps = list(self._state.steps)
            steps[self._selected] = replace(steps[self._selected], fixed=text)
            self._edit_keeping_focus(replace(self._state, steps=tuple(steps)))

    def _edit_keeping_focus(self, state: PipelineState) -> None:
        """An edit typed in a field: the cards change, the field keeps its text and cursor."""
        self._state = state
        focus = self.focusWidget()
        cursor = focus.cursorPosition() if isinstance(focus, QLineEdit) else None
        self._rebuild()
        if isinstance(focus, QLineEdit) and cursor is not None:
            focus.setFocus()
            focus.setCursorPosition(cursor)
        self.pipelineChanged.emit()

    def _move_selected(self, delta: int) -> None:
        if isinstance(self._selected, int) and self._selected >= 0:
            self.move_step(self._selected, delta)

    def _remove_selected(self) -> None:
        if isinstance(self._selected, int) and self._selected >= 0:
            self.remove_step(self._selected)


def _button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button


def describe_preprocessing(numeric: int, categorical: int, text: int) -> str:
    """The preprocessing card's text, e.g. "3 numbers, 1 category, 1 text"."""
    parts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in
             ((numeric, "number"), (categorical, "category"), (text, "text")) if n]
    return ", ".join(parts).replace("categorys", "categories") or "no columns"


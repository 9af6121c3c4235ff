"""The search-space editor: one table per sub-space, one row per hyperparameter.

Cells hold the text the user typed, and each row is turned into a core dimension by
``parse_dimension``, so the table accepts exactly what a spec file accepts and shows the
same error messages. Rows list every constructor parameter of the estimator; only ticked
rows enter the space, in the order they were ticked (so a loaded spec saves back with its
keys in their original order).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import SpecError
from hpstudio.core.estimators import CatalogueEntry
from hpstudio.core.pipeline import is_function_value, is_object_value
from hpstudio.core.search_options import GRID_STRATEGIES
from hpstudio.core.space import Dimension, FloatRange, IntRange, Values
from hpstudio.core.spec import parse_dimension
from hpstudio.gui.resources import INVALID_COLOR, invalid_cell_color, set_invalid

__all__ = [
    "COLUMNS",
    "ParamRow",
    "SpaceEditor",
    "SpaceState",
    "SubSpaceModel",
    "format_value",
    "format_values",
    "parse_fixed",
    "parse_values",
]

COLUMNS = ("Parameter", "Default", "Kind", "Values / low", "High", "Num / step", "Log")
NAME, DEFAULT, KIND, VALUES, HIGH, POINTS, LOG = range(len(COLUMNS))
#: A range's low bound shares the values column: a row uses one or the other, and a list of
#: values then spans the range columns, which keeps the table narrow.
LOW = VALUES
KINDS = {"values": "values", "int": "int range", "float": "float range"}
_MISSING = object()  # a parameter named by a spec but not (yet) known to be the estimator's
_Index = QModelIndex | QPersistentModelIndex

# ----- the value syntax of the cells ----------------------------------------------------------


def split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes and brackets: ``'a, "b,c", [1, 2]'`` has 3 items."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth < 0:
                raise ValueError("a closing bracket has no opening one")
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if quote or depth:
        raise ValueError("a quote or bracket is not closed")
    parts.append(text[start:].strip())
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing comma, as in "(50,)"
    return [] if parts == [""] else parts


def parse_token(token: str) -> Any:
    """One value: numbers, True/False, None, [lists], 'quoted' or bare strings."""
    if not token:
        raise ValueError("an item is empty")
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    if token[0] in "([":
        if token[-1] not in ")]":
            raise ValueError(f"{token!r} has no closing bracket")
        return [parse_token(t) for t in split_top_level(token[1:-1])]
    if _CALL.match(token):
        return _object_value(token)
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return token


_CALL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*\s*\(.*\)$", re.DOTALL)


def _object_value(token: str) -> Any:
    """An estimator written as a call (``PCA(n_components=5)``), read without running it."""
    from hpstudio.core.paste import parse_value

    try:
        return _tidy(parse_value(token))
    except SpecError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1] if str(exc).startswith("line ")
                         else str(exc)) from None


def _tidy(value: Any) -> Any:
    """A spec value as a spec file writes it (no empty ``fixed``)."""
    if isinstance(value, dict):
        tidy = {k: _tidy(v) for k, v in value.items()}
        if is_object_value(tidy) and not tidy.get("fixed", True):
            tidy.pop("fixed")
        return tidy
    if isinstance(value, list | tuple):
        return [_tidy(v) for v in value]
    return value


def python_text(value: Any) -> str:
    """A spec value as Python source that :func:`parse_token` reads back (objects as calls,
    scikit-learn classes and functions by their short names)."""
    if is_object_value(value):
        cls = value["class"]
        name = cls.rsplit(".", 1)[1] if cls.startswith("sklearn.") else cls
        fixed = value.get("fixed") or {}
        return f"{name}({', '.join(f'{k}={python_text(v)}' for k, v in fixed.items())})"
    if is_function_value(value):
        path = value["function"]
        return path.rsplit(".", 1)[1] if path.startswith("sklearn.") else path
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {python_text(v)}" for k, v in value.items()) + "}"
    return repr(value)


def parse_values(key: str, text: str) -> list[Any]:
    """The comma-separated cell text as a list (empty text is an empty list)."""
    try:
        return [parse_token(token) for token in split_top_level(text)]
    except ValueError as exc:
        raise SpecError(f"{key}: cannot read {text.strip()!r}: {exc}") from None


def format_value(value: Any) -> str:
    """Text that :func:`parse_token` reads back as ``value`` (1.0 stays a float, 'None' quoted)."""
    if hasattr(value, "item") and not isinstance(value, list | tuple | str):
        try:
            value = value.item()  # numpy scalars
        except (TypeError, ValueError):
            return repr(value)
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    if is_object_value(value) or is_function_value(value):
        return python_text(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, str):
        try:
            plain = parse_token(value) == value and value == value.strip()
        except ValueError:
            plain = False
        if plain and not any(c in value for c in ",'\"()[]"):
            return value
        return f'"{value}"' if '"' not in value else f"'{value}'"
    return repr(value)


def format_values(values: Sequence[Any]) -> str:
    return ", ".join(format_value(v) for v in values)


def parse_fixed(text: str) -> dict[str, Any]:
    """``random_state=0, max_iter=1000`` as a dict, for the estimator's fixed parameters."""
    try:
        items = split_top_level(text)
    except ValueError as exc:
        raise SpecError(f"estimator.fixed: cannot read {text.strip()!r}: {exc}") from None
    fixed: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier() or not value:
            raise SpecError(f"estimator.fixed: write name=value pairs separated by commas, "
                            f"e.g. random_state=0 (got {item!r})")
        try:
            fixed[name] = parse_token(value)
        except ValueError as exc:
            raise SpecError(f"estimator.fixed.{name}: {exc}") from None
    return fixed


def format_fixed(fixed: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={format_value(value)}" for name, value in fixed.items())


def _number(text: str) -> Any:
    """A bound as typed: a number when it reads as one, else the text (for the error message)."""
    return parse_token(text.strip()) if text.strip() else None


# ----- one row --------------------------------------------------------------------------------


@dataclass
class ParamRow:
    """The editable state of one hyperparameter in one sub-space (cell texts, not values)."""

    name: str
    default: Any = _MISSING
    known: bool | None = None  # None: the estimator's parameters are not loaded yet
    included: bool = False
    order: int = 0
    kind: str = "values"
    values: str = ""
    low: str = ""
    high: str = ""
    points: str = ""  # "5" (num) or "step 0.5"
    log: bool = False

    def load(self, dim: Dimension) -> None:
        """Show ``dim`` in the cells."""
        if isinstance(dim, Values):
            self.kind, self.values = "values", format_values(dim.values)
            return
        self.kind = "int" if isinstance(dim, IntRange) else "float"
        self.low, self.high, self.log = format_value(dim.low), format_value(dim.high), dim.log
        if dim.num is not None:
            self.points = str(dim.num)
        elif dim.step is not None:
            self.points = f"step {format_value(dim.step)}"
        else:
            self.points = ""


@dataclass(frozen=True)
class SpaceState:
    """What the user edited in the space editor: the fixed parameters' text and every
    sub-space's rows (ticked or not, as typed), and the tab shown.

    Kept per estimator, so switching to another estimator and back finds the space as it
    was, and by the editor's undo. The rows are copies: the state never changes after it
    was taken.
    """

    fixed: str
    subspaces: tuple[tuple[ParamRow, ...], ...]
    current: int = 0

    @staticmethod
    def row_key(row: ParamRow) -> tuple[Any, ...]:
        """A row's edited cells (its default is the estimator's, not the user's)."""
        return (row.name, row.included, row.order, row.kind, row.values, row.low, row.high,
                row.points, row.log)

    def key(self) -> tuple[Any, ...]:
        """The rows' edited cells, comparable (defaults such as NaN would not compare)."""
        return tuple(tuple(self.row_key(r) for r in rows) for rows in self.subspaces)


def suggested_dimension(default: Any) -> Dimension | None:
    """What ticking a parameter without a catalogue range starts from: its default."""
    if isinstance(default, bool):
        return Values((default, not default))
    if default is None or isinstance(default, int | float | str):
        return Values((default,))
    return None


def row_dimension(row: ParamRow, key: str, strategy: str) -> tuple[Dimension | None,
                                                                   dict[int, str]]:
    """The row as a dimension, or the errors per column (messages from ``parse_dimension``)."""
    if row.kind == "values":
        try:
            return parse_dimension(key, parse_values(key, row.values)), {}
        except SpecError as exc:
            return None, {VALUES: str(exc)}
    raw: dict[str, Any] = {}
    try:
        for bound, text in (("low", row.low), ("high", row.high)):
            if text.strip():
                raw[bound] = _bound(key, bound, text, row.kind)
        if row.log:
            raw["log"] = True
        points = row.points.strip()
        if points.lower().startswith("step"):
            raw["step"] = _bound(key, "step", points[4:].lstrip(" =:") or "?", row.kind)
        elif points:
            raw["num"] = _number(points)
        dim = parse_dimension(key, raw)
        if (strategy in GRID_STRATEGIES and isinstance(dim, FloatRange)
                and dim.num is None and dim.step is None):
            dim.grid(key)  # raises: grid search needs points on a float range
    except SpecError as exc:
        return None, _error_columns(str(exc), key, row)
    except ValueError as exc:
        return None, {LOW: f"{key}: {exc}"}
    return dim, {}


def _bound(key: str, bound: str, text: str, kind: str) -> Any:
    value = _number(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value  # parse_dimension words the error
    if kind == "float":
        return float(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise SpecError(f"{key}.{bound}: an int range needs whole numbers, got {text.strip()}")
        return int(value)
    return value


def _error_columns(message: str, key: str, row: ParamRow) -> dict[int, str]:
    """Which cells an error from ``parse_dimension`` is about."""
    columns: list[int] = []
    if f"{key}.low" in message or "needs low > 0" in message:
        columns.append(LOW)
    if f"{key}.high" in message:
        columns.append(HIGH)
    if "greater than high" in message or "bounds must be finite" in message:
        columns += [LOW, HIGH]
    if "both `low` and `high`" in message:
        columns += [c for c, t in ((LOW, row.low), (HIGH, row.high)) if not t.strip()]
    if any(s in message for s in (f"{key}.num", f"{key}.step", "`num`", "`step`")):
        columns.append(POINTS)
    return dict.fromkeys(columns or [LOW], message)


# ----- the model of one sub-space -------------------------------------------------------------


class SubSpaceModel(QAbstractTableModel):
    """Rows of one sub-space; cells marked red with the reason in their tooltip."""

    changed = Signal()

    def __init__(self, rows: list[ParamRow], index: int = 0, strategy: str = "grid",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: tuple[str, ...] = ()  # the pipeline's step names, estimator's last
        self._given: tuple[Mapping[str, Any], str, Mapping[str, Dimension]] | None = None
        self._choices: dict[str, dict[str, Any]] = {}  # group -> the chosen classes' params
        self._choices_key: tuple[Any, ...] = ()
        self._rows = sorted(rows, key=lambda r: self._order(r.name))
        self._index = index
        self._strategy = strategy
        self._estimator_name = "the estimator"
        self._read_only = False
        self._next_order = max((r.order for r in rows), default=0) + 1
        self._errors: list[dict[int, str]] = []
        self._dims: list[Dimension | None] = []
        self._validate_all()

    # ----- reading ----------------------------------------------------------------------------
    @property
    def rows(self) -> list[ParamRow]:
        return self._rows

    def row_of(self, name: str) -> int:
        for number, row in enumerate(self._rows):
            if row.name == name:
                return number
        raise KeyError(f"no parameter {name!r} in this sub-space")

    def cell(self, name: str, column: int) -> QModelIndex:
        return self.index(self.row_of(name), column)

    def key(self, row: ParamRow) -> str:
        return f"space[{self._index}].{row.name}"

    def errors(self) -> list[str]:
        """Messages of included rows that do not parse, in row order (one per row)."""
        found = [next(iter(e.values())) for r, e in zip(self._rows, self._errors, strict=True)
                 if r.included and e]
        if not any(r.included for r in self._rows):
            found.append(f"space[{self._index}]: empty sub-space; tick at least one "
                         "hyperparameter")
        return found

    def cell_error(self, row: int, column: int) -> str | None:
        return self._errors[row].get(column) if self._rows[row].included else None

    def dimensions(self) -> dict[str, Dimension]:
        """Ticked rows as dimensions, in the order they were ticked; SpecError if any is bad."""
        errors = self.errors()
        if errors:
            raise SpecError(errors[0])
        chosen = sorted((r.order, r.name, d) for r, d in zip(self._rows, self._dims, strict=True)
                        if r.included)
        return {name: dim for _, name, dim in chosen if dim is not None}

    def clone_rows(self) -> list[ParamRow]:
        return [replace(r) for r in self._rows]

    # ----- changing (from code) ---------------------------------------------------------------
    def set_index(self, index: int) -> None:
        self._index = index
        self._revalidate()

    def set_strategy(self, strategy: str) -> None:
        self._strategy = strategy
        self._revalidate()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self._revalidate()

    def set_groups(self, groups: Sequence[str]) -> None:
        """Group rows by pipeline step (``groups``: step names, the estimator's last): each
        step's own row and its ``step__param`` rows come together, in pipeline order."""
        groups = tuple(groups)
        if groups == self._groups:
            return
        self.beginResetModel()
        self._groups = groups
        order = sorted(range(len(self._rows)), key=lambda i: self._order(self._rows[i].name))
        self._rows = [self._rows[i] for i in order]
        self._errors = [self._errors[i] for i in order]
        self._dims = [self._dims[i] for i in order]
        self.endResetModel()

    def canonical(self, name: str) -> str:
        """The estimator's parameters are offered by their bare names (``C``); in a pipeline
        ``model__C`` names the same one, so a row of either name is that parameter."""
        if self._groups:
            prefix = f"{self._groups[-1]}__"
            if name.startswith(prefix):
                return name[len(prefix):]
        return name

    def group_of(self, name: str) -> str | None:
        """The step a row belongs to (None without groups)."""
        if not self._groups:
            return None
        head = name.split("__", 1)[0]
        return head if head in self._groups[:-1] else self._groups[-1]

    def _order(self, name: str) -> tuple[int, int, str]:
        group = self.group_of(name)
        rank = self._groups.index(group) if group is not None else 0
        itself = 0 if name == group else 1  # the step's own row (a choice) leads its group
        return rank, itself, name

    def choice_values(self, name: str) -> tuple[Any, ...] | None:
        """The values of a ticked row that reads as a list (None otherwise)."""
        for row, dim in zip(self._rows, self._dims, strict=True):
            if row.name == name and row.included and isinstance(dim, Values):
                return dim.values
        return None

    def set_choices(self, choices: Mapping[str, Mapping[str, Any]]) -> None:
        """Steps (or the estimator) this sub-space chooses, with the chosen classes'
        parameters (bare names, with defaults): their rows replace the group's own."""
        key = tuple(sorted((group, tuple(sorted(params))) for group, params in choices.items()))
        if key == self._choices_key:
            return
        self._choices_key, self._choices = key, {g: dict(p) for g, p in choices.items()}
        if self._given is not None:
            self.set_parameters(*self._given)

    def _effective(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for group, chosen in self._choices.items():
            is_estimator = bool(self._groups) and group == self._groups[-1]
            out = {n: v for n, v in out.items() if n == group or self.group_of(n) != group}
            out.update({(p if is_estimator else f"{group}__{p}"): v for p, v in chosen.items()})
        return out

    def set_parameters(self, params: Mapping[str, Any], estimator_name: str,
                       prefill: Mapping[str, Dimension]) -> None:
        """The estimator's real parameters arrived: add missing rows, flag unknown names.

        Rows no longer offered (a step removed) go when unticked; ticked ones stay, flagged.
        """
        self._given = (params, estimator_name, prefill)
        params = self._effective(params)
        self._estimator_name = estimator_name
        stale = [i for i, r in enumerate(self._rows)
                 if not r.included and self.canonical(r.name) not in params
                 and r.known is not None]
        for number in reversed(stale):
            self.beginRemoveRows(QModelIndex(), number, number)
            del self._rows[number], self._errors[number], self._dims[number]
            self.endRemoveRows()
        for row in self._rows:
            row.known = self.canonical(row.name) in params
            row.default = params.get(self.canonical(row.name), _MISSING)
        present = {self.canonical(r.name) for r in self._rows}
        for name in sorted(set(params) - present):
            row = ParamRow(name, params[name], known=True)
            dim = prefill.get(name) or suggested_dimension(params[name])
            if dim is not None:
                row.load(dim)
            position = sum(self._order(r.name) < self._order(name) for r in self._rows)
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, row)
            self._errors.insert(position, {})
            self._dims.insert(position, None)
            self.endInsertRows()
        self._revalidate()

    def include(self, name: str, included: bool = True) -> None:
        self.setData(self.cell(name, NAME), Qt.CheckState.Checked if included
                     else Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)

    # ----- Qt model interface -----------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return _COLUMN_HINTS.get(section)
        elif self._groups and 0 <= section < len(self._rows):
            group = self.group_of(self._rows[section].name)
            first = section == 0 or self.group_of(self._rows[section - 1].name) != group
            if role == Qt.ItemDataRole.DisplayRole:
                return group if first else ""
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"parameters of the step {group}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._read_only or not index.isValid():
            return flags
        row, column = self._rows[index.row()], index.column()
        is_range = row.kind != "values"
        if column == NAME or (column == LOG and is_range):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        elif column in (KIND, VALUES) or (column in (HIGH, POINTS) and is_range):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        error = self.cell_error(index.row(), column)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.CheckStateRole:
            if column == NAME:
                return _check_state(row.included)
            if column == LOG and row.kind != "values":
                return _check_state(row.log)
            return None
        if role == Qt.ItemDataRole.BackgroundRole and error:
            return invalid_cell_color()
        if role == Qt.ItemDataRole.ToolTipRole:
            return error or self._hint(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and (not row.included or column == DEFAULT):
            return QColor(128, 128, 128)
        if role == Qt.ItemDataRole.FontRole and column == NAME and row.included:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or self._read_only:
            return False
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.CheckStateRole and column in (NAME, LOG):
            checked = _is_checked(value)
            if column == NAME:
                self._set_included(row, checked)
            else:
                row.log = checked
                self._set_included(row, True)
        elif role == Qt.ItemDataRole.EditRole and column == KIND:
            kind = _kind_from(value)
            if kind is None:
                return False
            self._change_kind(row, kind)
            self._set_included(row, True)
        elif role == Qt.ItemDataRole.EditRole and column in (VALUES, HIGH, POINTS):
            attribute = {VALUES: "low" if row.kind != "values" else "values", HIGH: "high",
                         POINTS: "points"}[column]
            setattr(row, attribute, "" if value is None else str(value))
            self._set_included(row, True)
        else:
            return False
        self._validate(index.row())
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), LOG))
        self.changed.emit()
        return True

    # ----- internals --------------------------------------------------------------------------
    def _text(self, row: ParamRow, column: int) -> str:
        is_range = row.kind != "values"
        if column == NAME:
            group = self.group_of(row.name)
            if group is None:
                return row.name
            if row.name == group:
                return "⟨the step itself⟩"
            return row.name.removeprefix(f"{group}__")
        if column == DEFAULT:
            return "" if row.default is _MISSING else format_value(row.default)
        if column == KIND:
            return KINDS[row.kind]
        if column == VALUES:
            return row.low if is_range else row.values
        if column in (HIGH, POINTS) and is_range:
            return {HIGH: row.high, POINTS: row.points}[column]
        return ""

    def _hint(self, row: ParamRow, column: int) -> str | None:
        if column == NAME and row.name == self.group_of(row.name):
            return (f"Tick to choose {row.name} itself: list estimators such as PCA(), "
                    "NMF(max_iter=1000) or passthrough; give each its own sub-space with its "
                    "parameters")
        if column == NAME:
            default = "" if row.default is _MISSING else f" (default {format_value(row.default)})"
            return f"Tick to search over {row.name}{default}"
        if column == VALUES and row.kind != "values":
            return _LOW_HINT
        return _COLUMN_HINTS.get(column)

    def _set_included(self, row: ParamRow, included: bool) -> None:
        if included and not row.included:
            row.order = self._next_order
            self._next_order += 1
        row.included = included

    def _change_kind(self, row: ParamRow, kind: str) -> None:
        """Carry what the user typed across a kind change instead of starting empty."""
        if kind == row.kind:
            return
        if row.kind == "values" and not (row.low or row.high):
            try:
                numbers = [v for v in parse_values("", row.values)
                           if isinstance(v, int | float) and not isinstance(v, bool)]
            except SpecError:
                numbers = []
            if len(set(numbers)) > 1:  # one default is no range: leave the bounds to the user
                cast = float if kind == "float" else int
                row.low, row.high = format_value(cast(min(numbers))), format_value(
                    cast(max(numbers)))
        elif kind == "values" and not row.values and row.low and row.high:
            row.values = f"{row.low}, {row.high}"
        if kind == "float" and self._strategy in GRID_STRATEGIES and not row.points:
            row.points = "5"
        row.kind = kind

    def _validate(self, number: int) -> None:
        row = self._rows[number]
        dim, errors = row_dimension(row, self.key(row), self._strategy)
        if row.known is False:
            errors = {NAME: f"{self.key(row)}: {self._estimator_name} has no parameter "
                            f"{row.name!r}; untick it"}
            dim = None
        self._errors[number], self._dims[number] = errors, dim

    def _validate_all(self) -> None:
        self._errors = [{} for _ in self._rows]
        self._dims = [None for _ in self._rows]
        for number in range(len(self._rows)):
            self._validate(number)

    def _revalidate(self) -> None:
        self._validate_all()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, LOG))
        self.changed.emit()


_LOW_HINT = "Lowest value of the range (inclusive)"
_FIXED_HINT = "Parameters passed unchanged to every trial, as name=value pairs"
_COLUMN_HINTS = {
    VALUES: "Comma-separated values: numbers, True/False, None, text; quote text with commas. "
            "For a range: its lowest value",
    HIGH: "Highest value of the range (inclusive)",
    POINTS: "Grid points: a count (5) or a step (step 0.5); may stay empty for random or "
            "Bayesian search",
    LOG: "Spread points and samples on a log scale (for C, alpha, gamma, learning rates)",
    KIND: "values: try exactly these; int / float range: a low–high interval",
}


def _check_state(checked: bool) -> Qt.CheckState:
    return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked


def _is_checked(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    return int(value) == Qt.CheckState.Checked.value


def _kind_from(value: Any) -> str | None:
    text = str(value).strip().lower()
    for kind, label in KINDS.items():
        if text in (kind, label):
            return kind
    return None


class _KindDelegate(QStyledItemDelegate):
    """A combo box for the Kind column, committed as soon as an entry is picked."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: _Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(list(KINDS.values()))
        combo.activated.connect(lambda _=0: self.commitData.emit(combo))
        return combo

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole)))

    def setModelData(self, editor: QWidget, model: Any, index: _Index) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


# ----- the editor widget ----------------------------------------------------------------------


class SpaceEditor(QWidget):
    """Sub-spaces as tabs over :class:`SubSpaceModel` tables, plus the fixed parameters,
    the live count of candidates and fits, and the duration estimate."""

    spaceChanged = Signal()
    randomRequested = Signal()
    bayesRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params: dict[str, Any] | None = None  # the estimator's parameters, once known
        self._estimator_name = "the estimator"
        self._prefill: dict[str, Dimension] = {}
        self._step_prefill: dict[str, Dimension] = {}  # catalogue ranges of pipeline steps
        self._groups: tuple[str, ...] = ()
        self._strategy = "grid"
        self._read_only = False
        self._models: list[SubSpaceModel] = []
        self._rebuilding = False
        self._kind_delegate = _KindDelegate(self)

        self.fixed_edit = QLineEdit()
        self.fixed_edit.setPlaceholderText("e.g. random_state=0, max_iter=1000")
        self.fixed_edit.setToolTip(_FIXED_HINT)
        self.fixed_edit.textChanged.connect(self._on_fixed_changed)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.add_button = _tool_button("+ Add", "Add an empty sub-space (another dict of the "
                                       "param_grid list)")
        self.duplicate_button = _tool_button("Duplicate", "Copy the current sub-space")
        self.remove_button = _tool_button("Remove", "Remove the current sub-space")
        self.add_button.clicked.connect(lambda: self.add_subspace())
        self.duplicate_button.clicked.connect(lambda: self.duplicate_subspace())
        self.remove_button.clicked.connect(lambda: self.remove_subspace())
        corner = QWidget()
        corner_layout = QHBoxLayout(corner)
        corner_layout.setContentsMargins(0, 0, 0, 2)
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            corner_layout.addWidget(button)
        self.tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)

        self.count_label = QLabel()
        font = self.count_label.font()
        font.setBold(True)
        self.count_label.setFont(font)
        self.estimate_label = QLabel()
        self.estimate_label.setProperty("role", "hint")
        self.estimate_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                         | Qt.AlignmentFlag.AlignVCenter)
        # The text varies with every edit; it must never widen the window.
        self.estimate_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        self.explosion_frame = QFrame()
        self.explosion_frame.setObjectName("explosion")
        self.explosion_frame.setStyleSheet(
            "#explosion { background: rgba(230, 150, 20, 40); border: 1px solid "
            "rgba(230, 150, 20, 140); border-radius: 4px; }")
        self.explosion_label = QLabel()
        self.explosion_label.setWordWrap(True)
        self.random_button = QPushButton("Use random search (60 trials)")
        self.bayes_button = QPushButton("Use Bayesian search (60 trials)")
        self.random_button.clicked.connect(self.randomRequested)
        self.bayes_button.clicked.connect(self.bayesRequested)
        explosion = QHBoxLayout(self.explosion_frame)
        explosion.addWidget(self.explosion_label, 1)
        explosion.addWidget(self.random_button)
        explosion.addWidget(self.bayes_button)
        self.explosion_frame.hide()

        fixed_row = QHBoxLayout()
        fixed_row.addWidget(QLabel("Fixed parameters"))
        fixed_row.addWidget(self.fixed_edit, 1)
        count_row = QHBoxLayout()
        count_row.addWidget(self.count_label)
        count_row.addWidget(self.estimate_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(fixed_row)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(count_row)
        layout.addWidget(self.explosion_frame)
        self._set_models([SubSpaceModel([], 0, self._strategy, self)])

    # ----- loading ----------------------------------------------------------------------------
    def set_space(self, subspaces: Sequence[Mapping[str, Dimension]], fixed: Mapping[str, Any],
                  entry: CatalogueEntry | None = None,
                  params: Mapping[str, Any] | None = None, estimator_name: str = "") -> None:
        """Show a spec's sub-spaces; ``params`` when the estimator's parameters are known."""
        self._prefill = dict(entry.space) if entry else {}
        self._estimator_name = estimator_name or "the estimator"
        self._params = dict(params) if params is not None else None
        self._show_subspaces(subspaces)
        self.fixed_edit.blockSignals(True)
        self.fixed_edit.setText(format_fixed(fixed))
        self.fixed_edit.blockSignals(False)
        self._check_fixed()
        self.spaceChanged.emit()

    def replace_subspaces(self, subspaces: Sequence[Mapping[str, Dimension]]) -> None:
        """Show these sub-spaces instead of the current ones (a pasted ``param_grid``), for
        the same estimator and fixed parameters: one change, one ``spaceChanged``."""
        self._show_subspaces(subspaces)
        self.spaceChanged.emit()

    def _show_subspaces(self, subspaces: Sequence[Mapping[str, Dimension]]) -> None:
        """One tab per sub-space, every given parameter ticked (one empty tab for none)."""
        models = []
        for index, sub in enumerate(subspaces):
            rows = []
            for order, (name, dim) in enumerate(sub.items()):
                row = ParamRow(name, included=True, order=order)
                row.load(dim)
                rows.append(row)
            models.append(self._new_model(rows, index))
        self._set_models(models or [self._new_model([], 0)])

    def reset_for_estimator(self, entry: CatalogueEntry | None,
                            params: Mapping[str, Any] | None = None,
                            estimator_name: str = "") -> None:
        """A newly picked estimator starts from its catalogue space and fixed parameters."""
        space = [dict(entry.space)] if entry and entry.space else [{}]
        self.set_space(space, entry.fixed if entry else {}, entry, params, estimator_name)

    def snapshot(self) -> SpaceState:
        """The edited state, to come back to with :meth:`restore`."""
        return SpaceState(self.fixed_edit.text(),
                          tuple(tuple(model.clone_rows()) for model in self._models),
                          max(0, self.tabs.currentIndex()))

    def restore(self, state: SpaceState, entry: CatalogueEntry | None = None,
                params: Mapping[str, Any] | None = None, estimator_name: str = "") -> None:
        """Show ``state`` again (rows as they were typed), for the estimator it was taken of."""
        self._prefill = dict(entry.space) if entry else {}
        self._estimator_name = estimator_name or "the estimator"
        self._params = dict(params) if params is not None else None
        models = [self._new_model([replace(row) for row in rows], index)
                  for index, rows in enumerate(state.subspaces)]
        models = models or [self._new_model([], 0)]
        self._set_models(models, current=min(state.current, len(models) - 1))
        self.fixed_edit.blockSignals(True)
        self.fixed_edit.setText(state.fixed)
        self.fixed_edit.blockSignals(False)
        self._check_fixed()
        self.spaceChanged.emit()

    def set_parameters(self, params: Mapping[str, Any], estimator_name: str,
                       step_prefill: Mapping[str, Dimension] | None = None) -> None:
        """The estimator's ``get_params()`` arrived (from a worker thread, via the editor);
        with a pipeline, the steps' rows (``step__param``) and their catalogue ranges too."""
        self._params = dict(params)
        self._estimator_name = estimator_name
        if step_prefill is not None:
            self._step_prefill = dict(step_prefill)
        for model in self._models:
            model.set_parameters(self._params, estimator_name, self._prefills())
        self._check_fixed()
        for view in self._views():
            assert isinstance(view, _SubSpaceView)
            view.fit_columns()

    def parameters_known(self) -> bool:
        return self._params is not None

    def set_groups(self, groups: Sequence[str]) -> None:
        """Group the rows by pipeline step (step names in order, the estimator's last);
        an empty sequence: a plain estimator, no groups."""
        self._groups = tuple(groups)
        for model in self._models:
            model.set_groups(self._groups)
        for view in self._views():
            view.verticalHeader().setVisible(bool(self._groups))

    def groups(self) -> tuple[str, ...]:
        """The pipeline's step names, the estimator's last (empty before it is known)."""
        return self._groups

    def _prefills(self) -> dict[str, Dimension]:
        return {**self._step_prefill, **self._prefill}

    # ----- reading ----------------------------------------------------------------------------
    def space(self) -> tuple[dict[str, Dimension], ...]:
        return tuple(model.dimensions() for model in self._models)

    def fixed_params(self) -> dict[str, Any]:
        fixed = parse_fixed(self.fixed_edit.text())
        if self._params is not None:
            for name in fixed:
                if name not in self._params:
                    raise SpecError(f"estimator.fixed.{name}: {self._estimator_name} has no "
                                    f"parameter {name!r}")
        return fixed

    def errors(self) -> list[str]:
        found = [e for model in self._models for e in model.errors()]
        try:
            self.fixed_params()
        except SpecError as exc:
            found.append(str(exc))
        return found

    def state_key(self) -> tuple[Any, ...]:
        """The edited state (ticked rows' cell texts, fixed text) as a comparable value."""
        return (self.fixed_edit.text(), tuple(
            tuple((r.name, r.order, r.kind, r.values, r.low, r.high, r.points, r.log)
                  for r in model.rows if r.included)
            for model in self._models))

    def subspace_count(self) -> int:
        return len(self._models)

    def model(self, index: int = -1) -> SubSpaceModel:
        return self._models[index]

    def view(self, index: int = -1) -> QTableView:
        widget = self.tabs.widget(index if index >= 0 else self.tabs.count() + index)
        assert isinstance(widget, QTableView)
        return widget

    # ----- sub-spaces -------------------------------------------------------------------------
    def add_subspace(self) -> SubSpaceModel:
        """An empty sub-space (nothing ticked yet) listing the estimator's parameters."""
        model = self._new_model([], len(self._models))
        self._set_models([*self._models, model], current=len(self._models))
        self.spaceChanged.emit()
        return model

    def duplicate_subspace(self, index: int | None = None) -> SubSpaceModel:
        index = self.tabs.currentIndex() if index is None else index
        model = self._new_model(self._models[index].clone_rows(), index + 1)
        models = [*self._models]
        models.insert(index + 1, model)
        self._set_models(models, current=index + 1)
        self.spaceChanged.emit()
        return model

    def remove_subspace(self, index: int | None = None) -> None:
        if len(self._models) <= 1:
            return
        index = self.tabs.currentIndex() if index is None else index
        models = [m for i, m in enumerate(self._models) if i != index]
        self._set_models(models, current=min(index, len(models) - 1))
        self.spaceChanged.emit()

    # ----- what the editor tells it -----------------------------------------------------------
    def set_strategy(self, strategy: str) -> None:
        self._strategy = strategy
        for model in self._models:
            model.set_strategy(strategy)

    def set_count(self, text: str) -> None:
        self.count_label.setText(text)

    def set_estimate(self, text: str, tooltip: str = "") -> None:
        self.estimate_label.setText(text)
        self.estimate_label.setToolTip(tooltip)

    def show_explosion(self, message: str | None) -> None:
        self.explosion_label.setText(message or "")
        self.explosion_frame.setVisible(bool(message))

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.fixed_edit.setReadOnly(read_only)
        for model in self._models:
            model.set_read_only(read_only)
        for button in (self.add_button, self.duplicate_button, self.random_button,
                       self.bayes_button):
            button.setEnabled(not read_only)
        self.remove_button.setEnabled(not read_only and len(self._models) > 1)

    # ----- internals --------------------------------------------------------------------------
    def _new_model(self, rows: list[ParamRow], index: int) -> SubSpaceModel:
        if self._params is None:  # until get_params arrives, offer the catalogue's ranges
            present = {r.name for r in rows}
            for name, dim in self._prefills().items():
                if name not in present:
                    rows.append(ParamRow(name))
                    rows[-1].load(dim)
        model = SubSpaceModel(rows, index, self._strategy, self)
        model.set_groups(self._groups)
        if self._params is not None:
            model.set_parameters(self._params, self._estimator_name, self._prefills())
        model.set_read_only(self._read_only)
        return model

    def _set_models(self, models: list[SubSpaceModel], current: int = 0) -> None:
        self._rebuilding = True
        for old in self._models:
            if old not in models:
                old.changed.disconnect(self._on_model_changed)
                old.deleteLater()
        self.tabs.blockSignals(True)
        while self.tabs.count():
            widget = self.tabs.widget(0)
            self.tabs.removeTab(0)
            widget.deleteLater()
        for index, model in enumerate(models):
            if model not in self._models:
                model.changed.connect(self._on_model_changed)
            model.set_index(index)
            self.tabs.addTab(self._make_view(model), "")
        self._models = models
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        self._rebuilding = False
        self._update_tabs()
        self.remove_button.setEnabled(not self._read_only and len(models) > 1)

    def _make_view(self, model: SubSpaceModel) -> QTableView:
        view = _SubSpaceView(model)
        view.setItemDelegateForColumn(KIND, self._kind_delegate)
        view.verticalHeader().setVisible(bool(self._groups))
        return view

    def _views(self) -> list[QTableView]:
        return [self.view(i) for i in range(self.tabs.count())]

    def _update_tabs(self) -> None:
        bar = self.tabs.tabBar()
        for index, model in enumerate(self._models):
            invalid = bool(model.errors())
            self.tabs.setTabText(index, f"Sub-space {index + 1}{' ⚠' if invalid else ''}")
            bar.setTabTextColor(index, QColor(INVALID_COLOR) if invalid else QColor())
            self.tabs.setTabToolTip(index, "\n".join(model.errors()))

    def _on_model_changed(self) -> None:
        if self._rebuilding:
            return
        self._update_tabs()
        self.spaceChanged.emit()

    def _on_fixed_changed(self) -> None:
        self._check_fixed()
        self.spaceChanged.emit()

    def _check_fixed(self) -> None:
        try:
            self.fixed_params()
        except SpecError as exc:
            set_invalid(self.fixed_edit, True, str(exc))
        else:
            set_invalid(self.fixed_edit, False, "")
            self.fixed_edit.setToolTip(_FIXED_HINT)


_MIN_VALUES_WIDTH = 150


class _SubSpaceView(QTableView):
    """The table of one sub-space; a list of values spans the range columns of its row."""

    def __init__(self, model: SubSpaceModel) -> None:
        super().__init__()
        self.setModel(model)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed
                             | QAbstractItemView.EditTrigger.SelectedClicked)
        self.setMinimumHeight(150)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(36)
        for column, width in ((DEFAULT, 80), (KIND, 80), (HIGH, 64), (POINTS, 92), (LOG, 38)):
            header.resizeSection(column, width)
        model.rowsInserted.connect(self._apply_spans)
        model.modelReset.connect(self._apply_spans)
        model.dataChanged.connect(self._apply_spans)
        self._apply_spans()
        self.fit_columns()

    def fit_columns(self) -> None:
        header = self.horizontalHeader()
        self.resizeColumnToContents(NAME)
        header.resizeSection(NAME, min(max(header.sectionSize(NAME), 120), 190))
        self.resizeColumnToContents(DEFAULT)
        header.resizeSection(DEFAULT, min(max(header.sectionSize(DEFAULT), 70), 110))
        self._fill_values_column()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fill_values_column()

    def _fill_values_column(self) -> None:
        """Give the values column the spare width, but never less than a readable minimum
        (a narrow dock then scrolls sideways instead of hiding what was typed)."""
        header = self.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(len(COLUMNS)) if c != VALUES)
        header.resizeSection(VALUES, max(_MIN_VALUES_WIDTH, self.viewport().width() - others))

    def _apply_spans(self, *_: object) -> None:
        model = self.model()
        assert isinstance(model, SubSpaceModel)
        for number, row in enumerate(model.rows):
            width = LOG - VALUES + 1 if row.kind == "values" else 1
            if self.columnSpan(number, VALUES) != width:
                self.setSpan(number, VALUES, 1, width)


def _tool_button(text: str, tooltip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tooltip)
    button.setAutoRaise(True)
    return button


"""The Qt model of the trial table: a view of the shown study's trial table.

The model reads the :class:`~hpstudio.core.trials.TrialTable` of a
:class:`~hpstudio.gui.session.StudySession` and keeps no trial data of its own: a reset of
the session is one ``beginResetModel`` with no per-row Python work (a 100,000-trial study
reopens instantly), trials appended by a run are ``beginInsertRows`` of the new rows, and
a ``TrialRecord`` is decoded only for the row a caller asks for (``trial_at``,
``TrialRole``: the details pane).

Rows are shown in trial-number order unless the user sorts by a column: a live run
finishes trials out of order, and each batch is merged into place (the selection moves
with its row). Sorting happens here with numpy (``sort``), not in
``QSortFilterProxyModel``: the proxy would call ``data()`` through Python for every
comparison, which takes seconds for 100k rows. A header click sorts score columns best
first and the others smallest first (``InitialSortOrderRole``). The proxy only filters
(brushing in the parallel-coordinates plot), and only when a filter is set, through a
role-based regular expression that costs nothing otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from hpstudio.core.records import TrialRecord
from hpstudio.core.trials import STATE_CODES, TrialTable, trial_key
from hpstudio.gui.session import StudySession
from hpstudio.gui.widgets.budget_options import trial_marks

__all__ = ["FIXED_COLUMNS", "TrialFilterProxy", "TrialTableModel", "format_value"]

#: Columns before the one-per-hyperparameter columns, by key.
FIXED_COLUMNS: tuple[str, ...] = ("number", "state", "mean", "std", "train", "fit_time")
COL_NUMBER, COL_STATE, COL_MEAN, COL_STD, COL_TRAIN, COL_FIT = range(len(FIXED_COLUMNS))
_BEST_COLOR = QColor(46, 160, 67, 70)  # translucent green: readable on light and dark bases
_FAILED_COLOR = QColor(200, 50, 50)
_PRUNED_COLOR = QColor(150, 110, 20)
_FAILED = STATE_CODES["failed"]
_PRUNED = STATE_CODES["pruned"]
#: the trial table's column behind each numeric column key
_TABLE_COLUMNS = {"mean": "test", "std": "std", "train": "train", "fit_time": "fit_time"}
#: columns whose first header click sorts largest first: scores, where larger is better
_BEST_FIRST = frozenset({COL_MEAN, COL_TRAIN})
_Index = QModelIndex | QPersistentModelIndex
# A longer metric name is left to the tooltip: "mean neg_mean_squared_error" would take
# the width of three score columns on a laptop-sized window.
_SHORT_METRIC = 14


def format_value(value: Any) -> str:
    """A hyperparameter or score as a short, exact-enough string for a table cell."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        from hpstudio.core.pipeline import value_label

        return value_label(value)  # an estimator chosen by the trial: PCA(n_components=5)
    return str(value)


class TrialTableModel(QAbstractTableModel):
    """The shown study's trials as rows: number, state, scores, fit time, then one column
    per parameter.

    View rows are in trial-number order, or sorted by a column (``sort``; column -1 goes
    back to number order); ``trial_at(row)`` and ``row_of_number(number)`` translate
    between view rows and trials either way. Given no session, the model makes
    its own (for a model used alone); ``set_trials`` and ``append_trials`` then drive it.
    """

    SortRole = Qt.ItemDataRole.UserRole + 1
    TrialRole = Qt.ItemDataRole.UserRole + 2
    FilterRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, parent: Any = None, metric: str = "score",
                 session: StudySession | None = None) -> None:
        super().__init__(parent)
        if session is None:
            session = StudySession(self)
            session.metric = metric
        self.session = session
        self._table = self.session.table
        self._rows = 0  # rows the view knows of (the table may be ahead inside a signal)
        self._params: list[str] = []
        self._order: Any = None  # numpy array: view row -> trial index; None = identity
        self._inverse: Any = None  # trial index -> view row (built lazily)
        self._sort: tuple[int, Qt.SortOrder] | None = None  # None: trial-number order
        self._param_keys_cache: dict[str, Any] = {}
        self._best: int | None = -1  # trial index; -1 = not computed yet
        self._filter: frozenset[int] | None = None
        self.session.reset.connect(self._on_reset)
        self.session.appended.connect(self._on_appended)
        self.session.metricChanged.connect(self._on_reset)
        self._on_reset()

    # ----- driving a model of its own ------------------------------------------------------
    def set_trials(self, trials: Sequence[TrialRecord] | TrialTable,
                   param_names: Iterable[str] = (), metric: str | None = None) -> None:
        """Show these trials (records, or a reopened study's table)."""
        self.session.show_trials(trials, param_names=param_names, metric=metric)

    def clear(self, param_names: Iterable[str] = (), metric: str | None = None) -> None:
        self.session.clear(param_names=param_names, metric=metric)

    def append_trials(self, trials: Sequence[TrialRecord]) -> None:
        """Add finished trials at once (kept in the current sort order, if any)."""
        self.session.add_trials(trials)
        self.session.flush()

    def append_trial(self, trial: TrialRecord) -> None:
        self.append_trials([trial])

    # ----- following the session -------------------------------------------------------------
    def _on_reset(self) -> None:
        self.beginResetModel()
        self._table = self.session.view
        self._rows = len(self._table)
        self._params = list(self.session.param_names)
        if self._rows and not self._params:
            self._params = _param_names(self._table.param_dicts(1000))
        self._forget()
        self._order = None
        if self._rows:
            self._order = (self._number_order() if self._sort is None
                           else self._sorted_order(*self._sort))
        self.endResetModel()

    def _on_appended(self, first: int, count: int) -> None:
        table = self._table
        new = [name for name in _param_names(table.params_of(i)
                                             for i in range(first, first + count))
               if name not in self._params]
        if new:
            start = len(FIXED_COLUMNS) + len(self._params)
            self.beginInsertColumns(QModelIndex(), start, start + len(new) - 1)
            self._params.extend(new)
            self.endInsertColumns()
        old_best = self._best
        self.beginInsertRows(QModelIndex(), self._rows, self._rows + count - 1)
        previous = self._order
        self._rows += count
        if self._order is not None:
            self._order = np.concatenate([self._order, np.arange(first, first + count)])
        self._inverse = None
        self._param_keys_cache.clear()
        self.endInsertRows()
        if self._sort is not None:
            self._apply_order(self._sorted_order(*self._sort))
        else:
            merged = self._merged_number_order(previous, first, count)
            if merged is not None:
                self._apply_order(merged)
        if old_best != -1:
            self._refresh_best(old_best)

    # ----- reading -----------------------------------------------------------------------
    @property
    def table(self) -> TrialTable:
        return self._table

    @property
    def param_names(self) -> list[str]:
        return list(self._params)

    @property
    def metric(self) -> str:
        return self.session.shown_label

    def trials(self) -> list[TrialRecord]:
        """All trials in arrival order (reads a reopened study's records whole)."""
        return self._table.records()

    def trial_at(self, row: int) -> TrialRecord:
        """The trial shown at view row ``row`` (one record decoded for a stored row)."""
        return self._table.record(self._index(row))

    def number_at(self, row: int) -> int:
        """The number of the trial shown at view row ``row`` (no record is decoded)."""
        return int(self._table.number[self._index(row)])

    def row_of_number(self, number: int) -> int | None:
        """The view row of trial ``number``, or None when it is not in the table."""
        index = self._table.index_of(number)
        return None if index is None or index >= self._rows else self._row(index)

    def contains_number(self, number: int) -> bool:
        return self.row_of_number(number) is not None

    def best_trial(self) -> TrialRecord | None:
        """The complete trial with the highest mean test score (first one on ties)."""
        index = self._best_index()
        return None if index is None else self._table.record(index)

    # ----- Qt model interface ------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._params)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.column_title(section)
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            best_first = section in _BEST_FIRST
            return (Qt.SortOrder.DescendingOrder if best_first
                    else Qt.SortOrder.AscendingOrder).value
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = ("trial number, in the order the strategy proposed it",
                    "complete, failed (hover for its error) or pruned (stopped early)",
                    f"mean test {self.metric} over the folds (mean_test_score)",
                    "standard deviation of the test score over the folds (std_test_score)",
                    "mean train score over the folds (mean_train_score)",
                    "mean fit time per fold in seconds (mean_fit_time)")
            if section < len(tips):
                return tips[section]
            return f"hyperparameter {self.column_title(section)}"
        return None

    def column_title(self, section: int) -> str:
        metric = self.metric if len(self.metric) <= _SHORT_METRIC else "score"
        titles = ("#", "state", f"mean {metric}", "std", "train", "fit s")
        if section < len(titles):
            return titles[section]
        index = section - len(FIXED_COLUMNS)
        return self._params[index] if 0 <= index < len(self._params) else ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if row >= self._rows:
            return None
        trial_index = self._index(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(trial_index, column)
        if role == self.SortRole:
            return self._sort_value(trial_index, column)
        if role == self.TrialRole:
            return self._table.record(trial_index)
        if role == self.FilterRole:
            numbers = self._filter
            number = int(self._table.number[trial_index])
            return "1" if numbers is not None and number in numbers else "0"
        if role == Qt.ItemDataRole.ToolTipRole:
            marks = trial_marks(self._table, trial_index, self._column_key(column))
            if marks:
                return marks
            if self._state_code(trial_index) == _FAILED:
                error = self._table.error_of(trial_index)
                number = int(self._table.number[trial_index])
                return f"trial {number} failed:\n{error or 'no error text'}"
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return _BEST_COLOR if trial_index == self._best_index() else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == COL_STATE:
                code = self._state_code(trial_index)
                return {_FAILED: _FAILED_COLOR, _PRUNED: _PRUNED_COLOR}.get(code)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == COL_STATE:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the view rows by ``column`` with numpy; column -1 restores trial-number
        order."""
        if column < 0 or column >= self.columnCount():
            self._sort = None
            self._apply_order(self._number_order())
            return
        self._sort = (column, order)
        self._apply_order(self._sorted_order(column, order))

    def set_number_filter(self, numbers: Iterable[int] | None) -> None:
        """Remember which trial numbers pass the brush; the proxy reads them via FilterRole."""
        self._filter = None if numbers is None else frozenset(numbers)

    # ----- cells -------------------------------------------------------------------------
    def _column_key(self, column: int) -> str:
        return FIXED_COLUMNS[column] if column < len(FIXED_COLUMNS) else ""

    def _state_code(self, index: int) -> int:
        return int(self._table.col("state")[index])

    def _display(self, index: int, column: int) -> Any:
        table = self._table
        if column == COL_NUMBER:
            rung = int(table.rung[index])
            return f"{int(table.number[index])}·r{rung}" if rung else str(
                int(table.number[index]))
        if column == COL_STATE:
            reused = int(table.col("reused_from")[index]) >= 0
            return table.state_name(index) + (" ↺" if reused else "")
        if column < len(FIXED_COLUMNS):
            value = float(self._numeric(FIXED_COLUMNS[column])[index])
            if math.isnan(value):
                return ""
            return f"{value:.3f}" if column == COL_FIT else f"{value:.6g}"
        name = self._params[column - len(FIXED_COLUMNS)]
        params = table.params_of(index)
        if name not in params:
            return ""
        return format_value(params[name])

    def _sort_value(self, index: int, column: int) -> Any:
        if column == COL_NUMBER:
            return int(self._table.number[index])
        if column == COL_STATE:
            return self._table.state_name(index)
        if column < len(FIXED_COLUMNS):
            value = float(self._numeric(FIXED_COLUMNS[column])[index])
            return -math.inf if math.isnan(value) else value
        return float(self._param_keys(self._params[column - len(FIXED_COLUMNS)])[index])

    def _numeric(self, key: str) -> np.ndarray:
        return self._table.col(_TABLE_COLUMNS[key])

    # ----- derived columns ----------------------------------------------------------------
    def _forget(self) -> None:
        self._best = -1
        self._inverse = None
        self._param_keys_cache.clear()

    def _param_keys(self, name: str) -> Any:
        column = self._param_keys_cache.get(name)
        if column is None:
            column = _param_sort_keys(self._table.param_dicts()[: self._rows], name)
            self._param_keys_cache[name] = column
        return column

    def _best_index(self) -> int | None:
        if self._best == -1:
            self._best = self._table.best_index()
        return self._best

    def _refresh_best(self, old_best: int | None) -> None:
        self._best = -1
        new_best = self._best_index()
        if new_best == old_best:
            return
        last = self.columnCount() - 1
        for index in (old_best, new_best):
            if index is not None:
                row = self._row(index)
                self.dataChanged.emit(self.index(row, 0), self.index(row, last),
                                      [Qt.ItemDataRole.BackgroundRole])

    # ----- order ---------------------------------------------------------------------------
    def _index(self, row: int) -> int:
        return row if self._order is None else int(self._order[row])

    def _row(self, index: int) -> int:
        if self._order is None:
            return index
        if self._inverse is None:
            inverse = np.empty(len(self._order), dtype=np.int64)
            inverse[self._order] = np.arange(len(self._order))
            self._inverse = inverse
        return int(self._inverse[index])

    def _keys(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """(number, rung) of rows ``start:stop`` packed into one sortable int64."""
        stop = self._rows if stop is None else stop
        return trial_key(self._table.number[start:stop], self._table.rung[start:stop])

    def _number_order(self) -> Any:
        """View rows in (number, rung) order; None when that is the arrival order."""
        keys = self._keys()
        if len(keys) < 2 or bool((keys[1:] >= keys[:-1]).all()):
            return None
        return np.argsort(keys, kind="stable")

    def _merged_number_order(self, previous: Any, first: int, count: int) -> Any:
        """The number order after rows ``first .. first + count - 1`` were appended to a
        view in number order (``previous``, None: identity): the new rows are merged in,
        O(n), with no full sort. None when that order is the arrival order."""
        keys = self._keys()
        old = np.arange(first) if previous is None else previous[:first]
        new = first + np.argsort(keys[first : first + count], kind="stable")
        merged = np.insert(old, np.searchsorted(keys[old], keys[new], side="right"), new)
        if previous is None and bool((merged == np.arange(len(merged))).all()):
            return None
        return merged

    def _sorted_order(self, column: int, order: Qt.SortOrder) -> Any:
        n = self._rows
        table = self._table
        if column == COL_NUMBER:
            keys = np.asarray(self._keys(0, n), dtype=float)
        elif column == COL_STATE:
            keys = np.asarray(table.col("state")[:n], dtype=float)
        elif column < len(FIXED_COLUMNS):
            keys = np.asarray(self._numeric(FIXED_COLUMNS[column])[:n], dtype=float)
        else:
            keys = self._param_keys(self._params[column - len(FIXED_COLUMNS)])
        missing = np.isnan(keys)
        values = np.where(missing, 0.0, keys)
        if order == Qt.SortOrder.DescendingOrder:
            values = -values
        # lexsort: last key is primary. Missing values go last in both directions, ties
        # keep arrival order (stable), so the table never jumps for equal scores.
        return np.lexsort((np.arange(n), values, missing))

    def _apply_order(self, new_order: Any) -> None:
        """Swap the view order, moving persistent indexes (selection) with their rows."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        trial_indexes = [self._index(p.row()) for p in persistent]
        self._order = new_order
        self._inverse = None
        moved = [self.index(self._row(i), p.column()) for i, p in zip(trial_indexes, persistent,
                                                                      strict=True)]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()


class TrialFilterProxy(QSortFilterProxyModel):
    """Hides trials outside a set of numbers (plot brushing); sorting goes to the source.

    The filter is a regular expression on ``TrialTableModel.FilterRole``: with no filter
    set the proxy accepts rows without calling into Python at all.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setFilterRole(TrialTableModel.FilterRole)
        self.setFilterKeyColumn(0)
        self.setSortRole(TrialTableModel.SortRole)
        self._numbers: frozenset[int] | None = None

    @property
    def number_filter(self) -> frozenset[int] | None:
        return self._numbers

    def set_number_filter(self, numbers: Iterable[int] | None) -> None:
        """Show only these trial numbers; None shows every trial."""
        source = self.sourceModel()
        self._numbers = None if numbers is None else frozenset(numbers)
        pattern = QRegularExpression() if self._numbers is None else QRegularExpression("^1$")
        modern = hasattr(self, "beginFilterChange") and hasattr(self, "endFilterChange")
        if modern:  # Qt >= 6.10; invalidateRowsFilter is deprecated there
            self.beginFilterChange()
        if isinstance(source, TrialTableModel):
            source.set_number_filter(self._numbers)
        self.setFilterRegularExpression(pattern)
        if modern:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        elif self._numbers is not None:
            self.invalidateRowsFilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, TrialTableModel):
            source.sort(column, order)
        else:
            super().sort(column, order)

    def trial_at(self, row: int) -> TrialRecord | None:
        index = self.index(row, 0)
        return self.data(index, TrialTableModel.TrialRole) if index.isValid() else None


# ----- vectorised helpers ------------------------------------------------------------------


def _param_names(params: Iterable[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(name for p in params for name in p))


def _param_sort_keys(params: Sequence[dict[str, Any]], name: str) -> Any:
    """Sort keys for one hyperparameter: numbers by value, others ranked by their text.

    None and missing sort first as NaN (shown last, like failed scores); a mixed column
    (numbers and strings, e.g. max_features) ranks numbers before strings.
    """
    import numpy as np

    values = [p.get(name) for p in params]
    if all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
           for v in values):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=float)
    kinds = {}
    for v in values:
        if v is not None:
            kinds.setdefault(_rank_key(v), None)
    ranks = {key: float(i) for i, key in enumerate(sorted(kinds))}
    return np.array([math.nan if v is None else ranks[_rank_key(v)] for v in values],
                    dtype=float)


def _rank_key(value: Any) -> tuple[int, float, str]:
    if isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, int | float):
        return (1, float(value), "")
    return (2, 0.0, str(value))

"""Qt table models over trial records: the trial table of the main window.

Rows are kept in arrival order, so a live study appends with ``beginInsertRows`` and
reopening a 100,000-trial study is one ``beginResetModel`` with no per-row Python work.
A reopened study is a ``StoredTrials``: its rows are read from its column arrays (scores,
states, params, errors), and a ``TrialRecord`` is decoded only for the row a caller asks
for (``trial_at``, ``TrialRole``: the details pane). Trials appended after it (a resumed
study) are records kept after that prefix. Numeric columns of records (scores, times) are
computed lazily, vectorised, only when something needs a whole column: the best-row
highlight or a sort.

Sorting happens here with numpy (``sort``), not in ``QSortFilterProxyModel``: the proxy
would call ``data()`` through Python for every comparison, which takes seconds for 100k
rows. The proxy only filters (brushing in the parallel-coordinates plot), and only when a
filter is set, through a role-based regular expression that costs nothing otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.stored_trials import StoredTrials

__all__ = ["FIXED_COLUMNS", "TrialFilterProxy", "TrialTableModel", "format_value"]

#: Columns before the one-per-hyperparameter columns, by key.
FIXED_COLUMNS: tuple[str, ...] = ("number", "state", "mean", "std", "train", "fit_time")
COL_NUMBER, COL_STATE, COL_MEAN, COL_STD, COL_TRAIN, COL_FIT = range(len(FIXED_COLUMNS))
_BEST_COLOR = QColor(46, 160, 67, 70)  # translucent green: readable on light and dark bases
_FAILED_COLOR = QColor(200, 50, 50)
_FAILED = TrialState.FAILED.value
#: TrialColumns attribute of a stored study for each numeric column key
_STORED_KEYS = {"mean": "mean_test_score", "std": "std_test_score",
                "train": "mean_train_score", "fit_time": "mean_fit_time"}
_Index = QModelIndex | QPersistentModelIndex


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
    return str(value)


class TrialTableModel(QAbstractTableModel):
    """Trial records as rows: number, state, scores, fit time, then one column per parameter.

    View rows may be sorted (``sort``); ``trial_at(row)`` and ``row_of_number(number)``
    translate between view rows and trials either way. ``set_trials`` takes a list of
    records or a reopened study's ``StoredTrials`` (read through its columns).
    """

    SortRole = Qt.ItemDataRole.UserRole + 1
    TrialRole = Qt.ItemDataRole.UserRole + 2
    FilterRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, parent: Any = None, metric: str = "score") -> None:
        super().__init__(parent)
        # rows: the stored study's (index < _base), then the records in _trials
        self._stored: StoredTrials | None = None
        self._base = 0
        self._trials: list[TrialRecord] = []
        self._params: list[str] = []
        self._metric = metric
        self._order: Any = None  # numpy array: view row -> trial index; None = arrival
        self._inverse: Any = None  # trial index -> view row (built lazily)
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._columns: dict[str, Any] = {}  # lazily computed numpy columns
        self._best: int | None = -1  # trial index; -1 = not computed yet
        self._by_number: dict[int, int] | None = None  # appended records' numbers
        self._filter: frozenset[int] | None = None

    # ----- filling ---------------------------------------------------------------------
    def set_trials(self, trials: Sequence[TrialRecord], param_names: Iterable[str] = (),
                   metric: str | None = None) -> None:
        """Replace every row (reopening a study). Computes nothing per row.

        ``trials`` is a list of records, or a ``StoredTrials`` whose columns are shown as
        they are (no record is built until one row's record is asked for)."""
        self.beginResetModel()
        if isinstance(trials, StoredTrials):
            self._stored, self._base, self._trials = trials, len(trials), []
        else:
            self._stored, self._base, self._trials = None, 0, list(trials)
        self._params = list(dict.fromkeys(param_names))
        if metric is not None:
            self._metric = metric
        if self._count() and not self._params:
            self._params = _param_names(self._param_dicts(1000))
        self._forget()
        self._order = None
        if self._sort is not None and self._count():
            self._order = self._sorted_order(*self._sort)
        self.endResetModel()

    def clear(self, param_names: Iterable[str] = (), metric: str | None = None) -> None:
        self.set_trials([], param_names, metric)

    def append_trials(self, trials: Sequence[TrialRecord]) -> None:
        """Add finished trials at the end (kept in the current sort order, if any)."""
        if not trials:
            return
        new = [name for name in _param_names(t.params for t in trials)
               if name not in self._params]
        if new:
            first = len(FIXED_COLUMNS) + len(self._params)
            self.beginInsertColumns(QModelIndex(), first, first + len(new) - 1)
            self._params.extend(new)
            self._columns = {k: v for k, v in self._columns.items() if not k.startswith("p:")}
            self.endInsertColumns()
        start = self._count()
        old_best = self._best
        self.beginInsertRows(QModelIndex(), start, start + len(trials) - 1)
        self._trials.extend(trials)
        if self._order is not None:
            import numpy as np

            self._order = np.concatenate([self._order, np.arange(start, self._count())])
        self._inverse = None
        if self._by_number is not None:
            for index, trial in enumerate(trials, start):
                self._by_number[trial.number] = index
        self._extend_columns(trials)
        self.endInsertRows()
        if self._sort is not None:
            self._apply_order(self._sorted_order(*self._sort))
        if old_best != -1:
            self._refresh_best(old_best)

    def append_trial(self, trial: TrialRecord) -> None:
        self.append_trials([trial])

    # ----- reading -----------------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return list(self._params)

    @property
    def metric(self) -> str:
        return self._metric

    def trials(self) -> list[TrialRecord]:
        """All trials in arrival order (not the view's sort order).

        This builds every record of a reopened study (seconds for 100,000 trials): bulk
        readers take ``trial_parts()`` and read the stored part's ``columns``."""
        return [*(self._stored or ()), *self._trials]

    def trial_parts(self) -> tuple[StoredTrials | None, list[TrialRecord]]:
        """The rows as (reopened study or None, records appended after it), arrival order."""
        return self._stored, list(self._trials)

    def trial_at(self, row: int) -> TrialRecord:
        """The trial shown at view row ``row`` (one record decoded for a stored row)."""
        return self._record(self._index(row))

    def number_at(self, row: int) -> int:
        """The number of the trial shown at view row ``row`` (no record is decoded)."""
        return self._number(self._index(row))

    def row_of_number(self, number: int) -> int | None:
        """The view row of trial ``number``, or None when it is not in the table."""
        index = self._index_of_number(number)
        return None if index is None else self._row(index)

    def contains_number(self, number: int) -> bool:
        return self._index_of_number(number) is not None

    def best_trial(self) -> TrialRecord | None:
        """The complete trial with the highest mean test score (first one on ties)."""
        index = self._best_index()
        return None if index is None else self._record(index)

    # ----- Qt model interface ------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._params)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.column_title(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = ("trial number, in the order the strategy proposed it",
                    "complete, or failed (hover a failed row for its error)",
                    f"mean test {self._metric} over the folds (mean_test_score)",
                    "standard deviation of the test score over the folds (std_test_score)",
                    "mean train score over the folds (mean_train_score)",
                    "mean fit time per fold in seconds (mean_fit_time)")
            if section < len(tips):
                return tips[section]
            return f"hyperparameter {self.column_title(section)}"
        return None

    def column_title(self, section: int) -> str:
        titles = ("#", "state", f"mean {self._metric}", "std", "train", "fit s")
        if section < len(titles):
            return titles[section]
        index = section - len(FIXED_COLUMNS)
        return self._params[index] if 0 <= index < len(self._params) else ""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if row >= self._count():
            return None
        trial_index = self._index(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(trial_index, column)
        if role == self.SortRole:
            return self._sort_value(trial_index, column)
        if role == self.TrialRole:
            return self._record(trial_index)
        if role == self.FilterRole:
            numbers = self._filter
            return "1" if numbers is not None and self._number(trial_index) in numbers else "0"
        if role == Qt.ItemDataRole.ToolTipRole:
            if self._failed(trial_index):
                error = self._error(trial_index)
                return f"trial {self._number(trial_index)} failed:\n{error or 'no error text'}"
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return _BEST_COLOR if trial_index == self._best_index() else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == COL_STATE and self._failed(trial_index):
                return _FAILED_COLOR
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == COL_STATE:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the view rows by ``column`` with numpy; column -1 restores arrival order."""
        if column < 0 or column >= self.columnCount():
            self._sort = None
            self._apply_order(None)
            return
        self._sort = (column, order)
        self._apply_order(self._sorted_order(column, order))

    def set_number_filter(self, numbers: Iterable[int] | None) -> None:
        """Remember which trial numbers pass the brush; the proxy reads them via FilterRole."""
        self._filter = None if numbers is None else frozenset(numbers)

    # ----- rows: a stored study's columns, then appended records -------------------------
    def _count(self) -> int:
        return self._base + len(self._trials)

    def _record(self, index: int) -> TrialRecord:
        if index < self._base:
            assert self._stored is not None
            return self._stored[index]
        return self._trials[index - self._base]

    def _number(self, index: int) -> int:
        if index < self._base:
            assert self._stored is not None
            return int(self._stored.columns.number[index])
        return self._trials[index - self._base].number

    def _failed(self, index: int) -> bool:
        if index < self._base:
            assert self._stored is not None
            return self._stored.columns.state[index] == _FAILED
        return self._trials[index - self._base].state is TrialState.FAILED

    def _state(self, index: int) -> str:
        if index < self._base:
            assert self._stored is not None
            return str(self._stored.columns.state[index])
        return self._trials[index - self._base].state.value

    def _error(self, index: int) -> str | None:
        if index < self._base:
            assert self._stored is not None
            return self._stored.columns.error[index]
        return self._trials[index - self._base].error

    def _params_of(self, index: int) -> dict[str, Any]:
        if index < self._base:
            assert self._stored is not None
            return self._stored.columns.params[index]
        return self._trials[index - self._base].params

    def _param_dicts(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Every row's params (the first ``limit`` rows' when given), arrival order."""
        stored = [] if self._stored is None else self._stored.columns.params[:limit]
        rest = self._trials if limit is None else self._trials[:max(0, limit - len(stored))]
        return [*stored, *(t.params for t in rest)]

    def _index_of_number(self, number: int) -> int | None:
        """The arrival index of trial ``number``: bisection over the stored numbers (kept in
        order), then a dict over the appended records (built on first use)."""
        if self._stored is not None and self._base:
            import numpy as np

            numbers = self._stored.columns.number
            position = int(np.searchsorted(numbers, number))
            if position < self._base and numbers[position] == number:
                return position
        if not self._trials:
            return None
        if self._by_number is None:
            self._by_number = {t.number: i for i, t in enumerate(self._trials, self._base)}
        return self._by_number.get(number)

    # ----- cells -------------------------------------------------------------------------
    def _display(self, index: int, column: int) -> Any:
        if column == COL_NUMBER:
            return str(self._number(index))
        if column == COL_STATE:
            return self._state(index)
        if column < len(FIXED_COLUMNS):
            value = self._cell_number(index, FIXED_COLUMNS[column])
            if math.isnan(value):
                return ""
            return f"{value:.3f}" if column == COL_FIT else f"{value:.6g}"
        name = self._params[column - len(FIXED_COLUMNS)]
        params = self._params_of(index)
        if name not in params:
            return ""
        return format_value(params[name])

    def _sort_value(self, index: int, column: int) -> Any:
        if column == COL_NUMBER:
            return self._number(index)
        if column == COL_STATE:
            return self._state(index)
        if column < len(FIXED_COLUMNS):
            value = self._cell_number(index, FIXED_COLUMNS[column])
            return -math.inf if math.isnan(value) else value
        return float(self._param_keys(self._params[column - len(FIXED_COLUMNS)])[index])

    def _cell_number(self, index: int, key: str) -> float:
        """One numeric cell: from the column when it is computed (a stored study's always
        is), else from this record only, so painting never computes a whole column."""
        column = self._columns.get(key)
        if column is not None:
            return float(column[index])
        if index < self._base:
            assert self._stored is not None
            return float(getattr(self._stored.columns, _STORED_KEYS[key])[index])
        return float(_numeric_column([self._trials[index - self._base]], key)[0])

    # ----- lazily computed columns --------------------------------------------------------
    def _forget(self) -> None:
        self._columns = {}
        self._best = -1
        self._by_number = None
        self._inverse = None
        if self._stored is not None and not self._trials:
            # a stored study brings its numeric columns: nothing to compute
            stored = self._stored.columns
            self._columns = {key: getattr(stored, name) for key, name in _STORED_KEYS.items()}

    def _column(self, key: str) -> Any:
        """A whole column by key: a numeric key, "number" or "failed" (a 0/1 float)."""
        column = self._columns.get(key)
        if column is None:
            import numpy as np

            parts = []
            if self._stored is not None:
                parts.append(_stored_column(self._stored, key))
            if self._trials or not parts:
                parts.append(_record_column(self._trials, key))
            column = parts[0] if len(parts) == 1 else np.concatenate(parts)
            self._columns[key] = column
        return column

    def _extend_columns(self, added: Sequence[TrialRecord]) -> None:
        import numpy as np

        for key in list(self._columns):
            if key.startswith("p:"):
                del self._columns[key]  # parameter keys: rebuilt when next needed
            else:
                tail = _record_column(added, key)
                self._columns[key] = np.concatenate([self._columns[key], tail])

    def _param_keys(self, name: str) -> Any:
        key = f"p:{name}"
        column = self._columns.get(key)
        if column is None:
            column = _param_sort_keys(self._param_dicts(), name)
            self._columns[key] = column
        return column

    def _best_index(self) -> int | None:
        if self._best == -1:
            self._best = _best_of(self._column("mean"), self._column("failed"))
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
            import numpy as np

            inverse = np.empty(len(self._order), dtype=np.int64)
            inverse[self._order] = np.arange(len(self._order))
            self._inverse = inverse
        return int(self._inverse[index])

    def _sorted_order(self, column: int, order: Qt.SortOrder) -> Any:
        import numpy as np

        n = self._count()
        if column == COL_NUMBER:
            keys = np.asarray(self._column("number"), dtype=float)
        elif column == COL_STATE:
            keys = self._column("failed")
        elif column < len(FIXED_COLUMNS):
            keys = np.asarray(self._column(FIXED_COLUMNS[column]), dtype=float)
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


def _row_stats(rows: list[Any], std: bool) -> Any:
    """Mean (or population std) of each row of per-fold values, vectorised when rows align.

    Rows of different lengths (a study whose fold count changed) fall back to one numpy
    call per row; NaN (a failed fold) makes the row's value NaN, as in TrialRecord.
    """
    import numpy as np

    if not rows:
        return np.empty(0)
    try:
        matrix = np.asarray(rows, dtype=float)
    except ValueError:
        matrix = None
    with np.errstate(invalid="ignore"):
        if matrix is None or matrix.ndim != 2:
            return np.array([_one_row(np.asarray(r, dtype=float), std) for r in rows])
        if matrix.shape[1] == 0:
            return np.full(len(rows), np.nan)
        mean = matrix.mean(axis=1)
        if std:
            return np.sqrt(((matrix - mean[:, None]) ** 2).mean(axis=1))
        return mean


def _one_row(values: Any, std: bool) -> float:
    import numpy as np

    if values.size == 0:
        return math.nan
    mean = values.mean()
    return float(np.sqrt(((values - mean) ** 2).mean())) if std else float(mean)


def _stored_column(stored: StoredTrials, key: str) -> Any:
    """One whole column (see ``_record_column``) of a stored study, from its arrays."""
    columns = stored.columns
    if key == "number":
        return columns.number
    if key == "failed":
        return (columns.state == _FAILED).astype(float)
    return getattr(columns, _STORED_KEYS[key])


def _record_column(trials: Sequence[TrialRecord], key: str) -> Any:
    """One whole column of records: a numeric key, "number", or "failed" (1.0 / 0.0)."""
    import numpy as np

    if key == "number":
        return np.fromiter((t.number for t in trials), dtype=np.int64, count=len(trials))
    if key == "failed":
        return np.fromiter((t.state is TrialState.FAILED for t in trials), dtype=float,
                           count=len(trials))
    return _numeric_column(trials, key)


def _numeric_column(trials: Sequence[TrialRecord], key: str) -> Any:
    """One numeric column for ``trials``, with the same formulas as TrialRecord's properties."""
    if key == "train":
        return _row_stats([() if t.split_train_scores is None else t.split_train_scores
                           for t in trials], std=False)
    if key == "fit_time":
        return _row_stats([t.fit_times for t in trials], std=False)
    return _row_stats([t.split_test_scores for t in trials], std=key == "std")


def _best_of(means: Any, failed: Any) -> int | None:
    """Index of the highest mean among rows not failed (``failed`` is 1.0 / 0.0)."""
    import numpy as np

    if len(means) == 0:
        return None
    ok = np.asarray(failed) == 0
    scores = np.where(ok & ~np.isnan(means), means, -np.inf)
    best = int(np.argmax(scores))
    return best if np.isfinite(scores[best]) else None


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

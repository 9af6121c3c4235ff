"""The trial table model and its filter proxy: rows, columns, best row, sorting, brushing."""

from __future__ import annotations

import math
import time

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.gui.models import (
    COL_MEAN,
    COL_NUMBER,
    COL_STATE,
    FIXED_COLUMNS,
    TrialFilterProxy,
    TrialTableModel,
)

DISPLAY = Qt.ItemDataRole.DisplayRole


def make_trial(number: int, scores: tuple[float, ...] = (0.8, 0.9, 0.85),
               params: dict | None = None, *, failed: bool = False,
               train: tuple[float, ...] | None = None) -> TrialRecord:
    folds = len(scores)
    return TrialRecord(
        study_id=1, number=number,
        params={"max_depth": number, "criterion": "gini"} if params is None else params,
        state=TrialState.FAILED if failed else TrialState.COMPLETE,
        split_test_scores=tuple(math.nan for _ in scores) if failed else scores,
        split_train_scores=train, fit_times=(0.01,) * folds, score_times=(0.002,) * folds,
        started=1000.0 + number, finished=1001.0 + number,
        error="fold 0: ValueError: max_depth must be > 0" if failed else None,
    )


def column_texts(model, column: int) -> list[str]:
    return [model.data(model.index(r, column), DISPLAY) for r in range(model.rowCount())]


@pytest.fixture
def model(qtbot) -> TrialTableModel:
    return TrialTableModel(metric="accuracy")


def test_append_inserts_rows_and_param_columns(model, qtbot) -> None:
    model.clear(param_names=["max_depth"])
    assert model.columnCount() == len(FIXED_COLUMNS) + 1
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.append_trials([make_trial(0), make_trial(1)])
    assert inserted.args[1:] == [0, 1]
    # "criterion" was not announced by the spec: a column is added for it
    assert model.param_names == ["max_depth", "criterion"]
    assert model.headerData(COL_MEAN, Qt.Orientation.Horizontal) == "mean accuracy"
    row = [model.data(model.index(1, c), DISPLAY) for c in range(model.columnCount())]
    assert row == ["1", "complete", "0.85", "0.0408248", "", "0.010", "1", "gini"]


def test_numbers_match_trial_record_properties(model) -> None:
    trials = [make_trial(i, (0.1 * i, 0.2, 0.33), train=(0.9, 0.95, 1.0)) for i in range(5)]
    model.set_trials(trials)
    for row, trial in enumerate(trials):
        assert float(model.data(model.index(row, COL_MEAN), model.SortRole)) == pytest.approx(
            trial.mean_test_score, abs=1e-15)
        assert model.data(model.index(row, 3), DISPLAY) == f"{trial.std_test_score:.6g}"
        assert model.data(model.index(row, 4), DISPLAY) == f"{trial.mean_train_score:.6g}"
        assert model.data(model.index(row, 0), model.TrialRole) is trial


def test_best_row_is_highlighted_and_moves(model, qtbot) -> None:
    model.set_trials([make_trial(0, (0.5, 0.5)), make_trial(1, (0.7, 0.7)),
                      make_trial(2, failed=True)])
    backgrounds = [model.data(model.index(r, 2), Qt.ItemDataRole.BackgroundRole)
                   for r in range(3)]
    assert [b is not None for b in backgrounds] == [False, True, False]
    with qtbot.waitSignal(model.dataChanged):
        model.append_trial(make_trial(3, (0.9, 0.9)))
    assert model.best_trial().number == 3
    assert model.data(model.index(1, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert model.data(model.index(3, 0), Qt.ItemDataRole.BackgroundRole) is not None


def test_failed_row_shows_error_on_hover(model) -> None:
    model.set_trials([make_trial(0), make_trial(1, failed=True)])
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) is None
    tip = model.data(model.index(1, 5), Qt.ItemDataRole.ToolTipRole)
    assert "trial 1 failed" in tip and "max_depth must be > 0" in tip
    assert model.data(model.index(1, COL_STATE), DISPLAY) == "failed"
    assert model.data(model.index(1, COL_MEAN), DISPLAY) == ""


def test_sort_numeric_with_failed_last_and_selection_kept(model, qtbot) -> None:
    trials = [make_trial(0, (0.5,)), make_trial(1, failed=True), make_trial(2, (0.9,)),
              make_trial(3, (0.7,)), make_trial(10, (0.6,))]
    model.set_trials(trials)
    kept = QPersistentModelIndex(model.index(3, 0))  # trial 3
    model.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    assert column_texts(model, COL_NUMBER) == ["2", "3", "10", "0", "1"]
    assert kept.row() == 1 and model.trial_at(kept.row()).number == 3
    model.sort(COL_MEAN, Qt.SortOrder.AscendingOrder)
    assert column_texts(model, COL_NUMBER) == ["0", "10", "3", "2", "1"]
    # numbers sort as numbers, not text ("10" after "3")
    model.sort(COL_NUMBER, Qt.SortOrder.AscendingOrder)
    assert column_texts(model, COL_NUMBER) == ["0", "1", "2", "3", "10"]
    # appending keeps the sort order, and row_of_number follows the view
    model.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    model.append_trial(make_trial(4, (0.8,)))
    assert column_texts(model, COL_NUMBER) == ["2", "4", "3", "10", "0", "1"]
    assert model.row_of_number(4) == 1
    model.sort(-1)
    assert column_texts(model, COL_NUMBER) == ["0", "1", "2", "3", "10", "4"]


def test_sort_mixed_parameter_column(model) -> None:
    values = ["sqrt", 0.5, None, "log2", 2, 0.5]
    model.set_trials([make_trial(i, (0.5,), {"max_features": v}) for i, v in enumerate(values)])
    column = len(FIXED_COLUMNS)
    model.sort(column, Qt.SortOrder.AscendingOrder)
    assert column_texts(model, column) == ["0.5", "0.5", "2", "log2", "sqrt", "None"]


def test_proxy_filters_by_trial_numbers_and_delegates_sorting(model, qtbot) -> None:
    proxy = TrialFilterProxy()
    proxy.setSourceModel(model)
    model.set_trials([make_trial(i, (0.1 * i,)) for i in range(6)])
    proxy.set_number_filter({1, 4, 5})
    assert column_texts(proxy, COL_NUMBER) == ["1", "4", "5"]
    model.append_trials([make_trial(6, (0.9,)), make_trial(7, (0.95,))])
    assert column_texts(proxy, COL_NUMBER) == ["1", "4", "5"]
    proxy.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    assert column_texts(proxy, COL_NUMBER) == ["5", "4", "1"]
    proxy.set_number_filter(None)
    assert column_texts(proxy, COL_NUMBER) == ["7", "6", "5", "4", "3", "2", "1", "0"]
    assert proxy.trial_at(0).number == 7


def test_reset_and_sort_stay_fast_for_100k_trials(qtbot) -> None:
    scores = [(0.1 + (i * 7919 % 1000) / 1000,) * 3 for i in range(100_000)]
    trials = [TrialRecord(1, i, {"C": i * 0.5}, TrialState.COMPLETE, s, None, (0.01,) * 3,
                          (0.001,) * 3, 0.0, 1.0) for i, s in enumerate(scores)]
    model = TrialTableModel()
    proxy = TrialFilterProxy()
    proxy.setSourceModel(model)
    started = time.perf_counter()
    model.set_trials(trials, ["C"])
    assert proxy.rowCount() == 100_000
    assert proxy.data(proxy.index(99_999, 0), DISPLAY) == "99999"
    reset = time.perf_counter() - started
    started = time.perf_counter()
    proxy.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    best = proxy.data(proxy.index(0, 0), TrialTableModel.TrialRole)
    sort = time.perf_counter() - started
    assert best.mean_test_score == max(t.mean_test_score for t in trials[:1000])
    assert reset < 0.5, f"reset took {reset:.2f} s"
    assert sort < 1.5, f"sort took {sort:.2f} s"
    assert model.rowCount(QModelIndex()) == 100_000


def test_header_click_sorts_through_the_proxy(qtbot, model) -> None:
    from PySide6.QtWidgets import QTableView

    proxy = TrialFilterProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    model.set_trials([make_trial(i, (s,)) for i, s in enumerate((0.3, 0.9, 0.1, 0.5))])
    assert column_texts(proxy, COL_NUMBER) == ["0", "1", "2", "3"]  # arrival order at first
    view.sortByColumn(COL_MEAN, Qt.SortOrder.DescendingOrder)
    assert column_texts(proxy, COL_NUMBER) == ["1", "3", "0", "2"]
    view.selectRow(0)
    view.sortByColumn(COL_MEAN, Qt.SortOrder.AscendingOrder)
    selected = view.selectionModel().selectedRows()
    assert [proxy.trial_at(i.row()).number for i in selected] == [1]  # selection follows

"""The trial table model and its filter proxy: rows, columns, best row, sorting, brushing."""

from __future__ import annotations

import dataclasses
import math

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
        test_scores={"score": tuple(math.nan for _ in scores) if failed else scores},
        train_scores=None if train is None else {"score": train}, fit_times=(0.01,) * folds,
        score_times=(0.002,) * folds,
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
    model.sort(-1)  # no sort column: trial-number order, whatever the arrival order
    assert column_texts(model, COL_NUMBER) == ["0", "1", "2", "3", "4", "10"]


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


def test_reset_and_sort_100k_trials(qtbot) -> None:
    scores = [(0.1 + (i * 7919 % 1000) / 1000,) * 3 for i in range(100_000)]
    trials = [TrialRecord(1, i, {"C": i * 0.5}, TrialState.COMPLETE, {"score": s}, None,
                          (0.01,) * 3,
                          (0.001,) * 3, 0.0, 1.0) for i, s in enumerate(scores)]
    model = TrialTableModel()
    proxy = TrialFilterProxy()
    proxy.setSourceModel(model)
    model.set_trials(trials, ["C"])
    assert proxy.rowCount() == 100_000
    assert proxy.data(proxy.index(99_999, 0), DISPLAY) == "99999"
    proxy.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    best = proxy.data(proxy.index(0, 0), TrialTableModel.TrialRole)
    assert best.mean_test_score == max(t.mean_test_score for t in trials[:1000])
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


# ----- a reopened study: StoredTrials read through its columns -------------------------------


def stored_study(tmp_path, trials):
    """``trials`` saved to a history file, opened back as (StoredTrials, load_trials)."""
    from hpstudio.core.storage import HistoryStore

    store = HistoryStore(tmp_path / "stored.db")
    study = store.create_study({"name": "t", "estimator": {"class": "x.Y"}}, base_dir=None,
                               n_total=None, data_fingerprint=None, dataset="d")
    store.save_trials([dataclasses.replace(t, study_id=study) for t in trials])
    opened, loaded = store.open_trials(study), store.load_trials(study)
    store.close()
    return opened, loaded


def mixed_stored_trials() -> list[TrialRecord]:
    scores = (0.3, 0.9, 0.1, 0.5, 0.9, 0.7)
    values = ["sqrt", 0.5, None, "log2", 2, 0.5]
    trials = [make_trial(i, (s, s + 0.01, s - 0.02), {"max_features": v, "depth": i % 3},
                         train=(1.0, 0.99, 0.98))
              for i, (s, v) in enumerate(zip(scores, values, strict=True))]
    trials.insert(2, make_trial(6, params={"criterion": "gini"}, failed=True))
    return trials


ROLES = (DISPLAY, TrialTableModel.SortRole, Qt.ItemDataRole.ToolTipRole,
         Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole)


def all_cells(model) -> list:
    def same(value):  # NaN equals NaN here; a colour by its name
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        return value.name() if hasattr(value, "name") else value

    return [[same(model.data(model.index(r, c), role)) for c in range(model.columnCount())
             for role in ROLES] for r in range(model.rowCount())]


def test_stored_trials_show_exactly_what_their_records_show(tmp_path, qtbot) -> None:
    opened, loaded = stored_study(tmp_path, mixed_stored_trials())
    from_columns, from_records = TrialTableModel(), TrialTableModel()
    from_columns.set_trials(opened)
    from_records.set_trials(loaded)
    assert from_columns.param_names == from_records.param_names == [
        "max_features", "depth", "criterion"]
    assert all_cells(from_columns) == all_cells(from_records)
    for column in range(from_columns.columnCount()):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            from_columns.sort(column, order)
            from_records.sort(column, order)
            assert column_texts(from_columns, COL_NUMBER) == column_texts(from_records,
                                                                           COL_NUMBER)
    from_columns.sort(-1)
    from_records.sort(-1)
    tip = from_columns.data(from_columns.index(6, COL_NUMBER), Qt.ItemDataRole.ToolTipRole)
    assert "trial 6 failed" in tip and "max_depth must be > 0" in tip
    # showing, sorting and the best row read the columns: no record was built
    assert [from_columns.number_at(r) for r in range(7)] == [0, 1, 2, 3, 4, 5, 6]
    assert opened._stored_records == {}
    assert from_columns.row_of_number(6) == 6 and from_columns.row_of_number(99) is None
    assert from_columns.trial_at(3) == from_records.trial_at(3)  # one record, on demand
    assert from_columns.best_trial() == from_records.best_trial()
    assert from_columns.best_trial().number == 1
    assert sorted(opened._stored_records) == [1, 3]


def test_stored_trials_take_live_appends(tmp_path, qtbot) -> None:
    opened, loaded = stored_study(tmp_path, mixed_stored_trials())
    model = TrialTableModel()
    model.set_trials(opened)
    model.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    best_before = model.best_trial().number
    with qtbot.waitSignal(model.rowsInserted):
        model.append_trials([make_trial(7, (0.95, 0.95), {"max_features": "sqrt",
                                                          "n_estimators": 10}),
                             make_trial(8, failed=True, params={"depth": 1})])
    assert best_before == 1 and model.best_trial().number == 7
    assert model.rowCount() == len(loaded) + 2
    assert model.param_names[-1] == "n_estimators"
    assert column_texts(model, COL_NUMBER)[:3] == ["7", "1", "4"]
    assert column_texts(model, COL_NUMBER)[-2:] == ["6", "8"]  # failed rows last
    assert model.contains_number(8) and model.contains_number(3)
    assert not model.contains_number(9)
    assert model.trial_at(model.row_of_number(7)).number == 7
    assert model.trial_at(model.row_of_number(5)) == loaded[5]
    assert model.table is opened  # the model shows the session's table; appends went there
    assert [t.number for t in opened.records()[-2:]] == [7, 8]
    model.sort(-1)
    assert column_texts(model, COL_NUMBER) == ["0", "1", "2", "3", "4", "5", "6", "7", "8"]
    assert model.data(model.index(7, model.columnCount() - 1), DISPLAY) == "10"
    assert model.data(model.index(0, model.columnCount() - 1), DISPLAY) == ""
    proxy = TrialFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_number_filter({1, 8})
    assert column_texts(proxy, COL_NUMBER) == ["1", "8"]


def test_reopening_100k_stored_trials_builds_no_record(tmp_path, qtbot) -> None:
    import numpy as np

    from hpstudio.core.trials import StoredColumns, TrialTable

    n = 100_000
    rng = np.random.default_rng(0)
    means = rng.random(n)
    state = np.where(rng.random(n) < 0.01, "failed", "complete").astype(object)
    columns = StoredColumns(
        number=np.arange(n, dtype=np.int64), rung=np.zeros(n, dtype=np.int64), state=state,
        mean_test_score=np.where(state == "failed", np.nan, means), std_test_score=means / 10,
        mean_train_score=means, mean_fit_time=means, mean_score_time=means,
        started=np.arange(n, dtype=float), finished=np.arange(n, dtype=float) + 1,
        subspace=np.zeros(n, dtype=np.int64), n_resources=np.full(n, np.nan),
        n_splits=np.full(n, 3, dtype=np.int64), error=[None] * n,
        params_json=[f'{{"C": {i}.0}}' for i in range(n)])
    decoded: list = []

    def records(keys):
        decoded.append(keys)
        return [make_trial(number) for number, _ in keys]

    stored = TrialTable.from_stored(columns, records=records)
    model = TrialTableModel()
    proxy = TrialFilterProxy()
    proxy.setSourceModel(model)
    model.set_trials(stored, ["C"])
    assert proxy.data(proxy.index(99_999, 0), DISPLAY) == "99999"
    best = model.best_trial()
    proxy.sort(len(FIXED_COLUMNS), Qt.SortOrder.DescendingOrder)
    assert proxy.data(proxy.index(0, len(FIXED_COLUMNS)), DISPLAY) == "99999"
    proxy.sort(COL_MEAN, Qt.SortOrder.DescendingOrder)
    assert proxy.data(proxy.index(0, 0), DISPLAY) == str(best.number)
    assert best.number == int(np.nanargmax(columns.mean_test_score))
    assert decoded == [[(best.number, 0)]]  # showing and sorting built no other record

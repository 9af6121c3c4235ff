"""The trial table's row order: trial numbers by default, whatever order a live run
finishes trials in; a header click sorts scores best first; the selection stays on its
trial through both."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.gui.main_window import MainWindow
from hpstudio.gui.models import (
    COL_FIT,
    COL_MEAN,
    COL_NUMBER,
    COL_STD,
    COL_TRAIN,
    TrialTableModel,
)

DISPLAY = Qt.ItemDataRole.DisplayRole


def trial(number: int, score: float, *, fit: float = 0.01, rung: int = 0,
          failed: bool = False) -> TrialRecord:
    return TrialRecord(
        study_id=1, number=number, params={"max_depth": number},
        state=TrialState.FAILED if failed else TrialState.COMPLETE,
        test_scores={"score": (math.nan,) * 3 if failed else (score,) * 3},
        train_scores={"score": (min(1.0, score + 0.05),) * 3}, fit_times=(fit,) * 3,
        score_times=(0.001,) * 3, started=1000.0 + number, finished=1001.0 + number,
        rung=rung, error="ValueError: boom" if failed else None)


def numbers(model) -> list[int]:
    return [int(model.data(model.index(r, COL_NUMBER), DISPLAY).split("·")[0])
            for r in range(model.rowCount())]  # "3·r1": trial 3 at rung 1


@pytest.fixture
def window(qtbot, db_path: Path):
    win = MainWindow(db_path, interactive=False, defer_plots=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def click_header(qtbot, win: MainWindow, column: int) -> None:
    header = win.trial_view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(x, header.height() // 2))


def selected_number(win: MainWindow) -> int | None:
    rows = win.trial_view.selectionModel().selectedRows()
    return win.trial_proxy.trial_at(rows[0].row()).number if rows else None


def test_model_merges_out_of_order_trials_into_number_order(qtbot) -> None:
    model = TrialTableModel()
    model.append_trials([trial(0, 0.5), trial(2, 0.6)])
    model.append_trials([trial(5, 0.7), trial(1, 0.4), trial(3, 0.9)])
    model.append_trials([trial(4, 0.1, failed=True)])
    assert numbers(model) == [0, 1, 2, 3, 4, 5]
    assert model.trial_at(model.row_of_number(3)).number == 3
    assert model.row_of_number(5) == 5
    # rungs of one trial follow each other, lowest first
    model.append_trials([trial(1, 0.45, rung=1), trial(0, 0.55, rung=1)])
    assert numbers(model) == [0, 0, 1, 1, 2, 3, 4, 5]
    assert [model.trial_at(r).rung for r in range(4)] == [0, 1, 0, 1]
    # a study reopened with rows stored out of order shows them by number too
    model.set_trials([trial(3, 0.5), trial(1, 0.6), trial(2, 0.7)])
    assert numbers(model) == [1, 2, 3]


def test_live_rows_arrive_in_number_order_and_keep_the_selection(qtbot, window) -> None:
    session = window.session
    session.clear(param_names=["max_depth"])
    session.add_trials([trial(0, 0.5), trial(3, 0.8)])
    session.flush()
    window._select_number(3)
    assert selected_number(window) == 3
    for batch in ([trial(2, 0.6)], [trial(6, 0.7), trial(1, 0.65)], [trial(5, 0.2)],
                  [trial(4, 0.9)]):
        session.add_trials(batch)
        session.flush()
        assert numbers(window.trial_proxy) == sorted(numbers(window.trial_proxy))
        assert selected_number(window) == 3
    assert numbers(window.trial_proxy) == [0, 1, 2, 3, 4, 5, 6]
    header = window.trial_view.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == \
        (COL_NUMBER, Qt.SortOrder.AscendingOrder)


def test_first_click_sorts_scores_best_first_and_times_smallest_first(qtbot, window) -> None:
    scores = {0: 0.5, 1: 0.9, 2: 0.1, 3: 0.7}
    fits = {0: 0.3, 1: 0.1, 2: 0.4, 3: 0.2}
    window.session.show_trials([trial(n, s, fit=fits[n]) for n, s in scores.items()]
                               + [trial(4, 0.0, fit=0.5, failed=True)])
    window._select_number(2)
    click_header(qtbot, window, COL_MEAN)
    assert numbers(window.trial_proxy) == [1, 3, 0, 2, 4]  # best first, failed last
    assert selected_number(window) == 2
    click_header(qtbot, window, COL_MEAN)
    assert numbers(window.trial_proxy) == [2, 0, 3, 1, 4]
    click_header(qtbot, window, COL_TRAIN)
    assert numbers(window.trial_proxy)[:4] == [1, 3, 0, 2]
    click_header(qtbot, window, COL_FIT)
    assert numbers(window.trial_proxy)[:4] == [1, 3, 0, 2]  # fastest first
    click_header(qtbot, window, COL_STD)  # a spread: smallest first
    assert window.trial_view.horizontalHeader().sortIndicatorOrder() == \
        Qt.SortOrder.AscendingOrder
    click_header(qtbot, window, COL_NUMBER)
    assert numbers(window.trial_proxy) == [0, 1, 2, 3, 4]
    click_header(qtbot, window, COL_NUMBER)
    assert numbers(window.trial_proxy) == [4, 3, 2, 1, 0]
    click_header(qtbot, window, COL_NUMBER)  # a third click clears the sort: number order
    assert window.trial_view.horizontalHeader().sortIndicatorSection() == -1
    assert numbers(window.trial_proxy) == [0, 1, 2, 3, 4]
    assert selected_number(window) == 2

"""What the plots' axes say: ranges around the first trials, room ahead of a live run,
one tick notation per axis, titles clear of tick labels, workers numbered on the
timeline, pruned trials told apart from failed ones."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui

from hpstudio.core.records import FoldResult, TrialRecord, TrialState
from hpstudio.core.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials
from hpstudio.gui.plots.axes import (
    TITLE_GAP,
    StudyAxis,
    format_values,
    plain_number,
    power_of_ten,
    tick_labels,
)
from hpstudio.gui.plots.base import XHeadroom
from hpstudio.gui.plots.history import X_ELAPSED
from hpstudio.gui.plots.panel import PlotsPanel

SUPERSCRIPTS = set("⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def trial(number: int, score: float | None, *, state: TrialState | None = None,
          workers: tuple[str, ...] = ("4242",), start: float = 1000.0,
          params: dict | None = None) -> TrialRecord:
    """A trial of three one-second folds from ``start``; ``score=None``: failed."""
    state = state or (TrialState.FAILED if score is None else TrialState.COMPLETE)
    value = math.nan if score is None else score
    folds = tuple(
        FoldResult(number, f, {"score": value}, None, 1.0, 0.0, start + f, start + f + 1,
                   workers[f % len(workers)],
                   "ValueError: boom" if state is TrialState.FAILED else None)
        for f in range(3))
    scores = () if state is TrialState.FAILED else (value,) * 3
    return TrialRecord(
        study_id=1, number=number, params=params or {"a": float(number)}, state=state,
        test_scores={"score": scores}, train_scores=None, fit_times=(1.0,) * 3,
        score_times=(0.0,) * 3, started=start, finished=start + 3,
        error="ValueError: boom" if state is TrialState.FAILED else None, folds=folds)


@pytest.fixture
def panel(qtbot):
    p = PlotsPanel()
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def notation(label: str) -> str:
    return "power" if SUPERSCRIPTS & set(label) else "plain"


# -- tick text ---------------------------------------------------------------------------


def test_number_forms() -> None:
    assert [plain_number(v) for v in (0.001, 0.02, 1.0, 10.0, 20000.0, -3400.0)] == \
        ["0.001", "0.02", "1", "10", "20000", "-3400"]
    assert [power_of_ten(v) for v in (1e-5, 2e-5, 10.0, 1e3, -3.5e6)] == \
        ["10⁻⁵", "2·10⁻⁵", "10¹", "10³", "−3.5·10⁶"]


@pytest.mark.parametrize(("view", "expected"), [((-3.2, 3.2), "power"), ((-5.3, -0.9), "power"),
                                                 ((-2.1, 2.1), "plain"), ((0.1, 4.6), "plain")])
def test_log_axis_labels_use_one_notation_for_every_level(qtbot, view, expected) -> None:
    """The contour's old axis read 0.01, 0.1, 10¹, 10²: every level now agrees."""
    axis = StudyAxis("bottom")
    axis.setLogMode(True)
    axis.setRange(*view)
    levels = axis.tickValues(*view, 600)
    labels = [text for spacing, values in levels
              for text in axis.tickStrings(values, 1.0, spacing)]
    assert labels
    assert {notation(text) for text in labels} == {expected}


def test_linear_labels_never_mix_exponents() -> None:
    small = tick_labels([0.0, 5e-5, 1e-4, 1.5e-4], log=False, spacing=5e-5, view=(0, 2e-4))
    assert small == ["0", "5·10⁻⁵", "10⁻⁴", "1.5·10⁻⁴"]
    usual = tick_labels([-4600.0, -4400.0, 1e-13], log=False, spacing=200, view=(-4700, 0))
    assert usual == ["−4600", "−4400", "0"]


def test_grid_values_share_a_notation() -> None:
    assert format_values([1e-5, 1e-4, 1e-3, 0.1]) == ["10⁻⁵", "10⁻⁴", "10⁻³", "10⁻¹"]
    assert format_values([0.01, 0.1, 1.0, 10.0, 100.0]) == ["0.01", "0.1", "1", "10", "100"]
    assert format_values(["rbf", None, 3]) == ["rbf", "None", "3"]


def test_contour_of_log_parameters_labels_ticks_one_way(panel) -> None:
    trials = synthetic_trials(200, n_params=2)
    panel.set_study(trials, SYNTHETIC_LOG_PARAMS, "accuracy")
    contour = panel.show_plot("contour")
    contour.set_params("C", "gamma")
    for side in ("bottom", "left"):
        axis = contour.plot.getAxis(side)
        assert isinstance(axis, StudyAxis) and axis.logMode
        lo, hi = axis.range
        labels = [text for spacing, values in axis.tickValues(lo, hi, 600)
                  for text in axis.tickStrings(values, 1.0, spacing)]
        assert len({notation(text) for text in labels}) == 1, labels


# -- ranges ------------------------------------------------------------------------------


def test_one_trial_gets_a_readable_range(panel, qtbot) -> None:
    panel.set_study([trial(0, 0.93)])
    history = panel.show_plot("history")
    qtbot.waitUntil(lambda: history.vb.viewRange()[0][1] > history.vb.viewRange()[0][0])
    (x0, x1), (y0, y1) = history.vb.viewRange()
    assert x0 < 0 < x1 and x1 - x0 >= 2  # not 0 .. 1e-10
    assert y0 < 0.93 < y1 and 0.05 <= y1 - y0 <= 0.5
    # the next trial hands the score axis back to auto-range
    panel.append_trial(trial(1, 0.5))
    panel.flush()
    assert history.vb.autoRangeEnabled()[1]

    def spans_both() -> bool:
        (_, _), (low, high) = history.vb.viewRange()
        return low <= 0.5 and high >= 0.93

    qtbot.waitUntil(spans_both)


@pytest.mark.parametrize("x_mode", ["number", X_ELAPSED])
def test_live_history_keeps_room_right_of_the_newest_trial(panel, x_mode) -> None:
    history = panel.show_plot("history")
    history.set_x_mode(x_mode)
    panel.set_study([])
    for n in range(40):
        panel.append_trial(trial(n, 0.5 + 0.01 * (n % 7), start=1000.0 + 3 * n))
        panel.flush()
        (x0, x1), _ = history.vb.viewRange()
        newest = history.plotted_x()[-1]
        assert x0 <= history.plotted_x()[0]
        assert newest <= x1 - XHeadroom.EDGE_MARGIN * (x1 - x0) + 1e-9, (n, newest, x1)


def test_live_timeline_keeps_room_right_of_the_last_fold(panel) -> None:
    timeline = panel.show_plot("timeline")
    panel.set_study([])
    for n in range(25):
        panel.append_trial(trial(n, 0.7, start=1000.0 + 3 * n))
        panel.flush()
        (x0, x1), _ = timeline.plot.getViewBox().viewRange()
        assert timeline.bars()["end"].max() <= x1 - XHeadroom.EDGE_MARGIN * (x1 - x0) + 1e-9


def test_axis_titles_do_not_touch_tick_labels(panel, qtbot) -> None:
    """Wide tick labels (a loss in the thousands) and the score title keep a gap."""
    trials = [trial(n, -4600.0 + 97.0 * n) for n in range(12)]
    panel.set_study(trials, metric="neg_mean_squared_error")
    history = panel.show_plot("history")

    def gaps() -> dict[str, float]:
        history.view.grab()  # an axis learns its labels' width while painting
        out = {}
        for side in ("left", "bottom"):
            axis = history.plot.getAxis(side)
            axis.resizeEvent()  # place the title for the axis' current size
            title = title_text_rect(axis)
            rects = [rect for rect, _ in tick_text_rects(axis)]
            assert rects
            out[side] = min(rect.left() - title.right() if side == "left"
                            else title.top() - rect.bottom() for rect in rects)
        return out

    # the layout takes the new widths in an event or two
    qtbot.waitUntil(lambda: min(gaps().values()) >= TITLE_GAP)
    assert history.plot.getAxis("left").textWidth > 30  # "−4600" is measured


def title_text_rect(axis: StudyAxis) -> QtCore.QRectF:
    """Where the title's text is, in axis coordinates (without the text item's margin)."""
    margin = axis.label.document().documentMargin()
    rect = axis.label.mapRectToParent(axis.label.boundingRect())
    return rect.adjusted(margin, margin, -margin, -margin)


def tick_text_rects(axis: StudyAxis) -> list[tuple[QtCore.QRectF, str]]:
    image = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in texts]


# -- the timeline's workers ------------------------------------------------------------------


def test_timeline_numbers_workers_by_first_fold_and_keeps_pids_in_tooltips(panel) -> None:
    # process 900 starts its first fold later than process 31337, though it comes first
    trials = [trial(0, 0.5, workers=("900",), start=1005.0),
              trial(1, 0.6, workers=("31337",), start=1000.0),
              trial(2, 0.7, workers=("900", "31337"), start=1010.0)]
    panel.set_study(trials)
    timeline = panel.show_plot("timeline")
    assert timeline.row_names() == ["worker 1", "worker 2"]
    rows = timeline.worker_rows()
    assert rows == {"31337": 0, "900": 1}
    left = timeline.plot.getAxis("left")
    assert [text for _, text in left._tickLevels[0]] == ["worker 1", "worker 2"]
    assert timeline.axis_tooltip() == "worker 1: process 31337\nworker 2: process 900"
    # over a bar: the trial, the worker and its process
    tip = timeline.bar_tooltip(5.5, rows["900"])
    assert tip.startswith("trial 0 · worker 2 (process 900)")
    assert timeline.bar_tooltip(5.5, rows["31337"]) == ""
    assert timeline.plot.getViewBox().yInverted()  # worker 1 is drawn on top


# -- pruned trials -------------------------------------------------------------------------


def test_history_draws_pruned_trials_apart_from_failed_ones(panel, qtbot) -> None:
    trials = [trial(0, 0.5), trial(1, None), trial(2, 0.6, state=TrialState.PRUNED),
              trial(3, 0.7), trial(4, 0.4, state=TrialState.PRUNED)]
    panel.set_study(trials)
    history = panel.show_plot("history")
    assert history.failed_numbers().tolist() == [1]
    assert history.pruned_numbers().tolist() == [2, 4]
    assert history.plotted_numbers().tolist() == [0, 3]
    assert history.legend_entries() == ["trial", "best so far", "failed", "pruned"]
    # pinned to the bottom of the view, in a colour of their own
    px, py = history.pruned.getData()
    (_, _), (y0, y1) = history.vb.viewRange()
    assert px.tolist() == [2.0, 4.0] and np.all(py <= y0 + 0.1 * (y1 - y0))
    assert history.pruned._brush.color() != history.failed._brush.color()
    # a pruned trial can be clicked and selected like any other
    with qtbot.waitSignal(panel.trialClicked) as clicked:
        history._on_pruned_clicked(history.pruned, 1)
    assert clicked.args == [4]
    panel.select_trial(2)
    hx, _ = history.highlighted()
    assert hx.tolist() == [2.0]
    # the legend lists only what is drawn, and its samples hide what they stand for
    panel.set_study([trial(0, 0.5), trial(1, 0.6, state=TrialState.PRUNED)])
    history.refresh()
    assert history.legend_entries() == ["trial", "best so far", "pruned"]
    sample = history._legend.item.items[-1][0]
    sample.mouseClickEvent(_LeftClick())
    assert not history.pruned.isVisible()


class _LeftClick:
    def button(self) -> QtCore.Qt.MouseButton:
        return QtCore.Qt.MouseButton.LeftButton

    def accept(self) -> None:
        pass

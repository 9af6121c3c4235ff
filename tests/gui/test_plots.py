"""The live plots: each plot's arrays against the trials, live appends, clicks,
selection, brushing and export.

Trials are hand-made records so every expected number is computed independently
of the plotting code.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from PySide6 import QtCore

from hpstudio.core.analysis import within_one_standard_error
from hpstudio.core.records import FoldResult, TrialRecord, TrialState
from hpstudio.core.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials
from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.contour import MODE_GRID, MODE_INTERPOLATED

T0 = 1_000.0


def make_trial(
    number: int,
    params: dict,
    scores: tuple[float, ...] | None,
    train: tuple[float, ...] | None = None,
    workers: tuple[str, ...] = ("w0", "w1"),
    start: float | None = None,
    fold_time: float = 1.0,
) -> TrialRecord:
    """A trial whose folds run back to back, alternating over ``workers``.

    ``scores=None`` makes a failed trial (3 folds that raised)."""
    failed = scores is None
    k = 3 if failed else len(scores)
    t = T0 + number * k * fold_time if start is None else start
    folds = tuple(
        FoldResult(
            trial_number=number, fold=f,
            test_scores={"score": math.nan if failed else scores[f]},
            train_scores=None if train is None else {"score": train[f]},
            fit_time=fold_time, score_time=0.0,
            started=t + f * fold_time, finished=t + (f + 1) * fold_time,
            worker=workers[f % len(workers)],
            error="ValueError: boom" if failed else None,
        )
        for f in range(k)
    )
    return TrialRecord(
        study_id=1, number=number, params=params,
        state=TrialState.FAILED if failed else TrialState.COMPLETE,
        test_scores={"score": () if failed else tuple(scores)},
        train_scores=None if train is None else {"score": tuple(train)},
        fit_times=(fold_time,) * k, score_times=(0.0,) * k,
        started=t, finished=t + k * fold_time,
        error="ValueError: boom" if failed else None, folds=folds,
    )


def mixed_trials() -> list[TrialRecord]:
    """Numeric log param C, categorical kernel, a None/int param, two failures."""
    rng = np.random.default_rng(3)
    out = []
    kernels = ["rbf", "linear", "poly"]
    depths = [None, 3, 10]
    for i in range(24):
        if i in (5, 17):
            out.append(make_trial(i, {"C": 10.0 ** (i % 5 - 2), "kernel": "rbf",
                                      "max_depth": None}, None))
            continue
        scores = tuple(float(v) for v in 0.5 + 0.02 * i % 0.3 + rng.normal(0, 0.01, 3))
        train = tuple(s + 0.05 for s in scores)
        out.append(make_trial(
            i, {"C": 10.0 ** (i % 5 - 2), "kernel": kernels[i % 3], "max_depth": depths[i % 3]},
            scores, train,
        ))
    return out


def complete_scores(trials: list[TrialRecord]) -> np.ndarray:
    return np.array([t.mean_test_score for t in trials if t.ok])


# -- columns ----------------------------------------------------------------------------


def test_columns_match_records_and_grow_in_place() -> None:
    trials = mixed_trials()
    bulk = TrialTable.from_trials(trials, {"C"})
    grown = TrialTable({"C"})
    for t in trials:
        grown.extend([t])
    for cols in (bulk, grown):
        assert np.allclose(cols.test[cols.complete], complete_scores(trials))
        assert cols.complete.sum() == 22
        assert cols.params["kernel"].categorical
        assert cols.params["kernel"].labels == ["linear", "poly", "rbf"]
        assert cols.params["max_depth"].labels == ["None", "3", "10"]
        assert not cols.params["C"].categorical and cols.params["C"].is_log
        assert np.allclose(cols.params["C"].transformed(),
                           np.log10([t.params["C"] for t in trials]))
        se = [t.std_test_score / np.sqrt(3) for t in trials if t.ok]
        assert np.allclose(cols.standard_error[cols.complete], se)
        assert len(cols.fold_col("fold_trial")) == 24 * 3
    assert np.array_equal(bulk.params["kernel"].values, grown.params["kernel"].values)


def test_columns_param_missing_in_a_subspace() -> None:
    trials = [make_trial(0, {"a": 1.0}, (0.5, 0.5)), make_trial(1, {"b": "x"}, (0.6, 0.6)),
              make_trial(2, {"a": 2.0, "c": 1}, (0.7, 0.7))]
    grown = TrialTable()
    for t in trials:  # rows arriving one by one, each with other names than the last
        grown.extend([t])
        grown.params  # noqa: B018 - read as a live plot reads it after each arrival
    for cols in (TrialTable.from_trials(trials), grown):
        assert list(cols.params) == ["a", "b", "c"]
        assert cols.params["a"].values[0] == 1.0 and np.isnan(cols.params["a"].values[1])
        assert cols.params["a"].values[2] == 2.0
        assert np.isnan(cols.params["b"].values[0]) and cols.params["b"].labels == ["x"]
        assert np.isnan(cols.params["c"].values[:2]).all() and cols.params["c"].values[2] == 1


@pytest.mark.parametrize(
    "scores",
    [
        [(0.5, 0.7, 0.6), (0.9, 0.8, 0.7)],  # all folds everywhere
        [(0.5, 0.7, 0.6), None, (0.9, 0.8, 0.7)],  # a failed trial has no scores
        [(0.5, 0.7, 0.6), None, (0.9, 0.8)],  # ragged: a study resumed with other k
        [(0.5, float("nan"), 0.6), None, (0.9, 0.8, 0.7)],  # a fold scored NaN
    ],
)
def test_columns_mean_and_std_equal_the_records(scores) -> None:
    trials = [  # every other complete trial without train scores
        make_trial(i, {"a": float(i)}, s,
                   None if s is None or i % 2 else tuple(v + 0.1 for v in s))
        for i, s in enumerate(scores)
    ]
    cols = TrialTable.from_trials(trials)
    expected_train = [np.nan if t.mean_train_score is None or not t.ok else t.mean_train_score
                      for t in trials]
    assert np.allclose(cols.col("train"), expected_train, equal_nan=True, rtol=0, atol=1e-15)
    expected_mean = [t.mean_test_score if t.ok else np.nan for t in trials]
    expected_std = [t.std_test_score if t.ok else np.nan for t in trials]
    assert np.allclose(cols.test, expected_mean, equal_nan=True, rtol=0, atol=1e-15)
    assert np.allclose(cols.col("std"), expected_std, equal_nan=True, rtol=0, atol=1e-15)
    assert cols.col("k").tolist() == [0 if s is None else len(s) for s in scores]


# -- history ----------------------------------------------------------------------------


def test_history_scores_best_so_far_and_failures(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials, {"C"}, "accuracy")
    h = panel.history
    scores = complete_scores(trials)
    assert np.allclose(h.plotted_scores(), scores)
    assert np.allclose(h.best_so_far(), np.maximum.accumulate(scores))
    assert list(h.plotted_x()) == [t.number for t in trials if t.ok]
    assert sorted(h.failed_numbers().tolist()) == [5, 17]
    # failure markers sit at the bottom of the visible y range
    fx, fy = h.failed.getData()
    (_, _), (y0, y1) = h.vb.viewRange()
    assert len(fx) == 2 and np.all(fy <= y0 + 0.1 * (y1 - y0))


def test_history_log_y_and_elapsed_time(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials, {"C"})
    h = panel.history
    h.set_log_y(True)
    assert h.log_y and h.plot.getAxis("left").logMode
    _, y = h.scatter.getData()
    assert np.allclose(y, np.log10(complete_scores(trials)))
    h.set_log_y(False)
    assert not h.plot.getAxis("left").logMode
    h.set_x_mode("elapsed")
    first = min(t.started for t in trials)
    assert np.allclose(h.plotted_x(), [t.finished - first for t in trials if t.ok])


def test_history_negative_scores_log_uses_loss(panel) -> None:
    trials = [make_trial(i, {"a": float(i)}, (-(10.0 ** -i),) * 2) for i in range(4)]
    panel.set_study(trials)
    panel.history.set_log_y(True)
    assert panel.history.log_y
    _, y = panel.history.scatter.getData()
    assert np.allclose(y, [0, -1, -2, -3])


# -- slices -----------------------------------------------------------------------------


def test_slices_values_log_and_categories(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials, {"C"})
    s = panel.show_plot("slices")
    assert s.param_names() == ["C", "kernel", "max_depth"]
    ok = [t for t in trials if t.ok]
    x, y = s.plotted("C")
    assert np.allclose(x, [t.params["C"] for t in ok])
    assert np.allclose(y, complete_scores(trials))
    assert s.is_log_x("C") and not s.is_log_x("kernel")
    codes, _ = s.plotted("kernel")
    labels = s.categories("kernel")
    assert [labels[int(c)] for c in codes] == [t.params["kernel"] for t in ok]
    ticks = s.plot_for("kernel").getAxis("bottom")._tickLevels[0]
    assert [lbl for _, lbl in ticks] == ["linear", "poly", "rbf"]
    drawn_x, _ = s.scatter_for("kernel").getData()
    assert np.all(np.abs(drawn_x - codes) <= 0.16)  # spread around the integer slot


# -- parallel coordinates -----------------------------------------------------------------


def test_parallel_normalised_axes_and_brushing(panel, qtbot) -> None:
    trials = [make_trial(i, {"a": float(i), "k": "xy"[i % 2]}, (i / 10,) * 2) for i in range(10)]
    panel.set_study(trials)
    p = panel.show_plot("parallel")
    assert p.axis_names() == ["a", "k", "score"]
    norm = p.normalised()
    assert np.allclose(norm[:, 0], np.arange(10) / 9)
    assert np.allclose(norm[:, 1], [i % 2 for i in range(10)])
    assert np.allclose(norm[:, 2], np.arange(10) / 9)
    assert p.drawn_count() == 10
    with qtbot.waitSignal(panel.filterChanged) as blocker:
        p.set_brush("score", 0.5, 1.0)
    assert blocker.args == [{5, 6, 7, 8, 9}]
    with qtbot.waitSignal(panel.filterChanged) as blocker:
        p.set_brush("k", 0.9, 1.0)  # only "y" (odd trials)
    assert blocker.args == [{5, 7, 9}]
    # a new trial passing the brushes updates the filter
    with qtbot.waitSignal(panel.filterChanged) as blocker:
        panel.append_trial(make_trial(11, {"a": 11.0, "k": "y"}, (1.2, 1.2)))
    assert 11 in blocker.args[0]
    with qtbot.waitSignal(panel.filterChanged) as blocker:
        p.clear_brushes()
    assert blocker.args == [None]


def test_parallel_caps_lines_but_keeps_best(qtbot) -> None:
    cols = TrialTable.from_trials(synthetic_trials(3000, n_params=2), SYNTHETIC_LOG_PARAMS)
    from hpstudio.gui.plots.parallel import ParallelPlot

    p = ParallelPlot()
    p.max_lines = 100
    p.set_columns(cols)
    p.refresh()
    assert p.drawn_count() == 100
    best = int(np.nanargmax(p.normalised()[:, -1]))
    assert best in p._drawn
    p.deleteLater()


# -- contour ----------------------------------------------------------------------------


def test_contour_grid_cells_hold_best_score_per_pair(panel) -> None:
    rng = np.random.default_rng(0)
    trials = []
    best: dict[tuple, float] = {}
    n = 0
    for a in (0.1, 1.0, 10.0):
        for b in ("x", "y"):
            for _ in range(3):  # repeated pairs: the cell keeps the best
                s = float(rng.random())
                trials.append(make_trial(n, {"a": a, "b": b, "c": 1}, (s, s)))
                best[(a, b)] = max(best.get((a, b), -np.inf), s)
                n += 1
    panel.set_study(trials, {"a"})
    c = panel.show_plot("contour")
    c.set_params("a", "b")
    assert c.mode() == MODE_GRID
    xs, ys = c.axis_values()
    assert xs == [0.1, 1.0, 10.0] and ys == ["x", "y"]
    cells = c.cell_values()
    for i, a in enumerate(xs):
        for j, b in enumerate(ys):
            assert cells[i, j] == pytest.approx(best[(a, b)])
    assert np.allclose(c.image_data(), cells.T)


def test_contour_interpolates_continuous_data_on_log_axes(panel) -> None:
    trials = synthetic_trials(300, n_params=3, failed_every=0)
    panel.set_study(trials, SYNTHETIC_LOG_PARAMS)
    c = panel.show_plot("contour")
    c.set_params("C", "gamma")
    assert c.mode() == MODE_INTERPOLATED
    assert c.is_log("x") and c.is_log("y")
    img = c.image_data()
    assert img.shape[0] > 10 and np.isfinite(img).any()
    scores = complete_scores(trials)
    finite = img[np.isfinite(img)]
    assert finite.max() <= scores.max() + 1e-9 and finite.min() >= scores.min() - 1e-9


def test_contour_of_a_small_random_study_interpolates(panel) -> None:
    """30 random points have 30 distinct values per axis: not a grid, however few."""
    rng = np.random.default_rng(1)
    trials = [make_trial(n, {"C": float(10 ** rng.uniform(-3, 3)),
                             "gamma": float(10 ** rng.uniform(-5, -1))}, (s, s))
              for n, s in enumerate(rng.random(30))]
    panel.set_study(trials, {"C", "gamma"})
    c = panel.show_plot("contour")
    c.set_params("C", "gamma")
    assert c.mode() == MODE_INTERPOLATED
    assert c.is_log("x") and c.is_log("y")


def test_contour_prebins_large_studies(qtbot) -> None:
    from hpstudio.gui.plots.contour import MAX_INTERP_POINTS, PREBIN, ContourPlot

    trials = synthetic_trials(MAX_INTERP_POINTS + 500, n_params=2, failed_every=0)
    cols = TrialTable.from_trials(trials, SYNTHETIC_LOG_PARAMS)
    c = ContourPlot()
    c.set_columns(cols)
    c.refresh()
    assert c.mode() == MODE_INTERPOLATED
    img = c.image_data()
    scores = complete_scores(trials)
    finite = img[np.isfinite(img)]
    assert finite.size > img.size / 2
    # binning keeps the maximum of each bin, so the best score survives it
    assert finite.max() <= scores.max() + 1e-9
    from hpstudio.gui.plots.contour import _prebin

    pts = np.column_stack([cols.params["C"].transformed(), cols.params["gamma"].transformed()])
    kept, best = _prebin(pts, cols.test)
    assert len(kept) <= PREBIN * PREBIN and best.max() == pytest.approx(scores.max())
    c.deleteLater()


# -- overfitting ------------------------------------------------------------------------


def test_within_one_standard_error_hand_made() -> None:
    # best: mean 0.80, std 0.05 over k=4 -> SE 0.025, threshold 0.775
    trials = [
        make_trial(0, {"a": 0}, (0.75, 0.85, 0.75, 0.85)),  # 0.80, std 0.05
        make_trial(1, {"a": 1}, (0.78, 0.78, 0.78, 0.78)),  # 0.78: within
        make_trial(2, {"a": 2}, (0.77, 0.77, 0.77, 0.77)),  # 0.77: outside
        make_trial(3, {"a": 3}, (0.775, 0.775, 0.775, 0.775)),  # on the threshold: within
        make_trial(4, {"a": 4}, None),  # failed: never
    ]
    assert within_one_standard_error(trials) == {0, 1, 3}


def test_overfitting_plot_data(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials)
    o = panel.show_plot("overfitting")
    numbers, train, test = o.train_test()
    ok = [t for t in trials if t.ok]
    assert list(numbers) == [t.number for t in ok]
    assert np.allclose(train, [t.mean_train_score for t in ok])
    assert np.allclose(test, [t.mean_test_score for t in ok])
    ranked, means, _ = o.ranked()
    assert np.all(np.diff(means) <= 0)
    assert ranked[0] == max(ok, key=lambda t: t.mean_test_score).number
    assert o.one_se_numbers() == within_one_standard_error(trials)


# -- timeline ---------------------------------------------------------------------------


def test_timeline_one_bar_per_fold(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials)
    tl = panel.show_plot("timeline")
    bars = tl.bars()
    folds = [f for t in trials for f in t.folds]
    assert len(bars["trial"]) == len(folds) == 72
    t0 = min(t.started for t in trials)
    assert tl.t0 == pytest.approx(t0)
    assert list(bars["trial"]) == [f.trial_number for f in folds]
    assert list(bars["worker"]) == [f.worker for f in folds]
    assert np.allclose(bars["start"], [f.started - t0 for f in folds])
    assert np.allclose(bars["end"], [f.finished - t0 for f in folds])
    rows = tl.worker_rows()
    assert [rows[w] for w in bars["worker"]] == list(bars["row"])
    # failed folds are drawn red, the rest alternate two shades
    n_failed = sum(1 for f in folds if f.error)
    assert len(tl.failed.opts["x0"]) == n_failed == 6
    assert len(tl.even.opts["x0"]) + len(tl.odd.opts["x0"]) == 72 - n_failed
    # picking a bar: fold 1 of trial 3 runs on w1 from 10 s to 11 s after t0
    assert tl.fold_at(10.5, rows["w1"]) == 3
    assert tl.fold_at(10.5, rows["w1"] + 0.5) is None


def test_timeline_falls_back_to_trial_bars_without_folds(panel) -> None:
    bare = dataclasses.replace(make_trial(0, {"a": 1.0}, (0.5, 0.5)), folds=())
    panel.set_study([bare])
    bars = panel.show_plot("timeline").bars()
    assert len(bars["trial"]) == 1 and bars["worker"][0] == "(unknown)"


# -- a reopened study: StoredTrials -------------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path):
    """``mixed_trials()`` saved to a history and opened back (the store stays open: the
    folds are read from it when the timeline is first drawn)."""
    from hpstudio.core.storage import HistoryStore

    store = HistoryStore(tmp_path / "plots.db")
    study = store.create_study({"name": "p", "estimator": {"class": "x.Y"}}, base_dir=None,
                               n_total=None, data_fingerprint=None, dataset="d")
    store.save_trials(dataclasses.replace(t, study_id=study) for t in mixed_trials())
    yield store.open_trials(study, {"C"})
    store.close()


def counting_folds(trials) -> list[int]:
    """Count the stored table's fold reads."""
    calls: list[int] = []
    load = trials._fold_loader

    def counted():
        calls.append(1)
        return load()

    trials._fold_loader = counted
    return calls


def test_columns_from_stored_trials_match_records(stored) -> None:
    records = mixed_trials()
    ref = TrialTable.from_trials(records, {"C"})
    cols = stored  # the history's fast open path fills the same kind of table
    assert len(cols) == len(ref) == 24
    for name in ("number", "ok", "test", "std", "train", "started", "finished"):
        assert np.allclose(cols.col(name), ref.col(name), equal_nan=True), name
    ok = ref.col("ok")
    assert np.array_equal(cols.col("k")[ok], ref.col("k")[ok])
    assert np.allclose(cols.standard_error[ok], ref.standard_error[ok])
    assert list(cols.params) == list(ref.params) == ["C", "kernel", "max_depth"]
    for name, p in ref.params.items():
        q = cols.params[name]
        assert (q.categorical, q.labels, q.is_log) == (p.categorical, p.labels, p.is_log)
        assert np.allclose(q.values, p.values, equal_nan=True)
    assert stored._stored_records == {}  # nothing built a record
    for name in ("fold_trial", "fold_started", "fold_finished", "fold_ok"):
        assert np.array_equal(cols.fold_col(name), ref.fold_col(name)), name
    labels = np.array(cols.workers, dtype=object)[cols.fold_col("fold_worker")]
    ref_labels = np.array(ref.workers, dtype=object)[ref.fold_col("fold_worker")]
    assert list(labels) == list(ref_labels)
    assert stored._stored_records == {}


def test_reopened_study_reads_its_folds_only_for_the_timeline(panel, stored, qtbot) -> None:
    reads = counting_folds(stored)
    records = mixed_trials()
    panel.set_study(stored, {"C"}, "accuracy")
    h = panel.history
    assert np.allclose(h.plotted_scores(), complete_scores(records))
    assert list(h.failed_numbers()) == [5, 17]
    panel.show_plot("slices")
    panel.show_plot("parallel")
    assert reads == [] and stored._stored_records == {}
    tl = panel.show_plot("timeline")
    assert reads == [1]
    folds = [f for t in records for f in t.folds]
    bars = tl.bars()
    assert len(bars["trial"]) == len(folds) == 72  # every stored fold, not one per trial
    assert list(bars["worker"]) == [f.worker for f in folds]
    assert np.allclose(bars["start"], [f.started - tl.t0 for f in folds])
    assert len(tl.failed.opts["x0"]) == 6
    # a resumed study's live trials join the stored ones
    panel.append_trial(make_trial(24, {"C": 1.0, "kernel": "rbf", "max_depth": 3},
                                  (0.9, 0.9, 0.9), workers=("w9",), start=T0 + 100))
    qtbot.waitUntil(lambda: panel.pending_count == 0, timeout=2_000)
    assert reads == [1] and len(tl.bars()["trial"]) == 75 and "w9" in tl.worker_rows()
    assert panel.show_plot("history").plotted_numbers()[-1] == 24
    assert panel.show_plot("slices").param_names() == ["C", "kernel", "max_depth"]
    panel.select_trial(3)
    assert len(tl.highlighted()["start"]) == 3


def test_set_study_with_records_appended_to_a_stored_study(panel, stored) -> None:
    live = make_trial(24, {"C": 1.0, "kernel": "sigmoid"}, (0.99, 0.99, 0.99), workers=("w9",))
    panel.set_study(stored, appended=[live])
    assert panel.history.plotted_numbers()[-1] == 24
    assert panel.show_plot("slices").categories("kernel")[-1] == "sigmoid"
    assert len(panel.show_plot("timeline").bars()["trial"]) == 75


def test_stored_folds_that_cannot_be_read_give_trial_bars(panel, stored) -> None:
    from hpstudio.core.errors import StoreError

    def unreadable():
        raise StoreError("the history file is gone")

    stored._fold_loader = unreadable
    panel.set_study(stored)
    bars = panel.show_plot("timeline").bars()
    assert len(bars["trial"]) == 24 and set(bars["worker"]) == {"(unknown)"}
    assert panel.columns.fold_error == "the history file is gone"


# -- live updates -----------------------------------------------------------------------


def test_live_appends_are_coalesced_and_hidden_tabs_catch_up(panel, qtbot) -> None:
    trials = mixed_trials()
    panel.set_study(trials[:10])
    h = panel.history
    refreshes = h.refresh_count
    for t in trials[10:]:
        panel.append_trial(t)
    assert panel.pending_count == 14
    qtbot.waitUntil(lambda: panel.pending_count == 0, timeout=2_000)
    assert h.refresh_count == refreshes + 1  # one redraw for the whole burst
    assert np.allclose(h.plotted_scores(), complete_scores(trials))
    assert np.allclose(h.best_so_far(), np.maximum.accumulate(complete_scores(trials)))
    assert panel.timeline.dirty and panel.slices.dirty  # hidden: not computed
    tl = panel.show_plot("timeline")
    assert not tl.dirty and len(tl.bars()["trial"]) == 72


def test_new_parameter_and_worker_appear_live(panel, qtbot) -> None:
    panel.set_study([make_trial(0, {"a": 1.0}, (0.5, 0.5))])
    panel.show_plot("slices")
    panel.append_trial(make_trial(1, {"a": 2.0, "b": "new"}, (0.6, 0.6), workers=("w9",)))
    qtbot.waitUntil(lambda: panel.pending_count == 0, timeout=2_000)
    assert panel.slices.param_names() == ["a", "b"]
    assert "w9" in panel.show_plot("timeline").worker_rows()


# -- clicks and selection ---------------------------------------------------------------


def test_click_on_points_emits_trial_clicked(panel, qtbot) -> None:
    trials = mixed_trials()
    panel.set_study(trials)
    h = panel.history
    with qtbot.waitSignal(panel.trialClicked) as blocker:
        h.scatter.sigClicked.emit(h.scatter, 3)
    assert blocker.args == [trials[3].number]
    s = panel.show_plot("slices")
    with qtbot.waitSignal(panel.trialClicked) as blocker:
        s.scatter_for("kernel").sigClicked.emit(s.scatter_for("kernel"), 0)
    assert blocker.args == [int(s.plotted_numbers("kernel")[0])]
    o = panel.show_plot("overfitting")
    with qtbot.waitSignal(panel.trialClicked) as blocker:
        o.tt_scatter.sigClicked.emit(o.tt_scatter, 1)
    assert blocker.args == [int(o.train_test()[0][1])]


def test_mouse_click_on_history_point(panel, qtbot) -> None:
    trials = mixed_trials()
    panel.set_study(trials)
    panel.show()
    qtbot.waitExposed(panel)
    h = panel.history
    h.vb.autoRange()  # settle the view so the point has a stable screen position
    qtbot.waitUntil(lambda: h.scatter.pixelVectors()[0] is not None, timeout=2_000)
    x, y = h.scatter.getData()
    i = 8
    scene_pos = h.scatter.mapToScene(QtCore.QPointF(x[i], y[i]))
    view_pos = h.widget.mapFromScene(scene_pos)
    with qtbot.waitSignal(panel.trialClicked, timeout=2_000) as blocker:
        qtbot.mouseClick(h.widget.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=view_pos)
    assert blocker.args == [int(h.plotted_numbers()[i])]


def test_timeline_click_selects_trial(panel, qtbot) -> None:
    trials = mixed_trials()
    panel.set_study(trials)
    panel.show()
    qtbot.waitExposed(panel)
    tl = panel.show_plot("timeline")
    vb = tl.plot.getViewBox()
    vb.autoRange()
    rows = tl.worker_rows()
    scene_pos = vb.mapViewToScene(QtCore.QPointF(10.5, rows["w1"]))
    view_pos = tl.widget.mapFromScene(scene_pos)
    with qtbot.waitSignal(panel.trialClicked, timeout=2_000) as blocker:
        qtbot.mouseClick(tl.widget.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=view_pos)
    assert blocker.args == [3]
    assert panel.selected == 3


def test_select_trial_highlights_in_every_plot(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials, {"C"})
    panel.refresh_all()
    target = trials[7]
    panel.select_trial(target.number)
    hx, hy = panel.history.highlighted()
    assert list(hx) == [7] and hy[0] == pytest.approx(target.mean_test_score)
    for name in panel.slices.param_names():
        assert len(panel.slices.highlighted(name)[0]) == 1
    px, py = panel.parallel.highlighted()
    assert len(px) == 4 and py[-1] == pytest.approx(
        panel.parallel.normalised()[list(panel.parallel.plotted_numbers()).index(7), -1])
    assert len(panel.contour.highlighted()[0]) == 1
    assert len(panel.overfitting.highlighted()[0]) == 1
    assert len(panel.overfitting.highlighted_rank()[0]) == 1
    hl = panel.timeline.highlighted()
    assert len(hl["start"]) == 3
    assert np.allclose(sorted(hl["start"]), [f.started - panel.timeline.t0 for f in target.folds])
    # a failed trial is ringed at its marker; None clears everything
    panel.select_trial(5)
    assert list(panel.history.highlighted()[0]) == [5]
    panel.select_trial(None)
    assert len(panel.history.highlighted()[0]) == 0
    assert len(panel.timeline.highlighted()["start"]) == 0


def test_selection_survives_refresh_of_hidden_tab(panel) -> None:
    trials = mixed_trials()
    panel.set_study(trials)
    panel.select_trial(4)
    o = panel.show_plot("overfitting")  # computed after the selection was made
    assert len(o.highlighted()[0]) == 1


# -- export -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_every_plot_exports(panel, qtbot, tmp_path: Path, suffix: str) -> None:
    trials = mixed_trials()
    panel.set_study(trials, {"C"})
    panel.show()
    qtbot.waitExposed(panel)
    for name, plot in panel.plots.items():
        out = plot.export(tmp_path / f"{name}.{suffix}")
        data = out.read_bytes()
        assert len(data) > 500, name
        if suffix == "png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert b"<svg" in data[:2000]


def test_export_rejects_unknown_format(panel, tmp_path: Path) -> None:
    panel.set_study(mixed_trials())
    with pytest.raises(ValueError, match=r"png or \.svg"):
        panel.history.export(tmp_path / "plot.gif")

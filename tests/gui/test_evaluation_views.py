"""Several metrics in the app: the metric chooser switches every plot and the trial table;
the Pareto, EDF and Rank views against the core's computations; the overfitting tab says
what to tick without train scores."""

from __future__ import annotations

import numpy as np
import pytest

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.tradeoffs import edf_curve, pareto_front, rank_fractions
from hpstudio.core.trials import TrialTable
from hpstudio.gui.models import COL_MEAN, TrialTableModel
from hpstudio.gui.plots.overfitting import NO_TRAIN_SCORES
from hpstudio.gui.plots.panel import PlotsPanel
from hpstudio.gui.session import StudySession


def record(number: int, params: dict, auc: tuple, acc: tuple, fit: float = 0.1,
           train: bool = False) -> TrialRecord:
    tests = {"roc_auc": auc, "accuracy": acc}
    trains = {m: tuple(v + 0.05 for v in s) for m, s in tests.items()} if train else None
    return TrialRecord(1, number, params, TrialState.COMPLETE, tests, trains,
                       (fit,) * len(auc), (0.01,) * len(auc), float(number), number + 1.0,
                       refit="accuracy")


def two_metric_trials(n: int = 30) -> list[TrialRecord]:
    rng = np.random.default_rng(5)
    out = []
    for i in range(n):
        c, kernel = float(10 ** rng.uniform(-2, 2)), ["rbf", "linear"][i % 2]
        auc = tuple(float(v) for v in rng.uniform(0.7, 0.99, 3))
        acc = tuple(float(v) for v in rng.uniform(0.6, 0.95, 3))
        out.append(record(i, {"C": c, "kernel": kernel}, auc, acc,
                          fit=float(rng.uniform(0.01, 2))))
    return out


@pytest.fixture
def session(qtbot):
    return StudySession()


@pytest.fixture
def panel(qtbot, session):
    p = PlotsPanel(session=session)
    qtbot.addWidget(p)
    p.resize(1000, 650)
    yield p
    p.shutdown()


def show(session, trials) -> TrialTable:
    table = TrialTable.from_trials(trials, {"C"}, metrics=("roc_auc", "accuracy"),
                                   refit="accuracy")
    session.show(table, metric="accuracy")
    return table


def test_the_metric_chooser_switches_every_plot_and_the_trial_table(panel, session, qtbot):
    trials = two_metric_trials()
    table = show(session, trials)
    model = TrialTableModel(session=session)
    chooser = panel.metric_chooser
    assert not chooser.isHidden() and chooser.metrics() == ["roc_auc", "accuracy"]
    history = panel.show_plot("history")
    np.testing.assert_allclose(np.sort(history.plotted_scores()), np.sort(table.test))
    assert model.headerData(COL_MEAN, pgQt_horizontal()) == "mean accuracy"
    chooser.choose("roc_auc")
    auc = np.array([t.mean_test("roc_auc") for t in trials])
    np.testing.assert_allclose(np.sort(history.plotted_scores()), np.sort(auc))
    assert model.headerData(COL_MEAN, pgQt_horizontal()) == "mean roc_auc"
    best_row = int(np.argmax(auc))
    assert model.best_trial().number == trials[best_row].number
    first = model.index(0, COL_MEAN)
    assert float(model.data(first)) == pytest.approx(auc[model.number_at(0)], rel=1e-5)
    slices = panel.show_plot("slices")
    np.testing.assert_allclose(np.sort(slices.plotted("C")[1]), np.sort(auc))
    assert session.shown_label == "roc_auc"
    # another study without that metric shows its own refit metric again
    single = [TrialRecord(1, 0, {"C": 1.0}, TrialState.COMPLETE, {"score": (0.5, 0.6)}, None,
                          (0.1, 0.1), (0.0, 0.0), 0.0, 1.0)]
    session.show(TrialTable.from_trials(single), metric="score")
    assert session.shown_metric is None and chooser.isHidden()


def pgQt_horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def test_pareto_of_two_metrics_and_of_score_against_fit_time(panel, session, qtbot):
    trials = two_metric_trials()
    show(session, trials)
    pareto = panel.show_plot("pareto")
    assert pareto.axes() == ("roc_auc", "accuracy")
    auc = np.array([t.mean_test("roc_auc") for t in trials])
    acc = np.array([t.mean_test("accuracy") for t in trials])
    front = pareto_front(auc, acc)
    expected = sorted(np.flatnonzero(front), key=lambda i: auc[i])
    assert pareto.front_numbers() == [trials[i].number for i in expected]
    assert pareto.chosen_number() is None
    pareto.set_axes("fit_time", "accuracy")
    fit = np.array([t.mean_fit_time for t in trials])
    front = pareto_front(fit, acc, maximize_x=False)
    assert sorted(pareto.front_numbers()) == sorted(trials[i].number
                                                    for i in np.flatnonzero(front))
    chosen = pareto.chosen_number()
    se = np.array([t.std_test("accuracy") for t in trials]) / np.sqrt(3)
    best = int(np.argmax(acc))
    near = [i for i in range(len(trials)) if acc[i] >= acc[best] - se[best]]
    assert chosen == trials[min(near, key=lambda i: (fit[i], -acc[i]))].number
    assert "cheapest within one standard error" in pareto.info.text()
    assert pareto.plot.getAxis("bottom").logMode


def test_edf_and_rank_views_follow_the_core(panel, session, qtbot):
    trials = two_metric_trials()
    table = show(session, trials)
    edf = panel.show_plot("edf")
    x, y = edf.curves()["all trials"]
    ex, ey = edf_curve(table.test)
    np.testing.assert_allclose(x, ex)
    np.testing.assert_allclose(y, ey)
    edf.set_split("kernel")
    curves = edf.curves()
    assert set(curves) == {"kernel = linear", "kernel = rbf"}
    rbf = [t.mean_test("accuracy") for t in trials if t.params["kernel"] == "rbf"]
    np.testing.assert_allclose(curves["kernel = rbf"][0], np.sort(rbf))
    rank = panel.show_plot("rank")
    assert rank.axes() == ("C", "kernel")
    ranks = rank_fractions(table.test)
    shown = rank.ranks()
    assert shown == pytest.approx({int(n): r for n, r in zip(table.number, ranks,
                                                             strict=True)})
    best = trials[int(np.argmax(table.test))].number
    assert rank.bin_of(best) == 0
    rank.set_axes("C", "__score__")
    assert rank.plot.getAxis("left").labelText == "mean CV accuracy"


def test_without_train_scores_the_overfitting_tab_says_what_to_tick(panel, session, qtbot):
    show(session, two_metric_trials())
    plot = panel.show_plot("overfitting")
    assert NO_TRAIN_SCORES in plot.info.text() and plot.no_train.isVisible()
    trained = [record(i, {"C": 1.0 + i}, (0.8, 0.9), (0.7, 0.8), train=True) for i in range(4)]
    session.show(TrialTable.from_trials(trained, metrics=("roc_auc", "accuracy"),
                                        refit="accuracy"), metric="accuracy")
    plot.refresh()
    assert NO_TRAIN_SCORES not in plot.info.text() and not plot.no_train.isVisible()

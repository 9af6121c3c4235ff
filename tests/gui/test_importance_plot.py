"""The Importance tab: fANOVA fitted in a helper process, right on a known objective,
agreeing with Optuna's fANOVA, following a live study, and saying what it shows."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.importance import FanovaImportanceEvaluator, get_param_importances

from hpstudio.core.importance import fanova_importances, parameters_from_dicts
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials
from hpstudio.gui.plots.importance import AXIS_LABEL

optuna.logging.set_verbosity(optuna.logging.WARNING)
# The first forest also starts the helper process, which imports scikit-learn's ensembles;
# a loaded machine may starve it for a while: waits are generous.
WAIT_MS = 60_000


def record(number: int, params: dict, score: float) -> TrialRecord:
    return TrialRecord(1, number, params, TrialState.COMPLETE, {"score": (score, score)}, None,
                       (0.1, 0.1), (0.0, 0.0), float(number), number + 1.0)


def synthetic_search(seed: int, n: int = 40) -> list[TrialRecord]:
    """C matters (a bowl in log10 C), max_depth a little (linear), dummy not at all."""
    rng = np.random.default_rng(seed)
    c = 10 ** rng.uniform(-3, 3, n)
    depth = rng.integers(1, 21, n)
    dummy = rng.uniform(0, 1, n)
    score = (0.9 - 0.1 * (np.log10(c) - 1) ** 2 / 16 + 0.03 * depth / 20
             + 0.003 * rng.normal(size=n))
    return [record(i, {"C": float(c[i]), "max_depth": int(depth[i]), "dummy": float(dummy[i])},
                   float(score[i])) for i in range(n)]


def shown(panel, qtbot):
    plot = panel.show_plot("importance")
    qtbot.waitUntil(lambda: plot.result() is not None and not plot.busy, timeout=WAIT_MS)
    return plot


def optuna_shares(trials: list[TrialRecord]) -> dict[str, float]:
    """Optuna's FanovaImportanceEvaluator on the same trials (C on its log10 axis)."""
    c = np.log10([t.params["C"] for t in trials])
    dists = {"C": FloatDistribution(float(c.min()), float(c.max())),
             "dummy": FloatDistribution(min(t.params["dummy"] for t in trials),
                                        max(t.params["dummy"] for t in trials)),
             "max_depth": IntDistribution(min(t.params["max_depth"] for t in trials),
                                          max(t.params["max_depth"] for t in trials))}
    study = optuna.create_study(direction="maximize")
    study.add_trials([optuna.trial.create_trial(
        params={"C": float(c[i]), "dummy": t.params["dummy"], "max_depth": t.params["max_depth"]},
        distributions=dists, value=t.mean_test_score) for i, t in enumerate(trials)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return dict(get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0),
                                          normalize=False))


@pytest.mark.parametrize("seed", range(5))
def test_the_tab_ranks_a_known_objective_right_and_agrees_with_optuna(panel, qtbot, seed):
    trials = synthetic_search(seed)
    panel.set_study(trials, {"C"})
    plot = shown(panel, qtbot)
    shares = plot.importances()
    assert sorted(shares, key=lambda name: -shares[name]) == ["C", "max_depth", "dummy"]
    assert shares["dummy"] < 0.05 and sum(shares.values()) <= 1.0 + 1e-12
    # the numbers of the core's fANOVA on the same trials, and Optuna's ranking
    expected = fanova_importances(parameters_from_dicts([t.params for t in trials], {"C"}),
                                  np.array([t.mean_test_score for t in trials]))
    assert shares == pytest.approx(expected.shares, abs=1e-12)
    theirs = optuna_shares(trials)
    assert sorted(theirs, key=lambda name: -theirs[name]) == ["C", "max_depth", "dummy"]
    # the plot says what it shows
    assert plot.info.text().startswith(expected.describe())
    assert plot.plot.getAxis("bottom").labelText == AXIS_LABEL
    assert np.allclose(sorted(plot.bars.opts["width"]), sorted(shares.values()))


def test_one_absurd_score_does_not_flip_the_ranking(panel, qtbot):
    trials = synthetic_search(3)
    worst = min(range(len(trials)), key=lambda i: trials[i].params["dummy"])
    absurd = record(worst, trials[worst].params, -1e12)
    trials[worst] = absurd
    panel.set_study(trials, {"C"})
    shares = shown(panel, qtbot).importances()
    assert sorted(shares, key=lambda name: -shares[name])[0] == "C"
    assert shares["dummy"] < 0.1


def test_the_forest_is_fitted_in_a_helper_process_and_follows_a_live_study(panel, qtbot,
                                                                            monkeypatch):
    import os

    import hpstudio.gui.plots.importance as module
    from hpstudio.gui import background

    sent: list[object] = []
    original = module.run_in_process

    def recording(owner, work, args, callback):
        sent.append(work)
        original(owner, work, args, callback)

    monkeypatch.setattr(module, "run_in_process", recording)
    panel.show()
    qtbot.waitExposed(panel)
    first = [record(i, {"a": float(i % 7), "b": float(i % 3)}, float(i % 7))
             for i in range(40)]
    panel.set_study(first)
    plot = shown(panel, qtbot)
    assert max(plot.importances(), key=plot.importances().get) == "a"
    more = [record(i, {"a": float(i % 7), "b": float(i % 3)}, float(i % 3) * 10)
            for i in range(40, 400)]
    panel.append_trials(more)
    qtbot.waitUntil(lambda: plot.result() is not None and plot.result().n_scored == 400
                    and not plot.busy, timeout=WAIT_MS)
    assert max(plot.importances(), key=plot.importances().get) == "b"
    assert len(sent) >= 2 and all(work is fanova_importances for work in sent)
    helper = background._PROCESSES
    assert helper is not None
    pids = {process.pid for process in helper._processes.values()}
    assert pids and os.getpid() not in pids  # the GUI process only waited


def test_a_helper_process_that_dies_fails_its_job_and_the_next_gets_a_new_one(qtbot):
    import os
    import signal

    from PySide6.QtCore import QObject

    from hpstudio.gui import background

    owner = QObject()
    results: list[tuple[object, object]] = []
    background.run_in_process(owner, os.getpid, (), lambda r, e: results.append((r, e)))
    qtbot.waitUntil(lambda: len(results) == 1, timeout=WAIT_MS)
    first_pid = results[0][0]
    assert results[0][1] is None and first_pid != os.getpid()
    background.run_in_process(owner, os.kill, (first_pid, signal.SIGKILL),
                              lambda r, e: results.append((r, e)))
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)
    assert isinstance(results[1][1], Exception)  # the job is reported failed, not lost
    background.run_in_process(owner, os.getpid, (), lambda r, e: results.append((r, e)))
    qtbot.waitUntil(lambda: len(results) == 3, timeout=WAIT_MS)
    assert results[2][1] is None and results[2][0] not in (first_pid, os.getpid())


def test_a_big_study_is_subsampled_and_a_new_study_replaces_the_bars(panel, qtbot):
    trials = synthetic_trials(5000, n_params=4)
    panel.set_study(trials, SYNTHETIC_LOG_PARAMS)
    plot = shown(panel, qtbot)
    result = plot.result()
    assert result.n_used == 2000 and result.n_scored == sum(t.ok for t in trials)
    assert "2,000 of" in plot.info.text()
    # the synthetic score depends on C, gamma and kernel, not on max_iter
    shares = plot.importances()
    assert min(shares, key=shares.get) == "max_iter" and shares["max_iter"] < 0.02
    panel.set_study([record(i, {"z": float(i)}, i / 10) for i in range(12)])
    qtbot.waitUntil(lambda: plot.importances() is not None
                    and set(plot.importances()) == {"z"}, timeout=WAIT_MS)


def test_too_few_trials_say_why(panel, qtbot):
    panel.set_study([record(0, {"a": 1.0}, 0.5)])
    plot = shown(panel, qtbot)
    assert plot.importances() == {"a": 0.0}
    assert "needs at least 2 trials" in plot.info.text()

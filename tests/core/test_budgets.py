"""Budgets stop a study and say why: trial count, time limit, patience.

Each study runs through the real loop (StudyRunner, worker processes, SQLite history);
the stop reason must reach ``StudyOutcome`` and both CLI listings, since a user who finds a
study that "ended early" needs to see which budget ended it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hpstudio.cli import main
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.records import StudyStatus
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyOutcome, StudyRunner


def iris_svc(name: str, search: dict[str, Any], C: dict[str, Any] | None = None) -> StudySpec:
    return StudySpec.from_dict({
        "name": name, "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.svm.SVC"},
        "space": [{"C": C or {"low": 1e-2, "high": 1e2, "log": True}}],
        "cv": {"folds": 3}, "search": search,
    })


def run(db: Path, spec: StudySpec) -> StudyOutcome:
    with HistoryStore(db) as store:
        return StudyRunner(store, executor=LocalExecutor(2)).run(spec)


def cli_output(db: Path, capsys: pytest.CaptureFixture[str], name: str) -> tuple[str, str]:
    capsys.readouterr()
    assert main(["studies", "--db", str(db)]) == 0
    studies = capsys.readouterr().out
    assert main(["show", name, "--db", str(db)]) == 0
    show = capsys.readouterr().out
    return studies, show


@pytest.mark.parametrize("strategy", ["random", "bayes"])
def test_time_limit_stops_the_study_and_says_so(tmp_path: Path, capsys, strategy: str) -> None:
    db = tmp_path / "h.db"
    spec = iris_svc(f"timed-{strategy}", {"strategy": strategy, "n_trials": 100_000,
                                          "seed": 0, "time_limit": 1.5})
    outcome = run(db, spec)
    assert outcome.status is StudyStatus.STOPPED
    assert outcome.reason == "time limit of 1.5 s reached"
    # worker start-up counts against the limit, so no trial may have finished yet
    assert outcome.n_complete < 100_000
    assert outcome.elapsed < 1.5 + 15  # stops within the folds in flight, not at the budget
    # a stopped Bayesian study leaves no suggestion thread behind
    deadline = time.monotonic() + 5
    while any(t.name == "hpstudio-bayes" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the background search outlived its study"
        time.sleep(0.05)
    studies, show = cli_output(db, capsys, spec.name)
    row = next(line for line in studies.splitlines() if spec.name in line)
    assert "stopped: time limit of 1.5 s reached" in row
    assert f"'{spec.name}': stopped (time limit of 1.5 s reached)" in show


@pytest.mark.parametrize("strategy", ["random", "bayes"])
def test_patience_stops_after_trials_without_improvement(tmp_path: Path, capsys,
                                                         strategy: str) -> None:
    # SVC with a vanishing C predicts one class everywhere: the first trial stays the best
    db = tmp_path / "h.db"
    spec = iris_svc(f"patient-{strategy}",
                    {"strategy": strategy, "n_trials": 60, "seed": 1, "patience": 4,
                     "initial_points": 3},
                    C={"low": 1e-6, "high": 1e-5, "log": True})
    outcome = run(db, spec)
    assert outcome.status is StudyStatus.STOPPED
    assert outcome.reason == "no improvement in the last 4 trials"
    # trials already running when patience ran out still finish and are kept
    assert 5 <= outcome.n_complete + outcome.n_failed < 60
    with HistoryStore(db) as store:
        trials = store.load_trials(outcome.study_id)
        assert len(trials) == outcome.n_complete + outcome.n_failed
        assert store.get_study(outcome.study_id).stop_reason == outcome.reason
    best = max(t.mean_test_score for t in trials)
    first_best = min(t.number for t in trials if t.mean_test_score == best)
    later = [t for t in trials if t.number > first_best]
    assert len(later) >= 4
    studies, show = cli_output(db, capsys, spec.name)
    assert "stopped: no improvement in the last 4 trials" in studies
    assert "stopped (no improvement in the last 4 trials)" in show


@pytest.mark.parametrize("strategy", ["random", "bayes"])
def test_trial_budget_runs_exactly_n_trials(tmp_path: Path, capsys, strategy: str) -> None:
    db = tmp_path / "h.db"
    spec = iris_svc(f"budget-{strategy}", {"strategy": strategy, "n_trials": 7, "seed": 2,
                                           "initial_points": 3})
    outcome = run(db, spec)
    assert outcome.status is StudyStatus.FINISHED
    assert outcome.reason == "trial budget of 7 trials reached"
    with HistoryStore(db) as store:
        trials = store.load_trials(outcome.study_id)
    assert sorted(t.number for t in trials) == list(range(7))
    assert len({t.params["C"] for t in trials}) == 7
    studies, show = cli_output(db, capsys, spec.name)
    row = next(line for line in studies.splitlines() if spec.name in line)
    assert "7/7" in row and "finished" in row
    assert "finished (trial budget of 7 trials reached)" in show


def test_bayes_budget_larger_than_a_finite_space_tries_each_candidate_once(
        tmp_path: Path) -> None:
    spec = StudySpec.from_dict({
        "name": "small", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, "None"], "criterion": ["gini", "entropy"]}],
        "cv": {"folds": 3}, "search": {"strategy": "bayes", "n_trials": 20, "seed": 0,
                                       "initial_points": 2},
    })
    assert spec.planned_trials() == 6
    outcome = run(tmp_path / "h.db", spec)
    assert outcome.status is StudyStatus.FINISHED
    with HistoryStore(tmp_path / "h.db") as store:
        trials = store.load_trials(outcome.study_id)
    pairs = {(t.params["max_depth"], t.params["criterion"]) for t in trials}
    assert len(trials) == 6 and len(pairs) == 6
    assert (None, "gini") in pairs  # "None" in the spec reaches the estimator as None

"""Per-trial timeouts: a fit that never returns is killed, its trial fails with a clear
message, and the study goes on with fresh workers."""

from __future__ import annotations

from pathlib import Path

from hpstudio.core.events import StudyLog
from hpstudio.core.executor import LocalExecutor, SerialExecutor
from hpstudio.core.records import StudyStatus, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore, MemoryHistory
from hpstudio.core.study import StudyRunner

# A Gaussian process with a billion optimizer restarts: a real scikit-learn estimator
# whose fit never returns in any test's lifetime.
NEVER_RETURNS = 1_000_000_000


def spec(timeout: float) -> StudySpec:
    return StudySpec.from_dict({
        "name": "hangs", "data": {"builtin": "diabetes"},
        "estimator": {"class": "sklearn.gaussian_process.GaussianProcessRegressor",
                      "fixed": {"random_state": 0}},
        "space": [{"n_restarts_optimizer": [0, NEVER_RETURNS, 1]}],
        "cv": {"folds": 3}, "search": {"strategy": "grid", "trial_timeout": timeout}})


def test_a_fit_that_never_returns_is_killed_and_the_study_finishes(tmp_path: Path):
    logged: list[str] = []
    with HistoryStore(tmp_path / "h.db") as store:
        outcome = StudyRunner(store, executor=LocalExecutor(2),
                              listener=lambda e: logged.append(e.message)
                              if isinstance(e, StudyLog) else None).run(spec(4))
        trials = {t.params["n_restarts_optimizer"]: t
                  for t in store.load_trials(outcome.study_id, with_folds=True)}
    assert outcome.status is StudyStatus.FINISHED
    assert trials[0].state is TrialState.COMPLETE and trials[1].state is TrialState.COMPLETE
    hung = trials[NEVER_RETURNS]
    assert hung.state is TrialState.FAILED
    assert "timed out after 4 s" in (hung.error or "")
    assert len(hung.folds) == 3  # every fold reported: killed, or stopped with it
    timed_out = [f for f in hung.folds if f.error == "timed out after 4 s"]
    assert timed_out and all(3.5 < f.finished - f.started < 30 for f in timed_out)
    assert outcome.elapsed < 60  # not the billion restarts
    assert any("timed out after 4 s" in line for line in logged)


def test_an_executor_that_cannot_stop_a_fit_says_so():
    logged: list[str] = []
    quick = StudySpec.from_dict({
        "name": "serial", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2]}], "cv": {"folds": 2},
        "search": {"trial_timeout": 5}})
    outcome = StudyRunner(MemoryHistory(), executor=SerialExecutor(),
                          listener=lambda e: logged.append(e.message)
                          if isinstance(e, StudyLog) else None).run(quick)
    assert outcome.status is StudyStatus.FINISHED and outcome.n_complete == 2
    assert any("cannot stop a fit" in line for line in logged)

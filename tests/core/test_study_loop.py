"""The study loop in one process: the serial executor, the in-memory history, early stops."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.executor import SerialExecutor
from hpstudio.core.records import Candidate, FoldResult, StudyStatus, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.strategies.grid import GridStrategy
from hpstudio.core.study import StudyRunner

SPEC = {"name": "loop", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2, 3, 4], "min_samples_leaf": [1, 10]}],
        "cv": {"folds": 4}, "scoring": {"train_score": True}}


def test_a_serial_study_in_memory_equals_grid_search_cv():
    history = MemoryHistory()
    outcome = StudyRunner(history, executor=SerialExecutor()).run(StudySpec.from_dict(SPEC))
    trials = history.load_trials(outcome.study_id)
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0),
                          {"max_depth": [1, 2, 3, 4], "min_samples_leaf": [1, 10]}, cv=4,
                          return_train_score=True).fit(X, y)
    assert outcome.status is StudyStatus.FINISHED and len(trials) == 8
    assert [t.params for t in trials] == list(search.cv_results_["params"])
    np.testing.assert_array_equal([t.mean_test_score for t in trials],
                                  search.cv_results_["mean_test_score"])
    np.testing.assert_array_equal([t.mean_train_score for t in trials],
                                  search.cv_results_["mean_train_score"])
    assert history.get_study(outcome.study_id).n_splits == 4  # counted by the splitter


class PruneDeepTrees(GridStrategy):
    """Stops every candidate deeper than 2 after its first fold."""

    def __init__(self, subspaces, heard: list[int]) -> None:
        super().__init__(subspaces)
        self.heard = heard

    def hear_fold(self, candidate: Candidate, result: FoldResult,
                  folds: Sequence[FoldResult]) -> bool:
        self.heard.append(candidate.number)
        return candidate.params["max_depth"] > 2


def test_a_strategy_can_stop_a_trial_after_a_fold(monkeypatch):
    import hpstudio.core.study as study_module

    heard: list[int] = []
    spec = StudySpec.from_dict(SPEC)
    monkeypatch.setattr(study_module, "make_strategy",
                        lambda spec: PruneDeepTrees(spec.space, heard))
    history = MemoryHistory()
    outcome = StudyRunner(history, executor=SerialExecutor()).run(spec)
    trials = {t.number: t for t in history.load_trials(outcome.study_id, with_folds=True)}
    assert outcome.status is StudyStatus.FINISHED and sorted(trials) == list(range(8))
    pruned = [t for t in trials.values() if t.state is TrialState.PRUNED]
    assert sorted(t.params["max_depth"] for t in pruned) == [3, 3, 4, 4]
    for t in pruned:  # stored with the one fold it ran; its other folds never ran
        assert len(t.folds) == 1 and len(t.split_test_scores) == 1 and not t.ok
    complete = [t for t in trials.values() if t.ok]
    assert all(len(t.folds) == 4 for t in complete)
    assert outcome.best is not None and outcome.best.params["max_depth"] <= 2
    assert history.count_states(outcome.study_id)[TrialState.PRUNED] == 4
    # a pruned trial is heard once (its first fold); a complete one after each fold but
    # the last
    assert sorted(heard) == sorted([n for n, t in trials.items() if t.ok for _ in range(3)]
                                   + [t.number for t in pruned])


def test_scikit_learns_warnings_reach_the_log_once_per_study():
    from hpstudio.core.events import StudyLog

    logged: list[StudyLog] = []
    spec = StudySpec.from_dict({
        "name": "warns", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.linear_model.LogisticRegression",
                      "fixed": {"max_iter": 2}},
        "space": [{"C": [0.1, 1.0, 10.0]}], "cv": {"folds": 3}})
    StudyRunner(MemoryHistory(), executor=SerialExecutor(),
                listener=lambda e: logged.append(e) if isinstance(e, StudyLog) else None
                ).run(spec)
    warned = [e.message for e in logged if e.level == "warning"]
    assert len(warned) == 1 and "ConvergenceWarning" in warned[0]  # 9 fits, one line
    assert "scikit-learn warns (trial 0)" in warned[0]

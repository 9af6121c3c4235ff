"""Early stopping of hopeless trials: stopped trials keep the folds they ran, the best
is never among them where the candidates are far apart, and the bound is as written."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.events import StudyLog
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.records import TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.strategies.pruning import hopeless
from hpstudio.core.study import StudyRunner

GRID = {"max_depth": [10, 1, 2, 3, 5, 8, None], "criterion": ["gini", "entropy"]}


def test_pruned_trials_never_include_the_final_best():
    logged: list[str] = []
    history = MemoryHistory()
    outcome = StudyRunner(history, executor=SerialExecutor(),
                          listener=lambda e: logged.append(e.message)
                          if isinstance(e, StudyLog) else None).run(StudySpec.from_dict({
                              "name": "pruned", "data": {"builtin": "digits"},
                              "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                                            "fixed": {"random_state": 0}},
                              "space": [GRID], "cv": {"folds": 5},
                              "search": {"prune": "folds"}}))
    trials = history.load_trials(outcome.study_id, with_folds=True)
    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), GRID, cv=5).fit(X, y)
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert len(pruned) >= 5  # the hopeless ones stop early: the test has something to show
    assert all(len(t.folds) == len(t.split_test_scores) < 5 for t in pruned)
    assert search.best_params_ not in [t.params for t in pruned]
    assert outcome.best is not None and outcome.best.params == search.best_params_
    assert outcome.best.mean_test_score == search.best_score_
    # every complete trial still scores exactly as GridSearchCV does
    by_params = {str(p): s for p, s in zip(search.cv_results_["params"],
                                           search.cv_results_["mean_test_score"], strict=True)}
    assert all(t.mean_test_score == by_params[str(t.params)] for t in trials if t.ok)
    assert any("fits saved" in line for line in logged)


def test_the_bound_stops_only_what_cannot_plausibly_win():
    best = [0.80, 0.70, 0.90, 0.85, 0.75]
    far_below = [s - 0.3 for s in best]
    slightly_below = [s - 0.01 + noise for s, noise in zip(best, [0.02, -0.03, 0.01, -0.02, 0.0],
                                                          strict=True)]
    assert hopeless(far_below[:3], best[:3], 5)
    assert not hopeless(far_below[:1], best[:1], 5)  # one fold has no spread
    assert not hopeless(far_below[:5], best[:5], 5)  # the last fold: nothing left to save
    assert not hopeless(slightly_below[:3], best[:3], 5)
    assert not hopeless([s + 0.1 for s in best[:3]], best[:3], 5)
    assert not hopeless([np.nan, 0.1, 0.1], best[:3], 5)  # a failed fold is not judged

"""Never fit the same thing twice: a grid re-run with one more value fits only the new
candidates; reused trials say where they come from; the setting turns it off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.evaluate import FoldTask
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryRepository, HistoryStore, MemoryHistory
from hpstudio.core.study import StudyRunner


class CountingExecutor(SerialExecutor):
    """Runs folds in this process and counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.fits: list[FoldTask] = []

    def submit(self, task: FoldTask) -> None:
        self.fits.append(task)
        super().submit(task)


def spec(depths: list, **search) -> StudySpec:
    return StudySpec.from_dict({
        "name": "reuse", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": depths, "min_samples_leaf": [1, 5]}],
        "cv": {"folds": 3}, "scoring": {"train_score": True}, "search": search})


def run(history: HistoryRepository, study: StudySpec) -> tuple[int, int]:
    executor = CountingExecutor()
    outcome = StudyRunner(history, executor=executor).run(study)
    return outcome.study_id, len(executor.fits)


def test_a_grid_rerun_with_one_more_value_fits_only_the_new_candidates(tmp_path: Path):
    with HistoryStore(tmp_path / "h.db") as history:
        first, fits = run(history, spec([1, 2, 3]))
        assert fits == 6 * 3
        second, fits = run(history, spec([1, 2, 3, 4]))
        assert fits == 2 * 3  # max_depth 4 with both leaf sizes, nothing else
        trials = history.load_trials(second)
        table = history.open_trials(second)
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0),
                          {"max_depth": [1, 2, 3, 4], "min_samples_leaf": [1, 5]}, cv=3,
                          return_train_score=True).fit(X, y)
    assert [t.params for t in trials] == list(search.cv_results_["params"])
    np.testing.assert_array_equal([t.mean_test_score for t in trials],
                                  search.cv_results_["mean_test_score"])
    np.testing.assert_array_equal([t.mean_train_score for t in trials],
                                  search.cv_results_["mean_train_score"])
    reused = {t.params["max_depth"] for t in trials if t.reused_from == first}
    assert reused == {1, 2, 3}
    assert all(t.reused_from is None for t in trials if t.params["max_depth"] == 4)
    # the table the app shows reads the mark back from the history
    marks = table.col("reused_from")
    assert sorted(marks.tolist()) == [-1, -1] + [first] * 6


def test_reuse_can_be_turned_off_and_needs_the_same_evaluation():
    history = MemoryHistory()
    run(history, spec([1, 2]))
    _, fits = run(history, spec([1, 2], reuse=False))
    assert fits == 4 * 3
    other_folds = spec([1, 2]).to_dict()
    other_folds["cv"] = {"folds": 4}
    _, fits = run(history, StudySpec.from_dict(other_folds))
    assert fits == 4 * 4  # other splits: nothing to reuse
    again, fits = run(history, spec([1, 2]))
    assert fits == 0
    assert all(t.reused_from is not None for t in history.load_trials(again))


def test_a_refined_study_reuses_its_parents_overlap():
    from hpstudio.core.refine import refine_spec

    history = MemoryHistory()
    parent, _ = run(history, spec([1, 2, 3, 4, 5, 6]))
    refined = refine_spec(spec([1, 2, 3, 4, 5, 6]), history.load_trials(parent),
                          fraction=0.5).spec
    child, fits = run(history, refined)
    trials = history.load_trials(child)
    assert fits == 0 and trials  # every refined candidate was already in the parent
    assert all(t.reused_from == parent for t in trials)

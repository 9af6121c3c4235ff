"""scikit-learn's cv= / scoring= / refit= arguments written as spec sections, and back."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import fbeta_score, make_scorer, mean_pinball_loss
from sklearn.model_selection import GroupKFold, KFold, PredefinedSplit, RepeatedStratifiedKFold

from hpstudio.core.errors import SpecError
from hpstudio.core.scoring import scoring_section
from hpstudio.core.spec import StudySpec
from hpstudio.core.splitters import HoldOut, cv_section


def spec_with(cv: dict, scoring: dict) -> StudySpec:
    return StudySpec.from_dict({"name": "s", "data": {"builtin": "iris"},
                                "estimator": {"class": "sklearn.svm.SVC"},
                                "space": [{"C": [1]}], "cv": cv, "scoring": scoring})


def test_splitter_objects_become_cv_sections_that_parse():
    assert cv_section(None) == {} and cv_section(3) == {"folds": 3}
    assert cv_section(KFold(4, shuffle=True, random_state=2)) == {
        "splitter": "KFold", "params": {"n_splits": 4, "shuffle": True, "random_state": 2}}
    assert cv_section(RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)) == {
        "splitter": "RepeatedStratifiedKFold",
        "params": {"n_splits": 3, "n_repeats": 2, "random_state": 0}}
    assert cv_section(PredefinedSplit(np.array([0, 1, -1]))) == {
        "splitter": "PredefinedSplit", "params": {"test_fold": [0, 1, -1]}}
    assert cv_section(HoldOut(test_size=0.2)) == {"splitter": "holdout",
                                                 "params": {"test_size": 0.2}}
    spec_with(cv_section(KFold(4, shuffle=True, random_state=2)), {}).validate()
    with pytest.raises(SpecError, match=r"is not a splitter of sklearn\.model_selection"):
        cv_section([(np.arange(3), np.arange(3, 6))])
    with pytest.raises(SpecError, match="cannot be written in a spec"):
        cv_section(KFold(3, shuffle=True, random_state=np.random.RandomState(0)))
    assert cv_section(GroupKFold(3)) == {"splitter": "GroupKFold", "params": {"n_splits": 3}}


def test_scoring_arguments_become_scoring_sections_that_parse():
    assert scoring_section() == {} and scoring_section("f1") == {"metric": "f1"}
    section = scoring_section(["roc_auc", "accuracy"], refit="accuracy", train_score=True)
    assert section == {"train_score": True, "metrics": ["roc_auc", "accuracy"],
                       "refit": "accuracy"}
    spec_with({}, section).validate()
    made = scoring_section({"f2": make_scorer(fbeta_score, beta=2), "acc": "accuracy"},
                           refit="f2")
    assert made["metrics"] == [{"function": "sklearn.metrics.fbeta_score", "name": "f2",
                                "beta": 2}, {"metric": "accuracy", "name": "acc"}]
    spec = spec_with({}, made)
    spec.validate()
    assert spec.scoring.refit == "f2"
    loss = scoring_section(make_scorer(mean_pinball_loss, alpha=0.1, greater_is_better=False))
    assert loss["metrics"][0]["greater_is_better"] is False
    with pytest.raises(SpecError, match="a callable cannot be written"):
        scoring_section("accuracy", refit=lambda results: 0)
    with pytest.raises(SpecError, match="only scorers made by make_scorer"):
        scoring_section({"mine": lambda est, X, y: 1.0})

"""Several metrics, scorers with arguments and refit rules in the spec."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import fbeta_score, make_scorer
from sklearn.svm import SVC

from hpstudio.core.errors import SpecError
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.scoring import (
    MetricSpec,
    build_scorer,
    choose_best_trial,
    keys_of_raw,
    metric_keys,
    refit_key,
    simplest_within_one_std,
)
from hpstudio.core.spec import StudySpec


def spec_of(scoring, space=None) -> StudySpec:
    return StudySpec.from_dict({
        "name": "s", "data": {"builtin": "breast_cancer"},
        "estimator": {"class": "sklearn.svm.SVC"},
        "space": [space or {"C": [1, 10], "kernel": ["rbf"]}], "scoring": scoring})


def test_one_metric_keeps_the_key_score_and_several_use_their_names():
    assert metric_keys(spec_of({"metric": "accuracy"}).scoring) == ("score",)
    one = spec_of({"metric": {"metric": "fbeta", "beta": 2}}).scoring
    assert metric_keys(one) == ("score",) and one.label == "fbeta"
    several = spec_of({"metrics": ["roc_auc", {"metric": "fbeta", "beta": 2, "name": "f2"}],
                       "refit": "f2"}).scoring
    assert metric_keys(several) == ("roc_auc", "f2") and refit_key(several) == "f2"
    assert several.label == "f2"
    assert refit_key(spec_of({"metrics": ["roc_auc", "accuracy"]}).scoring) == "roc_auc"


def test_scoring_round_trips_through_toml_and_json(tmp_path):
    spec = spec_of({"metrics": ["accuracy", {"function": "sklearn.metrics.fbeta_score",
                                             "beta": 0.5, "name": "f05"}],
                    "refit": "f05", "train_score": True, "refit_rule": "simplest",
                    "complexity": "C", "simpler": "higher"})
    for name in ("s.toml", "s.json"):
        spec.save(tmp_path / name)
        assert StudySpec.from_file(tmp_path / name).with_name("s") == spec
    assert keys_of_raw(spec.to_dict()["scoring"]) == (("accuracy", "f05"), "f05", "f05")
    assert keys_of_raw({"metric": "r2"}) == (("score",), "score", "r2")
    assert keys_of_raw({}) == (("score",), "score", "score")


@pytest.mark.parametrize("scoring, message", [
    ({"metric": "accuracy", "metrics": ["f1"]}, "scoring: give `metric` (one) or `metrics`"),
    ({"metrics": []}, "scoring.metrics: give a list of scorer names"),
    ({"metrics": ["f1", "f1"]}, "scoring.metrics[1]: 'f1' is listed twice"),
    ({"metrics": ["f1", {"metric": "score"}]}, "scoring.metrics[1]: 'score' is the name"),
    ({"metrics": ["f1", "accuracy"], "refit": "roc_auc"},
     "scoring.refit: 'roc_auc' is not one of the study's metrics (f1, accuracy)"),
    ({"metrics": [{"beta": 2}]}, "scoring.metrics[0]: give exactly one of `metric`"),
    ({"metrics": [{"function": "os.system", "command": "ls"}]},
     "scoring.metrics[0].function: 'os.system' is not a function of sklearn.metrics"),
    ({"metrics": [{"function": "sklearn.metrics._private"}]},
     "scoring.metrics[0].function: 'sklearn.metrics._private' is not a function"),
    ({"metrics": [{"metric": "fbeta", "greater_is_better": "yes"}]},
     "scoring.metrics[0].greater_is_better: expected true or false"),
    ({"refit_rule": "simplest"}, "scoring.complexity: the refit rule \"simplest\" needs"),
    ({"refit_rule": "simplest", "complexity": "gamma"},
     "scoring.complexity: 'gamma' is not a parameter of the search space (C, kernel)"),
    ({"complexity": "C"}, "scoring.complexity: only the refit rule \"simplest\" uses it"),
    ({"refit_rule": "cheapest"}, "scoring.refit_rule: 'cheapest' is not one of best, simplest"),
])
def test_bad_scoring_is_refused_with_its_key(scoring, message):
    with pytest.raises(SpecError) as info:
        spec_of(scoring)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("scoring, message", [
    ({"metrics": ["accuracy", "roc_acu"]},
     "scoring.metrics[1]: unknown scorer 'roc_acu' (did you mean 'roc_auc'?)"),
    ({"metrics": [{"metric": "fbeta", "bta": 2}]},
     "scoring.metrics[0].bta: fbeta_score has no argument 'bta' (did you mean 'beta'?)"),
    ({"metrics": [{"metric": "fbetta", "beta": 2}]},
     "scoring.metrics[0]: unknown metric 'fbetta'"),
    ({"metrics": [{"function": "sklearn.metrics.mean_pinbal_loss"}]},
     "scoring.metrics[0]: 'sklearn.metrics.mean_pinbal_loss' is not a function of "
     "sklearn.metrics (did you mean 'mean_pinball_loss'?)"),
])
def test_names_and_arguments_are_checked_against_scikit_learn(scoring, message):
    with pytest.raises(SpecError) as info:
        spec_of(scoring).validate()
    assert str(info.value).startswith(message)


def test_a_scorer_with_arguments_keeps_the_named_scorers_response_and_sign():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    model = SVC().fit(X[:300], y[:300])
    auc = build_scorer(model, MetricSpec(metric="roc_auc", args={"max_fpr": 0.5}))
    from sklearn.metrics import roc_auc_score

    expected = roc_auc_score(y[300:], model.decision_function(X[300:]), max_fpr=0.5)
    assert auc(model, X[300:], y[300:]) == pytest.approx(expected)
    f2 = build_scorer(model, MetricSpec(metric="fbeta", args={"beta": 2}))
    assert f2(model, X, y) == make_scorer(fbeta_score, beta=2)(model, X, y)
    loss = build_scorer(model, MetricSpec(metric="hamming", args={}))
    assert loss(model, X, y) < 0  # a loss is negated, as scikit-learn's neg_ scorers


def _trial(number: int, scores, params) -> TrialRecord:
    return TrialRecord(0, number, params, TrialState.COMPLETE, {"score": tuple(scores)}, None,
                       (0.1,) * len(scores), (0.01,) * len(scores), 0.0, 1.0)


def test_the_simplest_rule_orders_by_the_named_parameter_either_way():
    trials = [_trial(0, [0.90, 0.92], {"depth": 2}), _trial(1, [0.93, 0.97], {"depth": 8}),
              _trial(2, [0.92, 0.94], {"depth": 4}), _trial(3, [0.80, 0.81], {"depth": 1})]
    lower = spec_of({"refit_rule": "simplest", "complexity": "C"}).scoring
    from dataclasses import replace

    lower = replace(lower, complexity="depth")
    assert choose_best_trial(trials, lower).number == 2  # 0.93 >= 0.95 - 0.02
    assert choose_best_trial(trials, replace(lower, simpler="higher")).number == 1
    assert choose_best_trial(trials).number == 1  # the plain best
    assert choose_best_trial([]) is None


def test_ties_in_complexity_go_to_the_first_candidate_and_gaps_are_skipped():
    mean = np.array([0.9, 0.9, 0.95, 0.91])
    std = np.array([0.0, 0.0, 0.1, 0.0])
    complexity = np.array([3.0, 3.0, 5.0, np.nan])
    usable = np.ones(4, bool)
    assert simplest_within_one_std(mean, std, complexity, usable) == 0
    assert simplest_within_one_std(mean, std, complexity, usable,
                                   order=np.array([5, 1, 2, 3])) == 1
    assert simplest_within_one_std(mean, std, np.full(4, np.nan), usable) == 2
    assert simplest_within_one_std(mean, std, complexity, np.zeros(4, bool)) is None

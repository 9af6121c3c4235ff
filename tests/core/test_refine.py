"""Refining a study narrows its space around the top trials, by the rule the dialog states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.refine import describe_dimension, refine_spec, top_trials
from hpstudio.core.space import FloatRange, IntRange, Values
from hpstudio.core.spec import StudySpec


def trial(number: int, score: float, params: dict, *, subspace: int = 0,
          failed: bool = False) -> TrialRecord:
    return TrialRecord(
        study_id=1, number=number, params=params,
        state=TrialState.FAILED if failed else TrialState.COMPLETE,
        test_scores={"score": (math.nan,) if failed else (score, score)},
        train_scores=None, fit_times=(0.1, 0.1), score_times=(0.01, 0.01),
        started=100.0 + number, finished=100.5 + number, subspace=subspace,
        error="ValueError: boom" if failed else None,
    )


def make_spec(space: list[dict], strategy: str = "random", **search) -> StudySpec:
    return StudySpec.from_dict({
        "name": "svc", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.svm.SVC"},
        "space": space, "cv": {"folds": 3},
        "search": {"strategy": strategy, **search},
    })


def test_log_range_is_narrowed_in_log_space_and_contains_the_top_trials():
    spec = make_spec([{"C": {"low": 1e-3, "high": 1e3, "log": True}}], n_trials=50, seed=3)
    exponents = np.linspace(-3, 3, 50)
    trials = [trial(i, -(x - 1.0) ** 2, {"C": float(10 ** x)}) for i, x in enumerate(exponents)]
    result = refine_spec(spec, trials)

    top = sorted(exponents, key=lambda x: (x - 1.0) ** 2)[:5]  # 10% of 50 = 5
    assert result.n_top == 5 and result.n_complete == 50
    new = result.spec.space[0]["C"]
    assert isinstance(new, FloatRange) and new.log
    pad = 0.1 * 6  # 10% of the original width, in decades
    expected_low, expected_high = 10 ** (min(top) - pad), 10 ** (max(top) + pad)
    # rounded outwards to 3 significant digits: never inside the exact bounds, barely outside
    assert expected_low * 0.99 <= new.low <= expected_low
    assert expected_high <= new.high <= expected_high * 1.01
    assert all(new.low <= 10 ** x <= new.high for x in top)
    assert result.spec.name == "svc refined"
    assert result.spec.search == spec.search  # strategy, budget and seed kept


def test_int_range_widens_by_margin_of_the_original_width_and_clips_to_bounds():
    spec = make_spec([{"max_iter": {"low": 1, "high": 30}}])
    trials = [trial(i, float(-abs(v - 5)), {"max_iter": v}) for i, v in enumerate(range(1, 31))]
    result = refine_spec(spec, trials)  # top 5 of 30: 3..7 (ties by trial number)
    new = result.spec.space[0]["max_iter"]
    # 10% of 29 = 2.9: floor(3 - 2.9) = 0 clipped to 1; ceil(7 + 2.9) = 10
    assert new == IntRange(1, 10)
    edge = refine_spec(spec, [trial(i, float(v), {"max_iter": v})
                              for i, v in enumerate(range(1, 31))])
    assert edge.spec.space[0]["max_iter"] == IntRange(23, 30)  # 26..30 widened, clipped at 30


def test_value_lists_keep_only_values_the_top_trials_used_in_original_order():
    spec = make_spec([{"kernel": ["linear", "rbf", "poly", "sigmoid"],
                       "shrinking": [True, False], "class_weight": ["None", "balanced"]}])
    params = [("poly", True, None), ("linear", True, None), ("poly", True, None),
              ("linear", True, None), ("poly", True, None),
              ("rbf", False, "balanced"), ("sigmoid", False, "balanced")]
    trials = [trial(i, 1.0 - i / 10, {"kernel": k, "shrinking": s, "class_weight": w})
              for i, (k, s, w) in enumerate(params)]
    sub = refine_spec(spec, trials).spec.space[0]
    assert sub["kernel"] == Values(("linear", "poly"))
    assert sub["shrinking"] == Values((True,))
    assert sub["class_weight"] == Values((None,))


def test_top_ten_percent_but_at_least_five_and_only_complete_trials():
    ok = [trial(i, float(i), {"C": 1.0}) for i in range(100)]
    assert [t.number for t in top_trials(ok)] == list(range(99, 89, -1))
    assert len(top_trials(ok[:20])) == 5
    few = [*ok[:3], trial(50, math.nan, {"C": 1.0}, failed=True)]
    assert [t.number for t in top_trials(few)] == [2, 1, 0]


def test_grid_resolution_is_kept_and_the_refined_spec_round_trips_and_validates():
    spec = make_spec([{"C": {"low": 0.01, "high": 100.0, "log": True, "num": 5},
                       "gamma": ["scale", "auto"]}], strategy="grid")
    grid = [(c, g) for c in np.geomspace(0.01, 100, 5) for g in ("scale", "auto")]
    trials = [trial(i, -abs(math.log10(c)) + (g == "auto"), {"C": float(c), "gamma": g})
              for i, (c, g) in enumerate(grid)]
    result = refine_spec(spec, trials)
    new = result.spec.space[0]["C"]
    assert new.num == 5 and new.log and 0.01 <= new.low < new.high <= 100.0
    assert result.spec.search.strategy == "grid"
    assert result.spec.planned_trials() == 5 * len(result.spec.space[0]["gamma"].values)
    assert "Grid resolution (num/step) is kept" in result.explanation
    again = StudySpec.from_dict(result.spec.to_dict())
    assert again == result.spec
    again.validate()


def test_sub_spaces_without_top_trials_are_dropped_and_said_so():
    spec = make_spec([{"kernel": ["rbf"], "C": {"low": 0.1, "high": 10.0}},
                      {"kernel": ["linear"], "C": {"low": 0.1, "high": 10.0}}])
    trials = [trial(i, 1.0 - i / 100, {"kernel": "rbf", "C": 1.0 + i / 10}, subspace=0)
              for i in range(6)]
    trials += [trial(10 + i, 0.1, {"kernel": "linear", "C": 5.0}, subspace=1) for i in range(6)]
    result = refine_spec(spec, trials)
    assert len(result.spec.space) == 1 and result.dropped_subspaces == (1,)
    assert "Sub-space 2 had no top trial" in result.explanation
    assert [c.subspace for c in result.changes] == [0, 0]


def test_no_complete_trial_is_a_clear_error():
    spec = make_spec([{"C": {"low": 0.1, "high": 10.0}}])
    with pytest.raises(HpstudioError, match="no complete trial"):
        refine_spec(spec, [trial(0, math.nan, {"C": 1.0}, failed=True)])


def test_changes_describe_old_and_new_ranges_for_the_dialog():
    spec = make_spec([{"C": {"low": 1e-3, "high": 1e3, "log": True}, "kernel": ["rbf"]}])
    trials = [trial(i, float(i), {"C": 10.0 ** (i % 3), "kernel": "rbf"}) for i in range(10)]
    changes = {c.name: c for c in refine_spec(spec, trials).changes}
    assert changes["C"].changed and changes["C"].old_text == "0.001 … 1000 (log)"
    assert changes["C"].new_text.endswith("(log)")
    assert not changes["kernel"].changed and changes["kernel"].new_text == "[rbf]"
    assert describe_dimension(IntRange(2, 20, num=4)) == "2 … 20 (num=4)"

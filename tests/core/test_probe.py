"""The cost estimate behind the editor's count line and duration hint."""

from __future__ import annotations

import math
from importlib.resources import files

import pytest

from hpstudio.core.data import load_builtin
from hpstudio.core.errors import SpecError
from hpstudio.core.probe import (
    PlannedWork,
    estimate_seconds,
    first_candidate,
    format_duration,
    grid_candidates,
    planned_work,
    probe_fit_seconds,
)
from hpstudio.core.space import FloatRange, IntRange, Values, grid_size
from hpstudio.core.spec import SearchSpec, StudySpec


@pytest.fixture(scope="module")
def demo() -> StudySpec:
    text = files("hpstudio.demo").joinpath("forest-diabetes.toml").read_text(encoding="utf-8")
    import tomllib

    return StudySpec.from_dict(tomllib.loads(text))


def test_demo_counts_like_param_grid(demo: StudySpec) -> None:
    work = planned_work(demo)
    assert (work.candidates, work.trials, work.folds, work.fits) == (18, 18, 5, 90)
    assert work.describe() == "18 candidates × 5 folds = 90 fits"


def test_grid_count_agrees_with_enumeration() -> None:
    space = [{"a": Values((1, 2, 3)), "b": IntRange(1, 30, num=8), "c": IntRange(1, 100, log=True,
                                                                                 num=12)},
             {"d": FloatRange(0.0, 1.0, step=0.25), "e": IntRange(2, 20, step=3)}]
    assert grid_candidates(space) == grid_size(space)


def test_huge_int_range_is_counted_without_enumerating() -> None:
    space = [{"n": IntRange(0, 10**12)}, {"m": IntRange(1, 10**12, num=10**9)}]
    assert grid_candidates(space) == 10**12 + 1 + 10**9


def test_float_range_without_points_cannot_be_a_grid() -> None:
    with pytest.raises(SpecError, match="num"):
        grid_candidates([{"C": FloatRange(1e-3, 1e3, log=True)}])


def test_random_and_bayes_count_trials_capped_by_a_finite_space(demo: StudySpec) -> None:
    from dataclasses import replace

    random = replace(demo, search=SearchSpec("random", n_trials=50))
    assert planned_work(random).describe() == "18 trials × 5 folds = 90 fits"
    space = ({"C": FloatRange(1e-3, 1e3, log=True)},)
    bayes = replace(demo, space=space, search=SearchSpec("bayes", n_trials=50))
    work = planned_work(bayes)
    assert math.isinf(work.candidates)
    assert work.describe() == "50 trials × 5 folds = 250 fits"


def test_big_numbers_get_thousands_separators() -> None:
    assert PlannedWork("grid", 100_000, 100_000, 5).describe() == (
        "100,000 candidates × 5 folds = 500,000 fits")
    assert PlannedWork("grid", 100, 60, 3).describe() == "60 of 100 candidates × 3 folds = 180 fits"


def test_first_candidate_is_param_grids_first(demo: StudySpec) -> None:
    from dataclasses import replace

    from sklearn.model_selection import ParameterGrid

    assert first_candidate(demo) == next(iter(ParameterGrid(
        [{k: d.grid(k) for k, d in demo.space[0].items()}])))
    spec = replace(demo, space=({"C": FloatRange(1e-2, 1e2, log=True), "k": IntRange(3, 9)},))
    assert first_candidate(spec) == {"C": pytest.approx(1.0), "k": 3}


def test_probe_fits_once_and_reports_seconds(demo: StudySpec) -> None:
    seconds = probe_fit_seconds(demo, load_builtin("diabetes"))
    assert 0 < seconds < 10


def test_probe_reports_a_fit_that_cannot_work(demo: StudySpec) -> None:
    from dataclasses import replace

    bad = replace(demo, space=({"max_features": Values((-3,))},))
    with pytest.raises(Exception, match="max_features"):
        probe_fit_seconds(bad, load_builtin("diabetes"))


def test_estimate_spreads_fits_over_workers() -> None:
    assert estimate_seconds(0.5, 90, 2) == pytest.approx(22.5)
    assert estimate_seconds(0.5, 1, 8) == pytest.approx(0.5)  # one fit cannot be shared
    assert estimate_seconds(0.5, 0, 2) == 0.0


@pytest.mark.parametrize(("seconds", "text"), [
    (0.2, "< 1 s"), (12.4, "12 s"), (600, "10 min"), (3 * 3600, "3.0 h"), (20 * 3600, "20 h"),
    (3 * 86400, "3.0 days"),
])
def test_durations_read_naturally(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_probe_of_an_infeasible_study_says_why(demo: StudySpec) -> None:
    from dataclasses import replace

    from hpstudio.core.spec import CVSpec

    iris = load_builtin("iris")
    spec = replace(demo, estimator=replace(demo.estimator, cls="sklearn.tree."
                                           "DecisionTreeClassifier"),
                   space=({"max_depth": Values((2,))},), cv=CVSpec(folds=60))
    with pytest.raises(SpecError, match="smallest class 0 has 50 members; use at most 50 folds"):
        probe_fit_seconds(spec, iris)

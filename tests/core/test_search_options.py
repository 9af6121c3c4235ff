"""The [search] keys of halving, early stopping, timeouts and reuse: parsed, saved and
read back, refused in one line when wrong; the cost preview counts halving's fits."""

from __future__ import annotations

import pytest

from hpstudio.core.errors import SpecError
from hpstudio.core.probe import planned_work
from hpstudio.core.spec import SearchSpec, StudySpec

BASE = {"name": "s", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.ensemble.RandomForestClassifier",
                      "fixed": {"n_estimators": 60}},
        "space": [{"max_depth": [1, 2, 3, 4, 5, 6, 7, 8, 9], "min_samples_leaf": [1, 5, 9]}]}


def spec(**search) -> StudySpec:
    return StudySpec.from_dict({**BASE, "search": search})


def test_the_issue_example_parses_saves_and_reads_back():
    parsed = spec(strategy="halving-grid", factor=3, resource="auto",
                  min_resources="exhaust", asynchronous=False, seed=0, trial_timeout=60,
                  prune="folds")
    search = parsed.search
    assert (search.factor, search.resource, search.min_resources, search.trial_timeout,
            search.prune, search.reuse) == (3, "auto", "exhaust", 60.0, "folds", True)
    assert StudySpec.from_dict(parsed.to_dict()) == parsed
    assert StudySpec.from_dict(__import__("tomllib").loads(parsed.to_toml())) == parsed


def test_an_older_spec_saves_without_the_new_keys():
    saved = spec(strategy="grid").to_dict()["search"]
    assert not {"factor", "resource", "reuse", "prune", "trial_timeout"} & set(saved)
    assert spec().search == SearchSpec()


@pytest.mark.parametrize(("search", "message"), [
    ({"strategy": "grid", "factor": 3}, "search.factor: only successive halving"),
    ({"strategy": "halving-grid", "factor": 1}, "search.factor: expected a number > 1"),
    ({"strategy": "halving-grid", "resource": "n estimators"}, "search.resource"),
    ({"strategy": "halving-grid", "min_resources": "all"}, "search.min_resources"),
    ({"strategy": "halving-grid", "min_resources": 0}, "search.min_resources"),
    ({"strategy": "halving-grid", "min_resources": 50, "max_resources": 10},
     "more than max_resources"),
    ({"strategy": "halving-random", "min_resources": "exhaust"}, "needs search.n_trials"),
    ({"trial_timeout": 0}, "search.trial_timeout"),
    ({"prune": "trials"}, "search.prune"),
    ({"reuse": "yes"}, "search.reuse"),
])
def test_bad_values_are_refused_in_one_line(search, message):
    with pytest.raises(SpecError, match=message) as caught:
        spec(**search)
    assert len(str(caught.value).splitlines()) == 1


def test_a_budget_parameter_that_is_searched_or_missing_is_refused():
    with pytest.raises(SpecError, match="searched in space"):
        spec(strategy="halving-grid", resource="max_depth").validate()
    with pytest.raises(SpecError, match="no parameter 'n_trees'"):
        spec(strategy="halving-grid", resource="n_trees").validate()
    spec(strategy="halving-grid", resource="model__n_estimators").validate()


def test_the_cost_preview_counts_the_fits_halving_runs():
    work = planned_work(spec(strategy="halving-grid", resource="n_estimators"))
    # 27 candidates, factor 3: 27 → 9 → 3 → 1 on 2 → 6 → 18 → 54 trees, 5 folds each
    assert work.trials == 27 + 9 + 3 + 1 and work.fits == 40 * 5
    assert "27 → 9 → 3 → 1" in work.describe() and "200 fits" in work.describe()
    assert work.full_budget_fits < work.fits  # small budgets cost less than full fits
    assert spec(strategy="halving-grid", resource="n_estimators").planned_trials() == 40
    grid = planned_work(spec(strategy="grid"))
    assert grid.fits == 27 * 5 and grid.full_budget_fits == grid.fits


def test_the_cost_preview_counts_only_the_trees_a_promoted_forest_adds():
    forest = planned_work(spec(strategy="halving-grid", resource="n_estimators"))
    # 27 forests of 2 trees, then 9 grow 4 more, 3 grow 12 more, 1 grows 36 more
    assert forest.grown
    assert forest.full_budget_fits == pytest.approx(5 * (27 * 2 + 9 * 4 + 3 * 12 + 36) / 60)
    boosting = planned_work(StudySpec.from_dict({
        **BASE, "estimator": {"class": "sklearn.ensemble.GradientBoostingClassifier",
                              "fixed": {"n_estimators": 60}},
        "search": {"strategy": "halving-grid", "resource": "n_estimators"}}))
    assert not boosting.grown  # boosting refits from scratch at every rung
    assert boosting.full_budget_fits == pytest.approx(5 * (27 * 2 + 9 * 6 + 3 * 18 + 54) / 60)


def test_the_count_needs_no_estimator_it_cannot_import():
    raw = {**BASE, "estimator": {"class": "xgboost.XGBRegressor"},
           "search": {"strategy": "halving-grid", "resource": "n_estimators"}}
    work = planned_work(StudySpec.from_dict(raw))  # xgboost is not allowed here
    assert work.trials == 27 + 9 + 3 + 1 and "n_estimators" in work.describe()

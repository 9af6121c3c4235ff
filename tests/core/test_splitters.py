"""Splitters in the spec: every class of sklearn.model_selection, checked early and counted
by its own get_n_splits."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pandas as pd
import pytest
import sklearn.model_selection as model_selection
from sklearn.datasets import load_iris
from sklearn.model_selection import LeaveOneGroupOut, PredefinedSplit, train_test_split

from hpstudio.core.data import load_dataset
from hpstudio.core.errors import DataError, SpecError
from hpstudio.core.evaluate import context_for, split_indices
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.probe import planned_work
from hpstudio.core.spec import StudySpec
from hpstudio.core.splitters import (
    GROUP_SPLITTERS,
    HOLDOUT,
    SPLITTER_DEFAULTS,
    SPLITTER_PARAMS,
    describe,
    split_sizes,
)
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner, count_splits


def spec_of(cv: dict, data: dict | None = None, **extra) -> StudySpec:
    return StudySpec.from_dict({
        "name": "s", "data": data or {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [1, 2]}], "cv": cv, **extra})


def write_csv(tmp_path, n_sites: int = 5, fold: bool = False) -> None:
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    rng = np.random.default_rng(0)
    frame["site"] = rng.integers(0, n_sites, len(frame)).astype(str)
    if fold:
        frame["fold"] = np.where(np.arange(len(frame)) < 30, -1, np.arange(len(frame)) % 3)
    frame["species"] = y
    frame.to_csv(tmp_path / "iris.csv", index=False)


def test_the_table_of_splitters_is_scikit_learns():
    classes = {name for name in model_selection.__all__ if "Halving" not in name
               and inspect.isclass(getattr(model_selection, name))
               and hasattr(getattr(model_selection, name), "get_n_splits")
               and not name.startswith("Base")}
    assert set(SPLITTER_PARAMS) - {HOLDOUT} == classes
    for name in classes:
        cls = getattr(model_selection, name)
        accepted = [p for p in inspect.signature(cls.__init__).parameters
                    if p not in ("self", "args", "kwargs")]
        assert list(SPLITTER_PARAMS[name]) == accepted, name
        defaults = {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
                    if p.name in accepted and p.default is not inspect.Parameter.empty
                    and p.name != "test_fold"}
        assert SPLITTER_DEFAULTS[name] == defaults, name
        groups = any(base.__name__ == "GroupsConsumerMixin" for base in cls.__mro__)
        assert (name in GROUP_SPLITTERS) == groups, name


def test_a_splitter_and_its_params_round_trip_and_the_shorthand_still_parses():
    spec = spec_of({"splitter": "ShuffleSplit",
                    "params": {"n_splits": 4, "test_size": 0.25, "random_state": 3},
                    "outer": {"folds": 3, "shuffle": True, "seed": 1}})
    assert StudySpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["cv"] == {
        "splitter": "ShuffleSplit", "params": {"n_splits": 4, "test_size": 0.25,
                                               "random_state": 3},
        "outer": {"folds": 3, "shuffle": True, "seed": 1}}
    old = spec_of({"folds": 4, "shuffle": True, "seed": 2})
    assert old.cv.splitter is None and old.to_dict()["cv"] == {"folds": 4, "shuffle": True,
                                                               "seed": 2}
    assert hash(spec.cv) == hash(StudySpec.from_dict(spec.to_dict()).cv)


@pytest.mark.parametrize("cv, message", [
    ({"splitter": "KFlod"}, "cv.splitter: unknown splitter 'KFlod' (did you mean 'KFold'?)"),
    ({"splitter": "KFold", "params": {"n_split": 3}},
     "cv.params.n_split: KFold has no parameter 'n_split' (did you mean 'n_splits'?)"),
    ({"splitter": "LeavePOut"}, "cv.params.p: LeavePOut needs p"),
    ({"splitter": "KFold", "folds": 3}, "cv.folds: give either `splitter`"),
    ({"params": {"n_splits": 3}}, "cv.params: parameters of which splitter?"),
    ({"splitter": "GroupKFold"}, "cv.splitter: GroupKFold needs the column of groups"),
    ({"folds": 3, "outer": {"splitter": "LeaveOneGroupOut"}},
     "cv.outer.splitter: LeaveOneGroupOut needs the column of groups"),
    ({"folds": 3, "outer": {"folds": 3, "outer": {"folds": 2}}}, "cv.outer.outer: unknown key"),
])
def test_bad_splitters_are_refused_with_their_key(cv, message):
    with pytest.raises(SpecError) as info:
        spec_of(cv)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("params, message", [
    ({"n_splits": 1}, "cv.params.n_splits: expected a whole number ≥ 2, got 1"),
    ({"n_splits": 2.5}, "cv.params.n_splits: expected a whole number, got 2.5"),
    ({"n_splits": 3, "random_state": 1}, "cv.params: KFold refuses these values: Setting a "
                                         "random_state has no effect since shuffle is False"),
])
def test_values_are_checked_by_building_the_splitter(params, message):
    with pytest.raises(SpecError) as info:
        spec_of({"splitter": "KFold", "params": params}).validate()
    assert str(info.value).startswith(message)


def test_values_scikit_learn_only_checks_when_splitting_are_checked_at_once():
    with pytest.raises(SpecError, match=re.escape(
            "cv.params.p: expected a whole number ≥ 1, got 0")):
        spec_of({"splitter": "LeavePOut", "params": {"p": 0}}).validate()
    with pytest.raises(SpecError, match=re.escape(
            "cv.params.gap: expected a whole number ≥ 0, got -1")):
        spec_of({"splitter": "TimeSeriesSplit", "params": {"gap": -1}}).validate()
    with pytest.raises(SpecError, match=re.escape(
            "cv.params.n_splits: expected a whole number ≥ 1")):
        spec_of({"splitter": "ShuffleSplit", "params": {"n_splits": 0}}).validate()
    with pytest.raises(SpecError, match=re.escape(
            "cv.outer.params.test_size: give a share of the rows")):
        spec_of({"folds": 3, "outer": {"splitter": "holdout",
                                       "params": {"test_size": 1.5}}}).validate()


def test_groups_are_a_column_to_split_by_never_a_feature(tmp_path):
    write_csv(tmp_path)
    spec = spec_of({"splitter": "LeaveOneGroupOut"},
                   {"csv": "iris.csv", "target": "species", "groups": "site"})
    spec = StudySpec.from_dict(spec.to_dict(), base_dir=tmp_path)
    dataset = load_dataset(spec.data)
    assert list(dataset.X.columns) == ["a", "b", "c", "d"]
    assert "site" not in dataset.numeric_columns + dataset.categorical_columns
    context = context_for(spec, dataset, spec.validate())
    assert count_splits(context, dataset) == 5  # one split per site
    ours = split_indices(context, dataset.X, dataset.y, dataset.groups)
    theirs = list(LeaveOneGroupOut().split(dataset.X, dataset.y, dataset.groups))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(ours, theirs, strict=True))
    assert dataset.fingerprint() != load_dataset(spec.data.__class__(
        csv=spec.data.csv, target="species", base_dir=str(tmp_path))).fingerprint()


def test_a_groups_column_that_is_missing_or_on_bundled_data_is_refused(tmp_path):
    with pytest.raises(SpecError, match=re.escape(
            "data.groups: a bundled dataset has no named columns")):
        spec_of({"folds": 3}, {"builtin": "iris", "groups": "site"})
    write_csv(tmp_path)
    spec = StudySpec.from_dict(spec_of({"splitter": "GroupKFold"}, {
        "csv": "iris.csv", "target": "species", "groups": "place"}).to_dict(),
        base_dir=tmp_path)
    with pytest.raises(DataError, match=re.escape(
            "groups column 'place' is not in iris.csv")):
        load_dataset(spec.data)


def test_predefined_split_reads_its_test_folds_from_the_groups_column(tmp_path):
    write_csv(tmp_path, fold=True)
    spec = StudySpec.from_dict(spec_of({"splitter": "PredefinedSplit"}, {
        "csv": "iris.csv", "target": "species", "groups": "fold"}).to_dict(), base_dir=tmp_path)
    store = MemoryHistory()
    outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
    assert store.get_study(outcome.study_id).n_splits == 3
    dataset = load_dataset(spec.data)
    n_train, n_test = split_sizes(spec.cv, dataset.X, dataset.y, dataset.groups, True)
    expected = list(PredefinedSplit(dataset.groups).split())
    assert n_test.tolist() == [len(test) for _, test in expected]
    assert n_train.tolist() == [len(train) for train, _ in expected]


def test_a_hold_out_split_is_train_test_splits_split():
    spec = spec_of({"splitter": "holdout", "params": {"test_size": 0.2, "random_state": 4,
                                                      "stratify": True}})
    dataset = load_dataset(spec.data)
    context = context_for(spec, dataset, spec.validate())
    [(train, test)] = split_indices(context, dataset.X, dataset.y)
    rows = np.arange(len(dataset.y))
    expected_train, expected_test = train_test_split(rows, test_size=0.2, random_state=4,
                                                     stratify=dataset.y)
    assert np.array_equal(train, expected_train) and np.array_equal(test, expected_test)
    assert describe(spec.cv) == "holdout(test_size=0.2, random_state=4, stratify=True)"
    assert planned_work(spec).folds == 1
    ordered = spec_of({"splitter": "holdout", "params": {"shuffle": False}})
    [(train, test)] = split_indices(context_for(ordered, dataset, ordered.validate()),
                                    dataset.X, dataset.y)
    assert test.tolist() == list(range(112, 150))  # the last quarter, for time-ordered rows


def test_the_cost_preview_counts_splits_with_the_splitter():
    spec = spec_of({"splitter": "RepeatedStratifiedKFold",
                    "params": {"n_splits": 3, "n_repeats": 4}})
    work = planned_work(spec)
    assert (work.folds, work.fits) == (12, 24)
    assert work.describe() == "2 candidates × 12 RepeatedStratifiedKFold splits = 24 fits"
    loo = spec_of({"splitter": "LeaveOneOut"})
    assert planned_work(loo).describe().endswith("? fits until the data is loaded")
    assert planned_work(loo, load_dataset(loo.data)).folds == 150
    nested = spec_of({"folds": 3, "outer": {"folds": 4}})
    assert planned_work(nested).fits == 2 * 3 * 5 + 4
    assert "nested CV runs it again in 4 outer folds: 34 fits" in planned_work(
        nested).describe()


@pytest.mark.parametrize("cv, message", [
    ({"splitter": "GroupKFold", "params": {"n_splits": 9}},
     "cv: GroupKFold(n_splits=9) cannot split this data"),
    ({"splitter": "LeaveOneOut"}, "cv: LeaveOneOut() makes 1,500 splits"),
    ({"splitter": "StratifiedKFold", "params": {"n_splits": 3}},
     "cv: StratifiedKFold(n_splits=3) cannot split this data"),
])
def test_what_only_the_data_can_tell_is_said_before_the_run(tmp_path, cv, message):
    X, y = load_iris(return_X_y=True)
    rows = np.tile(np.arange(150), 10)
    frame = pd.DataFrame(X[rows], columns=["a", "b", "c", "d"])
    frame["site"] = rows % 4
    frame["target"] = y[rows] + 0.5 * (rows % 7) if "Stratified" in cv["splitter"] \
        else y[rows]
    frame.to_csv(tmp_path / "d.csv", index=False)
    spec = StudySpec.from_dict({
        "name": "s", "data": {"csv": "d.csv", "target": "target", "groups": "site"},
        "estimator": {"class": "sklearn.tree.DecisionTreeRegressor"},
        "space": [{"max_depth": [1]}], "cv": cv}, base_dir=tmp_path)
    with pytest.raises(SpecError) as info:
        spec.check_feasible(load_dataset(spec.data))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_nested_cv_is_refused_when_the_inner_splits_cannot_be_made_in_an_outer_fold():
    spec = spec_of({"folds": 40, "outer": {"folds": 2}})
    with pytest.raises(SpecError, match=re.escape(
            "inside the training part of an outer fold, 75 rows")):
        spec.check_feasible(load_dataset(spec.data))

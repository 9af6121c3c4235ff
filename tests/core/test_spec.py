"""The study spec: parsing, round trips, and validation messages that name the problem."""

from __future__ import annotations

import json
import math
import re

import pytest

from hpstudio.core.errors import SpecError
from hpstudio.core.space import FloatRange, IntRange, Values
from hpstudio.core.spec import StudySpec

BASE = {
    "name": "s",
    "data": {"builtin": "iris"},
    "estimator": {"class": "sklearn.svm.SVC"},
    "space": [{"C": [1, 10]}],
}


def spec_with(**changes) -> dict:
    raw = json.loads(json.dumps(BASE))
    raw.update(changes)
    return raw


def test_demo_spec_parses_into_two_subspaces(tmp_path):
    from hpstudio.cli import demo_spec_path

    spec = StudySpec.from_file(demo_spec_path())
    assert spec.name == "forest-diabetes"
    assert spec.estimator.fixed == {"random_state": 0}
    assert spec.space[0]["n_estimators"] == Values((3, 10, 30))
    assert spec.space[1]["bootstrap"] == Values((False,))
    assert spec.scoring.metric == "neg_mean_squared_error" and spec.scoring.train_score
    assert spec.planned_trials() == 18
    spec.validate()


def test_toml_and_json_round_trip(tmp_path):
    raw = spec_with(space=[{"C": {"low": 1e-3, "high": 1e3, "log": True, "num": 5},
                            "gamma": ["scale", "auto"], "degree": {"low": 2, "high": 5}},
                           {"kernel": ["linear"], "shrinking": [True, False]}],
                    estimator={"class": "sklearn.svm.SVC", "fixed": {"class_weight": "None"}})
    spec = StudySpec.from_dict(raw)
    assert spec.space[0]["C"] == FloatRange(1e-3, 1e3, log=True, num=5)
    assert spec.space[0]["degree"] == IntRange(2, 5)
    assert spec.estimator.fixed == {"class_weight": None}
    for suffix in (".toml", ".json"):
        path = tmp_path / f"s{suffix}"
        spec.save(path)
        again = StudySpec.from_file(path)
        assert again.to_dict() == spec.to_dict()
        assert again.space == spec.space


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"space": [{"C": {"low": 10, "high": 1}}]},
         "space[0].C: low (10) is greater than high (1)"),
        ({"space": [{"C": []}]}, "space[0].C: empty list"),
        ({"space": [{"C": "ten"}]}, "space[0].C: expected a list of values"),
        ({"space": [{"C": {"low": "a", "high": 1}}]}, "space[0].C.low: expected a number"),
        ({"space": [{"C": {"low": 0, "high": 1, "log": True}}]}, "needs low > 0"),
        ({"space": [{"C": {"low": 1, "high": 2, "nmu": 3}}]}, "did you mean 'num'"),
        ({"data": {"builtin": "mnist"}}, "data.builtin: unknown dataset 'mnist'"),
        ({"cv": {"folds": 1}}, "cv.folds: expected a whole number ≥ 2"),
        ({"search": {"strategy": "genetic"}}, "search.strategy: 'genetic' is not one of"),
        ({"search": {"strategy": "random", "n_trials": 0}}, "search.n_trials"),
        ({"serch": {}}, "serch: unknown key (did you mean 'search'?)"),
    ],
)
def test_parse_errors_name_the_key_and_the_fix(change, message):
    with pytest.raises(SpecError) as info:
        StudySpec.from_dict(spec_with(**change))
    assert message in str(info.value)


def test_unknown_parameter_lists_the_real_ones():
    spec = StudySpec.from_dict(spec_with(space=[{"gama": [1]}]))
    with pytest.raises(SpecError) as info:
        spec.validate()
    text = str(info.value)
    assert "space[0].gama: SVC has no parameter 'gama'" in text
    assert "did you mean 'gamma'" in text
    assert "C, break_ties" in text and "kernel" in text  # the real names, from get_params()


def test_unknown_estimator_class_and_module():
    for path, message in [
        ("sklearn.svm.SVX", "has no class 'SVX'"),
        ("sklearn.nosuch.Thing", "cannot import module 'sklearn.nosuch'"),
        ("SVC", "not a dotted class path"),
        ("sklearn.model_selection.KFold", "not a scikit-learn estimator"),
    ]:
        spec = StudySpec.from_dict(spec_with(estimator={"class": path}))
        with pytest.raises(SpecError, match=message):
            spec.validate()


def test_classes_outside_sklearn_need_explicit_permission(monkeypatch):
    imported = []
    import importlib

    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: imported.append(name) or real_import(name, *a))
    spec = StudySpec.from_dict(spec_with(estimator={"class": "os.path.join"}))
    with pytest.raises(SpecError, match="--allow-package os"):
        spec.validate()
    assert "os.path" not in imported  # refused before anything was imported
    with pytest.raises(SpecError, match="not a scikit-learn estimator"):
        spec.validate(allowed_packages=["os"])


def test_grid_needs_num_for_float_ranges_and_random_does_not():
    raw = spec_with(space=[{"C": {"low": 0.1, "high": 10.0}}])
    with pytest.raises(SpecError, match="grid search needs `num`"):
        StudySpec.from_dict(raw).validate()
    raw["search"] = {"strategy": "random", "n_trials": 5}
    StudySpec.from_dict(raw).validate()


def test_unknown_metric_is_rejected_with_a_suggestion():
    spec = StudySpec.from_dict(spec_with(scoring={"metric": "acuracy"}))
    with pytest.raises(SpecError, match="did you mean 'accuracy'"):
        spec.validate()


# ----- saving gives back what was read ---------------------------------------------------------


def round_trips(spec: StudySpec, tmp_path) -> None:
    import tomllib

    assert StudySpec.from_dict(spec.to_dict()) == spec
    assert StudySpec.from_dict(tomllib.loads(spec.to_toml())) == spec
    assert StudySpec.from_dict(json.loads(spec.to_json())) == spec
    for suffix in (".toml", ".json"):
        path = tmp_path / f"again{suffix}"
        spec.save(path)
        assert StudySpec.from_file(path) == spec


def test_none_in_lists_nested_tables_and_fixed_saves_and_reads_back(tmp_path):
    raw = spec_with(
        estimator={"class": "sklearn.svm.SVC",
                   "fixed": {"class_weight": {"0": "None", "1": 2.0},
                             "max_iter": "None", "nested": {"a": ["None", {"b": "None"}]}}},
        space=[{"C": [1, "None", [None, 2]], "gamma": [{"x": None}, ["scale", "None"]]}])
    spec = StudySpec.from_dict(raw)
    assert spec.estimator.fixed == {"class_weight": {"0": None, "1": 2.0}, "max_iter": None,
                                    "nested": {"a": [None, {"b": None}]}}
    assert spec.space[0]["C"] == Values((1, None, [None, 2]))
    assert spec.space[0]["gamma"] == Values(({"x": None}, ["scale", None]))
    round_trips(spec, tmp_path)


def test_every_bundled_and_documented_spec_is_valid_and_round_trips(tmp_path):
    from pathlib import Path

    from hpstudio.demo import demo_spec_path

    root = Path(__file__).resolve().parents[2]
    paths = [Path(demo_spec_path()), *sorted((root / "docs" / "examples").glob("*.toml"))]
    assert len(paths) >= 2
    for path in paths:
        spec = StudySpec.from_file(path)
        spec.validate()
        round_trips(spec, tmp_path)


def test_a_byte_order_mark_is_not_an_error(tmp_path):
    import tomli_w

    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + tomli_w.dumps(BASE).encode())
    assert StudySpec.from_file(path).name == "s"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": {"csv": "", "target": "y"}}, "data.csv: '' is not a file path"),
        ({"data": {"csv": "d.csv", "target": ""}}, "data.target: empty"),
        ({"cv": {"seed": -1}}, "cv.seed: expected a whole number ≥ 0, got -1"),
        ({"cv": {"folds": 10**6}}, "cv.folds: 1000000 is more than 1,000"),
        ({"cv": {"folds": True}}, "cv.folds: expected a whole number ≥ 2, got True"),
        ({"search": {"seed": -1}}, "search.seed: expected a whole number ≥ 0"),
        ({"search": {"strategy": "random", "n_trials": 2**63}}, "search.n_trials"),
        ({"search": {"patience": 0}}, "search.patience: expected a whole number ≥ 1"),
        ({"search": {"time_limit": float("nan")}}, "search.time_limit: expected a finite"),
        ({"search": {"time_limit": 10**400}}, "search.time_limit: 1000"),
        ({"search": {"n_trials": True}}, "search.n_trials: expected a whole number ≥ 1, got True"),
        ({"space": [{"C": {"low": 1, "high": 10**400}}]}, "space[0].C.high: 1000"),
        ({"space": [{"C": [1, float("nan")]}]}, "space[0].C[1]: nan is not a finite number"),
        ({"space": [{"C": {"low": 0.0, "high": 1.0, "step": 1e-9}}]}, "space[0].C.step"),
        ({"space": [{"C": {"low": -1e308, "high": 1e308}}]}, "too wide"),
        ({"space": [{"C": {"low": 0.0, "high": 1.0, "num": 2 * 10**9}}]}, "space[0].C.num"),
        ({"space": [{1: [1]}]}, "space[0]: names must be text"),
        ({"name": ""}, "name: empty"),
        ({"scoring": {"metric": ""}}, "scoring.metric: empty"),
    ],
)
def test_absurd_values_are_refused_naming_the_key(change, message):
    with pytest.raises(SpecError) as info:
        StudySpec.from_dict(spec_with(**change))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_specs_built_in_code_get_the_parsers_checks():
    from dataclasses import replace

    from hpstudio.core.spec import CVSpec, DataSpec, SearchSpec

    spec = StudySpec.from_dict(BASE)
    spec.check()
    for bad, message in [
        (replace(spec, cv=CVSpec(5, True, -3)), "cv.seed"),
        (replace(spec, search=SearchSpec("random", n_trials=0)), "search.n_trials"),
        (replace(spec, search=SearchSpec("grid", time_limit=math.inf)), "search.time_limit"),
        (replace(spec, data=DataSpec(csv="", target="y")), "data.csv"),
        (replace(spec, space=({"C": FloatRange(0.0, 1.0)},)), "grid search needs `num`"),
        (replace(spec, space=({"C": IntRange(1, 10**10)},)), "space[0].C: grid search over"),
    ]:
        with pytest.raises(SpecError, match=re.escape(message)):
            bad.validate()


def test_a_huge_grid_is_counted_and_refused_without_being_listed():
    import time
    import tracemalloc

    spec = StudySpec.from_dict(spec_with(space=[
        {"C": {"low": 1, "high": 10**10}, "degree": {"low": 1, "high": 10**9}}]))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert spec.planned_trials() == 10**19
        with pytest.raises(SpecError, match=r"space\[0\]\.C: grid search over \[1, 10000000000\]"):
            spec.check()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 5 * 2**20
    assert time.perf_counter() - started < 1.0


# ----- studies that cannot succeed on their data ------------------------------------------------


def test_more_folds_than_rows_or_than_the_smallest_class_is_infeasible():
    from hpstudio.core.data import load_builtin
    from hpstudio.core.feasibility import check_feasible, feasibility_problem

    iris = load_builtin("iris")  # three classes of 50
    ok = StudySpec.from_dict(spec_with(cv={"folds": 50}))
    check_feasible(ok, iris)
    assert feasibility_problem(ok, iris) is None
    too_many = StudySpec.from_dict(spec_with(cv={"folds": 51}))
    with pytest.raises(SpecError) as info:
        check_feasible(too_many, iris)
    assert str(info.value) == ("cv.folds = 51 but the smallest class 0 has 50 members; "
                               "use at most 50 folds")
    # a regressor gets plain k-fold, which only needs as many rows as folds
    assert feasibility_problem(too_many, iris, classifier=False) is None
    beyond_rows = StudySpec.from_dict(spec_with(cv={"folds": 151}))
    assert feasibility_problem(beyond_rows, iris, classifier=False) == (
        "cv.folds = 151 but the data has only 150 rows; use at most 150 folds")


def test_infeasibility_names_a_text_class(tmp_path):
    from hpstudio.core.data import load_csv
    from hpstudio.core.feasibility import feasibility_problem

    rows = ["setosa"] * 3 + ["versicolor"] * 12 + ["virginica"] * 12
    (tmp_path / "f.csv").write_text(
        "x,species\n" + "".join(f"{i},{label}\n" for i, label in enumerate(rows)))
    data = load_csv(tmp_path / "f.csv", "species")
    spec = StudySpec.from_dict(spec_with(data={"csv": "f.csv", "target": "species"},
                                         cv={"folds": 10}))
    assert feasibility_problem(spec, data) == (
        "cv.folds = 10 but the smallest class 'setosa' has 3 members; use at most 3 folds")

"""The study spec: parsing, round trips, and validation messages that name the problem."""

from __future__ import annotations

import json

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
        ({"data": {"csv": "x.csv"}}, "data.target: a CSV needs"),
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

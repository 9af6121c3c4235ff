"""The pipeline part of the spec: parsing, saving, checking names and classes, and data
without a target."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

from hpstudio.core.data import NO_TARGET, load_dataset
from hpstudio.core.errors import DataError, SpecError
from hpstudio.core.evaluate import build_estimator, context_for, set_candidate
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.pipeline import needs_tuple, plan_for, value_label
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner

ISSUE_SPEC = """
name = "houses"

[data]
csv = "houses.csv"
target = "price"
columns = { id = "drop", notes = "text", zip = "category" }
preprocess = true

[[steps]]
name = "pca"
class = "sklearn.decomposition.PCA"
fixed = { random_state = 0 }

[[steps]]
name = "reduce_dim"
class = "passthrough"

[estimator]
name = "logistic"
class = "sklearn.linear_model.LogisticRegression"

[[space]]
pca__n_components = [5, 15, 30]
logistic__C = { low = 1e-4, high = 1e4, log = true }
reduce_dim = [{ class = "sklearn.decomposition.NMF", fixed = { max_iter = 1000 } }, "passthrough"]

[search]
strategy = "random"
"""


def spec_of(**sections) -> StudySpec:
    raw = {"name": "t", "data": {"builtin": "iris"},
           "estimator": {"class": "sklearn.svm.SVC"}, "space": [{"C": [1.0]}]}
    raw.update(sections)
    return StudySpec.from_dict(raw)


def test_the_issue_spec_parses_saves_and_validates(tmp_path):
    spec = StudySpec.from_dict(tomllib.loads(ISSUE_SPEC), base_dir=tmp_path)
    assert [s.name for s in spec.steps] == ["pca", "reduce_dim"]
    assert spec.steps[1].cls == "passthrough" and spec.estimator.name == "logistic"
    assert dict(spec.data.columns) == {"id": "drop", "notes": "text", "zip": "category"}
    again = StudySpec.from_dict(tomllib.loads(spec.to_toml()), base_dir=tmp_path)
    assert again == spec
    spec.validate()
    plan = plan_for(spec)
    assert plan.step_names == ("preprocess", "pca", "reduce_dim", "logistic")


def test_an_older_spec_saves_without_the_new_keys():
    raw = spec_of().to_dict()
    assert "steps" not in raw and "name" not in raw["estimator"]
    assert set(raw["data"]) == {"builtin"}


@pytest.mark.parametrize(("sections", "message"), [
    ({"steps": [{"name": "pca", "class": "sklearn.decomposition.PCA"}],
      "space": [{"pca__n_componets": [2]}]},
     "space[0].pca__n_componets: PCA (step pca) has no parameter 'n_componets' "
     "(did you mean 'n_components'?)"),
    ({"steps": [{"name": "pca", "class": "sklearn.decomposition.PCA"}],
      "space": [{"pcaa__n_components": [2]}]},
     "space[0].pcaa__n_components: the pipeline has no step 'pcaa' (did you mean 'pca'?); "
     "its steps are: pca, model"),
    ({"steps": [{"name": "pca", "class": "sklearn.decomposition.PCA"}],
      "space": [{"n_components": [2]}]},
     "space[0].n_components: SVC has no parameter 'n_components' "
     "(did you mean 'pca__n_components'?)"),
    ({"steps": [{"name": "pca", "class": "sklearn.decomposition.PCA"}],
      "space": [{"gama": [2]}]},
     "space[0].gama: SVC has no parameter 'gama' (did you mean 'gamma'?)"),
    ({"steps": [{"name": "reduce", "class": "passthrough"}],
      "space": [{"reduce": [{"class": "sklearn.decomposition.PCA"},
                            {"class": "sklearn.feature_selection.SelectKBest"}],
                 "reduce__n_components": [2]}]},
     "space[0].reduce__n_components: SelectKBest (a choice of reduce) has no parameter "
     "'n_components'"),
    ({"steps": [{"name": "reduce", "class": "passthrough"}],
      "space": [{"reduce": [{"class": "sklearn.decomposition.PCA"}, "passthrough"],
                 "reduce__n_components": [2]}]},
     "space[0].reduce__n_components: when reduce is passthrough there is no 'n_components'"),
    ({"steps": [{"name": "scale", "class": "mypackage.Scaler"}]},
     "steps[0].class: 'mypackage.Scaler' is outside scikit-learn"),
    ({"steps": [{"name": "pca", "class": "sklearn.decomposition.PCA",
                 "fixed": {"n_componets": 2}}]},
     "steps[0].fixed.n_componets: PCA has no parameter 'n_componets' "
     "(did you mean 'n_components'?)"),
    ({"steps": [{"name": "select", "class": "sklearn.feature_selection.SelectKBest",
                 "fixed": {"score_func": {"function": "os.system"}}}]},
     "steps[0].class.fixed.score_func: 'os.system' is outside scikit-learn"),
    ({"space": [{"model": [{"class": "sklearn.gaussian_process.kernels.RBF"}]}]},
     "space[0].model: RBF() is not an estimator"),
])
def test_pipeline_names_and_classes_are_checked_with_the_fix(sections, message):
    spec = spec_of(**sections)
    with pytest.raises(SpecError) as info:
        spec.validate()
    assert message in str(info.value)


@pytest.mark.parametrize(("sections", "message"), [
    ({"steps": [{"name": "preprocess", "class": "sklearn.decomposition.PCA"}]},
     "steps[0].name: 'preprocess' is the name of the built-in preprocessing step"),
    ({"steps": [{"name": "model", "class": "sklearn.decomposition.PCA"}]},
     "steps[0].name: 'model' is already the name of the estimator"),
    ({"steps": [{"name": "a__b", "class": "sklearn.decomposition.PCA"}]},
     "steps[0].name: 'a__b' is not a step name"),
    ({"steps": [{"name": "pca"}]}, "steps[0].class: missing"),
    ({"steps": [{"name": "p", "class": "passthrough", "fixed": {"x": 1}}]},
     "steps[0].fixed: a passthrough step has no parameters"),
    ({"data": {"builtin": "iris", "columns": {"a": "drop"}}},
     "data.columns: a bundled dataset is used as it is"),
    ({"data": {"csv": "x.csv", "target": "y", "columns": {"a": "date"}}},
     "data.columns.a: 'date' is not a column type"),
    ({"data": {"csv": "x.csv", "target": "y", "columns": {"y": "drop"}}},
     "data.columns.y: this is the target column"),
    ({"data": {"csv": "x.csv", "target": "y", "columns": {"a": "text"},
               "preprocess": False}},
     "data.columns.a: a text column needs the built-in preprocessing"),
])
def test_pipeline_keys_are_parsed_strictly(sections, message):
    with pytest.raises(SpecError) as info:
        spec_of(**sections)
    assert message in str(info.value)


def test_lists_become_tuples_where_scikit_learn_needs_them():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import MinMaxScaler

    assert needs_tuple(TfidfVectorizer, "ngram_range")
    assert needs_tuple(MinMaxScaler, "feature_range")
    assert needs_tuple(MLPClassifier, "hidden_layer_sizes")
    assert not needs_tuple(LogisticRegression, "C")
    spec = spec_of(estimator={"class": "sklearn.neural_network.MLPClassifier"},
                   space=[{"hidden_layer_sizes": [[5], [5, 3]]}],
                   steps=[{"name": "scale", "class": "sklearn.preprocessing.MinMaxScaler",
                           "fixed": {"feature_range": [-1, 1]}}])
    spec.validate()
    dataset = load_dataset(spec.data)
    context = context_for(spec, dataset, spec.validate())
    built = set_candidate(build_estimator(context), context, {"hidden_layer_sizes": [5, 3]})
    assert built.get_params()["model__hidden_layer_sizes"] == (5, 3)
    assert built.get_params()["scale__feature_range"] == (-1, 1)


def test_an_object_valued_parameter_and_its_own_parameters():
    """A kernel is a value; its length scale is tuned in the same sub-space."""
    spec = spec_of(estimator={"class": "sklearn.gaussian_process.GaussianProcessClassifier",
                              "fixed": {"optimizer": "None"}},
                   space=[{"kernel": [{"class": "sklearn.gaussian_process.kernels.RBF"}],
                           "kernel__length_scale": [0.5, 2.0]}],
                   cv={"folds": 3})
    spec.validate()
    store = MemoryHistory()
    outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
    trials = sorted(store.load_trials(outcome.study_id), key=lambda t: t.number)
    assert outcome.n_failed == 0 and len(trials) == 2
    assert trials[0].mean_test_score != trials[1].mean_test_score
    assert value_label(trials[0].params["kernel"]) == "RBF()"


def _blobs(path: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(4, 0.5, (20, 2))])
    rng.shuffle(X)
    pd.DataFrame(X, columns=["a", "b"]).assign(id=range(60)).to_csv(path, index=False)
    return X


def test_a_density_estimator_needs_no_target_and_is_scored_by_its_own_score(tmp_path):
    X = _blobs(tmp_path / "points.csv")
    spec = StudySpec.from_dict({
        "name": "kde", "data": {"csv": "points.csv", "columns": {"id": "drop"},
                                "preprocess": False},
        "estimator": {"class": "sklearn.neighbors.KernelDensity"},
        "space": [{"bandwidth": [0.2, 0.5, 1.0]}], "cv": {"folds": 3}}, base_dir=tmp_path)
    dataset = load_dataset(spec.data)
    assert dataset.y is None and dataset.task == NO_TARGET and list(dataset.X.columns) == ["a",
                                                                                        "b"]
    store = MemoryHistory()
    outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
    trials = sorted(store.load_trials(outcome.study_id), key=lambda t: t.number)
    search = GridSearchCV(KernelDensity(), {"bandwidth": [0.2, 0.5, 1.0]}, cv=3).fit(X)
    np.testing.assert_allclose([t.mean_test_score for t in trials],
                               search.cv_results_["mean_test_score"], rtol=0, atol=1e-9)


def test_a_classifier_still_needs_a_target_and_a_metric_needs_one_too(tmp_path):
    _blobs(tmp_path / "points.csv")
    spec = StudySpec.from_dict({"name": "t", "data": {"csv": "points.csv"},
                                "estimator": {"class": "sklearn.svm.SVC"},
                                "space": [{"C": [1.0]}]}, base_dir=tmp_path)
    with pytest.raises(SpecError, match=r"data\.target: a CSV needs the name of its target "
                                        r"column for SVC"):
        spec.validate()
    density = StudySpec.from_dict({"name": "t", "data": {"csv": "points.csv"},
                                   "estimator": {"class": "sklearn.mixture.GaussianMixture"},
                                   "space": [{"n_components": [1, 2]}],
                                   "scoring": {"metric": "accuracy"}}, base_dir=tmp_path)
    with pytest.raises(SpecError, match=r"scoring\.metric: the data has no target"):
        density.validate()


def test_column_types_are_applied_on_load_and_checked(tmp_path):
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"id": [1, 2, 3, 4], "zip": [10, 20, 10, 30], "note": ["a b", None, "c", "d"],
                  "size": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]}).to_csv(path, index=False)
    spec = spec_of(data={"csv": str(path), "target": "y",
                         "columns": {"id": "drop", "zip": "category", "note": "text"}})
    dataset = load_dataset(spec.data)
    assert dataset.numeric_columns == ("size",) and dataset.categorical_columns == ("zip",)
    assert dataset.text_columns == ("note",) and list(dataset.X["note"]) == ["a b", "", "c", "d"]
    raw_numbers = spec_of(data={"csv": str(path), "target": "y", "preprocess": False})
    with pytest.raises(DataError, match="column 'note' does not hold numbers"):
        load_dataset(raw_numbers.data)
    misspelt = spec_of(data={"csv": str(path), "target": "y", "columns": {"nte": "text"}})
    with pytest.raises(DataError, match="has no column 'nte' \\(did you mean 'note'\\?\\)"):
        load_dataset(misspelt.data)

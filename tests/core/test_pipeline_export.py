"""Exports of a pipeline study: the JSON names the whole pipeline, the Python snippet
reproduces the stored score when run, the refitted model is the whole pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.gaussian_process import GaussianProcessClassifier
from sklearn.gaussian_process.kernels import RBF
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from hpstudio.core import export
from hpstudio.core.describe import pipeline_sections
from hpstudio.core.evaluate import build_estimator, context_for, set_candidate
from hpstudio.core.executor import SerialExecutor
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("pipeline-export")
    rng = np.random.default_rng(2)
    n = 90
    frame = pd.DataFrame({
        "id": range(n), "size": rng.normal(100, 20, n).round(1),
        "rooms": rng.integers(1, 6, n).astype(float),
        "zip": rng.choice([75001, 69002, 13003], n),
        "notes": rng.choice(["quiet street", "near the station", "big garden",
                             "quiet garden", None], n),
    })
    frame.loc[::9, "rooms"] = np.nan
    frame["pricey"] = np.where(frame["size"] + 15 * (frame["zip"] == 75001) > 105, "yes", "no")
    frame.to_csv(folder / "houses.csv", index=False)
    spec = StudySpec.from_dict({
        "name": "houses",
        "data": {"csv": "houses.csv", "target": "pricey",
                 "columns": {"id": "drop", "zip": "category", "notes": "text"}},
        "steps": [{"name": "reduce", "class": "passthrough"}],
        "estimator": {"name": "logistic", "class": "sklearn.linear_model.LogisticRegression"},
        "space": [{"reduce": [{"class": "sklearn.decomposition.TruncatedSVD",
                               "fixed": {"random_state": 0}}],
                   "reduce__n_components": [2, 4], "logistic__C": [0.1, 10.0],
                   "preprocess__notes__ngram_range": [[1, 2]]},
                  {"reduce": ["passthrough"],
                   "preprocess__numeric__imputer__strategy": ["mean", "median"]}],
        "cv": {"folds": 3, "shuffle": True, "seed": 1},
    }, base_dir=folder)
    store = MemoryHistory()
    outcome = StudyRunner(store, executor=SerialExecutor()).run(spec)
    assert outcome.n_failed == 0
    return store.get_study(outcome.study_id), store.load_trials(outcome.study_id), folder


def test_the_json_names_the_whole_pipeline_and_its_parameters(study):
    row, trials, _ = study
    trial = next(t for t in trials if t.subspace == 0)
    document = export.params_document(row, trial)
    pipeline = document["pipeline"]
    assert [s["name"] for s in pipeline["steps"]] == ["preprocess", "reduce", "logistic"]
    assert pipeline["steps"][1]["class"] == "passthrough"
    assert pipeline["params"]["reduce"]["class"] == "sklearn.decomposition.TruncatedSVD"
    assert pipeline["params"]["preprocess__notes__ngram_range"] == [1, 2]
    json.dumps(document)  # it is plain JSON


@pytest.mark.parametrize("subspace", [0, 1])
def test_the_snippet_runs_alone_and_prints_the_stored_score(study, tmp_path, subspace):
    row, trials, _ = study
    trial = max((t for t in trials if t.subspace == subspace), key=lambda t: t.number)
    script = tmp_path / "best.py"
    script.write_text(export.python_snippet(row, trial), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = float(result.stdout.split("=")[1].split()[0])
    assert printed == pytest.approx(trial.mean_test_score, abs=1e-9)
    assert "TruncatedSVD(n_components=" in script.read_text() or subspace == 1


def test_the_refitted_model_is_the_whole_pipeline_and_loads_in_two_lines(study, tmp_path):
    row, trials, folder = study
    trial = export.best_trial(trials)
    model_path = tmp_path / "best.skops"
    sidecar = json.loads(export.refit_model(row, trial, model_path).read_text())
    assert sidecar["trusted_types"]  # what loading must trust, listed by skops
    namespace: dict = {}
    code = export.LOADING_EXAMPLE.format(model=model_path.as_posix())
    assert len(code.splitlines()) == 2
    exec(code, namespace)
    model = namespace["model"]
    assert isinstance(model, Pipeline) and model.steps[0][0] == "preprocess"
    data = pd.read_csv(folder / "houses.csv")
    spec = row.study_spec("test")
    from hpstudio.core.data import load_dataset

    dataset = load_dataset(spec.data)
    context = context_for(spec, dataset, spec.validate())
    expected = set_candidate(build_estimator(context), context, trial.params)
    expected.fit(dataset.X, dataset.y)
    assert list(model.predict(dataset.X)) == list(expected.predict(dataset.X))
    assert len(model.predict(data.drop(columns=["pricey"]).assign(
        notes=lambda f: f["notes"].fillna("")))) == len(data)


def test_an_object_built_in_code_becomes_spec_sections_that_build_it_again():
    pipe = Pipeline([("scale", StandardScaler()), ("reduce", PCA(n_components=3)),
                     ("select", SelectKBest(chi2, k=2)),
                     ("gp", GaussianProcessClassifier(kernel=RBF(length_scale=2.0)))])
    sections = pipeline_sections(pipe)
    assert sections["estimator"] == {
        "name": "gp", "class": "sklearn.gaussian_process.GaussianProcessClassifier",
        "fixed": {"kernel": {"class": "sklearn.gaussian_process.kernels.RBF",
                             "fixed": {"length_scale": 2.0}}}}
    assert sections["steps"][2]["fixed"] == {
        "score_func": {"function": "sklearn.feature_selection.chi2"}, "k": 2}
    spec = StudySpec.from_dict({"name": "from-code", "data": {"builtin": "iris"},
                                **sections, "space": [{"gp__kernel__length_scale": [1.0]}]})
    spec.validate()
    from hpstudio.core.pipeline import build_pipeline, plan_for

    rebuilt = build_pipeline(plan_for(spec))
    assert repr(rebuilt) == repr(clone(pipe))

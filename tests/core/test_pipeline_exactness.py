"""Pipeline studies agree with scikit-learn's searches over the same Pipeline, fold by fold.

Each test is a search from scikit-learn's example gallery, made small (few candidates,
3 folds, small data) so the suite stays fast; the spec writes it as a user would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, load_iris
from sklearn.decomposition import NMF, PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC

from hpstudio.core.executor import LocalExecutor, SerialExecutor
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import MemoryHistory
from hpstudio.core.study import StudyRunner

FOLDS = 3


def run(raw: dict[str, Any], base_dir: Path | None = None, processes: bool = False) -> list:
    spec = StudySpec.from_dict(raw, base_dir=base_dir)
    store = MemoryHistory()
    executor = LocalExecutor(2) if processes else SerialExecutor()
    outcome = StudyRunner(store, executor=executor).run(spec)
    trials = sorted(store.load_trials(outcome.study_id), key=lambda t: t.number)
    assert outcome.n_failed == 0, [t.error for t in trials if t.error]
    return trials


def assert_scores_equal(trials: list, cv_results: dict[str, Any], train: bool = False) -> None:
    assert len(trials) == len(cv_results["params"])
    for key, ours in [
        ("mean_test_score", [t.mean_test_score for t in trials]),
        ("std_test_score", [t.std_test_score for t in trials]),
        *[(f"split{k}_test_score", [t.split_test_scores[k] for t in trials])
          for k in range(FOLDS)],
    ]:
        np.testing.assert_allclose(ours, cv_results[key], rtol=0, atol=1e-9, err_msg=key)
    if train:
        np.testing.assert_allclose([t.mean_train_score for t in trials],
                                   cv_results["mean_train_score"], rtol=0, atol=1e-9)


def test_digits_pipe_scaler_pca_logistic_matches_grid_search(tmp_path):
    """compose/plot_digits_pipe.py, run in worker processes (the step cache shared on disk)."""
    trials = run({
        "name": "digits-pipe", "data": {"builtin": "digits"},
        "steps": [{"name": "scaler", "class": "sklearn.preprocessing.StandardScaler"},
                  {"name": "pca", "class": "sklearn.decomposition.PCA"}],
        "estimator": {"name": "logistic", "class": "sklearn.linear_model.LogisticRegression",
                      "fixed": {"max_iter": 10000, "tol": 0.1}},
        "space": [{"pca__n_components": [5, 15], "logistic__C": [1e-4, 1.0]}],
        "cv": {"folds": FOLDS}, "scoring": {"train_score": True},
    }, processes=True)
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline([("scaler", StandardScaler()), ("pca", PCA()),
                     ("logistic", LogisticRegression(max_iter=10000, tol=0.1))])
    search = GridSearchCV(pipe, {"pca__n_components": [5, 15], "logistic__C": [1e-4, 1.0]},
                          cv=FOLDS, return_train_score=True).fit(X, y)
    assert [t.params for t in trials] == list(search.cv_results_["params"])
    assert_scores_equal(trials, search.cv_results_, train=True)


def test_compare_reduction_chooses_among_pca_nmf_and_select_k_best(tmp_path):
    """compose/plot_compare_reduction.py: the reduction step is a choice, each with its own
    parameters in its own sub-space; raw numeric columns (preprocess = false)."""
    digits = load_digits()
    frame = pd.DataFrame(digits.data[::6], columns=[f"p{i}" for i in range(64)])
    frame["digit"] = digits.target[::6]
    frame.to_csv(tmp_path / "digits.csv", index=False)
    pca = {"class": "sklearn.decomposition.PCA", "fixed": {"iterated_power": 7}}
    nmf = {"class": "sklearn.decomposition.NMF", "fixed": {"max_iter": 1000, "random_state": 0}}
    kbest = {"class": "sklearn.feature_selection.SelectKBest",
             "fixed": {"score_func": {"function": "sklearn.feature_selection.chi2"}}}
    trials = run({
        "name": "compare-reduction",
        "data": {"csv": "digits.csv", "target": "digit", "preprocess": False},
        "steps": [{"name": "scaling", "class": "sklearn.preprocessing.MinMaxScaler",
                   "fixed": {"clip": True}},  # NMF needs test folds >= 0 too
                  {"name": "reduce_dim", "class": "passthrough"}],
        "estimator": {"name": "classify", "class": "sklearn.svm.LinearSVC",
                      "fixed": {"dual": False, "max_iter": 10000}},
        "space": [{"reduce_dim": [pca, nmf], "reduce_dim__n_components": [4],
                   "classify__C": [1, 100]},
                  {"reduce_dim": [kbest], "reduce_dim__k": [4, 8], "classify__C": [1]}],
        "cv": {"folds": FOLDS},
    }, base_dir=tmp_path)
    X, y = frame.drop(columns=["digit"]), frame["digit"].to_numpy()
    pipe = Pipeline([("scaling", MinMaxScaler(clip=True)), ("reduce_dim", "passthrough"),
                     ("classify", LinearSVC(dual=False, max_iter=10000))])
    grid = [{"reduce_dim": [PCA(iterated_power=7), NMF(max_iter=1000, random_state=0)],
             "reduce_dim__n_components": [4], "classify__C": [1, 100]},
            {"reduce_dim": [SelectKBest(chi2)], "reduce_dim__k": [4, 8], "classify__C": [1]}]
    search = GridSearchCV(pipe, grid, cv=FOLDS).fit(X, y)
    chosen = [type(p["reduce_dim"]).__name__ for p in search.cv_results_["params"]]
    assert [t.params["reduce_dim"]["class"].rsplit(".", 1)[1] for t in trials] == chosen
    assert_scores_equal(trials, search.cv_results_)


def _people(path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 90
    frame = pd.DataFrame({
        "name": [f"person {i}" for i in range(n)],
        "age": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 80, n).astype(float)),
        "sex": rng.choice(["female", "male"], n),
        "fare": rng.gamma(2.0, 20.0, n).round(2),
        "embarked": np.where(rng.random(n) < 0.1, None, rng.choice(["C", "Q", "S"], n)),
        "pclass": rng.integers(1, 4, n),
    })
    score = (frame["sex"] == "female") * 1.5 - frame["pclass"] * 0.6 + rng.normal(0, 0.7, n)
    frame["survived"] = (score > score.median()).astype(int)
    frame.to_csv(path, index=False)
    return pd.read_csv(path)


def test_mixed_types_tune_the_imputer_with_the_model(tmp_path):
    """compose/plot_column_transformer_mixed_types.py: the preprocessing is a step whose
    parameters are tuned with the model's; a number column typed category, an id dropped."""
    data = _people(tmp_path / "people.csv")
    trials = run({
        "name": "mixed",
        "data": {"csv": "people.csv", "target": "survived",
                 "columns": {"name": "drop", "pclass": "category"}},
        "estimator": {"class": "sklearn.linear_model.LogisticRegression"},
        "space": [{"preprocess__numeric__imputer__strategy": ["mean", "median"],
                   "C": [0.1, 1.0, 10.0]}],
        "cv": {"folds": FOLDS},
    }, base_dir=tmp_path)
    y = data.pop("survived")
    X = data.drop(columns=["name"])
    preprocess = ColumnTransformer([
        ("numeric", Pipeline([("imputer", SimpleImputer(strategy="median")),
                              ("scaler", StandardScaler())]), ["age", "fare"]),
        ("categorical", Pipeline([("imputer", SimpleImputer(strategy="most_frequent")),
                                  ("onehot", OneHotEncoder(handle_unknown="ignore",
                                                           sparse_output=False))]),
         ["sex", "embarked", "pclass"]),
    ])
    search = GridSearchCV(Pipeline([("preprocess", preprocess), ("model", LogisticRegression())]),
                          {"preprocess__numeric__imputer__strategy": ["mean", "median"],
                           "model__C": [0.1, 1.0, 10.0]}, cv=FOLDS).fit(X, y)
    ours = [{("model__" + k if k == "C" else k): v for k, v in t.params.items()} for t in trials]
    assert ours == list(search.cv_results_["params"])
    assert_scores_equal(trials, search.cv_results_)


def test_text_column_vectorized_and_tuned_with_naive_bayes(tmp_path):
    """A text column gets its TF-IDF, whose ngram_range (a tuple, written as a list) and
    min_df are tuned with a naive Bayes model."""
    rng = np.random.default_rng(5)
    good = ["great", "lovely", "fine", "superb", "tasty", "friendly"]
    bad = ["awful", "cold", "rude", "bland", "slow", "dirty"]
    common = ["food", "service", "the", "was", "very", "place", "and", "staff"]
    rows = []
    for i in range(72):
        label = "pos" if i % 2 else "neg"
        mood = good if label == "pos" else bad
        words = list(rng.choice(common, 4)) + list(rng.choice(mood, 2)) \
            + list(rng.choice(good + bad, 1))
        rng.shuffle(words)
        rows.append({"review": " ".join(words) if i % 17 else None, "label": label})
    pd.DataFrame(rows).to_csv(tmp_path / "reviews.csv", index=False)
    trials = run({
        "name": "reviews",
        "data": {"csv": "reviews.csv", "target": "label", "columns": {"review": "text"}},
        "estimator": {"name": "nb", "class": "sklearn.naive_bayes.MultinomialNB"},
        "space": [{"preprocess__review__ngram_range": [[1, 1], [1, 2]],
                   "preprocess__review__min_df": [1, 3], "nb__alpha": [0.1, 1.0]}],
        "cv": {"folds": FOLDS},
    }, base_dir=tmp_path)
    data = pd.read_csv(tmp_path / "reviews.csv")
    X, y = data["review"].fillna(""), data["label"].to_numpy().astype(str)
    search = GridSearchCV(Pipeline([("tfidf", TfidfVectorizer()), ("nb", MultinomialNB())]),
                          {"tfidf__ngram_range": [(1, 1), (1, 2)], "tfidf__min_df": [1, 3],
                           "nb__alpha": [0.1, 1.0]}, cv=FOLDS).fit(X, y)
    theirs = [{k.replace("tfidf__", "preprocess__review__"): list(v) if isinstance(v, tuple)
               else v for k, v in p.items()} for p in search.cv_results_["params"]]
    assert [t.params for t in trials] == theirs
    assert_scores_equal(trials, search.cv_results_)


SVC_OR_FOREST = [
    {"model": [{"class": "sklearn.svm.SVC"}], "model__C": [0.1, 1.0, 10.0]},
    {"model": [{"class": "sklearn.ensemble.RandomForestClassifier",
                "fixed": {"n_estimators": 10, "random_state": 0}}],
     "model__max_depth": [2, "None"]},
]


def _sklearn_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {"sklearn.svm.SVC": SVC, "sklearn.ensemble.RandomForestClassifier":
                RandomForestClassifier}[value["class"]](**value.get("fixed", {}))
    return value


def test_the_model_itself_is_a_choice_with_its_own_sub_spaces():
    trials = run({"name": "svc-or-forest", "data": {"builtin": "iris"},
                  "estimator": {"class": "sklearn.svm.SVC"}, "space": SVC_OR_FOREST,
                  "cv": {"folds": FOLDS}})
    X, y = load_iris(return_X_y=True)
    grid = [{"model": [SVC()], "model__C": [0.1, 1.0, 10.0]},
            {"model": [RandomForestClassifier(n_estimators=10, random_state=0)],
             "model__max_depth": [2, None]}]
    search = GridSearchCV(Pipeline([("model", SVC())]), grid, cv=FOLDS).fit(X, y)
    assert [t.subspace for t in trials] == [0, 0, 0, 1, 1]
    assert_scores_equal(trials, search.cv_results_)


@pytest.mark.parametrize("strategy", ["random", "bayes"])
def test_random_and_bayesian_search_choose_among_models(strategy):
    """A choice is a categorical; each trial scores what scikit-learn scores for it."""
    search_spec = {"strategy": strategy, "n_trials": 4, "seed": 0}
    if strategy == "bayes":
        search_spec["initial_points"] = 2
    trials = run({"name": f"{strategy}-choice", "data": {"builtin": "iris"},
                  "estimator": {"class": "sklearn.svm.SVC"}, "space": SVC_OR_FOREST,
                  "cv": {"folds": FOLDS}, "search": search_spec})
    assert len(trials) == 4 and {t.subspace for t in trials} == {0, 1}
    X, y = load_iris(return_X_y=True)
    grid = [{name: [_sklearn_value(None if value == "None" else value)]
             for name, value in t.params.items()} for t in trials]
    search = GridSearchCV(Pipeline([("model", SVC())]), grid, cv=FOLDS).fit(X, y)
    assert_scores_equal(trials, search.cv_results_)

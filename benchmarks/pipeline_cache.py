"""Shared pipeline steps fitted once: hpstudio against GridSearchCV, without and with
``Pipeline(memory=...)``, alternately in one process.

A grid where a costly step is shared: a TF-IDF vectorizer of a text column with 5 settings
(``min_df``) × 8 settings of a logistic regression (``C``), 3 folds, on a synthetic corpus
written to a CSV. GridSearchCV refits the TF-IDF for every candidate and fold (120 times);
with ``memory=`` it loads the fitted step from joblib's disk cache (hashing its input on
every call); hpstudio fits each setting once per fold (15 times) and shares the output
between its workers. All three sides use 2 worker processes, a cold cache at each run, and
agree on every candidate's mean score. Prints medians of the runs and the ratios.

    python benchmarks/pipeline_cache.py [--repeats 3] [--jobs 2] [--documents 2500]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from hpstudio.core.executor import LocalExecutor
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner

MIN_DF = [1, 2, 3, 4, 5]
C = [float(c) for c in np.logspace(-2, 3, 8)]
FOLDS = 3
TARGETS = {"GridSearchCV": 0.5}  # hpstudio / reference at most; and faster than memory=


def write_corpus(path: Path, documents: int, seed: int = 0) -> None:
    """Two classes of documents drawn from shifted Zipf vocabularies of 4000 words."""
    rng = np.random.default_rng(seed)
    size = 4000
    words = np.array([f"w{i}" for i in range(size)])
    p = 1 / np.arange(1, size + 1) ** 1.1
    p /= p.sum()
    shifted = p[rng.permutation(size)]
    labels = rng.integers(0, 2, documents)
    texts = [" ".join(words[rng.choice(size, 60, p=0.8 * p + 0.2 * (shifted if label else p))])
             for label in labels]
    pd.DataFrame({"text": texts, "label": np.where(labels, "b", "a")}).to_csv(path, index=False)


def run_hpstudio(csv: Path, jobs: int, folder: Path) -> tuple[float, list[float]]:
    spec = StudySpec.from_dict({
        "name": "tfidf-logistic",
        "data": {"csv": str(csv), "target": "label", "columns": {"text": "text"}},
        "estimator": {"class": "sklearn.linear_model.LogisticRegression",
                      "fixed": {"max_iter": 1000}},
        "space": [{"preprocess__text__ngram_range": [[1, 2]],
                   "preprocess__text__min_df": MIN_DF, "C": C}],
        "cv": {"folds": FOLDS},
    })
    with HistoryStore(folder / f"h{time.monotonic_ns()}.db") as store:
        start = time.perf_counter()
        outcome = StudyRunner(store, executor=LocalExecutor(jobs)).run(spec)
        wall = time.perf_counter() - start
        trials = sorted(store.load_trials(outcome.study_id), key=lambda t: t.number)
    assert outcome.n_failed == 0 and len(trials) == len(MIN_DF) * len(C)
    by_params = {(t.params["preprocess__text__min_df"], t.params["C"]): t.mean_test_score
                 for t in trials}
    return wall, [by_params[(m, c)] for c in C for m in MIN_DF]


def run_sklearn(csv: Path, jobs: int, memory: Path | None) -> tuple[float, list[float]]:
    data = pd.read_csv(csv)
    pipe = Pipeline([("tfidf", TfidfVectorizer()),
                     ("model", LogisticRegression(max_iter=1000))],
                    memory=None if memory is None else str(memory))
    grid = {"tfidf__ngram_range": [(1, 2)], "tfidf__min_df": MIN_DF, "model__C": C}
    start = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=FOLDS, n_jobs=jobs).fit(data["text"], data["label"])
    wall = time.perf_counter() - start
    results = search.cv_results_
    by_params = {(p["tfidf__min_df"], p["model__C"]): s
                 for p, s in zip(results["params"], results["mean_test_score"], strict=True)}
    return wall, [by_params[(m, c)] for c in C for m in MIN_DF]


def median_of(label: str, values: list[float]) -> float:
    value = statistics.median(values)
    print(f"    {label:<26} median {value:7.2f} s   runs: "
          f"{', '.join(f'{v:.2f}' for v in values)}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--documents", type=int, default=2500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "corpus.csv"
        write_corpus(csv, args.documents)
        print(f"TF-IDF ({len(MIN_DF)} settings) x logistic regression ({len(C)} settings), "
              f"{args.documents} documents, {FOLDS} folds, {args.jobs} workers, "
              f"{args.repeats} runs each")
        run_hpstudio(csv, args.jobs, folder)  # warm every worker pool first
        run_sklearn(csv, args.jobs, None)
        walls: dict[str, list[float]] = {"hpstudio": [], "GridSearchCV": [],
                                         "GridSearchCV + memory=": []}
        for repeat in range(args.repeats):
            wall, ours = run_hpstudio(csv, args.jobs, folder)
            walls["hpstudio"].append(wall)
            wall, plain = run_sklearn(csv, args.jobs, None)
            walls["GridSearchCV"].append(wall)
            cache = folder / f"joblib-{repeat}"  # a cold disk cache for every run
            wall, cached = run_sklearn(csv, args.jobs, cache)
            walls["GridSearchCV + memory="].append(wall)
            np.testing.assert_allclose(ours, plain, rtol=0, atol=1e-12)
            np.testing.assert_allclose(ours, cached, rtol=0, atol=1e-12)
        medians = {label: median_of(label, values) for label, values in walls.items()}
        plain_ratio = medians["hpstudio"] / medians["GridSearchCV"]
        cached_ratio = medians["hpstudio"] / medians["GridSearchCV + memory="]
        print(f"    ratio hpstudio / GridSearchCV           {plain_ratio:.3f} "
              f"(target <= {TARGETS['GridSearchCV']}: "
              f"{'ok' if plain_ratio <= TARGETS['GridSearchCV'] else 'ABOVE TARGET'})")
        print(f"    ratio hpstudio / GridSearchCV + memory= {cached_ratio:.3f} "
              f"(target < 1: {'ok' if cached_ratio < 1 else 'ABOVE TARGET'})")
        print("    every candidate's mean score agrees between the three (atol 1e-12)")


if __name__ == "__main__":
    main()

"""hpstudio's grid search against scikit-learn's GridSearchCV, alternately in one process.

Both sides use 2 worker processes and the same candidates and folds; hpstudio also stores
every trial in SQLite. Prints median wall times and the ratio hpstudio / sklearn, then the
persistence cost per trial (hpstudio's store, and Optuna's RDB storage when installed).

    python benchmarks/grid_vs_sklearn.py [--repeats 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.tree import DecisionTreeClassifier

from hpstudio.core.executor import LocalExecutor
from hpstudio.core.records import FoldResult, TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner

CASES: dict[str, dict[str, Any]] = {
    "(a) RandomForest, digits, 12 x 5": {
        "builtin": "digits", "loader": load_digits,
        "cls": "sklearn.ensemble.RandomForestClassifier", "estimator": RandomForestClassifier,
        "fixed": {"random_state": 0},
        "grid": {"n_estimators": [50, 100], "max_features": ["sqrt", 0.2, 0.4],
                 "max_depth": [None, 10]},
        "target": 0.95,
    },
    "(b) DecisionTree, breast_cancer, 24 x 5": {
        "builtin": "breast_cancer", "loader": load_breast_cancer,
        "cls": "sklearn.tree.DecisionTreeClassifier", "estimator": DecisionTreeClassifier,
        "fixed": {"random_state": 0},
        "grid": {"max_depth": [2, 3, 4, 6, 8, 12], "min_samples_leaf": [1, 5],
                 "criterion": ["gini", "entropy"]},
        "target": 1.0,
    },
}


def run_hpstudio(case: dict[str, Any], jobs: int, folder: Path) -> tuple[float, int, list[float]]:
    spec = StudySpec.from_dict({
        "name": "bench", "data": {"builtin": case["builtin"]},
        "estimator": {"class": case["cls"], "fixed": case["fixed"]},
        "space": [case["grid"]], "cv": {"folds": 5},
    })
    saves: list[float] = []
    with HistoryStore(folder / f"h{time.monotonic_ns()}.db") as store:
        original = store.save_trial

        def timed_save(trial: TrialRecord) -> None:
            start = time.perf_counter()
            original(trial)
            saves.append(time.perf_counter() - start)

        store.save_trial = timed_save  # type: ignore[method-assign]
        start = time.perf_counter()
        outcome = StudyRunner(store, executor=LocalExecutor(jobs)).run(spec)
        wall = time.perf_counter() - start
        stored = len(store.load_trials(outcome.study_id))
    return wall, stored, saves


def run_sklearn(case: dict[str, Any], jobs: int) -> float:
    X, y = case["loader"](return_X_y=True)
    start = time.perf_counter()
    GridSearchCV(case["estimator"](**case["fixed"]), case["grid"], cv=5, n_jobs=jobs).fit(X, y)
    return time.perf_counter() - start


def persistence_cost(folder: Path, n: int = 500) -> float:
    """Median seconds to commit one 5-fold trial to hpstudio's history."""
    with HistoryStore(folder / "persist.db") as store:
        study = store.create_study({"name": "p", "estimator": {"class": "x"}, "search": {}},
                                   base_dir=None, n_total=n, data_fingerprint=None, dataset="-")
        times = []
        for number in range(n):
            folds = tuple(FoldResult(number, k, {"score": 0.9}, {"score": 0.95}, 0.1, 0.01, 0.0,
                                     1.0, "1")
                          for k in range(5))
            trial = TrialRecord(study, number, {"C": 1.0 * number, "kernel": "rbf"},
                                TrialState.COMPLETE, {"score": (0.9,) * 5},
                                {"score": (0.95,) * 5}, (0.1,) * 5,
                                (0.01,) * 5, 0.0, 1.0, folds=folds)
            start = time.perf_counter()
            store.save_trial(trial)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def optuna_persistence_cost(folder: Path, n: int = 100) -> float | None:
    """Median seconds for Optuna to record one finished trial in its SQLite storage."""
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{folder / 'optuna.db'}")
    times = []
    for _ in range(n):
        trial = study.ask({"C": optuna.distributions.FloatDistribution(1e-3, 1e3, log=True)})
        start = time.perf_counter()
        study.tell(trial, 0.9)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_of(label: str, values: list[float]) -> float:
    value = statistics.median(values)
    print(f"    {label:<9} median {value:7.3f} s   runs: {', '.join(f'{v:.3f}' for v in values)}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, case in CASES.items():
            print(f"{name} candidates x folds, {args.jobs} workers, {args.repeats} runs each")
            ours: list[float] = []
            theirs: list[float] = []
            saves: list[float] = []
            run_hpstudio(case, args.jobs, folder)  # warm both worker pools first
            run_sklearn(case, args.jobs)
            expected = len(ParameterGrid(case["grid"]))
            for _ in range(args.repeats):
                wall, stored, trial_saves = run_hpstudio(case, args.jobs, folder)
                assert stored == expected, f"{stored} of {expected} trials persisted"
                ours.append(wall)
                saves.extend(trial_saves)
                theirs.append(run_sklearn(case, args.jobs))
            ratio = median_of("hpstudio", ours) / median_of("sklearn", theirs)
            verdict = "ok" if ratio <= case["target"] else "ABOVE TARGET"
            print(f"    ratio hpstudio/sklearn {ratio:.3f} (target <= {case['target']}: "
                  f"{verdict}); all {expected} trials persisted in every run; "
                  f"median save in-run {statistics.median(saves) * 1e3:.3f} ms")
        cost = persistence_cost(folder)
        print(f"persistence per 5-fold trial: hpstudio {cost * 1e3:.3f} ms (target <= 1 ms)")
        optuna_cost = optuna_persistence_cost(folder)
        if optuna_cost is not None:
            print(f"                             Optuna RDB/SQLite {optuna_cost * 1e3:.3f} ms "
                  f"(x{optuna_cost / cost:.0f})")


if __name__ == "__main__":
    main()

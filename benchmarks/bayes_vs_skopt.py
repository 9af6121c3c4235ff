"""hpstudio's Bayesian search against scikit-optimize's ``BayesSearchCV``, side by side.

Both search the same space with the same number of trials, folds and worker processes,
alternating in one process so that machine load hits both alike, and the script prints:

* wall time per study (median of ``--repeats``) and the ratio hpstudio / BayesSearchCV;
* how idle the workers were. For both, from the fit and score times of every fold:
  ``1 - Σ(fit + score) / (workers × wall)``; for hpstudio also from the stored timeline
  (table ``folds``: started/finished per worker), which counts a worker busy from the
  moment it picked a fold up;
* the time the strategy needs for a suggestion after 25, 100 and 200 told trials: what
  ``ask()`` costs the study loop (a queued suggestion is handed out), what computing one
  costs the background thread, and, for reference, what skopt's ``Optimizer`` spends in
  ``tell`` (refit + acquisition) before each ask, as ``BayesSearchCV`` does every iteration
  (both with single-threaded BLAS, which is faster for matrices this small).

Configurations: ``svc`` is SVC on digits with C log-uniform in [1e-3, 1e3] and gamma in
[1e-5, 1e-1] (fits of 0.05-0.2 s); ``forest`` is a random forest on digits whose fits take
0.3-1 s, where the idle-fraction target (≤ 5 %) applies.

``--quality`` adds the search-quality claim on the full problem: the best 5-fold accuracy
after 30 Bayesian trials (over 5 seeds) against random search and an exhaustive 15×15 log
grid.

    python benchmarks/bayes_vs_skopt.py                         # svc and forest, 3 repeats
    python benchmarks/bayes_vs_skopt.py --config svc --repeats 1 --trials 15
    python benchmarks/bayes_vs_skopt.py --no-race --quality     # only the quality figures
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.executor import LocalExecutor
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.space import FloatRange
from hpstudio.core.spec import SearchSpec, StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.strategies.bayes import BayesStrategy
from hpstudio.core.study import StudyRunner

# name -> (estimator, fixed parameters, {parameter: (low, high, log)})
CONFIGS: dict[str, tuple[str, dict[str, Any], dict[str, tuple[float, float, bool]]]] = {
    "svc": ("sklearn.svm.SVC", {},
            {"C": (1e-3, 1e3, True), "gamma": (1e-5, 1e-1, True)}),
    "forest": ("sklearn.ensemble.RandomForestClassifier",
               {"n_estimators": 150, "random_state": 0},
               {"max_depth": (4, 30, False), "max_features": (0.1, 0.6, False),
                "min_samples_leaf": (1, 8, False)}),
}


@dataclass(frozen=True)
class Run:
    wall: float
    best: float
    idle_fit: float  # 1 - Σ(fit + score) / (workers × wall)
    idle_timeline: float = math.nan  # hpstudio only: from each fold's start/finish


# ----- the two contenders ---------------------------------------------------------------------


def hpstudio_spec(config: str, trials: int, folds: int, seed: int,
                  strategy: str = "bayes") -> StudySpec:
    estimator, fixed, space = CONFIGS[config]
    raw_space = {name: {"low": low, "high": high, "log": log}
                 for name, (low, high, log) in space.items()}
    return StudySpec.from_dict({
        "name": f"{config}-{strategy}-{seed}", "data": {"builtin": "digits"},
        "estimator": {"class": estimator, "fixed": fixed}, "space": [raw_space],
        "cv": {"folds": folds},
        "search": {"strategy": strategy, "n_trials": trials, "seed": seed},
    })


def run_hpstudio(config: str, trials: int, folds: int, jobs: int, seed: int,
                 folder: Path, executor: LocalExecutor, strategy: str = "bayes") -> Run:
    spec = hpstudio_spec(config, trials, folds, seed, strategy)
    db = folder / f"{spec.name}-{time.monotonic_ns()}.db"
    with HistoryStore(db) as store:
        started = time.perf_counter()
        outcome = StudyRunner(store, executor=executor).run(spec)
        wall = time.perf_counter() - started
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT fit_time, score_time, started, finished FROM folds").fetchall()
    finally:
        conn.close()
    fitting = sum(fit + score for fit, score, _, _ in rows)
    busy = sum(finished - begun for _, _, begun, finished in rows)
    assert outcome.best is not None
    return Run(wall, outcome.best.mean_test_score, 1 - fitting / (jobs * wall),
               1 - busy / (jobs * wall))


def run_skopt(config: str, trials: int, folds: int, jobs: int, seed: int,
              n_points: int) -> Run:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold
    from skopt import BayesSearchCV
    from skopt.space import Integer, Real

    from hpstudio.core.estimators import resolve_estimator_class

    estimator, fixed, space = CONFIGS[config]
    dims = {}
    for name, (low, high, log) in space.items():
        prior = "log-uniform" if log else "uniform"
        if isinstance(low, int) and isinstance(high, int):
            dims[name] = Integer(low, high, prior=prior)
        else:
            dims[name] = Real(low, high, prior=prior)
    X, y = load_digits(return_X_y=True)
    search = BayesSearchCV(resolve_estimator_class(estimator)(**fixed), dims, n_iter=trials,
                           cv=StratifiedKFold(folds), n_jobs=jobs, n_points=n_points,
                           refit=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        search.fit(X, y)
        wall = time.perf_counter() - started
    results = search.cv_results_
    fitting = float(np.sum(results["mean_fit_time"] + results["mean_score_time"])) * folds
    return Run(wall, float(np.max(results["mean_test_score"])), 1 - fitting / (jobs * wall))


# ----- suggestion latency ---------------------------------------------------------------------

SVC_SPACE = [{"C": FloatRange(1e-3, 1e3, log=True), "gamma": FloatRange(1e-5, 1e-1, log=True)}]


def bowl(params: dict[str, Any]) -> float:
    return -((math.log10(params["C"]) - 1) ** 2 + (math.log10(params["gamma"]) + 3) ** 2)


def synthetic(number: int, params: dict[str, Any]) -> TrialRecord:
    return TrialRecord(1, number, params, TrialState.COMPLETE, {"score": (bowl(params),)}, None,
                       (0.1,),
                       (0.01,), 0.0, 1.0)


def suggestion_times(told: int, asks: int) -> tuple[float, float, float]:
    """(ask() latency, background compute per suggestion, skopt tell+ask), medians, seconds."""
    rng = np.random.default_rng(told)
    finished = []
    for number in range(told):
        params = {"C": float(10 ** rng.uniform(-3, 3)), "gamma": float(10 ** rng.uniform(-5, -1))}
        finished.append(synthetic(number, params))
    strategy = BayesStrategy(SVC_SPACE, SearchSpec(strategy="bayes", n_trials=told + asks + 5,
                                                   seed=0))
    strategy.restore(finished)
    strategy.wait_until_ready(120)
    latencies = []
    computed_before = len(strategy._engine.compute_seconds)
    for _ in range(asks):
        started = time.perf_counter()
        candidate = strategy.ask()
        latencies.append(time.perf_counter() - started)
        assert candidate is not None
        strategy.tell(synthetic(candidate.number, candidate.params))
        strategy.wait_until_ready(120)
    computes = strategy._engine.compute_seconds[computed_before:]
    strategy.close()

    from skopt import Optimizer
    from skopt.space import Real
    from threadpoolctl import threadpool_limits

    skopt_times = []
    for repeat in range(max(3, asks // 2)):
        opt = Optimizer([Real(1e-3, 1e3, prior="log-uniform"),
                         Real(1e-5, 1e-1, prior="log-uniform")], random_state=repeat)
        X = [[t.params["C"], t.params["gamma"]] for t in finished]
        y = [-t.mean_test_score for t in finished]
        with warnings.catch_warnings(), threadpool_limits(1, "blas"):  # as hpstudio's thread
            warnings.simplefilter("ignore")
            opt.tell(X[:-1], y[:-1], fit=False)
            started = time.perf_counter()
            opt.tell(X[-1], y[-1])  # what BayesSearchCV does after each iteration
            opt.ask()
            skopt_times.append(time.perf_counter() - started)
    return (statistics.median(latencies), statistics.median(computes),
            statistics.median(skopt_times))


# ----- search quality ---------------------------------------------------------------------------


def quality(seeds: int, trials: int, folds: int, jobs: int, folder: Path,
            executor: LocalExecutor) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    print(f"\nsearch quality: SVC on digits, {folds}-fold accuracy, best after {trials} trials")
    X, y = load_digits(return_X_y=True)
    started = time.perf_counter()
    grid = GridSearchCV(SVC(), {"C": np.geomspace(1e-3, 1e3, 15),
                                "gamma": np.geomspace(1e-5, 1e-1, 15)},
                        cv=StratifiedKFold(folds), n_jobs=jobs).fit(X, y)
    grid_best = float(grid.best_score_)
    print(f"  15×15 log grid (225 trials): best {grid_best:.4f} "
          f"({time.perf_counter() - started:.0f} s)")
    best: dict[str, list[float]] = {"bayes": [], "random": []}
    for seed in range(seeds):
        for strategy in ("bayes", "random"):
            run = run_hpstudio("svc", trials, folds, jobs, seed, folder, executor, strategy)
            best[strategy].append(run.best)
        print(f"  seed {seed}: bayes {best['bayes'][-1]:.4f}  random {best['random'][-1]:.4f}",
              flush=True)
    bayes, random = statistics.median(best["bayes"]), statistics.median(best["random"])
    print(f"  median best: bayes {bayes:.4f}, random {random:.4f}, grid {grid_best:.4f}")
    print(f"  bayes within 0.005 of the grid: {bayes >= grid_best - 0.005} "
          f"(gap {grid_best - bayes:+.4f}); bayes ≥ random: {bayes >= random}")


# ----- the race -------------------------------------------------------------------------------


def race(config: str, repeats: int, trials: int, folds: int, jobs: int, n_points: int,
         folder: Path, executor: LocalExecutor) -> None:
    print(f"\n{config}: {trials} trials × {folds} folds on {jobs} workers, {repeats} repeats "
          f"(BayesSearchCV n_points={n_points})", flush=True)
    run_hpstudio(config, 3, folds, jobs, 99, folder, executor)  # start the workers
    run_skopt(config, 3, folds, jobs, 99, n_points)
    ours: list[Run] = []
    theirs: list[Run] = []
    for repeat in range(repeats):
        order = ("hpstudio", "skopt") if repeat % 2 == 0 else ("skopt", "hpstudio")
        for who in order:
            if who == "hpstudio":
                ours.append(run_hpstudio(config, trials, folds, jobs, repeat, folder, executor))
            else:
                theirs.append(run_skopt(config, trials, folds, jobs, repeat, n_points))
            last = ours[-1] if who == "hpstudio" else theirs[-1]
            print(f"  repeat {repeat} {who:<9} {last.wall:6.1f} s  best {last.best:.4f}",
                  flush=True)
    med = statistics.median
    rows = [
        ("", "hpstudio", "BayesSearchCV"),
        ("wall s (median)", f"{med(r.wall for r in ours):.1f}",
         f"{med(r.wall for r in theirs):.1f}"),
        ("idle, fit+score", _pct(med(r.idle_fit for r in ours)),
         _pct(med(r.idle_fit for r in theirs))),
        ("idle, timeline", _pct(med(r.idle_timeline for r in ours)), "-"),
        ("best (median)", f"{med(r.best for r in ours):.4f}",
         f"{med(r.best for r in theirs):.4f}"),
    ]
    _table(rows)
    ratio = med(r.wall for r in ours) / med(r.wall for r in theirs)
    print(f"  wall ratio hpstudio / BayesSearchCV: {ratio:.2f} (target ≤ 0.70)")


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.rjust(w) if i else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="svc,forest",
                        help="comma-separated: svc, forest (default: both)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--n-points", type=int, default=1,
                        help="BayesSearchCV candidates per iteration (default 1, its default)")
    parser.add_argument("--asks", type=int, default=7, help="asks timed per trial count")
    parser.add_argument("--no-race", action="store_true", help="skip the wall-time race")
    parser.add_argument("--no-latency", action="store_true", help="skip suggestion timing")
    parser.add_argument("--quality", action="store_true",
                        help="also the grid / bayes / random quality figures (minutes)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds for --quality")
    args = parser.parse_args(argv)

    executor = LocalExecutor(args.jobs)
    with tempfile.TemporaryDirectory(prefix="hpstudio-bench-") as tmp:
        folder = Path(tmp)
        if not args.no_latency:
            print("suggestion time on the SVC space (medians)")
            rows = [("told trials", "ask()", "compute (background)", "skopt tell+ask")]
            for told in (25, 100, 200):
                ask, compute, skopt = suggestion_times(told, args.asks)
                rows.append((str(told), f"{1e3 * ask:.3f} ms", f"{1e3 * compute:.1f} ms",
                             f"{1e3 * skopt:.0f} ms"))
            _table(rows)
        if not args.no_race:
            for config in args.config.split(","):
                race(config.strip(), args.repeats, args.trials, args.folds, args.jobs,
                     args.n_points, folder, executor)
        if args.quality:
            quality(args.seeds, args.trials, args.folds, args.jobs, folder, executor)
    return 0


if __name__ == "__main__":
    sys.exit(main())

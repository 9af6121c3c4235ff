"""Time to the best model: exhaustive search, successive halving and pruning, in one run.

On the California housing CSV (hpstudio's CSV preprocessing inside every fold, on both
sides), two grids of random forests are searched with 5 folds on 2 workers by:

* scikit-learn's ``GridSearchCV`` (the exhaustive reference: it scores every candidate on
  the full budget, so it also tells the full-budget score of whatever another method picks);
* ``HalvingGridSearchCV`` with the rows as the budget, and with the trees as the budget
  (not possible when the grid searches ``n_estimators`` itself), both with scikit-learn's
  default rungs and, for trees, also from 7 trees (two rungs: 7 -> 21);
* Optuna's TPE sampler with its median pruner, fold by fold, as many trials as candidates;
* hpstudio: the exhaustive grid, successive halving with ``resource = "auto"``
  synchronous (scikit-learn's rungs; a candidate certain of its promotion starts at once),
  synchronous with a barrier at each rung (as scikit-learn waits), and asynchronous; and
  synchronous and asynchronous from 7 trees, the rungs of the second trees budget.

For each it prints the wall time, its ratio to GridSearchCV, the candidate it picks, that
candidate's full-budget score and its gap to the exhaustive best; then the targets: halving
with ``resource = "auto"`` within 0.5 % of the best in at most 0.8 x the better
HalvingGridSearchCV's time, and asynchronous in at most 0.8 x synchronous; and how the
asynchronous choices differ from the synchronous ones.

    python benchmarks/time_to_best.py [--quick] [--shuffle] [--jobs 2] [--grids forest24,worked]

``--quick`` runs on 4,000 of the rows (a few minutes instead of a quarter of an hour).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.data import load_dataset, make_preprocessor
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.export import best_trial
from hpstudio.core.spec import DataSpec, StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner

HOUSING = Path("/work/shared/data/housing.csv")
TARGET = "median_house_value"
FOLDS = 5
SHUFFLE = False  # --shuffle: KFold(5, shuffle=True, random_state=0) on every side
TREES_FROM = 7  # a second trees budget: 7 -> 21 trees instead of scikit-learn's 6 -> 18 -> 54
GRIDS: dict[str, dict[str, Any]] = {
    "forest24": {
        "title": "24-candidate forest grid (60 trees)",
        "fixed": {"random_state": 0, "n_estimators": 60},
        "space": [{"max_features": [2, 4, 6, 8], "min_samples_leaf": [1, 3, 10],
                   "max_depth": [None, 12]}],
        "metric": None,  # the forest's own score, r2
        "trees": 60,
    },
    "worked": {
        "title": "the worked example's grid (forest-diabetes.toml's space)",
        "fixed": {"random_state": 0},
        "space": [{"n_estimators": [3, 10, 30], "max_features": [2, 4, 6, 8]},
                  {"bootstrap": [False], "n_estimators": [3, 10], "max_features": [2, 3, 4]}],
        "metric": "neg_mean_squared_error",
        "trees": None,  # n_estimators is searched: it cannot be the budget
    },
}


@dataclass
class Result:
    method: str
    wall: float | None  # None: not applicable
    params: dict[str, Any] | None = None
    note: str = ""
    to_pick: float | None = None  # seconds until the picked trial had finished
    per_rung: list[int] = field(default_factory=list)


def folds() -> Any:
    """The splitter every method uses: scikit-learn's default for a regressor (the CSV's
    row order, which is geographic, so a fold is a region), or the rows shuffled."""
    from sklearn.model_selection import KFold

    return KFold(FOLDS, shuffle=True, random_state=0) if SHUFFLE else KFold(FOLDS)


def key(params: dict[str, Any]) -> str:
    return json.dumps({k: params[k] for k in sorted(params)}, default=str)


# ----- scikit-learn -------------------------------------------------------------------------


COLUMNS: dict[str, tuple[str, ...]] = {}  # the CSV's numeric and categorical columns


def sklearn_setup(X: Any, case: dict[str, Any]) -> tuple[Any, list[dict[str, list[Any]]]]:
    """hpstudio's preprocessing and the forest as a scikit-learn pipeline."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline

    numeric, categorical = COLUMNS["numeric"], COLUMNS["categorical"]
    pipe = Pipeline([("preprocess", make_preprocessor(numeric, categorical)),
                     ("model", RandomForestRegressor(**case["fixed"]))])
    grid = [{f"model__{k}": v for k, v in sub.items()} for sub in case["space"]]
    return pipe, grid


def unprefixed(params: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix("model__"): v for k, v in params.items()}


def run_grid_search(X: Any, y: Any, case: dict[str, Any], jobs: int) -> tuple[Result, dict]:
    from sklearn.model_selection import GridSearchCV

    pipe, grid = sklearn_setup(X, case)
    start = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=folds(), scoring=case["metric"], n_jobs=jobs).fit(X, y)
    wall = time.perf_counter() - start
    scores = {key(unprefixed(p)): s for p, s in zip(search.cv_results_["params"],
                                                    search.cv_results_["mean_test_score"],
                                                    strict=True)}
    return Result("GridSearchCV", wall, unprefixed(search.best_params_)), scores


def run_halving_search(X: Any, y: Any, case: dict[str, Any], jobs: int,
                       resource: str, min_resources: int | None = None) -> Result:
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    name = f"HalvingGridSearchCV ({'rows' if resource == 'n_samples' else 'trees'}"
    name += f" from {min_resources})" if min_resources else ")"
    if resource != "n_samples" and case["trees"] is None:
        return Result(name, None, note="n/a: the grid searches n_estimators")
    pipe, grid = sklearn_setup(X, case)
    extra: dict[str, Any] = {} if resource == "n_samples" else {"max_resources": case["trees"]}
    if min_resources:
        extra["min_resources"] = min_resources
    start = time.perf_counter()
    search = HalvingGridSearchCV(pipe, grid, cv=folds(), scoring=case["metric"], n_jobs=jobs,
                                 resource=resource, random_state=0, **extra).fit(X, y)
    wall = time.perf_counter() - start
    params = unprefixed(search.best_params_)
    if resource != "n_samples":
        params.pop("n_estimators", None)  # the budget, not a choice
    return Result(name, wall, params, per_rung=list(search.n_candidates_),
                  note=f"rungs {search.n_resources_}")


def run_optuna(X: Any, y: Any, case: dict[str, Any], jobs: int) -> Result:
    import optuna
    from sklearn.base import clone
    from sklearn.metrics import check_scoring

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pipe, _ = sklearn_setup(X, case)
    scorer = check_scoring(pipe, scoring=case["metric"])
    splits = list(folds().split(X, y))
    space = case["space"]
    n_candidates = sum(math.prod(len(v) for v in sub.values()) for sub in space)

    def objective(trial: Any) -> float:
        index = trial.suggest_categorical("subspace", list(range(len(space)))) \
            if len(space) > 1 else 0
        params = {name: trial.suggest_categorical(f"{index}:{name}", values)
                  for name, values in space[index].items()}
        trial.set_user_attr("params", params)
        model = clone(pipe).set_params(**{f"model__{k}": v for k, v in params.items()})
        scores = []
        for k, (train, test) in enumerate(splits):
            model.fit(X.iloc[train], y[train])
            scores.append(scorer(model, X.iloc[test], y[test]))
            trial.report(float(np.mean(scores)), k)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.MedianPruner())
    start = time.perf_counter()
    study.optimize(objective, n_trials=n_candidates, n_jobs=jobs)
    wall = time.perf_counter() - start
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    return Result("Optuna TPE + median pruner", wall, study.best_trial.user_attrs["params"],
                  note=f"{pruned} of {n_candidates} trials pruned")


# ----- hpstudio -----------------------------------------------------------------------------


def hpstudio_spec(csv: Path, case: dict[str, Any], search: dict[str, Any]) -> StudySpec:
    return StudySpec.from_dict({
        "name": "time-to-best", "data": {"csv": str(csv), "target": TARGET},
        "estimator": {"class": "sklearn.ensemble.RandomForestRegressor",
                      "fixed": case["fixed"]},
        "space": case["space"],
        "cv": {"folds": FOLDS, "shuffle": SHUFFLE, "seed": 0 if SHUFFLE else None},
        "scoring": {"metric": case["metric"]} if case["metric"] else {},
        "search": {"reuse": False, **search}})


def run_hpstudio(csv: Path, case: dict[str, Any], jobs: int, folder: Path, name: str,
                 search: dict[str, Any], barrier: bool = False) -> Result:
    import hpstudio.core.strategies.halving as halving

    spec = hpstudio_spec(csv, case, search)
    logged: list[str] = []
    original = halving.make_halving
    if barrier:  # scikit-learn's waiting at every rung's end, for comparison
        halving.make_halving = lambda s, space: halving.HalvingStrategy(s, space, eager=False)
    try:
        with HistoryStore(folder / f"h{time.monotonic_ns()}.db") as store:
            start_clock = time.time()
            start = time.perf_counter()
            outcome = StudyRunner(store, executor=LocalExecutor(jobs),
                                  listener=lambda e: logged.append(getattr(e, "message", "")
                                                                   or "")).run(spec)
            wall = time.perf_counter() - start
            trials = store.load_trials(outcome.study_id)
    finally:
        halving.make_halving = original
    best = best_trial(trials)
    assert best is not None
    params = {k: v for k, v in best.params.items()
              if not (best.budget is not None and k == best.budget.resource)}
    rungs = [sum(1 for t in trials if t.rung == r) for r in range(max(t.rung for t in trials) + 1)]
    notes = [line for line in logged if "auto" in line or "asynchronous halving" in line
             or "promotion" in line or "Spearman" in line]
    return Result(name, wall, params, to_pick=best.finished - start_clock, per_rung=rungs,
                  note=" | ".join(notes))


# ----- the run ------------------------------------------------------------------------------


def run_case(name: str, case: dict[str, Any], csv: Path, jobs: int, folder: Path) -> None:
    dataset = load_dataset(DataSpec(csv=str(csv), target=TARGET))
    X, y = dataset.X, dataset.y
    COLUMNS.update(numeric=dataset.numeric_columns, categorical=dataset.categorical_columns)
    order = "shuffled" if SHUFFLE else "in the file's order"
    print(f"\n== {case['title']}: {len(y):,} rows, {FOLDS} folds ({order}), {jobs} workers ==",
          flush=True)
    results: list[Result] = []
    reference, full_scores = run_grid_search(X, y, case, jobs)
    results.append(reference)
    runs: list[Callable[[], Result]] = [
        lambda: run_halving_search(X, y, case, jobs, "n_samples"),
        lambda: run_halving_search(X, y, case, jobs, "model__n_estimators"),
        # two rungs, 7 -> 21 trees: fewer fits, and 8 candidates instead of 3 at the last rung
        lambda: run_halving_search(X, y, case, jobs, "model__n_estimators", TREES_FROM),
        lambda: run_optuna(X, y, case, jobs),
        lambda: run_hpstudio(csv, case, jobs, folder, "hpstudio grid", {"strategy": "grid"}),
        lambda: run_hpstudio(csv, case, jobs, folder, "hpstudio halving auto, sync",
                             {"strategy": "halving-grid", "resource": "auto", "seed": 0}),
        lambda: run_hpstudio(csv, case, jobs, folder, "hpstudio halving auto, sync barrier",
                             {"strategy": "halving-grid", "resource": "auto", "seed": 0},
                             barrier=True),
        lambda: run_hpstudio(csv, case, jobs, folder, "hpstudio halving auto, async",
                             {"strategy": "halving-grid", "resource": "auto", "seed": 0,
                              "asynchronous": True}),
    ]
    if case["trees"] is not None:  # the same two rungs as HalvingGridSearchCV's from 7
        runs += [lambda mode=mode: run_hpstudio(
            csv, case, jobs, folder, f"hpstudio halving auto from {TREES_FROM}, {mode}",
            {"strategy": "halving-grid", "resource": "auto", "seed": 0,
             "min_resources": TREES_FROM, "asynchronous": mode == "async"})
            for mode in ("sync", "async")]
    for run in runs:
        results.append(run())
        print(f"   ... {results[-1].method}: "
              f"{'n/a' if results[-1].wall is None else f'{results[-1].wall:.1f} s'}",
              flush=True)
    best_score = max(full_scores.values())
    grid_wall = reference.wall or math.nan
    print(f"{'method':<38} {'wall s':>7} {'/grid':>6} {'full-budget score':>18} "
          f"{'gap %':>6}  picks")
    gaps: dict[str, float] = {}
    for r in results:
        if r.wall is None:
            print(f"{r.method:<38} {'—':>7} {'':>6} {'':>18} {'':>6}  {r.note}")
            continue
        score = full_scores.get(key(r.params or {}), math.nan)
        gap = 100 * (best_score - score) / abs(best_score)
        gaps[r.method] = gap
        extra = f" (pick done at {r.to_pick:.1f} s)" if r.to_pick is not None else ""
        print(f"{r.method:<38} {r.wall:7.1f} {r.wall / grid_wall:6.2f} {score:18.6g} "
              f"{gap:6.2f}  {key(r.params or {})}{extra}")
        if r.per_rung:
            print(f"{'':<38} trials per rung {r.per_rung}  {r.note}")
        elif r.note:
            print(f"{'':<38} {r.note}")
    by = {r.method: r for r in results}
    halvings = [r.wall for r in results if r.method.startswith("Halving") and r.wall]
    better = min(halvings) if halvings else math.nan
    modes = [f"auto{suffix}, {mode}" for suffix in ("", f" from {TREES_FROM}")
             for mode in ("sync", "async")]
    for mode in (m for m in modes if f"hpstudio halving {m}" in by):
        r = by[f"hpstudio halving {mode}"]
        assert r.wall is not None
        ok_score = gaps[r.method] <= 0.5
        ok_time = r.wall <= 0.8 * better
        print(f"target ({mode}): within 0.5 % of the best: {gaps[r.method]:.2f} % "
              f"{'ok' if ok_score else 'MISSED'}; wall {r.wall:.1f} s = "
              f"{r.wall / better:.2f} x the better HalvingGridSearchCV ({better:.1f} s), "
              f"target <= 0.8: {'ok' if ok_time else 'MISSED'}")
    sync, barrier = by["hpstudio halving auto, sync"], by["hpstudio halving auto, sync barrier"]
    asyn = by["hpstudio halving auto, async"]
    assert sync.wall and asyn.wall and barrier.wall
    print(f"target: async / sync = {asyn.wall / sync.wall:.2f} (<= 0.8: "
          f"{'ok' if asyn.wall <= 0.8 * sync.wall else 'MISSED'}); async / sync with a "
          f"barrier at each rung = {asyn.wall / barrier.wall:.2f}")
    same = key(asyn.params or {}) == key(sync.params or {})
    print(f"async vs sync: trials per rung {asyn.per_rung} vs {sync.per_rung}; "
          f"{'the same pick' if same else 'a different pick'}")


def simulate(workers: int, mode: str, n_candidates: int = 24, seed: int = 0) -> tuple[float, int]:
    """Makespan (in units of one fold on one tree) and trials of halving on a simulated
    objective: ``workers`` workers, fold-sized tasks, costs proportional to the budget.

    Real fits on 2 cores cannot show what asynchronous rungs are for (many workers, few
    candidates per rung); this replays the strategies themselves at any worker count."""
    import heapq

    from hpstudio.core.records import TrialRecord, TrialState
    from hpstudio.core.space import Values
    from hpstudio.core.spec import SearchSpec
    from hpstudio.core.strategies.base import StudyFacts
    from hpstudio.core.strategies.halving import AsyncHalvingStrategy, HalvingStrategy

    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n_candidates)
    cost = rng.uniform(0.5, 2.0, size=n_candidates)  # some candidates fit slower
    search = SearchSpec(strategy="halving-grid", resource="n_estimators", max_resources=60,
                        asynchronous=mode == "async")
    space = [{"x": Values(tuple(range(n_candidates)))}]
    strategy: Any = (AsyncHalvingStrategy(search, space) if mode == "async" else
                     HalvingStrategy(search, space, eager=mode == "sync"))
    strategy.bind(StudyFacts(10_000, FOLDS, estimator_params={"n_estimators": 60}))
    now, free, queue, events, done, trials = 0.0, workers, [], [], {}, 0
    order = 0
    while True:
        while len(queue) + workers - free < 2 * workers:  # as the loop: two waves in flight
            strategy.note_backlog(len(queue) + workers - free, workers)
            candidate = strategy.ask()
            if candidate is None:
                break
            trials += 1
            queue += [candidate] * FOLDS
        while free and queue:
            candidate = queue.pop(0)
            free -= 1
            order += 1
            heapq.heappush(events, (now + cost[candidate.number] * candidate.budget.amount,
                                    order, candidate))
        if not events:
            return now, trials
        now, _, candidate = heapq.heappop(events)
        free += 1
        done[candidate.key] = done.get(candidate.key, 0) + 1
        if done[candidate.key] == FOLDS:
            amount = candidate.budget.amount
            score = truth[candidate.number] + rng.normal() / math.sqrt(amount)
            strategy.tell(TrialRecord(1, candidate.number, candidate.params,
                                      TrialState.COMPLETE, {"score": (score,) * FOLDS}, None,
                                      (0.0,) * FOLDS, (0.0,) * FOLDS, 0.0, now,
                                      rung=candidate.rung, budget=candidate.budget))


def print_simulation() -> None:
    print("\n== asynchronous rungs by worker count (simulated: 24 candidates, 6 → 18 → 54 "
          "budget, 5 folds, fit cost proportional to budget x a per-candidate factor) ==")
    print(f"{'workers':>8} {'sync barrier':>13} {'sync':>8} {'async':>8} {'async/sync':>11} "
          f"{'async trials':>13}")
    for workers in (2, 4, 8, 16, 32):
        spans = {mode: statistics.median(simulate(workers, mode, seed=s)[0] for s in range(5))
                 for mode in ("barrier", "sync", "async")}
        trials = statistics.median(simulate(workers, "async", seed=s)[1] for s in range(5))
        print(f"{workers:>8} {spans['barrier']:13.0f} {spans['sync']:8.0f} "
              f"{spans['async']:8.0f} {spans['async'] / spans['sync']:11.2f} {trials:13.0f}")


def subsample(csv: Path, rows: int, folder: Path) -> Path:
    import pandas as pd

    frame = pd.read_csv(csv)
    path = folder / f"housing-{rows}.csv"
    frame.sample(n=min(rows, len(frame)), random_state=0).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,000 rows instead of 20,640")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--grids", default=",".join(GRIDS))
    parser.add_argument("--shuffle", action="store_true",
                        help="shuffled folds (seed 0) instead of the rows in the file's order")
    parser.add_argument("--simulate-only", action="store_true",
                        help="only the simulated comparison of the rung modes")
    args = parser.parse_args()
    global SHUFFLE
    SHUFFLE = args.shuffle
    started = time.perf_counter()
    print_simulation()
    if args.simulate_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = subsample(HOUSING, 4000, folder) if args.quick else HOUSING
        for name in args.grids.split(","):
            run_case(name, GRIDS[name], csv, args.jobs, folder)
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

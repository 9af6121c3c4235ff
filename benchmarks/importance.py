"""Timings of the fANOVA parameter importance on synthetic random searches.

For 1,000, 10,000 and 100,000 trials of a 4-parameter study (a log-scaled float, an
int, a three-way categorical and a float missing from a third of the trials, as a
sub-space would leave it), prints the median wall and process CPU seconds of
``fanova_importances`` over a few runs, the trials the forest was fitted on, and the
shares, next to Optuna's fANOVA on the first ``--optuna`` trials for scale. The first
call also loads scikit-learn (about a second on a laptop), which is timed apart.

Target: under 1 s at 100,000 trials (the work is capped at ``DEFAULT_MAX_TRIALS``
trials, so it is flat beyond that).

Run:  python benchmarks/importance.py [--sizes 1000 10000 100000] [--repeat 3]
      [--optuna 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hpstudio.core.importance import (
    DEFAULT_MAX_TRIALS,
    ParameterValues,
    fanova_importances,
)

TARGET_S = 1.0


def synthetic_study(n: int, seed: int = 0) -> tuple[list[ParameterValues], np.ndarray]:
    rng = np.random.default_rng(seed)
    c = 10 ** rng.uniform(-3, 3, n)
    depth = rng.integers(1, 21, n).astype(float)
    kind = rng.integers(0, 3, n).astype(float)
    tol = np.where(rng.uniform(size=n) < 2 / 3, rng.uniform(0, 1, n), np.nan)
    score = (0.9 - 0.1 * (np.log10(c) - 1) ** 2 / 16 + 0.03 * depth / 20
             + np.array([0.0, 0.02, -0.01])[kind.astype(int)] + 0.003 * rng.normal(size=n))
    params = [ParameterValues("C", c, log=True), ParameterValues("max_depth", depth),
              ParameterValues("kind", kind, categorical=True), ParameterValues("tol", tol)]
    return params, score


def timed(params: list[ParameterValues], score: np.ndarray) -> tuple[float, float, object]:
    w0, c0 = time.perf_counter(), time.process_time()
    result = fanova_importances(params, score)
    return time.perf_counter() - w0, time.process_time() - c0, result


def optuna_seconds(params: list[ParameterValues], score: np.ndarray) -> float:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    numeric = [p for p in params if not p.categorical and np.isfinite(p.values).all()]
    dists = {p.name: FloatDistribution(float(p.values.min()), float(p.values.max()))
             for p in numeric}
    dists["kind"] = CategoricalDistribution([0, 1, 2])
    kind = next(p for p in params if p.name == "kind").values.astype(int)
    trials = [optuna.trial.create_trial(
        params={**{p.name: float(p.values[i]) for p in numeric}, "kind": int(kind[i])},
        distributions=dists, value=float(score[i])) for i in range(len(score))]
    study = optuna.create_study(direction="maximize")
    study.add_trials(trials)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0),
                              normalize=False)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--optuna", type=int, default=300,
                        help="trials for Optuna's own fANOVA, for scale (0: skip)")
    args = parser.parse_args()

    w0 = time.perf_counter()
    import sklearn.ensemble  # noqa: F401  (the one-off load, timed apart)
    print(f"loading scikit-learn: {time.perf_counter() - w0:.2f} s (first call only)")
    print(f"trial cap: {DEFAULT_MAX_TRIALS:,}")
    print(f"{'trials':>8}{'used':>7}{'wall s':>9}{'cpu s':>8}  shares")
    for n in args.sizes:
        params, score = synthetic_study(n)
        runs = [timed(params, score) for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        result = runs[0][2]
        shares = ", ".join(f"{k} {v:.3f}" for k, v in result.shares.items())
        flag = "" if wall < TARGET_S or n < 100_000 else f"  over the {TARGET_S:g} s target"
        print(f"{n:>8,}{result.n_used:>7,}{wall:>9.3f}{cpu:>8.3f}  {shares}{flag}")
    if args.optuna:
        params, score = synthetic_study(args.optuna)
        print(f"Optuna's FanovaImportanceEvaluator on {args.optuna:,} trials: "
              f"{optuna_seconds(params, score):.2f} s (hpstudio: {timed(params, score)[0]:.3f} s)")


if __name__ == "__main__":
    main()

"""Where the exhaustive best ranks when candidates are scored on fewer trees.

Successive halving with the trees as the budget can only pick the best model if the best
survives the first rungs, where every candidate is scored on a handful of trees. This
script measures that directly on the 24-candidate forest grid of ``time_to_best.py``: each
candidate is fitted once per fold with all 60 trees, and the forest of its first ``k``
trees (which is exactly the ``k``-tree forest a fresh fit with the same ``random_state``
makes; checked below) is scored for every ``k`` a halving rung uses. It prints, for each
``k``, the rank of the 60-tree best among the 24 and whether it is in the top third, the
share halving with ``factor = 3`` keeps; for the folds in the file's order and shuffled.

    python benchmarks/budget_ranks.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

import numpy as np
import time_to_best as bench
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold

from hpstudio.core.data import load_dataset
from hpstudio.core.spec import DataSpec

TREE_COUNTS = (6, 7, 12, 18, 21, 36, 54, 60)  # the rungs of the budgets compared


def tree_predictions(pipe: Any, params: dict[str, Any], X: Any, y: Any,
                     train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Every tree's predictions on the test rows (trees x rows)."""
    model = clone(pipe).set_params(**params).fit(X.iloc[train], y[train])
    X_test = model[:-1].transform(X.iloc[test])
    return np.stack([tree.predict(X_test) for tree in model[-1].estimators_])


def check_prefix_is_a_forest(pipe: Any, params: dict[str, Any], X: Any, y: Any,
                             split: tuple[np.ndarray, np.ndarray], trees: np.ndarray) -> None:
    """The first 6 trees of the 60 predict as a fresh 6-tree forest does."""
    train, test = split
    small = clone(pipe).set_params(**params, model__n_estimators=6).fit(X.iloc[train],
                                                                        y[train])
    assert np.allclose(small.predict(X.iloc[test]), trees[:6].mean(axis=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    case = bench.GRIDS["forest24"]
    dataset = load_dataset(DataSpec(csv=str(bench.HOUSING), target=bench.TARGET))
    X, y = dataset.X, dataset.y
    bench.COLUMNS.update(numeric=dataset.numeric_columns,
                         categorical=dataset.categorical_columns)
    pipe, grid = bench.sklearn_setup(X, case)
    candidates = [dict(zip(sub, values, strict=True)) for sub in grid
                  for values in itertools.product(*sub.values())]
    for shuffled in (False, True):
        started = time.perf_counter()
        cv = KFold(bench.FOLDS, shuffle=True, random_state=0) if shuffled else KFold(bench.FOLDS)
        splits = list(cv.split(X, y))
        trees = Parallel(n_jobs=args.jobs)(
            delayed(tree_predictions)(pipe, params, X, y, train, test)
            for params in candidates for train, test in splits)
        check_prefix_is_a_forest(pipe, candidates[0], X, y, splits[0], trees[0])
        scores = np.array([[np.mean([r2_score(y[test], trees[c * len(splits) + f][:k].mean(0))
                                     for f, (_, test) in enumerate(splits)])
                            for k in TREE_COUNTS] for c in range(len(candidates))])
        best = int(np.argmax(scores[:, -1]))
        kept = len(candidates) // 3
        order = "shuffled" if shuffled else "in the file's order"
        print(f"\n== folds {order}: the 60-tree best is "
              f"{bench.key(bench.unprefixed(candidates[best]))}, r2 {scores[best, -1]:.4f} "
              f"({time.perf_counter() - started:.0f} s) ==")
        print(f"{'trees':>6} {'rank of the best':>17} {'in the top third':>16} "
              f"{'r2 of the best':>15} {'r2 of the leader':>17}")
        for j, k in enumerate(TREE_COUNTS):
            rank = 1 + int(np.sum(scores[:, j] > scores[best, j]))
            print(f"{k:>6} {rank:>14} / {len(candidates)} {'yes' if rank <= kept else 'no':>16} "
                  f"{scores[best, j]:15.4f} {scores[:, j].max():17.4f}")


if __name__ == "__main__":
    main()

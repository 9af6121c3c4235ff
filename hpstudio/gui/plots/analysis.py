"""Pure computations behind the plots (no Qt), testable on plain trial lists.

Kept apart from the widgets so the numbers a plot shows can be checked without a
display, and so the importance fit can run on a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from hpstudio.core.records import TrialRecord
from hpstudio.gui.plots.columns import TrialColumns

__all__ = [
    "compute_importances",
    "feature_matrix",
    "importances_from_columns",
    "one_standard_error_mask",
    "within_one_standard_error",
]

IMPORTANCE_MAX_TRIALS = 2000


def one_standard_error_mask(mean: np.ndarray, se: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Trials whose mean score is within one standard error of the best one.

    The one-standard-error rule (Hastie et al.): any candidate scoring at least
    ``best - se(best)`` is statistically as good as the best, so the simplest of them
    can be preferred. Scores are "greater is better".
    """
    ok = ok & np.isfinite(mean)
    if not ok.any():
        return np.zeros(len(mean), dtype=bool)
    idx = np.flatnonzero(ok)
    best = idx[np.argmax(mean[idx])]
    se_best = se[best] if np.isfinite(se[best]) else 0.0
    return ok & (mean >= mean[best] - se_best)


def within_one_standard_error(trials: Sequence[TrialRecord]) -> set[int]:
    """Numbers of the complete trials within one standard error of the best trial.

    The standard error of a trial is ``std_test_score / sqrt(k)`` over its k folds.
    """
    cols = TrialColumns.from_trials(trials)
    mask = one_standard_error_mask(cols.test, cols.standard_error, cols.complete)
    return set(cols.number[mask].tolist())


def feature_matrix(
    cols: TrialColumns, rows: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Encode parameters for a tree model: log10 for log params, ordinal codes for
    categoricals, and a sentinel below the range for trials without the parameter
    (trees split it off cleanly, unlike NaN)."""
    names = list(cols.params)
    x = np.empty((len(rows), len(names)))
    for j, name in enumerate(names):
        v = cols.params[name].transformed()[rows]
        finite = np.isfinite(v)
        if finite.all():
            x[:, j] = v
            continue
        if finite.any():
            lo, hi = v[finite].min(), v[finite].max()
            sentinel = lo - max(hi - lo, 1.0)
        else:
            sentinel = -1.0
        x[:, j] = np.where(finite, v, sentinel)
    return x, names


def importances_from_columns(
    cols: TrialColumns,
    max_trials: int = IMPORTANCE_MAX_TRIALS,
    n_estimators: int = 64,
) -> dict[str, float]:
    """Random-forest impurity importances of each parameter for the score, summing to 1.

    Only the ``max_trials`` most recent complete trials are used, which bounds the
    cost of a refit while a long study streams in.
    """
    from sklearn.ensemble import RandomForestRegressor

    rows = np.flatnonzero(cols.complete)[-max_trials:]
    names = list(cols.params)
    if len(rows) < 2 or not names:
        return {name: 0.0 for name in names}
    x, names = feature_matrix(cols, rows)
    y = cols.test[rows]
    if np.ptp(y) == 0:
        return {name: 0.0 for name in names}
    # Half-size bootstrap samples once there is data to spare: importances are as
    # stable and the fit takes ~40% less time, which a live study repeats often.
    forest = RandomForestRegressor(
        n_estimators=n_estimators, random_state=0, n_jobs=1,
        max_samples=0.5 if len(rows) >= 200 else None,
    )
    forest.fit(x, y)
    imp = np.asarray(forest.feature_importances_, dtype=float)
    total = imp.sum()
    if total > 0:
        imp = imp / total
    return {name: float(v) for name, v in zip(names, imp, strict=True)}


def compute_importances(
    trials: Sequence[TrialRecord],
    log_params: Iterable[str] = (),
    max_trials: int = IMPORTANCE_MAX_TRIALS,
) -> dict[str, float]:
    """Parameter importance for the score over ``trials`` (see importances_from_columns)."""
    return importances_from_columns(TrialColumns.from_trials(trials, log_params), max_trials)

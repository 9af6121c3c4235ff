"""Pure computations behind the plots (no Qt), testable on plain trial lists.

Kept apart from the widgets so the numbers a plot shows can be checked without a
display.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from hpstudio.core.records import TrialRecord
from hpstudio.core.trials import TrialTable

__all__ = [
    "compute_importances",
    "importances_from_columns",
    "one_standard_error_mask",
    "parameter_groups",
    "variance_explained",
    "within_one_standard_error",
]


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
    cols = TrialTable.from_trials(trials)
    mask = one_standard_error_mask(cols.test, cols.standard_error, cols.complete)
    return set(cols.number[mask].tolist())


IMPORTANCE_BINS = 10  # a numeric parameter with more distinct values is cut in this many


def parameter_groups(values: np.ndarray, bins: int = IMPORTANCE_BINS) -> np.ndarray:
    """Group code of each trial for one parameter (its axis values: log10 for log
    ranges, category codes for categoricals; NaN where the trial does not have it).

    Each distinct value is a group while there are at most ``bins`` of them (a grid, a
    list, a category); beyond that the distinct values are cut into ``bins`` runs of
    equal size, so the groups hold about as many trials each. Trials without the
    parameter (another sub-space) form one more group."""
    finite = np.isfinite(values)
    codes = np.zeros(len(values), dtype=np.int64)
    distinct, inverse = np.unique(values[finite], return_inverse=True)
    k = len(distinct)
    codes[finite] = inverse if k <= bins else inverse * bins // k
    codes[~finite] = (min(k, bins) if k else 0)
    return codes


def variance_explained(groups: np.ndarray, y: np.ndarray) -> float:
    """Share of the variance of ``y`` that the groups explain, corrected for chance.

    This is omega squared, the one-way ANOVA effect size: (SS_between - (k - 1) *
    MS_within) / (SS_total + MS_within). The plain ratio SS_between / SS_total would
    credit a parameter with no effect at all with (k - 1) / (n - 1) from noise alone,
    which is large in a study of a few dozen trials."""
    n = len(y)
    counts = np.bincount(groups)
    used = counts > 0
    k = int(used.sum())
    if n <= k or k < 2:
        return 0.0
    if not np.ptp(y) > 1e-12 * max(1.0, float(np.abs(y).max())):
        return 0.0  # a constant score (up to rounding) has no variance to explain
    centred = y - y.mean()
    ss_total = float(centred @ centred)
    group_sums = np.bincount(groups, weights=centred)[used]
    ss_between = float((group_sums**2 / counts[used]).sum())
    ms_within = max(ss_total - ss_between, 0.0) / (n - k)
    omega = (ss_between - (k - 1) * ms_within) / (ss_total + ms_within)
    return float(min(max(omega, 0.0), 1.0))


def importances_from_columns(cols: TrialTable) -> dict[str, float]:
    """How much of the score's variance each parameter explains on its own.

    An ANOVA of the mean CV score on each parameter over every complete trial (see
    :func:`variance_explained`): the main effects of a functional ANOVA, estimated
    from the trials themselves rather than from a surrogate model. It costs a sort per
    parameter, so it follows a live study of 100,000 trials without a worker thread,
    and every trial counts, not a recent sample. The shares do not add up to 1: what
    is left is interactions between parameters and fold-to-fold noise."""
    rows = np.flatnonzero(cols.complete)
    params = cols.params
    y = cols.test[rows]
    return {
        name: variance_explained(parameter_groups(col.transformed()[rows]), y)
        for name, col in params.items()
    }


def compute_importances(
    trials: Sequence[TrialRecord], log_params: Iterable[str] = ()
) -> dict[str, float]:
    """Parameter importance for the score over ``trials`` (see importances_from_columns)."""
    return importances_from_columns(TrialTable.from_trials(trials, log_params))

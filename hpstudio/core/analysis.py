"""Pure computations behind the plots (no Qt), testable on plain trial lists.

Kept apart from the widgets so the numbers a plot shows can be checked without a
display.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hpstudio.core.records import TrialRecord
from hpstudio.core.trials import TrialTable

__all__ = ["one_standard_error_mask", "within_one_standard_error"]


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

"""Is the best candidate really better? Corrected tests on per-split scores (no Qt).

The top of a ranking by mean CV score is often a matter of luck: the candidates were
scored on the same splits, so their scores go up and down together, and a plain
paired t-test over k folds treats overlapping training sets as independent samples,
which understates the variance and finds differences that are not there (Dietterich
1998). Nadeau and Bengio (2003) correct the variance of the per-split differences by
``1/n + n_test/n_train``, which keeps the false positives near their nominal rate;
Bouckaert and Frank (2004) found the corrected test over a 10 x 10-fold CV the most
replicable. The same corrected scale gives the Bayesian answer of Benavoli et al.
(2017): with a non-informative prior the posterior of the mean difference is a
Student t with ``n - 1`` degrees of freedom centred on the observed mean, which says
how probable it is that the best is better, practically equivalent (within a region
of practical equivalence, the ROPE), or worse.

The formulas are those of scikit-learn's gallery example "Statistical comparison of
models using grid search" (``plot_grid_search_stats.py``), so a user can check the
numbers against the page they may already know.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from hpstudio.core.errors import DataError

__all__ = [
    "DEFAULT_ROPE",
    "Comparison",
    "ComparisonTable",
    "compare_pair",
    "compare_with_best",
    "corrected_std",
    "corrected_ttest",
    "rope_probabilities",
    "split_size_ratio",
    ]

DEFAULT_ROPE = 0.01
"""Half-width of the region of practical equivalence, in score units: one point of
accuracy or ROC AUC, as in the gallery example. Scores on other scales (errors,
negated losses) need their own."""


@dataclass(frozen=True)
class Comparison:
    """The best candidate against one other, over the splits both have a score on.

    ``mean_difference`` is best minus candidate (positive when the best scores
    higher); ``std`` its Nadeau-Bengio corrected standard deviation. ``p_value``
    is one-sided, for "the best is better" (small when it clearly is);
    ``p_value_bonferroni`` multiplies it by the number of candidates compared to the
    best in the same table, so a small one stays small when many are looked at.
    ``p_best_better`` + ``p_equivalent`` + ``p_candidate_better`` = 1: the posterior
    probabilities that the difference lies above the ROPE, inside it, or below it.
    ``interval`` is the 95 % credible interval of the mean difference. ``note``
    says why the figures are NaN or degenerate, and is empty otherwise.
    """

    candidate: int
    n_splits: int
    mean_difference: float
    std: float
    t_statistic: float
    p_value: float
    p_value_bonferroni: float
    p_best_better: float
    p_equivalent: float
    p_candidate_better: float
    interval: tuple[float, float]
    note: str = ""


@dataclass(frozen=True)
class ComparisonTable:
    """One :class:`Comparison` per candidate compared with ``best``, in the order
    asked, with the settings every row shares."""

    best: int
    rope: float
    test_train_ratio: float
    rows: tuple[Comparison, ...]


def split_size_ratio(
    n_train: float | Sequence[float] | np.ndarray,
    n_test: float | Sequence[float] | np.ndarray,
    n_splits: int,
) -> np.ndarray:
    """``n_test / n_train`` for each split, from scalars or one size per split.

    Nadeau and Bengio approximate the correlation between the differences measured
    on two splits of the same data by ``n_test / n``; it enters the variance of the
    mean difference as this ratio, a term that does not shrink as splits are added,
    which is why repeating a CV more often cannot by itself make a small difference
    significant."""
    train, test = _per_split(n_train, n_splits), _per_split(n_test, n_splits)
    if train.shape != (n_splits,) or test.shape != (n_splits,):
        raise DataError(f"the train and test sizes must be one number or one per split "
                        f"({n_splits}); got {train.size} and {test.size}")
    if not (np.all(train > 0) and np.all(test > 0)):
        raise DataError("train and test sizes must be positive numbers of samples")
    return test / train


def _per_split(sizes: float | Sequence[float] | np.ndarray, n_splits: int) -> np.ndarray:
    sizes = np.asarray(sizes, dtype=float)
    return np.full(n_splits, float(sizes)) if sizes.ndim == 0 else sizes


def corrected_std(differences: np.ndarray, ratio: float) -> float:
    """Nadeau and Bengio's corrected standard deviation of the mean difference.

    ``sqrt(var(differences, ddof=1) * (1 / n + n_test / n_train))`` over ``n``
    splits: the ``1 / n`` is the usual variance of a mean of independent values,
    the ratio what the splits' shared data adds (see :func:`split_size_ratio`)."""
    d = np.asarray(differences, dtype=float)
    return math.sqrt(float(np.var(d, ddof=1)) * (1.0 / len(d) + ratio))


def corrected_ttest(differences: np.ndarray, ratio: float) -> tuple[float, float]:
    """Corrected t statistic and its one-sided p-value for "mean difference > 0".

    With no spread at all the statistic is +inf, -inf or 0 (a difference that is
    the same on every split is certain, and no difference is no evidence), and the
    p-value is its limit: 0, 1 or 0.5."""
    d = np.asarray(differences, dtype=float)
    mean, std = float(d.mean()), corrected_std(d, ratio)
    if _no_spread(d, std):
        stat = math.copysign(math.inf, mean) if mean else 0.0
        return stat, 0.0 if stat > 0 else 1.0 if stat < 0 else 0.5
    stat = mean / std
    return stat, float(student_t.sf(stat, len(d) - 1))


def rope_probabilities(
    differences: np.ndarray, ratio: float, rope: float = DEFAULT_ROPE
) -> tuple[float, float, float]:
    """Posterior probabilities that the mean difference is above ``rope``, within
    ``[-rope, rope]``, and below ``-rope``.

    The posterior is a Student t with ``n - 1`` degrees of freedom, centred on the
    mean difference and scaled by the corrected standard deviation; with no spread
    it is the observed difference itself."""
    d = np.asarray(differences, dtype=float)
    mean, std = float(d.mean()), corrected_std(d, ratio)
    if _no_spread(d, std):
        return float(mean > rope), float(-rope <= mean <= rope), float(mean < -rope)
    posterior = student_t(len(d) - 1, loc=mean, scale=std)
    above = float(posterior.sf(rope))
    below = float(posterior.cdf(-rope))
    return above, max(0.0, 1.0 - above - below), below


def _no_spread(d: np.ndarray, std: float) -> bool:
    return std <= 1e-12 * max(1.0, float(np.abs(d).max()))


def compare_pair(
    best: np.ndarray,
    other: np.ndarray,
    n_train: float | Sequence[float] | np.ndarray,
    n_test: float | Sequence[float] | np.ndarray,
    *,
    rope: float = DEFAULT_ROPE,
    candidate: int = 1,
    n_compared: int = 1,
) -> Comparison:
    """Compare two candidates' per-split scores (same splits, same order).

    Splits where either score is NaN (a failed fold) are left out of the pair; the
    train/test ratio is the mean over the splits kept. ``n_compared`` is the number
    of comparisons the Bonferroni p-value accounts for."""
    a, b = np.asarray(best, dtype=float), np.asarray(other, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise DataError("both candidates need one score per split, on the same splits")
    _check_rope(rope)
    return _compare(a, b, split_size_ratio(n_train, n_test, len(a)), rope, candidate,
                    n_compared)


def _compare(a: np.ndarray, b: np.ndarray, ratios: np.ndarray, rope: float, candidate: int,
             n_compared: int) -> Comparison:
    both = np.isfinite(a) & np.isfinite(b)
    d = a[both] - b[both]
    if len(d) < 2:
        nan = math.nan
        return Comparison(candidate, len(d), float(d.mean()) if len(d) else nan, nan, nan,
                          nan, nan, nan, nan, nan, (nan, nan),
                          note=f"scored on {len(d)} split(s) in common with the best; "
                               "a comparison needs 2 or more")
    ratio = float(ratios[both].mean())
    std = corrected_std(d, ratio)
    stat, p = corrected_ttest(d, ratio)
    better, equivalent, worse = rope_probabilities(d, ratio, rope)
    mean = float(d.mean())
    if _no_spread(d, std):
        interval = (mean, mean)
        note = "the difference is the same on every split: no spread to test against"
    else:
        low, high = student_t(len(d) - 1, loc=mean, scale=std).interval(0.95)
        interval, note = (float(low), float(high)), ""
    return Comparison(candidate, len(d), mean, std, stat, p, min(1.0, p * n_compared),
                      better, equivalent, worse, interval, note)


def compare_with_best(
    scores: np.ndarray,
    n_train: float | Sequence[float] | np.ndarray,
    n_test: float | Sequence[float] | np.ndarray,
    *,
    best: int | None = None,
    candidates: Sequence[int] | None = None,
    rope: float = DEFAULT_ROPE,
) -> ComparisonTable:
    """Compare the best candidate with each other one on their per-split scores.

    ``scores`` is ``(n_candidates, n_splits)``, ``split<i>_test_score`` of each
    candidate, all on the same splits (higher is better); ``n_train`` and
    ``n_test`` are the training and test set sizes, one number or one per split.
    ``best`` defaults to the candidate with the highest mean score (over its finite
    splits); ``candidates`` to every other row. One row per compared candidate, in
    that order; the best itself is skipped.
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2:
        raise DataError("the scores must be a table: one row per candidate, one column "
                        "per split")
    n_candidates, n_splits = s.shape
    if n_splits < 2:
        raise DataError(f"comparing candidates needs their scores on at least 2 CV splits, "
                        f"and these have {n_splits}; run the study with 2 or more folds")
    _check_rope(rope)
    ratios = split_size_ratio(n_train, n_test, n_splits)
    if best is None:
        best = _best_row(s)
    if not 0 <= best < n_candidates:
        raise DataError(f"there is no candidate {best} among {n_candidates}")
    others = [i for i in (range(n_candidates) if candidates is None else candidates)
              if i != best]
    if any(not 0 <= i < n_candidates for i in others):
        raise DataError(f"candidates must be rows 0 to {n_candidates - 1} of the scores")
    rows = tuple(
        _compare(s[best], s[i], ratios, rope, i, len(others))
        for i in others
    )
    return ComparisonTable(best, rope, float(ratios.mean()), rows)


def _best_row(s: np.ndarray) -> int:
    finite = np.isfinite(s)
    counts = finite.sum(axis=1)
    if not counts.any():
        raise DataError("no candidate has a finite score on any split")
    means = np.where(counts > 0, np.where(finite, s, 0.0).sum(axis=1) / np.maximum(counts, 1),
                     -np.inf)
    return int(np.argmax(means))


def _check_rope(rope: float) -> None:
    if not (math.isfinite(rope) and rope >= 0):
        raise DataError(f"the region of practical equivalence must be a half-width of 0 "
                        f"or more, in score units; got {rope}")

"""Whether a halving study's small budgets ranked its candidates the way bigger ones did.

Successive halving bets that a candidate's score on a small budget ranks it roughly where
the full budget would. When that bet fails, the candidates dropped at the first rung were
dropped on noise, and the pick can be far from the best: on the housing data with folds
in the file's order, the exhaustive best of a 24-forest grid ranks 15th on 6 trees and 2nd
on 18 (``benchmarks/budget_ranks.py``). A run cannot see the candidates it dropped, but it
can see the ones it promoted: if their order at the next rung is no closer to their order
at this one than chance would make it, this rung's scores were not measuring what the
full budget measures. The test is Spearman's rank correlation, one-sided (agreement is
what halving assumes), over the candidates that have a result at both rungs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

from hpstudio.core.strategies.base import Caution

#: With fewer candidates at both rungs, even a perfect agreement is not distinguishable
#: from chance at the 5 % level (4 candidates: 1 order in 24).
MIN_CANDIDATES = 5
SIGNIFICANCE = 0.05


def rung_agreement(lower: Mapping[int, float], upper: Mapping[int, float]
                   ) -> tuple[int, float, float] | None:
    """(candidates, Spearman's rho, one-sided p) of the scores two rungs gave the same
    candidates; None when too few have a finite score at both, or the scores are all tied."""
    from scipy.stats import spearmanr

    both = [n for n in upper if n in lower
            and math.isfinite(lower[n]) and math.isfinite(upper[n])]
    if len(both) < MIN_CANDIDATES:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all scores tied at a rung: rho is undefined
        result = spearmanr([lower[n] for n in both], [upper[n] for n in both],
                           alternative="greater")
    rho, p = float(result.statistic), float(result.pvalue)
    if math.isnan(rho) or math.isnan(p):
        return None
    return len(both), rho, p


def agreement_notes(amounts: Sequence[int], resource: str,
                    scores: Sequence[Mapping[int, float]]) -> list[str]:
    """A log line per pair of consecutive rungs that share enough candidates: how alike
    they ranked them and, when no better than chance, what that means for the pick
    (``resource``: "rows" or the budget parameter's name)."""
    lines: list[str] = []
    for rung in range(len(amounts) - 1):
        agreement = rung_agreement(scores[rung], scores[rung + 1])
        if agreement is None:
            continue
        count, rho, p = agreement
        small, big = f"{amounts[rung]:,}", f"{amounts[rung + 1]:,}"
        pair = f"rungs at {resource} {small} → {big}"
        if p <= SIGNIFICANCE:
            lines.append(f"{pair}: the {count} candidates run at both ranked alike "
                         f"(Spearman rho {rho:.2f}, p {p:.2f})")
        else:
            # a first rung at the last rung's budget would be a grid: no advice then
            advice = (f": try min_resources = {amounts[rung + 1]}"
                      if rung + 2 < len(amounts) else "")
            lines.append(Caution(
                f"{pair}: the {count} promoted candidates ranked no more alike at {big} "
                f"than chance might (Spearman rho {rho:.2f}, p {p:.2f}), so the rung at "
                f"{small} may have dropped the best on noise{advice}"))
    return lines


__all__ = ["MIN_CANDIDATES", "agreement_notes", "rung_agreement"]

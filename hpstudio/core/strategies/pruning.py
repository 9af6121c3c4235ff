"""Early stopping of hopeless trials (``prune = "folds"``), around any strategy.

After each fold of a trial, its scores on the folds seen are compared, fold by fold, with
the current best trial of the same rung (the incumbent). Scores on one fold move together
across candidates (an easy fold is easy for all), so the paired differences ``d_j`` are
far less noisy than the scores themselves. The trial stops when even an optimistic
completion of its remaining ``m`` folds leaves it below the incumbent:

    mean(d) + t(0.99, k-1) * s * sqrt(m + m²/k) / K  <  0

with ``k`` folds seen of ``K``, ``s`` their standard deviation and ``t`` Student's
quantile: the one-sided 99% prediction bound for the sum of ``m`` more differences drawn
like the ``k`` seen. ``s`` counts as at least a quarter of ``|mean(d)|``, so a few identical
differences do not pass for certainty; a trial is judged from its second fold on, and
never on its last. The stopped trial is stored as pruned with the folds it ran.

Pruning changes what an exhaustive search reports (pruned trials have fewer folds), which
is why it is off unless the spec asks for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hpstudio.core.records import Candidate, FoldResult, TrialRecord, TrialState
from hpstudio.core.strategies.base import Strategy, StudyFacts

CONFIDENCE = 0.99
MIN_FOLDS = 2


def hopeless(seen: Sequence[float], best: Sequence[float], n_splits: int,
             confidence: float = CONFIDENCE) -> bool:
    """Whether a trial whose first folds scored ``seen`` (paired, fold by fold, with the
    incumbent's ``best`` on the same folds) cannot plausibly end above the incumbent."""
    k = len(seen)
    if k < MIN_FOLDS or k >= n_splits or len(best) != k:
        return False
    d = np.asarray(seen, dtype=float) - np.asarray(best, dtype=float)
    if not np.isfinite(d).all():
        return False
    from scipy.stats import t

    mean = float(d.mean())
    spread = max(float(d.std(ddof=1)), abs(mean) / 4)
    m = n_splits - k
    bound = mean + float(t.ppf(confidence, k - 1)) * spread * math.sqrt(m + m * m / k) / n_splits
    return bound < 0


class FoldPruner(Strategy):
    """Wraps a strategy: proposes what it proposes, and stops hopeless trials early."""

    def __init__(self, inner: Strategy, confidence: float = CONFIDENCE) -> None:
        self.inner = inner
        self.confidence = confidence
        self.n_splits: int | None = None
        self._incumbent: dict[int, TrialRecord] = {}  # rung -> best complete trial
        self.n_pruned = 0
        self.folds_saved = 0

    # ----- delegated ------------------------------------------------------------------------
    @property
    def total(self) -> int | None:
        return self.inner.total

    def ask(self) -> Candidate | None:
        return self.inner.ask()

    def note_backlog(self, in_flight: int, n_workers: int) -> None:
        self.inner.note_backlog(in_flight, n_workers)

    @property
    def waiting(self) -> bool:
        return self.inner.waiting

    def bind(self, facts: StudyFacts) -> None:
        self.n_splits = facts.n_splits
        self.inner.bind(facts)

    def describe_plan(self) -> list[str]:
        return [*self.inner.describe_plan(),
                "early stopping: a trial stops once its first folds, compared fold by fold "
                "with the best trial so far, make beating it implausible (99% bound)"]

    def closing_notes(self) -> list[str]:
        notes = list(self.inner.closing_notes())
        if self.n_pruned:
            notes.append(f"early stopping stopped {self.n_pruned} trial"
                         f"{'s' if self.n_pruned != 1 else ''} after their first folds: "
                         f"up to {self.folds_saved} fits saved")
        return notes

    # ----- learning ---------------------------------------------------------------------------
    def tell(self, trial: TrialRecord) -> None:
        self._learn(trial)
        self.inner.tell(trial)

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        self._incumbent.clear()
        for trial in finished:
            self._learn(trial)
        self.inner.restore(finished)

    def _learn(self, trial: TrialRecord) -> None:
        if trial.state is TrialState.PRUNED and self.n_splits:
            self.n_pruned += 1
            self.folds_saved += max(0, self.n_splits - len(trial.split_test_scores))
        if not trial.ok or not math.isfinite(trial.mean_test_score):
            return
        if self.n_splits is not None and len(trial.split_test_scores) != self.n_splits:
            return
        best = self._incumbent.get(trial.rung)
        if best is None or trial.mean_test_score > best.mean_test_score:
            self._incumbent[trial.rung] = trial

    def hear_fold(self, candidate: Candidate, result: FoldResult,
                  folds: Sequence[FoldResult]) -> bool:
        if self.inner.hear_fold(candidate, result, folds):
            return True
        best = self._incumbent.get(candidate.rung)
        if best is None or self.n_splits is None:
            return False
        splits = best.split_test_scores
        metric = best.refit
        seen, paired = [], []
        for fold in folds:
            if not 0 <= fold.fold < len(splits) or metric not in fold.test_scores:
                return False
            seen.append(fold.test_scores[metric])
            paired.append(splits[fold.fold])
        return hopeless(seen, paired, self.n_splits, self.confidence)


__all__ = ["CONFIDENCE", "FoldPruner", "hopeless"]

"""Is the best trial really better than the next ones? The study's side of the answer.

:mod:`hpstudio.core.significance` holds the statistics (the corrected repeated k-fold
t-test of Nadeau and Bengio and the Bayesian comparison with a region of practical
equivalence); this module feeds them a study: the per-split scores of its top trials and
the training and test set sizes of its splits, which are found by splitting the study's
own data with its own splitter again (or read from a description stored with a study
that has no spec).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpstudio.core.errors import DataError
from hpstudio.core.significance import DEFAULT_ROPE, Comparison, compare_with_best

if TYPE_CHECKING:
    from hpstudio.core.storage import HistoryRepository, StudyRow
    from hpstudio.core.trials import TrialTable

__all__ = ["DEFAULT_TOP", "TopComparison", "compare_study", "compare_top", "study_split_sizes"]

DEFAULT_TOP = 5  # the best and the four after it


@dataclass(frozen=True)
class TopComparison:
    """The best trial against each of the next ones, on one metric.

    ``rows`` pair each compared trial's number and mean score with its
    :class:`~hpstudio.core.significance.Comparison` (best minus that trial)."""

    metric: str
    best: int
    best_mean: float
    rows: tuple[tuple[int, float, Comparison], ...]
    rope: float
    n_splits: int
    test_train_ratio: float

    def lines(self) -> list[tuple[str, ...]]:
        """A header and one row per compared trial, as text cells (the CLI prints them)."""
        out = [("trial", "mean", "best - it", "t", "p", "p·k", "P(best better)",
                "P(equivalent)", "P(it better)")]
        for number, mean, c in self.rows:
            out.append((str(number), _fmt(mean), _fmt(c.mean_difference, signed=True),
                        _fmt(c.t_statistic), _fmt(c.p_value), _fmt(c.p_value_bonferroni),
                        _pct(c.p_best_better), _pct(c.p_equivalent), _pct(c.p_candidate_better)))
        return out

    def summary(self) -> str:
        """One sentence on the closest rival."""
        if not self.rows:
            return "No other trial to compare the best with"
        number, _, c = self.rows[0]
        if not math.isfinite(c.p_best_better):
            return f"trial {number}: {c.note}"
        verdict = ("probably better" if c.p_best_better >= 0.95 else
                   "practically equivalent" if c.p_equivalent >= 0.95 else "not clearly better")
        return (f"The best (trial {self.best}) is {verdict} than the runner-up (trial {number}): "
                f"P(better) {c.p_best_better:.0%}, P(equivalent within ±{self.rope:g}) "
                f"{c.p_equivalent:.0%}")


def _fmt(value: float, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "-" if value is None or math.isnan(value) else ("inf" if value > 0 else "-inf")
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _pct(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.1%}"


def compare_top(table: TrialTable, n_train: Any, n_test: Any, *, metric: str | None = None,
                top: int = DEFAULT_TOP, rope: float = DEFAULT_ROPE,
                best: int | None = None) -> TopComparison:
    """Compare the best complete trial (by mean ``metric``, or trial number ``best``) with
    the next ``top - 1`` on their per-split scores.

    Only trials scored on every split take part (a pruned or failed trial has fewer);
    ``n_train`` and ``n_test`` are the sizes of the splits, one number or one per split."""
    metric = metric or table.refit
    mean = table.metric_col(metric, "test")
    ok = table.complete & np.isfinite(mean)
    if ok.any():
        ok &= table.rung == table.rung[ok].max()
        ok &= table.col("k") == table.col("k")[ok].max()
    rows = np.flatnonzero(ok)
    if len(rows) < 2:
        raise DataError("comparing candidates needs at least 2 complete trials")
    order = rows[np.lexsort((table.number[rows], -mean[rows]))]
    if best is not None:
        chosen = np.flatnonzero(table.number[order] == best)
        if not len(chosen):
            raise DataError(f"trial {best} is not among the complete trials to compare")
        order = np.concatenate([order[chosen], np.delete(order, chosen)])
    head = order[:max(2, top)]
    scores = np.array([table.record(int(i)).test_scores.get(metric, ()) for i in head],
                      dtype=float)
    n_splits = scores.shape[1]
    result = compare_with_best(scores, n_train, n_test, best=0, rope=rope)
    numbers = table.number[head]
    compared = tuple((int(numbers[c.candidate]), float(mean[head[c.candidate]]), c)
                     for c in result.rows)
    return TopComparison(metric, int(numbers[0]), float(mean[head[0]]), compared, rope,
                         n_splits, result.test_train_ratio)


def study_split_sizes(row: StudyRow,
                      allowed_packages: Iterable[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Training and test set sizes of every split a stored study made.

    A study with a spec splits its data again with its splitter (the same splits its
    workers made); one without (recorded, imported) uses the ``split_sizes`` its
    description holds, if any."""
    if row.spec is None:
        sizes = row.description.get("split_sizes")
        if not sizes:
            raise DataError(f"study #{row.id} has no spec and no stored split sizes, so its "
                            "candidates cannot be compared with the corrected t-test")
        return (np.asarray(sizes["train"], dtype=float), np.asarray(sizes["test"], dtype=float))
    from hpstudio.core.data import CLASSIFICATION, load_dataset
    from hpstudio.core.estimators import is_classifier_class, resolve_estimator_class
    from hpstudio.core.splitters import split_sizes

    spec = row.study_spec("compare its candidates")
    dataset = load_dataset(spec.data)
    cls = resolve_estimator_class(spec.estimator.cls, tuple(allowed_packages))
    classifier = is_classifier_class(cls) and dataset.task == CLASSIFICATION
    return split_sizes(spec.cv, dataset.X, dataset.y, dataset.groups, classifier)


def compare_study(store: HistoryRepository, study_id: int, *, metric: str | None = None,
                  top: int = DEFAULT_TOP, rope: float = DEFAULT_ROPE,
                  allowed_packages: Sequence[str] = (),
                  table: TrialTable | None = None) -> TopComparison:
    """:func:`compare_top` of a stored study: its best trial by mean score against the
    next ones."""
    row = store.get_study(study_id)
    table = table if table is not None else store.open_trials(study_id)
    n_train, n_test = study_split_sizes(row, allowed_packages)
    k = table.n_splits
    if len(n_train) != k:
        raise DataError(f"the study's splitter makes {len(n_train)} splits of its data now, "
                        f"but its trials ran {k}; did the data change?")
    return compare_top(table, n_train, n_test, metric=metric, top=top, rope=rope)

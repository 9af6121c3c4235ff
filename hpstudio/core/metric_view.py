"""A study's trial table seen through another of its metrics.

The trial table's ``test``, ``std`` and ``train`` columns are those of the refit metric,
the one that ranks trials. A study scored with several metrics is looked at through each
of them in turn (every plot and the table switch): :class:`MetricView` reads the same
table, live appends included, and answers ``test`` / ``std`` / ``train`` (and what is
derived from them: ``complete``, ``standard_error``, ``best_index``) with the chosen
metric's columns. Everything else is the table's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hpstudio.core.trials import TrialTable

__all__ = ["MetricView", "view_of"]

_METRIC_COLUMNS = frozenset({"test", "std", "train"})


class MetricView:
    """``table`` with ``metric``'s mean test, std and mean train score as its own."""

    def __init__(self, table: TrialTable, metric: str) -> None:
        self.table = table
        self.metric = metric

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)

    def __len__(self) -> int:
        return len(self.table)

    def col(self, name: str) -> np.ndarray:
        if name in _METRIC_COLUMNS:
            return self.table.metric_col(self.metric, name)
        return self.table.col(name)

    @property
    def test(self) -> np.ndarray:
        return self.table.metric_col(self.metric, "test")

    @property
    def complete(self) -> np.ndarray:
        return self.table.ok & np.isfinite(self.test)

    @property
    def standard_error(self) -> np.ndarray:
        k = self.table.col("k")
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.table.metric_col(self.metric, "std") / np.sqrt(np.where(k > 0, k, np.nan))

    def best_index(self) -> int | None:
        """The complete row with the highest mean of this metric (first one on ties)."""
        scores = np.where(self.complete, self.test, -np.inf)
        if not len(scores):
            return None
        best = int(np.argmax(scores))
        return best if np.isfinite(scores[best]) else None


def view_of(table: TrialTable, metric: str | None) -> Any:
    """The table itself for its refit metric (or None), a :class:`MetricView` otherwise."""
    if metric is None or metric == table.refit or metric not in table.metrics:
        return table
    return MetricView(table, metric)

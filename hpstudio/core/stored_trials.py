"""A stored study's trials as columns, with trial records built only when asked for.

Reopening a study of 100,000 trials must take well under a second. Building 100,000
frozen records (and their per-fold tuples) costs more than that, while the trial table
and the plots only need whole columns. ``StoredTrials`` is a read-only sequence of
``TrialRecord`` whose ``columns`` hold the per-trial aggregates as numpy arrays; a
record (for the details pane, an export) is decoded from its row on first access.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from hpstudio.core.records import TrialRecord, TrialState

_STATES = {state.value: state for state in TrialState}


@dataclass(frozen=True)
class TrialColumns:
    """Per-trial aggregates of a study, one array entry per trial, in number order."""

    number: np.ndarray  # int64
    state: np.ndarray  # object: "complete" | "failed"
    mean_test_score: np.ndarray  # float, NaN for failed trials
    std_test_score: np.ndarray
    mean_train_score: np.ndarray  # float, NaN when train scores were not computed
    mean_fit_time: np.ndarray
    mean_score_time: np.ndarray
    started: np.ndarray
    finished: np.ndarray
    subspace: np.ndarray  # int64
    params: list[dict[str, Any]]
    error: list[str | None]
    n_folds: int

    @property
    def ok(self) -> np.ndarray:
        return self.state == TrialState.COMPLETE.value


@dataclass(frozen=True)
class FoldColumns:
    """Every fold of a study as arrays: enough to draw a timeline of 500,000 folds."""

    number: np.ndarray
    fold: np.ndarray
    worker: np.ndarray  # object: worker labels
    started: np.ndarray
    finished: np.ndarray
    failed: np.ndarray  # bool


class StoredTrials(Sequence[TrialRecord]):
    """A study's finished trials; ``columns`` for bulk use, records decoded lazily."""

    def __init__(self, study_id: int, columns: TrialColumns, raw: list[tuple[Any, ...]],
                 fold_loader: Any = None) -> None:
        self.study_id = study_id
        self.columns = columns
        self._raw = raw  # per row: split_test, split_train, fit_times, score_times JSON texts
        self._records: dict[int, TrialRecord] = {}
        self._fold_loader = fold_loader

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> TrialRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[TrialRecord]: ...

    def __getitem__(self, index: int | slice) -> TrialRecord | list[TrialRecord]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        record = self._records.get(index)
        if record is None:
            record = self._records[index] = self._build(index)
        return record

    def __iter__(self) -> Iterator[TrialRecord]:
        return (self[i] for i in range(len(self)))

    def by_number(self, number: int) -> TrialRecord | None:
        """The trial with this number (binary search: numbers are stored in order)."""
        position = int(np.searchsorted(self.columns.number, number))
        if position < len(self) and self.columns.number[position] == number:
            return self[position]
        return None

    def fold_columns(self) -> FoldColumns:
        """All folds of the study, loaded on demand (the timeline is the only bulk user)."""
        if self._fold_loader is None:
            empty = np.empty(0)
            return FoldColumns(empty.astype(np.int64), empty.astype(np.int64),
                               empty.astype(object), empty, empty, empty.astype(bool))
        return self._fold_loader()

    def _build(self, index: int) -> TrialRecord:
        c = self.columns
        tests, trains, fits, scores = (None if text is None else json.loads(text)
                                       for text in self._raw[index])
        return TrialRecord(
            study_id=self.study_id, number=int(c.number[index]), params=c.params[index],
            state=_STATES[c.state[index]],
            split_test_scores=tuple(math.nan if v is None else float(v) for v in tests or ()),
            split_train_scores=None if trains is None else tuple(trains),
            fit_times=tuple(fits or ()), score_times=tuple(scores or ()),
            started=float(c.started[index]), finished=float(c.finished[index]),
            subspace=int(c.subspace[index]), error=c.error[index],
        )


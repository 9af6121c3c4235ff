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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from hpstudio.core.records import TrialRecord, TrialState

_STATES = {state.value: state for state in TrialState}

# Records read one by one before a study's score texts are read whole: a few for the
# details pane cost a query each; beyond that someone is walking the study.
SINGLE_READS = 32

RawTexts = tuple[Any, ...]  # split_test, split_train, fit_times, score_times JSON texts


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
    """Every fold of a study as arrays: enough to draw a timeline of 500,000 folds.

    Workers are codes into ``worker_labels``: a study has a handful of workers, and
    half a million label strings would cost more to build than all the numbers."""

    number: np.ndarray
    fold: np.ndarray
    worker_code: np.ndarray  # int64 index into worker_labels
    worker_labels: tuple[str, ...]
    started: np.ndarray
    finished: np.ndarray
    failed: np.ndarray  # bool

    @property
    def worker(self) -> np.ndarray:
        """The worker label of each fold (object array)."""
        labels = np.empty(len(self.worker_labels), dtype=object)
        labels[:] = self.worker_labels
        return labels[self.worker_code]


class StoredTrials(Sequence[TrialRecord]):
    """A study's finished trials; ``columns`` for bulk use, records decoded lazily."""

    def __init__(
        self,
        study_id: int,
        columns: TrialColumns,
        raw: list[RawTexts] | Callable[[int | None], list[RawTexts]],
        fold_loader: Callable[[], FoldColumns] | None = None,
    ) -> None:
        """``raw`` holds each row's score texts, or reads them: ``raw(number)`` one
        trial's, ``raw(None)`` every row's in number order. Opening a study then reads
        only the columns, and a record costs a query until many are wanted."""
        self.study_id = study_id
        self.columns = columns
        self._raw = raw if isinstance(raw, list) else None
        self._raw_loader = None if isinstance(raw, list) else raw
        self._single_reads = 0
        self._records: dict[int, TrialRecord] = {}
        self._fold_loader = fold_loader

    def __len__(self) -> int:
        return len(self.columns.number)

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
                               empty.astype(np.int64), (), empty, empty, empty.astype(bool))
        return self._fold_loader()

    def _build(self, index: int) -> TrialRecord:
        c = self.columns
        tests, trains, fits, scores = (None if text is None else json.loads(text)
                                       for text in self._raw_texts(index))
        return TrialRecord(
            study_id=self.study_id, number=int(c.number[index]), params=c.params[index],
            state=_STATES[c.state[index]],
            split_test_scores=tuple(math.nan if v is None else float(v) for v in tests or ()),
            split_train_scores=None if trains is None else tuple(trains),
            fit_times=tuple(fits or ()), score_times=tuple(scores or ()),
            started=float(c.started[index]), finished=float(c.finished[index]),
            subspace=int(c.subspace[index]), error=c.error[index],
        )

    def _raw_texts(self, index: int) -> RawTexts:
        if self._raw is None:
            assert self._raw_loader is not None
            if self._single_reads < SINGLE_READS:
                self._single_reads += 1
                return self._raw_loader(int(self.columns.number[index]))[0]
            self._raw = self._raw_loader(None)
        return self._raw[index]

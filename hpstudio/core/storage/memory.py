"""A history held in memory: the repository for notebooks, scripts and fast tests.

It keeps the same promises as the SQLite history (the contract in ``base``), so code that
runs a study against it behaves as it would against a file, without touching the disk.
Nothing survives the process.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from hpstudio.core.errors import StoreError, StudyNotFound
from hpstudio.core.records import StudyStatus, StudySummary, TrialRecord, TrialState
from hpstudio.core.storage.base import HistoryRepository, NewStudy, StudyBusy, StudyRow
from hpstudio.core.trials import TrialTable


class MemoryHistory(HistoryRepository):
    """Studies and trials in dicts, guarded by one lock (any thread may call)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._studies: dict[int, StudyRow] = {}
        self._trials: dict[int, dict[tuple[int, int], TrialRecord]] = {}
        self._listing: dict[int, tuple[str, str, str, str]] = {}  # strategy, estimator ...
        self._owners: dict[int, str] = {}  # the run that holds each running study
        self._saved: dict[int, list[tuple[int, int]]] = {}  # trial keys in saving order
        self._nested: dict[int, dict[str, Any]] = {}  # nested CV results by study
        self._next_id = 1

    def add_study(self, study: NewStudy) -> int:
        from hpstudio.core.versions import library_versions

        with self._lock:
            study_id = self._next_id
            self._next_id += 1
            self._studies[study_id] = StudyRow(
                study_id, study.name, study.spec, study.status, None, time.time(), None,
                study.data_fingerprint, library_versions(), study.n_total, "", study.base_dir,
                0.0, study.origin, tuple(study.metrics), study.refit, study.n_splits,
                dict(study.description), study.metric)
            self._trials[study_id] = {}
            self._saved[study_id] = []
            if study.owner:
                self._owners[study_id] = study.owner
            self._listing[study_id] = (study.strategy, study.estimator, study.dataset,
                                       study.metric)
        return study_id

    def _update(self, study_id: int, **changes: Any) -> None:
        with self._lock:
            self._studies[study_id] = replace(self._row(study_id), **changes)

    def _row(self, study_id: int) -> StudyRow:
        row = self._studies.get(study_id)
        if row is None:
            raise StudyNotFound(f"no study #{study_id} in this in-memory history")
        return row

    def claim_study(self, study_id: int, owner: str, n_total: int | None = None) -> None:
        with self._lock:
            row = self._row(study_id)
            holder = self._owners.get(study_id)
            if row.status is StudyStatus.RUNNING and holder not in (None, owner):
                raise StudyBusy(f"study #{study_id} {row.name!r} is running in another thread; "
                                "wait for it or stop it first")
            self._owners[study_id] = owner
            self._studies[study_id] = replace(
                row, status=StudyStatus.RUNNING, stop_reason=None, finished=None,
                n_total=row.n_total if n_total is None else n_total)

    def heartbeat(self, study_id: int, owner: str) -> bool:
        return self._owners.get(study_id) == owner

    def set_status(self, study_id: int, status: StudyStatus, reason: str | None = None,
                   elapsed: float | None = None, owner: str | None = None) -> bool:
        with self._lock:
            row = self._row(study_id)
            holder = self._owners.get(study_id)
            if owner is not None and holder not in (None, owner):
                return False
            if status is not StudyStatus.RUNNING:
                self._owners.pop(study_id, None)
            self._studies[study_id] = replace(
                row, status=status, stop_reason=reason,
                finished=None if status is StudyStatus.RUNNING else time.time(),
                elapsed=row.elapsed if elapsed is None else elapsed)
        return True

    def set_n_splits(self, study_id: int, n_splits: int) -> None:
        self._update(study_id, n_splits=n_splits)

    def rename_study(self, study_id: int, name: str) -> None:
        self._update(study_id, name=name)

    def set_note(self, study_id: int, note: str) -> None:
        self._update(study_id, note=note)

    def delete_study(self, study_id: int) -> None:
        with self._lock:
            self._studies.pop(study_id, None)
            self._trials.pop(study_id, None)
            self._saved.pop(study_id, None)
            self._listing.pop(study_id, None)
            self._nested.pop(study_id, None)

    def resolve(self, ref: str | int) -> int:
        text = str(ref).strip()
        if text.isdigit() and int(text) in self._studies:
            return int(text)
        named = [i for i, row in self._studies.items() if row.name == text]
        if not named:
            raise StudyNotFound(f"no study {text!r} in this in-memory history")
        return max(named)

    def get_study(self, study_id: int) -> StudyRow:
        return self._row(study_id)

    def list_studies(self) -> list[StudySummary]:
        out = []
        for study_id in sorted(self._studies):
            row = self._studies[study_id]
            counts = self.count_states(study_id)
            trials = list(self._trials.get(study_id, {}).values())
            scores = [t.mean_test_score for t in trials
                      if t.ok and math.isfinite(t.mean_test_score)]
            strategy, estimator, dataset, metric = self._listing[study_id]
            out.append(StudySummary(
                study_id, row.name, row.status, strategy, estimator, dataset, metric,
                row.n_total, counts.get(TrialState.COMPLETE, 0),
                counts.get(TrialState.FAILED, 0), max(scores) if scores else None,
                row.created, row.finished, row.stop_reason, row.note, row.origin,
                counts.get(TrialState.PRUNED, 0), row.spec is not None))
        return out

    def save_trial(self, trial: TrialRecord) -> None:
        with self._lock:
            if trial.study_id not in self._studies:
                raise StoreError(f"no study #{trial.study_id} to save trial {trial.number} in")
            if trial.key not in self._trials[trial.study_id]:
                self._trials[trial.study_id][trial.key] = trial
                self._saved[trial.study_id].append(trial.key)

    def trial_marks(self, study_id: int) -> list[tuple[int, int, int]]:
        with self._lock:
            return [(i + 1, number, rung)
                    for i, (number, rung) in enumerate(self._saved.get(study_id, []))]

    def trials_after(self, study_id: int, mark: int) -> tuple[list[TrialRecord], int]:
        with self._lock:
            keys = self._saved.get(study_id, [])
            trials = self._trials.get(study_id, {})
            return [trials[key] for key in keys[mark:]], max(mark, len(keys))

    def load_trials(self, study_id: int, *, with_folds: bool = False) -> list[TrialRecord]:
        with self._lock:
            trials = [self._trials.get(study_id, {})[key]
                      for key in sorted(self._trials.get(study_id, {}))]
        return trials if with_folds else [replace(t, folds=()) if t.folds else t
                                          for t in trials]

    def open_trials(self, study_id: int, log_params: Iterable[str] = ()) -> TrialTable:
        row = self._row(study_id)
        return TrialTable.from_trials(self.load_trials(study_id, with_folds=True), log_params,
                                      row.metrics, row.refit)

    def count_states(self, study_id: int) -> dict[TrialState, int]:
        counts: dict[TrialState, int] = {}
        for trial in self._trials.get(study_id, {}).values():
            counts[trial.state] = counts.get(trial.state, 0) + 1
        return counts

    def save_nested(self, study_id: int, result: dict[str, Any]) -> None:
        import json

        self._row(study_id)
        with self._lock:  # a copy through JSON, as the SQLite history keeps it
            self._nested[study_id] = json.loads(json.dumps(result))

    def load_nested(self, study_id: int) -> dict[str, Any] | None:
        import copy

        result = self._nested.get(study_id)
        return None if result is None else copy.deepcopy(result)

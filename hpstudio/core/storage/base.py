"""The history repository: what every storage backend promises.

Every front end (the command line, the app, the Python API) and the study loop reach the
history only through a :class:`HistoryRepository`; no other module writes SQL. Two
backends keep this contract: :class:`~hpstudio.core.storage.sqlite.HistoryStore` (the
SQLite file every user has) and :class:`~hpstudio.core.storage.memory.MemoryHistory` (for
notebooks and tests that need no file). One contract test suite
(``tests/core/test_storage_contract.py``) runs against both.

The promises:

* **A trial is durable and immutable once saved.** ``save_trial`` returns only after the
  trial is committed (the SQLite backend: one transaction per trial, WAL mode, before any
  listener hears of it). Saving a trial whose (study, number, rung) is already stored
  changes nothing: the first one stays, bit for bit.
* **Numbers are unique per study and rung.** A candidate is identified by its number; it
  may appear at several rungs of successive halving, once per rung.
* **Reads see every committed write**, from this process or another one sharing the
  file, and never a half-written trial. Trials come back in (number, rung) order with
  their scores, times and parameters exactly as saved (floats to the last bit);
  ``trials_after`` reads only the trials saved after a mark, in saving order, so a view
  can follow a study being written elsewhere.
* **Studies** have an origin (run from a spec, from Python, recorded, imported); a study
  that is not run from a spec may have no spec (``StudyRow.spec`` is None) and is shown
  read-only. A study's metrics are named once (``metrics``, ``refit``); its trials carry
  their scores under those names.
* **One process runs a study at a time.** ``add_study`` and ``claim_study`` hand the
  study to an owner token in one atomic step; a second claim of a study whose owner is
  alive fails with :class:`StudyBusy`. The owner keeps ``heartbeat`` going; a study
  whose heartbeat went stale (``liveness``) reads as interrupted and can be claimed from
  any machine. An owner that lost its claim learns it from ``heartbeat`` (False), and
  its ``set_status`` changes nothing.
* **Who owns a connection:** a backend object belongs to the thread that made it unless
  it was made ``transient`` (then every call opens and closes its own connection, and
  any thread may call). Readers given out by ``open_trials`` may outlive the backend
  object: they reopen the file read-only when they need more.
* **Errors a user can act on** are :class:`~hpstudio.core.errors.StoreError` with a
  message saying what is wrong and what to do (locked, read-only, damaged, not a
  history, written by a newer version); never a raw SQLite exception.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpstudio.core.errors import HpstudioError, StoreError
from hpstudio.core.records import (
    SCORE,
    StudyOrigin,
    StudyStatus,
    StudySummary,
    TrialRecord,
    TrialState,
)
from hpstudio.core.trials import TrialTable

if TYPE_CHECKING:
    from hpstudio.core.spec import StudySpec


@dataclass(frozen=True)
class StudyRow:
    """A stored study with its spec as written, for reopening, resuming and exporting."""

    id: int
    name: str
    spec: dict[str, Any] | None  # None: a study without a runnable spec (read-only)
    status: StudyStatus
    stop_reason: str | None
    created: float
    finished: float | None
    data_fingerprint: str | None
    versions: dict[str, str]
    n_total: int | None
    note: str
    base_dir: str | None
    elapsed: float
    origin: StudyOrigin = StudyOrigin.SPEC
    metrics: tuple[str, ...] = (SCORE,)
    refit: str = SCORE
    n_splits: int | None = None
    description: dict[str, Any] = field(default_factory=dict)
    metric: str = SCORE  # the ranking metric's name as the user gave it ("score": default)

    @property
    def runnable(self) -> bool:
        """Whether the study can be resumed or run again (it has a spec)."""
        return self.spec is not None

    def study_spec(self, action: str = "run it") -> StudySpec:
        """The study's spec, parsed; a study without one says it can only be looked at."""
        if self.spec is None:
            raise HpstudioError(
                f"study #{self.id} {self.name!r} was {self.origin.value} without a spec, so "
                f"there is nothing to {action} from; its trials, plots and parameters can "
                "still be looked at and exported")
        from hpstudio.core.spec import StudySpec

        return StudySpec.from_dict(self.spec, base_dir=self.base_dir)

    @property
    def estimator(self) -> str:
        """The estimator's class path, from the spec or the stored description."""
        if self.spec is not None:
            return str(self.spec.get("estimator", {}).get("class", ""))
        return str(self.description.get("estimator", ""))


class StudyBusy(StoreError):
    """The study is being run by another live process."""


@dataclass(frozen=True)
class NewStudy:
    """What a study is created with. ``spec`` is the spec as a dict, or None."""

    name: str
    spec: dict[str, Any] | None
    origin: StudyOrigin = StudyOrigin.SPEC
    base_dir: str | None = None
    n_total: int | None = None
    data_fingerprint: str | None = None
    dataset: str = ""
    strategy: str = "grid"
    estimator: str = ""
    metric: str = SCORE
    metrics: tuple[str, ...] = (SCORE,)
    refit: str = SCORE
    n_splits: int | None = None
    description: dict[str, Any] = field(default_factory=dict)
    status: StudyStatus = StudyStatus.RUNNING
    owner: str | None = None  # the run that claims it from the start


def new_study_from_spec(spec: dict[str, Any], *, base_dir: str | None, n_total: int | None,
                        data_fingerprint: str | None, dataset: str,
                        n_splits: int | None = None, origin: StudyOrigin = StudyOrigin.SPEC,
                        owner: str | None = None) -> NewStudy:
    """The NewStudy of a spec dict (what `hpstudio run` and the app create)."""
    from hpstudio.core.scoring import keys_of_raw

    metrics, refit, label = keys_of_raw(spec.get("scoring", {}))
    return NewStudy(
        name=spec["name"], spec=spec, origin=origin, base_dir=base_dir, n_total=n_total,
        data_fingerprint=data_fingerprint, dataset=dataset,
        strategy=spec.get("search", {}).get("strategy", "grid"),
        estimator=spec["estimator"]["class"], metric=label, metrics=metrics, refit=refit,
        n_splits=n_splits, owner=owner)


class HistoryRepository(ABC):
    """Studies, their trials and folds; see the module docstring for the promises."""

    path: Path | None = None
    read_only: bool = False

    # ----- studies -------------------------------------------------------------------
    @abstractmethod
    def add_study(self, study: NewStudy) -> int:
        """Store a new study and return its id (ids only grow)."""

    def create_study(self, spec: dict[str, Any], *, base_dir: str | None,
                     n_total: int | None, data_fingerprint: str | None, dataset: str,
                     n_splits: int | None = None, owner: str | None = None) -> int:
        """A new running study of a spec (shorthand for ``add_study``)."""
        return self.add_study(new_study_from_spec(
            spec, base_dir=base_dir, n_total=n_total, data_fingerprint=data_fingerprint,
            dataset=dataset, n_splits=n_splits, owner=owner))

    @abstractmethod
    def claim_study(self, study_id: int, owner: str, n_total: int | None = None) -> None:
        """Make ``owner`` the one process running the study, atomically.

        Raises :class:`StudyBusy` when another owner is alive (see ``liveness``)."""

    @abstractmethod
    def heartbeat(self, study_id: int, owner: str) -> bool:
        """Say the owner is alive; False when it no longer owns the study."""

    @abstractmethod
    def set_status(self, study_id: int, status: StudyStatus, reason: str | None = None,
                   elapsed: float | None = None, owner: str | None = None) -> bool:
        """Record how a run ended; ``elapsed`` is the study's total running time so far.

        Given an ``owner``, nothing changes unless it still owns the study (False)."""

    def check_integrity(self) -> None:  # noqa: B027 - nothing to check in memory
        """Raise a StoreError when the history is damaged (before a run writes to it)."""

    def for_thread(self) -> HistoryRepository:
        """A handle on the same history that another thread may use (the heartbeat's)."""
        return self

    @abstractmethod
    def set_n_splits(self, study_id: int, n_splits: int) -> None:
        """The number of splits of the study's splitter, once known from the data."""

    @abstractmethod
    def rename_study(self, study_id: int, name: str) -> None: ...

    @abstractmethod
    def set_note(self, study_id: int, note: str) -> None: ...

    @abstractmethod
    def delete_study(self, study_id: int) -> None:
        """The study and all its trials, gone."""

    @abstractmethod
    def resolve(self, ref: str | int) -> int:
        """A study id from an id or a name (the newest study of that name)."""

    @abstractmethod
    def get_study(self, study_id: int) -> StudyRow: ...

    @abstractmethod
    def list_studies(self) -> list[StudySummary]:
        """Every study, oldest first, with its trial counts and best score."""

    # ----- trials --------------------------------------------------------------------
    @abstractmethod
    def save_trial(self, trial: TrialRecord) -> None:
        """Commit one finished trial (and its folds); a repeat of its key is ignored."""

    def save_trials(self, trials: Iterable[TrialRecord]) -> None:
        for trial in trials:
            self.save_trial(trial)

    @abstractmethod
    def load_trials(self, study_id: int, *, with_folds: bool = False) -> list[TrialRecord]:
        """Every stored trial as a record, in (number, rung) order."""

    @abstractmethod
    def open_trials(self, study_id: int, log_params: Iterable[str] = ()) -> TrialTable:
        """A study's trials as a table: columns now, records and folds when first read."""

    @abstractmethod
    def trial_marks(self, study_id: int) -> list[tuple[int, int, int]]:
        """(mark, number, rung) of a study's stored trials, in the order they were saved.

        A mark is a whole number that only grows: a trial saved later, by this process
        or another one, has a greater mark."""

    @abstractmethod
    def trials_after(self, study_id: int, mark: int) -> tuple[list[TrialRecord], int]:
        """The study's trials saved after ``mark`` (0: all of them), in saving order, with
        their folds, and the newest one's mark (``mark`` itself when none is new).

        A view that follows a study another process is writing reads only this."""

    def count_trials(self, study_id: int) -> tuple[int, int]:
        """(complete, not complete) trials of a study."""
        counts = self.count_states(study_id)
        complete = counts.get(TrialState.COMPLETE, 0)
        return complete, sum(counts.values()) - complete

    @abstractmethod
    def count_states(self, study_id: int) -> dict[TrialState, int]: ...

    # ----- nested cross-validation ---------------------------------------------------------
    def save_nested(self, study_id: int, result: dict[str, Any]) -> None:
        """Store the study's nested CV result (a JSON-able dict), replacing any earlier one."""
        raise StoreError(f"{type(self).__name__} cannot hold nested CV results")

    def load_nested(self, study_id: int) -> dict[str, Any] | None:
        """The study's nested CV result as saved, or None when it has none."""
        return None

    # ----- lifetime --------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - a backend without resources has nothing to do
        """Release connections; the object is not used afterwards."""

    def __enter__(self) -> HistoryRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def best_score(trials: Sequence[TrialRecord]) -> float | None:
    """The best mean test score of complete trials (None when there is none)."""
    scores = [t.mean_test_score for t in trials if t.ok and math.isfinite(t.mean_test_score)]
    return max(scores) if scores else None

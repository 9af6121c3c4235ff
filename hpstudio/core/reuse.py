"""Never fit the same thing twice: answer a candidate from an identical earlier evaluation.

Two evaluations are identical when they fit the same estimator (class, fixed parameters,
and whatever else the spec says about building it) with the same parameters and budget,
on the same data (the content fingerprint, not the file's path), split the same way, and
score it with the same scorers, under the same library versions. The study spec carries
all of these except the data, so a study's *evaluation key* is its spec without the parts
that only choose candidates (``name``, ``space``, ``search``) and without the data file's
path, plus the data fingerprint and the versions. Any stored study with the same key can
lend its complete trials; a candidate on an ``n_samples`` budget also needs the same
subsample seed (none: rows drawn at random, never reused).

So a grid re-run with one value added fits only the new candidates, a refined study
reuses its parent's overlap, and aggressive elimination never refits a candidate on a
budget it already ran. A reused trial keeps the scores and fit times of the original
and names the study that fitted it (``reused_from``). ``reuse = false`` turns it off.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import Budget, Candidate, TrialRecord, TrialState
from hpstudio.core.storage.base import HistoryRepository, StudyRow

_CHOOSING_ONLY = ("name", "space", "search")
TrialKey = tuple[str, str | None, float | None, int | None]


def evaluation_key(row: StudyRow) -> str | None:
    """What makes two studies' evaluations of one candidate identical; None: a study
    that cannot lend or borrow (no spec, or no data fingerprint)."""
    if row.spec is None or not row.data_fingerprint:
        return None
    spec = {k: v for k, v in row.spec.items() if k not in _CHOOSING_ONLY}
    data = dict(spec.get("data", {}))
    data.pop("csv", None)  # the same rows under another path are the same data
    spec["data"] = data
    return json.dumps({"spec": spec, "data": row.data_fingerprint, "versions": row.versions,
                       "splits": row.n_splits}, sort_keys=True, default=str)


def trial_key(params: dict[str, Any], budget: Budget | None, seed: int | None) -> TrialKey | None:
    """A candidate's identity within one evaluation key; None when it cannot be reused
    (rows subsampled without a seed)."""
    text = json.dumps(params, sort_keys=True, default=str)
    if budget is None:
        return (text, None, None, None)
    if budget.resource == "n_samples":
        if seed is None:
            return None
        return (text, budget.resource, float(budget.amount), int(seed))
    return (text, budget.resource, float(budget.amount), None)


@dataclass
class _Source:
    trial: TrialRecord
    study_id: int  # the study that fitted it


class ReuseIndex:
    """The complete trials a study may take instead of fitting, found by trial key."""

    def __init__(self, key: str | None = None, seed: int | None = None) -> None:
        self.key = key
        self.seed = seed  # this study's subsample seed
        self._sources: dict[TrialKey, _Source] = {}
        self.n_reused = 0
        self.fits_saved = 0

    @classmethod
    def build(cls, store: HistoryRepository, study_id: int) -> ReuseIndex:
        """The index of every stored study that shares ``study_id``'s evaluation key."""
        own = store.get_study(study_id)
        index = cls(evaluation_key(own), _seed_of(own))
        if index.key is None:
            return index
        for summary in store.list_studies():
            try:
                row = own if summary.id == study_id else store.get_study(summary.id)
            except HpstudioError:
                continue  # deleted meanwhile
            if evaluation_key(row) != index.key:
                continue
            seed = _seed_of(row)
            for trial in store.load_trials(row.id):
                index.add(row.id, trial, seed)
        return index

    def __len__(self) -> int:
        return len(self._sources)

    def add(self, study_id: int, trial: TrialRecord, seed: int | None = None) -> None:
        """Offer a complete trial of a study with this key (``seed``: that study's)."""
        if self.key is None or trial.state is not TrialState.COMPLETE:
            return
        if not trial.split_test_scores:
            return
        key = trial_key(trial.params, trial.budget, seed if seed is not None else self.seed)
        if key is not None and key not in self._sources:
            self._sources[key] = _Source(trial, trial.reused_from or study_id)

    def answer(self, study_id: int, candidate: Candidate) -> TrialRecord | None:
        """The candidate's trial made from an identical earlier fit, or None."""
        if self.key is None:
            return None
        budget = candidate.budget
        seed = budget.seed if budget is not None and budget.seed is not None else self.seed
        key = trial_key(candidate.params, budget, seed)
        source = self._sources.get(key) if key is not None else None
        if source is None:
            return None
        original = source.trial
        now = time.time()
        self.n_reused += 1
        self.fits_saved += len(original.split_test_scores)
        return TrialRecord(
            study_id=study_id, number=candidate.number, params=dict(original.params),
            state=TrialState.COMPLETE, test_scores=dict(original.test_scores),
            train_scores=None if original.train_scores is None else dict(original.train_scores),
            fit_times=original.fit_times, score_times=original.score_times, started=now,
            finished=now, subspace=candidate.subspace, refit=original.refit,
            rung=candidate.rung, budget=candidate.budget, value=original.value,
            reused_from=source.study_id)

    def closing_notes(self) -> list[str]:
        if not self.n_reused:
            return []
        return [f"{self.n_reused} trial{'s' if self.n_reused != 1 else ''} taken from "
                f"identical earlier fits, {self.fits_saved} fits not run again "
                "(search.reuse = false refits them)"]


def _seed_of(row: StudyRow) -> int | None:
    seed = (row.spec or {}).get("search", {}).get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


__all__ = ["ReuseIndex", "evaluation_key", "trial_key"]

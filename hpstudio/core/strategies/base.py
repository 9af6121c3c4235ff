"""The ask/tell interface every search strategy implements.

The study loop asks for candidates while workers are free and tells results as trials
end; a strategy never sees processes, storage or Qt. ``restore`` replays a stored study
so that a resumed run goes on exactly where the interrupted one stopped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hpstudio.core.records import Candidate, FoldResult, TrialRecord


class Caution(str):
    """A closing note the log shows as a warning: something about the run's result that
    the user should act on, not just read."""


@dataclass(frozen=True)
class StudyFacts:
    """What the data and the estimator tell a strategy before its first ask.

    Successive halving sizes its rungs from them (rows, splits, classes, and the
    estimator's own budget parameters); early stopping needs the number of splits.
    ``estimator_params`` are named as the search space names them, with the fixed values
    of the spec applied."""

    n_samples: int
    n_splits: int
    n_classes: int | None = None  # None: not a classification task
    estimator: str = ""  # the estimator's class name, for messages
    estimator_params: Mapping[str, Any] = field(default_factory=dict)


class Strategy(ABC):
    @property
    @abstractmethod
    def total(self) -> int | None:
        """How many candidates the strategy will propose at most (None: unbounded)."""

    @abstractmethod
    def ask(self) -> Candidate | None:
        """The next candidate, or None when the strategy has nothing more to propose."""

    def tell(self, trial: TrialRecord) -> None:  # noqa: B027 - optional for stateless strategies
        """Learn from a finished trial (grid and random search ignore it)."""

    def note_backlog(self, in_flight: int, n_workers: int) -> None:  # noqa: B027 - optional
        """Hear, just before an ``ask``, how many fold tasks are queued or running.

        A strategy whose suggestions take time to compute (Bayesian search) may then wait
        for one only as long as the workers still have folds to run; grid and random
        search answer at once and ignore it.
        """

    def bind(self, facts: StudyFacts) -> None:  # noqa: B027 - optional
        """Learn the study's data and estimator before the first ``ask`` (and ``restore``)."""

    @property
    def waiting(self) -> bool:
        """Whether a None from ``ask`` only means "not yet": the strategy needs the
        results of trials in flight before it can propose more (synchronous halving at
        the end of a rung). The study loop then collects results and asks again."""
        return False

    def describe_plan(self) -> list[str]:
        """Lines for the study's log once bound (e.g. the rungs of successive halving)."""
        return []

    def closing_notes(self) -> list[str]:
        """Lines for the study's log when the run ends (e.g. fits saved by pruning);
        a ``Caution`` is logged as a warning."""
        return []

    def hear_fold(self, candidate: Candidate, result: FoldResult,
                  folds: Sequence[FoldResult]) -> bool:
        """Hear a fold of a running trial as it ends (``folds``: all of its folds so far).

        Answering True stops the trial: its other folds are cancelled and it is stored as
        pruned with the folds it ran. Strategies that never stop a trial early keep the
        default."""
        return False

    @abstractmethod
    def restore(self, finished: Sequence[TrialRecord]) -> None:
        """Take back a stored study's finished trials before the first ask of a resumed run."""


class SequenceStrategy(Strategy):
    """A strategy whose n-th candidate is fixed in advance (grid, seeded random).

    Resuming then needs no optimiser state: numbers already finished are skipped, and
    numbers that were in flight when the process died are proposed again.
    """

    def __init__(self) -> None:
        self._next = 0
        self._done: set[int] = set()

    @abstractmethod
    def candidate(self, number: int) -> Candidate | None:
        """The candidate with this number, or None past the end of the sequence."""

    def ask(self) -> Candidate | None:
        while True:
            number = self._next
            if self.total is not None and number >= self.total:
                return None
            self._next += 1
            if number in self._done:
                continue
            return self.candidate(number)

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        self._done = {trial.number for trial in finished}
        self._next = 0


def study_facts(context: Any, dataset: Any, n_splits: int) -> StudyFacts:
    """The facts of a study about to run: rows, splits, classes, estimator parameters."""
    import numpy as np

    from hpstudio.core.evaluate import build_estimator

    estimator = build_estimator(context)
    prefix = context.param_prefix
    params: dict[str, Any] = {}
    try:
        for name, value in estimator.get_params(deep=True).items():
            params[name[len(prefix):] if prefix and name.startswith(prefix) else name] = value
    except Exception:  # an estimator whose get_params fails: no budget parameter known
        params = {}
    n_classes = len(np.unique(dataset.y)) if context.classifier else None
    return StudyFacts(n_samples=int(dataset.X.shape[0]), n_splits=n_splits, n_classes=n_classes,
                      estimator=context.estimator_class.rsplit(".", 1)[-1],
                      estimator_params=params)

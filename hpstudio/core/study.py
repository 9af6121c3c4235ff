"""The study loop: ask -> execute -> store -> tell -> emit, with pause, stop and resume.

The CLI, the GUI's runner thread and the tests all drive this one loop. Workers are kept
busy across trial boundaries: the loop asks for the next candidate while the folds of
earlier ones still run, so no worker waits for a trial to end.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hpstudio.core.data import Dataset, load_dataset
from hpstudio.core.errors import DataError, HpstudioError, StoreError
from hpstudio.core.evaluate import (
    EvaluationContext,
    FoldTask,
    context_for,
    make_splitter,
    split_indices,
)
from hpstudio.core.events import (
    StudyEnded,
    StudyEvent,
    StudyLog,
    StudyPaused,
    StudyResumed,
    StudyStarted,
    TrialFinished,
)
from hpstudio.core.executor import STOP_GRACE_SECONDS, Executor, LocalExecutor
from hpstudio.core.records import (
    SCORE,
    Candidate,
    FoldResult,
    StudyStatus,
    TrialRecord,
    TrialState,
)
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryRepository, NewStudy
from hpstudio.core.storage.liveness import HEARTBEAT_SECONDS, new_owner
from hpstudio.core.strategies import Strategy, make_strategy
from hpstudio.core.strategies.base import Caution, study_facts

Listener = Callable[[StudyEvent], None]
_POLL_SECONDS = 0.05
_MAX_WARNINGS = 10  # distinct warning texts logged per study


@dataclass(frozen=True)
class StudyOutcome:
    study_id: int
    status: StudyStatus
    reason: str | None
    best: TrialRecord | None
    n_complete: int
    n_failed: int
    elapsed: float


@dataclass(frozen=True)
class PreparedStudy:
    """A study whose data and evaluation its caller prepared (the Python API: data in
    memory, estimator objects). ``spec`` holds the search (space, strategy, budgets);
    ``study`` is how it is stored (origin, spec or None, metrics)."""

    spec: StudySpec
    dataset: Dataset
    context: EvaluationContext
    study: NewStudy


@dataclass
class _Progress:
    """Mutable bookkeeping of one run; only the loop's thread touches it."""

    n_complete: int = 0
    n_failed: int = 0
    best: TrialRecord | None = None
    since_improvement: int = 0
    in_progress: dict[tuple[int, int], Candidate] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)  # warning texts already logged
    folds: dict[tuple[int, int], dict[int, FoldResult]] = field(default_factory=dict)
    refit: str = SCORE  # the key of the metric that ranks trials

    def record(self, trial: TrialRecord) -> None:
        if trial.ok:
            self.n_complete += 1
            # as scikit-learn's halving searches choose: the highest rung reached wins
            if self.best is None or (trial.rung, trial.mean_test_score) > (
                    self.best.rung, self.best.mean_test_score):
                self.best = trial
                self.since_improvement = 0
                return
        else:
            self.n_failed += 1
        self.since_improvement += 1


class StudyRunner:
    """Runs or resumes one study at a time; pause/stop may be called from any thread."""

    def __init__(self, store: HistoryRepository, *, n_jobs: int | None = None,
                 executor: Executor | None = None, listener: Listener | None = None,
                 allowed_packages: Iterable[str] = ()) -> None:
        self.store = store
        self.executor = executor or LocalExecutor(n_jobs)
        self.listener = listener or (lambda event: None)
        self.allowed_packages = tuple(allowed_packages)
        self._stop_reason: str | None = None
        self._stop = threading.Event()
        self._stop_now = threading.Event()
        self._resume = threading.Event()
        self._resume.set()

    # ----- control, from any thread ----------------------------------------------------
    def pause(self) -> None:
        """Finish the folds in flight, start no new ones."""
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self, reason: str = "stopped by user", *, now: bool = False) -> None:
        """Start no new folds; running ones get a grace period to finish, unless ``now``
        (then their workers are stopped at once and their folds are not saved)."""
        if not self._stop.is_set():
            self._stop_reason = reason
            self._stop.set()
        if now:
            self._stop_now.set()
        self._resume.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    # ----- running ---------------------------------------------------------------------------
    def run(self, spec: StudySpec | None = None, *, study_id: int | None = None) -> StudyOutcome:
        """Run a new study from ``spec``, or resume ``study_id`` from where it stopped."""
        if (spec is None) == (study_id is None):
            raise ValueError("give a spec for a new study or the id of one to resume")
        resumed = study_id is not None
        previous_elapsed = 0.0
        owner = new_owner()
        if study_id is not None:
            row = self.store.get_study(study_id)
            spec = row.study_spec("resume it")
            previous_elapsed = row.elapsed
        assert spec is not None
        estimator_class = spec.validate(self.allowed_packages)
        dataset = load_dataset(spec.data)
        spec.check_feasible(dataset, self.allowed_packages)
        fingerprint = dataset.fingerprint()
        context = context_for(spec, dataset, estimator_class, self.allowed_packages)
        n_splits = count_splits(context, dataset)
        if spec.search.strategy.startswith("halving"):  # an impossible plan: refused up front
            make_strategy(spec).bind(study_facts(context, dataset, n_splits))
        self.store.check_integrity()  # a damaged history gets nothing, not a failed study
        if study_id is None:
            study_id = self.store.create_study(
                spec.to_dict(), base_dir=spec.data.base_dir, n_total=spec.planned_trials(),
                data_fingerprint=fingerprint, dataset=spec.data.label, n_splits=n_splits,
                owner=owner)
        else:
            stored = self.store.get_study(study_id).data_fingerprint
            if stored and stored != fingerprint:
                raise DataError(
                    f"the data of study #{study_id} changed since it ran (fingerprint {stored} "
                    f"now {fingerprint}); resuming would mix results from different data, so "
                    "start a new study instead"
                )
            self.store.claim_study(study_id, owner, spec.planned_trials())
            self.store.set_n_splits(study_id, n_splits)
        with _Heartbeat(self.store, study_id, owner, self.stop):
            return self._run(study_id, spec, dataset, context, n_splits, resumed,
                             previous_elapsed, owner)

    def run_prepared(self, prepared: PreparedStudy) -> StudyOutcome:
        """Run a new study prepared by the caller, through the same loop as ``run``."""
        from dataclasses import replace

        owner = new_owner()
        n_splits = count_splits(prepared.context, prepared.dataset)
        self.store.check_integrity()
        study_id = self.store.add_study(replace(
            prepared.study, n_total=prepared.spec.planned_trials(), n_splits=n_splits,
            owner=owner))
        with _Heartbeat(self.store, study_id, owner, self.stop):
            return self._run(study_id, prepared.spec, prepared.dataset, prepared.context,
                             n_splits, False, 0.0, owner)

    def _run(self, study_id: int, spec: StudySpec, dataset: Dataset,
             context: EvaluationContext, n_splits: int, resumed: bool,
             previous_elapsed: float, owner: str) -> StudyOutcome:
        from hpstudio.core.scoring import refit_key

        started = time.time()
        progress = _Progress(refit=refit_key(spec.scoring))
        finished = self.store.load_trials(study_id)
        for trial in finished:
            progress.record(trial)
        strategy = make_strategy(spec)
        strategy.bind(study_facts(context, dataset, n_splits))
        strategy.restore(finished)
        n_total = strategy.total or spec.planned_trials()
        reuse = None
        if spec.search.reuse:
            from hpstudio.core.reuse import ReuseIndex

            reuse = ReuseIndex.build(self.store, study_id)
        self.listener(StudyStarted(study_id, spec.name, n_total, progress.n_complete,
                                   progress.n_failed, resumed, self.executor.n_workers))
        if dataset.dropped_rows:
            self._log(f"{dataset.dropped_rows} rows without a target value were left out")
        for text in split_warnings(context, dataset):
            self._log(f"scikit-learn warns about the splits: {text}", "warning")
        for line in strategy.describe_plan():
            self._log(line)
        status, reason = StudyStatus.FAILED, "ended unexpectedly"
        try:
            timeout = spec.search.trial_timeout
            if not self.executor.set_fold_timeout(timeout) and timeout:
                self._log(f"trial_timeout: {type(self.executor).__name__} cannot stop a fit "
                          "that runs too long; folds run to their end", "warning")
            self.executor.start(context, dataset.X, dataset.y, dataset.groups)
            status, reason = self._loop(study_id, spec, strategy, progress, started,
                                        previous_elapsed, n_splits, reuse)
            for line in strategy.closing_notes() + (reuse.closing_notes() if reuse else []):
                self._log(line, "warning" if isinstance(line, Caution) else "info")
            if status is StudyStatus.FINISHED and spec.cv.outer is not None:
                from hpstudio.core.nested import run_nested_for_study

                status, reason = run_nested_for_study(
                    self.store, study_id, spec, dataset, context, self.executor,
                    should_stop=self._stop.is_set, log=self._log, reason=reason)
        except KeyboardInterrupt:
            status, reason = StudyStatus.STOPPED, "interrupted (Ctrl+C)"
            raise
        except HpstudioError as exc:
            status, reason = StudyStatus.FAILED, str(exc)
            raise
        except Exception as exc:
            status, reason = StudyStatus.FAILED, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.executor.close()
            elapsed = previous_elapsed + time.time() - started
            try:
                self.store.set_status(study_id, status, reason, elapsed=elapsed, owner=owner)
            except StoreError as exc:
                self._log(f"could not record the study's end: {exc}", "error")
            self.listener(StudyEnded(study_id, status, reason, progress.best,
                                     progress.n_complete, progress.n_failed, elapsed))
        return StudyOutcome(study_id, status, reason, progress.best, progress.n_complete,
                            progress.n_failed, previous_elapsed + time.time() - started)

    def _loop(self, study_id: int, spec: StudySpec, strategy: Strategy, progress: _Progress,
              started: float, previous_elapsed: float, folds: int,
              reuse: Any = None) -> tuple[StudyStatus, str | None]:
        executor = self.executor
        # Two waves of tasks queued per worker: enough that none idles at a trial boundary,
        # few enough that pause and stop act within one fold's time.
        queue_depth = 2 * executor.n_workers
        exhausted = False
        was_paused = False
        limit = spec.search.time_limit
        patience = spec.search.patience
        stopping_since: float | None = None
        reused: list[TrialRecord] = []  # answered from earlier fits, not yet told
        while True:
            if self._stop.is_set():
                executor.cancel_pending()
                stopping_since = stopping_since or time.monotonic()
                if self._stop_now.is_set() and executor.in_flight:
                    self._log(f"stopped now: {executor.in_flight} folds in flight were dropped",
                              "warning")
                    executor.abandon_running()
                    return StudyStatus.STOPPED, self._stop_reason
                if time.monotonic() - stopping_since > STOP_GRACE_SECONDS:
                    self._log(f"stopped without waiting for {executor.in_flight} folds still "
                              f"running after {STOP_GRACE_SECONDS:g} s", "warning")
                    return StudyStatus.STOPPED, self._stop_reason
            elif self._resume.is_set() and not exhausted:
                while executor.in_flight + len(reused) < queue_depth:
                    strategy.note_backlog(executor.in_flight, executor.n_workers)
                    candidate = strategy.ask()
                    if candidate is None:  # a waiting strategy asks again after results
                        exhausted = not strategy.waiting or (
                            executor.in_flight == 0 and not reused)
                        break
                    earlier = reuse.answer(study_id, candidate) if reuse else None
                    if earlier is not None:
                        reused.append(earlier)
                        continue
                    progress.in_progress[candidate.key] = candidate
                    for fold in range(folds):
                        executor.submit(FoldTask(candidate.number, fold, candidate.params,
                                                 candidate.rung, candidate.budget))
            if executor.in_flight == 0 and not reused:
                if self._stop.is_set():
                    return StudyStatus.STOPPED, self._stop_reason
                if exhausted:
                    return StudyStatus.FINISHED, _finished_reason(spec, progress)
                if not self._resume.is_set():
                    if not was_paused:
                        was_paused = True
                        self._log("paused: folds in flight finished, no new ones started")
                        self.listener(StudyPaused(study_id))
                    self._resume.wait(_POLL_SECONDS)
                    continue
            if was_paused and self._resume.is_set():
                was_paused = False
                self._log("resumed")
                self.listener(StudyResumed(study_id))
            ready, reused = reused, []
            for result in executor.results(timeout=0 if ready else _POLL_SECONDS):
                self._hear_warnings(result, progress)
                trial = self._collect(study_id, result, progress, folds, strategy)
                if trial is not None:
                    ready.append(trial)
            for trial in ready:
                self.store.save_trial(trial)  # stored before anyone is told
                if reuse is not None:
                    reuse.add(study_id, trial)
                strategy.tell(trial)
                progress.record(trial)
                if trial.state is TrialState.FAILED:
                    self._log(f"trial {trial.number} failed: {trial.error}", "warning")
                elapsed = previous_elapsed + time.time() - started
                self.listener(TrialFinished(trial, progress.n_complete, progress.n_failed,
                                            progress.best, elapsed))
                if patience and progress.since_improvement >= patience:
                    self.stop(f"no improvement in the last {patience} trials")
            if limit and previous_elapsed + time.time() - started >= limit:
                self.stop(f"time limit of {limit:g} s reached")

    def _collect(self, study_id: int, result: FoldResult, progress: _Progress, folds: int,
                 strategy: Strategy) -> TrialRecord | None:
        """Add a fold's result; return the trial once all its folds are in, or once the
        strategy stops it early (pruned, with the folds it ran)."""
        key = (result.trial_number, result.rung)
        candidate = progress.in_progress.get(key)
        if candidate is None:
            return None  # a late fold of a trial already stored (a repeat, or pruned)
        by_fold = progress.folds.setdefault(key, {})
        by_fold[result.fold] = result
        done = [by_fold[k] for k in sorted(by_fold)]
        pruned = len(by_fold) < folds and strategy.hear_fold(candidate, result, done)
        if len(by_fold) < folds and not pruned:
            return None
        del progress.in_progress[key]
        del progress.folds[key]
        if pruned:
            self.executor.cancel_trial(candidate.number, candidate.rung)
        return make_trial(study_id, candidate, done, pruned=pruned, refit=progress.refit)

    def _hear_warnings(self, result: FoldResult, progress: _Progress) -> None:
        """Log what the estimator warned about, each text once per study."""
        for text in result.warnings:
            if text in progress.warned or len(progress.warned) > _MAX_WARNINGS:
                continue
            progress.warned.add(text)
            if len(progress.warned) > _MAX_WARNINGS:
                self._log("more warnings from the fits are not shown", "warning")
            else:
                self._log(f"scikit-learn warns (trial {result.trial_number}): {text}",
                          "warning")

    def _log(self, message: str, level: str = "info") -> None:
        self.listener(StudyLog(message, level))


class _Heartbeat:
    """Tells the history, every few seconds and from a thread of its own, that this run
    is alive; a long fit in this process (the serial executor) does not silence it. When
    the run learns it lost the study (another process claimed it after its heartbeat went
    stale, e.g. after a laptop slept), it stops instead of running the study twice."""

    def __init__(self, store: HistoryRepository, study_id: int, owner: str,
                 stop: Callable[[str], None]) -> None:
        self._store = store
        self._study_id = study_id
        self._owner = owner
        self._stop_run = stop
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="hpstudio-heartbeat",
                                        daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=HEARTBEAT_SECONDS * 2)

    def _beat(self) -> None:
        try:
            store = self._store.for_thread()
        except HpstudioError:
            return
        try:
            while not self._done.wait(HEARTBEAT_SECONDS):
                try:
                    alive = store.heartbeat(self._study_id, self._owner)
                except HpstudioError:
                    continue  # a busy or briefly unreadable history: beat again later
                if not alive:
                    self._stop_run("another process took this study over")
                    return
        finally:
            if store is not self._store:
                store.close()


def resumable_study(store: HistoryRepository, spec: StudySpec) -> int | None:
    """The newest study of this name and the very same spec, if it stopped before its end.

    Running a spec again goes on with such a study (the command line and the app's Start
    alike) instead of piling up copies of it; a finished study is never reopened."""
    from hpstudio.core.errors import StudyNotFound

    try:
        study_id = store.resolve(spec.name)
    except StudyNotFound:
        return None
    row = store.get_study(study_id)
    if row.status in (StudyStatus.INTERRUPTED, StudyStatus.STOPPED) and row.spec == spec.to_dict():
        return study_id
    return None


def make_trial(study_id: int, candidate: Candidate, folds: list[FoldResult], *,
               pruned: bool = False, refit: str = SCORE) -> TrialRecord:
    """A trial record from its folds (in fold order); any fold error makes the whole
    trial failed, a trial stopped early is pruned."""
    errors = [f"fold {f.fold}: {f.error}" for f in folds if f.error]
    metrics = list(dict.fromkeys(m for f in folds for m in f.test_scores)) or [refit]
    test = {m: tuple(_score(f.test_scores.get(m)) for f in folds) for m in metrics}
    train: dict[str, tuple[float, ...]] | None = None
    if all(f.train_scores is not None for f in folds):
        train = {m: tuple(_score(f.train_scores.get(m)) for f in folds)  # type: ignore[union-attr]
                 for m in metrics}
    state = TrialState.FAILED if errors else TrialState.PRUNED if pruned else TrialState.COMPLETE
    return TrialRecord(
        study_id=study_id, number=candidate.number, params=_plain(candidate.params),
        state=state, test_scores=test, train_scores=train,
        fit_times=tuple(f.fit_time for f in folds),
        score_times=tuple(f.score_time for f in folds),
        started=min(f.started for f in folds), finished=max(f.finished for f in folds),
        subspace=candidate.subspace, error=errors[0] if errors else None,
        refit=refit if refit in test else metrics[0], rung=candidate.rung,
        budget=candidate.budget, folds=tuple(folds),
    )


def count_splits(context: EvaluationContext, dataset: Dataset) -> int:
    """How many splits the study's splitter makes of this data (every progress figure,
    ETA and cost preview counts them)."""
    from hpstudio.core.splitters import count_splits as splits_of_data

    splitter = make_splitter(context, dataset.y, dataset.groups)
    return splits_of_data(splitter, context.splitter, dataset.X, dataset.y, dataset.groups)


def split_warnings(context: EvaluationContext, dataset: Dataset) -> tuple[str, ...]:
    """What scikit-learn warns about the study's splits (e.g. "the least populated class
    has only 3 members"): the workers split the same way, silently."""
    import warnings

    from hpstudio.core.evaluate import warning_texts

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split_indices(context, dataset.X, dataset.y, dataset.groups)
    return warning_texts(caught)


def _score(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as plain Python values, so records compare and serialise cleanly."""
    out = {}
    for name, value in params.items():
        out[name] = value.item() if hasattr(value, "item") and callable(value.item) else value
    return out


def _finished_reason(spec: StudySpec, progress: _Progress) -> str:
    done = progress.n_complete + progress.n_failed
    if spec.search.strategy == "grid":
        return f"all {done} candidates evaluated"
    if spec.search.strategy.startswith("halving"):
        return f"successive halving done: {done} trials over its rungs"
    return f"trial budget of {done} trials reached"

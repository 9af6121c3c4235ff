"""hpstudio for code: tune from a notebook or a script, and record searches that ran.

``tune`` takes what scikit-learn's searches take (an estimator or pipeline object, a
``param_grid`` or ``param_distributions``, ``cv``, ``scoring``, ``refit``, ``groups``)
and runs the search as a study of the history, through the same study loop as the app
and the command line: every trial is committed the moment it ends, the app shows it live,
and the result reads like a fitted ``GridSearchCV`` (``best_params_``, ``best_score_``,
``cv_results_``, ``best_estimator_``). ``record`` stores a search that already ran
(``GridSearchCV``, ``RandomizedSearchCV``, the halving searches, scikit-optimize's
``BayesSearchCV``) as a study to look at in the app.

Data given in memory is kept beside the history in safe formats (Parquet, ``.npy``; never
pickle), so the app can resume, refine and refit a study later; an estimator made of
allowed classes is stored as the study's spec, any other as a description (the study is
then shown read-only).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from hpstudio.core.cv_results import best_index, cv_results
from hpstudio.core.errors import HpstudioError, SpecError
from hpstudio.core.records import StudyOrigin, StudyStatus, TrialRecord

__all__ = ["StudyResult", "record", "tune"]

STRATEGIES = ("grid", "random", "bayes")
DEFAULT_TRIALS = {"random": 10, "bayes": 50}  # RandomizedSearchCV's n_iter, BayesSearchCV's


class StudyResult:
    """A finished study, read like a fitted scikit-learn search.

    Attributes: ``study_id`` and ``name`` (what ``hpstudio gui --study`` and the other
    commands take), ``history`` (the history file, or the repository object given as
    ``db``), ``cv_results_`` (scikit-learn's keys and values), ``best_index_``,
    ``best_params_``, ``best_score_``, ``best_estimator_`` (refitted on all the data the
    first time it is read, as ``GridSearchCV(refit=True)`` would have), ``n_splits_``,
    ``multimetric_``, ``refit`` (the metric that ranks, or False), ``status``, ``reason``
    and ``trials`` (the study's trial records, in ``cv_results_`` order)."""

    def __init__(self, *, study_id: int, name: str, history: Any,
                 trials: Sequence[TrialRecord], metrics: Sequence[str], rank: str,
                 refit: bool, multimetric: bool, n_splits: int | None,
                 train_score: bool, status: StudyStatus, reason: str | None,
                 refitter: Callable[[dict[str, Any]], Any] | None = None,
                 best_estimator: Any = None, ordered: bool = False) -> None:
        self.study_id = study_id
        self.name = name
        self.history = history
        self.trials = tuple(trials) if ordered else tuple(
            sorted(trials, key=lambda t: (t.rung, t.number)))
        self.status = status
        self.reason = reason
        self.n_splits_ = n_splits
        self.multimetric_ = multimetric
        self.refit: str | bool = (rank if multimetric else True) if refit else False
        self._rank = rank
        self._refitter = refitter
        self._best_estimator = best_estimator
        self.cv_results_ = cv_results(self.trials, metrics, train=train_score)
        self.best_index_ = best_index(self.cv_results_, rank)

    @property
    def best_params_(self) -> dict[str, Any]:
        """The parameters of the best candidate (of the last rung for halving searches)."""
        return dict(self.cv_results_["params"][self._best()])

    @property
    def best_score_(self) -> float:
        """The best candidate's mean cross-validated score of the ranking metric."""
        return float(self.cv_results_[f"mean_test_{self._rank}"][self._best()])

    @property
    def best_estimator_(self) -> Any:
        """The best candidate refitted on all the data (on first read, then kept)."""
        if self._best_estimator is None:
            if self.refit is False:
                raise AttributeError("best_estimator_ is not available: the study was run "
                                     "with refit=False")
            if self._refitter is None:
                raise AttributeError("best_estimator_ is not available: give X and y to "
                                     "record() to refit the best candidate")
            self._best_estimator = self._refitter(self.best_params_)
        return self._best_estimator

    def to_frame(self) -> Any:
        """``cv_results_`` as a pandas DataFrame, one row per candidate."""
        import pandas as pd

        return pd.DataFrame(self.cv_results_)

    def _best(self) -> int:
        if self.best_index_ is None:
            raise HpstudioError(f"study #{self.study_id} {self.name!r} has no successful "
                                "candidate: every fit failed (see the trials' errors)")
        return self.best_index_

    def __repr__(self) -> str:
        best = "no successful candidate"
        if self.best_index_ is not None:
            best = f"best {self._rank} {self.best_score_:.6g} with {self.best_params_}"
        return (f"<StudyResult #{self.study_id} {self.name!r}: {len(self.trials)} trials, "
                f"{self.status.value}; {best}>")


def tune(estimator: Any, param_grid: Any, X: Any, y: Any = None, *, cv: Any = 5,
         scoring: Any = None, refit: Any = None, strategy: str = "grid",
         n_trials: int | None = None, name: str | None = None, db: Any = None,
         n_jobs: int | None = None, groups: Any = None, random_state: int | None = None,
         return_train_score: bool = False, progress: bool = True,
         allowed_packages: Iterable[str] = ()) -> StudyResult:
    """Run a hyperparameter search as a study, and return it finished.

    ``estimator``: any scikit-learn estimator or ``Pipeline`` object (cloned for every
    fit). ``param_grid``: scikit-learn's form, a dict or a list of dicts whose values are
    lists of candidates (estimator objects allowed), ``scipy.stats`` ``uniform``,
    ``loguniform`` or ``randint`` distributions, or scikit-optimize dimensions. ``X``,
    ``y``: NumPy arrays, pandas objects or sparse matrices, kept beside the history
    (Parquet / ``.npy``, never pickle) so the app can resume, refine and refit the study.

    ``cv``: a number of folds (StratifiedKFold for classifiers, KFold otherwise, as
    scikit-learn does), any splitter, or an iterable of (train, test) splits; ``groups``
    goes to the splitter. ``scoring``: None (the estimator's ``score``), a scorer name, a
    callable scorer, or a list or dict of them; ``refit``: with several metrics, the one
    that picks the best candidate (default: the first), or False not to refit.

    ``strategy``: ``"grid"`` (every candidate, in ``ParameterGrid`` order, as
    ``GridSearchCV``), ``"random"`` (``n_trials`` candidates, default 10, as
    ``RandomizedSearchCV``) or ``"bayes"`` (default 50 trials); ``random_state`` seeds
    the sampling. ``n_jobs``: None or 1 runs the fits in this process (as scikit-learn's
    default does), -1 on every core, N on N worker processes.

    ``name``: the study's name (default: the estimator's class and the strategy);
    ``db``: the history file (default: the per-user history, or ``HPSTUDIO_DB``), or a
    history repository such as ``MemoryHistory()``. ``progress`` shows a progress bar
    (tqdm's, a widget in notebooks). A fit that raises makes its trial failed and the
    search goes on, as ``error_score=nan`` does; a warning counts them at the end.

    Returns a :class:`StudyResult`; ``hpstudio gui --study NAME`` opens it in the app.
    """
    from sklearn.base import is_classifier

    from hpstudio.core.describe import class_path, short_name
    from hpstudio.core.study import PreparedStudy, StudyRunner
    from hpstudio.core.tuning import (
        check_param_names,
        make_splitter,
        normalize_scoring,
        space_from_param_grid,
    )

    _check_estimator(estimator)
    if strategy not in STRATEGIES:
        raise SpecError(f"strategy: {strategy!r} is not one of {', '.join(STRATEGIES)}")
    subspaces = space_from_param_grid(param_grid)
    check_param_names(estimator, subspaces)
    scorer = normalize_scoring(scoring, refit)
    X, y, groups = _check_data(X, y, groups)
    trials_budget = _check_trials(strategy, n_trials)
    _check_seed(random_state)
    classifier = bool(is_classifier(estimator))
    splitter = make_splitter(cv, X, y, classifier, groups)
    n_splits = int(splitter.get_n_splits(X, y))
    name = _check_name(name if name is not None else f"{short_name(estimator)}-{strategy}")
    store, owned = _open_history(db)
    try:
        stored = _store_data(store, X, y, groups)
        from hpstudio.core.spec import SearchSpec

        search = SearchSpec(strategy, trials_budget, random_state)
        runnable = _runnable_spec(name, estimator, subspaces, stored, cv, groups, y, scorer,
                                  return_train_score, search, tuple(allowed_packages))
        # the loop searches the objects given; the history keeps the spec that rebuilds them
        spec = _search_only_spec(name, estimator, subspaces, search, stored)
        dataset = _dataset(X, y)
        context = _context(estimator, classifier, splitter, n_splits, scorer,
                           return_train_score, tuple(allowed_packages))
        study = _new_study(name, runnable, stored, dataset, estimator, strategy, scorer,
                           subspaces, cv, groups, class_path(estimator))
        listener = _Listener(progress, name)
        runner = StudyRunner(store, executor=_executor(n_jobs), listener=listener,
                             allowed_packages=allowed_packages)
        try:
            outcome = runner.run_prepared(PreparedStudy(spec, dataset, context, study))
        finally:
            listener.close()
    finally:
        if owned:
            store.close()
    _warn_failures(listener.trials)

    def refit_best(params: dict[str, Any]) -> Any:
        from sklearn.base import clone

        best = clone(estimator).set_params(**clone(params, safe=False))
        return best.fit(X) if y is None else best.fit(X, y)

    return StudyResult(
        study_id=outcome.study_id, name=name, history=_history_of(store, db),
        trials=listener.trials, metrics=scorer.keys, rank=scorer.rank, refit=scorer.refit,
        multimetric=scorer.multimetric, n_splits=n_splits, train_score=return_train_score,
        status=outcome.status, reason=outcome.reason, refitter=refit_best)


def record(fitted_search: Any, *, name: str | None = None, db: Any = None, X: Any = None,
           y: Any = None) -> StudyResult:
    """Store a fitted search as a study, to look at in the app and export like any other.

    ``fitted_search``: a fitted ``GridSearchCV``, ``RandomizedSearchCV``,
    ``HalvingGridSearchCV``, ``HalvingRandomSearchCV`` or scikit-optimize
    ``BayesSearchCV``. All of its ``cv_results_`` is kept: every candidate's split
    scores (train scores too when it has them), every metric of a multi-metric search
    and the one its ``refit`` names, the rungs of a halving search (``iter``) with their
    budgets (``n_resources`` of ``resource_``), the scorer names, and a description of
    the estimator. ``X``, ``y`` (optional) are kept beside the history in safe formats,
    for refitting later. ``name`` defaults to the search's class and the estimator's.

    The study is stored read-only (origin "recorded"): it can be looked at, compared and
    exported, not run again. Returns a :class:`StudyResult`.
    """
    from hpstudio.core.recording import record_search

    store, owned = _open_history(db)
    try:
        stored = _store_data(store, X, y, None) if X is not None else None
        fingerprint = _fingerprint(_dataset(X, y)) if X is not None else None
        recording = record_search(fitted_search, name=name, stored=stored,
                                  data_fingerprint=fingerprint)
        study_id = recording.save(store)
        row = store.get_study(study_id)
    finally:
        if owned:
            store.close()
    from dataclasses import replace

    # in the search's own row order (a halving search lists each rung's best first), with
    # the parameter values it held (the history keeps estimator objects as their text)
    records = [replace(t, study_id=study_id) for t in recording.trials]
    best_estimator = getattr(fitted_search, "best_estimator_", None)
    refitter = None
    if X is not None:
        def refitter(params: dict[str, Any]) -> Any:
            from sklearn.base import clone

            best = clone(fitted_search.estimator).set_params(**clone(params, safe=False))
            return best.fit(X) if y is None else best.fit(X, y)

    metrics = [k[len("mean_test_"):] for k in fitted_search.cv_results_
               if k.startswith("mean_test_")]
    return StudyResult(
        study_id=study_id, name=row.name, history=_history_of(store, db), trials=records,
        metrics=metrics, rank=row.refit, refit=True, multimetric=len(metrics) > 1,
        n_splits=row.n_splits, train_score=any(t.train_scores is not None for t in records),
        status=row.status, reason=row.stop_reason, refitter=refitter,
        best_estimator=best_estimator, ordered=True)


# ----- checks ------------------------------------------------------------------------------


def _check_estimator(estimator: Any) -> None:
    if isinstance(estimator, type):
        raise SpecError(f"estimator: give an estimator object such as {estimator.__name__}(), "
                        "not the class")
    if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")):
        raise SpecError(f"estimator: {type(estimator).__name__} is not a scikit-learn "
                        "estimator (it needs fit and get_params)")


def _check_data(X: Any, y: Any, groups: Any) -> tuple[Any, Any, Any]:
    from sklearn.utils import check_consistent_length, indexable

    if X is None:
        raise SpecError("X: no data given")
    try:
        parts = indexable(X, y, groups)
        check_consistent_length(*[p for p in parts if p is not None])
    except (TypeError, ValueError) as exc:
        raise SpecError(f"X, y, groups: {exc}") from None
    return parts[0], parts[1], parts[2]


def _check_trials(strategy: str, n_trials: int | None) -> int | None:
    if n_trials is None:
        return DEFAULT_TRIALS.get(strategy)
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise SpecError(f"n_trials: expected a whole number ≥ 1, got {n_trials!r}")
    return n_trials


def _check_seed(seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed <= 2**32 - 1):
        raise SpecError(f"random_state: expected a whole number from 0 to 2**32 - 1 (or "
                        f"None), got {seed!r}")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or not name.isprintable() \
            or len(name) > 1000:
        raise SpecError(f"name: {name!r:.60} is not a usable study name; use printable "
                        "text on one line")
    return name


# ----- the history and the data ------------------------------------------------------------


def _open_history(db: Any) -> tuple[Any, bool]:
    """The repository for ``db`` and whether this call opened it (and must close it)."""
    from hpstudio.core.storage import HistoryRepository, HistoryStore

    if isinstance(db, HistoryRepository):
        return db, False
    if db is None or isinstance(db, str | Path):
        return HistoryStore(db), True
    raise SpecError(f"db: expected a history file path or a history repository, got "
                    f"{type(db).__name__}")


def _history_of(store: Any, db: Any) -> Any:
    path = getattr(store, "path", None)
    return path if path is not None and not hasattr(db, "save_trial") else db


def _store_data(store: Any, X: Any, y: Any, groups: Any) -> Any:
    """The data written beside a history file, or None (an in-memory history, or data no
    safe format holds: the study then cannot be resumed from the app, and says why)."""
    from hpstudio.core.datastore import data_folder, store_data
    from hpstudio.core.errors import DataError

    path = getattr(store, "path", None)
    if path is None:
        return None
    try:
        return store_data(data_folder(path), X, y, groups)
    except DataError as exc:
        warnings.warn(f"hpstudio: the data is not stored with the study ({exc}); the study "
                      "can be looked at but not resumed from the app", stacklevel=3)
        return None


def _dataset(X: Any, y: Any) -> Any:
    from hpstudio.core.data import Dataset
    from hpstudio.core.datastore import describe_data, target_task

    return Dataset(describe_data(X), X, y, target_task(y))


def _fingerprint(dataset: Any) -> str | None:
    """The data's fingerprint, or None for data it cannot hash (sparse matrices)."""
    import scipy.sparse as sp

    if sp.issparse(dataset.X):
        return None
    try:
        return dataset.fingerprint()
    except (TypeError, ValueError, AttributeError):
        return None


# ----- the study ---------------------------------------------------------------------------


def _runnable_spec(name: str, estimator: Any, subspaces: Any, stored: Any, cv: Any,
                   groups: Any, y: Any, scorer: Any, train_score: bool, search: Any,
                   allowed: tuple[str, ...]) -> Any:
    """The study's spec when everything about it is something a spec can hold: then the
    app can resume, refine and refit it. None otherwise (shown read-only).

    A spec holds an estimator or a Pipeline of allowed classes (``[estimator]`` and
    ``[[steps]]``), parameter values that are plain or objects of allowed classes, a number
    of folds or a splitter of ``sklearn.model_selection``, and scorers given by name."""
    from hpstudio.core.describe import describe_value, pipeline_sections
    from hpstudio.core.spec import StudySpec, dimension_to_raw, search_to_raw
    from hpstudio.core.splitters import cv_section

    if stored is None or y is None or groups is not None:
        return None
    if any(value is not None and not isinstance(value, str) for _, value in scorer.scorers):
        return None  # a callable scorer: no name to write
    try:
        sections = pipeline_sections(estimator)
        space = [{param: _described(dimension_to_raw(dim), describe_value)
                  for param, dim in sub.items()} for sub in subspaces]
        cv_raw = cv_section(cv)
    except (HpstudioError, TypeError, ValueError):
        return None
    scoring: dict[str, Any] = {"train_score": True} if train_score else {}
    if scorer.multimetric:
        scoring["metrics"] = [value for _, value in scorer.scorers]
        scoring["refit"] = scorer.rank
    elif scorer.scorers[0][1] is not None:
        scoring["metric"] = scorer.scorers[0][1]
    raw = {"name": name, "data": {"stored": stored.key}, **sections, "space": space,
           "cv": cv_raw, "scoring": scoring,
           "search": search_to_raw(search)}
    try:
        spec = StudySpec.from_dict(raw, base_dir=stored.path.parent)
        spec.validate(allowed)
    except HpstudioError:
        return None
    return spec


def _described(raw: Any, describe: Any) -> Any:
    """A dimension's raw form with its object values written in the spec's language."""
    if isinstance(raw, list):
        return [describe(value, strict=True) for value in raw]
    return raw


def _search_only_spec(name: str, estimator: Any, subspaces: Any, search: Any,
                      stored: Any) -> Any:
    """What the study loop needs of a study no spec can describe: its search."""
    from hpstudio.core.describe import class_path
    from hpstudio.core.spec import DataSpec, EstimatorSpec, StudySpec

    data = DataSpec(stored=stored.key, base_dir=str(stored.path.parent)) if stored \
        else DataSpec()
    return StudySpec(name=name, data=data, estimator=EstimatorSpec(class_path(estimator)),
                     space=tuple(dict(sub) for sub in subspaces), search=search)


def _context(estimator: Any, classifier: bool, splitter: Any, n_splits: int, scorer: Any,
             train_score: bool, allowed: tuple[str, ...]) -> Any:
    from hpstudio.core.describe import class_path
    from hpstudio.core.evaluate import EvaluationContext

    return EvaluationContext(
        data_path="", estimator_class=class_path(estimator), fixed_params={},
        numeric_columns=(), categorical_columns=(), classifier=classifier, folds=n_splits,
        shuffle=False, seed=None, metric=scorer.single_name, train_score=train_score,
        allowed_packages=allowed, estimator_object=estimator, splitter_object=splitter,
        scoring=scorer.ranked_first, token=uuid.uuid4().hex)


def _new_study(name: str, spec: Any, stored: Any, dataset: Any, estimator: Any,
               strategy: str, scorer: Any, subspaces: Any, cv: Any, groups: Any,
               estimator_path: str) -> Any:
    from hpstudio.core.datastore import describe_data
    from hpstudio.core.describe import describe_value
    from hpstudio.core.spec import dimension_to_raw
    from hpstudio.core.storage import NewStudy
    from hpstudio.core.tuning import log_params

    description = {
        "made_by": "hpstudio.tune",
        "estimator": estimator_path,
        "estimator_params": describe_value(estimator),
        "space": [{n: describe_value(dimension_to_raw(d)) for n, d in sub.items()}
                  for sub in subspaces],
        "cv": cv if isinstance(cv, int) and not isinstance(cv, bool) else repr(cv),
        "groups": groups is not None,
        "scoring": {key: s if s is None or isinstance(s, str) else repr(s)
                    for key, s in scorer.scorers},
        "refit": scorer.rank,
        "search": {"strategy": strategy},
        "data": ({"stored": stored.key, "folder": str(stored.path.parent)} if stored
                 else {"in_memory": describe_data(dataset.X)}),
        "log_params": log_params(subspaces),
    }
    return NewStudy(
        name=name, spec=None if spec is None else spec.to_dict(), origin=StudyOrigin.PYTHON,
        base_dir=str(stored.path.parent) if stored else None,
        data_fingerprint=_fingerprint(dataset), dataset=describe_data(dataset.X),
        strategy=strategy, estimator=estimator_path, metric=scorer.label,
        metrics=tuple(key for key, _ in scorer.ranked_first), refit=scorer.rank,
        description=description)


def _executor(n_jobs: int | None) -> Any:
    from hpstudio.core.executor import LocalExecutor, SerialExecutor, default_jobs

    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs == 0):
        raise SpecError(f"n_jobs: expected None, a number of workers ≥ 1, or -1 for every "
                        f"core, got {n_jobs!r}")
    if n_jobs is None or n_jobs == 1:
        return SerialExecutor()
    workers = n_jobs if n_jobs > 0 else max(1, default_jobs() + 1 + n_jobs)
    return LocalExecutor(workers)


class _Listener:
    """Keeps the trials as they end (with their parameter objects) and shows progress."""

    def __init__(self, progress: bool, name: str) -> None:
        self.trials: list[TrialRecord] = []
        self._progress = progress
        self._name = name
        self._bar: Any = None

    def __call__(self, event: Any) -> None:
        from hpstudio.core import events

        if isinstance(event, events.StudyStarted) and self._progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=event.n_total, desc=f"#{event.study_id} {self._name}",
                             unit="trial", dynamic_ncols=True)
        elif isinstance(event, events.TrialFinished):
            self.trials.append(event.trial)
            if self._bar is not None:
                self._bar.update(1)
                if event.best is not None:
                    self._bar.set_postfix(best=f"{event.best.mean_test_score:.4g}",
                                          refresh=False)
        elif isinstance(event, events.StudyLog) and event.level == "error":
            warnings.warn(f"hpstudio: {event.message}", stacklevel=2)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _warn_failures(trials: Sequence[TrialRecord]) -> None:
    failed = [t for t in trials if t.error]
    if failed:
        from sklearn.exceptions import FitFailedWarning

        warnings.warn(f"{len(failed)} of the {len(trials)} candidates failed and score NaN; "
                      f"the first one, trial {failed[0].number}: {failed[0].error}",
                      FitFailedWarning, stacklevel=3)

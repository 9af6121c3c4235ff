"""The one trial table: a study's trials as growable numpy columns.

Live runs append finished trials to it, the history's fast open path fills it from SQL
columns, and every reader (the trial table view, the plots, compare, refine, importance,
exports) reads it. Whole columns are numpy arrays, grown in place (amortised O(1)), so a
100,000-trial study opens and redraws vectorised, with no per-trial Python object in the
hot paths.

A table holds, in arrival order, either trial records (appended by a live run), or a
reopened study's rows read as columns (``StoredColumns``) followed by records appended
after it (a resumed run). A reopened row's ``TrialRecord`` is decoded only when someone
asks for it; its folds are read from the history only when the timeline is drawn; its
parameters are parsed only when a view needs them.
"""

from __future__ import annotations

import gc
import json
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np

from hpstudio.core.errors import HpstudioError
from hpstudio.core.pipeline import value_label
from hpstudio.core.records import SCORE, TrialRecord, TrialState

__all__ = [
    "STATE_CODES",
    "UNKNOWN_WORKER",
    "FoldColumns",
    "ParamColumn",
    "StoredColumns",
    "TrialTable",
    "trial_key",
]

UNKNOWN_WORKER = "(unknown)"
#: Trial states as the small integers of the ``state`` column, and back.
STATE_CODES: dict[str, int] = {TrialState.COMPLETE.value: 0, TrialState.FAILED.value: 1,
                               TrialState.PRUNED.value: 2}
_STATE_NAMES = tuple(STATE_CODES)
_RUNG_SPAN = 1024  # rungs per trial number in the packed (number, rung) key

# Records read one by one before a stored study's records are read whole: a few for the
# details pane cost a query each; beyond that someone is walking the study.
SINGLE_READS = 32

_MISSING = object()
_NUMERIC_TYPES = frozenset(
    {int, float, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
     np.uint64, np.float16, np.float32, np.float64}
)

_NUMBER = operator.attrgetter("number")
_RUNG = operator.attrgetter("rung")
_STATE = operator.attrgetter("state")
_STARTED = operator.attrgetter("started")
_FINISHED = operator.attrgetter("finished")
_PARAMS = operator.attrgetter("params")
_FOLDS = operator.attrgetter("folds")
_WORKER = operator.attrgetter("worker")
_FITS = operator.attrgetter("fit_times")
_SCORE_TIMES = operator.attrgetter("score_times")
_SUBSPACE = operator.attrgetter("subspace")
_TESTS = operator.attrgetter("test_scores")
_TRAINS = operator.attrgetter("train_scores")
_VALUE = operator.attrgetter("value")
_BUDGET = operator.attrgetter("budget")
_ERROR = operator.attrgetter("error")
_REUSED = operator.attrgetter("reused_from")


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while columns are built from many objects.

    Building them allocates a list per column; each allocation burst would start a full
    collection that walks every live record and fold of the study (half a million
    objects at 100,000 trials), costing more than the work itself. What is built here
    holds no reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def trial_key(number: Any, rung: Any) -> Any:
    """(number, rung) packed into one int64 (arrays or scalars), ordered like the pair."""
    return np.asarray(number, dtype=np.int64) * _RUNG_SPAN + np.asarray(rung, dtype=np.int64)


# ----- building blocks ----------------------------------------------------------------------


class _Growable:
    """A 1-D numpy array with spare capacity, so appends do not copy every time."""

    def __init__(self, dtype: Any) -> None:
        self._data = np.empty(0, dtype=dtype)
        self.size = 0

    def extend(self, values: Any) -> None:
        values = np.asarray(values)
        need = self.size + len(values)
        if need > len(self._data):
            cap = max(need, int(len(self._data) * 1.5) + 64)
            grown = np.empty(cap, dtype=self._data.dtype)  # only [:size] is ever read
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    def replace(self, values: np.ndarray) -> None:
        """Overwrite the whole content (used when a column is re-encoded)."""
        self._data = np.asarray(values, dtype=self._data.dtype).copy()
        self.size = len(values)

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


def _category_sort_key(value: Any) -> tuple[int, Any]:
    # None first, then booleans, numbers, strings, anything else by repr:
    # a stable, human order for tick labels whatever order trials arrive in.
    if value is None:
        return (0, 0)
    if isinstance(value, bool | np.bool_):
        return (1, bool(value))
    if type(value) in _NUMERIC_TYPES:
        v = float(value)
        return (2, v if not math.isnan(v) else math.inf)
    if isinstance(value, str):
        return (3, value)
    return (4, repr(value))


def _category_key(value: Any) -> Any:
    """Hashable identity of a categorical value (lists and dicts are not hashable)."""
    if type(value) in _NUMERIC_TYPES:
        return ("n", float(value))
    try:
        hash(value)
    except TypeError:
        return ("r", repr(value))
    return ("v", type(value).__name__, value)


class ParamColumn:
    """One hyperparameter across all trials.

    ``values`` holds the number itself for numeric parameters and the category code
    (0..k-1, sorted labels) for categorical ones; NaN marks trials without the
    parameter (it lives in another sub-space). A parameter becomes categorical as soon
    as one value is not a plain number (str, bool, None, tuple...).
    """

    def __init__(self, name: str, log: bool = False) -> None:
        self.name = name
        self.log = log
        self.raw: list[Any] = []
        self.categorical = False
        self.labels: list[str] = []
        self._categories: list[Any] = []  # representative value per code
        self._code_of: dict[Any, int] = {}
        self._values = _Growable(float)

    # -- building ---------------------------------------------------------------------
    def extend(self, raw: list[Any]) -> None:
        self.raw.extend(raw)
        types = set(map(type, raw))
        types.discard(object)  # the _MISSING sentinel
        if not self.categorical and types <= _NUMERIC_TYPES:
            self._values.extend(_to_float(raw))
            return
        if not self.categorical:
            self.categorical = True
            raw = self.raw  # re-encode everything seen so far
            self._values = _Growable(float)
        self._values.extend(self._encode(raw))

    def _encode(self, raw: list[Any]) -> np.ndarray:
        fast = self._encode_hashable(raw)
        if fast is not None:
            return fast
        new = {}
        for v in raw:
            if v is _MISSING:
                continue
            key = _category_key(v)
            if key not in self._code_of and key not in new:
                new[key] = v
        if new:
            self._recode(new)
        code_of = self._code_of
        return np.fromiter(
            (np.nan if v is _MISSING else code_of[_category_key(v)] for v in raw),
            dtype=float,
            count=len(raw),
        )

    def _encode_hashable(self, raw: list[Any]) -> np.ndarray | None:
        """Vectorised path for the usual case (hashable values, no bool mixed with
        numbers, which compare equal): hash the distinct values only."""
        try:
            distinct = set(raw)
        except TypeError:
            return None
        distinct.discard(_MISSING)
        kinds = set(map(type, distinct))
        if {bool, np.bool_} & kinds and kinds & _NUMERIC_TYPES:
            return None
        keys = {v: _category_key(v) for v in distinct}
        new = {k: v for v, k in keys.items() if k not in self._code_of}
        if new:
            self._recode(new)
        code = {v: float(self._code_of[k]) for v, k in keys.items()}
        code[_MISSING] = np.nan
        return np.fromiter(map(code.__getitem__, raw), float, len(raw))

    def _recode(self, new: dict[Any, Any]) -> None:
        cats = self._categories + list(new.values())
        order = sorted(range(len(cats)), key=lambda i: _category_sort_key(cats[i]))
        old_to_new = np.empty(len(self._categories) + 1, dtype=float)
        for new_code, old in enumerate(order):
            if old < len(self._categories):
                old_to_new[old] = new_code
        old_to_new[-1] = np.nan
        values = self._values.view
        if len(values):
            idx = np.where(np.isnan(values), len(self._categories), values).astype(int)
            self._values.replace(old_to_new[idx])
        self._categories = [cats[i] for i in order]
        self._code_of = {_category_key(v): i for i, v in enumerate(self._categories)}
        self.labels = [value_label(v) for v in self._categories]

    # -- reading ----------------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        """Raw numbers (numeric) or category codes (categorical); NaN where absent."""
        return self._values.view

    def transformed(self) -> np.ndarray:
        """Values on the axis the plots use: log10 for log-scale numeric parameters."""
        v = self._values.view
        if self.log and not self.categorical:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
        return v

    @property
    def is_log(self) -> bool:
        return self.log and not self.categorical


def _to_float(raw: list[Any]) -> np.ndarray:
    try:
        return np.fromiter(raw, dtype=float, count=len(raw))
    except TypeError:  # some trials lack the parameter
        return np.fromiter(
            (np.nan if v is _MISSING else v for v in raw), dtype=float, count=len(raw)
        )


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
    rung: np.ndarray | None = None  # int64; None: every fold is at rung 0

    @property
    def worker(self) -> np.ndarray:
        """The worker label of each fold (object array)."""
        labels = np.empty(len(self.worker_labels), dtype=object)
        labels[:] = self.worker_labels
        return labels[self.worker_code]

    @property
    def rungs(self) -> np.ndarray:
        return np.zeros(len(self.number), np.int64) if self.rung is None else self.rung

    @classmethod
    def empty(cls) -> FoldColumns:
        nothing = np.empty(0)
        return cls(nothing.astype(np.int64), nothing.astype(np.int64), nothing.astype(np.int64),
                   (), nothing, nothing, nothing.astype(bool))


@dataclass(frozen=True)
class StoredColumns:
    """A stored study's per-trial columns, read in (number, rung) order.

    What the history's fast open path reads in one query: the refit metric's means
    from their REAL columns, each row's parameters as JSON text (parsed when a view
    first needs them), and no per-split scores (a record reads its own)."""

    number: np.ndarray  # int64
    rung: np.ndarray  # int64
    state: np.ndarray  # object: "complete" | "failed" | "pruned"
    mean_test_score: np.ndarray  # refit metric; NaN for failed trials
    std_test_score: np.ndarray
    mean_train_score: np.ndarray  # NaN when train scores were not computed
    mean_fit_time: np.ndarray
    mean_score_time: np.ndarray
    started: np.ndarray
    finished: np.ndarray
    subspace: np.ndarray  # int64
    n_resources: np.ndarray  # float, NaN without a budget
    n_splits: np.ndarray  # int64: splits each trial ran
    error: list[str | None]
    params_json: list[str]
    reused_from: np.ndarray | None = None  # int64 study ids, -1: fitted here; None: all


RecordLoader = Callable[[Sequence[tuple[int, int]] | None], list[TrialRecord]]
"""Reads stored records: those of the given (number, rung) keys, or (None) every one,
in the table's order."""
ExtraMetricLoader = Callable[[str], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""Reads a stored study's (mean test, std test, mean train) of one metric."""


# ----- the table --------------------------------------------------------------------------------


_TRIAL_COLUMNS = {"number": np.int64, "rung": np.int64, "state": np.int8, "ok": bool,
                  "test": float, "std": float, "k": np.int64, "train": float,
                  "fit_time": float, "score_time": float, "started": float,
                  "finished": float, "subspace": np.int64, "n_resources": float,
                  "reused_from": np.int64}
_TIME_COLUMNS = frozenset({"fit_time", "score_time"})
_FOLD_COLUMNS = {"fold_trial": np.int64, "fold_worker": np.int64, "fold_started": float,
                 "fold_finished": float, "fold_ok": bool}


class TrialTable:
    """A study's trials as numpy columns, in arrival order, with records on demand.

    Trial-level columns (``col``): number, rung, state (codes of ``STATE_CODES``), ok,
    test / std / train (the refit metric's mean, std and mean train score; NaN when not
    complete), k (splits run), fit_time, score_time, started, finished, subspace,
    n_resources, reused_from (the study whose fit a reused trial took; -1: fitted here).
    Fold-level columns (``fold_col``, for the timeline) carry
    ``fold_trial`` pointing back into the trial rows. ``version`` is bumped on every
    change so views can cache what they derive.
    """

    def __init__(self, log_params: Iterable[str] = (), metrics: Sequence[str] = (SCORE,),
                 refit: str | None = None) -> None:
        self.log_params = frozenset(log_params)
        self.metrics = tuple(metrics) or (SCORE,)
        self.refit = refit or self.metrics[0]
        self._cols = {name: _Growable(dtype) for name, dtype in _TRIAL_COLUMNS.items()}
        self._fold_cols = {name: _Growable(dtype) for name, dtype in _FOLD_COLUMNS.items()}
        self._params: dict[str, ParamColumn] = {}
        self._workers: list[str] = []
        self._worker_code: dict[str, int] = {}
        # A reopened study's prefix: its rows, records decoded on demand.
        self._stored: StoredColumns | None = None
        self._stored_n = 0
        self._stored_params: list[dict[str, Any]] | None = None  # parsed on first need
        self._stored_records: dict[int, TrialRecord] = {}
        self._record_loader: RecordLoader | None = None
        self._single_reads = 0
        self._extra_loader: ExtraMetricLoader | None = None
        self._records: list[TrialRecord] = []  # rows after the stored prefix
        self._errors: list[str | None] = []  # of those rows
        # Parameter and fold columns are built on first use: several plots need
        # neither, and opening a study should pay for the visible tab only.
        self._params_upto = 0
        self._fold_sources: list[tuple[int, list[TrialRecord] | None]] = []  # None: stored
        self._fold_loader: Callable[[], FoldColumns] | None = None  # a stored study's folds
        self.fold_error: str | None = None  # why a stored study's folds could not be read
        self._index_of: dict[int, int] = {}  # packed (number, rung) key -> row
        self._index_upto = 0
        self._metric_cache: dict[tuple[str, str], np.ndarray] = {}
        self._times_upto = 0  # rows whose fit and score time means are computed
        self.version = 0

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_trials(cls, trials: Sequence[TrialRecord], log_params: Iterable[str] = (),
                    metrics: Sequence[str] | None = None,
                    refit: str | None = None) -> TrialTable:
        """A table of trial records (a live or in-memory study)."""
        if metrics is None:
            metrics = trials[0].metrics if len(trials) else (SCORE,)
            refit = refit or (trials[0].refit if len(trials) else None)
        table = cls(log_params, metrics, refit)
        table.extend(trials)
        return table

    @classmethod
    def from_stored(cls, columns: StoredColumns, *, records: RecordLoader,
                    folds: Callable[[], FoldColumns] | None = None,
                    extra_metric: ExtraMetricLoader | None = None,
                    log_params: Iterable[str] = (), metrics: Sequence[str] = (SCORE,),
                    refit: str | None = None) -> TrialTable:
        """A reopened study's table: its columns now, records and folds when first read."""
        table = cls(log_params, metrics, refit)
        table._stored = columns
        table._record_loader = records
        table._extra_loader = extra_metric
        n = len(columns.number)
        table._stored_n = n
        c = table._cols
        state = np.fromiter(map(STATE_CODES.__getitem__, columns.state.tolist()), np.int8, n)
        ok = state == 0
        c["number"].extend(columns.number)
        c["rung"].extend(columns.rung)
        c["state"].extend(state)
        c["ok"].extend(ok)
        c["test"].extend(np.where(ok, columns.mean_test_score, np.nan))
        c["std"].extend(np.where(ok, columns.std_test_score, np.nan))
        c["train"].extend(np.where(ok, columns.mean_train_score, np.nan))
        c["k"].extend(columns.n_splits)
        c["fit_time"].extend(columns.mean_fit_time)
        c["score_time"].extend(columns.mean_score_time)
        table._times_upto = n
        c["started"].extend(columns.started)
        c["finished"].extend(columns.finished)
        c["subspace"].extend(columns.subspace)
        c["n_resources"].extend(columns.n_resources)
        c["reused_from"].extend(np.full(n, -1, np.int64) if columns.reused_from is None
                                else columns.reused_from)
        table._fold_loader = folds
        if n:
            table._fold_sources.append((0, None))
        table.version += 1
        return table

    def __len__(self) -> int:
        return self._cols["number"].size

    # -- growing -------------------------------------------------------------------------
    def extend(self, trials: Sequence[TrialRecord]) -> int:
        """Append finished trials; returns the index of the first new row."""
        with collector_paused():
            return self._extend(trials)

    def _extend(self, trials: Sequence[TrialRecord]) -> int:
        start = len(self)
        n = len(trials)
        if n == 0:
            return start
        c = self._cols
        # map + attrgetter iterate in C: ~5x faster than generator expressions,
        # which matters when a 100k-trial study is held as records.
        c["number"].extend(np.fromiter(map(_NUMBER, trials), np.int64, n))
        c["rung"].extend(np.fromiter(map(_RUNG, trials), np.int64, n))
        codes = {state: STATE_CODES[state.value] for state in TrialState}
        state = np.fromiter(map(codes.__getitem__, map(_STATE, trials)), np.int8, n)
        ok = state == 0
        c["state"].extend(state)
        c["ok"].extend(ok)
        refit = self.refit
        # map + itemgetter stay in C: a comprehension here costs as much as the numbers
        try:
            tests = list(map(operator.itemgetter(refit), map(_TESTS, trials)))
        except KeyError:  # imported trials without split scores
            tests = list(map(operator.methodcaller("get", refit, ()), map(_TESTS, trials)))
        mean, std, k = _split_stats(tests)
        values = list(map(_VALUE, trials))
        if values.count(None) != n:  # imported trials without split scores
            given = np.array([math.nan if v is None else v for v in values], dtype=float)
            mean = np.where(k == 0, given, mean)
        c["test"].extend(np.where(ok, mean, np.nan))
        c["std"].extend(np.where(ok, std, np.nan))
        c["k"].extend(k)
        trains = list(map(_TRAINS, trials))
        missing = trains.count(None)
        if missing == n:  # no train scores asked for: nothing to average
            c["train"].extend(np.full(n, np.nan))
        else:
            if missing:  # failed trials: found in C, then only those rows are touched
                for i in np.flatnonzero(np.fromiter(map(operator.is_, trains, repeat(None)),
                                                    bool, n)).tolist():
                    trains[i] = {}
            trains = list(map(operator.methodcaller("get", refit), trains))
            c["train"].extend(np.where(ok, _split_stats(trains, with_std=False)[0], np.nan))
        c["started"].extend(np.fromiter(map(_STARTED, trials), float, n))
        c["finished"].extend(np.fromiter(map(_FINISHED, trials), float, n))
        c["subspace"].extend(np.fromiter(map(_SUBSPACE, trials), np.int64, n))
        budgets = list(map(_BUDGET, trials))
        c["n_resources"].extend(np.full(n, np.nan) if budgets.count(None) == n else np.array(
            [math.nan if b is None else b.amount for b in budgets], dtype=float))
        reused = list(map(_REUSED, trials))
        c["reused_from"].extend(np.full(n, -1, np.int64) if reused.count(None) == n else
                                np.array([-1 if r is None else r for r in reused], np.int64))
        self._records.extend(trials)
        self._errors.extend(map(_ERROR, trials))
        last = self._fold_sources[-1] if self._fold_sources else None
        if last is not None and isinstance(last[1], list):
            last[1].extend(trials)  # live appends: one pending chunk, however many batches
        else:
            self._fold_sources.append((start, list(trials)))
        self._metric_cache.clear()
        self.version += 1
        return start

    # -- trial-level columns -----------------------------------------------------------------
    def col(self, name: str) -> np.ndarray:
        """A trial-level column by name (see the class docstring)."""
        if name in _TIME_COLUMNS and self._times_upto < len(self):
            self._sync_times()
        return self._cols[name].view

    def _sync_times(self) -> None:
        """Mean fit and score times of appended records, computed when first read: only
        the table view's fit column needs them, and opening a study should not pay."""
        first = self._times_upto - self._stored_n
        records = self._records[first:]
        self._cols["fit_time"].extend(
            _split_stats(list(map(_FITS, records)), with_std=False)[0])
        self._cols["score_time"].extend(
            _split_stats(list(map(_SCORE_TIMES, records)), with_std=False)[0])
        self._times_upto = len(self)

    @property
    def number(self) -> np.ndarray:
        return self._cols["number"].view

    @property
    def rung(self) -> np.ndarray:
        return self._cols["rung"].view

    @property
    def test(self) -> np.ndarray:
        """Mean CV test score of the refit metric; NaN for trials not complete."""
        return self._cols["test"].view

    @property
    def ok(self) -> np.ndarray:
        return self._cols["ok"].view

    @property
    def complete(self) -> np.ndarray:
        """Trials with a usable score (complete and finite)."""
        return self._cols["ok"].view & np.isfinite(self._cols["test"].view)

    @property
    def standard_error(self) -> np.ndarray:
        """Standard error of the mean CV score: std over splits / sqrt(k)."""
        k = self._cols["k"].view
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._cols["std"].view / np.sqrt(np.where(k > 0, k, np.nan))

    @property
    def t0(self) -> float:
        """First start of the study: the zero of every time axis."""
        s = self._cols["started"].view
        s = s[np.isfinite(s)]
        return float(s.min()) if len(s) else 0.0

    @property
    def n_splits(self) -> int:
        """The most splits any trial ran (a pruned trial ran fewer)."""
        k = self._cols["k"].view
        return int(k.max()) if len(k) else 0

    def state_name(self, index: int) -> str:
        return _STATE_NAMES[int(self._cols["state"].view[index])]

    def count(self, state: TrialState) -> int:
        return int((self._cols["state"].view == STATE_CODES[state.value]).sum())

    def metric_col(self, metric: str, kind: str = "test") -> np.ndarray:
        """Mean test ("test"), std ("std") or mean train ("train") of any metric."""
        if metric == self.refit:
            return self._cols[kind].view
        cached = self._metric_cache.get((metric, kind))
        if cached is not None:
            return cached
        parts = []
        if self._stored_n:
            if self._extra_loader is None:
                parts.append(np.full((3, self._stored_n), np.nan))
            else:
                parts.append(np.vstack(self._extra_loader(metric)))
        if self._records:
            tests = [t.test_scores.get(metric, ()) for t in self._records]
            mean, std, _ = _split_stats(tests)
            trains = [None if t.train_scores is None else t.train_scores.get(metric)
                      for t in self._records]
            parts.append(np.vstack([mean, std, _split_stats(trains, with_std=False)[0]]))
        table = np.hstack(parts) if parts else np.empty((3, 0))
        ok = self.ok
        for i, name in enumerate(("test", "std", "train")):
            self._metric_cache[(metric, name)] = np.where(ok, table[i], np.nan)
        return self._metric_cache[(metric, kind)]

    # -- per-row reads --------------------------------------------------------------------
    def error_of(self, index: int) -> str | None:
        if index < self._stored_n:
            assert self._stored is not None
            return self._stored.error[index]
        return self._errors[index - self._stored_n]

    def params_of(self, index: int) -> dict[str, Any]:
        """One row's parameters (a stored row's JSON is parsed alone until all are)."""
        if index >= self._stored_n:
            return self._records[index - self._stored_n].params
        if self._stored_params is not None:
            return self._stored_params[index]
        assert self._stored is not None
        params: dict[str, Any] = json.loads(self._stored.params_json[index])
        return params

    def param_dicts(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Every row's parameters (the first ``limit`` rows' when given), arrival order."""
        stored: list[dict[str, Any]] = []
        if self._stored_n:
            if limit is not None and limit < self._stored_n and self._stored_params is None:
                assert self._stored is not None
                return [json.loads(t) for t in self._stored.params_json[:limit]]
            stored = self._parsed_stored_params()
        rows = [*stored, *map(_PARAMS, self._records)]
        return rows if limit is None else rows[:limit]

    def _parsed_stored_params(self) -> list[dict[str, Any]]:
        if self._stored_params is None:
            assert self._stored is not None
            with collector_paused():
                self._stored_params = json.loads(
                    "[" + ",".join(self._stored.params_json) + "]")
        return self._stored_params

    def param_names(self) -> list[str]:
        """Hyperparameter names in order of first appearance."""
        return list(self.params)

    def record(self, index: int) -> TrialRecord:
        """The trial record of a row (a stored one is read from the history)."""
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index >= self._stored_n:
            return self._records[index - self._stored_n]
        record = self._stored_records.get(index)
        if record is None:
            assert self._record_loader is not None
            if self._single_reads < SINGLE_READS:
                self._single_reads += 1
                key = (int(self.number[index]), int(self.rung[index]))
                record = self._stored_records[index] = self._record_loader([key])[0]
            else:
                self._stored_records = dict(enumerate(self._record_loader(None)))
                record = self._stored_records[index]
        return record

    def records(self) -> list[TrialRecord]:
        """Every record, in arrival order (reads a stored study's records whole)."""
        return [self.record(i) for i in range(len(self))]

    def index_of(self, number: int | None, rung: int | None = None) -> int | None:
        """The row of trial ``number`` (at ``rung``; any rung's last row when None)."""
        if number is None:
            return None
        n = len(self)
        if self._index_upto < n:  # only selection needs it: not paid when opening
            keys = trial_key(self.number[self._index_upto:], self.rung[self._index_upto:])
            self._index_of.update(zip(keys.tolist(), range(self._index_upto, n), strict=True))
            self._index_upto = n
        if rung is not None:
            return self._index_of.get(int(trial_key(number, rung)))
        rows = np.flatnonzero(self.number == int(number))
        return int(rows[-1]) if len(rows) else None

    def contains(self, number: int, rung: int = 0) -> bool:
        return self.index_of(number, rung) is not None

    def best_index(self) -> int | None:
        """The complete row with the highest mean test score (first one on ties); with
        rungs of successive halving, among the highest rung reached (scikit-learn's rule)."""
        complete = self.complete
        scores = np.where(complete, self.test, -np.inf)
        if not len(scores):
            return None
        rung = self.rung
        if complete.any() and rung.any():
            scores = np.where(rung == rung[complete].max(), scores, -np.inf)
        best = int(np.argmax(scores))
        return best if np.isfinite(scores[best]) else None

    # -- parameters ----------------------------------------------------------------------
    @property
    def params(self) -> dict[str, ParamColumn]:
        """Parameter columns by name, in order of first appearance."""
        upto = self._params_upto
        if upto < len(self):
            with collector_paused():
                dicts = self.param_dicts()[upto:]
                self._extend_params(dicts, upto)
            self._params_upto = len(self)
        return self._params

    def _extend_params(self, dicts: Sequence[dict[str, Any]], start: int) -> None:
        shared = _shared_columns(dicts, self._params)
        if shared is not None:  # every row has the same parameters: one pass per column
            for name, values in shared.items():
                col = self._params.get(name)
                if col is None:
                    col = self._params[name] = ParamColumn(name, log=name in self.log_params)
                    if start:
                        col.extend([_MISSING] * start)
                col.extend(values)
            return
        names = list(dict.fromkeys(chain.from_iterable(dicts)))
        for name in names:
            if name not in self._params:
                col = ParamColumn(name, log=name in self.log_params)
                if start:
                    col.extend([_MISSING] * start)
                self._params[name] = col
        for col, raw in zip(self._params.values(), _param_values(dicts, list(self._params)),
                            strict=True):
            col.extend(raw)

    # -- folds ---------------------------------------------------------------------------
    @property
    def workers(self) -> list[str]:
        """Worker labels; ``fold_worker`` holds indices into this list."""
        self._sync_folds()
        return self._workers

    def fold_col(self, name: str) -> np.ndarray:
        """A fold-level column: fold_trial, fold_worker, fold_started, fold_finished,
        fold_ok."""
        self._sync_folds()
        return self._fold_cols[name].view

    def _sync_folds(self) -> None:
        sources, self._fold_sources = self._fold_sources, []
        with collector_paused():
            self._sync_fold_sources(sources)

    def _sync_fold_sources(self, sources: list[tuple[int, list[TrialRecord] | None]]) -> None:
        for start, source in sources:
            if source is None:
                self._extend_stored_folds()
            else:
                self._extend_record_folds(source, start)

    def _extend_record_folds(self, trials: Sequence[TrialRecord], start: int) -> None:
        per_trial = list(map(_FOLDS, trials))
        lens = np.fromiter(map(len, per_trial), np.int64, len(trials))
        folds = list(chain.from_iterable(per_trial))
        idx = np.repeat(np.arange(start, start + len(trials)), lens)
        codes = self._worker_codes(list(map(_WORKER, folds)))
        m = len(folds)
        started = np.fromiter(map(_STARTED, folds), float, m)
        finished = np.fromiter(map(_FINISHED, folds), float, m)
        # A fold failed when its fit or score raised (the worker stores the error). Only a
        # trial that is not complete can hold such a fold, so only those folds are read.
        ok = np.repeat(self._cols["ok"].view[start : start + len(trials)], lens)
        suspect = np.flatnonzero(~ok)
        if len(suspect):
            ok[suspect] = [folds[i].error is None for i in suspect.tolist()]
        missing = np.flatnonzero(lens == 0)
        if len(missing):  # records without fold detail: one bar for the whole trial
            tr = [trials[i] for i in missing]
            idx = np.concatenate([idx, missing + start])
            codes = np.concatenate([codes, self._worker_codes([UNKNOWN_WORKER] * len(tr))])
            started = np.concatenate([started, [t.started for t in tr]])
            finished = np.concatenate([finished, [t.finished for t in tr]])
            ok = np.concatenate([ok, [t.ok for t in tr]])
        self._append_folds(idx, codes, started, finished, ok)

    def _extend_stored_folds(self) -> None:
        """A stored study's folds, read from the history now (the timeline is drawn)."""
        n = self._stored_n
        loader = self._fold_loader
        try:
            folds = loader() if loader is not None else FoldColumns.empty()
        except HpstudioError as exc:  # the history went away (another file was opened)
            self.fold_error = str(exc)
            folds = FoldColumns.empty()
        keys = trial_key(self.number[:n], self.rung[:n])
        if len(folds.number) and n:
            # rows are stored in (number, rung) order: each fold finds its row by bisection
            fold_keys = trial_key(folds.number, folds.rungs)
            pos = np.searchsorted(keys, fold_keys)
            known = pos < n
            known[known] = keys[pos[known]] == fold_keys[known]
            to_mine = self._worker_codes(list(folds.worker_labels))
            codes = to_mine[folds.worker_code] if len(to_mine) else folds.worker_code
            started, finished, ok = folds.started, folds.finished, ~folds.failed
            if not known.all():  # a fold without its trial row: not drawn
                pos, codes = pos[known], codes[known]
                started, finished, ok = started[known], finished[known], ok[known]
            counts = np.bincount(pos, minlength=n)
        else:
            pos = np.empty(0, dtype=np.int64)
            codes = np.empty(0, dtype=np.int64)
            started = finished = np.empty(0)
            ok = np.empty(0, dtype=bool)
            counts = np.zeros(n, dtype=np.int64)
        missing = np.flatnonzero(counts == 0)
        if len(missing):  # trials stored without folds: one bar for the whole trial
            pos = np.concatenate([pos, missing])
            codes = np.concatenate([codes, self._worker_codes([UNKNOWN_WORKER] * len(missing))])
            started = np.concatenate([started, self.col("started")[missing]])
            finished = np.concatenate([finished, self.col("finished")[missing]])
            ok = np.concatenate([ok, self.ok[missing]])
        self._append_folds(pos, codes, started, finished, ok)

    def _append_folds(self, trial: np.ndarray, worker: np.ndarray, started: np.ndarray,
                      finished: np.ndarray, ok: np.ndarray) -> None:
        fc = self._fold_cols
        fc["fold_trial"].extend(trial)
        fc["fold_worker"].extend(worker)
        fc["fold_started"].extend(started)
        fc["fold_finished"].extend(finished)
        fc["fold_ok"].extend(ok)

    def _worker_codes(self, workers: list[str]) -> np.ndarray:
        table = self._worker_code
        distinct = set(workers)
        if None in distinct:  # a fold stored without its worker's label
            workers = ["" if w is None else w for w in workers]
            distinct = set(workers)
        for w in distinct - table.keys():
            table[w] = len(self._workers)
            self._workers.append(w)
        return np.fromiter(map(table.__getitem__, workers), np.int64, len(workers))


def _shared_columns(dicts: Sequence[dict[str, Any]],
                    known: Iterable[str]) -> dict[str, list[Any]] | None:
    """Each parameter's values when every dict has exactly the first one's names (and
    every name already known), else None.

    Rows of one sub-space share their names; checking the sizes and reading each name
    from every row costs less than collecting the names of 100,000 dicts first."""
    if not dicts:
        return None
    names = list(dicts[0])
    if not set(known) <= set(names) or set(map(len, dicts)) != {len(names)}:
        return None
    try:  # a dict of that size holding every name has no other
        return {name: list(map(operator.itemgetter(name), dicts)) for name in names}
    except KeyError:
        return None


def _param_values(dicts: Sequence[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """Each parameter's value in every dict (``_MISSING`` where a dict lacks it).

    When every dict has every name (one sub-space, the usual case) the dicts are walked
    once, reading all names at a time: 100,000 dicts scattered in memory cost mostly
    cache misses, so one pass instead of one per parameter is what counts."""
    if len(names) > 1:
        try:
            return [list(column) for column in zip(*map(operator.itemgetter(*names), dicts),
                                                   strict=True)] if dicts else [[] for _ in names]
        except KeyError:  # parameters of other sub-spaces
            pass
    out = []
    for name in names:
        try:
            out.append(list(map(operator.itemgetter(name), dicts)))
        except KeyError:
            out.append([d.get(name, _MISSING) for d in dicts])
    return out


def _split_stats(
    splits: list[Sequence[float] | None], with_std: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, population std (scikit-learn's std_test_score) and count per row.

    A row may be None (no train scores) or have its own length (a pruned trial); a NaN
    split score makes the mean NaN, like ``cv_results_`` with ``error_score=nan``.
    Everything iterates in C: this runs over half a million scores when a 100,000-trial
    study is held as records.
    """
    n = len(splits)
    lens = np.fromiter(map(operator.length_hint, splits, repeat(0)), np.int64, n)
    total = int(lens.sum())
    width = int(lens.max()) if n else 0
    if width == 0:
        nan = np.full(n, np.nan)
        return nan, nan.copy(), lens
    present = filter(None, splits)  # C-level: skips None and empty rows
    try:
        flat = np.fromiter(chain.from_iterable(present), float, total)
    except TypeError:  # a None split score
        flat = np.array([math.nan if v is None else v
                         for v in chain.from_iterable(filter(None, splits))], dtype=float)
    full = lens == width
    if (full | (lens == 0)).all():  # the usual shape: only failed trials lack scores
        arr = flat.reshape(-1, width)
        mean = np.full(n, np.nan)
        std = np.full(n, np.nan)
        mean[full] = m = arr.mean(axis=1)
        if with_std:
            std[full] = np.sqrt(((arr - m[:, None]) ** 2).mean(axis=1))
        return mean, std, lens
    arr = np.zeros((n, width))  # ragged: pruned trials, or a study resumed with other folds
    mask = np.arange(width)[None, :] < lens[:, None]
    arr[mask] = flat
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = arr.sum(axis=1) / lens
        dev = np.where(mask, (arr - mean[:, None]) ** 2, 0.0)
        std = np.sqrt(dev.sum(axis=1) / lens)
    return mean, std, lens

"""Column store of trial records for the plots (no Qt).

The plots never walk the trial list: they read numpy columns built once per study
and grown in place (amortised O(1)) as trials arrive. That keeps opening a
100k-trial study and redrawing after each new trial vectorised, with no per-trial
Python objects in the graphics layer.

A reopened study arrives as a :class:`~hpstudio.core.stored_trials.StoredTrials`: its
per-trial arrays are copied from the store's columns as they are (no record is built),
and its folds are read from the history only when the timeline first needs them.
"""

from __future__ import annotations

import gc
import math
import operator
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from typing import Any

import numpy as np

from hpstudio.core.errors import HpstudioError
from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.stored_trials import StoredTrials

__all__ = ["UNKNOWN_WORKER", "ParamColumn", "TrialColumns"]

UNKNOWN_WORKER = "(unknown)"

_MISSING = object()
_NUMERIC_TYPES = frozenset(
    {int, float, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
     np.uint64, np.float16, np.float32, np.float64}
)


_NUMBER = operator.attrgetter("number")
_STATE = operator.attrgetter("state")
_TEST = operator.attrgetter("split_test_scores")
_TRAIN = operator.attrgetter("split_train_scores")
_STARTED = operator.attrgetter("started")
_FINISHED = operator.attrgetter("finished")
_PARAMS = operator.attrgetter("params")
_FOLDS = operator.attrgetter("folds")
_WORKER = operator.attrgetter("worker")


class _Growable:
    """A 1-D numpy array with spare capacity, so appends do not copy every time."""

    def __init__(self, dtype: Any) -> None:
        self._data = np.empty(0, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
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
    if isinstance(value, (bool, np.bool_)):
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
    """One hyper-parameter across all trials.

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
        self.labels = [str(v) for v in self._categories]

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


class TrialColumns:
    """Numpy columns over a growing list of trial records.

    Trial-level arrays are indexed by arrival order; fold-level arrays (for the
    timeline) carry ``fold_trial`` pointing back into the trial arrays.
    """

    def __init__(self, log_params: Iterable[str] = ()) -> None:
        self.log_params = frozenset(log_params)
        self._cols: dict[str, _Growable] = {
            "number": _Growable(np.int64),
            "ok": _Growable(bool),
            "test": _Growable(float),
            "std": _Growable(float),
            "k": _Growable(np.int64),
            "train": _Growable(float),
            "started": _Growable(float),
            "finished": _Growable(float),
        }
        self._fold_cols: dict[str, _Growable] = {
            "fold_trial": _Growable(np.int64),
            "fold_worker": _Growable(np.int64),
            "fold_started": _Growable(float),
            "fold_finished": _Growable(float),
            "fold_ok": _Growable(bool),
        }
        self._params: dict[str, ParamColumn] = {}
        self._workers: list[str] = []
        self._worker_code: dict[str, int] = {}
        # Parameter and fold columns are built on first use: the history,
        # overfitting and timeline plots do not need the former, only the timeline
        # needs the latter, and opening a study should pay for the visible tab.
        self._param_dicts: list[dict[str, Any]] = []  # per row, in arrival order
        self._params_upto = 0
        # Rows whose folds are not in the fold columns yet, as (first row, source)
        # chunks in arrival order; a source is a list of records or a StoredTrials.
        self._fold_sources: list[tuple[int, Any]] = []
        self.fold_error: str | None = None  # why a stored study's folds could not be read
        self._index_of: dict[int, int] = {}  # trial number -> row, built on demand
        self._index_upto = 0
        self.version = 0  # bumped on every change, so views can cache derived data

    @classmethod
    def from_trials(
        cls, trials: Sequence[TrialRecord], log_params: Iterable[str] = ()
    ) -> TrialColumns:
        """Columns of ``trials``: a list of records, or a StoredTrials (read as columns)."""
        cols = cls(log_params)
        cols.extend(trials)
        return cols

    def __len__(self) -> int:
        return self._cols["number"].size

    # -- building ---------------------------------------------------------------------
    def extend(self, trials: Sequence[TrialRecord]) -> int:
        """Append trials; returns the index of the first new row.

        A :class:`StoredTrials` is read from its ``columns`` (no record is built)."""
        if isinstance(trials, StoredTrials):
            return self._extend_stored(trials)
        start = len(self)
        n = len(trials)
        if n == 0:
            return start
        c = self._cols
        # map + attrgetter iterate in C: ~5x faster than generator expressions,
        # which matters when a 100k-trial study is opened.
        numbers = np.fromiter(map(_NUMBER, trials), np.int64, n)
        c["number"].extend(numbers)
        states = map(_STATE, trials)
        ok = np.fromiter(map(operator.is_, states, repeat(TrialState.COMPLETE)), bool, n)
        c["ok"].extend(ok)
        mean, std, k = _split_stats(list(map(_TEST, trials)))
        c["test"].extend(np.where(ok, mean, np.nan))
        c["std"].extend(np.where(ok, std, np.nan))
        c["k"].extend(k)
        train = _split_stats(list(map(_TRAIN, trials)), with_std=False)[0]
        c["train"].extend(np.where(ok, train, np.nan))
        c["started"].extend(np.fromiter(map(_STARTED, trials), float, n))
        c["finished"].extend(np.fromiter(map(_FINISHED, trials), float, n))
        self._param_dicts.extend(map(_PARAMS, trials))
        last = self._fold_sources[-1] if self._fold_sources else None
        if last is not None and isinstance(last[1], list):
            last[1].extend(trials)  # live appends: one pending chunk, however many batches
        else:
            self._fold_sources.append((start, list(trials)))
        self.version += 1
        return start

    def _extend_stored(self, stored: StoredTrials) -> int:
        """Append a stored study's trials straight from its column arrays."""
        start = len(self)
        n = len(stored)
        if n == 0:
            return start
        tc = stored.columns
        c = self._cols
        ok = np.asarray(tc.ok, dtype=bool)
        c["number"].extend(tc.number)
        c["ok"].extend(ok)
        c["test"].extend(np.where(ok, tc.mean_test_score, np.nan))
        c["std"].extend(np.where(ok, tc.std_test_score, np.nan))
        c["k"].extend(np.full(n, tc.n_folds, dtype=np.int64))
        c["train"].extend(np.where(ok, tc.mean_train_score, np.nan))
        c["started"].extend(tc.started)
        c["finished"].extend(tc.finished)
        self._param_dicts.extend(tc.params)
        self._fold_sources.append((start, stored))
        self.version += 1
        return start

    @property
    def params(self) -> dict[str, ParamColumn]:
        """Parameter columns by name, in order of first appearance."""
        upto = self._params_upto
        if upto < len(self._param_dicts):
            dicts = self._param_dicts[upto:] if upto else self._param_dicts
            self._extend_params(dicts, upto)
            self._params_upto = len(self._param_dicts)
        return self._params

    @property
    def workers(self) -> list[str]:
        """Worker labels; ``fold_worker`` holds indices into this list."""
        self._sync_folds()
        return self._workers

    def _sync_folds(self) -> None:
        sources, self._fold_sources = self._fold_sources, []
        for start, source in sources:
            if isinstance(source, StoredTrials):
                self._extend_stored_folds(source, start)
            else:
                self._extend_folds(source, start)

    def _extend_params(self, dicts: Sequence[dict[str, Any]], start: int) -> None:
        names = list(dict.fromkeys(chain.from_iterable(dicts)))
        for name in names:
            if name not in self._params:
                col = ParamColumn(name, log=name in self.log_params)
                if start:
                    col.extend([_MISSING] * start)
                self._params[name] = col
        for name, col in self._params.items():
            try:
                raw = list(map(operator.itemgetter(name), dicts))
            except KeyError:  # parameter of another sub-space
                raw = [d.get(name, _MISSING) for d in dicts]
            col.extend(raw)

    def _extend_folds(self, trials: Sequence[TrialRecord], start: int) -> None:
        per_trial = list(map(_FOLDS, trials))
        lens = np.fromiter(map(len, per_trial), np.int64, len(trials))
        folds = list(chain.from_iterable(per_trial))
        idx = np.repeat(np.arange(start, start + len(trials)), lens)
        codes = self._worker_codes(list(map(_WORKER, folds)))
        fc = self._fold_cols
        m = len(folds)
        started = np.fromiter(map(_STARTED, folds), float, m)
        finished = np.fromiter(map(_FINISHED, folds), float, m)
        # A fold failed when its fit or score raised (the worker stores the error). A
        # trial with such a fold is a failed trial, so only those trials' folds are read.
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
        fc["fold_trial"].extend(idx)
        fc["fold_worker"].extend(codes)
        fc["fold_started"].extend(started)
        fc["fold_finished"].extend(finished)
        fc["fold_ok"].extend(ok)

    def _extend_stored_folds(self, stored: StoredTrials, start: int) -> None:
        """A stored study's folds, read from the history now (the timeline is drawn)."""
        tc = stored.columns
        n = len(stored)
        # 300,000 fold rows: no cyclic collection while they are read (they hold no
        # cycles; collections would walk every live object, a fifth of the read)
        collecting = gc.isenabled()
        gc.disable()
        try:
            folds = stored.fold_columns()
        except HpstudioError as exc:  # the history went away (another file was opened)
            self.fold_error = str(exc)
            folds = None
        finally:
            if collecting:
                gc.enable()
        if folds is not None and len(folds.number) and n:
            # trial numbers are stored in order: each fold finds its trial by bisection
            pos = np.searchsorted(tc.number, folds.number)
            known = pos < n
            known[known] = tc.number[pos[known]] == folds.number[known]
            # the store's worker codes, translated into this store's codes
            to_mine = self._worker_codes(list(folds.worker_labels))
            codes = to_mine[folds.worker_code] if len(to_mine) else folds.worker_code
            fold_started, fold_finished, fold_ok = folds.started, folds.finished, ~folds.failed
            if not known.all():  # a fold without its trial row: not drawn
                pos, codes = pos[known], codes[known]
                fold_started, fold_finished = fold_started[known], fold_finished[known]
                fold_ok = fold_ok[known]
            counts = np.bincount(pos, minlength=n)
        else:
            pos = np.empty(0, dtype=np.int64)
            codes = np.empty(0, dtype=np.int64)
            fold_started = fold_finished = np.empty(0)
            fold_ok = np.empty(0, dtype=bool)
            counts = np.zeros(n, dtype=np.int64)
        idx = pos + start
        missing = np.flatnonzero(counts == 0)
        if len(missing):  # trials stored without fold rows: one bar for the whole trial
            idx = np.concatenate([idx, missing + start])
            codes = np.concatenate([codes, self._worker_codes([UNKNOWN_WORKER] * len(missing))])
            fold_started = np.concatenate([fold_started, tc.started[missing]])
            fold_finished = np.concatenate([fold_finished, tc.finished[missing]])
            fold_ok = np.concatenate([fold_ok, np.asarray(tc.ok, dtype=bool)[missing]])
        fc = self._fold_cols
        fc["fold_trial"].extend(idx)
        fc["fold_worker"].extend(codes)
        fc["fold_started"].extend(fold_started)
        fc["fold_finished"].extend(fold_finished)
        fc["fold_ok"].extend(fold_ok)

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

    # -- reading ----------------------------------------------------------------------
    def col(self, name: str) -> np.ndarray:
        """A trial-level column: number, ok, test, std, k, train, started, finished."""
        return self._cols[name].view

    def fold_col(self, name: str) -> np.ndarray:
        """A fold-level column: fold_trial, fold_worker, fold_started, fold_finished,
        fold_ok."""
        self._sync_folds()
        return self._fold_cols[name].view

    @property
    def number(self) -> np.ndarray:
        return self._cols["number"].view

    @property
    def test(self) -> np.ndarray:
        """Mean CV test score; NaN for failed trials."""
        return self._cols["test"].view

    @property
    def complete(self) -> np.ndarray:
        """Trials with a usable score (complete and finite)."""
        return self._cols["ok"].view & np.isfinite(self._cols["test"].view)

    @property
    def standard_error(self) -> np.ndarray:
        """Standard error of the mean CV score: std over folds / sqrt(k)."""
        k = self._cols["k"].view
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._cols["std"].view / np.sqrt(np.where(k > 0, k, np.nan))

    @property
    def t0(self) -> float:
        """First start of the study (a trial starts with its first fold): the zero of
        every time axis."""
        s = self._cols["started"].view
        s = s[np.isfinite(s)]
        return float(s.min()) if len(s) else 0.0

    def index_of(self, number: int | None) -> int | None:
        if number is None:
            return None
        n = len(self)
        if self._index_upto < n:  # only selection needs it: not paid when opening
            numbers = self._cols["number"].view[self._index_upto :].tolist()
            self._index_of.update(zip(numbers, range(self._index_upto, n), strict=True))
            self._index_upto = n
        return self._index_of.get(int(number))


def _split_stats(
    splits: list[tuple[float, ...] | None], with_std: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, population std (scikit-learn's std_test_score) and count per row.

    A row may be None (no train scores) or have its own length; a NaN split score makes
    the mean NaN, like ``cv_results_`` with ``error_score=nan``. Everything iterates in
    C: this runs over half a million scores when a 100,000-trial study is opened.
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
        flat = np.array(list(chain.from_iterable(filter(None, splits))), dtype=float)
    full = lens == width
    if (full | (lens == 0)).all():  # the usual shape: only failed trials lack scores
        arr = flat.reshape(-1, width)
        mean = np.full(n, np.nan)
        std = np.full(n, np.nan)
        mean[full] = m = arr.mean(axis=1)
        if with_std:
            std[full] = np.sqrt(((arr - m[:, None]) ** 2).mean(axis=1))
        return mean, std, lens
    arr = np.zeros((n, width))  # ragged: a study resumed with another number of folds
    mask = np.arange(width)[None, :] < lens[:, None]
    arr[mask] = flat
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = arr.sum(axis=1) / lens
        dev = np.where(mask, (arr - mean[:, None]) ** 2, 0.0)
        std = np.sqrt(dev.sum(axis=1) / lens)
    return mean, std, lens

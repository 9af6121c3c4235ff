"""Work that candidates share is done once: the leading steps of a pipeline, per fold.

A grid of 5 ``pca__n_components`` × 8 ``svc__C`` has 40 candidates but only 5 different
PCAs per fold. A worker that fits a candidate's pipeline keeps, for each leading step, what
that step produced on the fold: its ``fit_transform`` of the training part, its
``transform`` of the test part (and of the training part, when training scores are
wanted). The next candidate whose leading steps have the same classes and parameters on
the same fold starts from there and fits only the steps that differ and the estimator.

The results are those of fitting the whole pipeline, to the bit: the steps are fitted as
scikit-learn's ``Pipeline.fit`` fits them (``fit_transform`` on the training part), and the
estimator is scored on the test part transformed as ``Pipeline.predict`` would transform it.
A step whose ``random_state`` is None draws afresh at every fit in scikit-learn; here the
candidates sharing it share one draw.

Two tiers, both bounded:

* each worker process keeps recent outputs in memory (least recently used dropped first,
  ``MEMORY_BUDGET_BYTES`` in all);
* workers of one machine share outputs through the study's scratch folder (next to the
  dataset file the local executor writes, removed when the study ends), so a step fitted by
  one worker is not fitted again by another (``DISK_BUDGET_BYTES`` in all). Workers without
  such a folder (in-process, on a cluster) use memory only.

Cached arrays are made read-only: a later step that tried to change its input in place
(``copy=False``) would fail that trial with a clear error rather than spoil the cache.
Keys are digests of the fold, the study's data and settings, and each leading step's class
and parameters (functions by their import path), so they agree between processes.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MEMORY_BUDGET_BYTES = 512 * 2**20  # per worker process
DISK_BUDGET_BYTES = 4 * 2**30  # per study, in its scratch folder
FOLDER_NAME = "step-cache"


@dataclass(frozen=True)
class FittedFold:
    """A fitted fold, ready to score: ``model`` takes ``X_test`` / ``X_train`` as given."""

    model: Any
    X_test: Any
    X_train: Any  # the training part as ``model`` takes it (None when not asked for)


@dataclass(frozen=True)
class StepOutputs:
    """What the leading steps made of one fold."""

    X_fit: Any  # fit_transform of the training part: what the next step is fitted on
    X_test: Any  # transform of the test part
    X_train: Any  # transform of the training part (for training scores), or None

    @property
    def nbytes(self) -> int:
        return sum(_nbytes(x) for x in (self.X_fit, self.X_test, self.X_train) if x is not None)


class StepCache:
    """Outputs of leading steps by key: in memory, and in ``folder`` when given."""

    def __init__(self, memory_budget: int = MEMORY_BUDGET_BYTES, folder: Path | None = None,
                 disk_budget: int = DISK_BUDGET_BYTES) -> None:
        self.memory_budget = memory_budget
        self.folder = folder
        self.disk_budget = disk_budget
        self._entries: OrderedDict[str, StepOutputs] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0

    def get(self, key: str) -> StepOutputs | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        entry = self._read(key)
        if entry is not None:
            self.disk_hits += 1
            self._remember(key, entry)
        return entry

    def put(self, key: str, outputs: StepOutputs) -> None:
        self.misses += 1
        self._remember(key, outputs)
        self._write(key, outputs)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _remember(self, key: str, outputs: StepOutputs) -> None:
        size = outputs.nbytes
        if size > self.memory_budget:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._entries[key] = outputs
        self._bytes += size
        while self._bytes > self.memory_budget and self._entries:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.nbytes

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{key}.joblib"

    def _read(self, key: str) -> StepOutputs | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        import joblib

        try:
            X_fit, X_test, X_train = joblib.load(path)
        except Exception:  # a file another worker is replacing, or a damaged one: refit
            return None
        return StepOutputs(_read_only(X_fit), _read_only(X_test), _read_only(X_train))

    def _write(self, key: str, outputs: StepOutputs) -> None:
        path = self._path(key)
        if path is None or path.exists():
            return
        assert self.folder is not None
        try:
            self.folder.mkdir(exist_ok=True)
            used = sum(entry.stat().st_size for entry in os.scandir(self.folder)
                       if entry.is_file())
            if used + outputs.nbytes > self.disk_budget:
                return
            import joblib

            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            os.close(handle)
            try:
                joblib.dump((outputs.X_fit, outputs.X_test, outputs.X_train), temporary)
                os.replace(temporary, path)  # readers see the whole file or none
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        except OSError:  # a full disk or a removed folder only costs the sharing
            return


# ----- fitting a fold through the cache ----------------------------------------------------

_WORKER_CACHE: StepCache | None = None
_WORKER_SCOPE: str | None = None


def worker_cache(scope: str, folder: Path | None) -> StepCache:
    """The process's cache for the study ``scope`` names (emptied when the study changes)."""
    global _WORKER_CACHE, _WORKER_SCOPE
    if _WORKER_CACHE is None or scope != _WORKER_SCOPE:
        _WORKER_CACHE = StepCache(folder=folder)
        _WORKER_SCOPE = scope
    return _WORKER_CACHE


def fit_fold(estimator: Any, context: Any, split: Any, X_train: Any, y_train: Any,
             X_test: Any) -> FittedFold:
    """Fit ``estimator`` on one split of a study, reusing leading steps fitted before.

    ``split`` names the rows of ``X_train`` and ``X_test`` within the study: the fold, and
    whatever else chooses rows (a budget that subsamples them), so that only fits on the
    very same rows share their output.
    """
    if not has_leading_steps(estimator):
        estimator.fit(X_train, y_train)
        return FittedFold(estimator, X_test, X_train)
    scope = _digest(repr(context.key), repr(context.train_score))
    data_path = str(getattr(context, "data_path", ""))
    folder = Path(data_path).parent / FOLDER_NAME if os.path.isfile(data_path) else None
    rows = _digest(repr(split), repr(getattr(X_train, "shape", None)),
                   repr(getattr(X_test, "shape", None)))
    return fit_with_cache(estimator, worker_cache(scope, folder), f"{scope}/{rows}",
                          X_train, y_train, X_test, context.train_score)


def has_leading_steps(estimator: Any) -> bool:
    """A Pipeline with at least one transforming step before its last."""
    from sklearn.pipeline import Pipeline

    return (isinstance(estimator, Pipeline) and len(estimator.steps) > 1
            and estimator.steps[-1][1] not in (None, "passthrough")
            and any(step not in (None, "passthrough") for _, step in estimator.steps[:-1]))


def fit_with_cache(pipeline: Any, cache: StepCache, scope: str, X_train: Any, y_train: Any,
                   X_test: Any, train_scores: bool) -> FittedFold:
    """Fit ``pipeline``'s steps as ``Pipeline.fit`` does, skipping those ``cache`` holds.

    ``scope`` names the data and fold; returns the fitted last step with the fold's parts
    transformed for it.
    """
    leading = pipeline.steps[:-1]
    keys = step_keys(leading, scope)
    start = 0
    outputs = StepOutputs(X_train, X_test, X_train if train_scores else None)
    for index in reversed(range(len(leading))):
        if _is_passthrough(leading[index][1]):
            continue
        hit = cache.get(keys[index])
        if hit is not None and (hit.X_train is not None or not train_scores):
            start, outputs = index + 1, hit
            break
    for index in range(start, len(leading)):
        step = leading[index][1]
        if _is_passthrough(step):
            continue
        X_fit = _fit_transform(step, outputs.X_fit, y_train)
        outputs = StepOutputs(
            _read_only(X_fit), _read_only(step.transform(outputs.X_test)),
            _read_only(step.transform(outputs.X_train)) if train_scores else None)
        cache.put(keys[index], outputs)
    model = pipeline.steps[-1][1]
    model.fit(outputs.X_fit, y_train)
    return FittedFold(model, outputs.X_test, outputs.X_train)


def step_keys(steps: Sequence[tuple[str, Any]], scope: str) -> list[str]:
    """One key per leading step: a digest of the scope and every step up to it."""
    digest = hashlib.sha256(scope.encode())
    keys = []
    for name, step in steps:
        digest.update(repr((name, canonical(step))).encode())
        keys.append(digest.copy().hexdigest()[:40])
    return keys


def _fit_transform(step: Any, X: Any, y: Any) -> Any:
    """As scikit-learn's ``Pipeline`` fits a step (``_fit_transform_one``)."""
    if hasattr(step, "fit_transform"):
        return step.fit_transform(X, y)
    return step.fit(X, y).transform(X)


def _is_passthrough(step: Any) -> bool:
    return step is None or (isinstance(step, str) and step == "passthrough")


def canonical(value: Any) -> Any:
    """A value as plain data that prints the same in every process (for keys)."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        cls = type(value)
        params = value.get_params(deep=False)
        return (f"{cls.__module__}.{cls.__qualname__}",
                tuple(sorted((k, canonical(v)) for k, v in params.items())))
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', value)}"
    if isinstance(value, Mapping):
        return ("dict", tuple(sorted((repr(k), canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(canonical(v) for v in value))
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, _digest(value.tobytes()))
    if isinstance(value, np.generic):
        return value.item()
    return value


def _digest(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return digest.hexdigest()[:32]


def _read_only(X: Any) -> Any:
    """Lock arrays in place (dense and sparse), so that no step can change a cached input."""
    if isinstance(X, np.ndarray):
        X.flags.writeable = False
    elif hasattr(X, "data") and isinstance(getattr(X, "data", None), np.ndarray) \
            and hasattr(X, "indices"):
        for part in (X.data, X.indices, X.indptr):
            part.flags.writeable = False
    return X


def _nbytes(X: Any) -> int:
    if isinstance(X, np.ndarray):
        return int(X.nbytes)
    if hasattr(X, "indptr"):  # scipy sparse (CSR / CSC)
        return int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
    if hasattr(X, "memory_usage"):  # a DataFrame
        return int(X.memory_usage(index=False, deep=True).sum())
    return sys.getsizeof(X)


# ----- an order of candidates that shares work ---------------------------------------------


def reuse_order(spec: Any) -> Callable[[Mapping[str, Any]], tuple[str, ...]] | None:
    """A sort key that puts candidates with the same leading-step parameters together.

    Candidates are then started in groups that share their leading steps, so a worker's
    memory holds the few outputs in use rather than all of them. None when no parameter of
    the space belongs to a leading step (nothing to share between candidates).
    """
    from hpstudio.core.pipeline import plan_for

    plan = plan_for(spec)
    if not plan.wrapped:
        return None
    last = len(plan.step_names) - 1
    depth = {name: plan.prefix_depth(name) for sub in spec.space for name in sub}
    leading = sorted((d, name) for name, d in depth.items() if d < last)
    if not leading:
        return None
    names = [name for _, name in leading]

    def key(params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(repr(params.get(name)) for name in names)

    return key

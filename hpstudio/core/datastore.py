"""Data given in memory (the Python API), kept beside the history in safe formats.

A study tuned on a NumPy array or a pandas DataFrame must be reopened, resumed, refined
and refitted later by the app, which never saw that memory. Its data is written once
into a folder beside the history (``history.db`` -> ``history.db-data/``), one
sub-folder per dataset named by a hash of its content: tuning twice on the same data
stores it once, and a study names its data by that key (the spec's ``[data] stored``).

Nothing is pickled, so opening a stored dataset can never run code: arrays are ``.npy``
files read with ``allow_pickle=False``, DataFrames and Series are Parquet, sparse matrices
are ``.npz`` (also read without pickle). Data these formats cannot hold (arrays of Python
objects) is refused with a message saying what to give instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.errors import DataError

__all__ = ["DATA_FOLDER_SUFFIX", "StoredData", "data_folder", "describe_data", "load_data",
           "store_data", "stored_dataset"]

DATA_FOLDER_SUFFIX = "-data"
_FORMAT = 1
_META = "meta.json"
_KEY_LENGTH = 24  # hex digits of the content hash: 96 bits, no collision in practice


@dataclass(frozen=True)
class StoredData:
    """A dataset written to the data folder: its key (the folder's name) and path."""

    key: str
    path: Path


def data_folder(history_path: str | Path) -> Path:
    """Where the data of a history's studies lives: beside it, like SQLite's -wal file."""
    path = Path(history_path)
    return path.with_name(path.name + DATA_FOLDER_SUFFIX)


# ----- writing ----------------------------------------------------------------------------


def store_data(folder: str | Path, X: Any, y: Any = None, groups: Any = None) -> StoredData:
    """Write X, y (and groups) once under ``folder``; the same content gives the same key.

    Raises DataError when a part cannot be kept in a safe format."""
    parts = {"X": _prepare(X, "X")}
    if y is not None:
        parts["y"] = _prepare(y, "y")
    if groups is not None:
        parts["groups"] = _prepare(groups, "groups")
    key = _content_key(parts)
    folder = Path(folder)
    target = folder / key
    if (target / _META).is_file():
        return StoredData(key, target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder))
        try:
            meta: dict[str, Any] = {"format": _FORMAT, "parts": {}}
            for name, (kind, value) in parts.items():
                meta["parts"][name] = _write(staging, name, kind, value)
            (staging / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
            try:
                os.replace(staging, target)  # another process may have stored it meanwhile
            except OSError:
                if not (target / _META).is_file():
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise DataError(f"cannot store the data beside the history in {folder}: "
                        f"{exc.strerror or exc}; choose a writable history with db=...") from None
    return StoredData(key, target)


def _prepare(value: Any, name: str) -> tuple[str, Any]:
    """(kind, value) of one part: "frame", "series", "sparse" or "array"."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        for column in value.columns:
            if isinstance(column, bool) or not isinstance(column, str | int | np.integer):
                raise DataError(f"{name}: column name {column!r} cannot be stored; name the "
                                "DataFrame's columns with text or whole numbers")
        if value.columns.duplicated().any():
            raise DataError(f"{name}: the DataFrame has duplicated column names; make them "
                            "unique")
        return "frame", value
    if isinstance(value, pd.Series):
        return "series", value
    try:
        import scipy.sparse as sp

        if sp.issparse(value):
            return "sparse", sp.csr_matrix(value)
    except ImportError:  # pragma: no cover - scipy is a dependency
        pass
    array = np.asarray(value)
    if array.dtype == object:
        if all(isinstance(v, str) for v in array.ravel()):
            array = array.astype(str)
        else:
            raise DataError(f"{name} holds Python objects (dtype object), which cannot be "
                            "stored without pickle; give numbers or text, or a pandas "
                            "DataFrame with typed columns")
    if array.dtype.kind not in "biufcUSMm":
        raise DataError(f"{name}: an array of dtype {array.dtype} cannot be stored; give "
                        "numbers or text")
    return "array", array


def _content_key(parts: dict[str, tuple[str, Any]]) -> str:
    """A hash of everything that makes the data what it is: values, types, names, shape."""
    import pandas as pd

    digest = hashlib.sha256(f"hpstudio-data-{_FORMAT}".encode())
    for name, (kind, value) in parts.items():
        digest.update(f"|{name}:{kind}|".encode())
        if kind == "frame":
            digest.update(repr([(repr(c), str(t)) for c, t in value.dtypes.items()]).encode())
            digest.update(repr(value.shape).encode())
            for column in value.columns:
                hashed = pd.util.hash_pandas_object(value[column], index=False)
                digest.update(hashed.to_numpy().tobytes())
            digest.update(pd.util.hash_pandas_object(value.index).to_numpy().tobytes())
        elif kind == "series":
            digest.update(f"{value.name!r}:{value.dtype}:{len(value)}".encode())
            digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        elif kind == "sparse":
            digest.update(f"{value.shape}:{value.dtype}".encode())
            for array in (value.indptr, value.indices, value.data):
                digest.update(np.ascontiguousarray(array).tobytes())
        else:
            digest.update(f"{value.shape}:{value.dtype.str}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()[:_KEY_LENGTH]


def _write(folder: Path, name: str, kind: str, value: Any) -> dict[str, Any]:
    if kind == "frame":
        frame = value.copy(deep=False)
        names = list(frame.columns)
        frame.columns = [str(c) for c in names]
        if len(set(frame.columns)) != len(names):
            raise DataError(f"{name}: column names clash once written as text "
                            f"({names}); rename them")
        frame.to_parquet(folder / f"{name}.parquet")
        return {"kind": kind, "file": f"{name}.parquet",
                "columns": [c.item() if isinstance(c, np.generic) else c for c in names]}
    if kind == "series":
        series_name = value.name
        frame = value.to_frame(name="values")
        frame.to_parquet(folder / f"{name}.parquet")
        plain = series_name.item() if isinstance(series_name, np.generic) else series_name
        if plain is not None and not isinstance(plain, str | int | float):
            plain = str(plain)
        return {"kind": kind, "file": f"{name}.parquet", "name": plain}
    if kind == "sparse":
        import scipy.sparse as sp

        sp.save_npz(folder / f"{name}.npz", value, compressed=False)
        return {"kind": kind, "file": f"{name}.npz"}
    np.save(folder / f"{name}.npy", value, allow_pickle=False)
    return {"kind": kind, "file": f"{name}.npy"}


# ----- the spec's [data] stored key ---------------------------------------------------------


def parse_stored_key(raw: Any, base_dir: str | Path | None) -> Any:
    """The DataSpec of ``[data] stored = "KEY"``: data the Python API stored beside the
    history, found by its key in the study's data folder (``base_dir``) or by a path.
    The stored data holds its own target, so ``builtin``, ``csv`` and ``target`` do not go
    with it."""
    from hpstudio.core.errors import SpecError
    from hpstudio.core.spec import DataSpec

    stored = raw.get("stored")
    others = [k for k in ("builtin", "csv", "target") if raw.get(k) is not None]
    if others:
        raise SpecError(f"data.stored: stored data holds its own X and y; leave out "
                        f"{', '.join(others)}")
    if not isinstance(stored, str) or not stored.strip() or "\0" in stored:
        raise SpecError(f"data.stored: expected the key of data stored beside the history "
                        f"(a folder name such as \"3f2a...\"), got {stored!r:.60}")
    try:
        stored.encode("utf-8")
    except UnicodeEncodeError:
        raise SpecError("data.stored: not valid Unicode text") from None
    return DataSpec(stored=stored, base_dir=str(base_dir) if base_dir else None)


# ----- reading ----------------------------------------------------------------------------


def load_data(path: str | Path) -> tuple[Any, Any, Any]:
    """(X, y, groups) of a stored dataset folder; y and groups may be None."""
    path = Path(path)
    meta_path = path / _META
    if not meta_path.is_file():
        raise DataError(f"the stored data {path} is missing (was the history's "
                        f"{path.parent.name} folder moved or deleted?); a study tuned on "
                        "data in memory needs it to resume, refine or refit")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise DataError(f"the stored data {path} has format {meta.get('format')!r}; "
                            "this hpstudio reads format 1")
        parts = {name: _read(path, info) for name, info in meta["parts"].items()}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read the stored data {path}: {exc}") from None
    return parts["X"], parts.get("y"), parts.get("groups")


def _read(folder: Path, info: dict[str, Any]) -> Any:
    file = folder / info["file"]
    kind = info["kind"]
    if kind == "frame":
        import pandas as pd

        frame = pd.read_parquet(file)
        frame.columns = list(info["columns"])
        return frame
    if kind == "series":
        import pandas as pd

        series = pd.read_parquet(file)["values"]
        series.name = info.get("name")
        return series
    if kind == "sparse":
        import scipy.sparse as sp

        return sp.load_npz(file)  # read without pickle
    return np.load(file, allow_pickle=False)


def describe_data(X: Any, y: Any = None) -> str:
    """A short label for the studies list: "DataFrame 150×4", "ndarray 1797×64"."""
    shape = getattr(X, "shape", None)
    if shape is None:
        shape = np.shape(X)
    dims = "×".join(str(int(s)) for s in shape) if shape else "?"
    return f"{type(X).__name__} {dims}"


def stored_dataset(path: str | Path) -> Any:
    """The stored data as a Dataset the study loop and the app can use.

    The data is passed to the estimator untouched (a pipeline given as an object does
    its own preprocessing), so no column typing or preprocessing is added."""
    from hpstudio.core.data import Dataset

    X, y, _groups = load_data(path)
    if y is None:
        raise DataError(f"the stored data {path} has no target y; a study needs one")
    return Dataset(f"stored {Path(path).name[:8]}", X, y, target_task(y))


def target_task(y: Any) -> str:
    """Classification when scikit-learn would stratify on ``y`` (binary or multiclass
    labels), regression otherwise (and without a target)."""
    from hpstudio.core.data import CLASSIFICATION, REGRESSION

    if y is None:
        return REGRESSION
    from sklearn.utils.multiclass import type_of_target

    try:
        kind = type_of_target(y)
    except ValueError:
        return REGRESSION
    return CLASSIFICATION if kind in ("binary", "multiclass") else REGRESSION

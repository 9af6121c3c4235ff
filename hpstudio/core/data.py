"""Datasets: scikit-learn's bundled sets and data files, with a leak-free preprocessing step.

A data file (CSV, TSV, Parquet, Feather, Excel: read by ``tabular``) is typed by pandas and
its preprocessing (impute + scale numbers, impute + one-hot text) is a Pipeline step fitted
inside each fold, so nothing is learnt from test folds.
Bundled sets are passed through untouched, so scores agree with ``GridSearchCV``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpstudio.core.errors import DataError
from hpstudio.core.spec import DataSpec
from hpstudio.core.tabular import read_table

CLASSIFICATION = "classification"
REGRESSION = "regression"
NO_TARGET = "no target"  # a data file read without a target (density estimation, clustering)
_MAX_CLASSES_FOR_INT_TARGET = 20


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features and target ready for cross-validation, with what the UI shows about them."""

    name: str
    X: Any  # ndarray for bundled sets, DataFrame for CSV files
    y: np.ndarray | None  # None: no target
    task: str
    numeric_columns: tuple[str, ...] = ()
    categorical_columns: tuple[str, ...] = ()
    dropped_rows: int = 0  # rows whose target was missing
    text_columns: tuple[str, ...] = ()
    groups: np.ndarray | None = None  # the [data] groups column: used to split, never a feature

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_columns(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        return len(np.unique(self.y)) if self.task == CLASSIFICATION else None

    @property
    def needs_preprocessing(self) -> bool:
        return bool(self.numeric_columns or self.categorical_columns or self.text_columns)

    def fingerprint(self) -> str:
        """A content hash, so a stored study can tell whether it is reopened on the same data."""
        digest = hashlib.sha256()
        if hasattr(self.X, "columns"):
            import pandas as pd

            digest.update(",".join(map(str, self.X.columns)).encode())
            digest.update(pd.util.hash_pandas_object(self.X, index=False).to_numpy().tobytes())
        else:
            digest.update(np.ascontiguousarray(self.X).tobytes())
        digest.update(np.asarray(self.y).astype(str).astype("U").tobytes())
        if self.groups is not None:  # other groups make other splits
            digest.update(np.asarray(self.groups).astype(str).astype("U").tobytes())
        return digest.hexdigest()[:16]


def load_dataset(spec: DataSpec) -> Dataset:
    if spec.stored:
        from hpstudio.core.datastore import stored_dataset

        return stored_dataset(spec.stored_path())
    if spec.builtin:
        return load_builtin(spec.builtin)
    return split_off_groups(load_table(spec.csv_path(), spec.target, spec.columns,
                                       spec.preprocess), spec.groups)


def load_builtin(name: str) -> Dataset:
    from sklearn import datasets

    loaders = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
        "diabetes": datasets.load_diabetes,
    }
    if name not in loaders:
        raise DataError(f"unknown bundled dataset {name!r}; choose one of {', '.join(loaders)}")
    bunch = loaders[name]()
    task = REGRESSION if name == "diabetes" else CLASSIFICATION
    return Dataset(name, bunch.data, bunch.target, task)


def read_preview(path: Any, rows: int = 20) -> Any:
    """The first rows of a data file, typed as the full load would type them (data panel)."""
    return read_table(path, nrows=rows)


read_csv_preview = read_preview  # the name the data panel has always called


def load_table(path: Any, target: str | None, columns: Mapping[str, str] | None = None,
               preprocess: bool = True) -> Dataset:
    """A data file of any format ``read_table`` knows, split into features and target.

    ``columns`` types columns (number, category, text, drop) over what pandas read;
    ``preprocess`` False hands the kept columns (numbers only) to the first step as they
    are. Without a ``target`` every column is a feature and ``y`` is None.
    """
    from hpstudio.core.columns import feature_columns

    frame = read_table(path)
    frame.columns = [str(c) for c in frame.columns]
    if target is None:
        X, numeric, categorical, text = feature_columns(frame, columns or {}, preprocess, path)
        return Dataset(str(getattr(path, "name", path)), X, None, NO_TARGET, numeric,
                       categorical, 0, text)
    if target not in frame.columns:
        names = ", ".join(map(str, frame.columns))
        raise DataError(f"target column {target!r} is not in {path}; its columns are: {names}")
    if frame.shape[1] < 2:
        raise DataError(f"{path} has no feature columns besides the target {target!r}")
    missing_target = frame[target].isna()
    frame = frame.loc[~missing_target].reset_index(drop=True)
    if len(frame) < 2:
        raise DataError(f"{path}: fewer than 2 rows have a value in the target column {target!r}")
    y_series = frame[target]
    X, numeric, categorical, text = feature_columns(frame.drop(columns=[target]),
                                                    columns or {}, preprocess, path)
    task = infer_task(y_series)
    y = y_series.to_numpy()
    if task == REGRESSION:
        y = y.astype(float)
    elif y.dtype == object:
        y = y.astype(str)
    return Dataset(str(getattr(path, "name", path)), X, y, task, numeric, categorical,
                   int(missing_target.sum()), text)


load_csv = load_table  # the spec key is `csv` whatever the file's format


def infer_task(target: Any) -> str:
    """Text, booleans and small sets of integers are classes; other numbers are a regression."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return CLASSIFICATION
    values = target.dropna()
    if pd.api.types.is_integer_dtype(values) or bool((values == values.round()).all()):
        return CLASSIFICATION if values.nunique() <= _MAX_CLASSES_FOR_INT_TARGET else REGRESSION
    return REGRESSION


def make_preprocessor(numeric: tuple[str, ...], categorical: tuple[str, ...]) -> Any:
    """Impute + scale numbers, impute + one-hot text: the sensible default for tabular data."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    transformers = []
    if numeric:
        transformers.append(
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             list(numeric))
        )
    if categorical:
        transformers.append(
            ("categorical",
             make_pipeline(SimpleImputer(strategy="most_frequent"),
                           OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
             list(categorical))
        )
    return ColumnTransformer(transformers)


def split_off_groups(dataset: Dataset, column: str | None) -> Dataset:
    """The dataset with ``column`` taken out of the features and kept as its ``groups``
    (what group splitters and ``PredefinedSplit`` split by); unchanged for None.

    Rows whose group is missing cannot be put in any group, so they are refused."""
    if column is None:
        return dataset
    from dataclasses import replace

    X = dataset.X
    if not hasattr(X, "columns") or column not in X.columns:
        columns = ", ".join(map(str, getattr(X, "columns", ())))
        raise DataError(f"groups column {column!r} is not in {dataset.name}; its feature "
                        f"columns are: {columns}")
    values = X[column]
    missing = int(values.isna().sum())
    if missing:
        raise DataError(f"groups column {column!r} has {missing} empty cells; every row needs "
                        "a group to be split by")
    if X.shape[1] < 2:
        raise DataError(f"{dataset.name} has no feature columns besides the target and the "
                        f"groups column {column!r}")
    groups = values.to_numpy()
    if groups.dtype == object:
        groups = groups.astype(str)
    return replace(dataset, X=X.drop(columns=[column]),
                   numeric_columns=tuple(c for c in dataset.numeric_columns if c != column),
                   categorical_columns=tuple(c for c in dataset.categorical_columns
                                             if c != column),
                   text_columns=tuple(c for c in dataset.text_columns if c != column),
                   groups=groups)

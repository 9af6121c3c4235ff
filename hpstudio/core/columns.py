"""A data file's feature columns, typed as the spec says or as pandas read them.

``[data] columns`` may type any column ``number``, ``category``, ``text`` or ``drop``; the
others are numbers when pandas read them as numbers (booleans excepted) and categories
otherwise. Text columns get their missing values as empty text, a fact about each row that
learns nothing from other rows, so doing it on load leaks nothing between folds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpstudio.core.errors import DataError
from hpstudio.core.spec import _did_you_mean

NUMBER, CATEGORY, TEXT, DROP = "number", "category", "text", "drop"


def feature_columns(features: Any, declared: Mapping[str, str], preprocess: bool,
                    source: Any) -> tuple[Any, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``(X, numeric, categorical, text)``: the feature frame with dropped columns removed.

    With ``preprocess`` False the columns reach the first step as they are, so every one
    left must hold numbers; the three tuples are then empty (no preprocessing step).
    ``source`` names the file in messages.
    """
    import pandas as pd

    present = [str(c) for c in features.columns]
    for column in declared:
        if column not in present:
            raise DataError(f"data.columns.{column}: {source} has no column {column!r}"
                            f"{_did_you_mean(column, present)}; its columns are: "
                            f"{', '.join(present)}")
    kept = [c for c in present if declared.get(c) != DROP]
    if not kept:
        raise DataError(f"{source}: every feature column is dropped; keep at least one")
    X = features[kept].copy()
    kinds = {c: declared.get(c) or (NUMBER if _is_numeric(X[c]) else CATEGORY) for c in kept}
    if not preprocess:
        for column, kind in kinds.items():
            if kind != NUMBER or not _is_numeric(X[column]):
                raise DataError(f"{source}: column {column!r} does not hold numbers; with "
                                "preprocess = false only numbers reach the first step: drop it "
                                f"(columns = {{ {column} = \"drop\" }}) or set preprocess = true")
        return X, (), (), ()
    for column, kind in kinds.items():
        if kind == NUMBER and not _is_numeric(X[column]):
            converted = pd.to_numeric(X[column], errors="coerce")
            bad = X[column][converted.isna() & X[column].notna()]
            if len(bad):
                raise DataError(f"data.columns.{column}: typed number but holds "
                                f"{str(bad.iloc[0])!r}; type it category or text")
            X[column] = converted
        elif kind == TEXT:
            X[column] = X[column].fillna("").astype(str)
    return (X, *(tuple(c for c in kept if kinds[c] == wanted)
                 for wanted in (NUMBER, CATEGORY, TEXT)))


def _is_numeric(column: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)

"""The data panel's view of data a study tuned from Python kept beside the history.

``hpstudio.tune`` stores its in-memory data in the history's data folder and names it in
the spec as ``[data] stored = "KEY"``; reopening, refining or editing such a study shows
that data here: its first rows, task and size, read on a worker thread like a CSV.
"""

from __future__ import annotations

from typing import Any

from hpstudio.core.spec import DataSpec

__all__ = ["load_stored_job", "stored_label"]


def stored_label(spec: DataSpec) -> str:
    return f"stored with the history: {spec.stored}"


def load_stored_job(spec: DataSpec, rows: int) -> tuple[Any, Any]:
    """(dataset, a preview frame of its first rows with the target last)."""
    import numpy as np
    import pandas as pd

    from hpstudio.core.data import load_dataset

    dataset = load_dataset(spec)
    X = dataset.X
    head = X[:rows] if not hasattr(X, "iloc") else X.iloc[:rows]
    if hasattr(head, "toarray"):
        head = head.toarray()
    frame = pd.DataFrame(head).copy()
    frame.columns = [str(c) for c in frame.columns]
    frame["target"] = np.asarray(dataset.y)[:rows]
    return dataset, frame

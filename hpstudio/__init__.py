"""hpstudio: a desktop studio for hyperparameter tuning of scikit-learn models.

For code: ``hpstudio.tune(estimator, param_grid, X, y, ...)`` runs a search as a study
and ``hpstudio.record(fitted_search)`` stores one that ran (see :mod:`hpstudio.api`).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["StudyResult", "__version__", "record", "tune"]

_API_NAMES = frozenset({"tune", "record", "StudyResult"})


def __getattr__(name: str) -> Any:
    """The Python API, loaded on first use: ``import hpstudio`` (what the app and the
    command line start with) stays as light as the version number."""
    if name in _API_NAMES:
        return getattr(importlib.import_module("hpstudio.api"), name)
    raise AttributeError(f"module 'hpstudio' has no attribute {name!r}")

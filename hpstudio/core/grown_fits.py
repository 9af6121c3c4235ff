"""A forest promoted to a bigger rung keeps the trees it has and grows the rest.

With ``n_estimators`` as the budget of successive halving, a candidate promoted from 6 to
18 trees would fit 18 trees from scratch, as scikit-learn's halving searches do. A random
forest grown with ``warm_start`` from 6 to 18 trees is the very forest a fresh 18-tree fit
makes: scikit-learn advances the forest's random state past the trees it already has
before drawing the new ones, so every tree gets the seed it would have had (its own tests
check this). So a worker that fits a candidate on a fold at a rung that is not the last
keeps the fitted forest in the study's scratch folder, and the worker that fits the same
candidate on the same fold at the next rung continues it: the scores are those of a fresh
fit to the bit, and a promoted candidate costs only the trees it adds. The fold's fit time
is the time spent growing them.

Only forests qualify (``RandomForest*``, ``ExtraTrees*``) whose ``random_state`` is a
number or None; a study without a scratch folder on disk (in-process, on a cluster) fits
from scratch. The folder holds one file per candidate and fold, replaced as the candidate
climbs, within ``DISK_BUDGET_BYTES``; past it, fits are simply not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpstudio.core.records import Budget

FOLDER_NAME = "grown-fits"
DISK_BUDGET_BYTES = 2 * 2**30  # per study
_GROWN_PARAMETER = "n_estimators"


@dataclass(frozen=True)
class Growth:
    """Where one candidate's fold keeps its forest between rungs."""

    path: Path
    amount: int  # trees at this rung
    keep: bool  # False at the last rung: nobody will continue it

    def resume(self, estimator: Any) -> Any:
        """``estimator`` with its forest replaced by the one kept at an earlier rung, set to
        grow to this rung's size; ``estimator`` unchanged when nothing usable is kept."""
        try:
            with self.path.open("rb") as file:
                kept = pickle.load(file)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return estimator
        if not 0 < len(getattr(kept, "estimators_", ())) < self.amount:
            return estimator
        if type(kept) is not type(final_estimator(estimator)):
            return estimator
        kept.set_params(n_estimators=self.amount, warm_start=True)
        return replace_final(estimator, kept)

    def store(self, fitted_forest: Any) -> None:
        """Keep the forest for the next rung, written whole or not at all."""
        if not self.keep:
            with contextlib.suppress(OSError):
                self.path.unlink()
            return
        try:
            blob = pickle.dumps(fitted_forest, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return  # the next rung fits from scratch
        folder = self.path.parent
        try:
            folder.mkdir(exist_ok=True)
            if _folder_bytes(folder) + len(blob) > DISK_BUDGET_BYTES:
                return
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(blob)
            os.replace(temporary, self.path)
        except OSError:  # a full disk costs the saving, never the fold
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def growth_for(context: Any, fold: int, params: dict[str, Any], budget: Budget | None,
               estimator: Any) -> Growth | None:
    """How this fold may continue an earlier rung's forest, or None when it fits afresh.

    ``params``: the candidate's parameters as the task carries them; ``estimator``: the
    fold's estimator with them set."""
    if budget is None or not is_grown_budget(budget.resource):
        return None
    forest = final_estimator(estimator)
    if not _is_growable(forest):
        return None
    data_path = str(getattr(context, "data_path", ""))
    if not os.path.isfile(data_path):
        return None
    others = {name: value for name, value in params.items() if name != budget.resource}
    key = hashlib.sha256(repr((context.key, fold, sorted(others.items(), key=str)))
                         .encode()).hexdigest()[:32]
    path = Path(data_path).parent / FOLDER_NAME / f"{key}.pkl"
    return Growth(path, int(budget.amount), keep=not budget.last)


def final_estimator(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def replace_final(estimator: Any, replacement: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    if not steps:
        return replacement
    steps[-1] = (steps[-1][0], replacement)
    return estimator


def _is_growable(forest: Any) -> bool:
    return grows_between_rungs(type(forest), getattr(forest, "random_state", "unset"))


def grows_between_rungs(estimator_class: type, random_state: Any) -> bool:
    """Whether a promoted candidate of this class continues its forest (see the module's
    text): what a cost preview of halving on ``n_estimators`` needs to know."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    kinds = (RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier,
             ExtraTreesRegressor)
    seeded = random_state is None or isinstance(random_state, int | np.integer)
    return isinstance(estimator_class, type) and issubclass(estimator_class, kinds) and seeded


def is_grown_budget(resource: str) -> bool:
    """Whether a halving budget is the parameter that forests grow along."""
    return resource.rsplit("__", 1)[-1] == _GROWN_PARAMETER


def _folder_bytes(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(entry.stat().st_size for entry in entries if entry.is_file())

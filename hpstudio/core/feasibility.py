"""Whether a well-formed study can succeed on its data, decided before any fit.

A spec can be valid and still be bound to fail on a particular dataset: ten folds of six
rows, or stratified folds of a class with three members. Every trial would then fail in
the workers with the same scikit-learn error; saying so once, with the largest number of
folds that works, is kinder. The checks read only the target column, so the editor can
call :func:`feasibility_problem` on every edit to explain a disabled Start button.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from hpstudio.core.errors import SpecError


def feasibility_problem(spec: Any, dataset: Any, *, classifier: bool | None = None,
                        allowed_packages: Iterable[str] = ()) -> str | None:
    """Why the study cannot succeed on ``dataset`` (a one-line reason), or None when it can.

    ``classifier`` says whether the estimator is a classifier; when None it is found by
    importing the estimator class (``allowed_packages`` as for running the study), and a
    class that cannot be imported is left for validation to report.
    """
    try:
        check_feasible(spec, dataset, allowed_packages, classifier=classifier)
    except SpecError as exc:
        return str(exc)
    return None


def check_feasible(spec: Any, dataset: Any, allowed_packages: Iterable[str] = (), *,
                   classifier: bool | None = None) -> None:
    """Raise SpecError naming the key and the fix when the study cannot succeed on the data.

    The splitter is chosen exactly as the workers choose it (scikit-learn's ``check_cv``:
    stratified folds for a classifier on a binary or multiclass target, plain k-fold
    otherwise), so the check agrees with what a run would meet.
    """
    from sklearn.model_selection import StratifiedKFold, check_cv

    from hpstudio.core.data import CLASSIFICATION
    from hpstudio.core.splitters import check_study_splits

    folds = spec.cv.folds
    rows = int(dataset.n_rows)
    if spec.cv.splitter is None and folds > rows:
        raise SpecError(f"cv.folds = {folds} but the data has only {rows} rows; "
                        f"use at most {rows} folds")
    if classifier is None:
        classifier = _is_classifier(spec, allowed_packages)
    check_study_splits(spec, dataset, bool(classifier) and dataset.task == CLASSIFICATION)
    if classifier is None or not classifier or dataset.task != CLASSIFICATION:
        return
    y = np.asarray(dataset.y)
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        raise SpecError(f"data: the target has a single class {_label(labels[0])}; a "
                        f"classifier ({spec.estimator.short_name}) needs at least two")
    if spec.cv.splitter is None and isinstance(check_cv(folds, y, classifier=True),
                                               StratifiedKFold):
        smallest = int(np.argmin(counts))
        members, label = int(counts[smallest]), _label(labels[smallest])
        if members < 2:
            raise SpecError(f"data: the class {label} has a single member; stratified folds "
                            "need at least 2 in every class, so remove that row or add more")
        if members < folds:
            raise SpecError(f"cv.folds = {folds} but the smallest class {label} has {members} "
                            f"members; use at most {members} folds")


def _is_classifier(spec: Any, allowed_packages: Iterable[str]) -> bool | None:
    from hpstudio.core.errors import HpstudioError
    from hpstudio.core.estimators import is_classifier_class, resolve_estimator_class

    try:
        return is_classifier_class(resolve_estimator_class(spec.estimator.cls,
                                                           tuple(allowed_packages)))
    except HpstudioError:
        return None


def _label(value: Any) -> str:
    value = value.item() if isinstance(value, np.generic) else value
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

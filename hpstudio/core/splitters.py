"""Cross-validation splitters: any splitter class of ``sklearn.model_selection``, checked early.

A study splits its data with the ``[cv]`` section: the shorthand ``folds`` / ``shuffle`` /
``seed`` (scikit-learn's rule for ``cv=int``: stratified for classifiers), or a
``splitter`` named by its class with its ``params``, or ``"holdout"`` for one train/test
split made as ``train_test_split`` makes it. Splitters that split by group read the
``[data] groups`` column, which is never a feature; ``PredefinedSplit`` reads its test
folds from that column (or from ``params.test_fold``).

Names and parameters are checked against a table of the splitters' signatures, so a spec
is refused with its key and a suggestion before scikit-learn is even imported; values are
checked by building the splitter (``check_values``), and what only the data can tell
(enough rows, groups or classes for the splits) by making the first split
(``check_on_data``). The number of splits always comes from the splitter's own
``get_n_splits``: progress, ETA, the cost preview and the history all count the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpstudio.core.errors import SpecError

__all__ = [
    "DATA_COUNTED",
    "GROUP_SPLITTERS",
    "HOLDOUT",
    "MAX_SPLITS",
    "SPLITTER_DEFAULTS",
    "SPLITTER_PARAMS",
    "HoldOut",
    "check_names",
    "check_on_data",
    "check_study_splits",
    "check_values",
    "count_splits",
    "describe",
    "make_cv",
    "planned_splits",
    "split_groups",
    "split_sizes",
    "splits_of",
    "splitter_for",
]

HOLDOUT = "holdout"
MAX_SPLITS = 1000  # as many as cv.folds may ask for: each split's indices stay in memory

#: Every splitter of ``sklearn.model_selection`` (and the hold-out split) with the keyword
#: parameters of its constructor, in signature order.
SPLITTER_PARAMS: dict[str, tuple[str, ...]] = {
    "KFold": ("n_splits", "shuffle", "random_state"),
    "StratifiedKFold": ("n_splits", "shuffle", "random_state"),
    "GroupKFold": ("n_splits", "shuffle", "random_state"),
    "StratifiedGroupKFold": ("n_splits", "shuffle", "random_state"),
    "RepeatedKFold": ("n_splits", "n_repeats", "random_state"),
    "RepeatedStratifiedKFold": ("n_splits", "n_repeats", "random_state"),
    "ShuffleSplit": ("n_splits", "test_size", "train_size", "random_state"),
    "StratifiedShuffleSplit": ("n_splits", "test_size", "train_size", "random_state"),
    "GroupShuffleSplit": ("n_splits", "test_size", "train_size", "random_state"),
    "LeaveOneOut": (),
    "LeavePOut": ("p",),
    "LeaveOneGroupOut": (),
    "LeavePGroupsOut": ("n_groups",),
    "PredefinedSplit": ("test_fold",),
    "TimeSeriesSplit": ("n_splits", "max_train_size", "test_size", "gap"),
    HOLDOUT: ("test_size", "shuffle", "random_state", "stratify"),
}
#: Each parameter's default, where the constructor has one (what a form shows as a hint).
SPLITTER_DEFAULTS: dict[str, dict[str, Any]] = {
    **{name: {"n_splits": 5, "shuffle": False, "random_state": None}
       for name in ("KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold")},
    **{name: {"n_splits": 5, "n_repeats": 10, "random_state": None}
       for name in ("RepeatedKFold", "RepeatedStratifiedKFold")},
    **{name: {"n_splits": 10, "test_size": None, "train_size": None, "random_state": None}
       for name in ("ShuffleSplit", "StratifiedShuffleSplit")},
    "GroupShuffleSplit": {"n_splits": 5, "test_size": None, "train_size": None,
                          "random_state": None},
    "LeaveOneOut": {}, "LeavePOut": {}, "LeaveOneGroupOut": {}, "LeavePGroupsOut": {},
    "PredefinedSplit": {},
    "TimeSeriesSplit": {"n_splits": 5, "max_train_size": None, "test_size": None, "gap": 0},
    HOLDOUT: {"test_size": 0.25, "shuffle": True, "random_state": None, "stratify": False},
}
#: Splitters that need ``[data] groups`` (scikit-learn's group consumers).
GROUP_SPLITTERS = frozenset({"GroupKFold", "StratifiedGroupKFold", "GroupShuffleSplit",
                             "LeaveOneGroupOut", "LeavePGroupsOut"})
#: Splitters whose number of splits depends on the data (rows or groups).
DATA_COUNTED = frozenset({"LeaveOneOut", "LeavePOut", "LeaveOneGroupOut", "LeavePGroupsOut",
                          "PredefinedSplit"})
#: Parameters without a default (the splitter cannot be built without them).
_REQUIRED = {"LeavePOut": ("p",), "LeavePGroupsOut": ("n_groups",)}


class HoldOut:
    """One train/test split, made exactly as ``train_test_split`` makes it.

    ``shuffle=False`` keeps the last ``test_size`` of the rows for testing (time-ordered
    data); ``stratify=True`` keeps the class proportions in both parts."""

    def __init__(self, test_size: float | int = 0.25, shuffle: bool = True,
                 random_state: int | None = None, stratify: bool = False) -> None:
        self.test_size = test_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.stratify = stratify

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return 1

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        from sklearn.model_selection import train_test_split

        rows = np.arange(_n_rows(X))
        train, test = train_test_split(
            rows, test_size=self.test_size, shuffle=self.shuffle,
            random_state=self.random_state, stratify=y if self.stratify else None)
        yield train, test

    def __repr__(self) -> str:
        return (f"HoldOut(test_size={self.test_size!r}, shuffle={self.shuffle!r}, "
                f"random_state={self.random_state!r}, stratify={self.stratify!r})")


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


# ----- checks without scikit-learn (the parser's) ---------------------------------------------


def check_names(key: str, splitter: str, params: Mapping[str, Any]) -> None:
    """The splitter exists and takes these parameters (a SpecError naming ``key`` if not)."""
    if splitter not in SPLITTER_PARAMS:
        raise SpecError(f"{key}.splitter: unknown splitter {splitter!r}"
                        f"{_did_you_mean(splitter, SPLITTER_PARAMS)}; use a splitter class of "
                        f"sklearn.model_selection ({', '.join(sorted(SPLITTER_PARAMS))})")
    allowed = SPLITTER_PARAMS[splitter]
    for name in params:
        if name not in allowed:
            takes = ", ".join(allowed) if allowed else "no parameters"
            raise SpecError(f"{key}.params.{name}: {splitter} has no parameter {name!r}"
                            f"{_did_you_mean(name, allowed)}; it takes {takes}")
    for name in _REQUIRED.get(splitter, ()):
        if name not in params:
            raise SpecError(f"{key}.params.{name}: {splitter} needs {name}, e.g. "
                            f"params = {{ {name} = 2 }}")
    _check_param_values(key, splitter, params)
    test_fold = params.get("test_fold")
    if test_fold is not None and not (isinstance(test_fold, list | tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in test_fold)):
        raise SpecError(f"{key}.params.test_fold: give a list of whole numbers (each row's "
                        "test fold, -1 to keep a row in training always), or leave it out "
                        "and name the fold column as [data] groups")


def needs_groups(cv: Any) -> bool:
    """Whether splitting needs the ``[data] groups`` column."""
    splitter = getattr(cv, "splitter", None)
    if splitter in GROUP_SPLITTERS:
        return True
    return splitter == "PredefinedSplit" and cv.params.get("test_fold") is None


def check_groups_given(cv: Any, groups: str | None, builtin: bool) -> None:
    """Refuse a study whose splitter needs a groups column that the data section lacks."""
    for key, section in (("cv", cv), ("cv.outer", getattr(cv, "outer", None))):
        if section is None or not needs_groups(section):
            continue
        if groups is None:
            what = ("the column that gives each row's test fold" if
                    section.splitter == "PredefinedSplit" else "the column of groups")
            hint = (" (a bundled dataset has no columns: use a data file, or give "
                    "params.test_fold)" if builtin else "")
            raise SpecError(f"{key}.splitter: {section.splitter} needs {what}: set [data] "
                            f"groups = \"COLUMN\"{hint}")


# ----- building (imports scikit-learn) ------------------------------------------------------


def make_cv(splitter: str | None, params: Mapping[str, Any], folds: int, shuffle: bool,
            seed: int | None, y: Any, classifier: bool, groups: Any = None) -> Any:
    """The splitter object: the shorthand as ``check_cv`` builds ``cv=folds``, or the named
    class with its parameters (``PredefinedSplit`` reading its folds from ``groups`` when
    ``test_fold`` is not given)."""
    if splitter is None:
        from sklearn.model_selection import check_cv

        cv = check_cv(folds, y, classifier=classifier)
        if shuffle:
            cv.shuffle = True
            cv.random_state = seed
        return cv
    kwargs = dict(params)
    if splitter == HOLDOUT:
        return HoldOut(**{**SPLITTER_DEFAULTS[HOLDOUT], **kwargs})
    import sklearn.model_selection as model_selection

    if splitter == "PredefinedSplit":
        fold = kwargs.get("test_fold")
        if fold is None:
            if groups is None:
                raise SpecError("cv.splitter: PredefinedSplit needs the fold column: set "
                                "[data] groups = \"COLUMN\", or give params.test_fold")
            fold = groups
        kwargs["test_fold"] = _fold_codes(fold)
    cls = getattr(model_selection, splitter)
    return cls(**kwargs)


def _fold_codes(fold: Any) -> np.ndarray:
    values = np.asarray(fold)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind == "f" and np.all(np.isfinite(values)) and np.all(
            values == np.round(values)):
        return values.astype(np.int64)
    raise SpecError("cv: PredefinedSplit's fold column must hold whole numbers (each row's "
                    "test fold, -1 to keep a row in training always)")


def splitter_for(cv: Any, y: Any, classifier: bool, groups: Any = None) -> Any:
    """The splitter of a :class:`~hpstudio.core.spec.CVSpec` (or its ``outer``)."""
    return make_cv(cv.splitter, cv.params, cv.folds, cv.shuffle, cv.seed, y, classifier,
                   groups)


def split_groups(splitter: str | None, groups: Any) -> Any:
    """What ``split`` is given as ``groups``: the column for group splitters, else None
    (``PredefinedSplit`` already holds its folds; others ignore groups)."""
    return groups if splitter in GROUP_SPLITTERS else None


def splits_of(cv_object: Any, splitter: str | None, X: Any, y: Any,
              groups: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every (train, test) pair, as the workers hold them."""
    return list(cv_object.split(X, y, split_groups(splitter, groups)))


def count_splits(cv_object: Any, splitter: str | None, X: Any, y: Any,
                 groups: Any = None) -> int:
    """``get_n_splits`` of the splitter on this data."""
    return int(cv_object.get_n_splits(X, y, split_groups(splitter, groups)))


def planned_splits(cv: Any) -> int | None:
    """Splits per candidate known without the data (None: the data decides)."""
    if cv.splitter is None:
        return int(cv.folds)
    if cv.splitter == HOLDOUT:
        return 1
    if cv.splitter == "PredefinedSplit":
        fold = cv.params.get("test_fold")
        return None if fold is None else len({v for v in fold if v != -1})
    if cv.splitter in DATA_COUNTED:
        return None
    params = cv.params
    n_splits = params.get("n_splits", 10 if "ShuffleSplit" in cv.splitter else 5)
    if not isinstance(n_splits, int):
        return None
    if cv.splitter.startswith("Repeated"):
        repeats = params.get("n_repeats", 10)
        return n_splits * repeats if isinstance(repeats, int) else None
    return n_splits


def describe(cv: Any) -> str:
    """The splitting in a few words: ``5-fold CV`` or ``RepeatedStratifiedKFold(n_splits=5,
    n_repeats=2, random_state=0)``."""
    if cv.splitter is None:
        return f"{cv.folds}-fold CV" + (" (shuffled)" if cv.shuffle else "")
    args = ", ".join(f"{k}={_short(v)}" for k, v in cv.params.items())
    return f"{cv.splitter}({args})"


def _short(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) > 6:
        return f"[{len(value)} values]"
    return repr(value)


def check_values(cv: Any) -> None:
    """Build the splitter once to check its parameters' values (n_splits ≥ 2, test_size in
    range...); scikit-learn's complaint becomes a SpecError naming the key."""
    for key, section in (("cv", cv), ("cv.outer", cv.outer)):
        if section is None or section.splitter is None:
            continue
        try:
            folds = section.params.get("test_fold")
            groups = None if folds is not None or section.splitter != "PredefinedSplit" \
                else np.zeros(2, dtype=np.int64)
            make_cv(section.splitter, section.params, section.folds, section.shuffle,
                    section.seed, np.zeros(2), False, groups)
        except SpecError:
            raise
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{key}.params: {section.splitter} refuses these values: "
                            f"{_first_line(exc)}") from None


def _check_param_values(key: str, name: str, params: Mapping[str, Any]) -> None:
    """What scikit-learn only checks when splitting (or checks less clearly), checked on
    the values as written."""
    least = {"n_splits": 1 if "ShuffleSplit" in name else 2, "n_repeats": 1, "p": 1,
             "n_groups": 1, "gap": 0}
    for param, minimum in least.items():
        if param not in params:
            continue
        value = params[param]
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{key}.params.{param}: expected a whole number, got {value!r}")
        if value < minimum:
            raise SpecError(f"{key}.params.{param}: expected a whole number ≥ {minimum}, "
                            f"got {value}")
    if name == HOLDOUT:
        size = params.get("test_size", 0.25)
        if isinstance(size, bool) or not isinstance(size, int | float) or size <= 0 or (
                isinstance(size, float) and size >= 1):
            raise SpecError(f"{key}.params.test_size: give a share of the rows between 0 and "
                            f"1 (0.2) or a number of rows, got {size!r}")
        for flag in ("shuffle", "stratify"):
            if not isinstance(params.get(flag, False), bool):
                raise SpecError(f"{key}.params.{flag}: expected true or false")


# ----- checks on the data -----------------------------------------------------------------------


def check_on_data(cv: Any, X: Any, y: Any, groups: Any, classifier: bool,
                  key: str = "cv") -> int:
    """Make the first split of this data and count the splits; a SpecError says why a
    study could not run (too few rows, groups or class members for the splits, too many
    splits). Returns the number of splits."""
    if needs_groups(cv) and groups is None:
        raise SpecError(f"{key}.splitter: {cv.splitter} needs [data] groups, the column to "
                        "split by")
    try:
        splitter = splitter_for(cv, y, classifier, groups)
        n = count_splits(splitter, cv.splitter, X, y, groups)
    except SpecError:
        raise
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{key}: {describe(cv)} cannot split this data: "
                        f"{_first_line(exc)}") from None
    if n > MAX_SPLITS:
        raise SpecError(f"{key}: {describe(cv)} makes {n:,} splits of this data, more than "
                        f"{MAX_SPLITS:,}; choose a splitter with fewer splits, e.g. KFold")
    if n < 1:
        raise SpecError(f"{key}: {describe(cv)} makes no split of this data")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train, test = next(iter(splitter.split(X, y, split_groups(cv.splitter, groups))))
    except StopIteration:
        raise SpecError(f"{key}: {describe(cv)} makes no split of this data") from None
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{key}: {describe(cv)} cannot split this data: "
                        f"{_first_line(exc)}") from None
    if len(train) == 0 or len(test) == 0:
        raise SpecError(f"{key}: {describe(cv)} leaves a split with an empty "
                        f"{'training' if len(train) == 0 else 'test'} set on this data")
    return n


def split_sizes(cv: Any, X: Any, y: Any, groups: Any,
                classifier: bool) -> tuple[np.ndarray, np.ndarray]:
    """Training and test set sizes of every split, in split order (what the corrected
    t-test needs)."""
    splitter = splitter_for(cv, y, classifier, groups)
    pairs = splits_of(splitter, cv.splitter, X, y, groups)
    return (np.array([len(a) for a, _ in pairs], dtype=float),
            np.array([len(b) for _, b in pairs], dtype=float))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _did_you_mean(name: str, options: Sequence[str] | Mapping[str, Any]) -> str:
    by_lower = {option.lower(): option for option in options}
    close = difflib.get_close_matches(name.lower()[:100], list(by_lower), n=1, cutoff=0.5)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def check_study_splits(spec: Any, dataset: Any, classifier: bool) -> None:
    """Every split a study will make works on this data: its splitter's, the outer
    splitter's of nested CV, and its splitter's again inside an outer training set."""
    cv = spec.cv
    X, y, groups = dataset.X, dataset.y, getattr(dataset, "groups", None)
    if cv.splitter is not None:
        check_on_data(cv, X, y, groups, classifier)
    if cv.outer is None:
        return
    check_on_data(cv.outer, X, y, groups, classifier, key="cv.outer")
    outer = splitter_for(cv.outer, y, classifier, groups)
    train, _ = next(iter(outer.split(X, y, split_groups(cv.outer.splitter, groups))))
    inner_groups = None if groups is None else np.asarray(groups)[train]
    try:
        check_on_data(cv, take_rows(X, train), np.asarray(y)[train], inner_groups, classifier)
    except SpecError as exc:
        raise SpecError(f"{exc} (inside the training part of an outer fold, "
                        f"{len(train)} rows)") from None


def take_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows of a feature table (DataFrame or array) by position."""
    if hasattr(X, "iloc"):
        return X.iloc[rows].reset_index(drop=True)
    return np.asarray(X)[rows]


# ----- from Python objects (what a face given ``cv=`` writes into a spec) ------------------


def cv_section(cv: Any) -> dict[str, Any]:
    """The ``[cv]`` section for scikit-learn's ``cv=`` argument: None (5 folds), an int (the
    folds shorthand), a splitter object of ``sklearn.model_selection`` (its class and the
    parameters that differ from the defaults) or a :class:`HoldOut`. Anything else (a list
    of splits, another package's splitter) is refused: a spec names its splitter."""
    if cv is None:
        return {}
    if isinstance(cv, int) and not isinstance(cv, bool):
        return {"folds": cv}
    name = HOLDOUT if isinstance(cv, HoldOut) else type(cv).__name__
    module = type(cv).__module__
    if name not in SPLITTER_PARAMS or not (isinstance(cv, HoldOut)
                                           or module.startswith("sklearn.model_selection")):
        raise SpecError(f"cv: {type(cv).__name__} is not a splitter of sklearn.model_selection; "
                        "give a number of folds or one of "
                        f"{', '.join(n for n in SPLITTER_PARAMS if n != HOLDOUT)}")
    defaults = SPLITTER_DEFAULTS.get(name, {})
    params: dict[str, Any] = {}
    for param in SPLITTER_PARAMS[name]:
        value = getattr(cv, param, getattr(cv, "cvargs", {}).get(param))  # Repeated*: cvargs
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        if param in defaults and value == defaults[param]:
            continue
        if value is None and param != "test_fold":
            continue
        if not isinstance(value, int | float | bool | str | list | type(None)):
            raise SpecError(f"cv: {name}'s {param}={value!r} cannot be written in a spec; "
                            "give a whole number (a seed) or leave it out")
        params[param] = value
    section: dict[str, Any] = {"splitter": name}
    if params:
        section["params"] = params
    return section

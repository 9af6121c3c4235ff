"""The study spec: the one document the GUI edits, the CLI runs and the history stores.

Parsing is strict: every error names the offending key and what would be allowed, so a
user can fix a spec from the message alone.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hpstudio.core.errors import SpecError
from hpstudio.core.space import Dimension, FloatRange, IntRange, SubSpace, Values, grid_size

BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
STRATEGIES = ("grid", "random", "bayes")
SURROGATES = ("GP", "RF", "ET", "GBRT")
ACQUISITIONS = ("gp_hedge", "EI", "PI", "LCB")
INITIAL_GENERATORS = ("random", "sobol", "lhs", "halton")
NONE_TOKEN = "None"  # TOML has no null; the string "None" stands for Python's None


@dataclass(frozen=True)
class DataSpec:
    builtin: str | None = None
    csv: str | None = None
    target: str | None = None
    base_dir: str | None = field(default=None, compare=False)  # where a relative csv lives

    @property
    def label(self) -> str:
        return self.builtin or Path(self.csv or "?").name

    def csv_path(self) -> Path:
        path = Path(self.csv or "")
        if not path.is_absolute() and self.base_dir:
            path = Path(self.base_dir) / path
        return path


@dataclass(frozen=True)
class EstimatorSpec:
    cls: str
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        return self.cls.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class CVSpec:
    folds: int = 5
    shuffle: bool = False
    seed: int | None = None


@dataclass(frozen=True)
class ScoringSpec:
    metric: str | None = None  # None: the estimator's own score (accuracy / r2)
    train_score: bool = False

    @property
    def label(self) -> str:
        return self.metric or "score"


@dataclass(frozen=True)
class SearchSpec:
    strategy: str = "grid"
    n_trials: int | None = None
    seed: int | None = None
    time_limit: float | None = None  # seconds of wall clock for the whole study
    patience: int | None = None  # stop when the best has not improved for this many trials
    surrogate: str = "GP"
    acquisition: str = "gp_hedge"
    initial_points: int = 10
    initial_generator: str = "random"


@dataclass(frozen=True)
class StudySpec:
    name: str
    data: DataSpec
    estimator: EstimatorSpec
    space: tuple[SubSpace, ...]
    cv: CVSpec = CVSpec()
    scoring: ScoringSpec = ScoringSpec()
    search: SearchSpec = SearchSpec()

    # ----- reading -------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> StudySpec:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"spec file not found: {path}") from None
        except OSError as exc:
            raise SpecError(f"cannot read spec file {path}: {exc.strerror}") from None
        try:
            raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise SpecError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
        return cls.from_dict(raw, base_dir=path.resolve().parent, default_name=path.stem)

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], base_dir: str | Path | None = None, default_name: str = "study"
    ) -> StudySpec:
        if not isinstance(raw, Mapping):
            raise SpecError("the spec must be a table of keys (TOML) or an object (JSON)")
        _no_unknown_keys("", raw, {"name", "data", "estimator", "space", "cv", "scoring", "search"})
        name = raw.get("name", default_name)
        _expect_type("name", name, str)
        for required in ("data", "estimator", "space"):
            if required not in raw:
                raise SpecError(f"missing [{required}] section")
        return cls(
            name=name,
            data=_parse_data(raw["data"], base_dir),
            estimator=_parse_estimator(raw["estimator"]),
            space=_parse_space(raw["space"]),
            cv=_parse_cv(raw.get("cv", {})),
            scoring=_parse_scoring(raw.get("scoring", {})),
            search=_parse_search(raw.get("search", {})),
        )

    # ----- writing -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k in ("builtin", "csv", "target") if (v := getattr(self.data, k))}
        out: dict[str, Any] = {
            "name": self.name,
            "data": data,
            "estimator": {"class": self.estimator.cls,
                          "fixed": _encode(dict(self.estimator.fixed))},
            "space": [{n: dimension_to_raw(d) for n, d in sub.items()} for sub in self.space],
            "cv": _drop_none({"folds": self.cv.folds, "shuffle": self.cv.shuffle,
                              "seed": self.cv.seed}),
            "scoring": _drop_none({"metric": self.scoring.metric,
                                   "train_score": self.scoring.train_score}),
            "search": _drop_none(self.search.__dict__.copy()),
        }
        return out

    def to_toml(self) -> str:
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        text = self.to_json() if path.suffix.lower() == ".json" else self.to_toml()
        path.write_text(text, encoding="utf-8")

    def with_name(self, name: str) -> StudySpec:
        return replace(self, name=name)

    # ----- derived ---------------------------------------------------------------------
    @property
    def param_names(self) -> list[str]:
        return list(dict.fromkeys(name for sub in self.space for name in sub))

    def planned_trials(self) -> int:
        """How many trials the study will run if no other budget stops it first."""
        if self.search.strategy == "grid":
            size = grid_size(self.space)
            return min(size, self.search.n_trials) if self.search.n_trials else size
        from hpstudio.core.space import space_size

        n = self.search.n_trials or 0
        size = space_size(self.space)
        return int(min(n, size)) if math.isfinite(size) else n

    # ----- validation against the estimator and scikit-learn ---------------------------
    def validate(self, allowed_packages: Iterable[str] = ()) -> type:
        """Check names against the real estimator and scorers; return the estimator class."""
        from hpstudio.core.estimators import default_params, resolve_estimator_class

        cls = resolve_estimator_class(self.estimator.cls, allowed_packages)
        try:
            valid = set(cls().get_params(deep=True))
        except Exception:
            valid = set(default_params(cls))
        real = ", ".join(sorted(valid))
        for name in self.estimator.fixed:
            if name not in valid:
                raise SpecError(
                    f"estimator.fixed.{name}: {self.estimator.short_name} has no parameter "
                    f"{name!r}{_did_you_mean(name, valid)}; its parameters are: {real}"
                )
        for index, sub in enumerate(self.space):
            for name in sub:
                if name not in valid:
                    raise SpecError(
                        f"space[{index}].{name}: {self.estimator.short_name} has no parameter "
                        f"{name!r}{_did_you_mean(name, valid)}; its parameters are: {real}"
                    )
        if self.scoring.metric is not None:
            from sklearn.metrics import get_scorer_names

            names = set(get_scorer_names())
            if self.scoring.metric not in names:
                raise SpecError(
                    f"scoring.metric: unknown scorer {self.scoring.metric!r}"
                    f"{_did_you_mean(self.scoring.metric, names)}; any name from "
                    "sklearn.metrics.get_scorer_names() is allowed"
                )
        if self.search.strategy == "grid":
            grid_size(self.space)  # raises for float ranges without num/step
        return cls


# ----- section parsers -----------------------------------------------------------------


def _parse_data(raw: Any, base_dir: str | Path | None) -> DataSpec:
    _expect_type("data", raw, Mapping)
    _no_unknown_keys("data", raw, {"builtin", "csv", "target"})
    builtin, csv, target = raw.get("builtin"), raw.get("csv"), raw.get("target")
    if (builtin is None) == (csv is None):
        raise SpecError("data: give exactly one of `builtin` (a bundled dataset) or `csv` (a file)")
    if builtin is not None:
        _expect_type("data.builtin", builtin, str)
        if builtin not in BUILTIN_DATASETS:
            raise SpecError(
                f"data.builtin: unknown dataset {builtin!r}; choose one of "
                f"{', '.join(BUILTIN_DATASETS)}"
            )
        if target is not None:
            raise SpecError("data.target: only a CSV needs a target column")
    else:
        _expect_type("data.csv", csv, str)
        if target is None:
            raise SpecError("data.target: a CSV needs the name of its target column")
        _expect_type("data.target", target, str)
    return DataSpec(builtin, csv, target, str(base_dir) if base_dir else None)


def _parse_estimator(raw: Any) -> EstimatorSpec:
    _expect_type("estimator", raw, Mapping)
    _no_unknown_keys("estimator", raw, {"class", "fixed"})
    if "class" not in raw:
        raise SpecError("estimator.class: missing; e.g. class = 'sklearn.svm.SVC'")
    _expect_type("estimator.class", raw["class"], str)
    fixed = raw.get("fixed", {})
    _expect_type("estimator.fixed", fixed, Mapping)
    return EstimatorSpec(raw["class"], {k: _decode(v) for k, v in fixed.items()})


def _parse_space(raw: Any) -> tuple[SubSpace, ...]:
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise SpecError("space: give at least one [[space]] table of hyperparameters")
    subspaces = []
    for index, sub in enumerate(raw):
        _expect_type(f"space[{index}]", sub, Mapping)
        if not sub:
            raise SpecError(f"space[{index}]: empty sub-space; add at least one hyperparameter")
        subspaces.append({name: parse_dimension(f"space[{index}].{name}", value)
                          for name, value in sub.items()})
    return tuple(subspaces)


def parse_dimension(key: str, raw: Any) -> Dimension:
    """A list becomes Values; a ``{low, high}`` table an int or float range."""
    if isinstance(raw, list | tuple):
        if not raw:
            raise SpecError(f"{key}: empty list; give at least one value")
        return Values(tuple(_decode(v) for v in raw))
    if isinstance(raw, Mapping):
        _no_unknown_keys(key, raw, {"low", "high", "log", "num", "step"})
        if "low" not in raw or "high" not in raw:
            raise SpecError(f"{key}: a range needs both `low` and `high`")
        low, high = raw["low"], raw["high"]
        for bound, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SpecError(f"{key}.{bound}: expected a number, got {_describe(value)}")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise SpecError(f"{key}: bounds must be finite numbers")
        if low > high:
            raise SpecError(f"{key}: low ({low}) is greater than high ({high}); swap them")
        log = raw.get("log", False)
        _expect_type(f"{key}.log", log, bool)
        if log and low <= 0:
            raise SpecError(f"{key}: a log range needs low > 0 (got {low})")
        num, step = raw.get("num"), raw.get("step")
        if num is not None and (isinstance(num, bool) or not isinstance(num, int) or num < 1):
            raise SpecError(f"{key}.num: expected a whole number ≥ 1, got {_describe(num)}")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int | float)
                                 or step <= 0):
            raise SpecError(f"{key}.step: expected a number > 0, got {_describe(step)}")
        if num is not None and step is not None:
            raise SpecError(f"{key}: give `num` or `step`, not both")
        if isinstance(low, int) and isinstance(high, int) and not isinstance(step, float):
            return IntRange(low, high, log=log, num=num, step=step)
        return FloatRange(float(low), float(high), log=log, num=num,
                          step=None if step is None else float(step))
    raise SpecError(
        f"{key}: expected a list of values like [1, 10] or a range like {{ low = 1, high = 10 }}, "
        f"got {_describe(raw)}; to pin one value put it in [estimator] fixed"
    )


def dimension_to_raw(dim: Dimension) -> Any:
    if isinstance(dim, Values):
        return [_encode(v) for v in dim.values]
    raw: dict[str, Any] = {"low": dim.low, "high": dim.high}
    if dim.log:
        raw["log"] = True
    if dim.num is not None:
        raw["num"] = dim.num
    if dim.step is not None:
        raw["step"] = dim.step
    return raw


def _parse_cv(raw: Any) -> CVSpec:
    _expect_type("cv", raw, Mapping)
    _no_unknown_keys("cv", raw, {"folds", "shuffle", "seed"})
    folds = raw.get("folds", 5)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise SpecError(f"cv.folds: expected a whole number ≥ 2, got {_describe(folds)}")
    shuffle = raw.get("shuffle", False)
    _expect_type("cv.shuffle", shuffle, bool)
    seed = raw.get("seed")
    if seed is not None:
        _expect_int("cv.seed", seed)
    return CVSpec(folds, shuffle, seed)


def _parse_scoring(raw: Any) -> ScoringSpec:
    if isinstance(raw, str):
        raw = {"metric": raw}
    _expect_type("scoring", raw, Mapping)
    _no_unknown_keys("scoring", raw, {"metric", "train_score"})
    metric = raw.get("metric")
    if metric is not None:
        _expect_type("scoring.metric", metric, str)
    train = raw.get("train_score", False)
    _expect_type("scoring.train_score", train, bool)
    return ScoringSpec(metric, train)


def _parse_search(raw: Any) -> SearchSpec:
    _expect_type("search", raw, Mapping)
    allowed = set(SearchSpec.__dataclass_fields__)
    _no_unknown_keys("search", raw, allowed)
    strategy = raw.get("strategy", "grid")
    _expect_choice("search.strategy", strategy, STRATEGIES)
    n_trials = raw.get("n_trials")
    if n_trials is not None:
        _expect_int("search.n_trials", n_trials, minimum=1)
    elif strategy != "grid":
        n_trials = 50
    for key in ("seed", "patience"):
        if raw.get(key) is not None:
            _expect_int(f"search.{key}", raw[key], minimum=0 if key == "seed" else 1)
    time_limit = raw.get("time_limit")
    if time_limit is not None and (isinstance(time_limit, bool)
                                   or not isinstance(time_limit, int | float) or time_limit <= 0):
        raise SpecError(f"search.time_limit: expected seconds > 0, got {_describe(time_limit)}")
    surrogate = raw.get("surrogate", "GP")
    _expect_choice("search.surrogate", surrogate, SURROGATES)
    acquisition = raw.get("acquisition", "gp_hedge")
    _expect_choice("search.acquisition", acquisition, ACQUISITIONS)
    initial_points = raw.get("initial_points", 10)
    _expect_int("search.initial_points", initial_points, minimum=1)
    generator = raw.get("initial_generator", "random")
    _expect_choice("search.initial_generator", generator, INITIAL_GENERATORS)
    return SearchSpec(strategy, n_trials, raw.get("seed"),
                      None if time_limit is None else float(time_limit), raw.get("patience"),
                      surrogate, acquisition, initial_points, generator)


# ----- helpers ---------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    return None if value == NONE_TOKEN else value


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return NONE_TOKEN if value is None else value


def _drop_none(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if v is not None}


def _describe(value: Any) -> str:
    kind = {str: "a string", bool: "a boolean", int: "a whole number", float: "a number",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    return f"{value!r} ({kind})"


def _expect_type(key: str, value: Any, kind: type | tuple[type, ...]) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wanted = {str: "a string", bool: "true or false", Mapping: "a table"}.get(kind, str(kind))
        raise SpecError(f"{key}: expected {wanted}, got {_describe(value)}")


def _expect_int(key: str, value: Any, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or (
        minimum is not None and value < minimum
    ):
        floor = f" ≥ {minimum}" if minimum is not None else ""
        raise SpecError(f"{key}: expected a whole number{floor}, got {_describe(value)}")


def _expect_choice(key: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SpecError(f"{key}: {value!r} is not one of {', '.join(choices)}")


def _no_unknown_keys(section: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{section}.{key}" if section else key
            raise SpecError(
                f"{where}: unknown key{_did_you_mean(key, allowed)}; allowed here: "
                f"{', '.join(sorted(allowed))}"
            )


def _did_you_mean(name: str, options: Iterable[str]) -> str:
    by_lower = {option.lower(): option for option in options}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.5)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""

"""The study spec: the one document the GUI edits, the CLI runs and the history stores.

Parsing is strict: every error names the offending key and what would be allowed, so a
user can fix a spec from the message alone. Whatever parses also saves: ``to_dict`` then
``from_dict`` (through TOML or JSON) gives back an equal spec, so the parser refuses what
either format cannot carry (NaN, dates, integers beyond 64 bits, text that is not Unicode).
Numbers are bounded where a huge one could only hang or exhaust memory later.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import reprlib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hpstudio.core import scoring as _scoring
from hpstudio.core import splitters as _splitters
from hpstudio.core.errors import SpecError
from hpstudio.core.space import (
    MAX_GRID_CANDIDATES,
    Dimension,
    FloatRange,
    IntRange,
    SubSpace,
    Values,
    check_grid,
    grid_size,
    step_count,
)

BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
STRATEGIES = ("grid", "random", "bayes", "halving-grid", "halving-random")
SURROGATES = ("GP", "RF", "ET", "GBRT")
ACQUISITIONS = ("gp_hedge", "EI", "PI", "LCB")
INITIAL_GENERATORS = ("random", "sobol", "lhs", "halton")
NONE_TOKEN = "None"  # TOML has no null; the string "None" stands for Python's None

MAX_TRIALS = 1_000_000  # n_trials, patience and initial_points; as many as a grid may have
MAX_FOLDS = 1000
MAX_SEED = 2**32 - 1  # NumPy's RandomState (scikit-learn, scikit-optimize) takes no more
MAX_TIME_LIMIT = 366 * 24 * 3600  # a year of wall clock, in seconds
MAX_INT_BOUND = 2**53  # range bounds: whole numbers a float holds exactly
MAX_INT_VALUE = 2**63 - 1  # values and fixed parameters: what SQLite and NumPy store
MAX_NAME_LENGTH = 1000
MAX_NESTING = 32  # lists and tables inside a value
MAX_SPEC_BYTES = 10 * 2**20  # a spec is a short text file; refuse to read a huge one
COLUMN_TYPES = ("number", "category", "text", "drop")  # what [data] columns may say
PASSTHROUGH = "passthrough"  # a step that hands its input on unchanged
DEFAULT_ESTIMATOR_NAME = "model"  # the estimator's step name unless [estimator] name says
PREPROCESS_STEP = "preprocess"  # the built-in preprocessing of a data file, as a step


@dataclass(frozen=True)
class DataSpec:
    builtin: str | None = None
    csv: str | None = None
    target: str | None = None
    base_dir: str | None = field(default=None, compare=False)  # where a relative csv lives
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> one of COLUMN_TYPES
    preprocess: bool = True  # a data file's columns go through the built-in preprocessing
    stored: str | None = None  # data kept by the Python API beside the history (its key)
    groups: str | None = None  # a column used only to split (group splitters), never a feature

    @property
    def label(self) -> str:
        if self.stored and not self.builtin and not self.csv:
            return f"stored {Path(self.stored).name[:8]}"
        return self.builtin or Path(self.csv or "?").name

    def stored_path(self) -> Path:
        """The folder of stored data: ``stored`` is its key in the history's data folder
        (the study's ``base_dir``), or a path."""
        path = Path(self.stored or "")
        if not path.is_absolute() and self.base_dir:
            path = Path(self.base_dir) / path
        return path

    def csv_path(self) -> Path:
        path = Path(self.csv or "")
        if not path.is_absolute() and self.base_dir:
            path = Path(self.base_dir) / path
        return path


@dataclass(frozen=True)
class EstimatorSpec:
    cls: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    name: str = DEFAULT_ESTIMATOR_NAME  # its step name in the pipeline

    @property
    def short_name(self) -> str:
        return self.cls.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class StepSpec:
    """One ``[[steps]]`` table: a transformer between the data and the estimator.

    ``cls`` is a dotted class path, or ``"passthrough"`` for a step that hands its input on
    unchanged (a placeholder a sub-space fills with a choice).
    """

    name: str
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
    splitter: str | None = None  # a splitter class of sklearn.model_selection, or "holdout"
    params: Mapping[str, Any] = field(default_factory=dict)
    outer: CVSpec | None = None  # nested CV: the whole search runs in each outer fold

    def __hash__(self) -> int:  # params is a dict: hash what the spec says
        return hash(repr(self))


@dataclass(frozen=True)
class ScoringSpec:
    metric: str | None = None  # None: the estimator's own score (accuracy / r2)
    train_score: bool = False
    metrics: tuple[str | _scoring.MetricSpec, ...] = ()  # several, or one with arguments
    refit: str | None = None  # the metric that picks the best (several metrics)
    refit_rule: str = "best"  # or "simplest": within one std of the best, by complexity
    complexity: str | None = None  # the parameter that orders candidates by complexity
    simpler: str = "lower"  # "lower" or "higher" values of `complexity` are simpler

    def __hash__(self) -> int:
        return hash(repr(self))

    @property
    def label(self) -> str:
        if self.metrics:
            return _scoring.scoring_label(self)
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
    # Successive halving (hpstudio.core.strategies.halving), scikit-learn's names and meanings
    factor: float = 3
    resource: str = "auto"  # "n_samples", an estimator parameter, or "auto"
    min_resources: int | str | None = None  # None: "exhaust" (grid) / "smallest" (random)
    max_resources: int | None = None  # None: every row, or the estimator's own value
    aggressive_elimination: bool = False
    asynchronous: bool = False  # True: promote as soon as a candidate is in a rung's top
    # Any strategy: seconds a fold may run before its worker is killed; early stopping of
    # hopeless trials ("folds"); answering a candidate from an earlier identical fit
    trial_timeout: float | None = None
    prune: str | None = None
    reuse: bool = True


@dataclass(frozen=True)
class StudySpec:
    name: str
    data: DataSpec
    estimator: EstimatorSpec
    space: tuple[SubSpace, ...]
    cv: CVSpec = CVSpec()
    scoring: ScoringSpec = ScoringSpec()
    search: SearchSpec = SearchSpec()
    steps: tuple[StepSpec, ...] = ()

    # ----- reading -------------------------------------------------------------------
    @classmethod
    def from_file(cls, path: str | Path) -> StudySpec:
        path = Path(path)
        try:
            if path.exists() and not path.is_file():
                raise SpecError(f"{path} is not a file; give the path of a .toml or .json spec")
            with path.open("rb") as handle:
                data = handle.read(MAX_SPEC_BYTES + 1)
        except FileNotFoundError:
            raise SpecError(f"spec file not found: {path}") from None
        except OSError as exc:
            raise SpecError(f"cannot read spec file {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_SPEC_BYTES:
            raise SpecError(f"{path} is larger than {MAX_SPEC_BYTES // 2**20} MB; "
                            "a study spec is a short text file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecError(
                f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "save the spec as UTF-8"
            ) from None
        is_json = path.suffix.lower() == ".json"
        try:
            raw = json.loads(text) if is_json else tomllib.loads(text)
        except RecursionError:
            raise SpecError(f"{path}: nested too deeply to read") from None
        except ValueError as exc:  # JSONDecodeError, TOMLDecodeError, over-long integers
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SpecError(f"{path}: not valid {'JSON' if is_json else 'TOML'}: {first}") from None
        return cls.from_dict(raw, base_dir=path.resolve().parent, default_name=path.stem)

    @classmethod
    def from_dict(
        cls, raw: Mapping[str, Any], base_dir: str | Path | None = None, default_name: str = "study"
    ) -> StudySpec:
        if not isinstance(raw, Mapping):
            raise SpecError("the spec must be a table of keys (TOML) or an object (JSON)")
        _no_unknown_keys("", raw, {"name", "data", "estimator", "space", "cv", "scoring", "search",
                                   "steps"})
        name = _parse_name(raw.get("name", default_name))
        for required in ("data", "estimator", "space"):
            if required not in raw:
                raise SpecError(f"missing [{required}] section")
        estimator = _parse_estimator(raw["estimator"])
        steps = _parse_steps(raw.get("steps", []), estimator)
        spec = cls(
            name=name,
            data=_parse_data(raw["data"], base_dir),
            estimator=estimator,
            space=_parse_space(raw["space"]),
            cv=_parse_cv(raw.get("cv", {})),
            scoring=_parse_scoring(raw.get("scoring", {})),
            search=_parse_search(raw.get("search", {})),
            steps=steps,
        )
        _splitters.check_groups_given(spec.cv, spec.data.groups, spec.data.builtin is not None)
        _scoring.check_rule(spec.scoring.refit_rule, spec.scoring.complexity, spec.param_names)
        return spec

    # ----- writing -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k in ("builtin", "csv", "target", "groups", "stored")
                if (v := getattr(self.data, k)) is not None}
        if self.data.columns:
            data["columns"] = dict(self.data.columns)
        if not self.data.preprocess:
            data["preprocess"] = False
        estimator: dict[str, Any] = {"class": self.estimator.cls,
                                     "fixed": _encode(self.estimator.fixed)}
        if self.estimator.name != DEFAULT_ESTIMATOR_NAME:
            estimator["name"] = self.estimator.name
        out: dict[str, Any] = {
            "name": self.name,
            "data": data,
            "estimator": estimator,
            "space": [{n: dimension_to_raw(d) for n, d in sub.items()} for sub in self.space],
            "cv": _cv_to_dict(self.cv),
            "scoring": _scoring_to_dict(self.scoring),
            "search": search_to_raw(self.search),
        }
        if self.steps:
            out["steps"] = [{"name": step.name, "class": step.cls, "fixed": _encode(step.fixed)}
                            for step in self.steps]
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
        if self.search.strategy in ("halving-grid", "halving-random"):
            from hpstudio.core.probe import planned_work

            return planned_work(self).trials
        if self.search.strategy == "grid":
            size = grid_size(self.space)
            return min(size, self.search.n_trials) if self.search.n_trials else size
        from hpstudio.core.space import space_size

        n = self.search.n_trials or 0
        size = space_size(self.space)
        return int(min(n, size)) if math.isfinite(size) else n

    # ----- validation against the estimator and scikit-learn ---------------------------
    def check(self) -> None:
        """Refuse what cannot run, without importing any estimator (cheap, for the editor).

        A spec built in code or by the editor skips the parser, so it is put through the
        parser's rules here; and a grid search must be small enough to list its candidates.
        """
        StudySpec.from_dict(self.to_dict(), base_dir=self.data.base_dir)
        if self.search.strategy in ("grid", "halving-grid"):
            check_grid(self.space)  # also explains float ranges without num/step

    def check_feasible(self, dataset: Any, allowed_packages: Iterable[str] = ()) -> None:
        """Refuse a study that cannot succeed on this data (more folds than rows, ...)."""
        from hpstudio.core.feasibility import check_feasible

        check_feasible(self, dataset, allowed_packages)

    def validate(self, allowed_packages: Iterable[str] = ()) -> type:
        """Check names against the real estimator and scorers; return the estimator class.

        Every class of the pipeline (steps, estimator, values) is resolved under the
        allowed-package rule, and every parameter name is checked against the built
        pipeline's ``get_params(deep=True)`` (``hpstudio.core.pipeline.check_pipeline``).
        """
        from hpstudio.core.pipeline import check_pipeline

        self.check()
        cls = check_pipeline(self, allowed_packages)
        _scoring.check_metrics(self.scoring)
        _splitters.check_values(self.cv)
        from hpstudio.core.estimators import default_params
        from hpstudio.core.search_options import check_resource

        try:
            own = set(cls().get_params(deep=True))
        except Exception:
            own = set(default_params(cls))
        names = own | {f"{self.estimator.name}__{name}" for name in own}
        check_resource(self.search, names, self.space, self.estimator.short_name)
        return cls


def check_evaluation(spec: StudySpec) -> None:
    """The parser's rules for splitting and scoring, for a spec built in code or by the
    editor (names and values of the splitter, groups given when needed, metrics, the
    refit rule's parameter); a SpecError names the key."""
    raw = spec.to_dict()
    cv, scoring = _parse_cv(raw["cv"]), _parse_scoring(raw["scoring"])
    _splitters.check_groups_given(cv, spec.data.groups, spec.data.builtin is not None)
    _scoring.check_rule(scoring.refit_rule, scoring.complexity, spec.param_names)


# ----- section parsers -----------------------------------------------------------------


def _parse_name(name: Any) -> str:
    _expect_type("name", name, str)
    _check_text("name", name)
    if not name.strip():
        raise SpecError("name: empty; give the study a name, e.g. name = \"svc-digits\"")
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise SpecError(f"name: {_show(name)} is not a usable study name; use at most "
                        f"{MAX_NAME_LENGTH} printable characters on one line")
    return name


def _parse_data(raw: Any, base_dir: str | Path | None) -> DataSpec:
    _expect_type("data", raw, Mapping)
    _no_unknown_keys("data", raw, {"builtin", "csv", "target", "columns", "preprocess",
                                   "stored", "groups"})
    builtin, csv, target = raw.get("builtin"), raw.get("csv"), raw.get("target")
    if raw.get("stored") is not None:
        from hpstudio.core.datastore import parse_stored_key

        return parse_stored_key(raw, base_dir)
    groups = raw.get("groups")
    if groups is not None:
        _expect_type("data.groups", groups, str)
        _check_text("data.groups", groups)
        if not groups:
            raise SpecError("data.groups: empty; give the column to split by, or leave it out")
        if builtin is not None:
            raise SpecError("data.groups: a bundled dataset has no named columns to split by; "
                            "use a data file with a groups column")
        if groups == target:
            raise SpecError(f"data.groups: {groups!r} is the target column; give another "
                            "column to split by")
    if (builtin is None) == (csv is None):
        raise SpecError("data: give exactly one of `builtin` (a bundled dataset) or `csv` (a file)")
    if builtin is not None:
        _expect_type("data.builtin", builtin, str)
        if builtin not in BUILTIN_DATASETS:
            raise SpecError(
                f"data.builtin: unknown dataset {_show(builtin)}; choose one of "
                f"{', '.join(BUILTIN_DATASETS)}"
            )
        if target is not None:
            raise SpecError("data.target: only a CSV needs a target column")
        for key in ("columns", "preprocess"):
            if key in raw:
                raise SpecError(f"data.{key}: a bundled dataset is used as it is; only a CSV "
                                "has columns to type and preprocess")
    else:
        _expect_type("data.csv", csv, str)
        _check_text("data.csv", csv)
        if not csv.strip() or "\0" in csv:
            raise SpecError(f"data.csv: {_show(csv)} is not a file path; give the CSV file, "
                            "e.g. csv = \"houses.csv\" (relative to the spec file)")
        if target is not None:  # optional: estimators without a target need none
            _expect_type("data.target", target, str)
            _check_text("data.target", target)
            if not target:
                raise SpecError("data.target: empty; give the name of the CSV's target column")
    columns = _parse_columns(raw.get("columns", {}), target)
    preprocess = raw.get("preprocess", True)
    _expect_type("data.preprocess", preprocess, bool)
    if not preprocess:
        for column, kind in columns.items():
            if kind not in ("number", "drop"):
                raise SpecError(f"data.columns.{_label(column)}: a {kind} column needs the "
                                "built-in preprocessing; set preprocess = true or drop it")
    return DataSpec(builtin, csv, target, str(base_dir) if base_dir else None, columns,
                    preprocess, groups=groups)


def _parse_columns(raw: Any, target: str | None) -> dict[str, str]:
    _expect_type("data.columns", raw, Mapping)
    _check_names("data.columns", raw)
    for column, kind in raw.items():
        key = f"data.columns.{_label(column)}"
        if not isinstance(kind, str) or kind not in COLUMN_TYPES:
            raise SpecError(f"{key}: {_show(kind)} is not a column type; use one of "
                            f"{', '.join(COLUMN_TYPES)}")
        if column == target:
            raise SpecError(f"{key}: this is the target column, not a feature; leave it "
                            "out of columns")
    return dict(raw)


def _parse_estimator(raw: Any) -> EstimatorSpec:
    _expect_type("estimator", raw, Mapping)
    _no_unknown_keys("estimator", raw, {"class", "fixed", "name"})
    if "class" not in raw:
        raise SpecError("estimator.class: missing; e.g. class = 'sklearn.svm.SVC'")
    _expect_type("estimator.class", raw["class"], str)
    _check_text("estimator.class", raw["class"])
    fixed = raw.get("fixed", {})
    _expect_type("estimator.fixed", fixed, Mapping)
    _check_names("estimator.fixed", fixed)
    name = raw.get("name", DEFAULT_ESTIMATOR_NAME)
    check_step_name("estimator.name", name)
    return EstimatorSpec(raw["class"], {name: _decode(f"estimator.fixed.{_label(name)}", value)
                                        for name, value in fixed.items()}, name)


def _parse_steps(raw: Any, estimator: EstimatorSpec) -> tuple[StepSpec, ...]:
    """The ``[[steps]]`` tables, in order; names unique and unlike the estimator's."""
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise SpecError(f"steps: expected [[steps]] tables, got {_describe(raw)}")
    steps: list[StepSpec] = []
    taken = {estimator.name: "the estimator"}
    for index, table in enumerate(raw):
        key = f"steps[{index}]"
        _expect_type(key, table, Mapping)
        _no_unknown_keys(key, table, {"name", "class", "fixed"})
        for required, example in (("name", "name = 'pca'"),
                                  ("class", "class = 'sklearn.decomposition.PCA'")):
            if required not in table:
                raise SpecError(f"{key}.{required}: missing; e.g. {example}")
        name, cls = table["name"], table["class"]
        check_step_name(f"{key}.name", name)
        if name in taken:
            raise SpecError(f"{key}.name: {name!r} is already the name of {taken[name]}; "
                            "give each step its own name")
        taken[name] = f"steps[{index}]"
        _expect_type(f"{key}.class", cls, str)
        _check_text(f"{key}.class", cls)
        fixed = table.get("fixed", {})
        _expect_type(f"{key}.fixed", fixed, Mapping)
        _check_names(f"{key}.fixed", fixed)
        if cls == PASSTHROUGH and fixed:
            raise SpecError(f"{key}.fixed: a passthrough step has no parameters")
        steps.append(StepSpec(name, cls, {n: _decode(f"{key}.fixed.{_label(n)}", v)
                                          for n, v in fixed.items()}))
    return tuple(steps)


# Pipeline's own constructor arguments cannot name a step (scikit-learn refuses them).
_RESERVED_STEP_NAMES = ("steps", "memory", "verbose", "transform_input", PREPROCESS_STEP)


def check_step_name(key: str, name: Any) -> None:
    _expect_type(key, name, str)
    _check_text(key, name)
    if not name.strip() or "__" in name or not name.isprintable() or len(name) > 100:
        raise SpecError(f"{key}: {_show(name)} is not a step name; use a short word without "
                        "'__', e.g. 'pca'")
    if name in _RESERVED_STEP_NAMES:
        what = ("the built-in preprocessing step" if name == PREPROCESS_STEP
                else "an argument of scikit-learn's Pipeline")
        raise SpecError(f"{key}: {name!r} is the name of {what}; choose another name")


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
        _check_names(f"space[{index}]", sub)
        subspaces.append({name: parse_dimension(f"space[{index}].{_label(name)}", value)
                          for name, value in sub.items()})
    return tuple(subspaces)


def parse_dimension(key: str, raw: Any) -> Dimension:
    """A list becomes Values; a ``{low, high}`` table an int or float range."""
    if isinstance(raw, list | tuple):
        if not raw:
            raise SpecError(f"{key}: empty list; give at least one value")
        return Values(tuple(_decode(f"{key}[{i}]", v) for i, v in enumerate(raw)))
    if isinstance(raw, Mapping):
        return _parse_range(key, raw)
    raise SpecError(
        f"{key}: expected a list of values like [1, 10] or a range like {{ low = 1, high = 10 }}, "
        f"got {_describe(raw)}; to pin one value put it in [estimator] fixed"
    )


def _parse_range(key: str, raw: Mapping[str, Any]) -> IntRange | FloatRange:
    _no_unknown_keys(key, raw, {"low", "high", "log", "num", "step"})
    if "low" not in raw or "high" not in raw:
        raise SpecError(f"{key}: a range needs both `low` and `high`")
    low, high = raw["low"], raw["high"]
    for bound, value in (("low", low), ("high", high)):
        _expect_bound(f"{key}.{bound}", value)
    if low > high:
        raise SpecError(f"{key}: low ({low}) is greater than high ({high}); swap them")
    log = raw.get("log", False)
    _expect_type(f"{key}.log", log, bool)
    if log and low <= 0:
        raise SpecError(f"{key}: a log range needs low > 0 (got {low})")
    num, step = raw.get("num"), raw.get("step")
    if num is not None:
        _expect_int(f"{key}.num", num, 1, MAX_GRID_CANDIDATES,
                    "the most points a grid may have")
    if step is not None:
        _expect_bound(f"{key}.step", step)
        if step <= 0:
            raise SpecError(f"{key}.step: expected a number > 0, got {_describe(step)}")
    if num is not None and step is not None:
        raise SpecError(f"{key}: give `num` or `step`, not both")
    if isinstance(low, int) and isinstance(high, int) and not isinstance(step, float):
        return IntRange(low, high, log=log, num=num, step=step)
    low, high = float(low), float(high)
    if not math.isfinite(high - low):
        raise SpecError(f"{key}: the range [{low:g}, {high:g}] is too wide to search (its width "
                        "overflows a float); narrow it, or use log = true for positive values")
    if step is not None and step_count(low, high, float(step)) > MAX_GRID_CANDIDATES:
        raise SpecError(f"{key}.step: {step:g} over [{low:g}, {high:g}] makes more than "
                        f"{MAX_GRID_CANDIDATES:,} points; use a larger `step` or `num`")
    return FloatRange(low, high, log=log, num=num, step=None if step is None else float(step))


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


def _parse_cv(raw: Any, key: str = "cv") -> CVSpec:
    _expect_type(key, raw, Mapping)
    allowed = {"folds", "shuffle", "seed", "splitter", "params"}
    _no_unknown_keys(key, raw, allowed if key != "cv" else allowed | {"outer"})
    folds = raw.get("folds", 5)
    _expect_int(f"{key}.folds", folds, 2, MAX_FOLDS, "the most folds allowed; 5 or 10 is usual")
    shuffle = raw.get("shuffle", False)
    _expect_type(f"{key}.shuffle", shuffle, bool)
    seed = raw.get("seed")
    if seed is not None:
        _expect_int(f"{key}.seed", seed, 0, MAX_SEED, _SEED_LIMIT)
    splitter, params = raw.get("splitter"), raw.get("params")
    if splitter is None and params is not None:
        raise SpecError(f"{key}.params: parameters of which splitter? Add splitter = \"KFold\" "
                        "(or another splitter of sklearn.model_selection)")
    if splitter is not None:
        _expect_type(f"{key}.splitter", splitter, str)
        for shorthand in ("folds", "shuffle", "seed"):
            if shorthand in raw:
                raise SpecError(f"{key}.{shorthand}: give either `splitter` with its `params` or "
                                "the shorthand folds / shuffle / seed, not both")
        params = {} if params is None else params
        _expect_type(f"{key}.params", params, Mapping)
        _check_names(f"{key}.params", params)
        params = {name: _decode(f"{key}.params.{_label(name)}", value)
                  for name, value in params.items()}
        _splitters.check_names(key, splitter, params)
    outer = raw.get("outer")
    return CVSpec(folds, shuffle, seed, splitter, params or {},
                  None if outer is None else _parse_cv(outer, f"{key}.outer"))


def _cv_to_dict(cv: CVSpec) -> dict[str, Any]:
    if cv.splitter is None:
        out = _drop_none({"folds": cv.folds, "shuffle": cv.shuffle, "seed": cv.seed})
    else:
        out = {"splitter": cv.splitter}
        if cv.params:
            out["params"] = _encode(cv.params)
    if cv.outer is not None:
        out["outer"] = _cv_to_dict(cv.outer)
    return out


def _parse_scoring(raw: Any) -> ScoringSpec:
    if isinstance(raw, str):
        raw = {"metric": raw}
    _expect_type("scoring", raw, Mapping)
    _no_unknown_keys("scoring", raw, {"metric", "train_score", "metrics", "refit", "refit_rule",
                                      "complexity", "simpler"})
    metric = raw.get("metric")
    metrics: tuple[Any, ...] = ()
    if isinstance(metric, Mapping):  # one scorer with arguments
        metrics, metric = (_scoring.parse_metric("scoring.metric", metric, _decode),), None
    if raw.get("metrics") is not None:
        if "metric" in raw:
            raise SpecError("scoring: give `metric` (one) or `metrics` (a list), not both")
        listed = raw["metrics"]
        if not isinstance(listed, list | tuple) or not listed:
            raise SpecError("scoring.metrics: give a list of scorer names, e.g. "
                            "metrics = [\"roc_auc\", \"accuracy\"]")
        metrics = tuple(_scoring.parse_metric(f"scoring.metrics[{i}]", entry, _decode)
                        for i, entry in enumerate(listed))
    refit = raw.get("refit")
    if refit is not None:
        _expect_type("scoring.refit", refit, str)
    _scoring.check_entries(metrics, refit, metric)
    if len(metrics) <= 1:
        refit = None  # one metric ranks the trials
    rule = raw.get("refit_rule", "best")
    _expect_choice("scoring.refit_rule", rule, _scoring.REFIT_RULES)
    complexity = raw.get("complexity")
    if complexity is not None:
        _expect_type("scoring.complexity", complexity, str)
    simpler = raw.get("simpler", "lower")
    _expect_choice("scoring.simpler", simpler, _scoring.SIMPLER)
    if metric is not None:
        _expect_type("scoring.metric", metric, str)
        _check_text("scoring.metric", metric)
        if not metric:
            raise SpecError("scoring.metric: empty; give a scorer name such as 'accuracy', "
                            "or leave the key out for the estimator's own score")
    train = raw.get("train_score", False)
    _expect_type("scoring.train_score", train, bool)
    return ScoringSpec(metric, train, metrics, refit, rule, complexity, simpler)


def _scoring_to_dict(scoring: ScoringSpec) -> dict[str, Any]:
    out = _drop_none({"metric": scoring.metric, "train_score": scoring.train_score})
    if scoring.metrics:
        out["metrics"] = [m if isinstance(m, str) else _encode(m.to_raw())
                          for m in scoring.metrics]
    if scoring.refit is not None:
        out["refit"] = scoring.refit
    if scoring.refit_rule != "best":
        out["refit_rule"] = scoring.refit_rule
    if scoring.complexity is not None:
        out["complexity"] = scoring.complexity
    if scoring.simpler != "lower":
        out["simpler"] = scoring.simpler
    return out


_SEED_LIMIT = "the largest seed NumPy accepts"
_TRIALS_LIMIT = "the most trials a study may run"


def _parse_search(raw: Any) -> SearchSpec:
    _expect_type("search", raw, Mapping)
    allowed = set(SearchSpec.__dataclass_fields__)
    _no_unknown_keys("search", raw, allowed)
    strategy = raw.get("strategy", "grid")
    _expect_choice("search.strategy", strategy, STRATEGIES)
    n_trials = raw.get("n_trials")
    if n_trials is not None:
        _expect_int("search.n_trials", n_trials, 1, MAX_TRIALS, _TRIALS_LIMIT)
    elif strategy not in ("grid", "halving-grid", "halving-random"):
        n_trials = 50
    seed, patience = raw.get("seed"), raw.get("patience")
    if seed is not None:
        _expect_int("search.seed", seed, 0, MAX_SEED, _SEED_LIMIT)
    if patience is not None:
        _expect_int("search.patience", patience, 1, MAX_TRIALS, _TRIALS_LIMIT)
    time_limit = raw.get("time_limit")
    if time_limit is not None:
        _expect_bound("search.time_limit", time_limit, what="seconds")
        if time_limit <= 0:
            raise SpecError(f"search.time_limit: expected seconds > 0, got {_describe(time_limit)}")
        if time_limit > MAX_TIME_LIMIT:
            raise SpecError(f"search.time_limit: {time_limit:g} s is more than a year "
                            f"({MAX_TIME_LIMIT:,} s); leave it out for no time limit")
    surrogate = raw.get("surrogate", "GP")
    _expect_choice("search.surrogate", surrogate, SURROGATES)
    acquisition = raw.get("acquisition", "gp_hedge")
    _expect_choice("search.acquisition", acquisition, ACQUISITIONS)
    initial_points = raw.get("initial_points", 10)
    _expect_int("search.initial_points", initial_points, 1, MAX_TRIALS, _TRIALS_LIMIT)
    generator = raw.get("initial_generator", "random")
    _expect_choice("search.initial_generator", generator, INITIAL_GENERATORS)
    from hpstudio.core.search_options import parse_search_options

    options = parse_search_options(raw, strategy, n_trials)
    return SearchSpec(strategy, n_trials, seed, None if time_limit is None else float(time_limit),
                      patience, surrogate, acquisition, initial_points, generator, **options)


def search_to_raw(search: SearchSpec) -> dict[str, Any]:
    from hpstudio.core.search_options import DEFAULTS, search_options_to_raw

    raw = _drop_none({k: v for k, v in search.__dict__.items() if k not in DEFAULTS})
    return {**raw, **search_options_to_raw(search)}


# ----- values: what TOML and JSON can both carry ---------------------------------------------


def _decode(key: str, value: Any, depth: int = 0) -> Any:
    """A value as the spec means it: "None" is None; refuse what could not be saved again."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        _check_text(key, value)
        return None if value == NONE_TOKEN else value
    if isinstance(value, int):
        if abs(value) > MAX_INT_VALUE:
            raise SpecError(f"{key}: {_show(value)} does not fit in 64 bits; "
                            "use a smaller number")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"{key}: {value} is not a finite number; give a real value")
        return value
    if depth >= MAX_NESTING and isinstance(value, list | tuple | Mapping):
        raise SpecError(f"{key}: nested more than {MAX_NESTING} levels deep")
    if isinstance(value, list | tuple):
        return [_decode(f"{key}[{i}]", v, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        _check_names(key, value, empty_ok=True)
        return {k: _decode(f"{key}.{_label(k)}", v, depth + 1) for k, v in value.items()}
    raise SpecError(f"{key}: expected a number, text, true/false, a list or a table, "
                    f"got {_describe(value)}")


def _encode(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return NONE_TOKEN if value is None else value


def _drop_none(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if v is not None}


# ----- checks and messages -------------------------------------------------------------------

_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60
_SHOW.maxlong = 40
_SHOW.maxlevel = 3
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,59}")


def _show(value: Any) -> str:
    """A short one-line repr for messages (strings, lists and numbers of any size)."""
    return _SHOW.repr(value)


def _label(key: Any) -> str:
    """A key as it appears in a message: plain names as they are, anything else quoted."""
    return key if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else _show(key)


def _describe(value: Any) -> str:
    kind = {str: "a string", bool: "a boolean", int: "a whole number", float: "a number",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    return f"{_show(value)} ({kind})"


def _check_text(key: str, text: str) -> None:
    """Refuse text that no UTF-8 file can hold (lone surrogates, from JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SpecError(f"{key}: {_show(text)} is not valid Unicode text") from None


def _check_names(section: str, raw: Mapping[Any, Any], empty_ok: bool = False) -> None:
    for name in raw:
        if not isinstance(name, str):
            raise SpecError(f"{section}: names must be text, got {_describe(name)}")
        _check_text(section, name)
        if not name and not empty_ok:
            raise SpecError(f"{section}: a parameter needs a name (found an empty one)")


def _expect_type(key: str, value: Any, kind: type | tuple[type, ...]) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        wanted = {str: "a string", bool: "true or false", Mapping: "a table"}.get(kind, str(kind))
        raise SpecError(f"{key}: expected {wanted}, got {_describe(value)}")


def _expect_int(key: str, value: Any, minimum: int, maximum: int, why: str) -> None:
    """A whole number in [minimum, maximum]; ``why`` explains the maximum to the user."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{key}: expected a whole number ≥ {minimum}, got {_describe(value)}")
    if value > maximum:
        raise SpecError(f"{key}: {_show(value)} is more than {maximum:,}, {why}")


def _expect_bound(key: str, value: Any, what: str = "a number") -> None:
    """A finite number that converts to a float exactly enough (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{key}: expected {what}, got {_describe(value)}")
    if isinstance(value, int) and abs(value) > MAX_INT_BOUND:
        raise SpecError(f"{key}: {_show(value)} is too large for a whole number here "
                        f"(at most ±{MAX_INT_BOUND:,}); write it as a float such as 1e16")
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"{key}: expected a finite number, got {value}")


def _expect_choice(key: str, value: Any, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise SpecError(f"{key}: {_show(value)} is not one of {', '.join(choices)}")


def _no_unknown_keys(section: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{section}.{_label(key)}" if section else _label(key)
            hint = _did_you_mean(key, allowed) if isinstance(key, str) else ""
            raise SpecError(
                f"{where}: unknown key{hint}; allowed here: {', '.join(sorted(allowed))}"
            )


def _did_you_mean(name: str, options: Iterable[str]) -> str:
    by_lower = {option.lower(): option for option in options}
    close = difflib.get_close_matches(name.lower()[:100], list(by_lower), n=1, cutoff=0.5)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""

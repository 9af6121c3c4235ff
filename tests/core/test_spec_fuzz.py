"""Property-based tests of the spec parser: any input parses or is refused with a message.

Two families of inputs: arbitrary nested dicts, lists, strings and numbers (most are
refused at the first key), and near-valid specs built section by section with every value
sometimes replaced by junk (most get deep into the parser, and many parse). For each:

* ``StudySpec.from_dict`` returns a spec or raises ``HpstudioError``, nothing else, within
  the deadline and without a large allocation;
* a spec that parses is saved and read back unchanged: ``to_dict`` -> ``from_dict``,
  ``to_toml`` -> ``tomllib.loads`` -> ``from_dict`` and ``to_json`` -> ``json.loads`` ->
  ``from_dict`` all give an equal spec;
* the cheap checks the editor and the runner make before a study (``check``,
  ``planned_trials``, ``planned_work``) answer instantly or raise ``HpstudioError``.

CI runs a modest, derandomized number of examples. ``HPSTUDIO_FUZZ_EXAMPLES=20000`` runs
more (with a random seed unless ``HPSTUDIO_FUZZ_SEED`` is set) to hunt for new failures.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
import tomllib
import tracemalloc
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st

from hpstudio.core.errors import HpstudioError
from hpstudio.core.probe import planned_work
from hpstudio.core.spec import StudySpec

_EXAMPLES = int(os.environ.get("HPSTUDIO_FUZZ_EXAMPLES", "0"))
_SEED = os.environ.get("HPSTUDIO_FUZZ_SEED")
FUZZ = settings(
    max_examples=_EXAMPLES or 100,
    derandomize=not _EXAMPLES and _SEED is None,
    deadline=2000,  # milliseconds per example; a parse takes well under one
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no example files left in the work tree
)
MAX_PEAK_BYTES = 20 * 2**20


def fuzz(test: Any) -> Any:
    """The CI settings, or the long run's (``HPSTUDIO_FUZZ_EXAMPLES``, ``HPSTUDIO_FUZZ_SEED``)."""
    test = FUZZ(test)
    return seed(int(_SEED))(test) if _SEED is not None else test


# ----- arbitrary JSON-like data -------------------------------------------------------------

SPECIAL_TEXT = st.sampled_from([
    "", " ", "None", "none", "null", "nan", "inf", "grid", "random", "bayes", "iris",
    "sklearn.svm.SVC", "\ud800", "a\x00b", "line\nbreak", "\x7f", "é", "\u2028", "'\"",
    "[1, 2]", "{ low = 1 }",
])
text = st.one_of(st.text(max_size=12), SPECIAL_TEXT)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-5, max_value=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2, -1, 2**31, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 10**400,
                     1e-308, 5e-324, 1e308, -1e308, 0.5, 1e-9]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(text, children, max_size=4),
        st.dictionaries(st.one_of(st.integers(), st.none()), children, min_size=1, max_size=2),
    ),
    max_leaves=12,
)

# ----- valid specs, and near-valid ones: a valid spec with a few values replaced -------------

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
safe_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
plain_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63) + 1, 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), safe_text,
)
nested_values = st.recursive(
    plain_values,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(safe_text, children, max_size=3)),
    max_leaves=6,
)
int_bounds = st.integers(-(2**53), 2**53)
float_bounds = st.floats(-1e300, 1e300, allow_nan=False)


@st.composite
def valid_ranges(draw: st.DrawFn) -> dict[str, Any]:
    whole = draw(st.booleans())
    low, high = sorted(draw(st.lists(int_bounds if whole else float_bounds,
                                     min_size=2, max_size=2)))
    raw: dict[str, Any] = {"low": low, "high": high}
    if low > 0 and draw(st.booleans()):
        raw["log"] = True
    points = draw(st.sampled_from(["", "num", "step"]))
    if points == "num":
        raw["num"] = draw(st.integers(1, 50))
    elif points == "step":
        width = high - low
        if whole:
            raw["step"] = draw(st.integers(max(1, width // 1000), max(1, min(width, 2**53))))
        elif width > 0:
            raw["step"] = draw(st.floats(width / 1000, max(width, width / 1000)))
    return raw


valid_dimensions = st.one_of(valid_ranges(), st.lists(nested_values, min_size=1, max_size=4))


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    space = draw(st.lists(st.dictionaries(identifiers, valid_dimensions, min_size=1,
                                          max_size=3), min_size=1, max_size=3))
    raw: dict[str, Any] = {
        "name": draw(st.one_of(identifiers, safe_text.filter(
            lambda t: t.strip() and t.isprintable()))),
        "data": draw(st.one_of(
            st.fixed_dictionaries({"builtin": st.sampled_from(["iris", "wine", "diabetes"])}),
            st.fixed_dictionaries({"csv": st.sampled_from(["d.csv", "sub/x.csv", "C:/d.csv"]),
                                   "target": identifiers}))),
        "estimator": draw(st.fixed_dictionaries(
            {"class": st.sampled_from(["sklearn.svm.SVC", "sklearn.tree.DecisionTreeRegressor"])},
            optional={"fixed": st.dictionaries(identifiers, nested_values, max_size=3)})),
        "space": space[0] if len(space) == 1 and draw(st.booleans()) else space,
        "cv": draw(st.fixed_dictionaries({}, optional={
            "folds": st.integers(2, 1000), "shuffle": st.booleans(),
            "seed": st.integers(0, 2**32 - 1)})),
        "scoring": draw(st.one_of(
            st.sampled_from(["accuracy", "r2"]),
            st.fixed_dictionaries({}, optional={"metric": st.sampled_from(["accuracy", "r2"]),
                                                "train_score": st.booleans()}))),
        "search": draw(st.fixed_dictionaries({}, optional={
            "strategy": st.sampled_from(["grid", "random", "bayes"]),
            "n_trials": st.integers(1, 10**6), "seed": st.integers(0, 2**32 - 1),
            "time_limit": st.one_of(st.floats(1e-3, 3e7), st.integers(1, 10**6)),
            "patience": st.integers(1, 10**6),
            "surrogate": st.sampled_from(["GP", "RF", "ET", "GBRT"]),
            "acquisition": st.sampled_from(["gp_hedge", "EI", "PI", "LCB"]),
            "initial_points": st.integers(1, 100),
            "initial_generator": st.sampled_from(["random", "sobol", "lhs", "halton"])})),
    }
    for optional in ("name", "cv", "scoring", "search"):
        if draw(st.integers(0, 3)) == 0:
            del raw[optional]
    return raw


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a nested dict/list where a value could be replaced."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*path, index))
    return found


@st.composite
def near_valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid spec with one or two mutations: a value replaced, a key dropped or added."""
    raw = draw(valid_specs())
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(_paths(raw)))
        *parents, last = path
        node = raw
        for step in parents:
            node = node[step]
        action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if action == "replace":
            node[last] = draw(json_like)
        elif action == "drop" and isinstance(node, dict):
            del node[last]
        elif isinstance(node, dict):
            node[draw(st.one_of(text, PARAM_NAMES))] = draw(json_like)
    return raw


PARAM_NAMES = st.sampled_from(["low", "high", "num", "step", "log", "folds", "seed", "metric",
                               "n_trials", "class", "fixed", "builtin", "csv", "target", ""])

top_level_dicts = st.dictionaries(
    st.one_of(st.sampled_from(["name", "data", "estimator", "space", "cv", "scoring", "search"]),
              text),
    json_like, max_size=7)

# ----- the properties -----------------------------------------------------------------------


def parse_or_refuse(raw: Any) -> StudySpec | None:
    """The parsed spec, or None when it was refused with an HpstudioError."""
    tracemalloc.start()
    try:
        return StudySpec.from_dict(raw)
    except HpstudioError as exc:
        message = str(exc)
        assert len(message.splitlines()) == 1, repr(message)
        return None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < MAX_PEAK_BYTES, f"parsing allocated {peak:,} bytes"


def assert_saves_and_reads_back(spec: StudySpec) -> None:
    assert StudySpec.from_dict(spec.to_dict()) == spec
    assert StudySpec.from_dict(tomllib.loads(spec.to_toml())) == spec
    assert StudySpec.from_dict(json.loads(spec.to_json())) == spec


def assert_cheap_checks_answer(spec: StudySpec) -> None:
    """What the editor and the runner ask before a study: instant, HpstudioError or nothing."""
    for check in (spec.check, spec.planned_trials, lambda: planned_work(spec)):
        try:
            check()
        except HpstudioError as exc:
            assert len(str(exc).splitlines()) == 1, repr(str(exc))


def check_input(raw: Any) -> None:
    spec = parse_or_refuse(raw)
    if spec is not None:
        assert_saves_and_reads_back(spec)
        assert_cheap_checks_answer(spec)


@fuzz
@given(json_like)
def test_any_value_parses_or_is_refused(raw: Any) -> None:
    check_input(raw)


@fuzz
@given(top_level_dicts)
@example({"A\n": None})  # found by a long run: a key ending in a line break
def test_any_table_of_sections_parses_or_is_refused(raw: dict[str, Any]) -> None:
    check_input(raw)


@fuzz
@given(near_valid_specs())
def test_near_valid_specs_parse_and_save_or_are_refused(raw: dict[str, Any]) -> None:
    check_input(raw)


@fuzz
@given(valid_specs())
def test_valid_specs_parse_and_save(raw: dict[str, Any]) -> None:
    spec = StudySpec.from_dict(raw)  # no false refusal
    assert_saves_and_reads_back(spec)
    assert_cheap_checks_answer(spec)


@fuzz
@given(st.one_of(
    st.binary(max_size=200),
    st.text(alphabet=string.printable, max_size=200).map(str.encode),
    near_valid_specs().map(lambda raw: json.dumps(raw, default=str).encode()),
), st.sampled_from([".toml", ".json", ".txt"]))
def test_any_file_content_parses_or_is_refused(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"spec{suffix}"
        path.write_bytes(content)
        try:
            spec = StudySpec.from_file(path)
        except HpstudioError as exc:
            assert str(exc)
            return
        again = Path(folder) / f"again{suffix if suffix != '.txt' else '.toml'}"
        spec.save(again)
        assert StudySpec.from_file(again) == spec


def test_near_valid_specs_often_parse() -> None:
    """The mutated specs reach the round trip often, not only the first refusal."""
    outcomes: list[bool] = []

    @settings(max_examples=100, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(near_valid_specs())
    def count(raw: dict[str, Any]) -> None:
        outcomes.append(parse_or_refuse(raw) is not None)

    count()
    assert 0.02 < sum(outcomes) / len(outcomes) < 0.95  # some reach it, most are refused

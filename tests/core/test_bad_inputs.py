"""A corpus of bad inputs, each run through the real `hpstudio` entry point in-process.

Every case must end with exit status 2 and exactly one line on stderr, starting with
``hpstudio: error:`` and naming the problem; no traceback, no study left in the history,
and no worker pool started (the pool's start is made to fail the test). A few inputs that
are valid but fail only when fitted are at the end: they give failed trials with the
fitting error, and the study goes on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from hpstudio.cli import main
from hpstudio.core.storage import HistoryStore

BASE: dict[str, Any] = {
    "name": "bad",
    "data": {"builtin": "iris"},
    "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
    "space": [{"max_depth": [1, 2]}],
    "cv": {"folds": 3},
    "search": {"strategy": "grid"},
}
DELETE = object()
CSV_FILES = {
    "six.csv": "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n2,3,1\n",
    "lonely.csv": "a,b,y\n1,2,x\n3,4,x\n5,6,x\n7,8,z\n9,1,x\n2,3,x\n",
    "one-class.csv": "a,b,y\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n",
    "empty.csv": "",
}


def changed(**paths: Any) -> dict[str, Any]:
    """BASE with dotted paths set (``cv__folds=1`` sets cv.folds) or removed (DELETE)."""
    raw = json.loads(json.dumps(BASE))
    for dotted, value in paths.items():
        *parents, last = dotted.split("__")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return raw


def sub(**dimensions: Any) -> list[dict[str, Any]]:
    return [dimensions]


@dataclass(frozen=True)
class Case:
    """One bad input: how to write it and call the CLI, and what the message must say."""

    fragment: str
    toml: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    text: str | bytes | None = None
    suffix: str = ".toml"
    argv: tuple[str, ...] = ()  # "{tmp}" stands for the test's folder, "{spec}" for the spec
    extra: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = field(default=None, compare=False)

    def command(self, tmp: Path) -> list[str]:
        if self.argv:
            return [a.replace("{tmp}", str(tmp)) for a in self.argv]
        path = tmp / f"spec{self.suffix}"
        if self.toml is not None:
            path.write_text(tomli_w.dumps(self.toml), encoding="utf-8")
        elif self.json is not None:
            path.write_text(json.dumps(self.json), encoding="utf-8")
        elif isinstance(self.text, bytes):
            path.write_bytes(self.text)
        elif self.text is not None:
            path.write_text(self.text, encoding="utf-8")
        return ["run", str(path), "--jobs", "1", "-q", *self.extra]


def toml(fragment: str, **paths: Any) -> Case:
    return Case(fragment, toml=changed(**paths))


def js(fragment: str, **paths: Any) -> Case:
    return Case(fragment, json=changed(**paths), suffix=".json")


def cli(fragment: str, *argv: str, setup: Callable[[Path], None] | None = None) -> Case:
    return Case(fragment, argv=argv, setup=setup)


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def a_study_without_trials(tmp: Path) -> None:
    with HistoryStore(os.environ["HPSTUDIO_DB"]) as store:
        store.create_study(BASE, base_dir=None, n_total=2, data_fingerprint=None,
                           dataset="iris")


BASE_TOML = tomli_w.dumps(BASE)

CASES: dict[str, Case] = {
    # ----- the spec file itself ------------------------------------------------------------
    "missing file": cli("spec file not found", "run", "{tmp}/nope.toml"),
    "folder as spec": cli("is not a file", "run", "{tmp}"),
    "device as spec": cli("is not a file", "run", "/dev/zero"),
    "not utf-8 toml": Case("not UTF-8 text (byte 0xff", text=b"\xff\xfename = 'x'\n"),
    "not utf-8 json": Case("not UTF-8", text=b'{"name": "\xe9t\xe9"}', suffix=".json"),
    "latin-1 comment": Case("not UTF-8", text=BASE_TOML.encode() + b"# caf\xe9\n"),
    "toml syntax": Case("not valid TOML", text="name = 'x'\n[data\nbuiltin = 'iris'\n"),
    "toml duplicate key": Case("not valid TOML", text="name = 'again'\n" + BASE_TOML),
    "json syntax": Case("not valid JSON", text='{"name": "x",}', suffix=".json"),
    "json huge integer": Case("not valid JSON", text='{"name": ' + "9" * 5000 + "}",
                              suffix=".json"),
    "json nested deeply": Case("nested too deeply", text="[" * 100_000, suffix=".json"),
    "toml nested deeply": Case("nested too deeply",
                               text="x = " + "[" * 100_000 + "]" * 100_000 + "\n"),
    "json array": Case("the spec must be a table", text="[1, 2]", suffix=".json"),
    "json string": Case("the spec must be a table", text='"spec"', suffix=".json"),
    "empty file": Case("missing [data] section", text=""),
    "huge file": Case("larger than 10 MB", text="# " + "x" * (10 * 2**20) + "\n"),
    # ----- top level -----------------------------------------------------------------------
    "misspelt search": toml("serch: unknown key (did you mean 'search'?)", serch={}),
    "misspelt estimator": toml("did you mean 'estimator'", estimater={"class": "x"}),
    "unknown top key": toml("version: unknown key", version=2),
    "no data": toml("missing [data] section", data=DELETE),
    "no estimator": toml("missing [estimator] section", estimator=DELETE),
    "no space": toml("missing [space] section", space=DELETE),
    "name number": toml("name: expected a string", name=5),
    "name empty": toml("name: empty", name="  "),
    "name two lines": js("name:", name="two\nlines"),
    "name too long": toml("name:", name="x" * 5000),
    "name surrogate": js("name: '\\ud800' is not valid Unicode", name="\ud800"),
    # ----- [data] --------------------------------------------------------------------------
    "data string": toml("data: expected a table", data="iris"),
    "data empty": toml("data: give exactly one of", data={}),
    "data both": toml("data: give exactly one of", data={"builtin": "iris", "csv": "x.csv",
                                                        "target": "y"}),
    "unknown builtin": toml("data.builtin: unknown dataset 'mnist'", data__builtin="mnist"),
    "builtin number": toml("data.builtin: expected a string", data__builtin=3),
    "builtin with target": toml("data.target: only a CSV", data__target="y"),
    "csv without target": toml("data.target: a CSV needs", data={"csv": "six.csv"}),
    "csv empty path": toml("data.csv: '' is not a file path", data={"csv": "", "target": "y"}),
    "csv number": toml("data.csv: expected a string", data={"csv": 5, "target": "y"}),
    "csv nul": js("data.csv:", data={"csv": "a\x00b.csv", "target": "y"}),
    "target empty": toml("data.target: empty", data={"csv": "six.csv", "target": ""}),
    "target number": toml("data.target: expected a string",
                          data={"csv": "six.csv", "target": 1}),
    "misspelt target": toml("data.tagret: unknown key (did you mean 'target'?)",
                            data={"csv": "six.csv", "tagret": "y"}),
    "csv not found": toml("CSV file not found", data={"csv": "nope.csv", "target": "y"}),
    "csv is a folder": toml("is a folder", data={"csv": "folder", "target": "y"}),
    "csv empty file": toml("is empty", data={"csv": "empty.csv", "target": "y"}),
    "target not a column": toml("target column 'label' is not in",
                                data={"csv": "six.csv", "target": "label"}),
    # ----- [estimator] ---------------------------------------------------------------------
    "estimator string": toml("estimator: expected a table", estimator="sklearn.svm.SVC"),
    "estimator no class": toml("estimator.class: missing", estimator={}),
    "class number": toml("estimator.class: expected a string", estimator__class=5),
    "class not dotted": toml("not a dotted class path", estimator__class="SVC"),
    "class empty": toml("not a dotted class path", estimator__class=""),
    "class misspelt": toml("has no class 'DecisionTreeClassifer'",
                           estimator__class="sklearn.tree.DecisionTreeClassifer"),
    "module missing": toml("cannot import module 'sklearn.nosuch'",
                           estimator__class="sklearn.nosuch.Thing"),
    "class outside sklearn": toml("--allow-package os", estimator__class="os.path.join"),
    "numpy class": toml("--allow-package numpy", estimator__class="numpy.ndarray"),
    "not an estimator": toml("not a scikit-learn estimator",
                             estimator__class="sklearn.model_selection.KFold"),
    "allowed but missing": Case("cannot import module 'mypkg.models'",
                                toml=changed(estimator__class="mypkg.models.Evil"),
                                extra=("--allow-package", "mypkg")),
    "misspelt class key": toml("estimator.clas: unknown key (did you mean 'class'?)",
                               estimator={"clas": "sklearn.svm.SVC"}),
    "fixed not a table": toml("estimator.fixed: expected a table", estimator__fixed=5),
    "fixed unknown param": toml("estimator.fixed.max_dept: DecisionTreeClassifier has no "
                                "parameter 'max_dept' (did you mean 'max_depth'?)",
                                estimator__fixed={"max_dept": 3}),
    "fixed empty name": js("estimator.fixed: a parameter needs a name",
                           estimator__fixed={"": 1}),
    "fixed nan": toml("estimator.fixed.min_impurity_decrease: nan is not a finite number",
                      estimator__fixed={"min_impurity_decrease": float("nan")}),
    "fixed date": Case("estimator.fixed.random_state: expected a number",
                       text=BASE_TOML.replace("[estimator]\n",
                                              "[estimator]\nfixed = { random_state = "
                                              "1979-05-27 }\n")),
    "fixed huge int": toml("estimator.fixed.random_state: 1180591620717411303424 does not fit",
                           estimator__fixed={"random_state": 2**70}),
    "fixed nested too deep": toml("nested more than 32 levels deep",
                                  estimator__fixed={"class_weight": deep(40)}),
    # ----- [[space]] -----------------------------------------------------------------------
    "space empty list": toml("space: give at least one", space=[]),
    "space string": toml("space: give at least one", space="max_depth"),
    "space number in list": toml("space[0]: expected a table", space=[5]),
    "empty sub-space": toml("space[0]: empty sub-space", space=[{}]),
    "unknown parameter": toml("space[0].max_dept: DecisionTreeClassifier has no parameter "
                              "'max_dept' (did you mean 'max_depth'?)",
                              space=sub(max_dept=[1, 2])),
    "parameter empty name": js("space[0]: a parameter needs a name", space=sub(**{"": [1]})),
    "value string": toml("space[0].max_depth: expected a list of values",
                         space=sub(max_depth="ten")),
    "value number": toml("to pin one value put it in [estimator] fixed", space=sub(max_depth=3)),
    "value empty list": toml("space[0].max_depth: empty list", space=sub(max_depth=[])),
    "range no high": toml("space[0].max_depth: a range needs both `low` and `high`",
                          space=sub(max_depth={"low": 1})),
    "range reversed": toml("space[0].max_depth: low (9) is greater than high (2); swap them",
                           space=sub(max_depth={"low": 9, "high": 2})),
    "range low string": toml("space[0].max_depth.low: expected a number",
                             space=sub(max_depth={"low": "1", "high": 5})),
    "range high boolean": toml("space[0].max_depth.high: expected a number, got True",
                               space=sub(max_depth={"low": 1, "high": True})),
    "range inf": toml("space[0].ccp_alpha.high: expected a finite number, got inf",
                      space=sub(ccp_alpha={"low": 0.0, "high": float("inf"), "num": 3})),
    "range nan": toml("space[0].ccp_alpha.low: expected a finite number, got nan",
                      space=sub(ccp_alpha={"low": float("nan"), "high": 1.0, "num": 3})),
    "json range 1e400": Case("space[0].max_depth.high: expected a finite number",
                             text=json.dumps(BASE).replace('"max_depth": [1, 2]',
                                                           '"max_depth": {"low": 1, '
                                                           '"high": 1e400}'), suffix=".json"),
    "json range huge int": Case("space[0].max_depth.high: 1000", suffix=".json",
                                text=json.dumps(BASE).replace(
                                    '"max_depth": [1, 2]',
                                    '"max_depth": {"low": 1, "high": 1' + "0" * 400 + "}")),
    "range int 1e20": toml("too large for a whole number",
                           space=sub(max_depth={"low": 1, "high": 10**20})),
    "log from zero": toml("space[0].ccp_alpha: a log range needs low > 0",
                          space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "log": True, "num": 3})),
    "log not boolean": toml("space[0].ccp_alpha.log: expected true or false",
                            space=sub(ccp_alpha={"low": 0.1, "high": 1.0, "log": "yes"})),
    "num zero": toml("space[0].ccp_alpha.num: expected a whole number ≥ 1",
                     space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "num": 0})),
    "num float": toml("space[0].ccp_alpha.num: expected a whole number",
                      space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "num": 2.5})),
    "num boolean": toml("space[0].ccp_alpha.num: expected a whole number",
                        space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "num": True})),
    "num 2e9": toml("space[0].ccp_alpha.num: 2000000000 is more than 1,000,000",
                    space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "num": 2_000_000_000})),
    "step zero": toml("space[0].max_depth.step: expected a number > 0",
                      space=sub(max_depth={"low": 1, "high": 5, "step": 0})),
    "step negative": toml("space[0].ccp_alpha.step: expected a number > 0",
                          space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "step": -0.1})),
    "step string": toml("space[0].max_depth.step: expected a number",
                        space=sub(max_depth={"low": 1, "high": 5, "step": "1"})),
    "num and step": toml("space[0].max_depth: give `num` or `step`, not both",
                         space=sub(max_depth={"low": 1, "high": 5, "num": 2, "step": 1})),
    "step over 1e308": toml("space[0].ccp_alpha: the range [-1e+308, 1e+308] is too wide",
                            space=sub(ccp_alpha={"low": -1e308, "high": 1e308, "step": 1.0})),
    "tiny step": toml("space[0].ccp_alpha.step: 1e-08 over [0, 1] makes more than 1,000,000",
                      space=sub(ccp_alpha={"low": 0.0, "high": 1.0, "step": 1e-8})),
    "misspelt range key": toml("space[0].max_depth.hihg: unknown key (did you mean 'high'?)",
                               space=sub(max_depth={"low": 1, "hihg": 5})),
    "int range 1e10 grid": toml("space[0].max_depth: grid search over [1, 10000000000] would "
                                "try 10,000,000,000 values",
                                space=sub(max_depth={"low": 1, "high": 10**10})),
    "float range grid no num": toml("space[0].ccp_alpha: grid search needs `num`",
                                    space=sub(ccp_alpha={"low": 0.0, "high": 1.0})),
    "grid too many candidates": toml("space[0]: grid search over this sub-space would try "
                                     "1,002,001 candidates",
                                     space=sub(max_depth={"low": 1, "high": 1001},
                                               min_samples_leaf={"low": 1, "high": 1001})),
    "grid sub-spaces add up": toml("space: grid search would try 1,200,000 candidates",
                                   space=[{"max_depth": {"low": 1, "high": 600_000}},
                                          {"max_leaf_nodes": {"low": 2, "high": 600_001}}]),
    "values nan": js("space[0].ccp_alpha[1]: nan is not a finite number",
                     space=sub(ccp_alpha=[0.0, float("nan")])),
    "values inf": toml("space[0].ccp_alpha[0]: inf is not a finite number",
                       space=sub(ccp_alpha=[float("inf")])),
    "values surrogate": js("space[0].criterion[0]: '\\udc80' is not valid Unicode",
                           space=sub(criterion=["\udc80"])),
    "values huge int": toml("space[0].max_depth[0]: 36893488147419103232 does not fit",
                            space=sub(max_depth=[2**65])),
    "values nested too deep": toml("nested more than 32 levels deep",
                                   space=sub(max_depth=deep(40))),
    # ----- [cv] ----------------------------------------------------------------------------
    "cv number": toml("cv: expected a table", cv=5),
    "folds one": toml("cv.folds: expected a whole number ≥ 2, got 1", cv__folds=1),
    "folds zero": toml("cv.folds: expected a whole number ≥ 2, got 0", cv__folds=0),
    "folds negative": toml("cv.folds: expected a whole number ≥ 2, got -3", cv__folds=-3),
    "folds float": toml("cv.folds: expected a whole number ≥ 2, got 2.5", cv__folds=2.5),
    "folds boolean": toml("cv.folds: expected a whole number ≥ 2, got True", cv__folds=True),
    "folds string": toml("cv.folds: expected a whole number ≥ 2, got '5'", cv__folds="5"),
    "folds huge": toml("cv.folds: 100000 is more than 1,000", cv__folds=100_000),
    "shuffle string": toml("cv.shuffle: expected true or false", cv__shuffle="yes"),
    "cv seed negative": toml("cv.seed: expected a whole number ≥ 0, got -1", cv__seed=-1),
    "cv seed huge": toml("cv.seed: 1099511627776 is more than 4,294,967,295", cv__seed=2**40),
    "cv seed float": toml("cv.seed: expected a whole number ≥ 0, got 1.5", cv__seed=1.5),
    "misspelt folds": toml("cv.fold: unknown key (did you mean 'folds'?)", cv={"fold": 3}),
    "folds exceed rows": toml("cv.folds = 10 but the data has only 6 rows; use at most 6 folds",
                              data={"csv": "six.csv", "target": "y"}, cv__folds=10),
    "folds exceed smallest class": toml("cv.folds = 60 but the smallest class 0 has 50 "
                                        "members; use at most 50 folds", cv__folds=60),
    "class with one member": toml("data: the class 'z' has a single member",
                                  data={"csv": "lonely.csv", "target": "y"}),
    "single class": toml("data: the target has a single class 'x'",
                         data={"csv": "one-class.csv", "target": "y"}),
    # ----- [scoring] -----------------------------------------------------------------------
    "unknown metric": toml("scoring.metric: unknown scorer 'acuracy' (did you mean "
                           "'accuracy'?)", scoring={"metric": "acuracy"}),
    "metric number": toml("scoring.metric: expected a string", scoring={"metric": 5}),
    "metric empty": toml("scoring.metric: empty", scoring={"metric": ""}),
    "train_score string": toml("scoring.train_score: expected true or false",
                               scoring={"train_score": "yes"}),
    "scoring number": toml("scoring: expected a table", scoring=5),
    "misspelt metric key": toml("scoring.metrc: unknown key (did you mean 'metric'?)",
                                scoring={"metrc": "accuracy"}),
    # ----- [search] ------------------------------------------------------------------------
    "unknown strategy": toml("search.strategy: 'genetic' is not one of grid, random, bayes",
                             search__strategy="genetic"),
    "strategy number": toml("search.strategy: 5 is not one of", search__strategy=5),
    "strategy list": toml("search.strategy: ['grid'] is not one of", search__strategy=["grid"]),
    "n_trials zero": toml("search.n_trials: expected a whole number ≥ 1, got 0",
                          search__n_trials=0),
    "n_trials negative": toml("search.n_trials: expected a whole number ≥ 1, got -5",
                              search__n_trials=-5),
    "n_trials beyond sqlite": toml("search.n_trials: 9223372036854775808 is more than "
                                   "1,000,000", search__n_trials=2**63,
                                   search__strategy="random"),
    "n_trials float": toml("search.n_trials: expected a whole number ≥ 1, got 1.5",
                           search__n_trials=1.5),
    "n_trials boolean": toml("search.n_trials: expected a whole number ≥ 1, got True",
                             search__n_trials=True),
    "search seed negative": toml("search.seed: expected a whole number ≥ 0, got -1",
                                 search__seed=-1),
    "search seed huge": toml("search.seed: 4294967296 is more than 4,294,967,295",
                             search__seed=2**32),
    "patience zero": toml("search.patience: expected a whole number ≥ 1, got 0",
                          search__patience=0),
    "patience boolean": toml("search.patience: expected a whole number ≥ 1, got True",
                             search__patience=True),
    "time_limit zero": toml("search.time_limit: expected seconds > 0, got 0",
                            search__time_limit=0),
    "time_limit negative": toml("search.time_limit: expected seconds > 0, got -5",
                                search__time_limit=-5),
    "time_limit inf": toml("search.time_limit: expected a finite number, got inf",
                           search__time_limit=float("inf")),
    "time_limit nan": toml("search.time_limit: expected a finite number, got nan",
                           search__time_limit=float("nan")),
    "json time_limit 1e400": Case("search.time_limit: expected a finite number",
                                  text=json.dumps(changed(search__time_limit=1.0)).replace(
                                      "1.0", "1e400"), suffix=".json"),
    "json time_limit huge int": Case("search.time_limit: 1000", suffix=".json",
                                     text=json.dumps(changed(search__time_limit=1.0)).replace(
                                         "1.0", "1" + "0" * 400)),
    "time_limit ten years": toml("search.time_limit: 3.1536e+08 s is more than a year",
                                 search__time_limit=315_360_000),
    "time_limit string": toml("search.time_limit: expected seconds, got '10s'",
                              search__time_limit="10s"),
    "time_limit boolean": toml("search.time_limit: expected seconds, got True",
                               search__time_limit=True),
    "unknown surrogate": toml("search.surrogate: 'XGB' is not one of", search__surrogate="XGB"),
    "unknown acquisition": toml("search.acquisition: 'UCB' is not one of",
                                search__acquisition="UCB"),
    "initial_points zero": toml("search.initial_points: expected a whole number ≥ 1",
                                search__initial_points=0),
    "unknown generator": toml("search.initial_generator: 'grid' is not one of",
                              search__initial_generator="grid"),
    "misspelt n_trials": toml("search.n_trial: unknown key (did you mean 'n_trials'?)",
                              search__n_trial=5),
    "search array": toml("search: expected a table", search=[1]),
    # ----- command-line arguments ----------------------------------------------------------
    "unknown command": cli("invalid choice: 'frob'", "frob"),
    "run without spec": cli("the following arguments are required: spec", "run"),
    "unknown option": cli("unrecognized arguments: --frob", "studies", "--frob"),
    "jobs zero": cli("--jobs: expected a number of worker processes from 1 to 1024, got 0",
                     "run", "{tmp}/nope.toml", "--jobs", "0"),
    "jobs negative": cli("--jobs:", "demo", "--jobs", "-1"),
    "jobs text": cli("argument --jobs/-j: invalid int value: 'abc'", "demo", "--jobs", "abc"),
    "jobs huge": cli("--jobs:", "demo", "-j", "100000"),
    "cluster bogus": cli("--cluster bogus: not a scheduler address", "demo", "--cluster",
                         "bogus"),
    "cluster local zero": cli("--cluster local:0: expected local:N", "demo", "--cluster",
                              "local:0"),
    "top negative": cli("--top: expected a number of rows ≥ 0", "show", "1", "--top", "-1"),
    "top text": cli("argument --top: invalid int value", "show", "1", "--top", "x"),
    "export nothing": cli("export: give -o FILE", "export", "1"),
    "export trial negative": cli("--trial: expected a trial number ≥ 0", "export", "1", "-o",
                                 "{tmp}/p.json", "--trial", "-1"),
    "export format": cli("argument --format: invalid choice: 'yaml'", "export", "1",
                         "--format", "yaml"),
    "trials without csv": cli("the following arguments are required: --csv", "trials", "1"),
    "show unknown study": cli("no study 'nosuch'", "show", "nosuch"),
    "resume unknown study": cli("no study 'nosuch'", "resume", "nosuch"),
    "trials unknown study": cli("no study '7'", "trials", "7", "--csv", "{tmp}/t.csv"),
    "export unknown study": cli("no study 'nosuch'", "export", "nosuch", "-o", "{tmp}/p.json"),
    "export no trials yet": cli("the study has no successful trial to export yet", "export",
                                "bad", "-o", "{tmp}/p.json", setup=a_study_without_trials),
    "csv into missing folder": cli("--csv: the folder {tmp}/missing does not exist", "trials",
                                   "1", "--csv", "{tmp}/missing/t.csv"),
    "csv onto a folder": cli("--csv: {tmp} is a folder", "trials", "1", "--csv", "{tmp}"),
    "csv under a file": cli("--csv: {tmp}/file.txt is a file, not a folder", "trials", "1",
                            "--csv", "{tmp}/file.txt/t.csv"),
    "params into missing folder": cli("-o: the folder {tmp}/missing does not exist", "export",
                                      "1", "-o", "{tmp}/missing/p.json"),
    "params onto a folder": cli("-o: {tmp} is a folder", "export", "1", "-o", "{tmp}"),
    "model into missing folder": cli("--model: the folder {tmp}/a does not exist (nor "
                                     "{tmp}/a/b)", "export", "1", "--model",
                                     "{tmp}/a/b/m.skops"),
    "model onto a folder": cli("--model: {tmp} is a folder", "export", "1", "--model",
                               "{tmp}"),
    "screenshot into missing folder": cli("--screenshot: the folder {tmp}/missing does not "
                                          "exist", "gui", "--screenshot",
                                          "{tmp}/missing/s.png"),
    "history is a folder": cli("is a folder", "studies", "--db", "{tmp}"),
    "history under a file": cli("cannot open history", "studies", "--db",
                                "{tmp}/file.txt/h.db"),
}


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 100


@pytest.fixture
def no_worker_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad input must be refused before any worker process starts."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a worker pool was started for a bad input")

    monkeypatch.setattr("hpstudio.core.executor.LocalExecutor.start", refuse)
    monkeypatch.setattr("hpstudio.core.cluster.DaskExecutor.__init__", refuse)


def run_main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own errors exit from inside parse_args
        return int(stop.code or 0)


@pytest.mark.usefixtures("no_worker_pool")
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_gives_one_clear_line_and_status_2(case: Case, tmp_path: Path, capsys,
                                                      db_path: Path) -> None:
    for name, content in CSV_FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("not a folder\n")
    if case.setup is not None:
        case.setup(tmp_path)
    argv = case.command(tmp_path)
    code = run_main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("hpstudio: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert case.fragment.replace("{tmp}", str(tmp_path)) in err
    if argv[0] == "run":
        with HistoryStore(db_path) as store:
            assert store.list_studies() == []  # refused before a study was created


# ----- valid specs that fail only when fitted -------------------------------------------------

FIT_TIME_FAILURES = [
    (sub(criterion=["gini", "bogus"]), {}, 1, "criterion"),
    (sub(max_depth=[2, -1]), {}, 1, "max_depth"),
    (sub(max_depth=[2, 3]), {"splitter": "sideways"}, 2, "splitter"),
    (sub(min_samples_split=[2, 1.5]), {}, 1, "min_samples_split"),
]


def test_values_rejected_only_at_fit_time_fail_their_trials(tmp_path: Path, capsys,
                                                              db_path: Path) -> None:
    for number, (space, fixed, n_failed, parameter) in enumerate(FIT_TIME_FAILURES, 1):
        spec = tmp_path / f"fit{number}.toml"
        spec.write_text(tomli_w.dumps(changed(name=f"fit{number}", space=space,
                                              estimator__fixed=fixed)))
        code = run_main(["run", str(spec), "--jobs", "1", "-q"])
        out = capsys.readouterr().out
        assert code == 0
        assert f"{2 - n_failed} complete, {n_failed} failed" in out
        with HistoryStore(db_path) as store:
            trials = store.load_trials(number)
        failed = [t for t in trials if not t.ok]
        assert len(failed) == n_failed
        assert all(parameter in (t.error or "") for t in failed)

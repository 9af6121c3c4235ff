"""A pasted param_grid becomes the same search space scikit-learn would enumerate, and
anything outside the small language is refused by line and column without running code."""

from __future__ import annotations

import ast
import importlib
import math
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.decomposition import NMF, PCA
from sklearn.feature_selection import SelectKBest, mutual_info_classif
from sklearn.model_selection import ParameterGrid

import hpstudio.core.paste as paste
from hpstudio.core.errors import SpecError
from hpstudio.core.estimators import resolve_estimator_class
from hpstudio.core.paste import parse_param_grid
from hpstudio.core.space import FloatRange, IntRange, Values, iter_grid
from hpstudio.core.spec import StudySpec
from hpstudio.demo import demo_spec_path


def materialise(value: Any) -> Any:
    """The Python object an estimator or function value stands for (what a study would build)."""
    if isinstance(value, dict) and set(value) == {"class", "fixed"}:
        cls = resolve_estimator_class(value["class"])
        return cls(**{name: materialise(v) for name, v in value["fixed"].items()})
    if isinstance(value, dict) and set(value) == {"function"}:
        module, _, name = value["function"].rpartition(".")
        return getattr(importlib.import_module(module), name)
    if isinstance(value, list | tuple):
        return type(value)(materialise(v) for v in value)
    return value


def same(ours: Any, theirs: Any) -> bool:
    if isinstance(theirs, BaseEstimator):
        return type(ours) is type(theirs) and same(ours.get_params(deep=False),
                                                   theirs.get_params(deep=False))
    if isinstance(theirs, dict):
        return set(ours) == set(theirs) and all(same(ours[k], theirs[k]) for k in theirs)
    if isinstance(theirs, list | tuple):
        return type(ours) is type(theirs) and len(ours) == len(theirs) and all(
            same(a, b) for a, b in zip(ours, theirs, strict=True))
    if callable(theirs):
        return ours is theirs
    return type(ours) is type(theirs.item() if isinstance(theirs, np.generic) else theirs) \
        and ours == theirs


def assert_same_candidates(text: str, original: Any) -> None:
    pasted = [{name: materialise(v) for name, v in params.items()}
              for _, params in iter_grid(parse_param_grid(text))]
    expected = list(ParameterGrid(original))
    assert len(pasted) == len(expected)
    for ours, theirs in zip(pasted, expected, strict=True):
        assert same(ours, theirs), (ours, theirs)


# ----- the README's worked example and gallery examples ---------------------------------------


README_GRID = """[{'n_estimators': [3, 10, 30], 'max_features': [2, 4, 6, 8]},
 {'bootstrap': [False], 'n_estimators': [3, 10], 'max_features': [2, 3, 4]}]"""


def test_readme_worked_example_gives_the_demo_spec_space_and_gridsearch_candidates():
    demo = StudySpec.from_file(demo_spec_path())
    assert parse_param_grid(README_GRID) == demo.space
    assert_same_candidates(README_GRID, [
        {"n_estimators": [3, 10, 30], "max_features": [2, 4, 6, 8]},
        {"bootstrap": [False], "n_estimators": [3, 10], "max_features": [2, 3, 4]},
    ])


def test_grid_search_digits_svc_grid_gives_the_same_candidates():
    text = """
    tuned_parameters = [
        {"kernel": ["rbf"], "gamma": [1e-3, 1e-4], "C": [1, 10, 100, 1000]},
        {"kernel": ["linear"], "C": [1, 10, 100, 1000]},
    ]
    """
    assert_same_candidates(text, [
        {"kernel": ["rbf"], "gamma": [1e-3, 1e-4], "C": [1, 10, 100, 1000]},
        {"kernel": ["linear"], "C": [1, 10, 100, 1000]},
    ])
    spec = StudySpec.from_dict({"data": {"builtin": "digits"},
                                "estimator": {"class": "sklearn.svm.SVC"},
                                "space": [{"C": [1]}]})
    spec = StudySpec(spec.name, spec.data, spec.estimator, parse_param_grid(text))
    assert spec.planned_trials() == 12
    spec.validate()


COMPARE_REDUCTION = """
from sklearn.decomposition import NMF, PCA
from sklearn.feature_selection import SelectKBest, mutual_info_classif
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC

pipe = Pipeline(
    [
        ("scaling", MinMaxScaler()),
        # the reduce_dim stage is populated by the param_grid
        ("reduce_dim", "passthrough"),
        ("classify", LinearSVC(dual=False, max_iter=10000)),
    ]
)

N_FEATURES_OPTIONS = [2, 4, 8]
C_OPTIONS = [1, 10, 100, 1000]
param_grid = [
    {
        "reduce_dim": [PCA(iterated_power=7), NMF(max_iter=1_000)],
        "reduce_dim__n_components": N_FEATURES_OPTIONS,
        "classify__C": C_OPTIONS,
    },
    {
        "reduce_dim": [SelectKBest(mutual_info_classif)],
        "reduce_dim__k": N_FEATURES_OPTIONS,
        "classify__C": C_OPTIONS,
    },
]
reduce_dim_labels = ["PCA", "NMF", "KBest(mutual_info_classif)"]
"""


def test_compare_reduction_grid_with_constants_estimators_and_a_function():
    subspaces = parse_param_grid(COMPARE_REDUCTION)
    assert subspaces[0]["reduce_dim"] == Values((
        {"class": "sklearn.decomposition.PCA", "fixed": {"iterated_power": 7}},
        {"class": "sklearn.decomposition.NMF", "fixed": {"max_iter": 1000}},
    ))
    assert subspaces[1]["reduce_dim"] == Values(({
        "class": "sklearn.feature_selection.SelectKBest",
        "fixed": {"score_func": {"function": "sklearn.feature_selection.mutual_info_classif"}},
    },))
    n_features, c_options = [2, 4, 8], [1, 10, 100, 1000]
    assert_same_candidates(COMPARE_REDUCTION, [
        {"reduce_dim": [PCA(iterated_power=7), NMF(max_iter=1_000)],
         "reduce_dim__n_components": n_features, "classify__C": c_options},
        {"reduce_dim": [SelectKBest(mutual_info_classif)],
         "reduce_dim__k": n_features, "classify__C": c_options},
    ])


def test_a_name_the_paste_does_not_define_is_named_with_its_place():
    text = 'param_grid = {\n    "reduce_dim__k": N_FEATURES_OPTIONS,\n}'
    with pytest.raises(SpecError, match=r"^line 2, col 22: cannot read name "
                                        r"`N_FEATURES_OPTIONS`: define it"):
        parse_param_grid(text)


def test_text_feature_extraction_grid_of_tuples_and_logspace():
    text = """
    parameter_grid = {
        "vect__max_df": (0.2, 0.4, 0.6, 0.8, 1.0),
        "vect__min_df": (1, 3, 5, 10),
        "vect__ngram_range": ((1, 1), (1, 2)),  # unigrams or bigrams
        "vect__norm": ("l1", "l2"),
        "clf__alpha": np.logspace(-6, 6, 13),
    }
    """
    assert_same_candidates(text, {
        "vect__max_df": (0.2, 0.4, 0.6, 0.8, 1.0), "vect__min_df": (1, 3, 5, 10),
        "vect__ngram_range": ((1, 1), (1, 2)), "vect__norm": ("l1", "l2"),
        "clf__alpha": np.logspace(-6, 6, 13),
    })


# ----- the language ---------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "expected"), [
    ("np.logspace(-3, 3, 7)", np.logspace(-3, 3, 7)),
    ("np.logspace(-4, 0, 9, base=2)", np.logspace(-4, 0, 9, base=2)),
    ("numpy.linspace(0.1, 1, 10)", np.linspace(0.1, 1, 10)),
    ("np.linspace(0, 1, 4, endpoint=False)", np.linspace(0, 1, 4, endpoint=False)),
    ("np.geomspace(1e-3, 1e3, 5)", np.geomspace(1e-3, 1e3, 5)),
    ("np.arange(0.1, 1, 0.1)", np.arange(0.1, 1, 0.1)),
    ("np.arange(2, 20, 3)", np.arange(2, 20, 3)),
    ("np.arange(5)", np.arange(5)),
    ("np.linspace(1, 10, 4, dtype=int)", np.linspace(1, 10, 4, dtype=int)),
    ("np.round(np.linspace(0, 1, 7), 2)", np.round(np.linspace(0, 1, 7), 2)),
    ("np.logspace(-2, 2, 5).tolist()", np.logspace(-2, 2, 5)),
    ("list(np.logspace(-2, 2, 5))", np.logspace(-2, 2, 5)),
    ("np.array([1, 2.5, 10])", np.array([1, 2.5, 10])),
])
def test_numpy_spacing_gives_exactly_numpys_values(call, expected):
    (sub,) = parse_param_grid(f"import numpy as np\n{{'alpha': {call}}}")
    values = sub["alpha"].values
    assert values == tuple(expected.tolist())
    assert [type(v) for v in values] == [type(v) for v in expected.tolist()]


@pytest.mark.parametrize(("text", "expected"), [
    ("{'d': range(1, 10, 2)}", Values((1, 3, 5, 7, 9))),
    ("{'d': list(range(3)) + [None]}", Values((0, 1, 2, None))),
    ("{'d': [*range(2), 'x']}", Values((0, 1, "x"))),
    ("{'a': [10**-3, 1e-3, 2*3, -1, +2, 7 // 2, 1_000]}", Values((1e-3, 1e-3, 6, -1, 2, 3, 1000))),
    ("{'ngram_range': [(1, 1), (1, 2)], 'w': [None, {0: 1, 1: 5}, 'balanced']}", None),
    ("{'b': [True, False, None]}", Values((True, False, None))),
    ("{'x': [np.inf, -math.inf, float('nan')]}", None),
])
def test_literals_ranges_and_arithmetic(text, expected):
    (sub,) = parse_param_grid(text)
    if expected is not None:
        assert next(iter(sub.values())) == expected
        assert [type(v) for v in next(iter(sub.values())).values] == \
            [type(v) for v in expected.values]
    elif "ngram_range" in sub:
        assert sub["ngram_range"] == Values(((1, 1), (1, 2)))
        assert sub["w"] == Values((None, {0: 1, 1: 5}, "balanced"))
    else:
        values = sub["x"].values
        assert values[0] == math.inf and values[1] == -math.inf and math.isnan(values[2])


@pytest.mark.parametrize("text", [
    "param_grid = dict(C=[1, 10], kernel=['rbf'])",
    "dict(C=[1, 10], kernel=['rbf'])",
    "{'C': [1, 10], 'kernel': ['rbf']}",
    "    param_grid = {\n        'C': [1, 10],\n        'kernel': ['rbf'],\n    }\n",
    "param_grid: dict = {'C': [1, 10], 'kernel': ('rbf',)}",
    "{'C': [1, 10], 'kernel': ['rbf']},",
    "Cs = [1, 10]\nparam_grid = {'C': Cs, 'kernel': ['rbf']}\n"
    "search = GridSearchCV(SVC(), param_grid)\nsearch.fit(X, y)",
])
def test_the_usual_ways_of_writing_one_grid(text):
    assert parse_param_grid(text) == ({"C": Values((1, 10)), "kernel": Values(("rbf",))},)


def test_estimator_constructors_resolve_through_scikit_learns_catalogue():
    (sub,) = parse_param_grid(
        "{'step': [PCA(n_components=5), SVC(), sklearn.decomposition.NMF(max_iter=1000),"
        " sklearn.svm._classes.LinearSVC(C=0.5), 'passthrough', None]}")
    assert sub["step"].values == (
        {"class": "sklearn.decomposition.PCA", "fixed": {"n_components": 5}},
        {"class": "sklearn.svm.SVC", "fixed": {}},
        {"class": "sklearn.decomposition.NMF", "fixed": {"max_iter": 1000}},
        {"class": "sklearn.svm.LinearSVC", "fixed": {"C": 0.5}},
        "passthrough",
        None,
    )


def test_estimators_inside_estimators_and_function_values():
    (sub,) = parse_param_grid(
        "{'est': [BaggingClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=5)],"
        " 'score_func': [f_classif, sklearn.feature_selection.chi2]}")
    (bagging,) = sub["est"].values
    assert bagging == {"class": "sklearn.ensemble.BaggingClassifier", "fixed": {
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"max_depth": 3}},
        "n_estimators": 5}}
    from sklearn.feature_selection import chi2, f_classif

    assert [materialise(v) for v in sub["score_func"].values] == [f_classif, chi2]


def test_the_pastes_imports_name_classes_and_distributions():
    (sub,) = parse_param_grid("""
        from scipy.stats import loguniform as log_u
        from sklearn import decomposition as dec
        import scipy.stats
        {'C': log_u(1, 100), 'r': [dec.PCA()], 'u': scipy.stats.uniform(0, 2)}
    """)
    assert sub["C"] == FloatRange(1.0, 100.0, log=True)
    assert sub["r"].values == ({"class": "sklearn.decomposition.PCA", "fixed": {}},)
    assert sub["u"] == FloatRange(0.0, 2.0)


# ----- distributions ------------------------------------------------------------------------


def test_randomized_search_distributions_become_equivalent_ranges():
    text = """
    from scipy.stats import randint as sp_randint
    param_dist = {
        "average": [True, False],
        "l1_ratio": stats.uniform(0, 1),
        "alpha": stats.loguniform(1e-2, 1e0),
        "max_depth": [3, None],
        "max_features": sp_randint(1, 11),
        "min_samples_split": randint(2, 11),
        "gamma": reciprocal(1e-4, 1e-1),
        "shift": uniform(loc=0.5, scale=2),
        "offset": randint(0, 3, loc=10),
    }
    """
    (sub,) = parse_param_grid(text)
    originals = {
        "l1_ratio": stats.uniform(0, 1), "alpha": stats.loguniform(1e-2, 1e0),
        "max_features": stats.randint(1, 11), "min_samples_split": stats.randint(2, 11),
        "gamma": stats.reciprocal(1e-4, 1e-1), "shift": stats.uniform(loc=0.5, scale=2),
        "offset": stats.randint(0, 3, loc=10),
    }
    for name, dist in originals.items():
        dim = sub[name]
        low, high = dist.support()
        assert (dim.low, dim.high) == (low, high), name
        if isinstance(dim, IntRange):  # every integer of the range, and only those, can be drawn
            assert all(dist.pmf(v) > 0 for v in range(dim.low, dim.high + 1))
            assert dist.pmf(dim.low - 1) == 0 and dist.pmf(dim.high + 1) == 0
        else:  # the middle of the range in the range's own scale is scipy's median
            middle = math.sqrt(low * high) if dim.log else (low + high) / 2
            assert dist.cdf(middle) == pytest.approx(0.5)
    assert sub["alpha"].log and sub["gamma"].log and not sub["l1_ratio"].log
    assert isinstance(sub["max_features"], IntRange) and sub["max_features"].high == 10
    assert sub["average"] == Values((True, False))


def test_skopt_dimensions_become_ranges():
    (sub,) = parse_param_grid(
        "{'C': Real(1e-6, 1e+6, prior='log-uniform'), 'degree': Integer(1, 8),"
        " 'kernel': Categorical(['linear', 'poly', 'rbf']), 'n': skopt.space.Integer(2, 64,"
        " prior='log-uniform')}")
    assert sub == {"C": FloatRange(1e-6, 1e6, log=True), "degree": IntRange(1, 8),
                   "kernel": Values(("linear", "poly", "rbf")),
                   "n": IntRange(2, 64, log=True)}


# ----- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("{'C': [1, 2]", "line 1, col 1: not Python syntax"),
    ("{'C': 1}", "line 1, col 7: C: `1` is one value; give a list of values such as [1]"),
    ("{'kernel': 'rbf'}", "`'rbf'` is one value"),
    ("{'C': []}", "C: empty list"),
    ("{'C': [1], 'C': [2]}", "line 1, col 12: 'C' is given twice"),
    ("{}", "empty dict"),
    ("[]", "the pasted list of sub-spaces is empty"),
    ("{'max depth': [2]}", "'max depth' is not a parameter name"),
    ("{1: [2]}", "cannot read key `1`"),
    ("{'C': loguniform(0, 1)}", "a log-uniform range needs 0 < a < b"),
    ("{'C': loguniform(1, 10, loc=2)}", "a log range has no loc or scale"),
    ("{'d': randint(5, 5)}", "randint's high is exclusive"),
    ("{'d': randint(1.5, 5)}", "randint takes whole numbers"),
    ("{'u': uniform(0, -1)}", "scale (the width) must be > 0"),
    ("{'e': [SVC(C=loguniform(1, 2))]}", "a distribution can only be a hyperparameter's whole"),
    ("{'e': [PCA(n_compnents=5)]}", "PCA has no parameter 'n_compnents' (did you mean "
                                    "'n_components'?)"),
    ("{'e': [Pca()]}", "(did you mean PCA?)"),
    ("{'e': [SVC]}", "`SVC` is a class; write SVC() to use the estimator"),
    ("{'e': [make_pipeline(PCA())]}", "make_pipeline is a function, and calling it would run"),
    ("{'e': [xgboost.XGBClassifier()]}", "--allow-package xgboost"),
    ("{'e': [sklearn.svm.SVQ()]}", "'sklearn.svm' has no class 'SVQ'"),
    ("{'e': [PCA(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)]}", "PCA takes at most"),
    ("{'C': np.logspace(0, 1, 10**9)}", "gives 1,000,000,000 values"),
    ("{'C': range(10**9)}", "gives 1,000,000,000 values"),
    ("{'C': np.arange(0, 1, 1e-300)}", "gives over a trillion values"),
    ("{'C': range(2**4000)}", "cannot read `range(2**4000)`"),
    ("{'C': np.arange(0, np.inf)}", "bounds must be finite numbers"),
    ("{'C': [2**10**10]}", "too large a number"),
    ("{'C': [1 / 0]}", "cannot compute `1 / 0`"),
    ("{'C': [10.0 ** 400]}", "cannot compute"),
    ("{'C': np.load('grid.npy')}", "of numpy only logspace, linspace"),
    ("{'C': stats.norm(0, 1)}", "of scipy.stats only uniform, loguniform (reciprocal) and"),
    ("{'C': Real(1, 2, prior='normal')}", "prior must be 'uniform' or 'log-uniform'"),
    ("A = B\nB = A\n{'C': A}", "`A` is defined in terms of itself"),
    ("[({'C': [1]}, 10)]", "as a sub-space: expected a dict of hyperparameters"),
    ("from .grids import grid\n{'C': [1]}", "import the names you use by name"),
    ("from numpy import *\n{'C': [1]}", "import the names you use by name"),
    ("", "nothing pasted"),
    ("import numpy as np", "nothing to read"),
])
def test_mistakes_are_named_with_their_place_and_the_fix(text, message):
    with pytest.raises(SpecError) as info:
        parse_param_grid(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# ----- other packages ---------------------------------------------------------------------------


@pytest.fixture
def other_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package of estimators outside scikit-learn, one of them named like scikit-learn's SVC."""
    package = tmp_path / "otherlearn"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        from sklearn.base import BaseEstimator

        class Booster(BaseEstimator):
            def __init__(self, depth=3, rate=0.1):
                self.depth, self.rate = depth, rate

            def fit(self, X, y):
                return self

        class SVC(Booster):
            pass
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "otherlearn"
    for name in [n for n in sys.modules if n.startswith("otherlearn")]:
        del sys.modules[name]


def test_classes_of_other_packages_are_read_only_when_allowed(other_package):
    text = "{'est': [otherlearn.Booster(depth=5)]}"
    with pytest.raises(SpecError, match="--allow-package otherlearn"):
        parse_param_grid(text)
    assert other_package not in sys.modules  # refused before anything was imported
    (sub,) = parse_param_grid(text, allowed_packages=[other_package])
    assert sub["est"].values == ({"class": "otherlearn.Booster", "fixed": {"depth": 5}},)
    (sub,) = parse_param_grid("{'est': [Booster(rate=0.5)]}", allowed_packages=[other_package])
    assert sub["est"].values == ({"class": "otherlearn.Booster", "fixed": {"rate": 0.5}},)


def test_a_short_name_in_two_allowed_packages_is_ambiguous(other_package):
    with pytest.raises(SpecError, match=r"SVC is ambiguous \(sklearn.svm.SVC, otherlearn.SVC\); "
                                        "write the full path"):
        parse_param_grid("{'est': [SVC()]}", allowed_packages=[other_package])
    (sub,) = parse_param_grid("{'est': [otherlearn.SVC()]}", allowed_packages=[other_package])
    assert sub["est"].values == ({"class": "otherlearn.SVC", "fixed": {}},)


# ----- nothing is executed ---------------------------------------------------------------------


MARKER = "pasted-code-ran"

UNREADABLE = [  # (text, the part the message must name)
    ("{'C': foo(3)}", "foo(3)"),
    ("{'C': [foo(3)]}", "foo(3)"),
    (f"{{'C': [open('{MARKER}', 'w')]}}", f"open('{MARKER}', 'w')"),
    (f"{{'C': [__import__('os').system('touch {MARKER}')]}}", "__import__('os').system("),
    ("{'C': __import__('os')}", "__import__('os')"),
    (f"__import__('pathlib').Path('{MARKER}').touch()", "__import__('pathlib').Path("),
    ("{'C': [eval('1 + 1')]}", "eval('1 + 1')"),
    (f"{{'C': [exec('open(\"{MARKER}\", \"w\")')]}}", "exec("),
    ("{'C': [compile('1', 'f', 'eval')]}", "compile('1', 'f', 'eval')"),
    (f"{{'C': [os.system('touch {MARKER}')]}}", f"os.system('touch {MARKER}')"),
    (f"{{'C': [subprocess.run(['touch', '{MARKER}'])]}}", "subprocess.run(["),
    ("{'C': [getattr(np, 'load')('x')]}", "getattr(np, 'load')('x')"),
    ("{'C': [np.__class__]}", "np.__class__"),
    ("{'C': [().__class__.__bases__[0]]}", "().__class__.__bases__[0]"),
    ("{'C': [model.best_params_]}", "model.best_params_"),
    ("{'C': [lambda x: x]}", "lambda x: x"),
    ("{'C': [x for x in range(3)]}", "[x for x in range(3)]"),
    ("{'C': {x: 1 for x in 'ab'}}", "{x: 1 for x in 'ab'}"),
    ("{'C': list(x for x in (1, 2))}", "x for x in (1, 2)"),
    ("{'C': [f'{1 + 1}']}", "f'{1 + 1}'"),
    ("{'C': [a[0]]}", "a[0]"),
    ("{'C': [1 if True else 2]}", "1 if True else 2"),
    ("{'C': [1 < 2]}", "1 < 2"),
    ("{'C': [(y := 3)]}", "y := 3"),
    ("{'C': [{1, 2}]}", "{1, 2}"),
    ("{'C': ['a' * 1000000000]}", "'a' * 1000000000"),
    ("{'C': [1j]}", "1j"),
    ("{'C': [b'bytes']}", "b'bytes'"),
    ("{'C': undefined_name}", "undefined_name"),
    ("{'C': [sklearn.datasets.load_iris()]}", "sklearn.datasets.load_iris()"),
    ("{'C': [SVC(**options)]}", "**options"),
    ("import os\nos.system('true')", "os.system('true')"),
    ("def grid():\n    return {'C': [1]}\ngrid()", "def grid():"),
    ("for c in [1]:\n    pass", "for c in [1]:"),
    ("with open('x') as f:\n    pass", "with open('x') as f:"),
    ("x = y = [1]\n{'C': x}", "x = y = [1]"),
    ("{'C': [1]}.update(a=1)", "{'C': [1]}.update(a=1)"),
]


@pytest.mark.parametrize(("text", "part"), UNREADABLE)
def test_unreadable_input_is_refused_with_its_place_and_nothing_runs(
        text, part, tmp_path, monkeypatch):
    ran: list[str] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "system", lambda *a, **k: ran.append("os.system"))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: ran.append("Popen"))
    with pytest.raises(SpecError) as info:
        parse_param_grid(text)
    message = str(info.value)
    assert message.startswith("line "), message
    assert part in message, message
    assert not ran and not (tmp_path / MARKER).exists() and list(tmp_path.iterdir()) == []


def test_the_reader_never_evaluates():
    """The module has no eval, exec, compile or dynamic import of a name taken from the paste."""
    tree = ast.parse(Path(paste.__file__).read_text(encoding="utf-8"))
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}
    assert "literal_eval" not in Path(paste.__file__).read_text(encoding="utf-8")

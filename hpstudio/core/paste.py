"""Reading a ``param_grid`` or ``param_distributions`` pasted from Python code.

Users have their search spaces written as Python already. The pasted text is parsed with
``ast`` and read node by node against a small closed language (literals, lists, ranges,
numpy spacing functions, scipy.stats distributions, estimator constructors); nothing of it
is ever evaluated, so pasting cannot run code. Anything outside that language is refused
with its line and column, so the user can fix the paste from the message alone.

An estimator written as a value (``PCA(n_components=5)``) becomes the spec's estimator
value ``{"class": "sklearn.decomposition.PCA", "fixed": {"n_components": 5}}``; a function
written as a value (``mutual_info_classif``) becomes ``{"function": "<dotted path>"}``.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import math
import operator
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from hpstudio.core.errors import SpecError
from hpstudio.core.estimators import TRUSTED_PACKAGES, resolve_estimator_class
from hpstudio.core.space import Dimension, FloatRange, IntRange, SubSpace, Values

UNDERSTOOD = ("only lists, ranges, numpy spacing functions, scipy.stats distributions and "
              "estimator constructors are understood")
GRID_NAMES = ("param_grid", "parameter_grid", "param_distributions", "param_dist",
              "search_spaces", "search_space", "distributions", "grid", "params")
MAX_VALUES = 100_000  # a pasted list longer than this is a mistake, not a search space
_MAX_INT_BITS = 4096
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_DEFAULT_ALIASES = {
    "np": "numpy", "numpy": "numpy", "scipy": "scipy", "stats": "scipy.stats",
    "sklearn": "sklearn", "skopt": "skopt", "math": "math",
    "loguniform": "scipy.stats.loguniform", "reciprocal": "scipy.stats.reciprocal",
    "uniform": "scipy.stats.uniform", "randint": "scipy.stats.randint",
    "sp_randint": "scipy.stats.randint", "sp_uniform": "scipy.stats.uniform",
    "Real": "skopt.space.Real", "Integer": "skopt.space.Integer",
    "Categorical": "skopt.space.Categorical",
    "range": "builtins.range", "list": "builtins.list", "tuple": "builtins.tuple",
    "dict": "builtins.dict", "int": "builtins.int", "float": "builtins.float",
}
_NUMERIC_CONSTANTS = {
    "numpy.nan": math.nan, "numpy.inf": math.inf, "numpy.pi": math.pi, "numpy.e": math.e,
    "math.nan": math.nan, "math.inf": math.inf, "math.pi": math.pi, "math.e": math.e,
}
_SPACINGS = {  # numpy function -> the parameters it may be given here, in positional order
    "numpy.logspace": ("start", "stop", "num", "endpoint", "base", "dtype"),
    "numpy.linspace": ("start", "stop", "num", "endpoint", "dtype"),
    "numpy.geomspace": ("start", "stop", "num", "endpoint", "dtype"),
    "numpy.arange": ("start", "stop", "step", "dtype"),
}
_ARRAYS = ("numpy.array", "numpy.asarray", "numpy.round", "numpy.around")
_LOG_UNIFORM = ("scipy.stats.loguniform", "scipy.stats.reciprocal")
_DISTRIBUTIONS = (*_LOG_UNIFORM, "scipy.stats.uniform", "scipy.stats.randint")
_SKOPT = {"Real": "skopt.space.Real", "Integer": "skopt.space.Integer",
          "Categorical": "skopt.space.Categorical"}
_SKOPT_PATHS = {**{v: k for k, v in _SKOPT.items()},
                **{f"skopt.space.space.{k}": k for k in _SKOPT}}
_READ_ONLY_PACKAGES = {  # packages of which only a few names are read, and what to write
    "numpy": "of numpy only logspace, linspace, geomspace, arange, array and round are read",
    "scipy": "of scipy.stats only uniform, loguniform (reciprocal) and randint are read: "
             "they have the bounds a search range needs",
    "skopt": "of skopt only Real, Integer and Categorical are read",
    "builtins": UNDERSTOOD,
    "math": UNDERSTOOD,
}
_DTYPES = {"int": int, "float": float, "numpy.int64": "int64", "numpy.int32": "int32",
           "numpy.float64": "float64", "numpy.float32": "float32"}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_WHAT = {  # node kinds outside the language, described for the message
    ast.Lambda: "a lambda is code, not a value",
    ast.ListComp: "a comprehension is code; write the values, or range(...), np.linspace(...)",
    ast.SetComp: "a comprehension is code; write the values as a list",
    ast.DictComp: "a comprehension is code; write the dict out",
    ast.GeneratorExp: "a generator is code; write the values as a list",
    ast.JoinedStr: "an f-string is code; write the string itself",
    ast.Subscript: "indexing is not read; write the values themselves",
    ast.Set: "a set has no order; write the values as a list [...]",
    ast.IfExp: "a conditional is code; write the value it gives",
    ast.BoolOp: "`and`/`or` are code; write the value they give",
    ast.Compare: "a comparison is code; write True or False",
    ast.NamedExpr: "an assignment expression is code",
    ast.Await: "await is code", ast.Yield: "yield is code", ast.YieldFrom: "yield is code",
    ast.Starred: "unpacking is read only inside a list",
}


def parse_param_grid(text: str, allowed_packages: Iterable[str] = ()) -> tuple[SubSpace, ...]:
    """The sub-spaces of a pasted ``param_grid`` / ``param_distributions``; SpecError if unreadable.

    ``text`` is a dict, a list of dicts, or Python lines ending with such a value (usually
    ``param_grid = [...]``), optionally after imports and simple constants
    (``N_FEATURES_OPTIONS = [2, 4, 8]``) that the grid uses. Estimator classes of packages
    other than scikit-learn are read only when their package is in ``allowed_packages``.
    """
    try:
        return _Reader(text, tuple(allowed_packages)).subspaces()
    except RecursionError:
        raise SpecError("the pasted grid is nested too deeply to read") from None


def parse_value(text: str, allowed_packages: Iterable[str] = ()) -> Any:
    """One value written as Python, read as a pasted grid's values are: a literal, an
    estimator call (``PCA(n_components=5)`` gives ``{"class": ..., "fixed": ...}``) or a
    scikit-learn function's name (``chi2`` gives ``{"function": ...}``); nothing is run."""
    reader = _Reader(text, tuple(allowed_packages))
    try:
        node = ast.parse(reader.text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise SpecError(f"not Python syntax ({exc.msg}): {text.strip()!r}") from None
    try:
        return reader._value(node)
    except RecursionError:
        raise SpecError("the value is nested too deeply to read") from None


class _Reader:
    """One pasted text: its statements, the names it binds, and the interpretation of nodes."""

    def __init__(self, text: str, allowed_packages: tuple[str, ...]) -> None:
        if not isinstance(text, str) or not text.strip():
            raise SpecError("nothing pasted: paste a param_grid such as {'C': [1, 10, 100]}")
        self.text = textwrap.dedent(text.expandtabs(4))
        first = next(line for line in text.expandtabs(4).splitlines() if line.strip())
        first_dedented = next(line for line in self.text.splitlines() if line.strip())
        self.margin = len(first) - len(first_dedented)
        self.allowed = allowed_packages
        self.aliases: dict[str, str] = {}
        self.constants: dict[str, ast.expr] = {}
        self.reading: set[str] = set()

    # ----- statements ----------------------------------------------------------------
    def subspaces(self) -> tuple[SubSpace, ...]:
        try:
            module = ast.parse(self.text, mode="exec")
        except SyntaxError as exc:
            where = f"line {exc.lineno}, col {(exc.offset or 1) + self.margin}: " \
                if exc.lineno else ""
            raise SpecError(f"{where}not Python syntax ({exc.msg}); paste the param_grid "
                            "as written in Python, e.g. {'C': [1, 10, 100]}") from None
        except (ValueError, MemoryError) as exc:
            raise SpecError(f"the pasted text cannot be read ({exc})") from None
        grid = self._grid_statement(module.body)
        return self._grid(grid)

    def _grid_statement(self, body: list[ast.stmt]) -> ast.expr:
        assignments: list[tuple[str, ast.expr]] = []
        expressions: list[ast.expr] = []
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._import(stmt)
            elif isinstance(stmt, ast.Expr):
                expressions.append(stmt.value)
            elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                  and isinstance(stmt.targets[0], ast.Name)):
                assignments.append((stmt.targets[0].id, stmt.value))
            elif (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                  and stmt.value is not None):
                assignments.append((stmt.target.id, stmt.value))
            else:
                raise self._error(stmt, f"cannot read `{self._segment(stmt)}`: the pasted text "
                                  "may hold only the grid, imports and simple assignments "
                                  "such as N = [2, 4, 8]")
        named = [value for name, value in assignments if name in GRID_NAMES]
        if named:  # param_grid = ... wins over a search.fit(X, y) pasted along with it
            grid = named[-1]
        elif expressions:
            grid = expressions[-1]
        elif assignments:
            grid = assignments[-1][1]
        else:
            raise SpecError("nothing to read: paste a dict of hyperparameters or a list of dicts")
        for name, value in assignments:
            if value is grid:
                break
            self.constants[name] = value
        return grid

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        """Imports only name things; nothing is imported here (estimator classes are, later)."""
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.aliases[top] = top
            return
        if stmt.level or not stmt.module or any(a.name == "*" for a in stmt.names):
            raise self._error(stmt, f"cannot read `{self._segment(stmt)}`: import the names "
                              "you use by name, e.g. from scipy.stats import loguniform")
        for alias in stmt.names:
            self.aliases[alias.asname or alias.name] = f"{stmt.module}.{alias.name}"

    # ----- the grid and its sub-spaces --------------------------------------------------
    def _grid(self, node: ast.expr) -> tuple[SubSpace, ...]:
        with self._follow(node) as node:
            if isinstance(node, ast.List | ast.Tuple):
                if not node.elts:
                    raise self._error(node, "the pasted list of sub-spaces is empty; "
                                      "give at least one dict of hyperparameters")
                return tuple(self._subspace(element) for element in node.elts)
            return (self._subspace(node),)

    def _subspace(self, node: ast.expr) -> SubSpace:
        with self._follow(node) as node:
            entries = self._dict_entries(node)
            if entries is None:
                raise self._error(node, f"cannot read `{self._segment(node)}` as a sub-space: "
                                  "expected a dict of hyperparameters such as "
                                  "{'C': [1, 10]} or a list of such dicts")
            if not entries:
                raise self._error(node, "empty dict: a sub-space needs at least one "
                                  "hyperparameter")
            subspace: dict[str, Dimension] = {}
            for key_node, key, value in entries:
                if key in subspace:
                    raise self._error(key_node, f"{key!r} is given twice in the same dict")
                subspace[key] = self._dimension(key, value)
            return subspace

    def _dict_entries(self, node: ast.expr) -> list[tuple[ast.AST, str, ast.expr]] | None:
        """(where, parameter name, value node) of a dict literal or ``dict(...)``; else None."""
        if isinstance(node, ast.Dict):
            entries = []
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    raise self._error(value, f"cannot read `**{self._segment(value)}`: "
                                      "unpacking is not read; write them out")
                entries.append((key, self._parameter_name(key), value))
            return entries
        if not (isinstance(node, ast.Call) and self._path(node.func) == "builtins.dict"):
            return None
        if len(node.args) > 1 or (node.args and not isinstance(node.args[0], ast.Dict)):
            raise self._error(node, f"cannot read `{self._segment(node)}`: write "
                              "dict(C=[1, 10]) or a dict literal")
        entries = (self._dict_entries(node.args[0]) or []) if node.args else []
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self._error(keyword, f"cannot read `{self._segment(keyword)}`: "
                                  "unpacking is not read; write them out")
            entries.append((keyword, keyword.arg, keyword.value))
        return entries

    def _parameter_name(self, key: ast.expr) -> str:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise self._error(key, f"cannot read key `{self._segment(key)}`: a parameter "
                              "name is a quoted string such as 'C' or 'svc__C'")
        if not _PARAMETER_NAME.match(key.value):
            raise self._error(key, f"{key.value!r} is not a parameter name; write names as "
                              "get_params() gives them, e.g. 'max_depth' or 'svc__C'")
        return key.value

    def _dimension(self, key: str, node: ast.expr) -> Dimension:
        with self._follow(node) as node:
            if isinstance(node, ast.Call):
                path = self._path(node.func)
                if path in _DISTRIBUTIONS:
                    return self._distribution(path, node)
                if path in _SKOPT_PATHS:
                    return self._skopt(_SKOPT_PATHS[path], node)
            if isinstance(node, ast.Constant) or self._is_estimator_call(node):
                raise self._error(node, f"{key}: `{self._segment(node)}` is one value; give a "
                                  f"list of values such as [{self._segment(node)}], a range or "
                                  "a distribution")
            values = self._sequence(node)
            if not values:
                raise self._error(node, f"{key}: empty list; give at least one value")
            return Values(tuple(values))

    # ----- values ------------------------------------------------------------------------
    def _sequence(self, node: ast.expr) -> list[Any]:
        with self._follow(node) as node:
            if isinstance(node, ast.List | ast.Tuple):
                values: list[Any] = []
                for element in node.elts:
                    if isinstance(element, ast.Starred):
                        values.extend(self._sequence(element.value))
                    else:
                        values.append(self._value(element))
                    self._check_length(node, len(values))
                return values
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                values = self._sequence(node.left) + self._sequence(node.right)
                self._check_length(node, len(values))
                return values
            if isinstance(node, ast.Call):
                return self._sequence_call(node)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                raise self._error(node, f"`{self._segment(node)}` is a string, not a list of "
                                  f"values; write [{self._segment(node)}]")
            value = self._value(node)
            if isinstance(value, list | tuple):
                return list(value)
            raise self._error(node, f"`{self._segment(node)}` is not a list of values; write "
                              "the values in brackets, e.g. [1, 10, 100]")

    def _sequence_call(self, node: ast.Call) -> list[Any]:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "tolist":
            self._no_arguments(node)
            return self._sequence(func.value)
        path = self._path(func)
        if path in ("builtins.list", "builtins.tuple"):
            if node.keywords or len(node.args) != 1:
                raise self._error(node, f"cannot read `{self._segment(node)}`: "
                                  f"{path[9:]}(...) takes one list, range or numpy call")
            return self._sequence(node.args[0])
        if path == "builtins.range":
            return self._range(node)
        if path in _SPACINGS:
            return self._spacing(path, node)
        if path in _ARRAYS:
            return self._array(path, node)
        if path in _DISTRIBUTIONS or path in _SKOPT_PATHS:
            raise self._error(node, f"`{self._segment(node)}`: a distribution can only be a "
                              "hyperparameter's whole value, e.g. 'C': loguniform(1e-3, 1e3)")
        value = self._value(node)
        if isinstance(value, list | tuple):
            return list(value)
        raise self._error(node, f"`{self._segment(node)}` is one value, not a list; write "
                          f"[{self._segment(node)}]")

    def _value(self, node: ast.expr) -> Any:
        with self._follow(node) as node:
            return self._read_value(node)

    def _read_value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, bool | int | float | str):
                return node.value
            raise self._error(node, f"cannot read `{self._segment(node)}`: only numbers, "
                              "strings, True, False and None are read as values")
        if isinstance(node, ast.List | ast.Tuple):
            values = self._sequence(node)
            return tuple(values) if isinstance(node, ast.Tuple) else values
        if isinstance(node, ast.Dict):
            return self._literal_dict(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self._value(node.operand)
            if not _is_number(operand):
                raise self._error(node, f"cannot read `{self._segment(node)}`: a sign goes "
                                  "before a number")
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            return self._arithmetic(node)
        if isinstance(node, ast.Call):
            return self._value_call(node)
        if isinstance(node, ast.Name | ast.Attribute):
            return self._reference(node)
        why = _WHAT.get(type(node), UNDERSTOOD)
        raise self._error(node, f"cannot read `{self._segment(node)}`: {why}")

    def _literal_dict(self, node: ast.Dict) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise self._error(value, f"cannot read `**{self._segment(value)}`: "
                                  "unpacking is not read; write them out")
            read = self._value(key)
            if not (read is None or isinstance(read, bool | int | float | str)):
                raise self._error(key, f"cannot read key `{self._segment(key)}`: a dict key "
                                  "is a number or a string")
            out[read] = self._value(value)
        return out

    def _arithmetic(self, node: ast.BinOp) -> Any:
        left, right = self._value(node.left), self._value(node.right)
        if isinstance(node.op, ast.Add) and isinstance(left, list) and isinstance(right, list):
            self._check_length(node, len(left) + len(right))
            return left + right
        operation = _BINARY.get(type(node.op))
        if operation is None or not (_is_number(left) and _is_number(right)):
            raise self._error(node, f"cannot read `{self._segment(node)}`: only arithmetic "
                              "of numbers (+ - * / // % **) is read")
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) \
                and abs(left) > 1 and right * math.log2(abs(left)) > _MAX_INT_BITS:
            raise self._error(node, f"`{self._segment(node)}` is too large a number")
        try:
            result = operation(left, right)
        except (ArithmeticError, ValueError) as exc:
            raise self._error(node, f"cannot compute `{self._segment(node)}` ({exc})") from None
        if isinstance(result, complex) or (isinstance(result, int)
                                           and result.bit_length() > 2 * _MAX_INT_BITS):
            raise self._error(node, f"`{self._segment(node)}` is not a usable number")
        return result

    def _value_call(self, node: ast.Call) -> Any:
        path = self._path(node.func)
        if path == "builtins.dict":
            entries = self._dict_entries(node) or []
            return {key: self._value(value) for _, key, value in entries}
        if path in ("builtins.int", "builtins.float"):
            if node.keywords or len(node.args) != 1:
                raise self._error(node, f"cannot read `{self._segment(node)}`")
            value = self._value(node.args[0])
            if path == "builtins.float" and value in ("inf", "-inf", "nan"):
                return float(value)
            if not _is_number(value):
                raise self._error(node, f"cannot read `{self._segment(node)}`: only a number "
                                  "can be converted here")
            return int(value) if path == "builtins.int" else float(value)
        if (isinstance(node.func, ast.Attribute) and node.func.attr == "tolist") or path in (
                "builtins.list", "builtins.tuple", "builtins.range", *_SPACINGS, *_ARRAYS,
                *_DISTRIBUTIONS, *_SKOPT_PATHS):
            values = self._sequence_call(node)
            return tuple(values) if path == "builtins.tuple" else values
        return self._estimator(node)

    # ----- names ---------------------------------------------------------------------------
    @contextmanager
    def _follow(self, node: ast.expr) -> Iterator[ast.expr]:
        """A name bound earlier in the paste stands for its value while that value is read."""
        if not (isinstance(node, ast.Name) and node.id in self.constants):
            yield node
            return
        if node.id in self.reading:
            raise self._error(node, f"`{node.id}` is defined in terms of itself")
        self.reading.add(node.id)
        try:
            yield self.constants[node.id]
        finally:
            self.reading.discard(node.id)

    def _dotted(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        parts.append(node.id)
        return ".".join(reversed(parts))

    def _path(self, node: ast.expr) -> str | None:
        """The full dotted path a name stands for, through the paste's imports and usual aliases."""
        dotted = self._dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self.constants:
            return None
        if any(part.startswith("__") for part in dotted.split(".")):
            return None  # dunder names reach into Python itself: never followed
        full = self.aliases.get(head) or _DEFAULT_ALIASES.get(head) or head
        return f"{full}.{rest}" if rest else full

    def _reference(self, node: ast.Name | ast.Attribute) -> Any:
        path = self._path(node)
        if path is None:
            raise self._error(node, f"cannot read `{self._segment(node)}`: {UNDERSTOOD}")
        if path in _NUMERIC_CONSTANTS:
            return _NUMERIC_CONSTANTS[path]
        function = self._function(path)
        if function is not None:
            return {"function": function}
        if isinstance(node, ast.Name) and "." not in path:
            if path in _sklearn_estimators():
                raise self._error(node, f"`{node.id}` is a class; write {node.id}() to use the "
                                  "estimator as a value")
            raise self._error(node, f"cannot read name `{node.id}`: define it in the pasted "
                              f"text (e.g. {node.id} = [2, 4, 8] on an earlier line) or write "
                              "its values in place")
        raise self._error(node, f"cannot read `{self._segment(node)}`: {UNDERSTOOD}")

    def _function(self, path: str) -> str | None:
        """The public dotted path of a scikit-learn (or allowed) function named by ``path``."""
        if "." not in path:
            return _sklearn_functions().get(path)
        package = path.split(".", 1)[0]
        if package in TRUSTED_PACKAGES:
            known = _sklearn_functions()
            name = path.rsplit(".", 1)[1]
            return known[name] if name in known and _same_object(path, known[name]) else None
        if package not in self.allowed:
            return None
        found = _import_attribute(path)
        if callable(found) and not isinstance(found, type):
            return path
        return None

    # ----- calls ----------------------------------------------------------------------------
    def _range(self, node: ast.Call) -> list[int]:
        if node.keywords or not 1 <= len(node.args) <= 3:
            raise self._error(node, f"cannot read `{self._segment(node)}`: range takes 1 to 3 "
                              "whole numbers")
        bounds = [self._value(arg) for arg in node.args]
        if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            raise self._error(node, f"cannot read `{self._segment(node)}`: range takes whole "
                              "numbers")
        try:
            numbers = range(*bounds)
            count = len(numbers)
        except (ValueError, OverflowError) as exc:
            raise self._error(node, f"cannot read `{self._segment(node)}` ({exc})") from None
        self._check_length(node, count)
        return list(numbers)

    def _spacing(self, path: str, node: ast.Call) -> list[Any]:
        import numpy as np

        required = () if path == "numpy.arange" else ("start", "stop")
        kwargs = self._arguments(node, _SPACINGS[path], required)
        for key, value in kwargs.items():
            if key == "dtype":
                continue
            if key == "endpoint" and isinstance(value, bool):
                continue
            if not _is_number(value):
                raise self._error(node, f"cannot read `{self._segment(node)}`: {key} must be "
                                  "a number")
        if path == "numpy.arange":
            count = self._arange_count(node, kwargs)
        else:
            count = kwargs.get("num", 50)
            if not isinstance(count, int) or count < 0:
                raise self._error(node, f"`{self._segment(node)}`: num must be a whole "
                                  "number ≥ 0")
        self._check_length(node, count)
        function = getattr(np, path.rsplit(".", 1)[1])
        try:
            with np.errstate(all="raise"):
                values = function(**kwargs)
        except (ValueError, TypeError, ArithmeticError, FloatingPointError) as exc:
            raise self._error(node, f"cannot read `{self._segment(node)}` ({exc})") from None
        return values.tolist()

    def _arange_count(self, node: ast.Call, kwargs: dict[str, Any]) -> int:
        if "stop" not in kwargs:
            if "start" not in kwargs:
                raise self._error(node, f"`{self._segment(node)}`: arange needs a stop")
            kwargs["stop"] = kwargs.pop("start")
        start, stop, step = kwargs.get("start", 0), kwargs["stop"], kwargs.get("step", 1)
        if step == 0:
            raise self._error(node, f"`{self._segment(node)}`: step must not be 0")
        try:
            count = math.ceil((stop - start) / step)
        except (OverflowError, ValueError):
            raise self._error(node, f"`{self._segment(node)}`: bounds must be finite numbers "
                              "of usual size") from None
        return max(0, count)

    def _array(self, path: str, node: ast.Call) -> list[Any]:
        import numpy as np

        if path in ("numpy.round", "numpy.around"):
            kwargs = self._arguments(node, ("a", "decimals"), ("a",), sequences=("a",))
            decimals = kwargs.get("decimals", 0)
            if not isinstance(decimals, int) or isinstance(decimals, bool):
                raise self._error(node, f"`{self._segment(node)}`: decimals must be a whole "
                                  "number")
            if not all(_is_number(v) for v in kwargs["a"]):
                raise self._error(node, f"`{self._segment(node)}`: only numbers are rounded")
            return np.round(np.asarray(kwargs["a"]), decimals).tolist()
        kwargs = self._arguments(node, ("object", "dtype"), ("object",), sequences=("object",))
        values = kwargs["object"]
        if not all(v is None or isinstance(v, bool | int | float | str) for v in values):
            raise self._error(node, f"`{self._segment(node)}`: an array here holds numbers "
                              "or strings; put other values in a plain list")
        return np.asarray(values, dtype=kwargs.get("dtype")).tolist()

    def _arguments(self, node: ast.Call, names: tuple[str, ...], required: tuple[str, ...],
                   sequences: tuple[str, ...] = ()) -> dict[str, Any]:
        """A call's arguments by name, read as values; sequences for the array arguments."""
        if len(node.args) > len(names):
            raise self._error(node, f"cannot read `{self._segment(node)}`: too many arguments")
        given: list[tuple[str, ast.expr]] = list(zip(names, node.args, strict=False))
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self._error(keyword, f"cannot read `{self._segment(keyword)}`: "
                                  "unpacking is not read; write them out")
            if keyword.arg not in names or keyword.arg in dict(given):
                raise self._error(keyword, f"cannot read `{self._segment(node)}`: argument "
                                  f"{keyword.arg!r} is not understood here; understood: "
                                  f"{', '.join(names)}")
            given.append((keyword.arg, keyword.value))
        out: dict[str, Any] = {}
        for name, value in given:
            if name == "dtype":
                out[name] = self._dtype(value)
            elif name in sequences:
                out[name] = self._sequence(value)
            else:
                out[name] = self._value(value)
        for name in required:
            if name not in out:
                raise self._error(node, f"cannot read `{self._segment(node)}`: {name} is "
                                  "missing")
        return out

    def _dtype(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and node.value in ("int", "float", "int64", "float64",
                                                              "int32", "float32"):
            return node.value
        path = self._path(node)
        if path is not None and path.removeprefix("builtins.") in _DTYPES:
            return _DTYPES[path.removeprefix("builtins.")]
        raise self._error(node, f"cannot read dtype `{self._segment(node)}`: use int or float")

    def _no_arguments(self, node: ast.Call) -> None:
        if node.args or node.keywords:
            raise self._error(node, f"cannot read `{self._segment(node)}`: tolist() takes "
                              "no arguments")

    def _distribution(self, path: str, node: ast.Call) -> Dimension:
        text = self._segment(node)
        if path == "scipy.stats.randint":
            kwargs = self._arguments(node, ("low", "high", "loc"), ("low", "high"))
            low, high, loc = kwargs.get("low"), kwargs.get("high"), kwargs.get("loc", 0)
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high, loc)):
                raise self._error(node, f"`{text}`: randint takes whole numbers low and high")
            if high - 1 < low:
                raise self._error(node, f"`{text}`: randint's high is exclusive, so it must be "
                                  "greater than low")
            return IntRange(low + loc, high - 1 + loc)
        if path == "scipy.stats.uniform":
            kwargs = self._arguments(node, ("loc", "scale"), ())
            loc, scale = kwargs.get("loc", 0), kwargs.get("scale", 1)
            self._numbers(node, loc, scale)
            if scale <= 0:
                raise self._error(node, f"`{text}`: uniform's scale (the width) must be > 0")
            return FloatRange(float(loc), float(loc + scale))
        kwargs = self._arguments(node, ("a", "b", "loc", "scale"), ("a", "b"))
        low, high = kwargs.get("a"), kwargs.get("b")
        self._numbers(node, low, high)
        if kwargs.get("loc", 0) != 0 or kwargs.get("scale", 1) != 1:
            raise self._error(node, f"`{text}`: a log range has no loc or scale; give its "
                              "bounds, e.g. loguniform(1e-3, 1e3)")
        if not 0 < low < high:
            raise self._error(node, f"`{text}`: a log-uniform range needs 0 < a < b")
        return FloatRange(float(low), float(high), log=True)

    def _skopt(self, kind: str, node: ast.Call) -> Dimension:
        text = self._segment(node)
        if kind == "Categorical":
            kwargs = self._arguments(node, ("categories", "prior", "transform", "name"),
                                    ("categories",), sequences=("categories",))
            if not kwargs["categories"]:
                raise self._error(node, f"`{text}`: no categories")
            return Values(tuple(kwargs["categories"]))
        kwargs = self._arguments(node, ("low", "high", "prior", "base", "transform", "name",
                                        "dtype"), ("low", "high"))
        low, high, prior = kwargs.get("low"), kwargs.get("high"), kwargs.get("prior", "uniform")
        self._numbers(node, low, high)
        if prior not in ("uniform", "log-uniform"):
            raise self._error(node, f"`{text}`: prior must be 'uniform' or 'log-uniform'")
        log = prior == "log-uniform"
        if low > high or (log and low <= 0):
            raise self._error(node, f"`{text}`: needs low ≤ high{' and low > 0' if log else ''}")
        if kind == "Integer":
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
                raise self._error(node, f"`{text}`: Integer takes whole numbers")
            return IntRange(low, high, log=log)
        return FloatRange(float(low), float(high), log=log)

    def _numbers(self, node: ast.Call, *values: Any) -> None:
        if not all(_is_number(v) and math.isfinite(v) for v in values):
            raise self._error(node, f"`{self._segment(node)}`: the bounds must be finite numbers")

    # ----- estimators -----------------------------------------------------------------------
    def _is_estimator_call(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Call):
            return False
        path = self._path(node.func)
        return path is not None and (path in _sklearn_estimators()
                                     or path.split(".", 1)[0] in TRUSTED_PACKAGES)

    def _estimator(self, node: ast.Call) -> dict[str, Any]:
        path = self._path(node.func)
        text = self._segment(node)
        if path is None:
            raise self._error(node, f"cannot read `{text}`: {UNDERSTOOD}")
        cls = self._estimator_class(node, path)
        try:
            signature = inspect.signature(cls)
        except (TypeError, ValueError):
            raise self._error(node, f"cannot read `{text}`: its parameters are unknown") from None
        parameters = [p for p in signature.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        named = {p.name for p in signature.parameters.values()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        open_keywords = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self._error(node, f"cannot read `{text}`: unpacking is not read; write the "
                              "arguments")
        if len(node.args) > len(parameters):
            raise self._error(node, f"`{text}`: {cls.__name__} takes at most {len(parameters)} "
                              "positional arguments; name the others (name=value)")
        fixed: dict[str, Any] = {}
        for parameter, arg in zip(parameters, node.args, strict=False):
            fixed[parameter.name] = self._value(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self._error(keyword, f"cannot read `{self._segment(keyword)}`: "
                                  "unpacking is not read; write them out")
            if keyword.arg not in named and not open_keywords:
                close = difflib.get_close_matches(keyword.arg, sorted(named), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self._error(keyword, f"`{text}`: {cls.__name__} has no parameter "
                                  f"{keyword.arg!r}{hint}")
            if keyword.arg in fixed:
                raise self._error(keyword, f"`{text}`: {keyword.arg!r} is given twice")
            fixed[keyword.arg] = self._value(keyword.value)
        return {"class": _public_path(cls), "fixed": fixed}

    def _estimator_class(self, node: ast.Call, path: str) -> type:
        text = self._segment(node)
        if "." in path:
            package = path.split(".", 1)[0]
            if package in _READ_ONLY_PACKAGES and package not in self.allowed:
                raise self._error(node, f"cannot read `{text}`: {_READ_ONLY_PACKAGES[package]}")
            if package not in (*TRUSTED_PACKAGES, *self.allowed):
                allow = ("; an estimator of a package other than scikit-learn is read only "
                         f"when that package is allowed (--allow-package {package})"
                         if path.rsplit(".", 1)[1][:1].isupper() else "")
                raise self._error(node, f"cannot read `{text}`: {UNDERSTOOD}{allow}")
            try:
                return resolve_estimator_class(path, self.allowed)
            except SpecError as exc:
                why = str(exc).removeprefix("estimator.class: ")
                raise self._error(node, f"cannot read `{text}`: {why}") from None
        found = self._classes_named(path)
        if len(found) > 1:
            raise self._error(node, f"`{text}`: {path} is ambiguous ({', '.join(found)}); "
                              "write the full path, e.g. " + found[0] + "()")
        if found:
            return resolve_estimator_class(found[0], self.allowed)
        if path in _sklearn_functions():
            raise self._error(node, f"cannot read `{text}`: {path} is a function, and calling "
                              "it would run code; write its result's values instead")
        by_lower = {name.lower(): name for name in _sklearn_estimators()}
        close = difflib.get_close_matches(path.lower(), list(by_lower), n=1, cutoff=0.8)
        hint = f" (did you mean {by_lower[close[0]]}?)" if close else ""
        raise self._error(node, f"cannot read `{text}`: {UNDERSTOOD}{hint}")

    def _classes_named(self, name: str) -> list[str]:
        found = [_sklearn_estimators()[name]] if name in _sklearn_estimators() else []
        from sklearn.base import BaseEstimator

        for package in self.allowed:
            try:
                module = importlib.import_module(package)
            except ImportError:
                continue
            cls = getattr(module, name, None)
            if isinstance(cls, type) and issubclass(cls, BaseEstimator) \
                    and _public_path(cls) not in found:
                found.append(f"{package}.{name}")
        return found

    # ----- messages ---------------------------------------------------------------------------
    def _check_length(self, node: ast.AST, count: int) -> None:
        if count > MAX_VALUES:
            shown = f"{count:,}" if count < 10**12 else "over a trillion"
            raise self._error(node, f"`{self._segment(node)}` gives {shown} values; a search "
                              f"space list holds at most {MAX_VALUES:,}")

    def _segment(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text, node) or type(node).__name__
        segment = " ".join(segment.split())
        return segment if len(segment) <= 60 else segment[:57] + "..."

    def _error(self, node: ast.AST, message: str) -> SpecError:
        line = getattr(node, "lineno", None)
        if line is None:
            return SpecError(message)
        return SpecError(f"line {line}, col {getattr(node, 'col_offset', 0) + 1 + self.margin}: "
                         f"{message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def warm_catalogue() -> None:
    """Build scikit-learn's catalogue of estimators now (it imports every scikit-learn
    module: most of a second, once per process), so that reading ``PCA()`` later is
    instant. Front ends call it off their main thread."""
    _sklearn_estimators()


@lru_cache(maxsize=1)
def _sklearn_estimators() -> dict[str, str]:
    """scikit-learn's own catalogue: short class name -> public dotted path."""
    from sklearn.utils import all_estimators

    return {name: _public_path(cls) for name, cls in all_estimators()}


@lru_cache(maxsize=1)
def _sklearn_functions() -> dict[str, str]:
    """scikit-learn's public functions: short name -> public dotted path."""
    from sklearn.utils.discovery import all_functions

    return {name: _public_path(function) for name, function in all_functions()}


@lru_cache(maxsize=1024)
def _public_path(obj: Any) -> str:
    """The shortest public module path that exposes ``obj`` (sklearn.decomposition.PCA)."""
    parts = obj.__module__.split(".")
    for end in range(1, len(parts) + 1):
        if parts[end - 1].startswith("_"):
            break
        module_path = ".".join(parts[:end])
        try:
            module = importlib.import_module(module_path)
        except ImportError:  # pragma: no cover - a module path of a loaded object imports
            continue
        if getattr(module, obj.__name__, None) is obj:
            return f"{module_path}.{obj.__name__}"
    return f"{obj.__module__}.{obj.__qualname__}"


def _import_attribute(path: str) -> Any:
    module_path, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_path), name, None)
    except ImportError:
        return None


def _same_object(path: str, public: str) -> bool:
    return path == public or _import_attribute(path) is _import_attribute(public)


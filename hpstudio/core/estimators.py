"""Resolving estimator classes safely, and a catalogue with sensible default spaces.

A study file is data, not code: it may only name a class that is a scikit-learn
estimator. A class from another package is imported only when the user allowed that
package explicitly (``--allow-package`` or the GUI setting), never because a file says so.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hpstudio.core.errors import SpecError
from hpstudio.core.space import Dimension, FloatRange, IntRange, Values

_DOTTED_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
TRUSTED_PACKAGES = ("sklearn",)


def resolve_estimator_class(path: str, allowed_packages: Iterable[str] = ()) -> type:
    """Import ``path`` only if it is a trusted estimator class; raise SpecError otherwise."""
    if not isinstance(path, str) or not _DOTTED_PATH.match(path):
        raise SpecError(
            f"estimator.class: {path!r} is not a dotted class path; "
            "write e.g. 'sklearn.ensemble.RandomForestClassifier'"
        )
    package = path.split(".", 1)[0]
    allowed = set(TRUSTED_PACKAGES) | set(allowed_packages)
    if package not in allowed:
        raise SpecError(
            f"estimator.class: {path!r} is outside scikit-learn; hpstudio imports classes from "
            f"other packages only when you allow them: run with --allow-package {package}"
        )
    module_path, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise SpecError(
            f"estimator.class: cannot import module {module_path!r} ({exc}); "
            "check the spelling, e.g. 'sklearn.svm.SVC'"
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        import difflib

        names = [n for n in dir(module) if n[:1].isupper()]
        close = difflib.get_close_matches(class_name, names, n=1, cutoff=0.7)
        hint = f" Did you mean {module_path}.{close[0]}?" if close else ""
        raise SpecError(f"estimator.class: {module_path!r} has no class {class_name!r}.{hint}")
    from sklearn.base import BaseEstimator

    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator) and hasattr(cls, "fit")):
        raise SpecError(
            f"estimator.class: {path!r} is not a scikit-learn estimator "
            "(a BaseEstimator subclass with fit)"
        )
    return cls


def is_classifier_class(cls: type) -> bool:
    from sklearn.base import is_classifier

    try:
        return bool(is_classifier(cls()))
    except Exception:  # an estimator that needs arguments: fall back on the mixin
        from sklearn.base import ClassifierMixin

        return issubclass(cls, ClassifierMixin)


def default_params(cls: type) -> dict[str, Any]:
    """The constructor's parameters with their defaults, as ``get_params()`` reports them."""
    try:
        return dict(cls().get_params(deep=False))
    except Exception:
        return {name: None for name in cls._get_param_names()}


@dataclass(frozen=True)
class CatalogueEntry:
    """One estimator the GUI offers, with a search space a practitioner would start from."""

    path: str
    family: str
    task: str  # "classification" | "regression"
    description: str
    space: dict[str, Dimension] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[1]


def _log(low: float, high: float, num: int = 7) -> FloatRange:
    return FloatRange(low, high, log=True, num=num)


_FOREST_SPACE: dict[str, Dimension] = {
    "n_estimators": Values((50, 100, 200)),
    "max_depth": Values((None, 5, 10, 20)),
    "max_features": Values(("sqrt", "log2", 1.0)),
    "min_samples_leaf": IntRange(1, 8, num=4),
}

_WEIGHTS = Values(("uniform", "distance"))
_DEPTH = IntRange(2, 20, num=6)
_LEAF = IntRange(1, 20, num=4)

CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("sklearn.linear_model.LogisticRegression", "Linear", "classification",
                   "Linear classifier with probabilistic output; strong baseline.",
                   {"C": _log(1e-3, 1e3)}, {"max_iter": 1000}),
    CatalogueEntry("sklearn.linear_model.RidgeClassifier", "Linear", "classification",
                   "Least-squares classifier with L2 penalty; very fast.",
                   {"alpha": _log(1e-3, 1e3)}),
    CatalogueEntry("sklearn.linear_model.SGDClassifier", "Linear", "classification",
                   "Linear models trained by stochastic gradient descent; scales to big data.",
                   {"alpha": _log(1e-6, 1e-1), "loss": Values(("hinge", "log_loss"))}),
    CatalogueEntry("sklearn.linear_model.Ridge", "Linear", "regression",
                   "Least squares with L2 penalty.", {"alpha": _log(1e-3, 1e3)}),
    CatalogueEntry("sklearn.linear_model.Lasso", "Linear", "regression",
                   "Least squares with L1 penalty; sparse coefficients.",
                   {"alpha": _log(1e-4, 1e1)}, {"max_iter": 5000}),
    CatalogueEntry("sklearn.linear_model.ElasticNet", "Linear", "regression",
                   "Least squares with mixed L1/L2 penalty.",
                   {"alpha": _log(1e-4, 1e1), "l1_ratio": FloatRange(0.0, 1.0, num=5)},
                   {"max_iter": 5000}),
    CatalogueEntry("sklearn.svm.SVC", "SVM", "classification",
                   "Kernel support vector classifier; tune C and gamma on a log scale.",
                   {"C": _log(1e-3, 1e3), "gamma": _log(1e-5, 1e-1)}),
    CatalogueEntry("sklearn.svm.LinearSVC", "SVM", "classification",
                   "Linear support vector classifier; fast on many features.",
                   {"C": _log(1e-3, 1e3)}),
    CatalogueEntry("sklearn.svm.SVR", "SVM", "regression",
                   "Kernel support vector regression.",
                   {"C": _log(1e-2, 1e3), "gamma": _log(1e-4, 1e0), "epsilon": _log(1e-3, 1e0, 4)}),
    CatalogueEntry("sklearn.neighbors.KNeighborsClassifier", "Neighbours", "classification",
                   "Vote of the k nearest training samples.",
                   {"n_neighbors": IntRange(1, 30, num=8), "weights": _WEIGHTS}),
    CatalogueEntry("sklearn.neighbors.KNeighborsRegressor", "Neighbours", "regression",
                   "Average of the k nearest training samples.",
                   {"n_neighbors": IntRange(1, 30, num=8), "weights": _WEIGHTS}),
    CatalogueEntry("sklearn.tree.DecisionTreeClassifier", "Trees", "classification",
                   "A single interpretable decision tree.",
                   {"max_depth": _DEPTH, "min_samples_leaf": _LEAF,
                    "criterion": Values(("gini", "entropy"))}, {"random_state": 0}),
    CatalogueEntry("sklearn.tree.DecisionTreeRegressor", "Trees", "regression",
                   "A single interpretable regression tree.",
                   {"max_depth": _DEPTH, "min_samples_leaf": _LEAF},
                   {"random_state": 0}),
    CatalogueEntry("sklearn.ensemble.RandomForestClassifier", "Forests and boosting",
                   "classification", "Averaged randomised trees; robust default.",
                   dict(_FOREST_SPACE), {"random_state": 0}),
    CatalogueEntry("sklearn.ensemble.RandomForestRegressor", "Forests and boosting", "regression",
                   "Averaged randomised regression trees; robust default.",
                   dict(_FOREST_SPACE), {"random_state": 0}),
    CatalogueEntry("sklearn.ensemble.ExtraTreesClassifier", "Forests and boosting",
                   "classification", "Extremely randomised trees; fast, low variance.",
                   dict(_FOREST_SPACE), {"random_state": 0}),
    CatalogueEntry("sklearn.ensemble.HistGradientBoostingClassifier", "Forests and boosting",
                   "classification", "Histogram gradient boosting; fast on large tabular data.",
                   {"learning_rate": _log(1e-3, 1.0, 5), "max_leaf_nodes": IntRange(8, 64, num=4),
                    "l2_regularization": _log(1e-6, 1e1, 4)}, {"random_state": 0}),
    CatalogueEntry("sklearn.ensemble.HistGradientBoostingRegressor", "Forests and boosting",
                   "regression", "Histogram gradient boosting for regression.",
                   {"learning_rate": _log(1e-3, 1.0, 5), "max_leaf_nodes": IntRange(8, 64, num=4),
                    "l2_regularization": _log(1e-6, 1e1, 4)}, {"random_state": 0}),
    CatalogueEntry("sklearn.ensemble.GradientBoostingClassifier", "Forests and boosting",
                   "classification", "Classic gradient boosted trees.",
                   {"learning_rate": _log(1e-2, 1.0, 4), "n_estimators": Values((50, 100, 200)),
                    "max_depth": IntRange(2, 5)}, {"random_state": 0}),
    CatalogueEntry("sklearn.naive_bayes.GaussianNB", "Naive Bayes", "classification",
                   "Gaussian naive Bayes; almost no tuning, very fast.",
                   {"var_smoothing": _log(1e-12, 1e-3, 4)}),
    CatalogueEntry("sklearn.naive_bayes.MultinomialNB", "Naive Bayes", "classification",
                   "Naive Bayes for counts (text, digits).", {"alpha": _log(1e-3, 1e1, 5)}),
    CatalogueEntry("sklearn.neural_network.MLPClassifier", "Neural network", "classification",
                   "Multi-layer perceptron classifier.",
                   {"alpha": _log(1e-6, 1e-1, 4), "learning_rate_init": _log(1e-4, 1e-1, 4)},
                   {"max_iter": 300, "random_state": 0}),
    CatalogueEntry("sklearn.neural_network.MLPRegressor", "Neural network", "regression",
                   "Multi-layer perceptron regressor.",
                   {"alpha": _log(1e-6, 1e-1, 4), "learning_rate_init": _log(1e-4, 1e-1, 4)},
                   {"max_iter": 500, "random_state": 0}),
)


def catalogue_for(task: str | None = None) -> list[CatalogueEntry]:
    return [e for e in CATALOGUE if task is None or e.task == task]


def catalogue_entry(path: str) -> CatalogueEntry | None:
    return next((e for e in CATALOGUE if e.path == path), None)

"""The transformers the app offers as pipeline steps, by family, with a starting space.

Plain data like the estimator catalogue (``hpstudio.core.estimators.CATALOGUE``): building
the menu imports no scikit-learn. Each entry suggests a short step name and the ranges a
practitioner would start tuning from; any other transformer can be named by its path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hpstudio.core.space import Dimension, FloatRange, IntRange, Values

FAMILIES = ("Scaling", "Imputation", "Encoding", "Decomposition", "Feature selection",
            "Feature expansion", "Text")


@dataclass(frozen=True)
class StepEntry:
    """One transformer the app offers, with the name a step of it gets by default."""

    path: str
    family: str
    step_name: str
    description: str
    space: dict[str, Dimension] = field(default_factory=dict)  # names without the step prefix
    fixed: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[1]


_COMPONENTS = IntRange(2, 50, num=5)

STEP_CATALOGUE: tuple[StepEntry, ...] = (
    StepEntry("sklearn.preprocessing.StandardScaler", "Scaling", "scaler",
              "Centre each feature and scale it to unit variance.",
              {"with_mean": Values((True, False))}),
    StepEntry("sklearn.preprocessing.MinMaxScaler", "Scaling", "scaler",
              "Scale each feature to a range, [0, 1] by default."),
    StepEntry("sklearn.preprocessing.RobustScaler", "Scaling", "scaler",
              "Centre on the median and scale by the interquartile range; resists outliers."),
    StepEntry("sklearn.preprocessing.MaxAbsScaler", "Scaling", "scaler",
              "Scale by the largest absolute value; keeps sparse data sparse."),
    StepEntry("sklearn.preprocessing.Normalizer", "Scaling", "normalizer",
              "Scale each sample (row) to unit norm; for text and counts.",
              {"norm": Values(("l2", "l1", "max"))}),
    StepEntry("sklearn.preprocessing.QuantileTransformer", "Scaling", "quantiles",
              "Map each feature to a uniform or normal distribution by its quantiles.",
              {"output_distribution": Values(("uniform", "normal"))}),
    StepEntry("sklearn.preprocessing.PowerTransformer", "Scaling", "power",
              "Make features more Gaussian (Yeo-Johnson or Box-Cox), then standardise."),
    StepEntry("sklearn.impute.SimpleImputer", "Imputation", "imputer",
              "Fill missing values with the mean, median, most frequent value or a constant.",
              {"strategy": Values(("mean", "median", "most_frequent"))}),
    StepEntry("sklearn.impute.KNNImputer", "Imputation", "imputer",
              "Fill missing values from the k nearest samples.",
              {"n_neighbors": IntRange(2, 15, num=4)}),
    StepEntry("sklearn.preprocessing.OneHotEncoder", "Encoding", "onehot",
              "One column per category; for data handed on without the preprocessing.",
              {}, {"handle_unknown": "ignore"}),
    StepEntry("sklearn.preprocessing.OrdinalEncoder", "Encoding", "ordinal",
              "Categories as integers; for tree models.",
              {}, {"handle_unknown": "use_encoded_value", "unknown_value": -1}),
    StepEntry("sklearn.preprocessing.KBinsDiscretizer", "Encoding", "bins",
              "Cut each feature into bins (uniform, quantile or k-means).",
              {"n_bins": IntRange(3, 10, num=4)}, {"encode": "onehot-dense"}),
    StepEntry("sklearn.decomposition.PCA", "Decomposition", "pca",
              "Linear dimensionality reduction onto the main directions of variance.",
              {"n_components": _COMPONENTS}),
    StepEntry("sklearn.decomposition.TruncatedSVD", "Decomposition", "svd",
              "PCA without centring; works on sparse data such as TF-IDF.",
              {"n_components": _COMPONENTS}, {"random_state": 0}),
    StepEntry("sklearn.decomposition.NMF", "Decomposition", "nmf",
              "Non-negative matrix factorisation: parts-based features of non-negative data.",
              {"n_components": _COMPONENTS}, {"max_iter": 1000, "random_state": 0}),
    StepEntry("sklearn.decomposition.FastICA", "Decomposition", "ica",
              "Independent component analysis: statistically independent sources.",
              {"n_components": _COMPONENTS}, {"random_state": 0}),
    StepEntry("sklearn.decomposition.KernelPCA", "Decomposition", "kpca",
              "Non-linear PCA through a kernel (RBF, polynomial, ...).",
              {"n_components": _COMPONENTS, "kernel": Values(("rbf", "poly", "cosine"))}),
    StepEntry("sklearn.feature_selection.SelectKBest", "Feature selection", "select",
              "Keep the k features with the best univariate scores.",
              {"k": IntRange(2, 50, num=5)}),
    StepEntry("sklearn.feature_selection.SelectPercentile", "Feature selection", "select",
              "Keep a percentile of the features by univariate score.",
              {"percentile": IntRange(10, 90, num=5)}),
    StepEntry("sklearn.feature_selection.VarianceThreshold", "Feature selection", "variance",
              "Drop features whose variance is below a threshold (constants by default)."),
    StepEntry("sklearn.preprocessing.PolynomialFeatures", "Feature expansion", "poly",
              "Add powers and products of features (interactions).",
              {"degree": Values((2, 3)), "interaction_only": Values((False, True))}),
    StepEntry("sklearn.preprocessing.SplineTransformer", "Feature expansion", "splines",
              "B-spline basis of each feature: smooth non-linear terms for linear models.",
              {"n_knots": IntRange(3, 10, num=4), "degree": Values((2, 3))}),
    StepEntry("sklearn.kernel_approximation.Nystroem", "Feature expansion", "nystroem",
              "Approximate a kernel's feature map from a sample: kernel methods at scale.",
              {"gamma": FloatRange(1e-3, 1.0, log=True, num=4),
               "n_components": IntRange(50, 300, num=3)}, {"random_state": 0}),
    StepEntry("sklearn.kernel_approximation.RBFSampler", "Feature expansion", "rbf",
              "Random Fourier features approximating an RBF kernel.",
              {"gamma": FloatRange(1e-3, 1.0, log=True, num=4)}, {"random_state": 0}),
    StepEntry("sklearn.feature_extraction.text.TfidfVectorizer", "Text", "tfidf",
              "Words (or n-grams) weighted by TF-IDF, from one text column.",
              {"ngram_range": Values(([1, 1], [1, 2])), "min_df": Values((1, 2, 5))}),
    StepEntry("sklearn.feature_extraction.text.CountVectorizer", "Text", "counts",
              "Word (or n-gram) counts, from one text column.",
              {"ngram_range": Values(([1, 1], [1, 2]))}),
    StepEntry("sklearn.feature_extraction.text.TfidfTransformer", "Text", "tfidf",
              "Re-weight counts by TF-IDF (after a CountVectorizer).",
              {"sublinear_tf": Values((False, True))}),
)


def step_entry(path: str) -> StepEntry | None:
    return next((e for e in STEP_CATALOGUE if e.path == path), None)


def steps_of_family(family: str) -> list[StepEntry]:
    return [e for e in STEP_CATALOGUE if e.family == family]


def free_step_name(wanted: str, taken: Iterable[str]) -> str:
    """``wanted``, or ``wanted2``, ``wanted3``... when a step already has that name."""
    taken = set(taken)
    name, number = wanted, 2
    while name in taken:
        name, number = f"{wanted}{number}", number + 1
    return name

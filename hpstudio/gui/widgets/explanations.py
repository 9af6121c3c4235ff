"""One-line explanations of the editor's choices, shown as tooltip, status tip and What's This.

A user choosing between "bayes" and "random", or between two metrics, should not need the
documentation open: each choice says in one line what it does. The texts live here, apart
from the widgets, so every place that offers a choice words it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

__all__ = [
    "ACQUISITION_HELP",
    "CV_HELP",
    "DEFAULT_METRIC_HELP",
    "GENERATOR_HELP",
    "METRIC_HELP",
    "RUN_HELP",
    "SEARCH_HELP",
    "STRATEGY_HELP",
    "SURROGATE_HELP",
    "explain",
    "explain_items",
    "metric_help",
]

STRATEGY_HELP = {
    "grid": "Grid search: tries every combination of the listed values "
            "(a range needs a number of points or a step)",
    "random": "Random search: samples the given number of candidates from the lists and "
              "ranges; good when only a few parameters matter",
    "bayes": "Bayesian optimisation: models the score from past trials and tries the most "
             "promising candidate next (scikit-optimize)",
    "halving-grid": "Successive halving over a grid: every candidate on a small budget, the "
                    "best third on three times as much, and so on (HalvingGridSearchCV)",
    "halving-random": "Successive halving over sampled candidates: the trial budget is the "
                      "first rung's candidates (HalvingRandomSearchCV)",
}
SURROGATE_HELP = {
    "GP": "Gaussian process: smooth model of the score, best for a few continuous parameters",
    "RF": "Random forest: copes with many and categorical parameters",
    "ET": "Extra trees: like a random forest, faster and a little rougher",
    "GBRT": "Gradient boosted trees: a tree model that gives uncertainty by quantiles",
}
ACQUISITION_HELP = {
    "gp_hedge": "Chooses among EI, PI and LCB as the study goes, by how well each did",
    "EI": "Expected improvement: how much a candidate is expected to beat the best so far",
    "PI": "Probability of improvement: how likely a candidate beats the best so far",
    "LCB": "Lower confidence bound: favours candidates where the model is unsure (explores)",
}
GENERATOR_HELP = {
    "random": "Initial points drawn at random",
    "sobol": "Initial points from a Sobol sequence: spread evenly over the space",
    "lhs": "Latin hypercube: each parameter's range is covered evenly by the initial points",
    "halton": "Initial points from a Halton sequence: spread evenly over the space",
}
DEFAULT_METRIC_HELP = ("The estimator's own score method: accuracy for classifiers, R² for "
                       "regressors")
METRIC_HELP = {
    "accuracy": "Share of samples classified correctly",
    "balanced_accuracy": "Recall averaged over classes: fair when the classes are imbalanced",
    "f1_macro": "F1 of each class, averaged with the same weight for every class",
    "f1_weighted": "F1 of each class, averaged weighted by the class's size",
    "roc_auc": "Area under the ROC curve of the positive class; binary targets only",
    "roc_auc_ovr": "ROC AUC of each class against the rest, averaged; needs probabilities "
                   "or a decision function",
    "neg_log_loss": "Minus the log loss of the predicted probabilities (higher is better)",
    "precision_macro": "Precision of each class, averaged with the same weight per class",
    "recall_macro": "Recall of each class, averaged with the same weight per class",
    "r2": "Coefficient of determination: 1 is perfect, 0 is as good as predicting the mean",
    "neg_mean_squared_error": "Minus the mean squared error (higher is better); large errors "
                              "weigh most",
    "neg_root_mean_squared_error": "Minus the root mean squared error, in the target's units "
                                   "(higher is better)",
    "neg_mean_absolute_error": "Minus the mean absolute error, in the target's units; "
                               "outliers weigh less",
    "neg_median_absolute_error": "Minus the median absolute error: ignores outliers",
    "explained_variance": "Share of the target's variance that the predictions explain",
}
SEARCH_HELP = {
    "trials": "How many candidates to evaluate (grid search: all candidates unless limited)",
    "seed": "Seed of the sampler, so a study draws the same candidates again",
    "initial_points": "Trials drawn before the model of the score takes over",
    "time_limit": "Stop the study after this many seconds (none: no limit)",
    "patience": "Stop after this many trials without a better score (none: never)",
}
CV_HELP = {
    "folds": "Parts the data is split into; every candidate is fitted once per fold "
             "(StratifiedKFold for classifiers, KFold otherwise)",
    "shuffle": "Shuffle the rows before splitting them into folds: use it when the file is "
               "sorted",
    "seed": "Seed of the shuffle, so every run gets the same folds (none: new folds each run)",
    "metric": "The score every trial is ranked by, computed on each test fold",
    "train_score": "Also score each fit on its own training folds, to see overfitting "
                   "(costs one more prediction per fold)",
}
RUN_HELP = {
    "workers": "Worker processes that fit folds in parallel",
    "cluster": "Address of a Dask scheduler to run the fits on, e.g. tcp://10.0.0.5:8786; "
               "empty: local workers",
}


def metric_help(name: str | None) -> str:
    """The explanation of a scorer name (None: the estimator's own score)."""
    if name is None:
        return DEFAULT_METRIC_HELP
    return METRIC_HELP.get(name, f"The scikit-learn scorer {name!r}")


def explain(widget: QWidget, text: str) -> None:
    """Show ``text`` on hover, in the status bar and in What's This mode."""
    widget.setToolTip(text)
    widget.setStatusTip(text)
    widget.setWhatsThis(text)


def explain_items(combo: QComboBox, describe: Callable[[Any], str]) -> None:
    """Give each item of ``combo`` the explanation ``describe(item data)``, and make the
    combo itself explain its current item."""
    for index in range(combo.count()):
        text = describe(combo.itemData(index))
        combo.setItemData(index, text, Qt.ItemDataRole.ToolTipRole)
        combo.setItemData(index, text, Qt.ItemDataRole.StatusTipRole)
        combo.setItemData(index, text, Qt.ItemDataRole.WhatsThisRole)
    _follow_current(combo)
    if not combo.property("explainsCurrent"):
        combo.setProperty("explainsCurrent", True)
        combo.currentIndexChanged.connect(lambda _index: _follow_current(combo))


def _follow_current(combo: QComboBox) -> None:
    text = combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) or ""
    label = combo.currentText()
    explain(combo, f"{label}: {text}" if text else label)

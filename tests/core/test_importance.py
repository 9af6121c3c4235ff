"""Parameter importance by fANOVA: right on known objectives, robust, and Optuna's numbers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.importance import FanovaImportanceEvaluator, get_param_importances

from hpstudio.core.importance import (
    Importances,
    ParameterValues,
    fanova_importances,
    parameters_from_dicts,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def random_search(seed: int, n: int) -> tuple[list[ParameterValues], np.ndarray]:
    """A random search where C matters (a bowl in log10 C), max_depth a little
    (linear) and ``dummy`` not at all, with a little fold noise."""
    rng = np.random.default_rng(seed)
    c = 10 ** rng.uniform(-3, 3, n)
    depth = rng.integers(1, 21, n).astype(float)
    dummy = rng.uniform(0, 1, n)
    score = (0.9 - 0.1 * (np.log10(c) - 1) ** 2 / 16 + 0.03 * depth / 20
             + 0.003 * rng.normal(size=n))
    params = [ParameterValues("C", c, log=True), ParameterValues("max_depth", depth),
              ParameterValues("dummy", dummy)]
    return params, score


def ranking(result: Importances) -> list[str]:
    return sorted(result.shares, key=lambda name: -result.shares[name])


def optuna_fanova(trials: list[optuna.trial.FrozenTrial], *, normalize: bool = False,
                  seed: int = 0) -> dict[str, float]:
    study = optuna.create_study(direction="maximize")
    study.add_trials(trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed),
                                      normalize=normalize)
    return {name: float(value) for name, value in found.items()}


def numeric_trials(params: list[ParameterValues], y: np.ndarray) -> list:
    """The same trials as an Optuna study: log parameters on their log10 axis, where
    hpstudio analyses them, and bounds at the values seen, the domain hpstudio uses."""
    axes = {p.name: np.log10(p.values) if p.log else p.values for p in params}
    dists = {}
    for p in params:
        low, high = axes[p.name].min(), axes[p.name].max()
        integral = np.all(axes[p.name] == np.round(axes[p.name]))
        dists[p.name] = (IntDistribution(int(low), int(high)) if integral
                         else FloatDistribution(float(low), float(high)))
    return [
        optuna.trial.create_trial(
            params={name: (int(v[i]) if isinstance(dists[name], IntDistribution) else float(v[i]))
                    for name, v in axes.items()},
            distributions=dists, value=float(y[i]))
        for i in range(len(y))
    ]


# -- right on a known objective ----------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_thirty_trial_random_search_ranks_the_parameters_and_gives_the_dummy_almost_nothing(
    seed: int,
):
    params, score = random_search(seed, 30)
    result = fanova_importances(params, score)
    assert ranking(result) == ["C", "max_depth", "dummy"]
    assert result.shares["dummy"] < 0.05
    assert result.shares["max_depth"] > 2 * result.shares["dummy"]
    assert result.n_used == result.n_scored == 30 and not result.note


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("absurd", [-1e9, 1e9])
def test_one_absurd_score_does_not_flip_the_ranking(seed: int, absurd: float):
    params, score = random_search(seed, 50)
    worst_place = int(np.argmax(params[2].values))  # where only the dummy can explain it
    score[worst_place] = absurd
    result = fanova_importances(params, score)
    assert ranking(result) == ["C", "max_depth", "dummy"]


def test_on_raw_scores_the_same_absurd_score_does_flip_it():
    """Why ranks are the default: fitted to the scores, one diverged fit hands its
    variance to the parameter that isolates it."""
    params, score = random_search(0, 50)
    score[int(np.argmax(params[2].values))] = -1e9
    raw = fanova_importances(params, score, target="scores")
    assert raw.shares["dummy"] > 0.5
    assert ranking(fanova_importances(params, score)) == ["C", "max_depth", "dummy"]


def test_shares_never_sum_above_one_and_interactions_take_the_rest():
    rng = np.random.default_rng(7)
    x, z, w = rng.uniform(size=(3, 200))
    for y in (x * z, np.sin(6 * x) + z, (x > 0.5) ^ (z > 0.5), x + 0.0 * w):
        params = [ParameterValues("x", x), ParameterValues("z", z), ParameterValues("w", w)]
        for target in ("ranks", "scores"):
            result = fanova_importances(params, y.astype(float), target=target)
            total = sum(result.shares.values())
            assert 0 < total <= 1 + 1e-12
            assert result.interactions == pytest.approx(max(0.0, 1 - total))
    xor = fanova_importances(params, ((x > 0.5) ^ (z > 0.5)).astype(float), target="scores")
    assert xor.interactions > 0.8  # a pure interaction: neither main effect explains it


def test_shares_come_largest_first_with_their_spread_over_the_trees():
    params, score = random_search(3, 60)
    result = fanova_importances(params, score)
    assert list(result.shares) == ranking(result)
    assert set(result.spread) == set(result.shares)
    assert all(0 <= s < 0.5 for s in result.spread.values())


# -- the same numbers as Optuna's fANOVA -------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1])
def test_fitted_to_the_scores_it_is_optunas_fanova(seed: int):
    params, score = random_search(seed, 80)
    ours = fanova_importances(params, score, target="scores", seed=seed)
    theirs = optuna_fanova(numeric_trials(params, score), seed=seed)
    assert ours.shares == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_fitted_to_the_ranks_it_is_optunas_fanova_of_the_ranks_and_ranks_alike():
    params, score = random_search(2, 80)
    ours = fanova_importances(params, score)
    ranks = (np.argsort(np.argsort(score)) + 0.5) / len(score)  # no ties here
    assert ours.shares == pytest.approx(optuna_fanova(numeric_trials(params, ranks)),
                                        rel=1e-9, abs=1e-12)
    on_scores = optuna_fanova(numeric_trials(params, score))
    assert ranking(ours) == sorted(on_scores, key=lambda name: -on_scores[name])
    for name in ours.shares:
        assert ours.shares[name] == pytest.approx(on_scores[name], abs=0.2)


def categorical_study(n_categories: int, seed: int) -> tuple[list[dict], np.ndarray]:
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, n_categories, 150)
    x, z = rng.uniform(size=(2, 150))
    y = np.linspace(0, 1, n_categories)[kinds] + 0.5 * x + 0.02 * rng.normal(size=150)
    params = [{"kernel": f"k{k}", "x": float(a), "z": float(b)} for k, a, b in zip(kinds, x, z,
                                                                                  strict=True)]
    return params, y


def optuna_trials_from_dicts(params: list[dict], y: np.ndarray, n_categories: int) -> list:
    x = np.array([p["x"] for p in params])
    z = np.array([p["z"] for p in params])
    dists = {"kernel": CategoricalDistribution([f"k{k}" for k in range(n_categories)]),
             "x": FloatDistribution(x.min(), x.max()), "z": FloatDistribution(z.min(), z.max())}
    return [optuna.trial.create_trial(params=p, distributions=dists, value=float(v))
            for p, v in zip(params, y, strict=True)]


def test_a_two_way_categorical_matches_optuna_exactly():
    params, y = categorical_study(2, seed=0)
    ours = fanova_importances(parameters_from_dicts(params), y, target="scores")
    assert ours.shares == pytest.approx(optuna_fanova(optuna_trials_from_dicts(params, y, 2)),
                                        rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_a_three_way_categorical_is_close_to_optuna_and_to_the_true_shares(seed: int):
    """Optuna's one-hot box also weighs "no category" and "two at once"; here each
    category weighs a third. The objective's own shares are 1/6 : 1/48 of the variance,
    i.e. 0.889 for the kernel and 0.111 for x."""
    params, y = categorical_study(3, seed)
    ours = fanova_importances(parameters_from_dicts(params), y, target="scores")
    theirs = optuna_fanova(optuna_trials_from_dicts(params, y, 3))
    assert ranking(ours) == ["kernel", "x", "z"]
    for name in ours.shares:
        assert ours.shares[name] == pytest.approx(theirs[name], abs=0.03)
    assert ours.shares["kernel"] == pytest.approx(8 / 9, abs=0.02)
    assert ours.shares["x"] == pytest.approx(1 / 9, abs=0.02)


def test_a_log_parameter_is_analysed_on_its_log_axis():
    params, score = random_search(4, 60)
    as_log = fanova_importances(params, score)
    exponents = [ParameterValues("C", np.log10(params[0].values)), *params[1:]]
    assert as_log.shares == pytest.approx(fanova_importances(exponents, score).shares)
    linear = [ParameterValues("C", params[0].values), *params[1:]]
    assert fanova_importances(linear, score).shares["C"] != pytest.approx(as_log.shares["C"])


# -- sub-spaces ----------------------------------------------------------------------------

def svc_study(n: int = 300, seed: int = 0) -> tuple[list[dict], np.ndarray]:
    """Two sub-spaces like scikit-learn's SVC grids: linear (C) and rbf (C, gamma).
    The decomposition of this objective, with gamma doing nothing for a linear kernel,
    gives the kernel 0.53 of the variance, C 0.25, gamma 0.11 (and 0.11 to kernel x
    gamma)."""
    rng = np.random.default_rng(seed)
    params, scores = [], []
    for _ in range(n):
        c = 10 ** rng.uniform(-2, 2)
        dummy = float(rng.uniform())
        if rng.uniform() < 0.5:
            params.append({"kernel": "linear", "C": c, "dummy": dummy})
            scores.append(0.80 + 0.01 * math.log10(c))
        else:
            gamma = 10 ** rng.uniform(-4, 1)
            params.append({"kernel": "rbf", "C": c, "gamma": gamma, "dummy": dummy})
            scores.append(0.85 - 0.008 * (math.log10(gamma) + 1.5) ** 2 + 0.01 * math.log10(c))
    return params, np.array(scores) + 0.003 * rng.normal(size=n)


def test_the_parameter_that_picks_the_sub_space_gets_its_credit():
    """gamma is missing exactly where kernel is "linear": its gaps are filled, so
    "gamma not set" does not take the kernel's credit."""
    params, y = svc_study()
    result = fanova_importances(parameters_from_dicts(params, log_params=["C", "gamma"]), y,
                                target="scores")
    assert ranking(result) == ["kernel", "C", "gamma", "dummy"]
    assert result.shares["kernel"] == pytest.approx(0.53, abs=0.05)
    assert result.shares["C"] == pytest.approx(0.25, abs=0.05)
    assert result.shares["gamma"] == pytest.approx(0.11, abs=0.05)
    assert result.shares["dummy"] < 0.01


def test_a_parameter_set_in_one_sub_space_only_carries_that_sub_space():
    """Like the demo's second sub-space, ``bootstrap`` set to False in some trials
    and left at its default elsewhere: nothing else tells them apart, so "not set"
    is a state of bootstrap and bootstrap gets the difference."""
    rng = np.random.default_rng(1)
    params, scores = [], []
    for _ in range(120):
        trees = int(rng.choice([3, 10, 30]))
        p = {"n_estimators": trees, "max_features": int(rng.choice([2, 4, 6, 8]))}
        score = 0.4 + 0.002 * trees
        if rng.uniform() < 0.5:
            p["bootstrap"] = False
            score -= 0.1
        params.append(p)
        scores.append(score)
    result = fanova_importances(parameters_from_dicts(params), np.array(scores),
                                target="scores")
    assert ranking(result)[:2] == ["bootstrap", "n_estimators"]
    assert result.shares["max_features"] < 0.01


def test_a_number_set_in_one_sub_space_only_carries_that_sub_space():
    """``tol`` set in half the trials, nothing else marking them, and setting it
    helps: "not set" is its own state, so tol gets the difference as well as its
    slope where set."""
    rng = np.random.default_rng(2)
    n = 200
    alpha = rng.uniform(0, 1, n)
    tol = np.where(rng.uniform(size=n) < 0.5, rng.uniform(1, 2, n), np.nan)
    y = 0.3 * alpha + np.where(np.isnan(tol), 0.0, 0.4 + 0.1 * np.nan_to_num(tol))
    result = fanova_importances([ParameterValues("alpha", alpha), ParameterValues("tol", tol)],
                                y, target="scores")
    # tol's share by hand: (0.4 + 0.15)^2 / 4 + 0.1^2 / 24 over that plus 0.09 / 12
    by_hand = (0.55 ** 2 / 4 + 0.01 / 24) / (0.55 ** 2 / 4 + 0.01 / 24 + 0.09 / 12)
    assert result.shares["tol"] == pytest.approx(by_hand, abs=0.03)
    assert ranking(result) == ["tol", "alpha"]


def test_a_categorical_with_thirty_categories_gets_its_true_share():
    rng = np.random.default_rng(3)
    n, k = 2000, 30
    kind = rng.integers(0, k, n).astype(float)
    x = rng.uniform(size=n)
    y = 0.3 * kind / k + 0.05 * x
    result = fanova_importances([ParameterValues("kind", kind, categorical=True),
                                 ParameterValues("x", x)], y, target="scores")
    kind_variance = 0.09 * (k * k - 1) / 12 / k**2  # a uniform choice among 30 levels
    x_variance = 0.05**2 / 12
    assert result.shares["kind"] == pytest.approx(kind_variance / (kind_variance + x_variance),
                                                  abs=0.01)


# -- edge cases ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_trials_give_zeros_and_say_why(n: int):
    params = [ParameterValues("C", np.ones(n)), ParameterValues("k", np.zeros(n), categorical=True)]
    result = fanova_importances(params, np.full(n, 0.5))
    assert result.shares == {"C": 0.0, "k": 0.0}
    assert result.n_used == 0 and f"has {n}" in result.note
    assert "needs at least 2 trials" in result.describe()


def test_two_trials_are_analysed():
    params = [ParameterValues("a", np.array([1.0, 2.0])),
              ParameterValues("b", np.array([5.0, 5.0]))]
    result = fanova_importances(params, np.array([0.1, 0.9]))
    assert result.shares == {"a": pytest.approx(1.0), "b": 0.0}
    assert result.n_used == 2 and not result.note


def test_constant_scores_give_zeros_and_say_why():
    params, _ = random_search(0, 40)
    result = fanova_importances(params, np.full(40, 0.75))
    assert set(result.shares.values()) == {0.0}
    assert result.note == "the scores are all the same"
    assert result.interactions == 0.0


def test_a_single_parameter_explains_everything_it_can():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=50)
    result = fanova_importances([ParameterValues("x", x)], np.sin(3 * x))
    assert result.shares == {"x": pytest.approx(1.0)}
    assert result.interactions == pytest.approx(0.0, abs=1e-12)


def test_nan_and_infinite_scores_are_left_out():
    params, score = random_search(1, 40)
    kept = fanova_importances(params, score)
    failed = score.copy()
    holes = [3, 17, 29]
    failed[holes] = [np.nan, np.nan, -np.inf]
    keep = np.setdiff1d(np.arange(40), holes)
    dropped = [ParameterValues(p.name, p.values[keep], p.log, p.categorical) for p in params]
    result = fanova_importances(params, failed)
    assert result.n_scored == result.n_used == 37
    assert result.shares == pytest.approx(fanova_importances(dropped, score[keep]).shares)
    assert result.shares != pytest.approx(kept.shares)
    assert fanova_importances(params, np.full(40, np.nan)).note.startswith("needs at least 2")


def test_a_parameter_with_one_value_or_never_set_gets_zero():
    params, score = random_search(0, 40)
    params += [ParameterValues("fixed", np.full(40, 3.0)),
               ParameterValues("never", np.full(40, np.nan)),
               ParameterValues("one_kind", np.zeros(40), categorical=True)]
    result = fanova_importances(params, score)
    assert result.shares["fixed"] == result.shares["never"] == result.shares["one_kind"] == 0.0
    assert ranking(result)[:2] == ["C", "max_depth"]
    only_fixed = fanova_importances(params[3:], score)
    assert only_fixed.note == "no parameter takes two values"


def test_a_categorical_parameter_alone():
    kinds = np.repeat([0.0, 1.0, 2.0], 10)
    y = np.array([0.2, 0.5, 0.9])[kinds.astype(int)]
    result = fanova_importances([ParameterValues("solver", kinds, categorical=True)], y)
    assert result.shares["solver"] == pytest.approx(1.0)


def test_mismatched_lengths_are_a_programming_error():
    with pytest.raises(ValueError, match="has 3 values for 2 scores"):
        fanova_importances([ParameterValues("a", np.ones(3))], np.ones(2))


# -- big studies ---------------------------------------------------------------------------

def test_a_big_study_is_subsampled_keeping_its_best_trials():
    rng = np.random.default_rng(0)
    n = 20_000
    x, z = rng.uniform(size=(2, n))
    y = -(x - 0.3) ** 2 + 0.01 * z
    params = [ParameterValues("x", x), ParameterValues("z", z)]
    result = fanova_importances(params, y, max_trials=500)
    assert (result.n_used, result.n_scored, result.n_best) == (500, 20_000, 50)
    assert result.sampled
    assert "500 of 20,000 trials (the best 50 and 450 drawn at random)" in result.describe()
    assert ranking(result) == ["x", "z"]
    again = fanova_importances(params, y, max_trials=500)
    assert again.shares == result.shares  # the draw depends on the seed only
    other = fanova_importances(params, y, max_trials=500, seed=1)
    assert other.shares != result.shares


def test_describe_names_the_method_the_target_and_the_trials():
    params, score = random_search(0, 30)
    text = fanova_importances(params, score).describe()
    assert text == "fANOVA over a random forest (64 trees) fitted to the score ranks of 30 trials"
    assert "fitted to the scores of" in fanova_importances(params, score,
                                                           target="scores").describe()


# -- building the columns from params dicts ---------------------------------------------

def test_parameters_from_dicts_tells_numbers_from_categories_and_marks_gaps():
    params = [
        {"C": 1.0, "kernel": "rbf", "gamma": 0.1, "shrinking": True, "depth": None},
        {"C": 10, "kernel": "linear", "shrinking": False, "depth": 3},
        {"C": 100.0, "kernel": "rbf", "gamma": 0.01, "shrinking": True, "depth": None},
    ]
    columns = {c.name: c for c in parameters_from_dicts(params, log_params=["C", "kernel"])}
    assert list(columns) == ["C", "depth", "gamma", "kernel", "shrinking"]
    assert not columns["C"].categorical and columns["C"].log
    np.testing.assert_array_equal(columns["C"].values, [1.0, 10.0, 100.0])
    assert columns["kernel"].categorical and not columns["kernel"].log
    np.testing.assert_array_equal(columns["kernel"].values, [1, 0, 1])  # sorted: linear, rbf
    np.testing.assert_array_equal(columns["gamma"].values, [0.1, np.nan, 0.01])
    assert columns["shrinking"].categorical  # a bool is a choice, not a number
    np.testing.assert_array_equal(columns["shrinking"].values, [1, 0, 1])
    assert columns["depth"].categorical  # None and 3: a choice as well
    np.testing.assert_array_equal(columns["depth"].values, [0, 1, 0])


def test_categories_are_coded_the_same_whatever_order_the_trials_came_in():
    params = [{"k": "b"}, {"k": True}, {"k": 1}, {"k": None}, {"k": [1, 2]}, {"k": "a"}]
    codes = parameters_from_dicts(params)[0].values
    np.testing.assert_array_equal(codes, [4, 1, 2, 0, 5, 3])  # True and 1 stay apart
    reordered = parameters_from_dicts(params[::-1])[0].values
    np.testing.assert_array_equal(reordered, codes[::-1])

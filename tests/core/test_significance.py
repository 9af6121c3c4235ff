"""Corrected t-test and Bayesian ROPE comparison: scikit-learn's gallery numbers, edge cases."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from scipy.stats import t as student_t
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold
from sklearn.svm import SVC

from hpstudio.core.errors import DataError
from hpstudio.core.significance import (
    compare_pair,
    compare_with_best,
    corrected_std,
    corrected_ttest,
    rope_probabilities,
    split_size_ratio,
)


class GalleryExample:
    """The setup of scikit-learn's ``plot_grid_search_stats.py``, with its own formulas
    written out here to check ours against."""

    def __init__(self) -> None:
        x, y = make_moons(noise=0.352, random_state=1, n_samples=100)
        param_grid = [{"kernel": ["linear"]}, {"kernel": ["poly"], "degree": [2, 3]},
                      {"kernel": ["rbf"]}]
        self.cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=10, random_state=0)
        search = GridSearchCV(SVC(random_state=0), param_grid, scoring="roc_auc", cv=self.cv)
        search.fit(x, y)
        results = search.cv_results_
        order = np.argsort(results["rank_test_score"], kind="stable")
        self.names = ["_".join(str(v) for v in results["params"][i].values()) for i in order]
        n_splits = self.cv.get_n_splits()
        self.scores = np.array([[results[f"split{k}_test_score"][i] for k in range(n_splits)]
                                for i in order])
        first_train, first_test = next(iter(self.cv.split(x, y)))
        self.n_train, self.n_test = len(first_train), len(first_test)
        self.sizes = [(len(a), len(b)) for a, b in self.cv.split(x, y)]

    # the example's corrected_std, compute_corrected_ttest and posterior
    def corrected_std(self, differences: np.ndarray) -> float:
        kr = len(differences)
        return np.sqrt(np.var(differences, ddof=1) * (1 / kr + self.n_test / self.n_train))

    def ttest(self, differences: np.ndarray) -> tuple[float, float]:
        t_stat = np.mean(differences) / self.corrected_std(differences)
        return t_stat, student_t.sf(np.abs(t_stat), len(differences) - 1)

    def posterior(self, differences: np.ndarray):
        return student_t(len(differences) - 1, loc=np.mean(differences),
                         scale=self.corrected_std(differences))


@pytest.fixture(scope="module")
def gallery() -> GalleryExample:
    return GalleryExample()


def test_the_gallery_setup_ranks_rbf_linear_3_poly_2_poly(gallery: GalleryExample):
    assert gallery.names == ["rbf", "linear", "3_poly", "2_poly"]
    assert gallery.scores.shape == (4, 100)
    assert (gallery.n_train, gallery.n_test) == (90, 10)


def test_best_against_second_gives_the_examples_t_and_p(gallery: GalleryExample):
    table = compare_with_best(gallery.scores, gallery.n_train, gallery.n_test)
    assert table.best == 0 and [r.candidate for r in table.rows] == [1, 2, 3]
    assert table.test_train_ratio == pytest.approx(10 / 90)
    row = table.rows[0]
    differences = gallery.scores[0] - gallery.scores[1]
    t_stat, p_val = gallery.ttest(differences)
    assert row.t_statistic == pytest.approx(t_stat, rel=1e-12)
    assert row.p_value == pytest.approx(p_val, rel=1e-12)
    assert row.std == pytest.approx(gallery.corrected_std(differences), rel=1e-12)
    assert row.mean_difference == pytest.approx(np.mean(differences), rel=1e-12)
    assert row.n_splits == 100
    # the page's reading: the corrected test does not find rbf better than linear,
    # where the uncorrected one (variance / n only) would
    uncorrected_t = np.mean(differences) / np.sqrt(np.var(differences, ddof=1) / 100)
    assert student_t.sf(uncorrected_t, 99) < 0.05 < row.p_value
    # what the example prints, to its three decimals
    assert round(row.t_statistic, 3) == 0.750 and round(row.p_value, 3) == 0.227
    assert round(uncorrected_t, 3) == 2.611


def test_best_against_second_gives_the_examples_posterior_and_credible_intervals(
    gallery: GalleryExample,
):
    differences = gallery.scores[0] - gallery.scores[1]
    posterior = gallery.posterior(differences)
    no_rope = compare_with_best(gallery.scores, gallery.n_train, gallery.n_test, rope=0.0)
    assert no_rope.rows[0].p_best_better == pytest.approx(1 - posterior.cdf(0), rel=1e-12)
    assert no_rope.rows[0].p_candidate_better == pytest.approx(posterior.cdf(0), rel=1e-12)
    assert no_rope.rows[0].p_equivalent == pytest.approx(0.0, abs=1e-15)
    row = compare_with_best(gallery.scores, gallery.n_train, gallery.n_test).rows[0]
    rope_prob = posterior.cdf(0.01) - posterior.cdf(-0.01)
    assert row.p_equivalent == pytest.approx(rope_prob, rel=1e-12)
    assert row.interval == pytest.approx(posterior.interval(0.95), rel=1e-12)
    # the 95 % credible interval the page states
    assert row.interval == pytest.approx((-0.016445, 0.036445), abs=5e-7)


def test_each_pair_of_the_example_gives_its_t_p_and_probabilities(gallery: GalleryExample):
    """The example's pairwise table: t, Bonferroni p over all 6 pairs, and the
    probabilities under the ROPE [-0.01, 0.01]."""
    pairs = list(combinations(range(4), 2))
    for i, k in pairs:
        ours = compare_pair(gallery.scores[i], gallery.scores[k], gallery.n_train,
                            gallery.n_test, rope=0.01, candidate=k, n_compared=len(pairs))
        differences = gallery.scores[i] - gallery.scores[k]
        t_stat, p_val = gallery.ttest(differences)
        posterior = gallery.posterior(differences)
        assert ours.t_statistic == pytest.approx(t_stat, rel=1e-12)
        assert ours.p_value == pytest.approx(p_val, rel=1e-12, abs=1e-300)
        assert ours.p_value_bonferroni == pytest.approx(min(1.0, p_val * 6), rel=1e-12,
                                                        abs=1e-300)
        assert ours.p_candidate_better == pytest.approx(posterior.cdf(-0.01), rel=1e-9,
                                                        abs=1e-15)
        assert ours.p_best_better == pytest.approx(1 - posterior.cdf(0.01), rel=1e-9,
                                                   abs=1e-15)
        assert ours.p_equivalent == pytest.approx(
            posterior.cdf(0.01) - posterior.cdf(-0.01), rel=1e-9, abs=1e-15)
        # the page: after Bonferroni, only 2_poly differs significantly from the others
        assert (ours.p_value_bonferroni < 0.05) == (k == 3)


def test_the_figures_the_gallery_page_states(gallery: GalleryExample):
    """rbf has about a 6.8 % chance of being worse than linear and 1.8 % than 3_poly;
    rbf and linear are practically equivalent with 43 %, rbf and 3_poly with 10 %;
    every model is better than 2_poly with 100 %, none equivalent to it."""
    table = compare_with_best(gallery.scores, gallery.n_train, gallery.n_test)
    linear, poly3, poly2 = table.rows
    assert round(linear.p_candidate_better, 3) == 0.068
    assert round(poly3.p_candidate_better, 3) == 0.018
    assert round(linear.p_equivalent, 2) == 0.43
    assert round(poly3.p_equivalent, 2) == 0.10
    assert round(poly2.p_best_better, 3) == 1.0 and round(poly2.p_equivalent, 3) == 0.0
    for i in (1, 2):
        versus_2_poly = compare_pair(gallery.scores[i], gallery.scores[3], gallery.n_train,
                                     gallery.n_test)
        assert round(versus_2_poly.p_best_better, 3) == 1.0
        assert round(versus_2_poly.p_equivalent, 3) == 0.0


def test_sizes_per_split_give_the_same_answer_as_constant_sizes(gallery: GalleryExample):
    n_train, n_test = map(np.array, zip(*gallery.sizes, strict=True))
    assert set(n_train) == {90} and set(n_test) == {10}
    per_split = compare_with_best(gallery.scores, n_train, n_test)
    scalar = compare_with_best(gallery.scores, 90, 10)
    assert per_split == scalar


def test_probabilities_and_p_value_agree_when_there_is_no_rope():
    rng = np.random.default_rng(0)
    scores = 0.8 + 0.02 * rng.normal(size=(3, 20)) + np.array([[0.01], [0.0], [-0.03]])
    table = compare_with_best(scores, 80, 20, rope=0.0)
    for row in table.rows:
        # same Student t on both sides: P(best better) = 1 - one-sided p
        assert row.p_best_better == pytest.approx(1 - row.p_value, rel=1e-12)
        assert row.p_best_better + row.p_equivalent + row.p_candidate_better == pytest.approx(1)


def test_uneven_folds_use_the_mean_ratio_over_the_splits():
    ratios = split_size_ratio([67, 67, 66], [33, 33, 34], 3)
    np.testing.assert_allclose(ratios, [33 / 67, 33 / 67, 34 / 66])
    a = np.array([0.90, 0.85, 0.88])
    b = np.array([0.86, 0.84, 0.85])
    row = compare_pair(a, b, [67, 67, 66], [33, 33, 34])
    d = a - b
    expected_std = math.sqrt(np.var(d, ddof=1) * (1 / 3 + ratios.mean()))
    assert row.std == pytest.approx(expected_std)
    assert row.t_statistic == pytest.approx(d.mean() / expected_std)


def test_the_best_defaults_to_the_highest_mean_and_can_be_chosen():
    scores = np.array([[0.70, 0.72, 0.71], [0.80, 0.79, 0.83], [0.75, 0.74, 0.78]])
    assert compare_with_best(scores, 90, 10).best == 1
    chosen = compare_with_best(scores, 90, 10, best=2, candidates=[1, 2, 0])
    assert chosen.best == 2 and [r.candidate for r in chosen.rows] == [1, 0]
    assert chosen.rows[0].mean_difference < 0 and chosen.rows[0].p_value > 0.5
    assert chosen.rows[0].p_value_bonferroni == pytest.approx(1.0)


# -- edge cases ------------------------------------------------------------------------------

def test_identical_scores_are_equivalent_with_no_spread_to_test():
    scores = np.tile([0.81, 0.79, 0.85, 0.80], (2, 1))
    row = compare_with_best(scores, 90, 10).rows[0]
    assert row.mean_difference == 0.0 and row.std == 0.0
    assert (row.t_statistic, row.p_value) == (0.0, 0.5)
    assert (row.p_best_better, row.p_equivalent, row.p_candidate_better) == (0.0, 1.0, 0.0)
    assert row.interval == (0.0, 0.0)
    assert "same on every split" in row.note


def test_a_constant_gap_is_certain_on_the_side_of_the_rope_it_falls():
    base = np.array([0.81, 0.79, 0.85, 0.80])
    big_gap = compare_pair(base, base - 0.05, 90, 10)
    assert (big_gap.t_statistic, big_gap.p_value) == (math.inf, 0.0)
    assert (big_gap.p_best_better, big_gap.p_equivalent) == (1.0, 0.0)
    small_gap = compare_pair(base, base - 0.005, 90, 10)
    assert small_gap.p_equivalent == 1.0 and small_gap.p_value == 0.0
    assert corrected_ttest(np.full(4, -0.02), 0.1) == (-math.inf, 1.0)
    assert rope_probabilities(np.full(4, -0.02), 0.1) == (0.0, 0.0, 1.0)


def test_fewer_than_two_splits_is_a_clear_error():
    with pytest.raises(DataError, match="at least 2 CV splits, and these have 1"):
        compare_with_best(np.array([[0.9], [0.8]]), 90, 10)
    with pytest.raises(DataError, match="one row per candidate"):
        compare_with_best(np.array([0.9, 0.8]), 90, 10)


def test_bad_sizes_rope_or_rows_are_clear_errors():
    scores = np.array([[0.9, 0.8, 0.85], [0.7, 0.75, 0.72]])
    with pytest.raises(DataError, match="one number or one per split"):
        compare_with_best(scores, [90, 90], 10)
    with pytest.raises(DataError, match="positive"):
        compare_with_best(scores, 0, 10)
    with pytest.raises(DataError, match="half-width of 0 or more"):
        compare_with_best(scores, 90, 10, rope=-0.1)
    with pytest.raises(DataError, match="no candidate 5 among 2"):
        compare_with_best(scores, 90, 10, best=5)
    with pytest.raises(DataError, match="same splits"):
        compare_pair(scores[0], scores[1, :2], 90, 10)


def test_nan_scores_drop_the_split_from_that_pair_only():
    rng = np.random.default_rng(1)
    scores = 0.8 + 0.02 * rng.normal(size=(3, 10)) + np.array([[0.02], [0.0], [0.0]])
    scores[1, 4] = np.nan  # a failed fold of candidate 1
    table = compare_with_best(scores, 90, 10)
    first, second = table.rows
    assert first.n_splits == 9 and second.n_splits == 10
    keep = np.arange(10) != 4
    d = scores[0, keep] - scores[1, keep]
    assert first.std == pytest.approx(corrected_std(d, 10 / 90))
    assert first.t_statistic == pytest.approx(d.mean() / corrected_std(d, 10 / 90))
    assert second.t_statistic == pytest.approx(corrected_ttest(scores[0] - scores[2], 1 / 9)[0])


def test_a_candidate_with_fewer_than_two_common_splits_gets_nan_and_a_note():
    scores = np.array([[0.9, 0.8, 0.85, 0.88], [np.nan, np.nan, np.nan, 0.7],
                       [0.7, 0.75, 0.72, 0.71]])
    table = compare_with_best(scores, 90, 10)
    failed, fine = table.rows
    assert failed.n_splits == 1 and math.isnan(failed.t_statistic)
    assert math.isnan(failed.p_best_better) and "needs 2 or more" in failed.note
    assert fine.n_splits == 4 and not fine.note and fine.p_value < 0.05


def test_a_best_row_is_found_among_partly_failed_candidates():
    scores = np.array([[np.nan, np.nan, np.nan], [0.6, np.nan, 0.62], [0.5, 0.52, 0.51]])
    assert compare_with_best(scores, 90, 10).best == 1
    with pytest.raises(DataError, match="no candidate has a finite score"):
        compare_with_best(np.full((2, 3), np.nan), 90, 10)

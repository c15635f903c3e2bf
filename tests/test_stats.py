import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from repcore import stats


def _mean_difference(a, b, axis=-1):
    return a.mean(axis) - b.mean(axis)


def test_bootstrap_interval_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = 0
    trials = 200
    for i in range(trials):
        a = rng.normal(0.3, 1.0, 200)
        b = rng.normal(0.0, 1.0, 200)
        low, high = stats.paired_bootstrap(_mean_difference, [a, b], seed=i, n_resamples=1000).interval()
        covered += low <= 0.3 <= high
    assert 0.90 <= covered / trials <= 0.99


def test_same_seed_gives_the_same_interval_and_batching_changes_nothing(monkeypatch):
    x = np.random.default_rng(1).normal(size=100)
    y = np.zeros(100)
    first = stats.paired_bootstrap(_mean_difference, [x, y])
    assert first.interval() == stats.paired_bootstrap(_mean_difference, [x, y]).interval()
    monkeypatch.setattr(stats, "BATCH", None)
    assert first.interval() == stats.paired_bootstrap(_mean_difference, [x, y]).interval()


def test_spearman_and_pearson_match_scipy():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=50), rng.normal(size=50)
    y[:10] = y[0]  # ties
    assert stats.spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert stats.pearson(x, y) == pytest.approx(sps.pearsonr(x, y).statistic)


@given(st.integers(0, 2 ** 31 - 1), st.integers(1, 60), st.integers(1, 8))
def test_resample_ranks_are_the_average_ranks_of_each_resample(seed, n, distinct):
    """Counting ranks from the sample's tie groups gives scipy's average ranks, ties and repeats included."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, distinct, n).astype(float) + (rng.random(n) if distinct > 4 else 0)
    idx = rng.integers(0, n, (7, n))
    assert np.array_equal(stats.resample_ranks(x, idx), sps.rankdata(x[idx], axis=-1))


def test_spearman_by_counted_ranks_is_the_paired_bootstrap_of_spearman():
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=300), 1)
    y = x + rng.normal(size=300)
    fast = stats.spearman_bootstrap(x, y, n_resamples=500)
    reference = stats.paired_bootstrap(stats.spearman, [x, y], n_resamples=500)
    assert fast.value == reference.value
    assert np.array_equal(fast.distribution, reference.distribution)
    shuffled = stats.spearman_permutations(x, y, n_permutations=200)
    reference = stats.permutation_distribution(stats.spearman, [x, y], shuffled=1, n_permutations=200)
    assert np.array_equal(shuffled.distribution, reference.distribution)


def _estimate(value, se, n=1000):
    return stats.Estimate(value, np.random.default_rng(0).normal(value, se, 4000), n)


def test_over_seeds_adds_the_seed_spread_and_the_sample_error_in_quadrature():
    estimates = [_estimate(v, 0.01) for v in (0.4, 0.5, 0.6)]
    interval = stats.over_seeds(estimates, [0, 1, 2])
    se = np.mean([e.se for e in estimates])
    half = np.hypot(sps.t.ppf(0.975, 2) * 0.1 / np.sqrt(3), sps.norm.ppf(0.975) * se)
    assert interval.value == pytest.approx(0.5)
    assert (interval.low, interval.high) == pytest.approx((0.5 - half, 0.5 + half))
    assert interval.between_seed_sd == pytest.approx(0.1) and "3 training seeds" in interval.unit
    assert [p[0] for p in interval.per_seed] == [0.4, 0.5, 0.6]


def test_over_seeds_is_wider_than_any_single_seed_when_seeds_disagree():
    """Two hard-label seeds differ more than one seed's sample interval says: the seed-level
    interval must cover both, a single-seed interval covers neither."""
    estimates = [_estimate(-0.012, 0.003), _estimate(0.039, 0.003), _estimate(0.01, 0.003)]
    interval = stats.over_seeds(estimates, [0, 1, 2])
    assert interval.low < -0.012 and interval.high > 0.039
    single = stats.over_seeds(estimates[:1], [0])
    assert single.unit == "single seed: sample variance only" and single.high < 0.039


def test_permutation_distribution_of_a_shuffled_correlation_is_centred_on_zero_and_seeded():
    rng = np.random.default_rng(3)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    permuted = stats.permutation_distribution(stats.spearman, [x, y], shuffled=1)
    low, high = permuted.interval()
    assert low < 0 < high and abs(permuted.value) < 0.01 and len(permuted.distribution) == stats.N_PERMUTATIONS
    assert permuted.interval() == stats.permutation_distribution(stats.spearman, [x, y], shuffled=1).interval()
    real = stats.paired_bootstrap(stats.spearman, [x, y]).interval()
    assert real[0] > high


def test_an_undefined_resample_makes_the_interval_undefined():
    estimate = stats.Estimate(0.5, np.array([0.4, np.nan, 0.6]), 100)
    assert np.isnan(estimate.interval()).all()

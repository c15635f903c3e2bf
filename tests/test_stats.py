import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from repcore import stats


def _mean_difference(w, a, b):
    return stats.weighted_mean(w, a) - stats.weighted_mean(w, b)


def test_bootstrap_interval_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = 0
    trials = 200
    for i in range(trials):
        a = rng.normal(0.3, 1.0, 200)
        b = rng.normal(0.0, 1.0, 200)
        low, high = stats.bootstrap(_mean_difference, [a, b], seed=i).interval()
        covered += low <= 0.3 <= high
    assert 0.90 <= covered / trials <= 0.99


def test_the_counts_are_the_resampled_indices_and_the_same_for_every_statistic():
    indices, counts = stats.resample_indices(50), stats.resample_counts(50)
    assert counts.shape == (stats.N_RESAMPLES, 50) and (counts.sum(1) == 50).all()
    assert np.array_equal(counts[7], np.bincount(indices[7], minlength=50))
    x = np.random.default_rng(1).normal(size=50)
    by_weights = stats.bootstrap(stats.weighted_mean, [x])
    by_index = stats.index_bootstrap(lambda idx, axis=-1: x[idx].mean(axis), 50, vectorized=True)
    assert np.allclose(by_weights.distribution, by_index.distribution)
    assert by_weights.resampling == by_index.resampling == (50, stats.N_RESAMPLES, stats.SEED)
    with pytest.raises(ValueError):
        stats.resample_indices(50)[0, 0] = 1


def test_same_seed_gives_the_same_interval_and_batching_changes_nothing(monkeypatch):
    x = np.random.default_rng(1).normal(size=100)
    y = np.zeros(100)
    first = stats.bootstrap(_mean_difference, [x, y])
    assert first.interval() == stats.bootstrap(_mean_difference, [x, y]).interval()
    monkeypatch.setattr(stats, "BATCH", stats.N_RESAMPLES)
    assert np.allclose(first.distribution, stats.bootstrap(_mean_difference, [x, y]).distribution)


def test_spearman_and_pearson_match_scipy():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=50), rng.normal(size=50)
    y[:10] = y[0]  # ties
    assert stats.spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert stats.pearson(x, y) == pytest.approx(sps.pearsonr(x, y).statistic)
    assert stats.weighted_spearman(np.ones(50), x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert stats.weighted_pearson(np.ones(50), x, y) == pytest.approx(sps.pearsonr(x, y).statistic)


@given(st.integers(0, 2 ** 31 - 1), st.integers(2, 60), st.integers(1, 8))
def test_weighted_ranks_are_the_average_ranks_of_each_resample(seed, n, distinct):
    """Ranks counted from the tie groups under a resample's counts are scipy's average ranks of
    the resample drawn by index, ties and repeats included."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, distinct, n).astype(float) + (rng.random(n) if distinct > 4 else 0)
    idx = rng.integers(0, n, (7, n))
    counts = stats.counts_of(idx, n)
    ranks = stats.weighted_ranks(counts, x)
    assert all(np.array_equal(ranks[r][idx[r]], sps.rankdata(x[idx[r]])) for r in range(7))
    assert np.array_equal(stats.average_ranks(x[idx]), sps.rankdata(x[idx], axis=-1))


def test_weighted_spearman_is_the_spearman_of_each_resample():
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=300), 1)
    y = x + rng.normal(size=300)
    fast = stats.bootstrap(stats.weighted_spearman, [x, y])
    reference = [sps.spearmanr(x[i], y[i]).statistic for i in stats.resample_indices(300)[:100]]
    assert fast.value == pytest.approx(sps.spearmanr(x, y).statistic)
    assert np.allclose(fast.distribution[:100], reference)
    z = rng.normal(size=300)
    partial = stats.bootstrap(stats.weighted_partial_spearman, [x, y, z])
    ranks = [stats.average_ranks(a) for a in (x, y, z)]
    assert partial.value == pytest.approx(float(stats.partial_correlation(*ranks)))


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
    assert [p[0] for p in interval.per_seed] == [0.4, 0.5, 0.6] and not interval.joint
    assert interval.half_width == pytest.approx(half)


def test_runs_on_shared_resamples_take_the_joint_standard_error():
    """Two runs whose sampling errors are opposite (as a hard and a regularized model of two seeds
    can be): their mean barely moves under resampling, which the joint standard error sees and the
    mean of the runs' errors does not."""
    noise = np.random.default_rng(3).normal(0, 0.01, stats.N_RESAMPLES)
    shared = (100, stats.N_RESAMPLES, stats.SEED)
    a = stats.Estimate(0.5, 0.5 + noise, 100, shared)
    b = stats.Estimate(0.6, 0.6 - noise, 100, shared)
    interval = stats.over_seeds([a, b], [0, 1])
    assert interval.joint and interval.sample_se < 0.1 * interval.runs_se
    unaligned = stats.over_seeds([a, stats.Estimate(0.6, b.distribution, 100, None)], [0, 1])
    assert not unaligned.joint and unaligned.sample_se == pytest.approx(unaligned.runs_se)


def test_comparisons_say_what_pairing_by_seed_buys():
    rng = np.random.default_rng(8)
    base = [rng.random(200) + s for s in range(4)]  # seed effects shared by model and baseline
    model = [b + 0.1 + 0.01 * rng.random(200) for b in base]
    estimates = [stats.comparison(stats.weighted_mean, [m], [b]) for m, b in zip(model, base, strict=True)]
    pairing = stats.over_seeds(estimates, [0, 1, 2, 3]).pairing
    assert pairing["correlation"] > 0.99 and pairing["paired_sd"] < 0.1 * pairing["unpaired_sd"]
    assert estimates[0].parts == pytest.approx((model[0].mean(), base[0].mean()))


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
    permuted = stats.spearman_permutations(x, y)
    low, high = permuted.interval()
    assert low < 0 < high and abs(permuted.value) < 0.01 and len(permuted.distribution) == stats.N_PERMUTATIONS
    assert permuted.interval() == stats.spearman_permutations(x, y).interval()
    real = stats.bootstrap(stats.weighted_spearman, [x, y]).interval()
    assert real[0] > high


def test_an_undefined_resample_makes_the_interval_undefined():
    estimate = stats.Estimate(0.5, np.array([0.4, np.nan, 0.6]), 100)
    assert np.isnan(estimate.interval()).all()


@pytest.mark.parametrize("seed_sd, image_sd, noise_sd", [(0.02, 1.0, 0.5), (0.1, 0.3, 0.3)],
                         ids=["test-sample term dominant", "seed term dominant"])
def test_the_seed_level_interval_covers_the_mean_of_a_crossed_design(seed_sd, image_sd, noise_sd):
    """A synthetic crossed design with known mean: S = 5 runs see the same n = 400 test samples;
    x_si = mu + a_s + c_i + e_si (a run effect, an image effect every run shares, noise). Over 400
    seeded replications the 95% interval of ``over_seeds`` on one bootstrap estimate per run
    covers mu at least 93% of the time; its mean width is printed beside the width of the previous
    formula (the mean of the runs' standard errors as the sample term): ``pytest -s`` shows it."""
    rng = np.random.default_rng(11)
    mu, seeds, n, replications = 0.3, 5, 400, 400
    covered, widths, old_widths = 0, [], []
    for _ in range(replications):
        images = rng.normal(0, image_sd, n)
        runs = [mu + rng.normal(0, seed_sd) + images + rng.normal(0, noise_sd, n) for _ in range(seeds)]
        interval = stats.over_seeds([stats.bootstrap(stats.weighted_mean, [x]) for x in runs], list(range(seeds)))
        covered += interval.low <= mu <= interval.high
        widths.append(interval.high - interval.low)
        old_widths.append(2 * np.hypot(interval.seed_half, sps.norm.ppf(0.975) * interval.runs_se))
    print(f"\ncoverage {covered / replications:.1%} over {replications} replications; mean width "
          f"{np.mean(widths):.4f} (joint bootstrap) against {np.mean(old_widths):.4f} (mean of the runs' errors)")
    assert covered / replications >= 0.93
    assert np.mean(widths) <= np.mean(old_widths)

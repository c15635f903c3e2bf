import numpy as np
import pytest

from repcore import stats


def _mean_difference(a, b, axis=-1):
    return a.mean(axis) - b.mean(axis)


def test_bootstrap_ci_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = 0
    trials = 200
    for i in range(trials):
        a = rng.normal(0.3, 1.0, 200)
        b = rng.normal(0.0, 1.0, 200)
        _, low, high = stats.paired_bootstrap_ci(_mean_difference, [a, b], seed=i, n_resamples=1000)
        covered += low <= 0.3 <= high
    assert 0.90 <= covered / trials <= 0.99


def test_same_seed_gives_the_same_interval():
    x = np.random.default_rng(1).normal(size=100)
    y = np.zeros(100)
    assert stats.paired_bootstrap_ci(_mean_difference, [x, y]) == stats.paired_bootstrap_ci(_mean_difference, [x, y])


def test_spearman_and_pearson_match_scipy():
    from scipy import stats as sps
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=50), rng.normal(size=50)
    y[:10] = y[0]  # ties
    assert stats.spearman(x, y) == pytest.approx(sps.spearmanr(x, y).statistic)
    assert stats.pearson(x, y) == pytest.approx(sps.pearsonr(x, y).statistic)


@pytest.mark.parametrize("ci, direction, outcome", [
    ((0.1, 0.2), "above", stats.Outcome.SUPPORTED),
    ((-0.2, -0.1), "above", stats.Outcome.REFUTED),
    ((-0.1, 0.1), "above", stats.Outcome.INCONCLUSIVE),
    ((-0.2, -0.1), "below", stats.Outcome.SUPPORTED),
    ((0.1, 0.2), "below", stats.Outcome.REFUTED),
])
def test_decide(ci, direction, outcome):
    assert stats.decide("X", "s", np.mean(ci), ci, 0.0, direction, n=100).outcome is outcome


def test_too_little_data_is_inconclusive_and_records_are_plain_python():
    verdict = stats.decide("X", "s", np.float32(0.5), (np.float64(0.4), 0.6), 0, "above", n=10)
    assert verdict.outcome is stats.Outcome.INCONCLUSIVE and "too little data" in verdict.reason
    record = verdict.record()
    assert all(type(v) in (str, float, int) for v in record.values())

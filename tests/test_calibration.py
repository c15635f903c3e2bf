import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

from repcore import calibration


def _predictions(seed=0, n=3000, k=5, sharpness=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = sharpness * torch.randn(n, k, generator=g)
    labels = torch.where(torch.rand(n, generator=g) < 0.6, logits.argmax(1), torch.randint(0, k, (n,), generator=g))
    return logits, labels


def test_ece_and_mce_match_torchmetrics():
    from torchmetrics.classification import MulticlassCalibrationError
    logits, labels = _predictions()
    conf, correct = calibration.confidence_and_correct(logits, labels)
    probs = torch.softmax(logits.double(), 1)
    for norm, ours in (("l1", calibration.expected_calibration_error),
                       ("max", calibration.maximum_calibration_error)):
        reference = MulticlassCalibrationError(num_classes=5, n_bins=15, norm=norm)(probs, labels)
        assert ours(conf, correct) == pytest.approx(float(reference), abs=1e-6)  # theirs is float32


def test_a_perfectly_calibrated_predictor_has_near_zero_ece():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.2, 1.0, 200_000)
    correct = (rng.random(conf.shape) < conf).astype(float)
    assert calibration.expected_calibration_error(conf, correct) < 0.005
    assert calibration.adaptive_calibration_error(conf, correct) < 0.005
    assert abs(calibration.signed_gap(conf, correct)) < 0.005


def test_reliability_bins_count_every_sample_once_with_guo_edges():
    conf = np.array([0.0, 1 / 15, 1 / 15 + 1e-9, 0.5, 1.0])
    bins = calibration.reliability_bins(conf, np.ones(5))
    assert bins.counts.sum() == 5 and bins.counts[0] == 2 and bins.counts[1] == 1 and bins.counts[14] == 1


def test_signed_gap_is_positive_when_over_confident():
    assert calibration.signed_gap(np.full(10, 0.9), np.r_[np.ones(5), np.zeros(5)]) == pytest.approx(0.4)


def test_fitted_temperature_recovers_the_temperature_that_generated_the_labels():
    g = torch.Generator().manual_seed(1)
    logits = 4 * torch.randn(20000, 4, generator=g)
    labels = torch.multinomial(torch.softmax(logits / 2.5, 1), 1, generator=g).squeeze(1)
    assert calibration.fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.05)


def test_bias_free_feature_scale_is_the_inverse_temperature():
    g = torch.Generator().manual_seed(2)
    W, v = torch.randn(4, 6, generator=g), torch.randn(5000, 6, generator=g)
    labels = torch.multinomial(torch.softmax(v @ W.T / 2.0, 1), 1, generator=g).squeeze(1)
    s = calibration.fit_feature_scale(W, None, v, labels)
    t = calibration.fit_temperature(v @ W.T, labels)
    assert s * t == pytest.approx(1.0, rel=1e-4)


def test_ece_curve_is_lowest_near_the_fitted_temperature():
    g = torch.Generator().manual_seed(3)
    logits = 4 * torch.randn(20000, 4, generator=g)
    labels = torch.multinomial(torch.softmax(logits / 2.5, 1), 1, generator=g).squeeze(1)
    t = calibration.fit_temperature(logits, labels)
    curve = calibration.ece_curve(lambda x: logits * x, labels, np.array([0.2 / t, 1 / t, 5 / t]))
    assert curve[1] < curve[0] and curve[1] < curve[2]


def test_a_fit_without_a_finite_optimum_says_so_instead_of_returning_its_bound():
    """Every prediction right: the NLL keeps falling as T -> 0, so T* has no finite optimum."""
    logits = torch.tensor([[3.0, 0.0], [0.0, 3.0]]).repeat(50, 1)
    labels = torch.tensor([0, 1]).repeat(50)
    with pytest.raises(calibration.FitAtBoundError, match="temperature T\\* fit landed on its search bound e\\^-5"):
        calibration.fit_temperature(logits, labels)


def test_temperature_is_fitted_on_float64_logits():
    logits = torch.randn(200, 5, generator=torch.Generator().manual_seed(0)) * 4
    labels = torch.randint(0, 5, (200,), generator=torch.Generator().manual_seed(1))
    assert calibration.fit_temperature(logits, labels) == calibration.fit_temperature(logits.double(), labels)


@given(st.integers(0, 2 ** 31 - 1), st.floats(0.3, 4.0), st.floats(0.5, 8.0), st.booleans())
def test_batched_fits_find_the_minimum_a_scalar_search_finds(seed, temperature, spread, biased):
    """Newton on the convex NLL agrees with scipy's bounded scalar search, for every resample of a batch."""
    g = torch.Generator().manual_seed(seed)
    a = spread * torch.randn(3, 300, 4, generator=g, dtype=torch.float64)
    c = torch.randn(4, generator=g, dtype=torch.float64) if biased else 0.0
    labels = torch.multinomial(torch.softmax((a + c).reshape(-1, 4) / temperature, 1), 1,
                               generator=g).reshape(3, 300)
    fits = calibration.fit_logit_scales(a, c, labels)

    def nll(x, r):
        z = x * a[r] + c
        return float((torch.logsumexp(z, 1) - z.gather(1, labels[r, :, None]).squeeze(1)).mean())

    bound = np.exp(calibration.LOG_SEARCH_BOUND)
    for r in range(3):
        reference = optimize.minimize_scalar(nll, bounds=(1 / bound, bound), args=(r,), method="bounded",
                                             options={"xatol": 1e-9})
        assert nll(fits[r], r) <= reference.fun + 1e-9
        assert fits[r] == pytest.approx(reference.x, rel=1e-4)

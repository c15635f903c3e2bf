"""C6: feature scaling behaves like temperature scaling. Without a bias the two are identical:
softmax(W (s v)) = softmax((W v) / T) for T = 1/s. On trained heads, the scale s* and the
temperature T* fitted by NLL on the validation split satisfy s* T* ~ 1 and calibrate alike.

Declared: the 95% CI (over validation resamples, both refitted) of s* T* - 1 lies within +-0.1
(checked as |s* T* - 1| below 0.1), and the CI of |ECE after s* - ECE after T*| on the test split
lies below 1 point. Negative control: the hard head given a large bias, where the equivalence breaks.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.zoo_views import large_bias
from repcore.calibration import (confidence_and_correct, ece_curve, expected_calibration_error,
                                 fit_feature_scale, fit_temperature, scaled_feature_logits)
from repcore.report.figures import scaling_curves
from repcore.features import head_parameters
from repcore.stats import decide, index_bootstrap_ci, paired_bootstrap_ci, per_resample

MAX_PRODUCT_DEVIATION = 0.1
MAX_ECE_GAP = 0.01
MODELS = ["hard", "ls", "mixup", "cutmix"]
RESAMPLES = 1000


def product_verdict(W, b, m, label):
    v, y, logits = m.val.features, m.val.labels, scaled_feature_logits(W, b, m.val.features, 1.0)

    def deviation(idx):
        idx = torch.as_tensor(idx)
        return abs(fit_feature_scale(W, b, v[idx], y[idx]) * fit_temperature(logits[idx], y[idx]) - 1)

    value, low, high = index_bootstrap_ci(deviation, len(y), n_resamples=RESAMPLES)
    return decide("C6", f"|s* T* - 1| ({label})", value, (low, high), MAX_PRODUCT_DEVIATION,
                  "below", len(y))


@given(st.integers(2, 10), st.integers(1, 8), st.integers(0, 2 ** 31 - 1), st.floats(0.05, 20))
def test_bias_free_feature_scaling_is_temperature_scaling(k, d, seed, s):
    g = torch.Generator().manual_seed(seed)
    W, v = torch.randn(k, d, generator=g, dtype=torch.float64), torch.randn(16, d, generator=g, dtype=torch.float64)
    by_features = torch.softmax(scaled_feature_logits(W, None, v, s), dim=1)
    by_temperature = torch.softmax((v @ W.T) / (1 / s), dim=1)
    assert torch.allclose(by_features, by_temperature, atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_fitted_feature_scale_is_the_inverse_temperature(zoo, name, check):
    W, b = head_parameters(zoo[name].model)
    check.supported(product_verdict(W, b, zoo[name], name))


@pytest.mark.parametrize("name", MODELS)
def test_feature_scaling_calibrates_like_temperature_scaling(zoo, name, check, figure):
    m = zoo[name]
    W, b = head_parameters(m.model)
    s = fit_feature_scale(W, b, m.val.features, m.val.labels)
    T = fit_temperature(m.val.logits, m.val.labels)
    check.evidence(name, s_star=s, T_star=T)
    values = np.geomspace(0.2, 5, 41)
    figure(scaling_curves(values,
                          ece_curve(lambda x: scaled_feature_logits(W, b, m.test.features, x), m.test.labels, values),
                          ece_curve(lambda x: m.test.logits.double() * x, m.test.labels, values), s, T,
                          f"{name}: ECE vs scale (test)"),
           f"{name}: ECE after feature scaling W(s v) + b and after temperature scaling z / T, against s and 1/T; "
           "vertical lines: s* and 1/T* fitted on the validation split.")
    conf_s, correct_s = confidence_and_correct(scaled_feature_logits(W, b, m.test.features, s), m.test.labels)
    conf_t, correct_t = confidence_and_correct(m.test.logits.double() / T, m.test.labels)

    def ece_gap(cs, ks, ct, kt):
        return abs(expected_calibration_error(cs, ks) - expected_calibration_error(ct, kt))

    value, low, high = paired_bootstrap_ci(per_resample(ece_gap), [conf_s, correct_s, conf_t, correct_t],
                                           n_resamples=RESAMPLES)
    check.supported(decide("C6", f"|ECE(s*={s:.3g}) - ECE(T*={T:.3g})| ({name})", value, (low, high),
                           MAX_ECE_GAP, "below", len(conf_s)))


def test_control_large_bias_breaks_the_equivalence(zoo, check):
    m = zoo["hard"]
    W, _ = head_parameters(m.model)
    check.not_supported(product_verdict(W, large_bias(m, W), m, "hard, large bias"))

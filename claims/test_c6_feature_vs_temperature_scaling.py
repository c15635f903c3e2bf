"""C6: feature scaling behaves like temperature scaling. Without a bias the two are identical:
softmax(W (s v)) = softmax((W v) / T) for T = 1/s. On trained heads, the scale s* and the
temperature T* fitted by NLL on the validation split satisfy s* T* ~ 1 and calibrate alike.

An equivalence, decided as one (two one-sided bounds on the signed statistic): the seed-level
interval of s* T* - 1 (each run's interval over validation resamples with both refitted) lies
inside plus or minus the profile's tolerance ``temperature_tolerance``, and that of ECE(s*) -
ECE(T*) on the test split inside plus or minus ``ece_tolerance``. Each tolerance is the largest
change that temperature scaling itself shows between two hard-label seeds of the recipe
(``repcore.spread``): feature scaling behaves like temperature scaling when it differs from it by
less than temperature scaling differs from itself under retraining. A fit that lands on its
search bound (no finite s* or T*) makes the criterion inconclusive. Negative control: the hard head
given a large bias, where the equivalence breaks.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from repcore.claims.zoo_views import large_bias
from repcore.fixtures.regularizers import compared
from repcore.calibration import (FitAtBoundError, confidence_and_correct, ece_curve, fit_feature_scale,
                                 fit_logit_scales, fit_temperature, fit_temperatures, refit_logit_scales,
                                 refit_temperatures, scaled_feature_logits, weighted_calibration_error)
from repcore.criteria import RELATIVE_CHANGE, SHARE_DIFFERENCE, Criterion
from repcore.features import head_parameters
from repcore.report.figures import scaling_curves
from repcore.stats import Estimate, bootstrap, index_bootstrap

PRODUCT_NEAR_ONE = Criterion("C6", "s* T* - 1", float("nan"), "inside", value_range=RELATIVE_CHANGE,
                             tolerance="temperature_tolerance", held_out=True)
SAME_ECE = Criterion("C6", "ECE(s*) - ECE(T*)", float("nan"), "inside", value_range=SHARE_DIFFERENCE,
                     tolerance="ece_tolerance", held_out=True)
LARGE_BIAS = PRODUCT_NEAR_ONE.as_control("s* T* - 1, large bias")
MODELS = ["hard", *compared().values()]


def product_deviation(W, b, m) -> Estimate:
    """s* T* - 1 on the validation split, both refitted on each resample (a batch of resamples at
    a time, each search started one weighted Newton step from the whole split's fit,
    ``refit_logit_scales``; s* on the resampled rows of W v, since W (s v) + b = s (W v) + b); a
    resample whose fit lands on a bound counts as undefined."""
    y, weight_term = m.val.labels, scaled_feature_logits(W, None, m.val.features, 1.0)
    bias = 0.0 if b is None else b.double()
    logits = weight_term + bias

    s_all, t_all = fit_logit_scales(weight_term[None], bias, y[None]), fit_temperatures(logits[None], y[None])
    s_hat, t_hat = (float(f[0]) if 0 < f[0] < np.inf else 1.0 for f in (s_all, t_all))

    def deviation(idx, axis=-1):
        product = refit_logit_scales(weight_term, bias, y, s_hat, idx) * refit_temperatures(logits, y, t_hat, idx)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(product) & (product > 0), product - 1, np.nan).reshape(idx.shape[:-1])

    return index_bootstrap(deviation, len(y), vectorized=True)


def ece_gap(m, W, b) -> Estimate:
    s = fit_feature_scale(W, b, m.val.features, m.val.labels)
    T = fit_temperature(m.val.logits, m.val.labels)
    conf_s, correct_s = confidence_and_correct(scaled_feature_logits(W, b, m.test.features, s), m.test.labels)
    conf_t, correct_t = confidence_and_correct(m.test.logits.double() / T, m.test.labels)

    def gap(w, cs, ks, ct, kt):
        return weighted_calibration_error(w, cs, ks) - weighted_calibration_error(w, ct, kt)

    return bootstrap(gap, [conf_s, correct_s, conf_t, correct_t])


def decide_unless_at_bound(runs, criterion, estimate_of, label):
    """The criterion's verdict, or inconclusive with the reason when a point fit has no finite optimum."""
    try:
        return runs.decide(criterion, estimate_of, label)
    except FitAtBoundError as err:
        return criterion.unmeasurable(str(err), label)


@given(st.integers(2, 10), st.integers(1, 8), st.integers(0, 2 ** 31 - 1), st.floats(0.05, 20))
def test_bias_free_feature_scaling_is_temperature_scaling(k, d, seed, s):
    g = torch.Generator().manual_seed(seed)
    W, v = torch.randn(k, d, generator=g, dtype=torch.float64), torch.randn(16, d, generator=g, dtype=torch.float64)
    by_features = torch.softmax(scaled_feature_logits(W, None, v, s), dim=1)
    by_temperature = torch.softmax((v @ W.T) / (1 / s), dim=1)
    assert torch.allclose(by_features, by_temperature, atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_fitted_feature_scale_is_the_inverse_temperature(runs, name, check):
    check.supported(decide_unless_at_bound(
        runs, PRODUCT_NEAR_ONE, lambda zoo: product_deviation(*head_parameters(zoo[name].model), zoo[name]), name))


@pytest.mark.parametrize("name", MODELS)
def test_feature_scaling_calibrates_like_temperature_scaling(runs, name, check, figure):
    m = runs.first[name]
    W, b = head_parameters(m.model)
    try:
        s, T = fit_feature_scale(W, b, m.val.features, m.val.labels), fit_temperature(m.val.logits, m.val.labels)
        values = np.geomspace(0.2, 5, 41)
        figure(scaling_curves(values,
                              ece_curve(lambda x: scaled_feature_logits(W, b, m.test.features, x), m.test.labels,
                                        values),
                              ece_curve(lambda x: m.test.logits.double() * x, m.test.labels, values), s, T,
                              f"{name}: ECE vs scale (test)"),
               f"{name}: ECE after feature scaling W(s v) + b and after temperature scaling z / T, against s and 1/T; "
               "vertical lines: s* and 1/T* fitted on the validation split (first seed).")
        for zoo in runs.zoos:
            check.evidence(zoo[name].name, s_star=fit_feature_scale(*head_parameters(zoo[name].model),
                                                                    zoo[name].val.features, zoo[name].val.labels),
                           T_star=fit_temperature(zoo[name].val.logits, zoo[name].val.labels))
    except FitAtBoundError:
        pass  # the verdict below says so
    check.supported(decide_unless_at_bound(
        runs, SAME_ECE, lambda zoo: ece_gap(zoo[name], *head_parameters(zoo[name].model)), name))


def test_control_large_bias_breaks_the_equivalence(runs, check):
    def deviation(zoo) -> Estimate:
        W, _ = head_parameters(zoo["hard"].model)
        return product_deviation(W, large_bias(zoo["hard"], W), zoo["hard"])

    check.not_supported(decide_unless_at_bound(runs, LARGE_BIAS, deviation, "hard"))

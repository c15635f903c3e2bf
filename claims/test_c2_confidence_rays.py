"""C2: confidence grows along rays from the origin and with alignment: confidence contours radiate
from the origin around the minimal-loss points.

Bias-free heads: conf(a v) is non-decreasing in a (property). Trained models: Spearman(conf, ||v||)
and Spearman(conf, cos(v, v_opt,c_hat)) are both > 0 with the 95% CI excluding 0. Negative control:
the same statistics with the pairing of confidence and feature shuffled.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.zoo_views import confidence, predicted_alignment
from repcore.geometry import confidence_along_rays
from repcore.stats import decide, paired_bootstrap_ci, spearman

MODELS = ["hard", "ls", "mixup", "cutmix"]


def correlation_verdict(conf: np.ndarray, other: np.ndarray, label: str):
    value, low, high = paired_bootstrap_ci(spearman, [conf, other])
    return decide("C2", f"Spearman(conf, {label})", value, (low, high), 0.0, "above", len(conf))


@given(st.integers(2, 10), st.integers(1, 8), st.integers(0, 2 ** 31 - 1))
def test_bias_free_confidence_grows_along_every_ray(k, d, seed):
    g = torch.Generator().manual_seed(seed)
    W, v = torch.randn(k, d, generator=g, dtype=torch.float64), torch.randn(32, d, generator=g, dtype=torch.float64)
    conf = confidence_along_rays(W, None, v, torch.logspace(-2, 2, 25, dtype=torch.float64))
    assert (conf.diff(dim=0) >= -1e-12).all()


@pytest.mark.parametrize("name", MODELS)
def test_confidence_grows_with_feature_norm(zoo, name, check):
    m = zoo[name]
    check.supported(correlation_verdict(confidence(m).numpy(), m.test.features.norm(dim=1).numpy(),
                                         f"||v|| ({name})"))


@pytest.mark.parametrize("name", MODELS)
def test_confidence_grows_with_alignment(zoo, name, check):
    m = zoo[name]
    check.supported(correlation_verdict(confidence(m).numpy(), predicted_alignment(m).numpy(),
                                        f"cos(v, v_opt) ({name})"))


def test_control_shuffled_pairing_shows_no_correlation(zoo, check):
    m = zoo["hard"]
    shuffled = np.random.default_rng(0).permutation(m.test.features.norm(dim=1).numpy())
    check.not_supported(correlation_verdict(confidence(m).numpy(), shuffled, "shuffled ||v|| (hard)"))

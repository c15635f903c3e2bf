"""C2: confidence grows along rays from the origin and with alignment: confidence contours radiate
from the origin around the minimal-loss points.

Bias-free heads: conf(a v) is non-decreasing in a (property). Trained models: Spearman(conf, ||v||)
and Spearman(conf, cos(v, v_opt,c_hat)) are both above 0 on the seed-level interval. Negative
control: the same statistic with the pairing of confidence and ||v|| shuffled, decided on its
seeded permutation distribution.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from repcore.claims.zoo_views import confidence, predicted_alignment
from repcore.fixtures.regularizers import compared
from repcore.criteria import CORRELATION, Criterion
from repcore.geometry import confidence_along_rays
from repcore.stats import bootstrap, spearman_permutations, weighted_spearman

MODELS = ["hard", *compared().values()]
GROWS_WITH_NORM = Criterion("C2", "Spearman(conf, ||v||)", 0.0, "above", value_range=CORRELATION)
GROWS_WITH_ALIGNMENT = Criterion("C2", "Spearman(conf, cos(v, v_opt))", 0.0, "above", value_range=CORRELATION)
SHUFFLED = GROWS_WITH_NORM.as_control("Spearman(conf, shuffled ||v||)")


@given(st.integers(2, 10), st.integers(1, 8), st.integers(0, 2 ** 31 - 1))
def test_bias_free_confidence_grows_along_every_ray(k, d, seed):
    g = torch.Generator().manual_seed(seed)
    W, v = torch.randn(k, d, generator=g, dtype=torch.float64), torch.randn(32, d, generator=g, dtype=torch.float64)
    conf = confidence_along_rays(W, None, v, torch.logspace(-2, 2, 25, dtype=torch.float64))
    assert (conf.diff(dim=0) >= -1e-12).all()


@pytest.mark.parametrize("name", MODELS)
def test_confidence_grows_with_feature_norm(runs, name, check):
    check.supported(runs.decide(GROWS_WITH_NORM, lambda zoo: bootstrap(
        weighted_spearman, [confidence(zoo[name]).numpy(), zoo[name].test.features.norm(dim=1).numpy()]), name))


@pytest.mark.parametrize("name", MODELS)
def test_confidence_grows_with_alignment(runs, name, check):
    check.supported(runs.decide(GROWS_WITH_ALIGNMENT, lambda zoo: bootstrap(
        weighted_spearman, [confidence(zoo[name]).numpy(), predicted_alignment(zoo[name]).numpy()]), name))


def test_control_shuffled_pairing_shows_no_correlation(runs, check):
    check.not_supported(runs.decide(SHUFFLED, lambda zoo: spearman_permutations(
        confidence(zoo["hard"]).numpy(), zoo["hard"].test.features.norm(dim=1).numpy()), "hard"))

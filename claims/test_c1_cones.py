"""C1: decision regions are cones around the origin, with or without regularization. Without a
bias exactly: argmax(W (a v)) = argmax(W v) for every a > 0. With a bias, approximately on trained
heads whose bias is small; and in 2-D, the class argmax b owns a bounded region around the origin.

Precondition for trained heads: the bias is small (mean|b| / mean|W v| below 0.2, seed-level);
otherwise inconclusive. Declared: the share of test features whose prediction is unchanged for every
a in [0.25, 4] is at least 0.99 (seed-level interval) for every regularizer. The 2-D models are
trained for the first seed only. Negative control: the hard model's head with a large bias.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from repcore.claims.zoo_views import large_bias, min_loss_centers, small_bias
from repcore.fixtures.regularizers import compared
from repcore.criteria import SHARE, Criterion
from repcore.features import head_parameters
from repcore.geometry import class_means, prediction_unchanged_under_scaling
from repcore.report.figures import representation_plane
from repcore.stats import Estimate, bootstrap, weighted_mean

SCALES = torch.tensor([0.25, 0.5, 0.75, 1.5, 2.0, 3.0, 4.0])
CONES = Criterion("C1", "share of predictions unchanged for scales in [0.25, 4]", 0.99, "above", value_range=SHARE)
ORIGIN_TO_ARGMAX_B = Criterion("C1", "share of 1e-4 v predicted as argmax b (2-D, bias)", 0.99, "above",
                               value_range=SHARE)
LARGE_BIAS = CONES.as_control("share of predictions unchanged for scales in [0.25, 4], large bias")


def cone_share(W, b, v) -> Estimate:
    return bootstrap(weighted_mean, [prediction_unchanged_under_scaling(W, b, v, SCALES).double().numpy()])


@given(st.integers(2, 10), st.integers(1, 8), st.integers(0, 2 ** 31 - 1),
       st.floats(1e-3, 1e3))
def test_bias_free_predictions_are_invariant_to_positive_scaling(k, d, seed, scale):
    g = torch.Generator().manual_seed(seed)
    W, v = torch.randn(k, d, generator=g, dtype=torch.float64), torch.randn(64, d, generator=g, dtype=torch.float64)
    assert torch.equal((scale * v @ W.T).argmax(1), (v @ W.T).argmax(1))


@pytest.mark.parametrize("name", ["hard", *compared().values()])
def test_trained_decision_regions_are_cones(runs, name, check):
    check.supported(runs.decide(CONES, lambda zoo: cone_share(*head_parameters(zoo[name].model),
                                                              zoo[name].test.features),
                                name, precondition=small_bias(runs, name)))


def plane_figure(m, title, v_adv=None):
    W, b = head_parameters(m.model)
    v, y = m.test.features, m.test.labels
    return representation_plane(W, b, v, y, min_loss_centers(m), class_means(v, y, W.shape[0]), title, v_adv)


def test_two_dimensional_bias_free_regions_are_exact_cones(runs, check, figure):
    m = runs.first["bottleneck_nobias"]
    assert head_parameters(m.model)[1] is None
    figure(plane_figure(m, "2-D bottleneck, no bias"),
           "2-D representations without bias: decision regions (cones), confidence contours, features "
           "by class, class means (o), weight directions (arrows), minimal-loss points (x), loss gradients.")
    check.supported(runs.decide(CONES, lambda zoo: cone_share(*head_parameters(zoo["bottleneck_nobias"].model),
                                                              zoo["bottleneck_nobias"].test.features),
                                "2-D, no bias", roles=("bottleneck_nobias",)))


def test_two_dimensional_bias_gives_the_origin_to_argmax_b(runs, check, figure):
    """Shrinking every 2-D feature towards the origin ends in the region of class argmax b."""
    figure(plane_figure(runs.first["bottleneck_bias"], "2-D bottleneck, with bias"),
           "2-D representations with bias: the class argmax b owns the region around the origin.")

    def owned(zoo) -> Estimate:
        W, b = head_parameters(zoo["bottleneck_bias"].model)
        near_origin = 1e-4 * zoo["bottleneck_bias"].test.features
        return bootstrap(weighted_mean, [((near_origin @ W.T + b).argmax(1) == b.argmax()).double().numpy()])

    check.supported(runs.decide(ORIGIN_TO_ARGMAX_B, owned, roles=("bottleneck_bias",)))


def test_control_large_bias_head_is_not_a_cone(runs, check):
    def share(zoo) -> Estimate:
        W, _ = head_parameters(zoo["hard"].model)
        return cone_share(W, large_bias(zoo["hard"], W), zoo["hard"].test.features)

    check.not_supported(runs.decide(LARGE_BIAS, share, "hard"))

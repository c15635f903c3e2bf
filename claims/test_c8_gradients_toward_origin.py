"""C8: aligned features send gradient attacks toward the origin. The radial index of the loss
gradient, cos(grad_v CE(v, y), -v), grows with the alignment cos(v, v_opt,y); regularized models
have a higher mean radial index than the hard model; FGSM and PGD^w move features toward the origin.

Declared (seed-level intervals, clean-correct test samples): Spearman(radial index, cos) above 0
for every model; mean radial index(reg) - (hard) above 0 (paired per seed, each model on its own
clean-correct samples of the shared test images); for FGSM and PGD^w on every model, the mean of
cos(f(x_adv) - f(x), -f(x)) above 0 and the share with ||f(x_adv)|| < ||f(x)|| above 0.5. The 2-D
model is trained for the first seed only. Negative control: the radial index paired with shuffled
alignments, decided on its seeded permutation distribution.
"""

import numpy as np
import pytest

from repcore.claims.zoo_views import (masked_mean, min_loss_centers, on_kept, radial_and_alignment,
                                     versus_hard)
from repcore.fixtures.zoo import attack_outcome
from repcore.fixtures.regularizers import compared
from repcore.criteria import CORRELATION, CORRELATION_DIFFERENCE, SHARE, Criterion
from repcore.features import head_parameters
from repcore.geometry import class_means, inward_displacement
from repcore.report.figures import representation_plane
from repcore.stats import Estimate, bootstrap, spearman_permutations, weighted_spearman

MODELS = ["hard", *compared().values()]
RADIAL_WITH_ALIGNMENT = Criterion("C8", "Spearman(radial index, cos(v, v_opt,y))", 0.0, "above",
                                  value_range=CORRELATION)
MORE_RADIAL = Criterion("C8", "mean radial index(reg) - mean radial index(hard)", 0.0, "above",
                        value_range=CORRELATION_DIFFERENCE, spread="radial_gain")
INWARD = Criterion("C8", "mean cos(f(x_adv) - f(x), -f(x))", 0.0, "above", value_range=CORRELATION)
SHRUNK = Criterion("C8", "share ||f(x_adv)|| < ||f(x)||", 0.5, "above", value_range=SHARE)
SHUFFLED = RADIAL_WITH_ALIGNMENT.as_control("Spearman(radial index, shuffled cos)")


def masked_spearman(w, x, y, mask):
    """Spearman(x, y) over the resample's samples where ``mask`` is 1."""
    return weighted_spearman(w * mask, x, y)


@pytest.mark.parametrize("name", MODELS)
def test_aligned_features_have_gradients_toward_the_origin(runs, name, check):
    def trend(zoo) -> Estimate:
        radial, cos, kept = radial_and_alignment(zoo[name])
        return on_kept(bootstrap(masked_spearman, [radial, cos, kept]), kept)

    check.supported(runs.decide(RADIAL_WITH_ALIGNMENT, trend, name))


@pytest.mark.parametrize("regularizer", list(compared()))
def test_regularized_gradients_point_more_toward_the_origin(runs, regularizer, check):
    check.supported(versus_hard(runs, MORE_RADIAL, runs.profile.regularized[regularizer]))


def _inward_and_shrunk(zoo, name: str, attack: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cos(f(x_adv) - f(x), -f(x)), ||f(x_adv)|| < ||f(x)||, clean-correct) per attacked image."""
    outcome = attack_outcome(zoo, name, zoo.profile.attacks[attack])
    v, v_adv = outcome.clean.features, outcome.adversarial.features
    return (np.nan_to_num(inward_displacement(v, v_adv).numpy()), (v_adv.norm(dim=1) < v.norm(dim=1)).double().numpy(),
            outcome.clean_correct.double().numpy())


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w"])
@pytest.mark.parametrize("name", MODELS)
def test_attacks_move_features_toward_the_origin(runs, name, attack, check):
    label = f"{attack}, {name}"

    def share(which: int):
        def estimate(zoo) -> Estimate:
            arrays = _inward_and_shrunk(zoo, name, attack)
            return on_kept(bootstrap(masked_mean, [arrays[which], arrays[2]]), arrays[2])
        return estimate

    inward, shrunk = runs.decide(INWARD, share(0), label), runs.decide(SHRUNK, share(1), label)
    check.supported(inward)
    check.supported(shrunk)


def test_two_dimensional_attacks_move_features_toward_the_origin(runs, check, figure):
    zoo = runs.first
    m = zoo["bottleneck_nobias"]
    outcome = attack_outcome(zoo, "bottleneck_nobias", runs.profile.attacks["FGSM"])
    W, b = head_parameters(m.model)
    v, y = outcome.clean.features, outcome.clean.labels
    figure(representation_plane(W, b, v, y, min_loss_centers(m), class_means(v, y, W.shape[0]),
                                "2-D, no bias: FGSM displacements", outcome.adversarial.features),
           "2-D representations without bias: FGSM moves features (red arrows) along the loss "
           "gradients (black), toward the origin for aligned features.")

    def inward(z) -> Estimate:
        displacement, _, kept = _inward_and_shrunk(z, "bottleneck_nobias", "FGSM")
        return on_kept(bootstrap(masked_mean, [displacement, kept]), kept)

    check.supported(runs.decide(INWARD, inward, "FGSM, 2-D, no bias", roles=("bottleneck_nobias",)))


def test_control_shuffled_alignment_shows_no_correlation(runs, check):
    def shuffled(zoo) -> Estimate:
        radial, cos, kept = radial_and_alignment(zoo["hard"])
        return spearman_permutations(radial[kept == 1], cos[kept == 1])

    check.not_supported(runs.decide(SHUFFLED, shuffled, "hard"))

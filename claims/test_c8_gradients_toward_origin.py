"""C8: aligned features send gradient attacks toward the origin. The radial index of the loss
gradient, cos(grad_v CE(v, y), -v), grows with the alignment cos(v, v_opt,y); regularized models
have a higher mean radial index than the hard model; FGSM and PGD^w move features toward the origin.

Declared (seed-level intervals, clean-correct test samples): Spearman(radial index, cos) above 0
for every model; mean radial index(reg) - (hard) above 0 (paired per seed, each model's samples
resampled on their own); for FGSM and PGD^w on every model, the mean of cos(f(x_adv) - f(x), -f(x))
above 0 and the share with ||f(x_adv)|| < ||f(x)|| above 0.5. The 2-D model is trained for the first
seed only. Negative control: the radial index paired with shuffled alignments, decided on its
seeded permutation distribution.
"""

import numpy as np
import pytest

from claims.zoo_views import min_loss_centers, true_class_alignment
from fixtures.evaluations import attack_outcome
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.features import head_parameters
from repcore.geometry import class_means, inward_displacement, radial_index
from repcore.report.figures import representation_plane
from repcore.stats import (Estimate, independent_bootstrap, mean, mean_difference, paired_bootstrap,
                           spearman_bootstrap, spearman_permutations)

MODELS = ["hard", *compared().values()]
RADIAL_WITH_ALIGNMENT = Criterion("C8", "Spearman(radial index, cos(v, v_opt,y))", 0.0, "above")
MORE_RADIAL = Criterion("C8", "mean radial index(reg) - mean radial index(hard)", 0.0, "above")
INWARD = Criterion("C8", "mean cos(f(x_adv) - f(x), -f(x))", 0.0, "above")
SHRUNK = Criterion("C8", "share ||f(x_adv)|| < ||f(x)||", 0.5, "above")
SHUFFLED = RADIAL_WITH_ALIGNMENT.as_control("Spearman(radial index, shuffled cos)")


def radial_and_alignment(m) -> tuple[np.ndarray, np.ndarray]:
    correct = m.test.predictions == m.test.labels
    v, y = m.test.features[correct], m.test.labels[correct]
    W, b = head_parameters(m.model)
    return radial_index(W, b, v, y).numpy(), true_class_alignment(m, v, y).numpy()


@pytest.mark.parametrize("name", MODELS)
def test_aligned_features_have_gradients_toward_the_origin(runs, name, check):
    check.supported(runs.decide(RADIAL_WITH_ALIGNMENT,
                                lambda zoo: spearman_bootstrap(*radial_and_alignment(zoo[name])), name))


@pytest.mark.parametrize("regularizer", list(compared()))
def test_regularized_gradients_point_more_toward_the_origin(runs, regularizer, check):
    role = runs.profile.regularized[regularizer]

    def change(zoo) -> Estimate:
        return independent_bootstrap(mean_difference, [radial_and_alignment(zoo[role])[0],
                                                       radial_and_alignment(zoo["hard"])[0]])

    check.supported(runs.decide(MORE_RADIAL, change, f"{role} vs hard"))


def _inward_and_shrunk(zoo, name: str, attack: str) -> tuple[np.ndarray, np.ndarray]:
    outcome = attack_outcome(zoo, name, zoo.profile.attacks[attack])
    keep = outcome.clean_correct
    v, v_adv = outcome.clean.features[keep], outcome.adversarial.features[keep]
    return inward_displacement(v, v_adv).numpy(), (v_adv.norm(dim=1) < v.norm(dim=1)).double().numpy()


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w"])
@pytest.mark.parametrize("name", MODELS)
def test_attacks_move_features_toward_the_origin(runs, name, attack, check):
    label = f"{attack}, {name}"
    inward = runs.decide(INWARD, lambda zoo: paired_bootstrap(mean, [_inward_and_shrunk(zoo, name, attack)[0]]), label)
    shrunk = runs.decide(SHRUNK, lambda zoo: paired_bootstrap(mean, [_inward_and_shrunk(zoo, name, attack)[1]]), label)
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
    check.supported(runs.decide(INWARD, lambda z: paired_bootstrap(mean, [_inward_and_shrunk(z, "bottleneck_nobias", "FGSM")[0]]),
                                "FGSM, 2-D, no bias", roles=("bottleneck_nobias",)))


def test_control_shuffled_alignment_shows_no_correlation(runs, check):
    check.not_supported(runs.decide(SHUFFLED, lambda zoo: spearman_permutations(*radial_and_alignment(zoo["hard"])),
                                    "hard"))

"""C8: aligned features send gradient attacks toward the origin. The radial index of the loss
gradient, cos(grad_v CE(v, y), -v), grows with the alignment cos(v, v_opt,y); regularized models
have a higher mean radial index than the hard model; FGSM and PGD^w move features toward the origin.

Declared (95% CI, clean-correct test samples): Spearman(radial index, cos) above 0 for every model;
mean radial index(reg) - (hard) above 0; for FGSM and PGD^w on every model, the mean of
cos(f(x_adv) - f(x), -f(x)) above 0 and the share with ||f(x_adv)|| < ||f(x)|| above 0.5.
Negative control: the radial index paired with shuffled alignments.
"""

import numpy as np
import pytest

from claims.zoo_views import min_loss_centers, true_class_alignment
from fixtures.evaluations import attack_outcome
from repcore.features import head_parameters
from repcore.geometry import class_means, inward_displacement, radial_index
from repcore.report.figures import representation_plane
from repcore.stats import decide, independent_bootstrap_ci, mean, mean_difference, paired_bootstrap_ci, spearman

MODELS = ["hard", "ls", "mixup", "cutmix"]


def radial_and_alignment(m) -> tuple[np.ndarray, np.ndarray]:
    correct = m.test.predictions == m.test.labels
    v, y = m.test.features[correct], m.test.labels[correct]
    W, b = head_parameters(m.model)
    return radial_index(W, b, v, y).numpy(), true_class_alignment(m, v, y).numpy()


def spearman_verdict(radial, cos, label):
    value, low, high = paired_bootstrap_ci(spearman, [radial, cos])
    return decide("C8", f"Spearman(radial index, cos(v, v_opt,y)) ({label})", value, (low, high),
                  0.0, "above", len(radial))


@pytest.mark.parametrize("name", MODELS)
def test_aligned_features_have_gradients_toward_the_origin(zoo, name, check):
    check.supported(spearman_verdict(*radial_and_alignment(zoo[name]), name))


@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_regularized_gradients_point_more_toward_the_origin(zoo, profile, regularizer, check):
    reg, hard = zoo[profile.regularized[regularizer]], zoo["hard"]

    value, low, high = independent_bootstrap_ci(
        mean_difference, [radial_and_alignment(reg)[0], radial_and_alignment(hard)[0]])
    check.supported(decide("C8", f"mean radial index({reg.name}) - ({hard.name})", value,
                           (low, high), 0.0, "above", len(reg.test.labels)))


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w"])
@pytest.mark.parametrize("name", MODELS)
def test_attacks_move_features_toward_the_origin(zoo, profile, name, attack, check):
    outcome = attack_outcome(zoo, name, profile.attacks[attack])
    keep = outcome.clean_correct
    v, v_adv = outcome.clean.features[keep], outcome.adversarial.features[keep]
    inward = inward_displacement(v, v_adv).numpy()
    shrunk = (v_adv.norm(dim=1) < v.norm(dim=1)).double().numpy()
    value, low, high = paired_bootstrap_ci(mean, [inward])
    check.supported(decide("C8", f"mean cos(f(x_adv) - f(x), -f(x)) under {attack} ({name})",
                           value, (low, high), 0.0, "above", len(inward)))
    value, low, high = paired_bootstrap_ci(mean, [shrunk])
    check.supported(decide("C8", f"share ||f(x_adv)|| < ||f(x)|| under {attack} ({name})",
                           value, (low, high), 0.5, "above", len(shrunk)))


def test_two_dimensional_attacks_move_features_toward_the_origin(zoo, profile, check, figure):
    m = zoo["bottleneck_nobias"]
    outcome = attack_outcome(zoo, "bottleneck_nobias", profile.attacks["FGSM"])
    W, b = head_parameters(m.model)
    v, y = outcome.clean.features, outcome.clean.labels
    figure(representation_plane(W, b, v, y, min_loss_centers(m), class_means(v, y, W.shape[0]),
                                "2-D, no bias: FGSM displacements", outcome.adversarial.features),
           "2-D representations without bias: FGSM moves features (red arrows) along the loss "
           "gradients (black), toward the origin for aligned features.")
    keep = outcome.clean_correct
    inward = inward_displacement(v[keep], outcome.adversarial.features[keep]).numpy()
    value, low, high = paired_bootstrap_ci(mean, [inward])
    check.supported(decide("C8", "mean cos(f(x_adv) - f(x), -f(x)) under FGSM (2-D, no bias)",
                           value, (low, high), 0.0, "above", len(inward)))


def test_control_shuffled_alignment_shows_no_correlation(zoo, check):
    radial, cos = radial_and_alignment(zoo["hard"])
    check.not_supported(spearman_verdict(radial, np.random.default_rng(0).permutation(cos),
                                         "shuffled cos, hard"))

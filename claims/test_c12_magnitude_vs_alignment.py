"""C12: magnitude mainly explains calibration, alignment mainly robustness.

Calibration: post-hoc feature scaling of the hard model (s* fitted on the validation split) lowers
its ECE (95% CI of ECE(s* v) - ECE(v) below 0) while leaving predictions unchanged (share unchanged,
CI above 0.99). Robustness: among clean-correct samples, the partial Spearman correlation of attack
success with cos(v, v_opt,y) given the RMS is larger in size than with the RMS given cos:
|rho(success, cos | RMS)| - |rho(success, RMS | cos)| has its CI above 0 (FGSM and PGD^w). Negative control: the same dominance with the alignments shuffled
across samples (FGSM).
"""

import numpy as np
import pytest

from claims.zoo_views import true_class_alignment
from fixtures.evaluations import attack_outcome
from repcore.calibration import (confidence_and_correct, expected_calibration_error, fit_feature_scale,
                                 scaled_feature_logits)
from repcore.features import head_parameters
from repcore.geometry import sample_rms
from repcore.stats import decide, mean, paired_bootstrap_ci, partial_spearman, per_resample

MIN_UNCHANGED = 0.99


def _scaled(m):
    W, b = head_parameters(m.model)
    s = fit_feature_scale(W, b, m.val.features, m.val.labels)
    return s, scaled_feature_logits(W, b, m.test.features, s)


def test_feature_scaling_improves_calibration_of_the_hard_model(zoo, check):
    m = zoo["hard"]
    s, logits = _scaled(m)
    paired = [*confidence_and_correct(logits, m.test.labels),
              *confidence_and_correct(m.test.logits, m.test.labels)]

    def ece_difference(c1, k1, c0, k0):
        return expected_calibration_error(c1, k1) - expected_calibration_error(c0, k0)

    value, low, high = paired_bootstrap_ci(per_resample(ece_difference), paired, n_resamples=1000)
    check.supported(decide("C12", f"ECE(s* v) - ECE(v), hard, s* = {s:.3g}", value, (low, high),
                           0.0, "below", len(paired[0])))


def test_feature_scaling_leaves_predictions_unchanged(zoo, check):
    m = zoo["hard"]
    s, logits = _scaled(m)
    unchanged = (logits.argmax(1) == m.test.predictions).double().numpy()
    value, low, high = paired_bootstrap_ci(mean, [unchanged])
    check.supported(decide("C12", f"share of predictions unchanged by s* = {s:.3g} (hard)", value,
                           (low, high), MIN_UNCHANGED, "above", len(unchanged)))


def success_alignment_rms(zoo, profile, attack: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Attack success, cos(v, v_opt,y) and RMS of the hard model's clean-correct attacked samples."""
    outcome = attack_outcome(zoo, "hard", profile.attacks[attack])
    keep = outcome.clean_correct
    v, y = outcome.clean.features[keep], outcome.clean.labels[keep]
    return (outcome.success.double().numpy(), true_class_alignment(zoo["hard"], v, y).numpy(),
            sample_rms(v).numpy())


def dominance_verdict(success: np.ndarray, cos: np.ndarray, rms: np.ndarray, label: str):
    def dominance(s, c, r, axis=-1):
        return np.abs(partial_spearman(s, c, r, axis)) - np.abs(partial_spearman(s, r, c, axis))

    value, low, high = paired_bootstrap_ci(dominance, [success, cos, rms])
    return decide("C12", f"|rho(success, cos | RMS)| - |rho(success, RMS | cos)| ({label})",
                  value, (low, high), 0.0, "above", len(success))


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w"])
def test_alignment_explains_robustness_more_than_magnitude(zoo, profile, attack, check):
    check.supported(dominance_verdict(*success_alignment_rms(zoo, profile, attack), f"{attack}, hard"))


def test_control_shuffled_alignment_explains_nothing(zoo, profile, check):
    success, cos, rms = success_alignment_rms(zoo, profile, "FGSM")
    check.not_supported(dominance_verdict(success, np.random.default_rng(0).permutation(cos), rms,
                                          "FGSM, hard, shuffled cos"))

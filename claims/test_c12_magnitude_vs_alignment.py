"""C12: magnitude mainly explains calibration, alignment mainly robustness.

Precondition for the calibration part: the hard-label baseline is over-confident (signed gap above
0.02, seed-level); otherwise inconclusive. Calibration: post-hoc feature scaling of the hard model
(s* fitted on the validation split) lowers its ECE (seed-level interval of ECE(s* v) - ECE(v) below
0) while leaving predictions unchanged (share unchanged above 0.99). Robustness: among clean-correct
samples, |rho(success, cos | RMS)| - |rho(success, RMS | cos)| (partial Spearman correlations) lies
above 0 (FGSM and PGD^w). A fit that lands on its search bound is inconclusive. Negative control: the
same dominance with the alignments shuffled across samples (FGSM), decided on its seeded
permutation distribution.
"""

import numpy as np
import pytest

from claims.zoo_views import overconfident_baseline, true_class_alignment
from fixtures.evaluations import attack_outcome
from repcore.calibration import (FitAtBoundError, confidence_and_correct, expected_calibration_error,
                                 fit_feature_scale, scaled_feature_logits)
from repcore.criteria import Criterion
from repcore.features import head_parameters
from repcore.geometry import sample_rms
from repcore.stats import Estimate, mean, paired_bootstrap, partial_correlation, rank_bootstrap, rank_permutations

SCALING_CALIBRATES = Criterion("C12", "ECE(s* v) - ECE(v), hard", 0.0, "below")
PREDICTIONS_KEPT = Criterion("C12", "share of predictions unchanged by s*, hard", 0.99, "above")
ALIGNMENT_DOMINATES = Criterion("C12", "|rho(success, cos | RMS)| - |rho(success, RMS | cos)|", 0.0, "above")
SHUFFLED = ALIGNMENT_DOMINATES.as_control("|rho(success, shuffled cos | RMS)| - |rho(success, RMS | shuffled cos)|")


def _scaled_logits(m):
    W, b = head_parameters(m.model)
    return scaled_feature_logits(W, b, m.test.features, fit_feature_scale(W, b, m.val.features, m.val.labels))


def ece_change(m) -> Estimate:
    paired = [*confidence_and_correct(_scaled_logits(m), m.test.labels),
              *confidence_and_correct(m.test.logits, m.test.labels)]

    def ece_difference(c1, k1, c0, k0, axis=-1):
        return expected_calibration_error(c1, k1) - expected_calibration_error(c0, k0)

    return paired_bootstrap(ece_difference, paired, n_resamples=1000)


def unchanged_share(m) -> Estimate:
    return paired_bootstrap(mean, [(_scaled_logits(m).argmax(1) == m.test.predictions).double().numpy()])


@pytest.mark.parametrize("criterion, estimate", [(SCALING_CALIBRATES, ece_change), (PREDICTIONS_KEPT, unchanged_share)],
                         ids=["ece", "predictions"])
def test_feature_scaling_calibrates_the_hard_model_without_changing_predictions(runs, criterion, estimate, check):
    try:
        verdict = runs.decide(criterion, lambda zoo: estimate(zoo["hard"]),
                              precondition=overconfident_baseline(runs) if criterion is SCALING_CALIBRATES else None)
    except FitAtBoundError as err:
        verdict = criterion.unmeasurable(str(err))
    check.supported(verdict)


def success_alignment_rms(zoo, attack: str) -> list[np.ndarray]:
    """Attack success, cos(v, v_opt,y) and RMS of the hard model's clean-correct attacked samples."""
    outcome = attack_outcome(zoo, "hard", zoo.profile.attacks[attack])
    keep = outcome.clean_correct
    v, y = outcome.clean.features[keep], outcome.clean.labels[keep]
    return [outcome.success.double().numpy(), true_class_alignment(zoo["hard"], v, y).numpy(), sample_rms(v).numpy()]


def dominance(s, c, r, axis=-1):
    """|rho(success, cos | RMS)| - |rho(success, RMS | cos)| from the ranks s, c, r (partial Spearman)."""
    return np.abs(partial_correlation(s, c, r, axis)) - np.abs(partial_correlation(s, r, c, axis))


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w"])
def test_alignment_explains_robustness_more_than_magnitude(runs, attack, check):
    check.supported(runs.decide(ALIGNMENT_DOMINATES,
                                lambda zoo: rank_bootstrap(dominance, success_alignment_rms(zoo, attack)),
                                f"{attack}, hard"))


def test_control_shuffled_alignment_explains_nothing(runs, check):
    check.not_supported(runs.decide(SHUFFLED, lambda zoo: rank_permutations(
        dominance, success_alignment_rms(zoo, "FGSM"), shuffled=1), "FGSM, hard"))

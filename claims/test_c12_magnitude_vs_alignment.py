"""C12: magnitude mainly explains calibration, alignment mainly robustness.

Preconditions for the calibration part (``repcore.regime``): the hard-label baseline is
over-confident (signed gap above 0, T* above 1, seed-level: the paper's conditions); otherwise
inconclusive.
Calibration: post-hoc feature scaling of the hard model (s* fitted on the validation split) lowers
its ECE (seed-level interval of ECE(s* v) - ECE(v) below 0) while leaving predictions unchanged
(share unchanged above 0.99). Robustness: among clean-correct
samples, |rho(success, cos | RMS)| - |rho(success, RMS | cos)| (partial Spearman correlations) lies
above 0 (FGSM and PGD^w). A fit that lands on its search bound is inconclusive. Negative control: the
same dominance with the alignments shuffled across samples (FGSM), decided on its seeded
permutation distribution.
"""

import numpy as np
import pytest

from repcore.claims.zoo_views import on_kept, overconfident_baseline, true_class_alignment
from repcore.fixtures.zoo import attack_outcome
from repcore.calibration import (FitAtBoundError, confidence_and_correct, fit_feature_scale, scaled_feature_logits,
                                 weighted_calibration_error)
from repcore.criteria import SHARE, SHARE_DIFFERENCE, Criterion
from repcore.features import head_parameters
from repcore.geometry import sample_rms
from repcore.stats import (Estimate, bootstrap, partial_correlation, partial_from, rank_permutations, weighted_mean,
                           weighted_spearmans)

SCALING_CALIBRATES = Criterion("C12", "ECE(s* v) - ECE(v), hard", 0.0, "below", value_range=SHARE_DIFFERENCE,
                               held_out=True)
PREDICTIONS_KEPT = Criterion("C12", "share of predictions unchanged by s*, hard", 0.99, "above", value_range=SHARE,
                             held_out=True)
ALIGNMENT_DOMINATES = Criterion("C12", "|rho(success, cos | RMS)| - |rho(success, RMS | cos)|", 0.0, "above",
                                value_range=SHARE_DIFFERENCE)
SHUFFLED = ALIGNMENT_DOMINATES.as_control("|rho(success, shuffled cos | RMS)| - |rho(success, RMS | shuffled cos)|")


def _scaled_logits(m):
    W, b = head_parameters(m.model)
    return scaled_feature_logits(W, b, m.test.features, fit_feature_scale(W, b, m.val.features, m.val.labels))


def ece_change(m) -> Estimate:
    paired = [*confidence_and_correct(_scaled_logits(m), m.test.labels),
              *confidence_and_correct(m.test.logits, m.test.labels)]

    def ece_difference(w, c1, k1, c0, k0):
        return weighted_calibration_error(w, c1, k1) - weighted_calibration_error(w, c0, k0)

    return bootstrap(ece_difference, paired)


def unchanged_share(m) -> Estimate:
    return bootstrap(weighted_mean, [(_scaled_logits(m).argmax(1) == m.test.predictions).double().numpy()])


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
    """Per attacked image of the hard model: attack success, cos(v, v_opt,y), RMS of v, clean-correct."""
    outcome = attack_outcome(zoo, "hard", zoo.profile.attacks[attack])
    v, y = outcome.clean.features, outcome.clean.labels
    return [outcome.fooled.double().numpy(), true_class_alignment(zoo["hard"], v, y).numpy(), sample_rms(v).numpy(),
            outcome.clean_correct.double().numpy()]


def dominance(s, c, r, axis=-1):
    """|rho(success, cos | RMS)| - |rho(success, RMS | cos)| from the ranks s, c, r (partial Spearman)."""
    return np.abs(partial_correlation(s, c, r, axis)) - np.abs(partial_correlation(s, r, c, axis))


def weighted_dominance(w, s, c, r, kept):
    """``dominance`` over the clean-correct samples of a resample (partial Spearman of the resample),
    from the three rank correlations, each sample ranked once."""
    r_sc, r_sr, r_cr = weighted_spearmans(w * kept, s, c, r)
    return np.abs(partial_from(r_sc, r_sr, r_cr)) - np.abs(partial_from(r_sr, r_sc, r_cr))


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w"])
def test_alignment_explains_robustness_more_than_magnitude(runs, attack, check):
    def estimate(zoo) -> Estimate:
        arrays = success_alignment_rms(zoo, attack)
        return on_kept(bootstrap(weighted_dominance, arrays), arrays[-1])

    check.supported(runs.decide(ALIGNMENT_DOMINATES, estimate, f"{attack}, hard"))


def test_control_shuffled_alignment_explains_nothing(runs, check):
    def shuffled(zoo) -> Estimate:
        *arrays, kept = success_alignment_rms(zoo, "FGSM")
        return rank_permutations(dominance, [a[kept == 1] for a in arrays], shuffled=1)

    check.not_supported(runs.decide(SHUFFLED, shuffled, "FGSM, hard"))

"""C4: soft labels (label smoothing, Mixup, CutMix) shrink features: their representation vectors
have a lower RMS than the hard-label model's, and the RMS decreases as the smoothing eps grows.

Declared before measuring: a regularizer shrinks features when the 95% CI of the relative change
RMS(reg) / RMS(hard) - 1 lies below -10% (a practically meaningful shrink, not a seed-to-seed
wobble). The negative control is the hard-label recipe retrained with another seed.
"""

import numpy as np
import pytest

from claims.zoo_views import confidence, predicted_alignment
from repcore.geometry import feature_rms, mean_square, sample_rms
from repcore.report.figures import rms_vs_cosine
from repcore.stats import Verdict, decide, paired_bootstrap_ci, spearman

MIN_RELATIVE_SHRINK = 0.10


def relative_rms_change(ms_model: np.ndarray, ms_base: np.ndarray, axis: int = -1) -> np.ndarray:
    """RMS(model) / RMS(base) - 1 from per-sample mean squares (same test images, paired)."""
    return np.sqrt(ms_model.mean(axis) / ms_base.mean(axis)) - 1


def shrinkage_verdict(model, base) -> Verdict:
    value, low, high = paired_bootstrap_ci(
        relative_rms_change, [mean_square(model.test.features).numpy(),
                              mean_square(base.test.features).numpy()])
    return decide("C4", f"RMS({model.name}) / RMS({base.name}) - 1", value, (low, high),
                  -MIN_RELATIVE_SHRINK, "below", len(model.test.labels))


@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_shrink_features(zoo, profile, regularizer, check):
    model, hard = zoo[profile.regularized[regularizer]], zoo["hard"]
    for m in (model, hard):
        check.evidence(m.name, rms=feature_rms(m.test.features))
    check.supported(shrinkage_verdict(model, hard))


def test_rms_decreases_as_smoothing_grows(zoo, profile, check, figure):
    eps = np.array(sorted(profile.ls_sweep))
    for e in eps:
        check.evidence(zoo[profile.ls_sweep[e]].name, ls_eps=e, rms=feature_rms(zoo[profile.ls_sweep[e]].test.features))
    shown = {name: zoo[name] for name in ["hard", *profile.regularized.values()]}
    figure(rms_vs_cosine({n: (sample_rms(m.test.features).numpy(), predicted_alignment(m).numpy(),
                              confidence(m).numpy()) for n, m in shown.items()}),
           "Per-sample RMS of v against cos(v, v_opt,c_hat), coloured by confidence (test split).")
    squares = [mean_square(zoo[profile.ls_sweep[e]].test.features).numpy() for e in eps]

    def rho(*ms, axis=-1):
        rms = np.sqrt(np.stack([m.mean(axis) for m in ms], axis=-1))
        return spearman(np.broadcast_to(eps, rms.shape), rms)

    value, low, high = paired_bootstrap_ci(rho, squares)
    check.supported(decide("C4", f"Spearman(eps, RMS) over eps={eps.tolist()}", value, (low, high),
                           0.0, "below", len(squares[0])))


def test_control_another_hard_seed_does_not_shrink(zoo, check):
    check.not_supported(shrinkage_verdict(zoo["hard_seed1"], zoo["hard"]))

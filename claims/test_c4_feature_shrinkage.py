"""C4: soft labels (label smoothing, Mixup, CutMix) shrink features: their representation vectors
have a lower RMS than the hard-label model's, and the RMS decreases as the smoothing eps grows.

Declared before measuring: a regularizer shrinks features when the seed-level interval of the
relative change RMS(reg) / RMS(hard) - 1 (one paired value per training seed) lies below -20%: twice
the largest seed-to-seed change of the hard recipe measured by ``bench/seed_spread.py``
(``SEED_SPREAD``), so a shrink counts only when it is larger than two hard seeds can differ. The eps sweep:
Spearman(eps, RMS) below 0 (the sweep is trained for the first seed only). Negative control: the
hard-label recipe retrained with the next seed, against the hard model.
"""

import numpy as np
import pytest

from claims.zoo_views import confidence, predicted_alignment
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.geometry import feature_rms, mean_square, sample_rms
from repcore.report.figures import rms_vs_cosine
from repcore.stats import Estimate, paired_bootstrap, spearman

SEED_SPREAD = ("twice the largest |RMS change| of hard vs hard of the next seed, smoke seeds 0-6 "
               "(bench/seed_spread.py): -3.9%, +1.6%, +3.4%, -9.2%, +9.7%, -3.2%; largest 9.7%")
SHRINKS = Criterion("C4", "RMS(reg) / RMS(hard) - 1", -0.20, "below", bound_evidence=SEED_SPREAD)
SHRINKS_WITH_EPS = Criterion("C4", "Spearman(eps, RMS) over the LS sweep", 0.0, "below")
ANOTHER_SEED = SHRINKS.as_control("RMS(hard, next seed) / RMS(hard) - 1")


def relative_rms_change(ms_model: np.ndarray, ms_base: np.ndarray, axis: int = -1) -> np.ndarray:
    """RMS(model) / RMS(base) - 1 from per-sample mean squares (same test images, paired)."""
    return np.sqrt(ms_model.mean(axis) / ms_base.mean(axis)) - 1


def shrinkage(model, base) -> Estimate:
    return paired_bootstrap(relative_rms_change, [mean_square(model.test.features).numpy(),
                                                  mean_square(base.test.features).numpy()])


@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_shrink_features(runs, regularizer, check):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for m in (zoo[role], zoo["hard"]):
            check.evidence(m.name, rms=feature_rms(m.test.features))
    check.supported(runs.decide(SHRINKS, lambda zoo: shrinkage(zoo[role], zoo["hard"]), f"{role} vs hard"))


def test_rms_decreases_as_smoothing_grows(runs, check, figure):
    zoo, sweep = runs.first, runs.profile.ls_sweep
    eps = np.array(sorted(sweep))
    for e in eps:
        check.evidence(zoo[sweep[e]].name, ls_eps=e, rms=feature_rms(zoo[sweep[e]].test.features))
    shown = {name: zoo[name] for name in ["hard", *runs.profile.regularized.values()]}
    figure(rms_vs_cosine({n: (sample_rms(m.test.features).numpy(), predicted_alignment(m).numpy(),
                              confidence(m).numpy()) for n, m in shown.items()}),
           "Per-sample RMS of v against cos(v, v_opt,c_hat), coloured by confidence (test split, first seed).")

    def rho(*ms, axis=-1):
        rms = np.sqrt(np.stack([m.mean(axis) for m in ms], axis=-1))
        return spearman(np.broadcast_to(eps, rms.shape), rms)

    def sweep_trend(z) -> Estimate:
        return paired_bootstrap(rho, [mean_square(z[sweep[e]].test.features).numpy() for e in eps])

    check.supported(runs.decide(SHRINKS_WITH_EPS, sweep_trend, f"eps={eps.tolist()}",
                                roles=tuple(sweep.values())))


def test_control_another_hard_seed_does_not_shrink(runs, check):
    check.not_supported(runs.decide(ANOTHER_SEED, lambda zoo: shrinkage(zoo["hard_seed1"], zoo["hard"])))

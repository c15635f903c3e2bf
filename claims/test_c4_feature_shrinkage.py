"""C4: soft labels (label smoothing, Mixup, CutMix) shrink features: their representation vectors
have a lower RMS than the hard-label model's, and the RMS decreases as the smoothing eps grows.

Declared before measuring: a regularizer shrinks features when the seed-level interval of the
relative change RMS(reg) / RMS(hard) - 1 (one paired value per training seed) lies below 0. The
interval's training-run term carries the seed-to-seed variation, so the bound is 0; the recipe's
own seed spread of the statistic (two hard seeds, ``repcore.spread``) is shown beside the effect as
evidence. The eps sweep: Spearman(eps, RMS) below 0 (the sweep is trained for the first seed
only). Negative control: the hard-label recipe retrained with the next seed, against the hard model.
"""

import numpy as np
import pytest

from repcore.claims.zoo_views import COMPARISONS, confidence, predicted_alignment, rms, shows_figures, versus_hard
from repcore.fixtures.regularizers import compared
from repcore.fixtures.roles import HARD, NEXT_SEED
from repcore.criteria import CORRELATION, RELATIVE_CHANGE, Criterion
from repcore.geometry import feature_rms, mean_square, sample_rms
from repcore.report.figures import feature_histograms, rms_vs_cosine
from repcore.stats import Estimate, bootstrap, spearman

SHRINKS = Criterion("C4", "RMS(reg) / RMS(hard) - 1", 0.0, "below", value_range=RELATIVE_CHANGE, spread="rms_change")
SHRINKS_WITH_EPS = Criterion("C4", "Spearman(eps, RMS) over the LS sweep", 0.0, "below", value_range=CORRELATION)
ANOTHER_SEED = SHRINKS.as_control("RMS(hard, next seed) / RMS(hard) - 1")


@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_shrink_features(runs, regularizer, check, figure):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for m in (zoo[role], zoo[HARD]):
            check.evidence(m.name, rms=feature_rms(m.test.features))
    if shows_figures(runs, regularizer):
        shown = {name: runs.first[name] for name in [HARD, *runs.profile.regularized.values()] if name in runs.first}
        figure(feature_histograms({n: (sample_rms(m.test.features).numpy(), predicted_alignment(m).numpy())
                                   for n, m in shown.items()}),
               "Per-sample RMS of v and cos(v, v_opt,c_hat), hard against each regularizer (test split, first seed).")
        figure(rms_vs_cosine({n: (sample_rms(m.test.features).numpy(), predicted_alignment(m).numpy(),
                                  confidence(m).numpy()) for n, m in shown.items()}),
               "Per-sample RMS of v against cos(v, v_opt,c_hat), coloured by confidence (test split, first seed).")
    check.supported(versus_hard(runs, SHRINKS, role))


def test_rms_decreases_as_smoothing_grows(runs, check):
    zoo, sweep = runs.first, runs.profile.ls_sweep
    eps = np.array(sorted(sweep))
    for e in eps:
        check.evidence(zoo[sweep[e]].name, ls_eps=e, rms=feature_rms(zoo[sweep[e]].test.features))

    def rho(w, *ms):
        sizes = np.stack([rms(w, m) for m in ms], axis=-1)
        return spearman(np.broadcast_to(eps, sizes.shape), sizes)

    def sweep_trend(z) -> Estimate:
        return bootstrap(rho, [mean_square(z[sweep[e]].test.features).numpy() for e in eps])

    check.supported(runs.decide(SHRINKS_WITH_EPS, sweep_trend, f"eps={eps.tolist()}",
                                roles=tuple(sweep.values())))


def test_control_another_hard_seed_does_not_shrink(runs, check):
    check.not_supported(runs.decide(ANOTHER_SEED, lambda zoo: COMPARISONS["rms_change"](zoo, NEXT_SEED, HARD),
                                    roles=(NEXT_SEED,)))

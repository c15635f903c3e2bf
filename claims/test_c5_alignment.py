"""C5: soft labels raise alignment: features of regularized models have a higher mean
cos(v, v_opt,c_hat) than the hard-label model's.

Declared: the seed-level interval of mean cos(reg) - mean cos(hard) (one paired value per training
seed) lies above the profile's margin ``cos_gain``: twice the largest seed-to-seed difference of
the hard recipe (``repcore.spread``, measured by ``bench/seed_spread.py`` on seeds outside the
default set). Negative control: the hard-label recipe retrained with the next seed, against the
hard model.
"""

import pytest

from repcore.claims.zoo_views import predicted_alignment
from repcore.fixtures.regularizers import compared
from repcore.fixtures.roles import NEXT_SEED
from repcore.criteria import CORRELATION_DIFFERENCE, Criterion
from repcore.stats import Estimate, comparison, weighted_mean

ALIGNS = Criterion("C5", "mean cos(reg) - mean cos(hard)", float("nan"), "above",
                   value_range=CORRELATION_DIFFERENCE, margin="cos_gain")
ANOTHER_SEED = ALIGNS.as_control("mean cos(hard, next seed) - mean cos(hard)")


def alignment_gain(model, base) -> Estimate:
    return comparison(weighted_mean, [predicted_alignment(model).numpy()], [predicted_alignment(base).numpy()])


@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_raise_alignment(runs, regularizer, check):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for m in (zoo[role], zoo["hard"]):
            check.evidence(m.name, mean_cos=float(predicted_alignment(m).mean()))
    check.supported(runs.decide(ALIGNS, lambda zoo: alignment_gain(zoo[role], zoo["hard"]), f"{role} vs hard"))


def test_control_another_hard_seed_does_not_raise_alignment(runs, check):
    check.not_supported(runs.decide(ANOTHER_SEED, lambda zoo: alignment_gain(zoo[NEXT_SEED], zoo["hard"]),
                                   roles=(NEXT_SEED,)))

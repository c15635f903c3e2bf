"""C5: soft labels raise alignment: features of regularized models have a higher mean
cos(v, v_opt,c_hat) than the hard-label model's.

Declared: the seed-level interval of mean cos(reg) - mean cos(hard) (one paired value per training
seed) lies above 0. The interval's training-run term carries the seed-to-seed variation, so the
bound is 0; the recipe's own seed spread of the statistic (two hard seeds, ``repcore.spread``) is
shown beside the effect as evidence. Negative control: the hard-label recipe retrained with the next
seed, against the hard model.
"""

import pytest

from repcore.claims.zoo_views import COMPARISONS, predicted_alignment, versus_hard
from repcore.fixtures.regularizers import compared
from repcore.fixtures.roles import HARD, NEXT_SEED
from repcore.criteria import CORRELATION_DIFFERENCE, Criterion

ALIGNS = Criterion("C5", "mean cos(reg) - mean cos(hard)", 0.0, "above", value_range=CORRELATION_DIFFERENCE,
                   spread="cos_gain")
ANOTHER_SEED = ALIGNS.as_control("mean cos(hard, next seed) - mean cos(hard)")


@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_raise_alignment(runs, regularizer, check):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for m in (zoo[role], zoo[HARD]):
            check.evidence(m.name, mean_cos=float(predicted_alignment(m).mean()))
    check.supported(versus_hard(runs, ALIGNS, role))


def test_control_another_hard_seed_does_not_raise_alignment(runs, check):
    check.not_supported(runs.decide(ANOTHER_SEED, lambda zoo: COMPARISONS["cos_gain"](zoo, NEXT_SEED, HARD),
                                    roles=(NEXT_SEED,)))

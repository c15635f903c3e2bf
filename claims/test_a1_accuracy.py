"""A1 (sanity): soft labels do not cost accuracy: the seed-level interval of top-1 accuracy of each
regularized model minus the hard-label model's (paired per seed) lies above -1 point. Negative
control: the 2-D bottleneck model (same recipe, a 2-unit representation), which does cost accuracy."""

import pytest

from repcore.claims.zoo_views import correct
from repcore.fixtures.regularizers import compared
from repcore.criteria import SHARE_DIFFERENCE, Criterion
from repcore.stats import Estimate, comparison, weighted_mean

KEEPS_ACCURACY = Criterion("A1", "acc(reg) - acc(hard)", -0.01, "above", value_range=SHARE_DIFFERENCE)
TWO_UNITS = KEEPS_ACCURACY.as_control("acc(2-D bottleneck) - acc(hard)")


def accuracy_change(model, base) -> Estimate:
    return comparison(weighted_mean, [correct(model)], [correct(base)])


@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_keep_accuracy(runs, regularizer, check):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for m in (zoo[role], zoo["hard"]):
            check.evidence(m.name, accuracy=m.test_accuracy)
    check.supported(runs.decide(KEEPS_ACCURACY, lambda zoo: accuracy_change(zoo[role], zoo["hard"]), f"{role} vs hard"))


def test_control_a_two_unit_representation_costs_accuracy(runs, check):
    check.not_supported(runs.decide(TWO_UNITS, lambda zoo: accuracy_change(zoo["bottleneck_bias"], zoo["hard"]),
                                    roles=("bottleneck_bias",)))

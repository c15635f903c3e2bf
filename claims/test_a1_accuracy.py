"""A1 (sanity): soft labels do not cost accuracy: the seed-level interval of top-1 accuracy of each
regularized model minus the hard-label model's (paired per seed) lies above -1 point. Negative
control: the 2-D bottleneck model (same recipe, a 2-unit representation), which does cost accuracy."""

import pytest

from repcore.claims.zoo_views import COMPARISONS, versus_hard
from repcore.fixtures.regularizers import compared
from repcore.fixtures.roles import HARD
from repcore.criteria import SHARE_DIFFERENCE, Criterion

KEEPS_ACCURACY = Criterion("A1", "acc(reg) - acc(hard)", -0.01, "above", value_range=SHARE_DIFFERENCE,
                           spread="accuracy_change")
TWO_UNITS = KEEPS_ACCURACY.as_control("acc(2-D bottleneck) - acc(hard)")


@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_keep_accuracy(runs, regularizer, check):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for name in (role, HARD):
            check.evidence(zoo[name].name, accuracy=zoo[name].test_accuracy, train_accuracy=zoo.training_accuracy(name))
    check.supported(versus_hard(runs, KEEPS_ACCURACY, role))


def test_control_a_two_unit_representation_costs_accuracy(runs, check):
    check.not_supported(runs.decide(TWO_UNITS, lambda zoo: COMPARISONS["accuracy_change"](zoo, "bottleneck_bias", HARD),
                                    roles=("bottleneck_bias",)))

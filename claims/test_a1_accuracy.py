"""A1 (sanity): soft labels do not cost accuracy: the seed-level interval of top-1 accuracy of each
regularized model minus the hard-label model's (paired per seed) lies above -1 point. Negative
control: the 2-D bottleneck model (same recipe, a 2-unit representation), which does cost accuracy.

Beside it, not a criterion (``test_basics_...``): the basics of every model under test, whatever the
roles, for the report's models table, and reliability diagrams before and after temperature
scaling."""

import pytest

from repcore.calibration import confidence_and_correct
from repcore.claims.zoo_views import COMPARISONS, model_basics, temperature_or_nan, versus_hard
from repcore.fixtures.regularizers import compared
from repcore.fixtures.roles import HARD
from repcore.criteria import SHARE_DIFFERENCE, Criterion
from repcore.report.figures import reliability_diagrams

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


def test_basics_of_the_models_under_test(runs, check, figure):
    roles = [role for role in (HARD, *runs.profile.regularized.values()) if role in runs.first]
    for zoo in runs.zoos:
        for role in roles:
            if role in zoo:
                check.evidence(zoo[role].name, **model_basics(zoo, role))
    shown = {}
    for role in roles:
        m = runs.first[role]
        shown[role] = confidence_and_correct(m.test.logits, m.test.labels)
        T = temperature_or_nan(m)
        if T == T:
            shown[f"{role}, T* = {T:.2f}"] = confidence_and_correct(m.test.logits.double() / T, m.test.labels)
    figure(reliability_diagrams(shown), "Reliability diagrams per role before and after temperature scaling (T* fitted "
                                        "on the calibration images), 15 equal-width bins, test split, first seed.")


def test_control_a_two_unit_representation_costs_accuracy(runs, check):
    check.not_supported(runs.decide(TWO_UNITS, lambda zoo: COMPARISONS["accuracy_change"](zoo, "bottleneck_bias", HARD),
                                    roles=("bottleneck_bias",)))

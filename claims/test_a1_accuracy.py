"""A1 (sanity): soft labels do not cost accuracy: top-1 accuracy of each regularized model is at
least the hard-label model's minus 1 point (95% CI over test images, paired). Negative control: the
2-D bottleneck model (same recipe, a 2-unit representation), which does cost accuracy."""

import pytest

from repcore.stats import decide, mean_difference, paired_bootstrap_ci

MAX_ACCURACY_LOSS = 0.01


def accuracy_verdict(model, base):
    correct = [(m.test.predictions == m.test.labels).double().numpy() for m in (model, base)]
    value, low, high = paired_bootstrap_ci(mean_difference, correct)
    return decide("A1", f"acc({model.name}) - acc({base.name})", value, (low, high),
                  -MAX_ACCURACY_LOSS, "above", len(correct[0]))


@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_keep_accuracy(zoo, profile, regularizer, check):
    reg, hard = zoo[profile.regularized[regularizer]], zoo["hard"]
    for m in (reg, hard):
        check.evidence(m.name, accuracy=m.test_accuracy)
    check.supported(accuracy_verdict(reg, hard))


def test_control_a_two_unit_representation_costs_accuracy(zoo, check):
    check.not_supported(accuracy_verdict(zoo["bottleneck_bias"], zoo["hard"]))

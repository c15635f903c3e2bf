"""A1 (sanity): soft labels do not cost accuracy: top-1 accuracy of each regularized model is at
least the hard-label model's minus 1 point (95% CI over test images, paired)."""

import pytest

from repcore.stats import decide, mean_difference, paired_bootstrap_ci

MAX_ACCURACY_LOSS = 0.01


@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_keep_accuracy(zoo, profile, regularizer, check):
    reg, hard = zoo[profile.regularized[regularizer]], zoo["hard"]

    correct = [(m.test.predictions == m.test.labels).double().numpy() for m in (reg, hard)]
    for m, c in zip((reg, hard), correct):
        check.evidence(m.name, accuracy=c.mean())
    value, low, high = paired_bootstrap_ci(mean_difference, correct)
    check.supported(decide("A1", f"acc({reg.name}) - acc({hard.name})", value, (low, high),
                           -MAX_ACCURACY_LOSS, "above", len(correct[0])))

"""C5: soft labels raise alignment: features of regularized models have a higher mean
cos(v, v_opt,c_hat) than the hard-label model's.

Declared: the 95% CI of mean cos(reg) - mean cos(hard) lies above 0.02 (a gain beyond a seed-to-seed
wobble). Negative control: the hard-label recipe retrained with another seed.
"""

import pytest

from claims.zoo_views import predicted_alignment
from repcore.stats import decide, mean_difference, paired_bootstrap_ci

MIN_GAIN = 0.02


def alignment_gain_verdict(model, base):
    value, low, high = paired_bootstrap_ci(mean_difference, [predicted_alignment(model).numpy(),
                                                  predicted_alignment(base).numpy()])
    return decide("C5", f"mean cos({model.name}) - mean cos({base.name})", value, (low, high),
                  MIN_GAIN, "above", len(model.test.labels))


@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_raise_alignment(zoo, profile, regularizer, check):
    model, hard = zoo[profile.regularized[regularizer]], zoo["hard"]
    for m in (model, hard):
        check.evidence(m.name, mean_cos=float(predicted_alignment(m).mean()))
    check.supported(alignment_gain_verdict(model, hard))


def test_control_another_hard_seed_does_not_raise_alignment(zoo, check):
    check.not_supported(alignment_gain_verdict(zoo["hard_seed1"], zoo["hard"]))

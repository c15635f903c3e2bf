"""C10: soft-label models are more robust to weak gradient attacks (FGSM, PGD^w).

Declared: the 95% CI of ASR(reg) - ASR(hard) lies below 0 (each model's clean-correct samples,
resampled independently). Precondition: the weak budgets give the hard model an ASR strictly inside
(5%, 95%), so the comparison is measurable.
"""

import pytest

from fixtures.evaluations import attack_outcome
from repcore.stats import decide, independent_bootstrap_ci, mean_difference

WEAK = ["FGSM", "PGD^w"]


@pytest.mark.parametrize("attack", WEAK)
def test_weak_budgets_are_in_the_measurable_range(zoo, profile, attack, record_property):
    asr = attack_outcome(zoo, "hard", profile.attacks[attack]).success_rate
    record_property("precondition", {"attack": attack, "hard_asr": asr})
    assert 0.05 < asr < 0.95, f"{attack} ASR on the hard model is {asr:.3f}, outside (0.05, 0.95)"


@pytest.mark.parametrize("attack", WEAK)
@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_lower_weak_attack_success(zoo, profile, regularizer, attack, check):
    name = profile.regularized[regularizer]
    reg = attack_outcome(zoo, name, profile.attacks[attack])
    hard = attack_outcome(zoo, "hard", profile.attacks[attack])
    for model, outcome in ((name, reg), ("hard", hard)):
        check.evidence(model, **{f"asr_{attack}": outcome.success_rate})

    value, low, high = independent_bootstrap_ci(
        mean_difference, [reg.success.double().numpy(), hard.success.double().numpy()])
    check.supported(decide("C10", f"ASR({name}) - ASR(hard) under {attack}", value, (low, high),
                           0.0, "below", len(reg.success)))

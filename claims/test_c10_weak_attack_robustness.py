"""C10: soft-label models are more robust to weak gradient attacks (FGSM, PGD^w).

Declared: the 95% CI of ASR(reg) - ASR(hard) lies below 0 (each model's clean-correct samples,
resampled independently). Precondition: the weak budgets give the hard model an ASR strictly inside
(5%, 95%), so the comparison is measurable. Negative control: the hard-label recipe retrained with
another seed, against the hard model, under FGSM.
"""

import pytest

from fixtures.evaluations import AttackOutcome, attack_outcome
from repcore.stats import decide, independent_bootstrap_ci, mean_difference

WEAK = ["FGSM", "PGD^w"]


@pytest.mark.parametrize("attack", WEAK)
def test_weak_budgets_are_in_the_measurable_range(zoo, profile, attack, record_property):
    asr = attack_outcome(zoo, "hard", profile.attacks[attack]).success_rate
    record_property("precondition", {"attack": attack, "hard_asr": asr})
    assert 0.05 < asr < 0.95, f"{attack} ASR on the hard model is {asr:.3f}, outside (0.05, 0.95)"


def asr_difference_verdict(model: AttackOutcome, hard: AttackOutcome, name: str, attack: str):
    value, low, high = independent_bootstrap_ci(
        mean_difference, [model.success.double().numpy(), hard.success.double().numpy()])
    return decide("C10", f"ASR({name}) - ASR(hard) under {attack}", value, (low, high),
                  0.0, "below", len(model.success))


@pytest.mark.parametrize("attack", WEAK)
@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_lower_weak_attack_success(zoo, profile, regularizer, attack, check):
    name = profile.regularized[regularizer]
    reg = attack_outcome(zoo, name, profile.attacks[attack])
    hard = attack_outcome(zoo, "hard", profile.attacks[attack])
    for model, outcome in ((name, reg), ("hard", hard)):
        check.evidence(model, **{f"asr_{attack}": outcome.success_rate})
    check.supported(asr_difference_verdict(reg, hard, name, attack))


def test_control_another_hard_seed_is_not_more_robust(zoo, profile, check):
    attack = profile.attacks["FGSM"]
    check.not_supported(asr_difference_verdict(attack_outcome(zoo, "hard_seed1", attack),
                                               attack_outcome(zoo, "hard", attack), "hard_seed1", "FGSM"))

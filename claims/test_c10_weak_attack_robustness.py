"""C10: soft-label models are more robust to weak gradient attacks (FGSM, PGD^w).

Precondition (checked on the models under test): the weak budget gives the hard model an attack
success rate (ASR) strictly inside (5%, 95%), so the comparison is measurable; otherwise the
criterion is inconclusive. Declared: the seed-level interval of ASR(reg) - ASR(hard) (each seed's
models on their own clean-correct samples, resampled independently) lies below 0. Negative
control: the hard-label recipe retrained with the next seed, against the hard model, under FGSM.
"""

import pytest

from claims.zoo_views import measurable_weak_attack
from fixtures.evaluations import attack_outcome
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.stats import Estimate, independent_bootstrap, mean_difference

WEAK = ["FGSM", "PGD^w"]
MORE_ROBUST = Criterion("C10", "ASR(reg) - ASR(hard)", 0.0, "below")
ANOTHER_SEED = MORE_ROBUST.as_control("ASR(hard, next seed) - ASR(hard)")


def asr_change(zoo, role: str, attack: str) -> Estimate:
    config = zoo.profile.attacks[attack]
    model, hard = attack_outcome(zoo, role, config), attack_outcome(zoo, "hard", config)
    return independent_bootstrap(mean_difference, [model.success.double().numpy(), hard.success.double().numpy()])


@pytest.mark.parametrize("attack", WEAK)
@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_lower_weak_attack_success(runs, regularizer, attack, check):
    role = runs.profile.regularized[regularizer]
    for zoo in runs.zoos:
        for name in (role, "hard"):
            outcome = attack_outcome(zoo, name, runs.profile.attacks[attack])
            check.evidence(zoo[name].name, **{f"asr_{attack}": outcome.success_rate})
            check.attack_checks(zoo[name].name, outcome)
    check.supported(runs.decide(MORE_ROBUST, lambda zoo: asr_change(zoo, role, attack), f"{role} vs hard, {attack}",
                                precondition=measurable_weak_attack(runs, attack)))


def test_control_another_hard_seed_is_not_more_robust(runs, check):
    check.not_supported(runs.decide(ANOTHER_SEED, lambda zoo: asr_change(zoo, "hard_seed1", "FGSM"), "FGSM"))

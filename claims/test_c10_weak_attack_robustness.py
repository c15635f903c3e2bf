"""C10: soft-label models are more robust to weak gradient attacks (FGSM, PGD^w).

Precondition (checked on the models under test): the weak budget gives the hard model an attack
success rate (ASR) strictly inside (5%, 95%), so the comparison is measurable; otherwise the
criterion is inconclusive. Declared: the seed-level interval of ASR(reg) - ASR(hard) (each model
on its own clean-correct samples of the shared attacked images, paired per seed) lies below 0.
Beside each verdict, as evidence: the transfer success, the hard model's adversarial images (same
seed) fed to the regularized model. Label smoothing's robustness to white-box gradient attacks is
known to vanish under transfer (Fu et al., arXiv 2009.08233): a regularized model that resists its
own gradients but not the hard model's images shows gradient masking, not robustness. Negative
control: the hard-label recipe retrained with the next seed, against the hard model, under FGSM.
"""

import numpy as np
import pytest

from repcore.claims.zoo_views import asr_change, measurable_weak_attack, versus_hard
from repcore.fixtures.zoo import attack_outcome, transfer_outcome
from repcore.fixtures.profiles import TRANSFER_ATTACKS
from repcore.fixtures.regularizers import compared
from repcore.fixtures.roles import HARD, NEXT_SEED
from repcore.criteria import SHARE_DIFFERENCE, Criterion
from repcore.report.figures import white_box_and_transfer

WEAK = ["FGSM", "PGD^w"]
MORE_ROBUST = {attack: Criterion("C10", "ASR(reg) - ASR(hard)", 0.0, "below", value_range=SHARE_DIFFERENCE,
                                 spread=f"asr_change_{attack}") for attack in WEAK}
ANOTHER_SEED = MORE_ROBUST["FGSM"].as_control("ASR(hard, next seed) - ASR(hard)")


@pytest.mark.parametrize("attack", WEAK)
@pytest.mark.parametrize("regularizer", list(compared()))
def test_soft_labels_lower_weak_attack_success(runs, regularizer, attack, check, figure):
    role = runs.profile.regularized[regularizer]
    config = runs.profile.attacks[attack]
    rates = {HARD: {"white-box": []}, role: {"white-box": [], "transferred from hard": []}}
    for zoo in runs.zoos:
        for name in (role, HARD):
            outcome = attack_outcome(zoo, name, config)
            rates[name]["white-box"].append(outcome.success_rate)
            check.evidence(zoo[name].name, **{f"asr_{attack}": outcome.success_rate})
            check.attack_checks(zoo[name].name, outcome)
        if attack in TRANSFER_ATTACKS:
            transferred = transfer_outcome(zoo, HARD, role, config).success_rate
            rates[role]["transferred from hard"].append(transferred)
            check.evidence(zoo[role].name, **{f"asr_{attack}_transfer": transferred})
    if attack in TRANSFER_ATTACKS:
        figure(white_box_and_transfer(rates, attack),
               f"{role}, {attack}: attack success of its own white-box attack and of the hard model's adversarial "
               f"images transferred to it (same seed), against the hard model's; dots: seeds "
               f"(mean transfer {np.mean(rates[role]['transferred from hard']):.1%}, white-box "
               f"{np.mean(rates[role]['white-box']):.1%}).")
    check.supported(versus_hard(runs, MORE_ROBUST[attack], role, attack,
                                precondition=measurable_weak_attack(runs, attack)))


def test_control_another_hard_seed_is_not_more_robust(runs, check):
    check.not_supported(runs.decide(ANOTHER_SEED, lambda zoo: asr_change(zoo, NEXT_SEED, HARD, "FGSM"), "FGSM",
                                   roles=(NEXT_SEED,)))

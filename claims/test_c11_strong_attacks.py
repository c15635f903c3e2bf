"""C11 (a limitation the paper states): strong attacks (PGD^s, AutoAttack^s) defeat all models alike.

Declared (seed-level intervals): every model's ASR under a strong attack lies above 0.9; and the
regularized-vs-hard gap shrinks: |ASR_weak(reg) - ASR_weak(hard)| - |ASR_strong(reg) - ASR_strong(hard)|
lies above 0 (PGD^w vs PGD^s, AutoAttack^w vs AutoAttack^s, on the images both attacks attack).
Negative control: a weak attack (PGD^w) on the hard model does not defeat it.
"""

import pytest

from repcore.claims.zoo_views import attack_success, attacked
from repcore.fixtures.evaluations import attacked_images
from repcore.fixtures.zoo import attack_outcome
from repcore.fixtures.regularizers import compared
from repcore.criteria import SHARE, SHARE_DIFFERENCE, Criterion
from repcore.stats import Estimate, bootstrap

PAIRS = {"PGD^s": "PGD^w", "AA^s": "AA^w"}
DEFEATS = Criterion("C11", "ASR", 0.9, "above", value_range=SHARE)
GAP_SHRINKS = Criterion("C11", "|weak reg-hard gap| - |strong reg-hard gap|", 0.0, "above",
                        value_range=SHARE_DIFFERENCE)
WEAK_ATTACK = DEFEATS.as_control("ASR under the weak PGD^w")


def success_rate(zoo, name: str, attack: str) -> Estimate:
    return bootstrap(attack_success, list(attacked(zoo, name, attack)))


@pytest.mark.parametrize("attack", list(PAIRS))
@pytest.mark.parametrize("name", ["hard", *compared().values()])
def test_strong_attacks_defeat_every_model(runs, name, attack, check):
    for zoo in runs.zoos:
        outcome = attack_outcome(zoo, name, runs.profile.attacks[attack])
        check.evidence(zoo[name].name, **{f"asr_{attack}": outcome.success_rate})
        check.attack_checks(zoo[name].name, outcome)
    check.supported(runs.decide(DEFEATS, lambda zoo: success_rate(zoo, name, attack), f"{attack}, {name}"))


def test_control_a_weak_attack_does_not_defeat_the_hard_model(runs, check):
    check.not_supported(runs.decide(WEAK_ATTACK, lambda zoo: success_rate(zoo, "hard", "PGD^w"), "hard"))


@pytest.mark.parametrize("strong", list(PAIRS))
@pytest.mark.parametrize("regularizer", list(compared()))
def test_strong_attacks_erase_the_regularization_gap(runs, regularizer, strong, check):
    role = runs.profile.regularized[regularizer]
    attacks = (PAIRS[strong], strong)
    shared = min(attacked_images(runs.profile, runs.profile.attacks[a]) for a in attacks)

    def shrinkage(zoo) -> Estimate:
        samples = [a for attack in attacks for model in (role, "hard") for a in attacked(zoo, model, attack, shared)]

        def gap_shrinkage(w, *arrays):
            rw, hw, rs, hs = (attack_success(w, arrays[i], arrays[i + 1]) for i in range(0, 8, 2))
            return abs(rw - hw) - abs(rs - hs)

        return bootstrap(gap_shrinkage, samples)

    check.supported(runs.decide(GAP_SHRINKS, shrinkage, f"{PAIRS[strong]} vs {strong}, {role}"))

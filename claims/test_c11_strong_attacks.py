"""C11 (a limitation the paper states): strong attacks (PGD^s, AutoAttack^s) defeat all models alike.

Declared (seed-level intervals): every model's ASR under a strong attack lies above 0.9; and the
regularized-vs-hard gap shrinks: |ASR_weak(reg) - ASR_weak(hard)| - |ASR_strong(reg) - ASR_strong(hard)|
lies above 0 (PGD^w vs PGD^s, AutoAttack^w vs AutoAttack^s). Negative control: a weak attack (PGD^w)
on the hard model does not defeat it.
"""

import pytest

from fixtures.evaluations import attack_outcome
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.stats import Estimate, independent_bootstrap, mean, paired_bootstrap

PAIRS = {"PGD^s": "PGD^w", "AA^s": "AA^w"}
DEFEATS = Criterion("C11", "ASR", 0.9, "above")
GAP_SHRINKS = Criterion("C11", "|weak reg-hard gap| - |strong reg-hard gap|", 0.0, "above")
WEAK_ATTACK = DEFEATS.as_control("ASR under the weak PGD^w")


def success_rate(zoo, name: str, attack: str) -> Estimate:
    return paired_bootstrap(mean, [attack_outcome(zoo, name, zoo.profile.attacks[attack]).success.double().numpy()])


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

    def shrinkage(zoo) -> Estimate:
        samples = [attack_outcome(zoo, model, zoo.profile.attacks[attack]).success.double().numpy()
                   for attack in (PAIRS[strong], strong) for model in (role, "hard")]

        def gap_shrinkage(rw, hw, rs, hs, axis=-1):
            return abs(rw.mean(axis) - hw.mean(axis)) - abs(rs.mean(axis) - hs.mean(axis))

        return independent_bootstrap(gap_shrinkage, samples)

    check.supported(runs.decide(GAP_SHRINKS, shrinkage, f"{PAIRS[strong]} vs {strong}, {role}"))

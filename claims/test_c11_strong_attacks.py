"""C11 (a limitation the paper states): strong attacks (PGD^s, AutoAttack^s) defeat all models alike.

Declared: every model's ASR under a strong attack has its 95% CI above 0.9; and the regularized-vs-
hard gap shrinks: |ASR_weak(reg) - ASR_weak(hard)| - |ASR_strong(reg) - ASR_strong(hard)| has its
CI above 0 (PGD^w vs PGD^s, AutoAttack^w vs AutoAttack^s). Negative control: a weak attack (PGD^w)
on the hard model does not defeat it.
"""

import numpy as np
import pytest

from fixtures.evaluations import attack_outcome
from repcore.stats import decide, independent_bootstrap_ci, mean, paired_bootstrap_ci

MIN_STRONG_ASR = 0.9
PAIRS = {"PGD^s": "PGD^w", "AA^s": "AA^w"}


def defeat_verdict(success: np.ndarray, attack: str, name: str):
    value, low, high = paired_bootstrap_ci(mean, [success])
    return decide("C11", f"ASR under {attack} ({name})", value, (low, high), MIN_STRONG_ASR, "above",
                  len(success))


@pytest.mark.parametrize("attack", list(PAIRS))
@pytest.mark.parametrize("name", ["hard", "ls", "mixup", "cutmix"])
def test_strong_attacks_defeat_every_model(zoo, profile, name, attack, check):
    success = attack_outcome(zoo, name, profile.attacks[attack]).success.double().numpy()
    check.evidence(name, **{f"asr_{attack}": success.mean()})
    check.supported(defeat_verdict(success, attack, name))


def test_control_a_weak_attack_does_not_defeat_the_hard_model(zoo, profile, check):
    success = attack_outcome(zoo, "hard", profile.attacks["PGD^w"]).success.double().numpy()
    check.not_supported(defeat_verdict(success, "PGD^w", "hard"))


@pytest.mark.parametrize("strong", list(PAIRS))
@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_strong_attacks_erase_the_regularization_gap(zoo, profile, regularizer, strong, check):
    name = profile.regularized[regularizer]
    samples = [attack_outcome(zoo, model, profile.attacks[attack]).success.double().numpy()
               for attack in (PAIRS[strong], strong) for model in (name, "hard")]

    def gap_shrinkage(rw, hw, rs, hs, axis=-1):
        return abs(rw.mean(axis) - hw.mean(axis)) - abs(rs.mean(axis) - hs.mean(axis))

    value, low, high = independent_bootstrap_ci(gap_shrinkage, samples)
    check.supported(decide("C11", f"|weak gap| - |strong gap| ({PAIRS[strong]} vs {strong}, {name})",
                           value, (low, high), 0.0, "above", min(map(len, samples))))

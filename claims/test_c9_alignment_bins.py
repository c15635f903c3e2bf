"""C9: higher alignment bins have lower attack success, for FGSM, PGD^w and AutoAttack^w.

Clean-correct test samples are split into 5 quantile bins of cos(v, v_opt,y); the attack success
rate (ASR) is computed per bin. Precondition: the weak attack's success on the hard model lies inside
(5%, 95%). Declared: Spearman(bin, ASR) has its seed-level interval (each run's samples resampled,
bins recomputed) below 0, every bin of every run holding >= 30 samples (else inconclusive).
Negative control: the same with the alignments shuffled, decided on its seeded permutation
distribution.
"""

import numpy as np
import pytest

from claims.zoo_views import measurable_weak_attack, true_class_alignment
from fixtures.evaluations import attack_outcome
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.report.figures import asr_by_alignment
from repcore.stats import Estimate, index_bootstrap, permutation_distribution, spearman

N_BINS = 5
MIN_PER_BIN = 30
MODELS = ["hard", *compared().values()]
RESAMPLES = 1000
TREND = Criterion("C9", "Spearman(cos bin, ASR)", 0.0, "below", min_n=MIN_PER_BIN)
SHUFFLED = TREND.as_control("Spearman(shuffled cos bin, ASR)")


def asr_per_bin(cos: np.ndarray, success: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ASR, count) per quantile bin of ``cos`` along the last axis, lowest alignment first: a sample
    goes to the bin of the last edge at or below it (the maximum to the top bin)."""
    inner_edges = np.moveaxis(np.quantile(cos, np.linspace(0, 1, N_BINS + 1)[1:-1], axis=-1), 0, -1)
    in_bin = (cos[..., None] >= inner_edges[..., None, :]).sum(-1)[..., None] == np.arange(N_BINS)
    counts = in_bin.sum(-2)
    with np.errstate(invalid="ignore"):
        return (in_bin * success[..., None]).sum(-2) / counts, counts


def bin_trend(cos: np.ndarray, success: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman(bin, ASR of the bin) along the last axis."""
    asr = asr_per_bin(cos, success)[0]
    return spearman(np.broadcast_to(np.arange(N_BINS, dtype=float), asr.shape), asr)


def trend_estimate(cos: np.ndarray, success: np.ndarray) -> Estimate:
    """The trend with its bootstrap (bins recomputed on each resample); n is the smallest bin."""
    boot = index_bootstrap(lambda i, axis=-1: bin_trend(cos[i], success[i]), len(cos), n_resamples=RESAMPLES,
                           vectorized=True)
    return Estimate(boot.value, boot.distribution, int(asr_per_bin(cos, success)[1].min()))


def cos_and_success(zoo, name, attack):
    outcome = attack_outcome(zoo, name, zoo.profile.attacks[attack])
    keep = outcome.clean_correct
    cos = true_class_alignment(zoo[name], outcome.clean.features[keep], outcome.clean.labels[keep])
    return cos.numpy(), outcome.success.double().numpy()


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w", "AA^w"])
@pytest.mark.parametrize("name", MODELS)
def test_aligned_samples_resist_attacks(runs, name, attack, check, figure):
    cos, success = cos_and_success(runs.first, name, attack)
    figure(asr_by_alignment(cos, success, np.quantile(cos, np.linspace(0, 1, N_BINS + 1)), f"{attack}, {name}"),
           f"{name}, {attack}: histogram of cos(v, v_opt,y) over clean-correct test samples, with the "
           "attack success rate of each quantile bin (red), first seed.")
    for zoo in runs.zoos:
        outcome = attack_outcome(zoo, name, runs.profile.attacks[attack])
        check.attack_checks(zoo[name].name, outcome)
        check.evidence(zoo[name].name, **{f"asr_{attack}": outcome.success_rate})
    check.supported(runs.decide(TREND, lambda zoo: trend_estimate(*cos_and_success(zoo, name, attack)),
                                f"{attack}, {name}", precondition=measurable_weak_attack(runs, attack)))


def test_control_shuffled_alignment_has_no_trend(runs, check):
    def shuffled(zoo) -> Estimate:
        cos, success = cos_and_success(zoo, "hard", "FGSM")
        permuted = permutation_distribution(bin_trend, [cos, success], shuffled=0)
        return Estimate(permuted.value, permuted.distribution, int(asr_per_bin(cos, success)[1].min()))

    check.not_supported(runs.decide(SHUFFLED, shuffled, "FGSM, hard"))

"""C9: higher alignment bins have lower attack success, for FGSM, PGD^w and AutoAttack^w.

Clean-correct test samples are split into quantile bins of cos(v, v_opt,y); the attack success
rate (ASR) is computed per bin. The number of bins is set by the sample size alone, once per model
and attack over all runs: the most, from 5 down to 3, that leave every bin of every run with >= 30
samples (CLAIMS.md: quantile bins of >= 30 samples each). A fixed 5 put AutoAttack^w, run on 250
images, on a knife edge: about 150 clean-correct samples make bins of 28 to 33, so whether a run's
model got 150 of them right decided the verdict, and the seed sets {0,1,2} and {3,4,5} disagreed.
Precondition: the weak attack's success on the hard model lies inside (5%, 95%). Declared:
Spearman(bin, ASR) has its seed-level interval (each run's samples resampled, bins recomputed)
below 0, every bin of every run holding >= 30 samples (else inconclusive).
Negative control: the same with the alignments shuffled, decided on its seeded permutation
distribution.
"""

from functools import partial

import numpy as np
import pytest

from claims.zoo_views import measurable_weak_attack, true_class_alignment
from fixtures.evaluations import attack_outcome
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.report.figures import asr_by_alignment
from repcore.stats import Estimate, index_bootstrap, permutation_distribution, spearman

BIN_COUNTS = (5, 4, 3)  # tried in this order; the first whose every bin holds MIN_PER_BIN samples
MIN_PER_BIN = 30
MODELS = ["hard", *compared().values()]
RESAMPLES = 1000
TREND = Criterion("C9", "Spearman(cos bin, ASR)", 0.0, "below", min_n=MIN_PER_BIN)
SHUFFLED = TREND.as_control("Spearman(shuffled cos bin, ASR)")


def quantile_edges(cos: np.ndarray, bins: int) -> np.ndarray:
    """The ``bins + 1`` quantile edges of ``cos`` along its last axis (minimum and maximum included),
    on the first axis of the result."""
    return np.quantile(cos, np.linspace(0, 1, bins + 1), axis=-1)


def bin_membership(cos: np.ndarray, bins: int) -> np.ndarray:
    """Whether each sample (along the last axis of ``cos``) lies in each quantile bin, lowest
    alignment first (shape ``cos.shape + (bins,)``): a sample goes to the bin of the last edge at or
    below it (the maximum to the top bin)."""
    inner_edges = np.moveaxis(quantile_edges(cos, bins)[1:-1], 0, -1)
    return (cos[..., None] >= inner_edges[..., None, :]).sum(-1)[..., None] == np.arange(bins)


def asr_per_bin(cos: np.ndarray, success: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(ASR, count) per quantile bin of ``cos`` along the last axis (``bin_membership``)."""
    in_bin = bin_membership(cos, bins)
    counts = in_bin.sum(-2)
    with np.errstate(invalid="ignore"):
        return (in_bin * success[..., None]).sum(-2) / counts, counts


def smallest_bin(cos: np.ndarray, bins: int) -> int:
    return int(bin_membership(cos, bins).sum(-2).min())


def bin_count(alignments: list[np.ndarray]) -> int:
    """The most quantile bins in ``BIN_COUNTS`` that leave every bin of every run's ``alignments``
    with ``MIN_PER_BIN`` samples; the fewest when none does (the criterion is then inconclusive)."""
    return next((bins for bins in BIN_COUNTS if all(smallest_bin(cos, bins) >= MIN_PER_BIN for cos in alignments)),
                BIN_COUNTS[-1])


def bin_trend(cos: np.ndarray, success: np.ndarray, bins: int, axis: int = -1) -> np.ndarray:
    """Spearman(bin, ASR of the bin) along the last axis."""
    asr = asr_per_bin(cos, success, bins)[0]
    return spearman(np.broadcast_to(np.arange(bins, dtype=float), asr.shape), asr)


def trend_estimate(cos: np.ndarray, success: np.ndarray, bins: int) -> Estimate:
    """The trend with its bootstrap (bins recomputed on each resample); n is the smallest bin."""
    boot = index_bootstrap(lambda i, axis=-1: bin_trend(cos[i], success[i], bins), len(cos), n_resamples=RESAMPLES,
                           vectorized=True)
    return Estimate(boot.value, boot.distribution, smallest_bin(cos, bins))


def cos_and_success(zoo, name, attack):
    outcome = attack_outcome(zoo, name, zoo.profile.attacks[attack])
    keep = outcome.clean_correct
    cos = true_class_alignment(zoo[name], outcome.clean.features[keep], outcome.clean.labels[keep])
    return cos.numpy(), outcome.success.double().numpy()


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w", "AA^w"])
@pytest.mark.parametrize("name", MODELS)
def test_aligned_samples_resist_attacks(runs, name, attack, check, figure):
    samples = {zoo.replicate.seed: cos_and_success(zoo, name, attack) for zoo in runs.zoos}
    bins = bin_count([cos for cos, _ in samples.values()])
    cos, success = samples[runs.first.replicate.seed]
    figure(asr_by_alignment(cos, success, quantile_edges(cos, bins), f"{attack}, {name}"),
           f"{name}, {attack}: histogram of cos(v, v_opt,y) over clean-correct test samples, with the "
           f"attack success rate of each of {bins} quantile bins (red), first seed.")
    for zoo in runs.zoos:
        outcome = attack_outcome(zoo, name, runs.profile.attacks[attack])
        check.attack_checks(zoo[name].name, outcome)
        check.evidence(zoo[name].name, **{f"asr_{attack}": outcome.success_rate, f"bins_{attack}": bins})
    check.supported(runs.decide(TREND, lambda zoo: trend_estimate(*samples[zoo.replicate.seed], bins),
                                f"{attack}, {name}", precondition=measurable_weak_attack(runs, attack)))


def test_control_shuffled_alignment_has_no_trend(runs, check):
    samples = {zoo.replicate.seed: cos_and_success(zoo, "hard", "FGSM") for zoo in runs.zoos}
    bins = bin_count([cos for cos, _ in samples.values()])

    def shuffled(zoo) -> Estimate:
        cos, success = samples[zoo.replicate.seed]
        permuted = permutation_distribution(partial(bin_trend, bins=bins), [cos, success], shuffled=0)
        return Estimate(permuted.value, permuted.distribution, smallest_bin(cos, bins))

    check.not_supported(runs.decide(SHUFFLED, shuffled, "FGSM, hard"))

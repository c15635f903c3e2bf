"""C9: higher alignment bins have lower attack success, for FGSM, PGD^w and AutoAttack^w.

Clean-correct attacked test samples are split into equal-count bins of cos(v, v_opt,y)
(``repcore.alignment_bins``); the attack success rate (ASR) is computed per bin. The number of
bins is set by the sample size alone, once per model and attack over all runs: the most, from 5
down to 3, that leave every bin of every run with >= 30 samples (CLAIMS.md: quantile bins of >= 30
samples each), so whether one run's model classified a few more images correctly cannot decide the
verdict. Precondition: the weak attack's success on the hard model lies inside (5%, 95%). Declared:
Spearman(bin, ASR) has its seed-level interval (the attacked images resampled, bins recomputed on
each resample) below 0, every bin of every run holding >= 30 samples (else inconclusive).
Negative control: the same with the pairing of alignment and success shuffled (the bins kept,
the successes permuted across the clean-correct samples), decided on its seeded permutation
distribution.
"""

from functools import partial

import numpy as np
import pytest

from repcore.claims.zoo_views import measurable_weak_attack, true_class_alignment
from repcore.fixtures.zoo import attack_outcome
from repcore.fixtures.regularizers import compared
from repcore.alignment_bins import MIN_PER_BIN, bin_count, bin_trend, equal_count_edges, sample_bins, smallest_bin
from repcore.criteria import CORRELATION, Criterion
from repcore.report.figures import asr_by_alignment
from repcore.stats import Estimate, bootstrap, permutation_distribution, spearman

MODELS = ["hard", *compared().values()]
TREND = Criterion("C9", "Spearman(cos bin, ASR)", 0.0, "below", min_n=MIN_PER_BIN, value_range=CORRELATION)
SHUFFLED = TREND.as_control("Spearman(shuffled cos bin, ASR)")


def cos_fooled_kept(zoo, name, attack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per attacked image: cos(v, v_opt,y), fooled by the attack, clean-correct."""
    outcome = attack_outcome(zoo, name, zoo.profile.attacks[attack])
    cos = true_class_alignment(zoo[name], outcome.clean.features, outcome.clean.labels)
    return cos.numpy(), outcome.fooled.double().numpy(), outcome.clean_correct.double().numpy()


def trend_estimate(cos: np.ndarray, fooled: np.ndarray, kept: np.ndarray, bins: int) -> Estimate:
    """The trend with its bootstrap (bins recomputed on each resample); n is the smallest bin."""
    estimate = bootstrap(partial(bin_trend, bins=bins), [cos, fooled, kept])
    return Estimate(estimate.value, estimate.distribution, smallest_bin(cos, kept, bins), estimate.resampling)


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w", "AA^w"])
@pytest.mark.parametrize("name", MODELS)
def test_aligned_samples_resist_attacks(runs, name, attack, check, figure):
    samples = {zoo.replicate.seed: cos_fooled_kept(zoo, name, attack) for zoo in runs.zoos}
    bins = bin_count([(cos, kept) for cos, _, kept in samples.values()], minimum=MIN_PER_BIN)
    cos, fooled, kept = samples[runs.first.replicate.seed]
    figure(asr_by_alignment(cos[kept == 1], fooled[kept == 1], equal_count_edges(cos, kept, bins), f"{attack}, {name}"),
           f"{name}, {attack}: histogram of cos(v, v_opt,y) over clean-correct test samples, with the "
           f"attack success rate of each of {bins} equal-count bins (red), first seed.")
    for zoo in runs.zoos:
        outcome = attack_outcome(zoo, name, runs.profile.attacks[attack])
        check.attack_checks(zoo[name].name, outcome)
        check.evidence(zoo[name].name, **{f"asr_{attack}": outcome.success_rate, f"bins_{attack}": bins})
    def estimate(zoo) -> Estimate:
        """On the first look's samples, or a later look's, read when it is needed (same bins)."""
        if zoo.replicate.seed not in samples:
            samples[zoo.replicate.seed] = cos_fooled_kept(zoo, name, attack)
        return trend_estimate(*samples[zoo.replicate.seed], bins)

    check.supported(runs.decide(TREND, estimate, f"{attack}, {name}",
                                precondition=measurable_weak_attack(runs, attack)))


def test_control_shuffled_alignment_has_no_trend(runs, check):
    samples = {zoo.replicate.seed: cos_fooled_kept(zoo, "hard", "FGSM") for zoo in runs.zoos}
    bins = bin_count([(cos, kept) for cos, _, kept in samples.values()], minimum=MIN_PER_BIN)

    def shuffled(zoo) -> Estimate:
        cos, fooled, kept = samples[zoo.replicate.seed]
        members = sample_bins(cos, kept, bins)[kept == 1, None] == np.arange(bins)

        def trend(c, s, axis=-1):
            rates = (s @ members) / members.sum(0)
            return spearman(np.broadcast_to(np.arange(bins, dtype=float), rates.shape), rates)

        permuted = permutation_distribution(trend, [cos[kept == 1], fooled[kept == 1]], shuffled=1)
        return Estimate(permuted.value, permuted.distribution, smallest_bin(cos, kept, bins))

    check.not_supported(runs.decide(SHUFFLED, shuffled, "FGSM, hard"))

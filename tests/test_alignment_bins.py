"""C9's quantile bins: how many, from the sample size alone (claims/test_c9_alignment_bins.py)."""

import numpy as np
import pytest

from claims.test_c9_alignment_bins import MIN_PER_BIN, asr_per_bin, bin_count, bin_trend, smallest_bin


def alignments(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


@pytest.mark.parametrize("n, bins", [(150, 5), (149, 4), (120, 4), (119, 3), (90, 3)])
def test_the_most_bins_that_keep_thirty_samples_each(n, bins):
    """AutoAttack^w on 250 images leaves about 150 clean-correct samples: a fixed 5 bins made a run
    with 149 of them inconclusive and one with 150 decided, so two seed sets disagreed on C9."""
    assert bin_count([alignments(n)]) == bins
    assert smallest_bin(alignments(n), bins) >= MIN_PER_BIN


def test_one_count_for_every_run_set_by_the_smallest():
    assert bin_count([alignments(400, 1), alignments(149, 2), alignments(1000, 3)]) == 4


def test_too_few_samples_for_three_bins_leave_the_criterion_short_of_data():
    bins = bin_count([alignments(89)])
    assert bins == 3 and smallest_bin(alignments(89), bins) < MIN_PER_BIN


@pytest.mark.parametrize("bins", [3, 4, 5])
def test_success_falling_with_alignment_gives_a_trend_of_minus_one(bins):
    cos = alignments(300)
    rank = np.argsort(np.argsort(cos))
    success = (rank % 10 < 10 * (1 - rank / 300)).astype(float)  # about 1 - rank / 300: falling in every bin
    counts = asr_per_bin(cos, success, bins)[1]
    assert counts.sum() == 300 and counts.min() >= 300 // bins - 1
    assert bin_trend(cos, success, bins) == pytest.approx(-1.0)

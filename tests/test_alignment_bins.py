"""C9's equal-count bins of alignment (repcore/alignment_bins.py): how many, from the sample size
alone, and the same bins under resampling as on the sample."""

import numpy as np
import pytest

from repcore.alignment_bins import bin_count, bin_trend, binned_success, equal_count_edges, sample_bins, smallest_bin
from repcore.stats import resample_counts, resample_indices

MIN_PER_BIN = 30


def alignments(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return np.random.default_rng(seed).normal(size=n), np.ones(n)


@pytest.mark.parametrize("n, bins", [(150, 5), (149, 4), (120, 4), (119, 3), (90, 3)])
def test_the_most_bins_that_keep_thirty_samples_each(n, bins):
    """AutoAttack^w on 250 images leaves about 150 clean-correct samples: a fixed 5 bins made a run
    with 149 of them inconclusive and one with 150 decided, so two seed sets disagreed on C9."""
    assert bin_count([alignments(n)]) == bins
    assert smallest_bin(*alignments(n), bins) >= MIN_PER_BIN


def test_one_count_for_every_run_set_by_the_smallest():
    assert bin_count([alignments(400, 1), alignments(149, 2), alignments(1000, 3)]) == 4


def test_too_few_samples_for_three_bins_leave_the_criterion_short_of_data():
    bins = bin_count([alignments(89)])
    assert bins == 3 and smallest_bin(*alignments(89), bins) < MIN_PER_BIN


def test_only_clean_correct_samples_are_binned():
    cos, _ = alignments(300)
    kept = (np.arange(300) % 3 > 0).astype(float)
    which = sample_bins(cos, kept, 4)
    assert (which[kept == 0] == -1).all() and np.bincount(which[kept == 1]).tolist() == [50, 50, 50, 50]
    assert smallest_bin(cos, kept, 4) == 50


@pytest.mark.parametrize("bins", [3, 4, 5])
def test_success_falling_with_alignment_gives_a_trend_of_minus_one(bins):
    cos, kept = alignments(300)
    rank = np.argsort(np.argsort(cos))
    fooled = (rank % 10 < 10 * (1 - rank / 300)).astype(float)  # about 1 - rank / 300: falling in every bin
    rates, counts = binned_success(np.ones(300), cos, fooled, kept, bins)
    assert counts.sum() == 300 and counts.min() >= 300 // bins - 1
    assert bin_trend(np.ones(300), cos, fooled, kept, bins) == pytest.approx(-1.0)
    edges = equal_count_edges(cos, kept, bins)
    assert len(edges) == bins + 1 and np.all(np.diff(edges) > 0)


def test_a_resample_bins_its_own_samples_by_their_order():
    """Under the counts of a resample the bins are the equal-count bins of the resampled samples:
    the same rates as binning the resample drawn by index at its equal-count edges."""
    rng = np.random.default_rng(5)
    cos, kept, fooled = rng.normal(size=200), (rng.random(200) < 0.8).astype(float), (rng.random(200) < 0.4) * 1.0
    w = resample_counts(200)[:3]
    rates, counts = binned_success(w, cos, fooled, kept, 4)
    for row, idx in enumerate(resample_indices(200)[:3]):
        kept_cos = np.sort(cos[idx][kept[idx] == 1])
        edges = kept_cos[np.ceil(np.arange(1, 4) * len(kept_cos) / 4).astype(int)]
        by_index = np.searchsorted(edges, cos[idx], side="right")
        expected = [(fooled[idx] * kept[idx])[by_index == k].sum() / kept[idx][by_index == k].sum() for k in range(4)]
        assert counts[row].sum() == kept[idx].sum() and np.allclose(rates[row], expected)

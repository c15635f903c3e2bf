"""Equal-count bins of alignment and the attack success rate per bin (C9), over resamples.

The clean-correct samples of a resample are ordered by cos(v, v_opt,y) and cut into ``bins``
groups of equal count, the lowest alignment first: bin k starts at position ceil(k N / bins) of the
N resampled samples (0-based), and the copies of one sample stay together, in the bin of the last
of them (as cutting the resample at its quantiles puts every copy of an edge value above the
edge). The attack success rate of a bin is its share of fooled samples, and the trend is
Spearman(bin index, success rate) over the bins.
"""

import numpy as np

from repcore.stats import TieGroups, cumulative, spearman

MIN_PER_BIN = 30  # clean-correct samples in each bin, or the criterion has too little data
BIN_COUNTS = (5, 4, 3)  # the bins tried, most first
FEWEST_CLEAN_CORRECT = BIN_COUNTS[-1] * MIN_PER_BIN  # below this no bin count has enough


def _sorted_bins(rows: np.ndarray, bins: int) -> np.ndarray:
    """The bin of each position of weights ``rows`` (B, n, in ascending cos, 0 where not kept): the
    bin floor(bins * position / N) of a sample's last copy, N the row's total (positions before the
    first kept sample, which weigh nothing, in bin 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        position = np.nan_to_num((cumulative(rows) - 1) / rows.sum(1, keepdims=True))
    return np.clip((bins * position).astype(int), 0, bins - 1)


def binned_success(w: np.ndarray, cos: np.ndarray, fooled: np.ndarray, kept: np.ndarray,
                   bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(attack success rate, weight) per bin, one row per row of w (weights of shape (n,) or (B, n)
    over all attacked samples; ``kept`` 1 for the clean-correct ones)."""
    order = TieGroups.of(cos).order
    rows = np.atleast_2d(w)[:, order] * kept[order]
    which = _sorted_bins(rows, bins) + bins * np.arange(len(rows))[:, None]
    counts = np.bincount(which.ravel(), weights=rows.ravel(), minlength=bins * len(rows)).reshape(-1, bins)
    hits = np.bincount(which.ravel(), weights=(rows * fooled[order]).ravel(),
                       minlength=bins * len(rows)).reshape(-1, bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = hits / counts
    return (rates, counts) if w.ndim > 1 else (rates[0], counts[0])


def sample_bins(cos: np.ndarray, kept: np.ndarray, bins: int) -> np.ndarray:
    """The bin of each sample of the sample itself (every weight 1), -1 where not clean-correct."""
    order = TieGroups.of(cos).order
    which = np.empty(len(cos), dtype=int)
    which[order] = _sorted_bins(kept[order][None].astype(float), bins)[0]
    return np.where(kept == 1, which, -1)


def bin_trend(w: np.ndarray, cos: np.ndarray, fooled: np.ndarray, kept: np.ndarray, bins: int) -> np.ndarray:
    """Spearman(bin index, attack success rate of the bin), one value per row of w."""
    rates = binned_success(w, cos, fooled, kept, bins)[0]
    return spearman(np.broadcast_to(np.arange(bins, dtype=float), rates.shape), rates)


def smallest_bin(cos: np.ndarray, kept: np.ndarray, bins: int) -> int:
    """The fewest clean-correct samples in any bin of the sample itself."""
    return int(binned_success(np.ones(len(cos)), cos, np.zeros(len(cos)), kept, bins)[1].min())


def bin_count(runs: list[tuple[np.ndarray, np.ndarray]], counts: tuple[int, ...] = BIN_COUNTS,
              minimum: int = MIN_PER_BIN) -> int:
    """The most bins in ``counts`` that leave every bin of every run's (cos, kept) with ``minimum``
    samples; the fewest when none does (a criterion is then short of data)."""
    return next((bins for bins in counts if all(smallest_bin(cos, kept, bins) >= minimum for cos, kept in runs)),
                counts[-1])


def equal_count_edges(cos: np.ndarray, kept: np.ndarray, bins: int) -> np.ndarray:
    """The ``bins + 1`` edges of the bins of the sample's clean-correct ``cos``: its minimum, the
    first value of each bin after the first, its maximum."""
    values = np.sort(cos[kept == 1])
    starts = np.ceil(np.arange(1, bins) * len(values) / bins).astype(int)
    return np.r_[values[0], values[starts], values[-1]]

"""Statistics of the verdict engine: one training run's estimate with its sampling distribution,
and the seed-level interval over training runs.

- ``Estimate``: a statistic of one model (or one pair of models of the same seed) with its
  distribution under resampling of the test samples (``scipy.stats.bootstrap``, seeded, paired
  where the models see the same images) or, for shuffled controls, under seeded permutations.
- ``over_seeds``: the unit of replication is the training run. With S >= 2 runs of estimates
  x_1..x_S, the interval is mean(x) +- sqrt((t_{S-1} s_b / sqrt(S))^2 + (z se)^2): s_b the
  between-seed standard deviation, se the mean of the runs' bootstrap standard errors, which bounds
  the test-sample standard error of mean(x) from above (the runs share the test images, so their
  sampling errors are correlated, at most fully). The two components are independent (law of total
  variance), so their half-widths add in quadrature, each at its own quantile: Student's t with
  S - 1 degrees of freedom for the spread estimated from S runs, the normal one for the standard
  error estimated from thousands of resamples. With S = 1 the interval is the run's bootstrap
  percentile interval: sample variance only.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

N_RESAMPLES = 2000
N_PERMUTATIONS = 1000
CONFIDENCE = 0.95
SEED = 20241005
BATCH = 100  # resamples per vectorized call: bit-identical intervals at a fraction of the memory


@dataclass(frozen=True)
class Estimate:
    """``value`` of a statistic on ``n`` samples and its resampling ``distribution``."""

    value: float
    distribution: np.ndarray = field(repr=False, compare=False)
    n: int

    @classmethod
    def exact(cls, value: float, n: int) -> "Estimate":
        """A statistic without sampling variation (e.g. a property of the weights)."""
        return cls(float(value), np.array([float(value)]), int(n))

    @property
    def se(self) -> float:
        finite = self.distribution[np.isfinite(self.distribution)]
        return float(finite.std(ddof=1)) if len(finite) > 1 else 0.0

    def interval(self, level: float = CONFIDENCE) -> tuple[float, float]:
        """Percentile interval of the distribution (NaN when a resample was undefined)."""
        if not np.isfinite(self.distribution).all():
            return float("nan"), float("nan")
        low, high = np.quantile(self.distribution, [(1 - level) / 2, (1 + level) / 2])
        return float(low), float(high)


@dataclass(frozen=True)
class SeedInterval:
    """A statistic over training runs: mean, interval, and what the interval covers."""

    value: float
    low: float
    high: float
    n: int  # the fewest test samples of any run
    seeds: tuple[int, ...]
    per_seed: tuple[tuple[float, float, float], ...]  # each run's (value, low, high), samples only
    between_seed_sd: float
    sample_se: float
    level: float

    @property
    def unit(self) -> str:
        if len(self.seeds) == 1:
            return "single seed: sample variance only"
        return f"{len(self.seeds)} training seeds and test samples"


def over_seeds(estimates: Sequence[Estimate], seeds: Sequence[int], level: float = CONFIDENCE) -> SeedInterval:
    """The seed-level interval of the mean of one estimate per training run (module docstring)."""
    if len(estimates) != len(seeds) or not estimates:
        raise ValueError(f"one estimate per seed is needed: {len(estimates)} estimates, seeds {list(seeds)}")
    values = np.array([e.value for e in estimates])
    per_seed = tuple((e.value, *e.interval(level)) for e in estimates)
    sample_se = float(np.mean([e.se for e in estimates]))
    n = min(e.n for e in estimates)
    if len(estimates) == 1:
        _, low, high = per_seed[0]
        return SeedInterval(float(values[0]), low, high, n, tuple(seeds), per_seed, 0.0, sample_se, level)
    between = float(values.std(ddof=1))
    seed_half = stats.t.ppf((1 + level) / 2, len(values) - 1) * between / np.sqrt(len(values))
    half = float(np.hypot(seed_half, stats.norm.ppf((1 + level) / 2) * sample_se))
    mean = float(values.mean())
    return SeedInterval(mean, mean - half, mean + half, n, tuple(seeds), per_seed, between, sample_se, level)


def _bootstrap(statistic: Callable, arrays: list[np.ndarray], *, paired: bool, vectorized: bool,
               seed: int, n_resamples: int) -> np.ndarray:
    result = stats.bootstrap(arrays, statistic, paired=paired, vectorized=vectorized, axis=-1,
                             n_resamples=n_resamples, confidence_level=CONFIDENCE, batch=BATCH,
                             method="percentile", rng=np.random.default_rng(seed))
    return np.asarray(result.bootstrap_distribution, dtype=float)


def paired_bootstrap(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
                     seed: int = SEED, n_resamples: int = N_RESAMPLES) -> Estimate:
    """``statistic(*samples, axis=-1)`` with its bootstrap distribution.

    All arrays are indexed by the same samples and resampled together (paired). ``statistic``
    must be vectorized over ``axis``.
    """
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    distribution = _bootstrap(statistic, arrays, paired=True, vectorized=True, seed=seed, n_resamples=n_resamples)
    return Estimate(float(statistic(*arrays, axis=-1)), distribution, len(arrays[0]))


def independent_bootstrap(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
                          seed: int = SEED, n_resamples: int = N_RESAMPLES) -> Estimate:
    """Like ``paired_bootstrap``, but each sample (of its own length) is resampled on its own:
    for statistics of different populations, e.g. attack success over each model's clean-correct set."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    distribution = _bootstrap(statistic, arrays, paired=False, vectorized=True, seed=seed, n_resamples=n_resamples)
    return Estimate(float(statistic(*arrays, axis=-1)), distribution, min(map(len, arrays)))


def index_bootstrap(statistic: Callable[..., float | np.ndarray], n: int, seed: int = SEED,
                    n_resamples: int = N_RESAMPLES, vectorized: bool = False) -> Estimate:
    """Bootstrap a statistic of resampled sample indices (for statistics that refit or re-bin).
    ``vectorized``: ``statistic(idx, axis=-1)`` takes index arrays of shape (..., n) and returns one
    value per row (the same resamples, computed a batch at a time)."""
    distribution = _bootstrap(statistic, [np.arange(n)], paired=False, vectorized=vectorized, seed=seed,
                              n_resamples=n_resamples)
    value = statistic(np.arange(n), axis=-1) if vectorized else statistic(np.arange(n))
    return Estimate(float(value), distribution, n)


def permutation_distribution(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
                             shuffled: int = 0, seed: int = SEED,
                             n_permutations: int = N_PERMUTATIONS) -> Estimate:
    """The statistic with ``samples[shuffled]`` permuted across samples: its value is the mean over
    ``n_permutations`` seeded permutations, its distribution theirs (a shuffled negative control
    decided on the whole permutation distribution, not on one draw). ``statistic`` is vectorized."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n_permutations, len(arrays[shuffled]))), axis=1)
    stacked = [a[order] if i == shuffled else np.broadcast_to(a, order.shape) for i, a in enumerate(arrays)]
    distribution = np.asarray(statistic(*stacked, axis=-1), dtype=float)
    return Estimate(float(distribution.mean()), distribution, len(arrays[0]))


def mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean along ``axis``: the bootstrap statistic of a share or an average."""
    return x.mean(axis)


def mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """mean(a) - mean(b) along ``axis``: paired or independent, as the bootstrap resamples them."""
    return a.mean(axis) - b.mean(axis)


def spearman(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho along ``axis`` (Pearson correlation of average ranks), vectorized."""
    return pearson(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis)


def resample_ranks(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Average ranks of x[idx] along the last axis, equal to ``scipy.stats.rankdata(x[idx], axis=-1)``
    (ties share their mean rank), counted rather than sorted: x's tie groups are ordered once, and a
    row's rank of group g is (values of the row in groups below g) + (count of g + 1) / 2."""
    groups, group_of = np.unique(x, return_inverse=True)
    rows = group_of[idx.reshape(-1, idx.shape[-1])]
    counts = np.bincount((rows + len(groups) * np.arange(len(rows))[:, None]).ravel(),
                         minlength=len(groups) * len(rows)).reshape(len(rows), len(groups))
    ranks = np.cumsum(counts, axis=1) - (counts - 1) / 2
    return np.take_along_axis(ranks, rows, axis=1).reshape(idx.shape)


def rank_bootstrap(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray], seed: int = SEED,
                   n_resamples: int = N_RESAMPLES) -> Estimate:
    """``statistic`` of the average ranks of paired samples, with the paired bootstrap: the
    resamples of ``paired_bootstrap`` (ranks recomputed on each), ranked by counting
    (``resample_ranks``) instead of sorting. ``statistic(*ranks)`` is vectorized over the last axis."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]

    def of_ranks(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(*(resample_ranks(a, idx) for a in arrays))

    return index_bootstrap(of_ranks, len(arrays[0]), seed, n_resamples, vectorized=True)


def spearman_bootstrap(x: np.ndarray, y: np.ndarray, seed: int = SEED,
                       n_resamples: int = N_RESAMPLES) -> Estimate:
    """Spearman's rho (Pearson's r of the ranks) with its paired bootstrap: the distribution of
    ``paired_bootstrap(spearman, [x, y])``, computed by ``rank_bootstrap``."""
    return rank_bootstrap(pearson, [x, y], seed, n_resamples)


def rank_permutations(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray], shuffled: int = 0,
                      seed: int = SEED, n_permutations: int = N_PERMUTATIONS) -> Estimate:
    """``permutation_distribution`` of ``statistic`` of the average ranks of ``samples``, ranked once
    (the ranks of a permuted sample are its ranks permuted)."""
    return permutation_distribution(statistic, [stats.rankdata(s) for s in samples], shuffled, seed, n_permutations)


def spearman_permutations(x: np.ndarray, y: np.ndarray, seed: int = SEED,
                          n_permutations: int = N_PERMUTATIONS) -> Estimate:
    """Spearman's rho with the pairing shuffled: ``permutation_distribution(spearman, [x, y],
    shuffled=1)``, computed by ``rank_permutations``."""
    return rank_permutations(pearson, [x, y], 1, seed, n_permutations)


def pearson(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson's r along ``axis``, vectorized; NaN where a variable is constant."""
    xc = x - x.mean(axis=axis, keepdims=True)
    yc = y - y.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis) / np.sqrt((xc ** 2).sum(axis) * (yc ** 2).sum(axis))


def partial_correlation(x: np.ndarray, y: np.ndarray, z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson correlation of x and y given z, (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2) (1 - r_yz^2))."""
    r_xy, r_xz, r_yz = pearson(x, y, axis), pearson(x, z, axis), pearson(y, z, axis)
    return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz ** 2) * (1 - r_yz ** 2))

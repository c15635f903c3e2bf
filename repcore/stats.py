"""Statistics of the verdict engine: one training run's estimate with its bootstrap distribution,
and the seed-level interval over training runs that see the same test samples.

Seeds and test samples are crossed: every run of a setting is evaluated on the same n test images.
So the bootstrap is joint: ``resample_indices(n)`` is one seeded set of B resamples of n samples
(rows of indices drawn with replacement, ``resample_counts(n)`` the same rows as multiplicities),
and every statistic of n samples is resampled with these rows, whichever model and seed it
belongs to. Two kinds of statistic use them:

- weighted: ``statistic(w, *samples)`` with w the multiplicities ((n,) for the sample itself,
  (B, n) for the resamples): a mean is w @ x / n, so all resamples cost one matrix product
  (``bootstrap``; ``comparison`` for a model against a baseline);
- by index: ``statistic(idx)`` for statistics that refit or re-bin (``index_bootstrap``).

``over_seeds`` decides on one estimate per run, S runs with values x_1..x_S:

    mean(x)  +-  sqrt( (t_{S-1} s_b / sqrt(S))^2 + (z se)^2 )

s_b the between-seed standard deviation (Student's t, since it is estimated from S runs), se the
test-sample standard error of mean(x): the standard deviation over the joint resamples of the mean
over runs of their resampled values (the normal quantile, from B resamples). The two components
are the training-run and the test-sample parts of the variance (law of total variance); their
half-widths add in quadrature. s_b already holds the sample error that is independent between
runs, so the interval counts that part twice: conservative, and the coverage simulation in
``tests/test_stats.py`` measures it. Estimates whose resamples are not shared (permutation
distributions, statistics of per-model subsets) take the mean of the runs' standard errors instead,
an upper bound (their errors can be at most fully correlated). With S = 1 the interval is the
run's bootstrap percentile interval: sample variance only.
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from scipy import special

N_RESAMPLES = 1000
N_PERMUTATIONS = 1000
CONFIDENCE = 0.95
SEED = 20241005
BATCH = 100  # resamples per block for the statistics that work a resample at a time


@dataclass(frozen=True)
class Estimate:
    """``value`` of a statistic on ``n`` samples and its resampling ``distribution``.

    ``resampling`` names the resamples the distribution is over, (n, B, seed) for the joint
    bootstrap: estimates with the same ``resampling`` were resampled row by row alike. A comparison
    of a model with a baseline keeps ``parts`` (the statistic of each) and how it ``combine``s
    them, so the seed-level interval can say what the pairing of the two by seed buys."""

    value: float
    distribution: np.ndarray = field(repr=False, compare=False)
    n: int
    resampling: tuple | None = None
    parts: tuple[float, float] | None = None
    combine: Callable | None = field(default=None, repr=False, compare=False)

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


@functools.lru_cache(maxsize=16)
def resample_indices(n: int, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> np.ndarray:
    """The joint bootstrap of n samples: ``n_resamples`` rows of n indices drawn with replacement
    from a generator seeded with ``seed`` (read-only; every statistic of n samples uses these)."""
    indices = np.random.default_rng(seed).integers(0, n, (n_resamples, n))
    indices.flags.writeable = False
    return indices


@functools.lru_cache(maxsize=16)
def resample_counts(n: int, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> np.ndarray:
    """``resample_indices(n)`` as multiplicities: row r holds how often each sample is in resample r."""
    counts = counts_of(resample_indices(n, n_resamples, seed), n)
    counts.flags.writeable = False
    return counts


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
    seed_half: float = 0.0  # t_{S-1} s_b / sqrt(S)
    sample_half: float = 0.0  # z se
    joint: bool = False  # se from the joint bootstrap (else the mean of the runs' errors)
    runs_se: float = 0.0  # the mean of the runs' bootstrap standard errors
    pairing: dict | None = None  # for comparisons: what pairing model and baseline by seed buys
    distribution: np.ndarray | None = field(default=None, repr=False, compare=False)  # one run's, S = 1

    def at_level(self, level: float) -> tuple[float, float]:
        """The interval at another ``level``: the same estimate and spread, the half-width (or, for
        one run, the percentile interval) at that level."""
        if len(self.seeds) == 1:
            return Estimate(self.value, self.distribution, self.n).interval(level)
        half = half_width(len(self.seeds), self.between_seed_sd, self.sample_se, level)
        return self.value - half, self.value + half

    @property
    def unit(self) -> str:
        if len(self.seeds) == 1:
            return "single seed: sample variance only"
        return f"{len(self.seeds)} training seeds and test samples"

    @property
    def half_width(self) -> float:
        return float(np.hypot(self.seed_half, self.sample_half))


def _shared_resamples(estimates: Sequence[Estimate]) -> bool:
    first = estimates[0].resampling
    return first is not None and all(e.resampling == first for e in estimates)


def joint_se(estimates: Sequence[Estimate]) -> float:
    """Standard error of the mean over runs under the joint resamples: the standard deviation over
    resamples of the mean of the runs' resampled values (resamples undefined in any run left out)."""
    means = np.mean(np.stack([e.distribution for e in estimates]), axis=0)
    finite = means[np.isfinite(means)]
    return float(finite.std(ddof=1)) if len(finite) > 1 else 0.0


def pairing(estimates: Sequence[Estimate]) -> dict | None:
    """For comparisons of a model with its baseline of the same seed: the correlation of the two
    statistics across seeds, the between-seed sd of the comparison as paired, and as it would be
    unpaired (the comparison of a model with the baseline of every other seed)."""
    if len(estimates) < 3 or any(e.parts is None or e.combine is None for e in estimates):
        return None
    model, base = np.array([e.parts for e in estimates]).T
    combine = estimates[0].combine
    cross = [combine(model[i], base[j]) for i in range(len(model)) for j in range(len(base)) if i != j]
    paired = float(np.std([e.value for e in estimates], ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = float(np.corrcoef(model, base)[0, 1])
    return {"correlation": correlation, "paired_sd": paired, "unpaired_sd": float(np.std(cross, ddof=1))}


def over_seeds(estimates: Sequence[Estimate], seeds: Sequence[int], level: float = CONFIDENCE) -> SeedInterval:
    """The seed-level interval of the mean of one estimate per training run (module docstring)."""
    if len(estimates) != len(seeds) or not estimates:
        raise ValueError(f"one estimate per seed is needed: {len(estimates)} estimates, seeds {list(seeds)}")
    values = np.array([e.value for e in estimates])
    per_seed = tuple((e.value, *interval) for e, interval in zip(estimates, percentile_intervals(estimates, level),
                                                                  strict=True))
    runs_se = float(np.mean([e.se for e in estimates]))
    n = min(e.n for e in estimates)
    z = special.ndtri((1 + level) / 2)
    if len(estimates) == 1:
        _, low, high = per_seed[0]
        return SeedInterval(float(values[0]), low, high, n, tuple(seeds), per_seed, 0.0, runs_se, level,
                            sample_half=z * runs_se, runs_se=runs_se, distribution=estimates[0].distribution)
    joint = _shared_resamples(estimates)
    sample_se = joint_se(estimates) if joint else runs_se
    between = float(values.std(ddof=1))
    seed_half, sample_half = map(float, interval_halves(len(values), between, sample_se, level))
    half = float(np.hypot(seed_half, sample_half))
    mean = float(values.mean())
    return SeedInterval(mean, mean - half, mean + half, n, tuple(seeds), per_seed, between, sample_se, level,
                        seed_half, sample_half, joint, runs_se, pairing(estimates))


def percentile_intervals(estimates: Sequence[Estimate], level: float) -> list[tuple[float, float]]:
    """Each estimate's ``interval(level)``, in one quantile call where the distributions have one length."""
    if len({len(e.distribution) for e in estimates}) != 1:
        return [e.interval(level) for e in estimates]
    distributions = np.stack([e.distribution for e in estimates])
    bounds = np.quantile(distributions, [(1 - level) / 2, (1 + level) / 2], axis=1).T
    bounds[~np.isfinite(distributions).all(1)] = np.nan
    return [(float(low), float(high)) for low, high in bounds]


def interval_halves(seeds, between_sd, sample_se, level=CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """(t_{S-1} s_b / sqrt(S), z se): the training-run and test-sample half-widths of S runs
    (elementwise for arrays)."""
    return (special.stdtrit(seeds - 1, (1 + level) / 2) * np.asarray(between_sd) / np.sqrt(seeds),
            special.ndtri((1 + level) / 2) * np.asarray(sample_se))


def half_width(seeds: int, between_sd: float, sample_se: float, level: float = CONFIDENCE) -> float:
    """The half-width ``over_seeds`` would give with ``seeds`` runs at the measured spread."""
    return float(np.hypot(*interval_halves(seeds, between_sd, sample_se, level)))


def level_reaching(distance, seeds, between_sd, sample_se, steps: int = 30) -> np.ndarray:
    """The level L at which the half-width of ``seeds`` runs (``interval_halves``) equals
    ``distance``: the interval at any level below L stays clear of a point ``distance`` from its
    centre. Vectorized over the arguments (bisection: the half-width grows with L); 0 where
    ``distance`` <= 0.

    >>> round(float(level_reaching(2.776445 * 0.1 / 5 ** 0.5, 5, 0.1, 0.0)), 4)
    0.95
    """
    distance, seeds, between_sd, sample_se = np.broadcast_arrays(*map(np.asarray, (distance, seeds, between_sd,
                                                                                    sample_se)))
    low, high = np.zeros(distance.shape), np.ones(distance.shape)
    for _ in range(steps):
        middle = (low + high) / 2
        inside = np.hypot(*interval_halves(seeds, between_sd, sample_se, middle)) < distance
        low, high = np.where(inside, middle, low), np.where(inside, high, middle)
    return np.where(distance > 0, low, 0.0)


def _samples(samples: Sequence[np.ndarray]) -> list[np.ndarray]:
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"samples of one statistic must have one length each, got {[len(a) for a in arrays]}")
    return arrays


def bootstrap(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
              n_resamples: int = N_RESAMPLES, seed: int = SEED) -> Estimate:
    """``statistic(w, *samples)`` on the samples (w = ones) and on the joint resamples
    (w = ``resample_counts``, one row per resample, ``BATCH`` rows at a time). All samples are
    indexed by the same n test samples and resampled together (paired)."""
    arrays = _samples(samples)
    n = len(arrays[0])
    counts = resample_counts(n, n_resamples, seed)
    value = statistic(np.ones(n), *arrays)
    distribution = np.concatenate([np.asarray(statistic(counts[i:i + BATCH], *arrays), dtype=float).ravel()
                                   for i in range(0, n_resamples, BATCH)])
    return Estimate(float(value), distribution, n, (n, n_resamples, seed))


def difference(a, b):
    return a - b


def relative_change(a, b):
    return a / b - 1


def size_change(a, b):
    """|a| - |b|: how much closer to 0 the model's statistic is than the baseline's (if negative)."""
    return np.abs(a) - np.abs(b)


def comparison(statistic: Callable[..., np.ndarray], model: Sequence[np.ndarray], base: Sequence[np.ndarray],
               combine: Callable = difference, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> Estimate:
    """combine(statistic(w, *model), statistic(w, *base)): a model against its baseline on the same
    test samples, both resampled alike (``bootstrap``); the estimate keeps each one's statistic."""
    k = len(model)

    def compared(w, *arrays):
        return combine(statistic(w, *arrays[:k]), statistic(w, *arrays[k:]))

    estimate = bootstrap(compared, [*model, *base], n_resamples, seed)
    ones = np.ones(estimate.n)
    parts = (float(statistic(ones, *_samples(model))), float(statistic(ones, *_samples(base))))
    return replace(estimate, parts=parts, combine=combine)


def counts_of(indices: np.ndarray, n: int) -> np.ndarray:
    """Rows of resample indices (R x n) as multiplicities of the n samples (R x n)."""
    rows = np.atleast_2d(indices)
    offsets = (rows + n * np.arange(len(rows))[:, None]).ravel()
    return np.bincount(offsets, minlength=n * len(rows)).reshape(len(rows), n).astype(np.float64)


def index_bootstrap(statistic: Callable[..., float | np.ndarray], n: int, seed: int = SEED,
                    n_resamples: int = N_RESAMPLES, vectorized: bool = False) -> Estimate:
    """``statistic`` of resampled sample indices (for statistics that refit or re-bin), on the
    joint resamples of n samples. ``vectorized``: ``statistic(idx, axis=-1)`` takes index arrays of
    shape (..., n) and returns one value per row (computed ``BATCH`` rows at a time)."""
    rows = resample_indices(n, n_resamples, seed)
    if vectorized:
        distribution = np.concatenate([np.asarray(statistic(rows[i:i + BATCH], axis=-1), dtype=float).ravel()
                                       for i in range(0, n_resamples, BATCH)])
        value = statistic(np.arange(n), axis=-1)
    else:
        distribution = np.array([statistic(row) for row in rows], dtype=float)
        value = statistic(np.arange(n))
    return Estimate(float(value), distribution, n, (n, n_resamples, seed))


@functools.lru_cache(maxsize=16)
def permutations(n: int, n_permutations: int = N_PERMUTATIONS, seed: int = SEED) -> np.ndarray:
    """``n_permutations`` seeded permutations of n samples, one per row (read-only)."""
    rows = np.random.default_rng(seed).permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)
    rows.flags.writeable = False
    return rows


def permutation_distribution(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
                             shuffled: int = 0, seed: int = SEED,
                             n_permutations: int = N_PERMUTATIONS) -> Estimate:
    """The statistic with ``samples[shuffled]`` permuted across samples: its value is the mean over
    ``n_permutations`` seeded permutations, its distribution theirs (a shuffled negative control
    decided on the whole permutation distribution, not on one draw). ``statistic`` is vectorized
    over the last axis (unweighted)."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    order = permutations(len(arrays[shuffled]), n_permutations, seed)
    stacked = [a[order] if i == shuffled else np.broadcast_to(a, order.shape) for i, a in enumerate(arrays)]
    distribution = np.asarray(statistic(*stacked, axis=-1), dtype=float)
    return Estimate(float(distribution.mean()), distribution, len(arrays[0]))


def weighted_mean(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_i w_i x_i / sum_i w_i: the mean of x over a resample (one value per row of w)."""
    return (w @ x) / w.sum(-1)


def weighted_ratio(w: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """sum_i w_i a_i / sum_i w_i b_i: e.g. the attack success among clean-correct samples, a = correct *
    success, b = correct."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (w @ numerator) / (w @ denominator)


def weighted_moments(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cov, var x, var y) of paired samples under weights w of shape (n,) or (B, n); x and y are
    (n,) or one row per resample."""
    total = w.sum(-1, keepdims=True)
    xc = x - (w * x).sum(-1, keepdims=True) / total
    yc = y - (w * y).sum(-1, keepdims=True) / total
    wx, wy = w * xc, w * yc
    return tuple(a / total[..., 0] for a in ((wx * yc).sum(-1), (wx * xc).sum(-1), (wy * yc).sum(-1)))


def weighted_pearson(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson's r of x and y over a resample (weights w); NaN where a variable is constant."""
    cov, vx, vy = weighted_moments(w, x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.sqrt(vx * vy)


@dataclass(frozen=True)
class TieGroups:
    """A sample's tie groups in ascending order: ``order`` sorts the samples, ``starts`` are the
    sorted positions where a group begins, ``group`` is each sample's group."""

    order: np.ndarray
    starts: np.ndarray
    group: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> "TieGroups":
        """x's tie groups, remembered for the last few arrays (a bootstrap asks for the same sample's
        groups once per block of resamples; the memo holds the array, so its id stays its own)."""
        for held, groups in _TIE_GROUPS:
            if held is x:
                return groups
        groups = cls._of(x)
        _TIE_GROUPS.insert(0, (x, groups))
        del _TIE_GROUPS[8:]
        return groups

    @classmethod
    def _of(cls, x: np.ndarray) -> "TieGroups":
        order = np.argsort(x, kind="stable")
        new = np.r_[True, x[order][1:] != x[order][:-1]]
        group = np.empty(len(x), dtype=np.intp)
        group[order] = np.cumsum(new) - 1
        return cls(order, np.flatnonzero(new), group)

    def ranks(self, w: np.ndarray) -> np.ndarray:
        """Each group's average rank within the resamples of weights w (B, n): a group holding
        W_g copies ranks (copies in the groups below) + (W_g + 1) / 2, as ``scipy.stats.rankdata``
        ranks the resample. Returns (per-group ranks, per-group weights), each (B, groups)."""
        sorted_weights = w[:, self.order]
        weights = sorted_weights if len(self.starts) == w.shape[1] else np.add.reduceat(sorted_weights, self.starts,
                                                                                        axis=1)
        return cumulative(weights) - (weights - 1) / 2, weights


_TIE_GROUPS: list[tuple[np.ndarray, TieGroups]] = []


def cumulative(x: np.ndarray) -> np.ndarray:
    """Cumulative sums along the last axis (torch's, 2-3x numpy's on one thread; exact for the
    integer counts of a resample in either)."""
    return torch.cumsum(torch.from_numpy(np.ascontiguousarray(x)), -1).numpy()


def weighted_ranks(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The average rank of each sample of x within a resample that holds sample i w_i times (ties
    share their mean rank), one row per row of w, as ``scipy.stats.rankdata`` ranks the resample."""
    groups = TieGroups.of(x)
    ranks, _ = groups.ranks(np.atleast_2d(w))
    out = ranks[:, groups.group]
    return out if w.ndim > 1 else out[0]


def _rank_moments(rows: np.ndarray, total: np.ndarray, x: np.ndarray) -> tuple:
    """(tie groups, per-group ranks, mean rank, rank variance) of x under each row of weights. The
    mean and variance come from the groups: every copy in a group has the group's rank, so
    sum_i w_i r_i^2 = sum_g W_g R_g^2."""
    groups = TieGroups.of(x)
    ranks, weights = groups.ranks(rows)
    mean = np.einsum("ij,ij->i", weights, ranks) / total
    return groups, ranks, mean, np.einsum("ij,ij,ij->i", weights, ranks, ranks) / total - mean ** 2


def _rank_correlation(rows: np.ndarray, total: np.ndarray, a: tuple, b: tuple) -> np.ndarray:
    """Pearson's r of two samples' resample ranks (``_rank_moments``); only the cross moment needs
    each sample, summed in a's sorted order."""
    (ga, ra, ma, va), (gb, rb, mb, vb) = a, b
    cross = np.einsum("ij,ij,ij->i", rows[:, ga.order], ra[:, ga.group[ga.order]], rb[:, gb.group[ga.order]]) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        return (cross - ma * mb) / np.sqrt(va * vb)


def weighted_spearmans(w: np.ndarray, *samples: np.ndarray) -> list[np.ndarray]:
    """Spearman's rho of every pair of ``samples`` over resamples (Pearson's r of each resample's
    average ranks, weighted by w), in the order (0, 1), (0, 2), ..., (1, 2), ...; each sample is
    ranked once."""
    rows = np.atleast_2d(w)
    total = rows.sum(-1)
    moments = [_rank_moments(rows, total, x) for x in samples]
    rhos = [_rank_correlation(rows, total, moments[i], moments[j])
            for i in range(len(samples)) for j in range(i + 1, len(samples))]
    return rhos if w.ndim > 1 else [rho[0] for rho in rhos]


def weighted_spearman(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman's rho of x and y over resamples (``weighted_spearmans``)."""
    return weighted_spearmans(w, x, y)[0]


def partial_from(r_xy, r_xz, r_yz):
    """The correlation of x and y given z from the three pairwise correlations:
    (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2) (1 - r_yz^2))."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz ** 2) * (1 - r_yz ** 2))


def weighted_partial_spearman(w: np.ndarray, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Partial Spearman correlation of x and y given z over a resample: the partial correlation of ranks."""
    return partial_from(*weighted_spearmans(w, x, y, z))


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest; ties share their mean rank) along the last axis, as
    ``scipy.stats.rankdata`` gives them; NaN along a row that holds a NaN."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, axis=-1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=-1)
    k = x.shape[-1]
    position = np.broadcast_to(np.arange(k), x.shape)
    first = np.ones(x.shape, dtype=bool)
    first[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    last = np.ones(x.shape, dtype=bool)
    last[..., :-1] = first[..., 1:]
    start = np.maximum.accumulate(np.where(first, position, 0), axis=-1)
    end = np.flip(np.minimum.accumulate(np.flip(np.where(last, position, k), -1), axis=-1), -1)
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, (start + end) / 2 + 1, axis=-1)
    return np.where(np.isnan(x).any(-1, keepdims=True), np.nan, ranks)


def spearman(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho along the last axis (Pearson correlation of average ranks), vectorized."""
    return pearson(average_ranks(x), average_ranks(y), axis=axis)


def rank_permutations(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray], shuffled: int = 0,
                      seed: int = SEED, n_permutations: int = N_PERMUTATIONS) -> Estimate:
    """``permutation_distribution`` of ``statistic`` of the average ranks of ``samples``, ranked once
    (the ranks of a permuted sample are its ranks permuted)."""
    return permutation_distribution(statistic, [average_ranks(s) for s in samples], shuffled, seed, n_permutations)


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
    return partial_from(pearson(x, y, axis), pearson(x, z, axis), pearson(y, z, axis))

"""The verdict engine: a statistic, its seeded bootstrap CI, a declared bound and an outcome.

A claim declares its bound and direction before measuring. The outcome is

- supported: the whole 95% CI lies on the claimed side of the bound;
- refuted: the whole CI lies on the other side;
- inconclusive: the CI straddles the bound, or there is too little data.

Intervals come from ``scipy.stats.bootstrap`` (percentile method, seeded) over samples; paired
statistics resample the same indices for every array (the models see the same test images).
"""

import enum
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

N_RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 20241005


class Outcome(enum.StrEnum):
    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Verdict:
    """One tested criterion: ``statistic`` = ``value`` with ``ci``, claimed ``direction`` of ``bound``."""

    claim: str
    statistic: str
    value: float
    ci_low: float
    ci_high: float
    bound: float
    direction: str  # "above" or "below": where the statistic must lie for the claim
    n: int
    outcome: Outcome
    reason: str

    @property
    def supported(self) -> bool:
        return self.outcome is Outcome.SUPPORTED

    def record(self) -> dict:
        """Plain Python types only (xdist serializes user_properties; numpy scalars crash it)."""
        d = asdict(self)
        d["outcome"] = str(self.outcome)
        for k in ("value", "ci_low", "ci_high", "bound"):
            d[k] = float(d[k])
        d["n"] = int(d["n"])
        return d

    def summary(self) -> str:
        return (f"{self.claim} {self.outcome.upper()}: {self.statistic} = {self.value:.4g} "
                f"[{self.ci_low:.4g}, {self.ci_high:.4g}] (claim: {self.direction} {self.bound:g}, "
                f"n={self.n}); {self.reason}")


def decide(claim: str, statistic: str, value: float, ci: tuple[float, float], bound: float,
           direction: str, n: int, min_n: int = 30) -> Verdict:
    """Turn a statistic and its CI into a verdict against a declared bound."""
    if direction not in ("above", "below"):
        raise ValueError(f"direction must be 'above' or 'below', got {direction!r}")
    low, high = float(ci[0]), float(ci[1])
    if n < min_n:
        outcome, reason = Outcome.INCONCLUSIVE, f"too little data: n={n} < {min_n}"
    elif not (np.isfinite(low) and np.isfinite(high)):
        outcome, reason = Outcome.INCONCLUSIVE, "the interval is undefined (degenerate resamples)"
    else:
        claimed, opposite = (low > bound, high < bound) if direction == "above" else (high < bound, low > bound)
        if claimed:
            outcome, reason = Outcome.SUPPORTED, f"the whole 95% CI lies {direction} {bound:g}"
        elif opposite:
            outcome, reason = Outcome.REFUTED, f"the whole 95% CI lies on the wrong side of {bound:g}"
        else:
            outcome, reason = Outcome.INCONCLUSIVE, f"the 95% CI straddles {bound:g}"
    return Verdict(claim, statistic, float(value), low, high, float(bound), direction, int(n),
                   outcome, reason)


def _percentile_ci(statistic: Callable, arrays: list[np.ndarray], *, paired: bool, vectorized: bool,
                   seed: int, n_resamples: int) -> tuple[float, float]:
    result = stats.bootstrap(arrays, statistic, paired=paired, vectorized=vectorized, axis=-1,
                             n_resamples=n_resamples, confidence_level=CONFIDENCE,
                             method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_bootstrap_ci(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
                        seed: int = SEED, n_resamples: int = N_RESAMPLES) -> tuple[float, float, float]:
    """(value, low, high): ``statistic(*samples, axis=-1)`` and its percentile bootstrap CI.

    All arrays are indexed by the same samples and resampled together (paired). ``statistic``
    must be vectorized over ``axis`` (see ``per_resample`` for scalar statistics).
    """
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    low, high = _percentile_ci(statistic, arrays, paired=True, vectorized=True, seed=seed,
                               n_resamples=n_resamples)
    return float(statistic(*arrays, axis=-1)), low, high


def per_resample(statistic: Callable[..., float]) -> Callable[..., np.ndarray]:
    """Vectorize a scalar statistic of 1-D arrays over the leading resample axis that
    ``scipy.stats.bootstrap`` adds (for statistics such as ECE that bin their input)."""
    def vectorized(*arrays: np.ndarray, axis: int = -1) -> np.ndarray | float:
        if arrays[0].ndim == 1:
            return statistic(*arrays)
        return np.array([statistic(*rows) for rows in zip(*arrays)])
    return vectorized

def mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean along ``axis``: the bootstrap statistic of a share or an average."""
    return x.mean(axis)


def mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """mean(a) - mean(b) along ``axis``: paired or independent, as the bootstrap resamples them."""
    return a.mean(axis) - b.mean(axis)


def spearman(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman's rho along ``axis`` (Pearson correlation of average ranks), vectorized."""
    return pearson(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis=axis)


def pearson(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Pearson's r along ``axis``, vectorized; NaN where a variable is constant."""
    xc = x - x.mean(axis=axis, keepdims=True)
    yc = y - y.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis) / np.sqrt((xc ** 2).sum(axis) * (yc ** 2).sum(axis))


def independent_bootstrap_ci(statistic: Callable[..., np.ndarray], samples: Sequence[np.ndarray],
                             seed: int = SEED, n_resamples: int = N_RESAMPLES) -> tuple[float, float, float]:
    """Like ``paired_bootstrap_ci``, but each sample (of its own length) is resampled on its own:
    for statistics of different populations, e.g. attack success over each model's clean-correct set."""
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    low, high = _percentile_ci(statistic, arrays, paired=False, vectorized=True, seed=seed,
                               n_resamples=n_resamples)
    return float(statistic(*arrays, axis=-1)), low, high


def index_bootstrap_ci(statistic: Callable[[np.ndarray], float], n: int, seed: int = SEED,
                       n_resamples: int = N_RESAMPLES) -> tuple[float, float, float]:
    """Bootstrap a statistic of resampled sample indices (for statistics that refit or re-bin)."""
    low, high = _percentile_ci(statistic, [np.arange(n)], paired=False, vectorized=False, seed=seed,
                               n_resamples=n_resamples)
    return float(statistic(np.arange(n))), low, high


def partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman correlation of x and y given z: the partial correlation of their ranks,
    (r_xy - r_xz r_yz) / sqrt((1 - r_xz^2) (1 - r_yz^2))."""
    rx, ry, rz = (stats.rankdata(a, axis=axis) for a in (x, y, z))
    r_xy, r_xz, r_yz = pearson(rx, ry, axis), pearson(rx, rz, axis), pearson(ry, rz, axis)
    return (r_xy - r_xz * r_yz) / np.sqrt((1 - r_xz ** 2) * (1 - r_yz ** 2))


def mean_t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval for the mean of per-replicate estimates (n >= 2),
    the spread between seeds and settings rather than between samples."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        raise ValueError(f"a t-interval over replicates needs at least 2 values, got {len(x)}")
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0]), float(x[0])
    low, high = stats.t.interval(level, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    return float(x.mean()), float(low), float(high)

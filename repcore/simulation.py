"""Seeded simulations of the verdict engine's error rates, through its own decision code.

A synthetic crossed design stands in for a claim's statistic: S training runs, each run's value
x_s = mu + a_s + e_s + c (a run effect a_s ~ N(0, seed_sd^2), a sample error of its own
e_s ~ N(0, own_se^2), and a sample error c ~ N(0, shared_se^2) that every run shares, as the test
images are shared). Each run's estimate carries a bootstrap distribution of B draws built the same
way, so ``repcore.stats.over_seeds`` sees what it sees on real models.

- ``claim_false_refutations``: claims of k criteria, all exactly at their bounds (mu = bound), the
  criteria correlated at ``correlation``: the share of claims refuted by today's rule ("any
  criterion refuted at 95%") and by Holm's (``repcore.multiplicity``).
- ``sequential_decisions``: one criterion decided look by look (``repcore.sequential``): the share
  decided (either way) and the mean seeds used. At mu = bound every decision is false; at an effect
  the share decided on the claimed side is the power.
"""

from dataclasses import dataclass

import numpy as np

from repcore.criteria import Criterion, Outcome
from repcore.multiplicity import holm_divisors
from repcore.sequential import Looks, decide_sequentially
from repcore.stats import CONFIDENCE, Estimate, interval_halves, level_reaching

RESAMPLES = 200


@dataclass(frozen=True)
class Design:
    """The synthetic crossed design: S runs, their spread and sample errors."""

    seeds: int = 5
    seed_sd: float = 1.0
    own_se: float = 0.5
    shared_se: float = 0.3


def _seed_level(values: np.ndarray, shared: np.ndarray, design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, between-seed sd, joint sample se) per row of ``values`` (..., S): the joint se is
    that of the mean over runs, sqrt(shared^2 + own^2 / S), as the joint bootstrap estimates it."""
    sample_se = np.sqrt(design.shared_se ** 2 + design.own_se ** 2 / design.seeds)
    return values.mean(-1) + shared, values.std(-1, ddof=1), np.broadcast_to(sample_se, shared.shape)


def claim_false_refutations(criteria: int, correlation: float, replications: int = 2000, seed: int = 0,
                            design: Design = Design()) -> dict[str, float]:
    """The share of ``replications`` claims of ``criteria`` criteria at their bounds that come out
    refuted: by any criterion refuted alone at 95% (``alone``) and after Holm (``holm``)."""
    rng = np.random.default_rng(seed)
    cov = np.full((criteria, criteria), correlation) + (1 - correlation) * np.eye(criteria)
    draws = rng.multivariate_normal(np.zeros(criteria), cov, (replications, design.seeds))  # R x S x k
    runs = np.moveaxis(draws, 1, -1) * np.hypot(design.seed_sd, design.own_se)  # R x k x S
    shared = rng.multivariate_normal(np.zeros(criteria), cov, replications) * design.shared_se
    value, spread, sample_se = _seed_level(runs, shared, design)
    seed_half, sample_half = interval_halves(design.seeds, spread, sample_se, CONFIDENCE)
    refuted_alone = value < -np.hypot(seed_half, sample_half)  # claimed "above 0": refuted below
    wrong_side = level_reaching(-value, design.seeds, spread, sample_se)
    q = (1 - wrong_side) / (1 - CONFIDENCE)
    holm = [any(d is not None for d in holm_divisors(list(np.where(alone, row, np.inf))))
            for alone, row in zip(refuted_alone, q, strict=True)]
    return {"alone": float(refuted_alone.any(-1).mean()), "holm": float(np.mean(holm))}


def _estimates(rng: np.random.Generator, mu: float, count: int, design: Design) -> list[Estimate]:
    """``count`` runs' estimates on one shared set of test images (one resampling for all)."""
    shared_draw, shared_noise = rng.normal(0, design.shared_se), rng.normal(0, design.shared_se, RESAMPLES)
    values = mu + rng.normal(0, design.seed_sd, count) + rng.normal(0, design.own_se, count) + shared_draw
    resampling = (1000, RESAMPLES, int(rng.integers(2 ** 31)))
    return [Estimate(float(v), v + shared_noise + rng.normal(0, design.own_se, RESAMPLES), 1000, resampling)
            for v in values]


def sequential_decisions(mu: float, looks: Looks, replications: int = 2000, seed: int = 0,
                         design: Design = Design(), bound: float = 0.0) -> dict[str, float]:
    """One criterion ("above ``bound``") decided by ``decide_sequentially`` on ``replications``
    synthetic runs of true mean ``mu``: the shares supported and refuted, the mean seeds used; and
    beside it the fixed design at the first look's seed count."""
    rng = np.random.default_rng(seed)
    criterion = Criterion("SIM", "synthetic", bound, "above")
    supported = refuted = fixed_decided = 0
    seeds_used = []
    for _ in range(replications):
        estimates = _estimates(rng, mu, looks.counts[-1], design)

        def decide_at(count: int, level: float, estimates=estimates):
            return criterion.decide(estimates[:count], list(range(count)), level=level)

        verdict = decide_sequentially(looks, decide_at)
        supported += verdict.outcome is Outcome.SUPPORTED
        refuted += verdict.outcome is Outcome.REFUTED
        seeds_used.append(verdict.looks[-1]["seeds"])
        first = looks.counts[0]
        fixed_decided += criterion.decide(estimates[:first], list(range(first))).outcome is not Outcome.INCONCLUSIVE
    return {"supported": supported / replications, "refuted": refuted / replications,
            "decided": (supported + refuted) / replications, "mean_seeds": float(np.mean(seeds_used)),
            "fixed_decided": fixed_decided / replications}

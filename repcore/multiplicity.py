"""The error rate held per claim: Holm's correction over a claim's criteria.

A claim is supported only when every one of its criteria is (an intersection-union test: each
criterion at its own level, no correction needed). It is refuted when one criterion is refuted,
and with m criteria each at 5% that would happen by chance far more often than 5% of the time. So a
refutation is corrected for m, the claim's criteria in a setting (Holm 1979, step-down):

- each verdict records the largest level at which its interval lies wholly on the wrong side of its
  bound (``wrong_side_level``); its p-value of refutation is p = 1 - that level, and in units of
  the alpha it was decided at (0.05, or a sequential look's: ``repcore.sequential``) q = p / alpha;
- sorted by q, the j-th criterion is refuted while q_(i) <= 1 / (m - i + 1) for every i <= j, i.e. at
  level 1 - alpha / (m - j + 1); a criterion refuted alone but not at its Holm level is inconclusive.

Holm controls the chance of any false refutation among the m criteria at alpha whatever their
correlation; ``repcore.simulation.claim_false_refutations`` measures it, with the rule it replaces.
"""

from collections.abc import Sequence

import numpy as np

from repcore.stats import SeedInterval, level_reaching

REFUTED, INCONCLUSIVE = "refuted", "inconclusive"


def wrong_side_distance(value, bound, direction: str):
    """How far the estimate lies on the wrong side of the bound (negative where it lies on the
    claimed side); for an equivalence, how far outside +-bound."""
    if direction == "inside":
        return np.abs(value) - bound
    return bound - value if direction == "above" else value - bound


def wrong_side_level(interval: SeedInterval, bound: float, direction: str) -> float:
    """The largest level at which ``interval`` lies wholly on the wrong side of ``bound`` (0 where
    it does at no level): the seed-level half-width's level reaching the distance, or for one run
    2F - 1 with F the share of its bootstrap distribution beyond the bound."""
    if len(interval.seeds) > 1:
        distance = wrong_side_distance(interval.value, bound, direction)
        return float(level_reaching(distance, len(interval.seeds), interval.between_seed_sd, interval.sample_se))
    values = interval.distribution[np.isfinite(interval.distribution)]
    if not len(values):
        return 0.0
    beyond = {"above": np.mean(values < bound), "below": np.mean(values > bound),
              "inside": max(np.mean(values > bound), np.mean(values < -bound))}[direction]
    return float(max(0.0, 2 * beyond - 1))


def holm_divisors(q: Sequence[float]) -> list[int | None]:
    """Holm's step-down on p-values in units of their alpha: for each, the divisor m - j + 1 of its
    rank j where it is rejected, None where it is not.

    >>> holm_divisors([0.2, 0.9, 0.45]), holm_divisors([0.2, 0.9, 0.6])
    ([3, 1, 2], [3, None, None])
    """
    order = sorted(range(len(q)), key=lambda i: q[i])
    divisors: list[int | None] = [None] * len(q)
    for j, i in enumerate(order):
        divisor = len(q) - j
        if q[i] > 1 / divisor:
            break
        divisors[i] = divisor
    return divisors


def correct_refutations(verdicts: list[dict]) -> list[dict]:
    """A claim's criteria in one setting (verdict records), each with the level it was decided
    at (``decided_at``): a refuted one stays refuted only at its Holm level, else it is
    inconclusive, saying so."""
    alphas = [1 - v["level"] for v in verdicts]
    q = [(1 - v.get("wrong_side_level", 0.0)) / a if v["outcome"] == REFUTED else np.inf
         for v, a in zip(verdicts, alphas, strict=True)]
    m = len(verdicts)
    corrected = []
    for verdict, alpha, divisor in zip(verdicts, alphas, holm_divisors(q), strict=True):
        level = 1 - alpha / (divisor or m)
        decided_at = {"level": level, "criteria": m, "rule": f"Holm over the claim's {m} criteria with an interval"}
        if verdict["outcome"] == REFUTED and divisor is None:
            verdict = {**verdict, "outcome": INCONCLUSIVE, "outcome_alone": REFUTED,
                       "reason": (f"refuted at {verdict['level']:.1%} alone, not at its Holm level "
                                  f"({level:.2%}, {m} criteria): the claim's error rate is held at "
                                  f"{alpha:.0%}; {verdict['reason']}")}
        elif verdict["outcome"] != REFUTED:
            decided_at = {"level": verdict["level"], "criteria": m,
                          "rule": "its own interval (supported needs every criterion: no correction)"}
        corrected.append({**verdict, "decided_at": decided_at})
    return corrected

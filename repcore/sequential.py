"""Seeds added sequentially, with the error spent over the looks.

Deciding again at a larger seed count after an undecided look is a sequential design: every look
is one more chance of a false decision, and following "about 13 seeds would decide it" until it
stops asking nearly doubles the false-decision rate. The sequential mode (``--until-decided
--max-seeds N``) fixes before its first look:

- the looks: the run's seed count S_1, then every ``SEED_STEP`` more seeds up to N
  (5, 10, 15, 20 by default), information fractions t_k = S_k / N;
- an alpha-spending function alpha(t) (Lan & DeMets 1983): the false-decision probability spent by
  fraction t. ``SPENDING`` holds the two classic shapes. The default, O'Brien-Fleming type, spends
  little early: with the seed spread estimated from 5 runs (Student's t on 4 degrees of freedom),
  a Pocock-type function that spends 1.8% at the first look let the false-decision rate over the
  looks reach 5.5% (3,000 simulated criteria at their bound), O'Brien-Fleming's stays at 5.0%; at
  the effect size of C10's LS criterion both decide 100% of the time, at 9.7 and 12.3 seeds on
  average (``bench/error_rates.py``).

The two-sided boundary c_k of look k is such that, with the truth at the bound, the chance of
first crossing at look k is alpha(t_k) - alpha(t_{k-1}), the looks' statistics correlated as a
Brownian motion (corr = sqrt(t_i / t_j)); it is computed by recursive numerical integration on a
grid (Armitage, McPherson & Rowe 1969). Look k decides a criterion on its seed-level interval at the
nominal level 2 Phi(c_k) - 1. The shared test images make successive looks more alike than that
model assumes, which only makes the boundaries conservative; ``repcore.simulation`` measures the
false-decision rate over the looks and the power.

A criterion stops at the first look that decides it, or where no later look could (futility,
judged optimistically: ``repcore.power.decidable``), or at the last look. Its verdict keeps every
look: seeds, interval, level, outcome.
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from repcore.criteria import Outcome, Verdict
from repcore.power import SEED_STEP, decidable

ALPHA = 0.05
GRID = np.linspace(-10.0, 10.0, 1601)
SPENDING: dict[str, Callable[[float, float], float]] = {
    "pocock": lambda t, alpha: alpha * math.log(1 + (math.e - 1) * t),
    "obrien-fleming": lambda t, alpha: 2 * (1 - special.ndtr(special.ndtri(1 - alpha / 2) / math.sqrt(t))),
}
DEFAULT_SPENDING = "obrien-fleming"


def schedule(first: int, max_seeds: int, step: int = SEED_STEP) -> tuple[int, ...]:
    """The seed counts of the looks: ``first``, then every ``step`` more, ``max_seeds`` last.

    >>> schedule(5, 20), schedule(3, 12), schedule(5, 5)
    ((5, 10, 15, 20), (3, 8, 12), (5,))
    """
    if max_seeds < first:
        raise ValueError(f"--max-seeds {max_seeds} is fewer than the run's {first} seeds")
    counts = list(range(first, max_seeds, step))
    return (*counts, max_seeds)


@functools.lru_cache(maxsize=32)
def boundaries(fractions: tuple[float, ...], spending: str = DEFAULT_SPENDING,
               alpha: float = ALPHA) -> tuple[float, ...]:
    """Two-sided z boundaries of looks at information ``fractions`` that spend ``alpha`` along
    ``SPENDING[spending]`` (recursive integration of the statistic's density on ``GRID``).

    >>> [round(c, 2) for c in boundaries((1.0,))]
    [1.96]
    >>> [round(c, 2) for c in boundaries((0.25, 0.5, 0.75, 1.0), "obrien-fleming")]
    [3.92, 2.77, 2.3, 2.04]
    """
    spend = SPENDING[spending]
    dz = GRID[1] - GRID[0]
    density = np.exp(-GRID ** 2 / 2) / math.sqrt(2 * math.pi)
    previous_t, spent, critical = 0.0, 0.0, []
    for t in fractions:
        if critical:
            step = t - previous_t
            kernel = np.exp(-((GRID[:, None] * math.sqrt(t) - GRID[None, :] * math.sqrt(previous_t)) ** 2)
                            / (2 * step)) * math.sqrt(t / (2 * math.pi * step))
            density = kernel @ (density * (np.abs(GRID) < critical[-1])) * dz
        mass = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2) * dz])
        target, low, high = spend(t, alpha) - spent, 0.0, float(GRID[-1])
        for _ in range(60):  # bisection: the mass beyond +-c falls as c grows
            c = (low + high) / 2
            beyond = mass[-1] - np.interp(c, GRID, mass) + np.interp(-c, GRID, mass)
            low, high = (c, high) if beyond > target else (low, c)
        critical.append((low + high) / 2)
        spent, previous_t = spend(t, alpha), t
    return tuple(critical)


@dataclass(frozen=True)
class Looks:
    """The sequential design fixed before the first look: seed counts and the spending function."""

    counts: tuple[int, ...]
    spending: str = DEFAULT_SPENDING
    alpha: float = ALPHA

    def __post_init__(self):
        if self.spending not in SPENDING:
            raise ValueError(f"spending must be one of {', '.join(SPENDING)}, got {self.spending!r}")

    @property
    def levels(self) -> tuple[float, ...]:
        """Each look's nominal two-sided level, 2 Phi(c_k) - 1."""
        fractions = tuple(c / self.counts[-1] for c in self.counts)
        return tuple(float(2 * special.ndtr(c) - 1) for c in boundaries(fractions, self.spending, self.alpha))

    def describe(self) -> dict:
        return {"looks": list(self.counts), "levels": list(self.levels), "spending": self.spending,
                "alpha": self.alpha}


def look_record(look: int, verdict: Verdict) -> dict:
    return {"look": look, "seeds": len(verdict.per_seed) or 1, "value": float(verdict.value),
            "ci_low": float(verdict.ci_low), "ci_high": float(verdict.ci_high), "level": float(verdict.level),
            "outcome": str(verdict.outcome)}


def decide_sequentially(looks: Looks, decide_at: Callable[[int, float], Verdict]) -> Verdict:
    """The verdict of a criterion decided look by look: ``decide_at(seeds, level)`` decides it on
    the first ``seeds`` runs at ``level``; stopped when decided, when no later look could decide
    it, or at the last look. Every look is kept in the verdict's ``looks``."""
    history, stopped = [], "the last look"
    counts, levels = looks.counts, looks.levels
    for k, (count, level) in enumerate(zip(counts, levels, strict=True)):
        verdict = decide_at(count, level)
        history.append(look_record(k + 1, verdict))
        if verdict.outcome is not Outcome.INCONCLUSIVE:
            stopped = f"decided at look {k + 1}"
            break
        if verdict.interval is None or verdict.undecided is None:  # unmeasurable, too little data, precondition
            stopped = f"look {k + 1}: {verdict.reason.split(':')[0]}"
            break
        later = list(zip(counts[k + 1:], levels[k + 1:], strict=True))
        if later and not decidable(verdict.interval, verdict.bound, verdict.direction, later):
            stopped = f"futility at look {k + 1}: no later look could decide it"
            break
    return replace(verdict, looks=tuple(history), reason=f"{verdict.reason} [sequential: {stopped}, "
                                                         f"{len(history)} of {len(counts)} looks]")

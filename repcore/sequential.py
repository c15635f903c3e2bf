"""Seeds added sequentially, with the error spent over the looks.

Deciding again at a larger seed count after an undecided look is a sequential design: every look
is one more chance of a false decision, and following "about 13 seeds would decide it" until it
stops asking nearly doubles the false-decision rate. The sequential mode (``--until-decided
--max-seeds N``) fixes before its first look:

- the looks: the run's seed count S_1, then every ``SEED_STEP`` more seeds up to N
  (5, 10, 15, 20 by default), information fractions t_k = S_k / N;
- an alpha-spending function alpha(t) (Lan & DeMets 1983): the false-decision probability spent by
  fraction t (``SPENDING``: the Pocock and O'Brien-Fleming types).

Each look's nominal level is set so that, with the truth at the bound, the chance of a first
decision at look k is alpha(t_k) - alpha(t_{k-1}) for the statistic the looks actually decide on:
the mean over S_k seeds against its seed spread, a Student t on S_k - 1 degrees of freedom with the
spread re-estimated at every look. The levels come from a seeded simulation of that statistic's
looks (``PATHS`` Gaussian seed sequences): the boundary of look k is the quantile of |t_k| among
the sequences not yet decided, turned into a level by t's distribution. (The classic boundaries
assume a known spread; with 5 seeds at the first look they let the false-decision rate over the
looks reach 5.5% under Pocock-type spending.) The test-sample term, added to the interval beside
the seed term, only widens it. ``repcore.simulation`` measures the false-decision rate over the
looks and the power through the decision code itself; ``bench/error_rates.py`` prints both
spending functions, and the default is the one with fewer seeds at C10's effect.

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
PATHS = 400_000
SEED = 20241005
SPENDING: dict[str, Callable[[float, float], float]] = {
    "pocock": lambda t, alpha: alpha * math.log(1 + (math.e - 1) * t),
    "obrien-fleming": lambda t, alpha: 2 * (1 - special.ndtr(special.ndtri(1 - alpha / 2) / math.sqrt(t))),
}
DEFAULT_SPENDING = "pocock"


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
def nominal_levels(counts: tuple[int, ...], spending: str = DEFAULT_SPENDING, alpha: float = ALPHA,
                   paths: int = PATHS) -> tuple[float, ...]:
    """Each look's nominal two-sided level for looks at ``counts`` seeds spending ``alpha`` along
    ``SPENDING[spending]``, from ``paths`` seeded Gaussian seed sequences (module docstring).

    >>> nominal_levels((5,))
    (0.95,)
    >>> [round(level, 4) for level in nominal_levels((5, 10, 15, 20), "obrien-fleming")]
    [0.9999, 0.9945, 0.9795, 0.9607]
    """
    spend = SPENDING[spending]
    draws = np.random.default_rng(SEED).standard_normal((paths, counts[-1]))
    sums, squares = np.cumsum(draws, axis=1), np.cumsum(draws ** 2, axis=1)
    undecided, spent, levels = np.ones(paths, dtype=bool), 0.0, []
    for count in counts:
        mean = sums[:, count - 1] / count
        spread = np.sqrt((squares[:, count - 1] - count * mean ** 2) / (count - 1))
        statistic = np.abs(mean) / (spread / math.sqrt(count))
        crossing = spend(count / counts[-1], alpha) - spent
        if not levels:  # no earlier look: Student's t quantile itself
            boundary = special.stdtrit(count - 1, 1 - crossing / 2)
        else:
            remaining = statistic[undecided]
            rank = max(0, len(remaining) - 1 - round(crossing * paths))
            boundary = np.partition(remaining, rank)[rank]
        levels.append(float(2 * special.stdtr(count - 1, boundary) - 1))
        undecided &= statistic <= boundary
        spent += crossing
    return tuple(levels)


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
        """Each look's nominal two-sided level (``nominal_levels``)."""
        return nominal_levels(self.counts, self.spending, self.alpha)

    def describe(self) -> dict:
        return {"looks": list(self.counts), "levels": list(self.levels), "spending": self.spending,
                "alpha": self.alpha}


class LookUnavailable(LookupError):
    """A look needs more runs than the models under test hold (a manifest not yet grown to it)."""

    def __init__(self, needed: int, held: int):
        super().__init__(f"{needed} seeds, the models under test hold {held}")
        self.needed, self.held = needed, held


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
        try:
            verdict = decide_at(count, level)
        except LookUnavailable as err:
            stopped = (f"look {k + 1} needs {err}: train the seeds it needs and rerun the same command (the "
                       "earlier looks are recomputed as they were)")
            break
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

"""What more training seeds could do for an undecided criterion.

A seed-level interval (``repcore.stats.SeedInterval``) is projected to S' seeds: its training-run
term t_{S'-1} s_b / sqrt(S') shrinks with the seeds, and so does the part of its test-sample term
that is independent between runs. The shared part (every run sees the same test images) does not:
with r the mean of the runs' own standard errors and se the joint one, se^2 = r^2 (rho + (1 - rho) / S)
gives the shared fraction rho, and the sample term at S' seeds is r sqrt(rho + (1 - rho) / S').

Two projections, each with the distance from the estimate to the bound that would decide it:

- at the point estimates (distance, s_b, rho): the seeds that would decide it, "short of power";
- optimistic, with the uncertainty of each: the distance one standard error of the estimate further
  from the bound (the interval's far end at level ``ONE_SE``), and s_b at its lower 95% confidence
  limit (chi-square, S - 1 degrees of freedom). Where even that decides it at no allowed seed count,
  the criterion is "at its bound": no feasible number of seeds decides it (more test images might).
"""

import math
from collections.abc import Iterable

import numpy as np
from scipy import special

from repcore.stats import CONFIDENCE, SeedInterval, interval_halves

FEASIBLE_SEEDS = 30  # the most training seeds a projection may ask for (six times the default's)
ONE_SE = 0.6827  # the level of a one-standard-error interval: how far the distance may be underestimated
SEED_STEP = 5  # the sequential mode's looks come every SEED_STEP seeds (repcore.sequential)


def distance_to_decision(value: float, bound: float, direction: str) -> float:
    """How far the estimate lies from the nearest bound that would decide it, either way.

    >>> distance_to_decision(0.03, 0.0, "below"), distance_to_decision(0.1, 0.12, "inside")
    (0.03, 0.02)
    """
    if direction == "inside":
        return round(abs(bound - abs(value)), 12)
    return abs(value - bound)


def shared_fraction(interval: SeedInterval) -> float:
    """rho, the share of the test-sample variance common to every run (1 where the runs' resamples
    are not shared: their mean error is then taken as the bound it is)."""
    seeds = len(interval.seeds)
    if not interval.joint or interval.runs_se <= 0 or seeds < 2:
        return 1.0
    return float(np.clip((seeds * (interval.sample_se / interval.runs_se) ** 2 - 1) / (seeds - 1), 0.0, 1.0))


def projected_half_width(interval: SeedInterval, seeds, level=CONFIDENCE, optimistic: bool = False) -> np.ndarray:
    """The half-width at ``seeds`` runs (elementwise over arrays of seeds and levels) at the
    measured shared fraction and spread, or ``optimistic``ally the spread's lower 95% limit."""
    runs, seeds = len(interval.seeds), np.asarray(seeds)
    spread, rho = interval.between_seed_sd, shared_fraction(interval)
    if optimistic:
        spread *= math.sqrt((runs - 1) / special.chdtri(runs - 1, (1 - CONFIDENCE) / 2))
    sample_se = interval.runs_se * np.sqrt(rho + (1 - rho) / seeds) if interval.runs_se > 0 else interval.sample_se
    return np.hypot(*interval_halves(seeds, spread, sample_se, level))


def seeds_needed(interval: SeedInterval, bound: float, direction: str, level: float = CONFIDENCE,
                 limit: int = FEASIBLE_SEEDS) -> int | None:
    """The fewest seeds (up to ``limit``) whose projected interval, at the point estimates, would
    clear the bound; None where none would."""
    counts = np.arange(len(interval.seeds) + 1, limit + 1)
    clear = projected_half_width(interval, counts, level) < distance_to_decision(interval.value, bound, direction)
    return int(counts[clear.argmax()]) if clear.any() else None


def decidable(interval: SeedInterval, bound: float, direction: str, looks: Iterable[tuple[int, float]]) -> bool:
    """Whether any of ``looks`` ((seeds, level) pairs) could decide the criterion, judged
    optimistically: the distance one standard error further, the spread at its lower limit."""
    looks = list(looks)
    if not looks:
        return False
    counts, levels = np.array(looks, dtype=float).T
    reach = (distance_to_decision(interval.value, bound, direction)
             + float(projected_half_width(interval, len(interval.seeds), ONE_SE)))
    return bool((projected_half_width(interval, counts, levels, optimistic=True) < reach).any())


def why_undecided(interval: SeedInterval, bound: float, direction: str) -> dict:
    """Why an inconclusive interval is undecided: "at its bound" (no seed count up to
    ``FEASIBLE_SEEDS`` could decide it, judged optimistically) or "short of power" (the seeds that
    would decide it at the measured spread, with the sequential mode that adds them)."""
    distance = distance_to_decision(interval.value, bound, direction)
    runs = len(interval.seeds)
    if runs == 1:
        return {"kind": "at its bound",
                "detail": (f"one training run: the estimate lies {distance:.3g} from the bound and its test-sample "
                           f"interval is +-{interval.sample_half:.3g}; its seed spread is unknown")}
    if not decidable(interval, bound, direction, [(s, interval.level) for s in range(runs + 1, FEASIBLE_SEEDS + 1)]):
        return {"kind": "at its bound",
                "detail": (f"the estimate lies {distance:.3g} from the bound; even one standard error further and "
                           f"at the spread's lower limit (sd {interval.between_seed_sd:.3g} measured), "
                           f"{FEASIBLE_SEEDS} seeds would leave the interval wider (test-sample term "
                           f"+-{interval.sample_half:.3g}, {shared_fraction(interval):.0%} shared by the runs)")}
    needed = seeds_needed(interval, bound, direction, interval.level)
    at = (f"about {needed} seeds would decide it" if needed else
          f"more than {FEASIBLE_SEEDS} seeds would decide it, fewer if the spread or the distance is larger than "
          "measured")
    return {"kind": "short of power", "seeds_needed": needed,
            "detail": (f"{at} at the measured spread (sd {interval.between_seed_sd:.3g}, test-sample se "
                       f"{interval.sample_se:.3g}, {shared_fraction(interval):.0%} of it shared by the runs)")}


def max_seeds_for(needed: int | None) -> int:
    """The ``--max-seeds`` of a sequential run that reaches ``needed`` seeds (whole waves of
    ``SEED_STEP``), ``FEASIBLE_SEEDS`` where the need is unknown."""
    if needed is None:
        return FEASIBLE_SEEDS
    return min(FEASIBLE_SEEDS, SEED_STEP * math.ceil(needed / SEED_STEP))


def rules_out(low: float, high: float, bound: float, direction: str) -> str:
    """What an interval [low, high] that straddles its bound still rules out, in words: effects
    beyond its ends.

    >>> rules_out(-0.025, 0.003, 0.0, "below")
    'a decrease larger than 0.025 and an increase larger than 0.003'
    """
    if direction == "inside" or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    if bound == 0:
        return f"a decrease larger than {max(-low, 0):.3g} and an increase larger than {max(high, 0):.3g}"
    return f"a value below {low:.3g} and one above {high:.3g}"

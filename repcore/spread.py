"""Margins and tolerances from the seed-to-seed spread of the hard-label recipe.

A practical bound other than 0 is declared per profile, with the measurement behind it: pairs of
hard-label models of two training seeds (s, s') of the profile's own recipe, on seeds outside its
default set (``bench/seed_spread.py``), or, for external checkpoints, pairs of the hard-label
models under test. Each rule says which statistic of a pair it reads and how the bound follows
from the largest absolute value over the pairs:

- a margin (C4, C5) is twice the largest change between two hard seeds, so a regularizer's effect
  counts only where it is larger than retraining the baseline can produce;
- an equivalence tolerance (C6) is the largest change that temperature scaling itself shows between
  two hard seeds: feature scaling "behaves like" temperature scaling when it differs from it by
  less than temperature scaling differs from itself under retraining.

Bounds are rounded away from 0 to two significant digits.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Margin:
    """A declared bound and the measurement that justifies it."""

    bound: float
    evidence: str


@dataclass(frozen=True)
class MarginRule:
    statistic: str  # of one pair of hard-label models of seeds s and s'
    factor: float
    sign: int  # the bound's sign: -1 for "below -m", +1 for "above +m" and for tolerances


RULES: dict[str, MarginRule] = {
    "rms_change": MarginRule("|RMS(hard, s') / RMS(hard, s) - 1|", 2.0, -1),
    "cos_gain": MarginRule("|mean cos(hard, s') - mean cos(hard, s)|", 2.0, 1),
    "temperature_tolerance": MarginRule("|T*(hard, s') / T*(hard, s) - 1|", 1.0, 1),
    "ece_tolerance": MarginRule("|ECE after T*(hard, s') - ECE after T*(hard, s)|", 1.0, 1),
}


def round_away(x: float, digits: int = 2) -> float:
    """``x`` rounded away from 0 to ``digits`` significant digits."""
    if x == 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(abs(x))) - digits + 1)
    return math.copysign(math.ceil(abs(x) / scale - 1e-9) * scale, x)


def margin_from_pairs(name: str, values: Sequence[float], source: str) -> Margin:
    """The bound rule ``name`` gives for the pair values measured on ``source`` (which seeds, which
    recipe)."""
    rule = RULES[name]
    if not values:
        return Margin(float("nan"), f"no pair of hard-label seeds to measure {rule.statistic} on ({source})")
    largest = max(abs(v) for v in values)
    bound = rule.sign * round_away(rule.factor * largest)
    factor = "" if rule.factor == 1 else f"{rule.factor:g}x "
    shown = ", ".join(f"{v:+.3g}" for v in values)
    return Margin(bound, f"{factor}the largest {rule.statistic} over {len(values)} pairs of hard seeds, "
                         f"{source}: {shown}; largest {largest:.3g}")

"""Seed spreads and equivalence tolerances, from the changes between two hard-label seeds.

Pairs of hard-label models of two training seeds (s, s') of the profile's own recipe, on seeds
outside its default set (``bench/seed_spread.py``), or, for external checkpoints, the pairs of the
hard-label models under test, give for every pair statistic (``PAIR_STATISTICS``: a comparison of
the claims measured between two hard models) one change per pair. From them:

- the **seed spread**, the root mean square of the changes: how much retraining the baseline moves
  the statistic. Every comparison with the hard baseline shows its effect beside it (effect /
  spread), as evidence. It is never added to a bound: the seed-level interval already carries the
  seed-to-seed variation, and counting it twice made real effects "refuted".
- an **equivalence tolerance** (C6, ``TOLERANCES``): the largest change that temperature scaling
  itself shows between two hard seeds. Feature scaling "behaves like" temperature scaling when it
  differs from it by less than temperature scaling differs from itself under retraining. Rounded
  away from 0 to two significant digits.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

PAIR_STATISTICS: dict[str, str] = {  # name -> the statistic of a pair of hard-label models (s' against s)
    "rms_change": "RMS(hard, s') / RMS(hard, s) - 1",
    "cos_gain": "mean cos(hard, s') - mean cos(hard, s)",
    "confidence_change": "mean conf(hard, s') - mean conf(hard, s)",
    "ece_change": "ECE(hard, s') - ECE(hard, s)",
    "gap_size_change": "|signed gap(hard, s')| - |signed gap(hard, s)|",
    "accuracy_change": "acc(hard, s') - acc(hard, s)",
    "radial_gain": "mean radial index(hard, s') - mean radial index(hard, s)",
    "asr_change_FGSM": "ASR(hard, s') - ASR(hard, s), FGSM",
    "asr_change_PGD^w": "ASR(hard, s') - ASR(hard, s), PGD^w",
    "temperature_change": "T*(hard, s') / T*(hard, s) - 1",
    "scaled_ece_change": "ECE after T*(hard, s') - ECE after T*(hard, s)",
}
TOLERANCES = {"temperature_tolerance": "temperature_change", "ece_tolerance": "scaled_ece_change"}


@dataclass(frozen=True)
class Margin:
    """A declared bound and the measurement that justifies it."""

    bound: float
    evidence: str


@dataclass(frozen=True)
class PairChanges:
    """One pair statistic's change over several pairs of hard-label seeds, and where they were
    measured (which seeds of which recipe)."""

    name: str
    values: tuple[float, ...]
    source: str

    @property
    def spread(self) -> float:
        """The root mean square of the changes (NaN without a pair).

        >>> round(PairChanges("cos_gain", (0.03, -0.04), "seeds 0-2").spread, 4)
        0.0354
        """
        return math.sqrt(sum(v * v for v in self.values) / len(self.values)) if self.values else math.nan

    @property
    def largest(self) -> float:
        return max(abs(v) for v in self.values) if self.values else math.nan

    def describe(self) -> str:
        if not self.values:
            return f"no pair of hard-label seeds to measure {PAIR_STATISTICS[self.name]} on ({self.source})"
        shown = ", ".join(f"{v:+.3g}" for v in self.values)
        return (f"{PAIR_STATISTICS[self.name]} over {len(self.values)} pairs of hard seeds, {self.source}: {shown}; "
                f"root mean square {self.spread:.3g}, largest {self.largest:.3g}")


def round_away(x: float, digits: int = 2) -> float:
    """``x`` rounded away from 0 to ``digits`` significant digits.

    >>> round_away(0.1171), round_away(-0.0206)
    (0.12, -0.021)
    """
    if x == 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(abs(x))) - digits + 1)
    return math.copysign(math.ceil(abs(x) / scale - 1e-9) * scale, x)


def tolerance(name: str, changes: PairChanges) -> Margin:
    """The equivalence tolerance ``name`` (``TOLERANCES``): the largest change of its pair statistic."""
    if not changes.values:
        return Margin(math.nan, changes.describe())
    return Margin(round_away(changes.largest), f"the largest |{PAIR_STATISTICS[changes.name]}| over "
                                               f"{len(changes.values)} pairs of hard seeds, {changes.source}: "
                                               + changes.describe().split(": ", 1)[1])


def pair_changes(name: str, values: Sequence[float], source: str) -> PairChanges:
    return PairChanges(name, tuple(float(v) for v in values), source)


def comparison_spread(changes: PairChanges | None, effect: float) -> dict | None:
    """A comparison's evidence: the seed spread of its statistic and the effect in its units."""
    if changes is None or not changes.values or not math.isfinite(effect):
        return None
    ratio = effect / changes.spread if changes.spread > 0 else math.inf
    return {"name": changes.name, "spread": changes.spread, "largest": changes.largest, "pairs": len(changes.values),
            "effect_over_spread": ratio if math.isfinite(ratio) else None, "evidence": changes.describe()}

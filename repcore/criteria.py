"""Criteria declared as data, and the verdicts they give.

A claim module declares each criterion before measuring: the statistic, the bound and the side of
it the claim needs, whether it is a negative control, and for a practical bound (a margin other than
0) the measurement that justifies it. ``Criterion.decide`` turns one estimate per training run into
a verdict on the seed-level interval (``repcore.stats.over_seeds``):

- supported: the whole interval lies on the claimed side of the bound;
- refuted: the whole interval lies on the other side;
- inconclusive: the interval straddles the bound, too little data, an undefined interval, or the
  claim's precondition is unmet on the models under test (a claim is never refuted on a model that
  lacks the property the paper starts from).

A negative control is decided once over the ``decisions`` settings it runs in: each at level
1 - 0.05 / decisions, so the chance that any comes out supported by accident stays at most 5%.
"""

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from repcore.stats import CONFIDENCE, Estimate, SeedInterval, over_seeds

CONTROL_FALSE_POSITIVE_RATE = 0.05


class Outcome(enum.StrEnum):
    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Verdict:
    """One tested criterion: ``statistic`` = ``value`` in [``ci_low``, ``ci_high``], claimed
    ``direction`` of ``bound``, decided on an interval covering ``unit``."""

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
    unit: str = "test samples"
    level: float = CONFIDENCE
    per_seed: tuple = ()  # ((seed, value, low, high), ...): each run's sample-only interval
    between_seed_sd: float = 0.0
    sample_se: float = 0.0
    bound_evidence: str = ""
    precondition: dict | None = None

    @property
    def supported(self) -> bool:
        return self.outcome is Outcome.SUPPORTED

    def record(self) -> dict:
        """Plain Python types only (xdist serializes user_properties; numpy scalars crash it)."""
        d = asdict(self)
        d["outcome"] = str(self.outcome)
        for k in ("value", "ci_low", "ci_high", "bound", "level", "between_seed_sd", "sample_se"):
            d[k] = float(d[k])
        d["n"] = int(d["n"])
        d["per_seed"] = [{"seed": int(s), "value": float(v), "ci_low": float(lo), "ci_high": float(hi)}
                         for s, v, lo, hi in self.per_seed]
        return d

    def summary(self) -> str:
        return (f"{self.claim} {self.outcome.upper()}: {self.statistic} = {self.value:.4g} "
                f"[{self.ci_low:.4g}, {self.ci_high:.4g}] (claim: {self.direction} {self.bound:g}; "
                f"{self.unit}, n={self.n}); {self.reason}")


def outcome_of(low: float, high: float, bound: float, direction: str) -> tuple[Outcome, str]:
    """Where the interval [low, high] lies relative to ``bound`` on the claimed ``direction``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return Outcome.INCONCLUSIVE, "the interval is undefined (degenerate resamples)"
    claimed, opposite = (low > bound, high < bound) if direction == "above" else (high < bound, low > bound)
    if claimed:
        return Outcome.SUPPORTED, f"the whole interval lies {direction} {bound:g}"
    if opposite:
        return Outcome.REFUTED, f"the whole interval lies on the wrong side of {bound:g}"
    return Outcome.INCONCLUSIVE, f"the interval straddles {bound:g}"


@dataclass(frozen=True)
class Criterion:
    """What a claim test measures and where it must lie, declared before it runs."""

    claim: str
    statistic: str
    bound: float
    direction: str  # "above" or "below"
    control: bool = False
    bound_evidence: str = ""  # for a practical margin: the measured seed spread that justifies it
    min_n: int = 30

    def __post_init__(self):
        if self.direction not in ("above", "below"):
            raise ValueError(f"direction must be 'above' or 'below', got {self.direction!r}")

    def as_control(self, statistic: str | None = None) -> "Criterion":
        """The same test as a negative control (it must not come out supported)."""
        return replace(self, control=True, statistic=statistic or self.statistic)

    def level(self, decisions: int = 1) -> float:
        return 1 - CONTROL_FALSE_POSITIVE_RATE / decisions if self.control else CONFIDENCE

    def decide(self, estimates: Sequence[Estimate], seeds: Sequence[int], label: str = "",
               decisions: int = 1, precondition: "Verdict | None" = None) -> Verdict:
        """The verdict on one estimate per training run (``seeds``); ``label`` names the models.
        An unmet ``precondition`` (a verdict that is not supported) makes it inconclusive."""
        interval = over_seeds(estimates, seeds, self.level(decisions))
        return self.verdict(interval, label, precondition)

    def unmeasurable(self, reason: str, label: str = "") -> Verdict:
        """Inconclusive with ``reason``: the statistic could not be measured (e.g. a fit without a
        finite optimum)."""
        nan = float("nan")
        return Verdict(self.claim, f"{self.statistic} ({label})" if label else self.statistic, nan, nan, nan,
                       float(self.bound), self.direction, 0, Outcome.INCONCLUSIVE, reason,
                       bound_evidence=self.bound_evidence)

    def verdict(self, interval: SeedInterval, label: str = "", precondition: "Verdict | None" = None) -> Verdict:
        outcome, reason = outcome_of(interval.low, interval.high, self.bound, self.direction)
        if interval.n < self.min_n:
            outcome, reason = Outcome.INCONCLUSIVE, f"too little data: n={interval.n} < {self.min_n}"
        if precondition is not None and not precondition.supported:
            outcome = Outcome.INCONCLUSIVE
            reason = (f"precondition unmet: {precondition.statistic} = {precondition.value:.4g} "
                      f"[{precondition.ci_low:.4g}, {precondition.ci_high:.4g}], needs {precondition.direction} "
                      f"{precondition.bound:g}")
        if self.control:
            reason += decisions_note(interval.level)
        return Verdict(self.claim, f"{self.statistic} ({label})" if label else self.statistic,
                       interval.value, interval.low, interval.high, float(self.bound), self.direction,
                       int(interval.n), outcome, reason, interval.unit, interval.level,
                       tuple((s, *v) for s, v in zip(interval.seeds, interval.per_seed)),
                       interval.between_seed_sd, interval.sample_se, self.bound_evidence,
                       precondition.record() if precondition is not None else None)


def decisions_note(level: float) -> str:
    """How a control's level was set when it is decided over several settings."""
    return "" if level == CONFIDENCE else f" ({level:.2%} interval: controls share a 5% false-positive rate)"


def holds_for_all(claim: str, statistic: str, cases: int) -> Verdict:
    """A property that held for every generated case (a failing case fails the test instead)."""
    verdict = Criterion(claim, statistic, 0.0, "above", min_n=1).decide([Estimate.exact(1.0, cases)], [0])
    return replace(verdict, unit="every generated case (property)", per_seed=())

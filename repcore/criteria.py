"""Criteria declared as data, and the verdicts they give.

A claim module declares each criterion before measuring: the statistic, the bound and the side of
it the claim needs, the range the statistic can take, whether it is a negative control, and for a
practical bound (a margin other than 0, or an equivalence tolerance) the name of the margin the
profile declares with the measurement behind it (``repcore.spread``). ``Criterion.decide`` turns one
estimate per training run into a verdict on the seed-level interval (``repcore.stats.over_seeds``),
clipped to the statistic's range (the statistic cannot lie outside it, so clipping keeps the
coverage):

- ``above`` / ``below`` a bound: supported when the whole interval lies on the claimed side,
  refuted when it lies on the other side;
- ``inside`` a tolerance (an equivalence): supported when both ends lie inside (-tolerance,
  +tolerance), two one-sided bounds, each at (1 + level) / 2; refuted when the whole interval lies
  outside on one side;
- inconclusive otherwise, with why: *at its bound* (the test-sample part of the interval alone, or
  the interval at ``FEASIBLE_SEEDS`` seeds, still covers the distance from the estimate to the
  bound: no seed count decides it) or *short of power* (the number of seeds that would decide it
  at the measured spread); or too little data, an undefined interval, or a precondition of the
  claim unmet on the models under test (a claim is never refuted on a model that lacks the property
  the paper starts from).

A negative control is decided once in each of the ``settings`` it runs in (a profile's datasets x
architectures): the settings are its family of decisions, each at level 1 - 0.05 / settings, so
the chance that any comes out supported by accident stays at most 5%.
"""

import enum
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from repcore.stats import CONFIDENCE, Estimate, SeedInterval, half_width, over_seeds

CONTROL_FALSE_POSITIVE_RATE = 0.05
FEASIBLE_SEEDS = 30  # the most training seeds "short of power" may ask for (ten times the default's order)
UNBOUNDED = (-math.inf, math.inf)
SHARE = (0.0, 1.0)  # shares, rates, accuracies, ECE
SHARE_DIFFERENCE = (-1.0, 1.0)
CORRELATION = (-1.0, 1.0)
CORRELATION_DIFFERENCE = (-2.0, 2.0)
NON_NEGATIVE = (0.0, math.inf)
RELATIVE_CHANGE = (-1.0, math.inf)  # x / y - 1 of positive x, y
DIRECTIONS = ("above", "below", "inside")


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
    direction: str  # "above", "below" or "inside" (an equivalence: within plus or minus bound)
    n: int
    outcome: Outcome
    reason: str
    unit: str = "test samples"
    level: float = CONFIDENCE
    per_seed: tuple = ()  # ((seed, value, low, high), ...): each run's sample-only interval
    between_seed_sd: float = 0.0
    sample_se: float = 0.0
    bound_evidence: str = ""
    preconditions: tuple = ()  # records of the preconditions' verdicts
    value_range: tuple[float, float] = UNBOUNDED
    seed_half: float = 0.0
    sample_half: float = 0.0
    sample_term: str = ""
    runs_se: float = 0.0
    pairing: dict | None = None
    undecided: dict | None = None  # for an inconclusive interval: at its bound, or short of power
    warnings: tuple[str, ...] = ()  # what the reader must know beside the outcome (calibration images trained on)

    @property
    def supported(self) -> bool:
        return self.outcome is Outcome.SUPPORTED

    def record(self) -> dict:
        """Plain Python types only (xdist serializes user_properties; numpy scalars crash it);
        infinite range ends as None (JSON has no infinity)."""
        d = asdict(self)
        d["outcome"] = str(self.outcome)
        for k in ("value", "ci_low", "ci_high", "bound", "level", "between_seed_sd", "sample_se", "seed_half",
                  "sample_half", "runs_se"):
            d[k] = float(d[k])
        d["n"] = int(d["n"])
        d["per_seed"] = [{"seed": int(s), "value": float(v), "ci_low": float(lo), "ci_high": float(hi)}
                         for s, v, lo, hi in self.per_seed]
        d["value_range"] = [float(x) if math.isfinite(x) else None for x in self.value_range]
        d["preconditions"] = list(self.preconditions)
        d["pairing"] = None if self.pairing is None else {k: float(v) for k, v in self.pairing.items()}
        d["warnings"] = list(self.warnings)
        return d

    def summary(self) -> str:
        claim = f"inside +-{self.bound:g}" if self.direction == "inside" else f"{self.direction} {self.bound:g}"
        return (f"{self.claim} {self.outcome.upper()}: {self.statistic} = {self.value:.4g} "
                f"[{self.ci_low:.4g}, {self.ci_high:.4g}] (claim: {claim}; "
                f"{self.unit}, n={self.n}); {self.reason}" + "".join(f"; WARNING: {w}" for w in self.warnings))


def outcome_of(low: float, high: float, bound: float, direction: str) -> tuple[Outcome, str]:
    """Where the interval [low, high] lies relative to ``bound`` on the claimed ``direction``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return Outcome.INCONCLUSIVE, "the interval is undefined (degenerate resamples)"
    if direction == "inside":
        if -bound < low and high < bound:
            return Outcome.SUPPORTED, f"both ends of the interval lie inside +-{bound:g}"
        if low > bound or high < -bound:
            return Outcome.REFUTED, f"the whole interval lies outside +-{bound:g}"
        return Outcome.INCONCLUSIVE, f"the interval reaches beyond +-{bound:g}"
    claimed, opposite = (low > bound, high < bound) if direction == "above" else (high < bound, low > bound)
    if claimed:
        return Outcome.SUPPORTED, f"the whole interval lies {direction} {bound:g}"
    if opposite:
        return Outcome.REFUTED, f"the whole interval lies on the wrong side of {bound:g}"
    return Outcome.INCONCLUSIVE, f"the interval straddles {bound:g}"


def distance_to_decision(value: float, bound: float, direction: str) -> float:
    """How far the estimate lies from the nearest bound that would decide it, either way."""
    if direction == "inside":
        return abs(bound - abs(value))
    return abs(value - bound)


def more_seeds(seeds: Sequence[int], count: int) -> str:
    """``--seeds`` naming ``count`` seeds: the run's own, then the next unused integers."""
    chosen, candidate = list(seeds), 0
    while len(chosen) < count:
        if candidate not in chosen:
            chosen.append(candidate)
        candidate += 1
    return ",".join(map(str, sorted(chosen)))


def why_undecided(interval: SeedInterval, bound: float, direction: str) -> dict:
    """Whether an inconclusive interval is at its bound (no seed count up to ``FEASIBLE_SEEDS``
    decides it: the test-sample term alone covers the distance to the bound) or short of power
    (with the seeds that would decide it at the measured spread, and the ``--seeds`` to run)."""
    distance = distance_to_decision(interval.value, bound, direction)
    seeds = len(interval.seeds)
    if seeds == 1 or interval.sample_half >= distance:
        return {"kind": "at its bound",
                "detail": (f"the estimate lies {distance:.3g} from the bound and the test-sample term alone is "
                           f"+-{interval.sample_half:.3g}: more seeds cannot decide it, more test samples could")}
    needed = next((s for s in range(seeds + 1, FEASIBLE_SEEDS + 1)
                   if half_width(s, interval.between_seed_sd, interval.sample_se, interval.level) < distance), None)
    if needed is None:
        return {"kind": "at its bound",
                "detail": (f"the estimate lies {distance:.3g} from the bound; even {FEASIBLE_SEEDS} seeds at the "
                           f"measured spread (sd {interval.between_seed_sd:.3g}) leave the interval wider")}
    return {"kind": "short of power", "seeds_needed": needed,
            "detail": (f"about {needed} seeds would decide it at the measured spread (sd "
                       f"{interval.between_seed_sd:.3g}, test-sample se {interval.sample_se:.3g}): "
                       f"--seeds {more_seeds(interval.seeds, needed)}")}


@dataclass(frozen=True)
class Criterion:
    """What a claim test measures and where it must lie, declared before it runs. ``margin``
    names the profile's declared margin that sets ``bound`` (``SettingRuns.decide`` reads it)."""

    claim: str
    statistic: str
    bound: float
    direction: str  # "above", "below" or "inside"
    control: bool = False
    bound_evidence: str = ""  # for a practical margin: the measurement that justifies it
    min_n: int = 30
    value_range: tuple[float, float] = UNBOUNDED
    margin: str = ""
    held_out: bool = False  # fitted on the held-out (calibration) images: checked that they were not trained on

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")

    def as_control(self, statistic: str | None = None) -> "Criterion":
        """The same test as a negative control (it must not come out supported)."""
        return replace(self, control=True, statistic=statistic or self.statistic)

    def with_margin(self, bound: float, evidence: str) -> "Criterion":
        return replace(self, bound=float(bound), bound_evidence=evidence)

    def level(self, settings: int = 1) -> float:
        """The interval's level: ``CONFIDENCE``, or for a control decided in ``settings`` settings
        1 - 0.05 / settings (Bonferroni over the family)."""
        return 1 - CONTROL_FALSE_POSITIVE_RATE / settings if self.control else CONFIDENCE

    def decide(self, estimates: Sequence[Estimate], seeds: Sequence[int], label: str = "",
               settings: int = 1, precondition: "Verdict | Sequence[Verdict] | None" = None) -> Verdict:
        """The verdict on one estimate per training run (``seeds``) of one of ``settings`` settings;
        ``label`` names the models. A ``precondition`` (one verdict or several) that is not
        supported makes it inconclusive."""
        interval = over_seeds(estimates, seeds, self.level(settings))
        return self.verdict(interval, label, precondition)

    def _label(self, label: str) -> str:
        return f"{self.statistic} ({label})" if label else self.statistic

    def unmeasurable(self, reason: str, label: str = "") -> Verdict:
        """Inconclusive with ``reason``: the statistic could not be measured (e.g. a fit without a
        finite optimum, or no margin for these models)."""
        nan = float("nan")
        return Verdict(self.claim, self._label(label), nan, nan, nan, float(self.bound), self.direction, 0,
                       Outcome.INCONCLUSIVE, reason, bound_evidence=self.bound_evidence, value_range=self.value_range)

    def verdict(self, interval: SeedInterval, label: str = "",
                precondition: "Verdict | Sequence[Verdict] | None" = None) -> Verdict:
        if not math.isfinite(self.bound):
            return self.unmeasurable(f"no {self.margin or 'bound'} for these models: {self.bound_evidence}", label)
        preconditions = (precondition,) if isinstance(precondition, Verdict) else tuple(precondition or ())
        low, high = np.clip([interval.low, interval.high], *self.value_range)
        outcome, reason = outcome_of(float(low), float(high), self.bound, self.direction)
        undecided = None
        if interval.n < self.min_n:
            outcome, reason = Outcome.INCONCLUSIVE, f"too little data: n={interval.n} < {self.min_n}"
        elif outcome is Outcome.INCONCLUSIVE and np.isfinite(low) and np.isfinite(high):
            undecided = why_undecided(interval, self.bound, self.direction)
            reason += f": {undecided['kind']}, {undecided['detail']}"
        unmet = [p for p in preconditions if not p.supported]
        if unmet:
            outcome, undecided = Outcome.INCONCLUSIVE, None
            reason = "precondition unmet: " + "; ".join(
                f"{p.statistic} = {p.value:.4g} [{p.ci_low:.4g}, {p.ci_high:.4g}], needs {p.direction} {p.bound:g}"
                for p in unmet)
        if self.control:
            reason += decisions_note(interval.level)
        sample_term = ("" if len(interval.seeds) == 1 else
                       "joint bootstrap over the shared test samples" if interval.joint else
                       "mean of the runs' standard errors (their resamples are not shared)")
        return Verdict(self.claim, self._label(label), interval.value, float(low), float(high), float(self.bound),
                       self.direction, int(interval.n), outcome, reason, interval.unit, interval.level,
                       tuple((s, *v) for s, v in zip(interval.seeds, interval.per_seed, strict=True)),
                       interval.between_seed_sd, interval.sample_se, self.bound_evidence,
                       tuple(p.record() for p in preconditions), self.value_range, interval.seed_half,
                       interval.sample_half, sample_term, interval.runs_se, interval.pairing, undecided)


def decisions_note(level: float) -> str:
    """How a control's level was set when it is decided over several settings."""
    return "" if level == CONFIDENCE else f" ({level:.2%} interval: controls share a 5% false-positive rate)"


def holds_for_all(claim: str, statistic: str, cases: int) -> Verdict:
    """A property that held for every generated case (a failing case fails the test instead)."""
    verdict = Criterion(claim, statistic, 0.0, "above", min_n=1).decide([Estimate.exact(1.0, cases)], [0])
    return replace(verdict, unit="every generated case (property)", per_seed=())

"""Criteria declared as data, and the verdicts they give.

A claim module declares each criterion before measuring: the statistic, the bound and the side of
it the claim needs, the range the statistic can take, whether it is a negative control, for an
equivalence the name of the tolerance the profile declares with the measurement behind it, and for
a comparison with the hard baseline the name of the pair statistic whose seed spread is shown
beside it (``repcore.spread``). ``Criterion.decide`` turns one estimate per training run into a
verdict on the seed-level interval (``repcore.stats.over_seeds``), clipped to the statistic's range
(the statistic cannot lie outside it, so clipping keeps the coverage):

- ``above`` / ``below`` a bound: supported when the whole interval lies on the claimed side,
  refuted when it lies on the other side; a directional claim's bound is 0 (the seed-level
  interval already carries the seed-to-seed variation), a bound other than 0 only where the claim
  states a size;
- ``inside`` a tolerance (an equivalence): supported when both ends lie inside (-tolerance,
  +tolerance), two one-sided bounds, each at (1 + level) / 2; refuted when the whole interval lies
  outside on one side;
- inconclusive otherwise, with why (``repcore.power``): *at its bound* (no feasible seed count
  could decide it, judged with the uncertainty of the spread and of the distance) or *short of
  power* (the seeds that would decide it at the measured spread), with what the interval rules
  out; or too little data, an undefined interval, or a precondition of the claim unmet on the
  models under test (a claim is never refuted on a model that lacks the property the paper starts
  from).

Each verdict records the largest level at which its interval lies wholly on the wrong side of its
bound, from which a claim's refutations are corrected for its number of criteria
(``repcore.multiplicity``). A negative control is decided once in each of the ``settings`` it runs
in (a profile's datasets x architectures): the settings are its family of decisions, each at level
1 - 0.05 / settings, so the chance that any comes out supported by accident stays at most 5%.
"""

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from repcore.multiplicity import wrong_side_level
from repcore.power import rules_out, why_undecided
from repcore.stats import CONFIDENCE, Estimate, SeedInterval, over_seeds

CONTROL_FALSE_POSITIVE_RATE = 0.05
UNBOUNDED = (-math.inf, math.inf)
SHARE = (0.0, 1.0)  # shares, rates, accuracies, ECE
SHARE_DIFFERENCE = (-1.0, 1.0)
CORRELATION = (-1.0, 1.0)
CORRELATION_DIFFERENCE = (-2.0, 2.0)
NON_NEGATIVE = (0.0, math.inf)
RELATIVE_CHANGE = (-1.0, math.inf)  # x / y - 1 of positive x, y
DIRECTIONS = ("above", "below", "inside")
FLOATS = ("value", "ci_low", "ci_high", "bound", "level", "between_seed_sd", "sample_se", "seed_half", "sample_half",
          "runs_se", "wrong_side_level")


class Outcome(enum.StrEnum):
    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One tested criterion: ``statistic`` = ``value`` in [``ci_low``, ``ci_high``], claimed
    ``direction`` of ``bound``, decided on an interval covering ``unit``; the rest is what the
    report shows beside it (the interval's parts, each seed's own interval, the preconditions, why
    it is undecided, the seed spread of a comparison, the sequential looks)."""

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
    seed_half: float = 0.0
    sample_half: float = 0.0
    sample_term: str = ""
    runs_se: float = 0.0
    pairing: dict | None = None
    bound_evidence: str = ""
    preconditions: tuple = ()  # records of the preconditions' verdicts
    value_range: tuple[float, float] = UNBOUNDED
    undecided: dict | None = None  # for an inconclusive interval: at its bound, or short of power
    warnings: tuple[str, ...] = ()  # what the reader must know beside the outcome (calibration images trained on)
    spread: dict | None = None  # a comparison's seed spread (repcore.spread) and the effect in its units
    looks: tuple[dict, ...] = ()  # the sequential mode's looks (repcore.sequential)
    wrong_side_level: float = 0.0  # the largest level at which the interval lies wholly on the wrong side
    interval: SeedInterval | None = field(default=None, repr=False, compare=False)  # not recorded

    @property
    def supported(self) -> bool:
        return self.outcome is Outcome.SUPPORTED

    def record(self) -> dict:
        """Plain Python types only (xdist serializes user_properties; numpy scalars crash it);
        infinite range ends as None (JSON has no infinity)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "interval"}
        d.update({k: float(d[k]) for k in FLOATS})
        d["outcome"], d["n"] = str(self.outcome), int(self.n)
        d["per_seed"] = [{"seed": int(s), "value": float(v), "ci_low": float(lo), "ci_high": float(hi)}
                         for s, v, lo, hi in self.per_seed]
        d["value_range"] = [float(x) if math.isfinite(x) else None for x in self.value_range]
        d["preconditions"], d["warnings"], d["looks"] = list(self.preconditions), list(self.warnings), list(self.looks)
        d["pairing"] = None if self.pairing is None else {k: float(v) for k, v in self.pairing.items()}
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


@dataclass(frozen=True)
class Criterion:
    """What a claim test measures and where it must lie, declared before it runs. ``tolerance``
    names the profile's declared tolerance that sets an equivalence's ``bound``; ``spread`` names
    the pair statistic (``repcore.spread``) whose seed spread a comparison is shown beside
    (``SettingRuns.decide`` reads both)."""

    claim: str
    statistic: str
    bound: float
    direction: str  # "above", "below" or "inside"
    control: bool = False
    bound_evidence: str = ""  # for a declared tolerance: the measurement that justifies it
    min_n: int = 30
    value_range: tuple[float, float] = UNBOUNDED
    tolerance: str = ""
    spread: str = ""
    held_out: bool = False  # fitted on the held-out (calibration) images: checked that they were not trained on

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")

    def as_control(self, statistic: str | None = None) -> "Criterion":
        """The same test as a negative control (it must not come out supported)."""
        return replace(self, control=True, statistic=statistic or self.statistic)

    def with_bound(self, bound: float, evidence: str) -> "Criterion":
        return replace(self, bound=float(bound), bound_evidence=evidence)

    def level(self, settings: int = 1) -> float:
        """The interval's level: ``CONFIDENCE``, or for a control decided in ``settings`` settings
        1 - 0.05 / settings (Bonferroni over the family)."""
        return 1 - CONTROL_FALSE_POSITIVE_RATE / settings if self.control else CONFIDENCE

    def decide(self, estimates: Sequence[Estimate], seeds: Sequence[int], label: str = "",
               settings: int = 1, precondition: "Verdict | Sequence[Verdict] | None" = None,
               level: float | None = None) -> Verdict:
        """The verdict on one estimate per training run (``seeds``) of one of ``settings`` settings;
        ``label`` names the models. A ``precondition`` (one verdict or several) that is not
        supported makes it inconclusive. ``level`` (a sequential look's) replaces the usual one."""
        interval = over_seeds(estimates, seeds, level or self.level(settings))
        return self.verdict(interval, label, precondition)

    def _label(self, label: str) -> str:
        return f"{self.statistic} ({label})" if label else self.statistic

    def unmeasurable(self, reason: str, label: str = "") -> Verdict:
        """Inconclusive with ``reason``: the statistic could not be measured (e.g. a fit without a
        finite optimum, or no tolerance for these models)."""
        nan = float("nan")
        return Verdict(claim=self.claim, statistic=self._label(label), value=nan, ci_low=nan, ci_high=nan,
                       bound=float(self.bound), direction=self.direction, n=0, outcome=Outcome.INCONCLUSIVE,
                       reason=reason, bound_evidence=self.bound_evidence, value_range=self.value_range)

    def verdict(self, interval: SeedInterval, label: str = "",
                precondition: "Verdict | Sequence[Verdict] | None" = None) -> Verdict:
        if not math.isfinite(self.bound):
            return self.unmeasurable(f"no {self.tolerance or 'bound'} for these models: {self.bound_evidence}", label)
        preconditions = (precondition,) if isinstance(precondition, Verdict) else tuple(precondition or ())
        low, high = (float(x) for x in np.clip([interval.low, interval.high], *self.value_range))
        outcome, reason = outcome_of(low, high, self.bound, self.direction)
        undecided, wrong_side = None, 0.0
        if interval.n < self.min_n:
            outcome, reason = Outcome.INCONCLUSIVE, f"too little data: n={interval.n} < {self.min_n}"
        elif np.isfinite(low) and np.isfinite(high):
            wrong_side = wrong_side_level(interval, self.bound, self.direction)
            if outcome is Outcome.INCONCLUSIVE:
                undecided = why_undecided(interval, self.bound, self.direction)
                ruled_out = rules_out(low, high, self.bound, self.direction)
                undecided = {**undecided, "rules_out": ruled_out} if ruled_out else undecided
                reason += f": {undecided['kind']}, {undecided['detail']}" + (f"; it rules out {ruled_out}"
                                                                             if ruled_out else "")
        unmet = [p for p in preconditions if not p.supported]
        if unmet:
            outcome, undecided, wrong_side = Outcome.INCONCLUSIVE, None, 0.0
            reason = "precondition unmet: " + "; ".join(
                f"{p.statistic} = {p.value:.4g} [{p.ci_low:.4g}, {p.ci_high:.4g}], needs {p.direction} {p.bound:g}"
                for p in unmet)
        if self.control:
            reason += decisions_note(interval.level)
        sample_term = ("" if len(interval.seeds) == 1 else
                       "joint bootstrap over the shared test samples" if interval.joint else
                       "mean of the runs' standard errors (their resamples are not shared)")
        return Verdict(
            claim=self.claim, statistic=self._label(label), value=interval.value, ci_low=low, ci_high=high,
            bound=float(self.bound), direction=self.direction, n=int(interval.n), outcome=outcome, reason=reason,
            unit=interval.unit, level=interval.level,
            per_seed=tuple((s, *v) for s, v in zip(interval.seeds, interval.per_seed, strict=True)),
            between_seed_sd=interval.between_seed_sd, sample_se=interval.sample_se, seed_half=interval.seed_half,
            sample_half=interval.sample_half, sample_term=sample_term, runs_se=interval.runs_se,
            pairing=interval.pairing, bound_evidence=self.bound_evidence,
            preconditions=tuple(p.record() for p in preconditions), value_range=self.value_range,
            undecided=undecided, wrong_side_level=wrong_side, interval=interval)


def decisions_note(level: float) -> str:
    """How a control's level was set when it is decided over several settings."""
    return "" if level == CONFIDENCE else f" ({level:.2%} interval: controls share a 5% false-positive rate)"


def holds_for_all(claim: str, statistic: str, cases: int) -> Verdict:
    """A property that held for every generated case (a failing case fails the test instead)."""
    verdict = Criterion(claim, statistic, 0.0, "above", min_n=1).decide([Estimate.exact(1.0, cases)], [0])
    return replace(verdict, unit="every generated case (property)", per_seed=(), interval=None)

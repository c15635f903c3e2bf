"""What more seeds could do for an undecided criterion (``repcore.power``): the projection's value
pinned on a hand-computed case, and the labels judged with the uncertainty of spread and distance."""

import numpy as np
import pytest
from scipy import stats as sps

from repcore import power
from repcore.stats import SeedInterval


def _interval(value, seeds, between_sd, sample_se, runs_se, joint=True):
    seed_half, sample_half = sps.t.ppf(0.975, seeds - 1) * between_sd / np.sqrt(seeds), 1.959964 * sample_se
    half = np.hypot(seed_half, sample_half)
    return SeedInterval(value, value - half, value + half, 1000, tuple(range(seeds)), (), between_sd, sample_se,
                        0.95, seed_half, sample_half, joint=joint, runs_se=runs_se)


def test_the_shared_fraction_comes_from_the_joint_and_the_runs_errors():
    independent = _interval(0.02, 5, 0.02, 0.01 / np.sqrt(5), 0.01)
    shared = _interval(0.02, 5, 0.02, 0.01, 0.01)
    assert power.shared_fraction(independent) == pytest.approx(0.0, abs=1e-9)
    assert power.shared_fraction(shared) == pytest.approx(1.0)
    assert power.shared_fraction(_interval(0.02, 5, 0.02, 0.01, 0.01, joint=False)) == 1.0


def test_the_seeds_needed_projection_is_pinned():
    """At 5 seeds: estimate 0.02, between-seed sd 0.03, runs' own error 0.01 of which 20% shared.
    The sample term at S seeds is 0.01 sqrt(0.2 + 0.8 / S); the first S whose half-width
    t_{S-1} 0.03 / sqrt(S) (+) 1.96 0.01 sqrt(0.2 + 0.8/S) drops below 0.02 is 14. Dropping the
    sample term would give 12, holding it at its 5-seed value (a fixed floor) 16."""
    sample_se = 0.01 * np.sqrt(0.2 + 0.8 / 5)
    interval = _interval(0.02, 5, 0.03, sample_se, 0.01)
    assert power.shared_fraction(interval) == pytest.approx(0.2)

    def half(s):
        return np.hypot(sps.t.ppf(0.975, s - 1) * 0.03 / np.sqrt(s), 1.959964 * 0.01 * np.sqrt(0.2 + 0.8 / s))

    expected = next(s for s in range(6, 31) if half(s) < 0.02)
    assert power.seeds_needed(interval, 0.0, "above") == expected == 14
    without_sample_term = next(s for s in range(6, 31) if sps.t.ppf(0.975, s - 1) * 0.03 / np.sqrt(s) < 0.02)
    fixed_floor = next(s for s in range(6, 31) if np.hypot(sps.t.ppf(0.975, s - 1) * 0.03 / np.sqrt(s),
                                                           1.959964 * sample_se) < 0.02)
    assert (without_sample_term, fixed_floor) == (12, 16)


def test_at_its_bound_only_when_even_the_optimistic_projection_cannot_decide():
    """A point estimate near the bound with a wide interval may still be decided by more seeds:
    the far end of the interval and the spread's lower limit say so; a sample term that alone
    covers the far end cannot be."""
    near = _interval(0.002, 5, 0.03, 0.002, 0.004)
    assert power.seeds_needed(near, 0.0, "above") is None
    assert power.why_undecided(near, 0.0, "above")["kind"] == "short of power"
    floor = _interval(0.002, 5, 0.001, 0.02, 0.02)
    assert power.why_undecided(floor, 0.0, "above")["kind"] == "at its bound"


def test_max_seeds_comes_in_whole_waves():
    assert [power.max_seeds_for(n) for n in (6, 10, 13, 29, None)] == [10, 10, 15, 30, 30]

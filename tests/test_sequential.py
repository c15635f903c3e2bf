"""Seeds added sequentially (``repcore.sequential``): the alpha-spending boundaries, and a seeded
simulation of the false-decision rate over the looks and of the power."""

import numpy as np
import pytest

from repcore.criteria import Criterion, Outcome
from scipy import special

from repcore.sequential import Looks, decide_sequentially, nominal_levels, schedule
from repcore.simulation import Design, sequential_decisions
from repcore.stats import Estimate

# C10's LS criterion on the default (smoke seeds 0-4, FGSM): ASR change -0.025, between-seed sd
# 0.0175, runs' own sample error 0.0159 of which almost none shared (joint se 0.0072).
C10_LS = Design(seeds=5, seed_sd=0.0073, own_se=0.0159, shared_se=0.0)
SEED_SPREAD_DOMINANT = Design(seeds=5, seed_sd=1.0, own_se=0.1, shared_se=0.05)


def test_the_levels_spend_alpha_as_declared_for_the_seed_t_statistic():
    """Fresh Gaussian seed sequences (another seed than the levels were computed with), decided at
    each look by Student's t at the nominal level over the seeds so far, first cross at the
    spending function's rate: 5% in all, each look its share."""
    counts = (5, 10, 15, 20)
    draws = np.random.default_rng(7).standard_normal((200_000, 20))
    for spending in ("pocock", "obrien-fleming"):
        crossed = np.zeros(len(draws), dtype=bool)
        for count, level in zip(counts, nominal_levels(counts, spending), strict=True):
            x = draws[:, :count]
            t = np.abs(x.mean(1)) / (x.std(1, ddof=1) / np.sqrt(count))
            crossed |= t > special.stdtrit(count - 1, (1 + level) / 2)
        assert crossed.mean() == pytest.approx(0.05, abs=0.003), spending
    assert schedule(5, 20) == (5, 10, 15, 20) and Looks((5,)).levels == (0.95,)


def _decided(effect: float, spread: float, spending: str = "pocock"):
    criterion = Criterion("X", "s", 0.0, "above")
    rng = np.random.default_rng(1)
    estimates = [Estimate(v, v + rng.normal(0, 0.01, 200), 1000, (1000, 200, 1))
                 for v in effect + rng.normal(0, spread, 20)]
    return decide_sequentially(Looks((5, 10, 15, 20), spending), lambda count, level: criterion.decide(
        estimates[:count], list(range(count)), level=level))


def test_a_criterion_stops_at_the_look_that_decides_it_and_records_every_look():
    """An effect of six seed spreads: decided at the first look by the Pocock-type design (98.2%),
    where O'Brien-Fleming's first look (99.99%, Student's t on 4 degrees of freedom) waits for the
    second."""
    early, late = _decided(0.3, 0.05), _decided(0.3, 0.05, "obrien-fleming")
    assert early.outcome is late.outcome is Outcome.SUPPORTED
    assert [look["seeds"] for look in early.looks] == [5] and "decided at look 1" in early.reason
    assert [look["seeds"] for look in late.looks] == [5, 10] and late.looks[0]["outcome"] == "inconclusive"


def test_an_undecidable_criterion_stops_for_futility():
    verdict = _decided(0.0, 0.0001)
    assert verdict.outcome is Outcome.INCONCLUSIVE and "futility at look 1" in verdict.reason


@pytest.mark.parametrize("design", [C10_LS, SEED_SPREAD_DOMINANT], ids=["C10 LS spreads", "seed spread dominant"])
def test_the_false_decision_rate_over_the_looks_stays_at_most_five_percent(design):
    """A criterion whose truth is exactly at its bound, decided look by look at 5, 10, 15 and 20
    seeds: decided either way (every decision false) in at most 5% of 2,000 seeded replications,
    up to their Monte Carlo error where the interval itself is exact (seed spread dominant: the
    fixed 5-seed design decides 5% there too)."""
    replications = 2000
    rates = sequential_decisions(0.0, Looks((5, 10, 15, 20)), replications, seed=3, design=design)
    print(f"\nat the bound: decided {rates['decided']:.1%} (fixed 5 seeds: {rates['fixed_decided']:.1%}), "
          f"mean seeds {rates['mean_seeds']:.1f}")
    assert rates["decided"] <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / replications)


def test_the_power_at_the_effect_size_of_c10s_ls_criterion():
    """At C10's LS effect (an ASR change of 2.5 points, seeds 0-4 of the default) the sequential
    mode decides on the claimed side far more often than 5 fixed seeds, at a mean seed count the
    simulation prints."""
    rates = sequential_decisions(0.025, Looks((5, 10, 15, 20)), 500, seed=4, design=C10_LS)
    print(f"\npower at 0.025: sequential {rates['supported']:.1%} at {rates['mean_seeds']:.1f} seeds on average, "
          f"5 fixed seeds {rates['fixed_decided']:.1%}")
    assert rates["refuted"] == 0 and rates["supported"] >= 0.9 > rates["fixed_decided"]


def test_a_look_the_models_cannot_fill_stops_the_criterion_saying_what_to_train():
    """A manifest of 6 seeds under looks at 5 and 10: the second look waits for the seeds."""
    from repcore.sequential import LookUnavailable
    criterion = Criterion("X", "s", 0.0, "above")
    rng = np.random.default_rng(2)
    estimates = [Estimate(v, v + rng.normal(0, 0.01, 200), 1000, (1000, 200, 1)) for v in rng.normal(0.01, 0.05, 6)]

    def decide_at(count, level):
        if count > len(estimates):
            raise LookUnavailable(count, len(estimates))
        return criterion.decide(estimates[:count], list(range(count)), level=level)

    verdict = decide_sequentially(Looks((5, 10)), decide_at)
    assert verdict.outcome is Outcome.INCONCLUSIVE and [look["seeds"] for look in verdict.looks] == [5]
    assert "look 2 needs 10 seeds, the models under test hold 6" in verdict.reason

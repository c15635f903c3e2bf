import numpy as np
import pytest

from repcore import stats
from repcore.criteria import CONTROL_FALSE_POSITIVE_RATE, SHARE, Criterion, Outcome, holds_for_all


def _estimates(values, se=0.01, n=1000):
    return [stats.Estimate(v, np.random.default_rng(i).normal(v, se, 4000), n) for i, v in enumerate(values)]


@pytest.mark.parametrize("values, direction, outcome", [
    ((0.3, 0.31, 0.29), "above", Outcome.SUPPORTED),
    ((-0.3, -0.31, -0.29), "above", Outcome.REFUTED),
    ((-0.2, 0.1, 0.3), "above", Outcome.INCONCLUSIVE),
    ((-0.3, -0.31, -0.29), "below", Outcome.SUPPORTED),
    ((0.3, 0.31, 0.29), "below", Outcome.REFUTED),
])
def test_a_criterion_decides_on_the_seed_level_interval(values, direction, outcome):
    verdict = Criterion("X", "s", 0.0, direction).decide(_estimates(values), [0, 1, 2])
    assert verdict.outcome is outcome and verdict.unit == "3 training seeds and test samples"
    assert [p[0] for p in verdict.per_seed] == [0, 1, 2]


def test_a_single_seed_comparison_that_seeds_overturn_is_not_supported_with_three():
    """Seed 0 alone says 'supported'; the three seeds together disagree too much to say so."""
    criterion = Criterion("X", "acc(reg) - acc(hard)", -0.01, "above")
    seeds = _estimates((0.008, -0.03, 0.004), se=0.004)
    assert criterion.decide(seeds[:1], [0]).supported
    assert criterion.decide(seeds, [0, 1, 2]).outcome is Outcome.INCONCLUSIVE


def test_too_little_data_and_unmet_preconditions_are_inconclusive_never_refuted():
    criterion = Criterion("X", "s", 0.0, "above")
    assert "too little data" in criterion.decide(_estimates((0.5,), n=10), [0]).reason
    unmet = Criterion("pre", "signed gap", 0.02, "above").decide(_estimates((0.001, 0.0, 0.002)), [0, 1, 2])
    verdict = criterion.decide(_estimates((-0.5, -0.6, -0.4)), [0, 1, 2], precondition=unmet)
    assert verdict.outcome is Outcome.INCONCLUSIVE and verdict.reason.startswith("precondition unmet: signed gap")
    assert verdict.record()["preconditions"][0]["outcome"] != "supported"
    both = criterion.decide(_estimates((0.5, 0.6, 0.4)), [0, 1, 2], precondition=(unmet, unmet))
    assert both.outcome is Outcome.INCONCLUSIVE and len(both.preconditions) == 2


def test_controls_share_a_five_percent_false_positive_rate_over_settings():
    control = Criterion("X", "s", 0.0, "above").as_control()
    assert control.control and control.level(1) == 0.95
    assert control.level(6) == pytest.approx(1 - CONTROL_FALSE_POSITIVE_RATE / 6)
    verdict = control.decide(_estimates((0.3,)), [0], settings=6)
    assert verdict.level == pytest.approx(1 - 0.05 / 6) and "false-positive rate" in verdict.reason


def test_records_are_plain_python_and_properties_say_what_they_cover():
    verdict = Criterion("X", "s", 0.0, "above").decide(
        [stats.Estimate(np.float32(0.5), np.array([0.4, 0.6], dtype=np.float32), 100)], [0])
    record = verdict.record()
    assert all(type(v) in (str, float, int, list, type(None)) for v in record.values())
    assert holds_for_all("T1", "property", 60).unit == "every generated case (property)"


def test_an_unmeasurable_statistic_is_inconclusive_with_its_reason():
    verdict = Criterion("C6", "|s* T* - 1|", 0.1, "below").unmeasurable("the temperature fit landed on its bound")
    assert verdict.outcome is Outcome.INCONCLUSIVE and "bound" in verdict.reason


@pytest.mark.parametrize("values, outcome", [
    ((0.01, -0.01, 0.0), Outcome.SUPPORTED),
    ((0.3, 0.31, 0.29), Outcome.REFUTED),
    ((-0.3, -0.31, -0.29), Outcome.REFUTED),
    ((0.09, 0.11, 0.1), Outcome.INCONCLUSIVE),
])
def test_an_equivalence_is_decided_by_both_ends_of_the_signed_interval(values, outcome):
    verdict = Criterion("C6", "s* T* - 1", 0.12, "inside").decide(_estimates(values, se=0.002), [0, 1, 2])
    assert verdict.outcome is outcome
    assert "inside +-0.12" in verdict.summary()


def test_an_interval_stays_inside_the_statistics_range():
    share = Criterion("C11", "ASR", 0.9, "above", value_range=SHARE)
    verdict = share.decide(_estimates((0.99, 1.0, 0.985), se=0.01), [0, 1, 2])
    assert verdict.ci_high == 1.0 and verdict.ci_low < 1.0 and verdict.record()["value_range"] == [0.0, 1.0]
    assert Criterion("X", "s", 0.0, "above").decide(_estimates((0.1,)), [0]).record()["value_range"] == [None, None]


def test_an_undecided_criterion_says_whether_seeds_could_decide_it_and_what_it_rules_out():
    criterion = Criterion("X", "s", 0.0, "above")
    spread = criterion.decide(_estimates((0.05, -0.01, 0.06), se=0.001), [0, 1, 2])
    assert spread.outcome is Outcome.INCONCLUSIVE and spread.undecided["kind"] == "short of power"
    assert spread.undecided["seeds_needed"] > 3
    assert spread.undecided["rules_out"].startswith(f"a decrease larger than {-spread.ci_low:.3g}")
    wide = _estimates((0.003, 0.002, 0.004), se=0.05)
    assert criterion.decide(wide, [0, 1, 2]).undecided["kind"] == "at its bound"
    assert criterion.decide(wide[:1], [0]).undecided["kind"] == "at its bound"
    assert criterion.decide(_estimates((0.3, 0.31, 0.29)), [0, 1, 2]).undecided is None


def test_a_criterion_without_its_tolerance_is_unmeasurable_not_decided():
    criterion = Criterion("C6", "s* T* - 1", float("nan"), "inside", tolerance="temperature_tolerance")
    verdict = criterion.decide(_estimates((0.01, 0.0, 0.02)), [0, 1, 2])
    assert verdict.outcome is Outcome.INCONCLUSIVE and "no temperature_tolerance" in verdict.reason


@pytest.mark.parametrize("values, direction", [((0.3, 0.31, 0.29), "below"), ((-0.02, -0.05, 0.0), "above"),
                                               ((0.2, 0.25, 0.3), "inside")])
def test_the_wrong_side_level_is_where_the_interval_stops_refuting(values, direction):
    """A verdict's ``wrong_side_level`` is the level at which its interval just reaches its
    bound: refuted at 95% exactly when it is at least 0.95, and the interval at that level touches
    the bound (what Holm's correction reads)."""
    criterion = Criterion("X", "s", 0.1 if direction == "inside" else 0.0, direction)
    for seeds in ([0], [0, 1, 2]):
        verdict = criterion.decide(_estimates(values[:len(seeds)], se=0.01), seeds)
        assert (verdict.outcome is Outcome.REFUTED) == (verdict.wrong_side_level >= 0.95)
        if len(seeds) > 1 and verdict.wrong_side_level > 0:
            low, high = verdict.interval.at_level(verdict.wrong_side_level)
            edge = low if direction == "below" or (direction == "inside" and verdict.value > 0) else high
            assert edge == pytest.approx(criterion.bound if direction != "inside" else 0.1, abs=1e-6)

"""The error rate held per claim (``repcore.multiplicity``): Holm's correction over a claim's
criteria, and the seeded simulation that measures the claim-level false-refutation rate."""

import pytest

from repcore.multiplicity import correct_refutations, holm_divisors
from repcore.report.document import build_document
from repcore.simulation import Design, claim_false_refutations


def _verdict(outcome, wrong_side_level, level=0.95):
    return {"statistic": "s", "outcome": outcome, "wrong_side_level": wrong_side_level, "level": level,
            "reason": "the whole interval lies on the wrong side of 0", "per_seed": []}


def test_a_lone_marginal_refutation_among_many_criteria_is_not_a_refuted_claim():
    """Refuted at 95% alone (p 0.04), one of 9 criteria: Holm's first level is 1 - 0.05 / 9."""
    verdicts = [_verdict("refuted", 0.96)] + [_verdict("supported", 0.0)] * 8
    corrected = correct_refutations(verdicts)
    assert corrected[0]["outcome"] == "inconclusive" and corrected[0]["outcome_alone"] == "refuted"
    assert "not at its Holm level (99.44%, 9 criteria)" in corrected[0]["reason"]
    assert corrected[1]["decided_at"]["rule"].startswith("its own interval")


def test_a_strong_refutation_stays_and_holm_steps_down():
    verdicts = [_verdict("refuted", 0.9999), _verdict("refuted", 0.98), _verdict("inconclusive", 0.5)]
    corrected = correct_refutations(verdicts)
    assert [v["outcome"] for v in corrected] == ["refuted", "refuted", "inconclusive"]
    assert [round(v["decided_at"]["level"], 4) for v in corrected[:2]] == [round(1 - 0.05 / 3, 4), 0.975]
    assert holm_divisors([0.002, 0.4, 10.0]) == [3, 2, None]


def test_the_document_decides_claims_on_the_corrected_criteria():
    def test(statistic, outcome, level):
        return {"nodeid": f"claims/test_c1_x.py::test_{statistic}", "claim": "C1",
                "outcome": "passed" if outcome == "supported" else "failed",
                "message": "", "duration": 0.0, "verdicts": [{**_verdict(outcome, level), "statistic": statistic}],
                "controls": [], "evidence": [], "figures": [], "setting": None, "needs": []}

    weak = build_document([test("a", "refuted", 0.96), *(test(f"b{i}", "supported", 0.0) for i in range(5))], {})
    strong = build_document([test("a", "refuted", 0.9999), *(test(f"b{i}", "supported", 0.0) for i in range(5))], {})
    assert weak["claims"][0]["verdict"] == "inconclusive" and strong["claims"][0]["verdict"] == "refuted"


@pytest.mark.parametrize("design", [Design(), Design(seed_sd=1.0, own_se=0.1, shared_se=0.05)],
                         ids=["sample error shared and own", "seed spread dominant"])
def test_a_claim_whose_criteria_all_sit_at_their_bounds_is_refuted_at_most_five_percent(design):
    """2,000 seeded replications of claims with 1, 3, 9 and 16 criteria, each exactly at its
    bound, correlated at 0 and 0.5: the share refuted under Holm stays at most 5% (each refutation
    is one-sided, so at most 2.5% up to the intervals' own conservatism), where refuting on any
    criterion at 95% ("alone", the earlier rule) grows with the criteria. ``pytest -s`` prints both."""
    print(f"\n{'criteria':>8} {'correlation':>11} {'any at 95%':>11} {'Holm':>6}")
    for criteria in (1, 3, 9, 16):
        for correlation in (0.0, 0.5):
            rates = claim_false_refutations(criteria, correlation, 2000, seed=criteria, design=design)
            print(f"{criteria:>8} {correlation:>11} {rates['alone']:>11.2%} {rates['holm']:>6.2%}")
            assert rates["holm"] <= 0.05
            assert rates["holm"] <= rates["alone"]

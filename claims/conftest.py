"""How a claim test ends: it records its verdict for the report, then passes only if supported.

A negative control records its verdict too and fails if it comes out supported: that would mean
the claim's test cannot tell the claimed effect from its absence.
"""

import pytest

from repcore.stats import Verdict, decide


class ClaimCheck:
    def __init__(self, record_property):
        self._record = record_property

    def supported(self, verdict: Verdict) -> None:
        """Record ``verdict``; fail (refuted or inconclusive, with the reason) unless supported."""
        self._record("verdict", verdict.record())
        if not verdict.supported:
            pytest.fail(verdict.summary(), pytrace=False)

    def holds_for_all(self, claim: str, statistic: str, cases: int) -> None:
        """Record a property that held for every generated case (a failing case fails the test)."""
        self.supported(decide(claim, statistic, 1.0, (1.0, 1.0), 0.0, "above", cases, min_n=1))

    def not_supported(self, verdict: Verdict) -> None:
        """Record a negative control's ``verdict``; fail if the control came out supported."""
        self._record("control", verdict.record())
        if verdict.supported:
            pytest.fail("negative control came out SUPPORTED, so the test does not discriminate: "
                        + verdict.summary(), pytrace=False)


@pytest.fixture
def check(record_property) -> ClaimCheck:
    return ClaimCheck(record_property)

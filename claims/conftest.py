"""How a claim test ends: it records its verdict for the report, then passes only if supported.

A negative control records its verdict too and fails if it comes out supported: that would mean
the claim's test cannot tell the claimed effect from its absence. Evidence (per-model metrics),
AutoAttack's own checks and figures are recorded the same way; the report is written by the
controller at the end of the run.
"""

import io
import re
from pathlib import Path

import pytest

from fixtures.zoo import MissingRole
from repcore.criteria import Verdict, holds_for_all
from repcore.report import protocol
from repcore.report.claims import claim_of


class ClaimCheck:
    def __init__(self, record_property):
        self._record = record_property

    def supported(self, verdict: Verdict) -> None:
        """Record ``verdict``; fail (refuted or inconclusive, with the reason) unless supported."""
        self._record(protocol.VERDICT, verdict.record())
        if not verdict.supported:
            pytest.fail(verdict.summary(), pytrace=False)

    def holds_for_all(self, claim: str, statistic: str, cases: int) -> None:
        """Record a property that held for every generated case (a failing case fails the test)."""
        self.supported(holds_for_all(claim, statistic, cases))

    def not_supported(self, verdict: Verdict) -> None:
        """Record a negative control's ``verdict``; fail if the control came out supported."""
        self._record(protocol.CONTROL, verdict.record())
        if verdict.supported:
            pytest.fail("negative control came out SUPPORTED, so the test does not discriminate: "
                        + verdict.summary(), pytrace=False)

    def evidence(self, model: str, **metrics: float) -> None:
        """Per-model figures for the report's evidence tables (plain floats)."""
        self._record(protocol.EVIDENCE, {"model": model, "metrics": {k: float(v) for k, v in metrics.items()}})

    def attack_checks(self, model: str, outcome) -> None:
        """AutoAttack's own warnings (randomized model, gradient masking, too few classes) on the
        attack outcome of ``model``, shown beside the robustness verdict."""
        for message in outcome.checks:
            self._record(protocol.ATTACK_CHECK, {"model": model, "attack": outcome.config.name, "message": message})


@pytest.fixture
def check(record_property) -> ClaimCheck:
    return ClaimCheck(record_property)


def setting_of(node: pytest.Item) -> str | None:
    """The setting a test runs on in a profile with several settings (its ``runs`` parameter)."""
    callspec = getattr(node, "callspec", None)
    return callspec.params.get("runs") if callspec else None


@pytest.fixture(autouse=True)
def record_setting(request, record_property) -> None:
    """Tell the report which setting this test's verdicts belong to."""
    setting = setting_of(request.node)
    if setting:
        record_property(protocol.SETTING, setting)


@pytest.fixture
def figure(request, record_property, profile):
    """``figure(fig, caption)``: a matplotlib figure for the report, sent as PNG bytes with the
    test's verdicts; the report writes it (``repcore.report.plugin``). Figures show the first seed of
    the first setting (one set, not one per run)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("claims/")[-1])
    shown = setting_of(request.node) in (None, next(iter(profile.settings)))
    count = 0

    def save(fig, caption: str) -> None:
        import matplotlib.pyplot as plt
        nonlocal count
        if shown:
            count += 1
            png = io.BytesIO()
            fig.savefig(png, format="png", dpi=90)
            record_property(protocol.FIGURE, {"path": f"{stem}-{count}.png", "caption": caption, "png": png.getvalue()})
        plt.close(fig)

    return save


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test that asks for a role the zoo does not hold (a checkpoint manifest with some roles
    only) is skipped, saying which; the report collects the roles the skipped tests need."""
    try:
        return (yield)
    except MissingRole as err:
        pyfuncitem.user_properties.append((protocol.NEEDS, list(err.roles)))
        pytest.skip(f"not in this run: {err}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Record the exception type of a failure, so the report tells errors from refutations."""
    report = yield
    if call.excinfo is not None and report.when == "call":
        report.user_properties.append((protocol.EXCEPTION, call.excinfo.typename))
    return report


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A claim test whose module names no claim of ``repcore.report.claims.CLAIMS`` is an error
    here, at collection: the report would leave its verdicts out."""
    claims_dir = Path(__file__).parent
    unregistered = sorted({item.nodeid.split("::")[0] for item in items
                           if Path(item.path).parent == claims_dir and claim_of(item.nodeid) is None})
    if unregistered:
        raise pytest.UsageError(
            f"{', '.join(unregistered)}: no claim registered for this module; name it claims/test_<id>_*.py "
            "with <id> a claim of repcore/report/claims.py (CLAIMS), or add the claim there")

"""The claims document (``claims.json``): what ran, per claim, with verdicts, controls, evidence.

Schema: ``schema.json`` beside this file (``SCHEMA_VERSION``). Every criterion is already decided
over the training seeds of its setting (seed-level intervals, ``repcore.criteria``). Within one
setting a claim's verdict aggregates its criteria: errored if any test errored; refuted if any
criterion is refuted; inconclusive if any is inconclusive or a negative control came out supported
(the test did not discriminate); else supported. A profile with several settings (dataset x
architecture) decides the claim in each setting, then over settings: supported only if supported in
every one, refuted if refuted in more than half, errored if any errored, else inconclusive (the
effect depends on the setting). A negative control is decided once over all settings: it counts
as supported if it came out supported in any (each at level 1 - 0.05 / settings). A claim of which
fewer tests finished than were selected (an interrupted run) is incomplete, whatever its finished
tests say: "incomplete: k of n tests ran".
"""

import json
from pathlib import Path

from repcore.files import atomic_write
from repcore.report.claims import CLAIMS

SCHEMA_VERSION = 4
SCHEMA_PATH = Path(__file__).with_name("schema.json")
OUTCOMES = ("supported", "refuted", "inconclusive", "errored", "incomplete")


def criterion_outcome(test: dict) -> str:
    """A test's outcome as a criterion: its recorded verdict, else what pass/fail says."""
    if test["outcome"] == "error":
        return "errored"
    if test["verdicts"]:
        outcomes = {v["outcome"] for v in test["verdicts"]}
        for outcome in ("refuted", "inconclusive"):
            if outcome in outcomes:
                return outcome
        return "supported" if test["outcome"] == "passed" else "errored"
    return {"passed": "supported", "failed": "refuted"}.get(test["outcome"], "inconclusive")


def claim_verdict(tests: list[dict]) -> tuple[str, str]:
    """(verdict, reason) of one claim from its tests."""
    criteria = [t for t in tests if not t["controls"] and t["outcome"] != "skipped"]
    controls = [c for t in tests for c in t["controls"]]
    outcomes = [criterion_outcome(t) for t in criteria]
    failed_controls = [c for c in controls if c["outcome"] == "supported"]
    if "errored" in outcomes or any(t["outcome"] == "error" for t in tests if t["controls"]):
        return "errored", "a test of this claim raised an error (see its message)"
    if not criteria:
        return "inconclusive", "no criterion of this claim ran"
    if "refuted" in outcomes:
        return "refuted", f"{outcomes.count('refuted')} of {len(outcomes)} criteria refuted"
    if failed_controls:
        return "inconclusive", "a negative control came out supported: the test does not discriminate"
    if "inconclusive" in outcomes:
        return "inconclusive", f"{outcomes.count('inconclusive')} of {len(outcomes)} criteria inconclusive"
    controls_note = f"; {len(controls)} negative control(s) not supported, as required" if controls else ""
    return "supported", f"all {len(outcomes)} criteria supported{controls_note}"


def over_settings(per_setting: dict[str, tuple[str, str]], controls_failed: list[str]) -> tuple[str, str]:
    """(verdict, reason) of a claim over settings, from its verdict in each and the settings where
    a negative control came out supported (decided once over all settings)."""
    outcomes = [verdict for verdict, _ in per_setting.values()]
    n = len(outcomes)
    tally = ", ".join(f"{outcomes.count(o)} {o}" for o in OUTCOMES if o in outcomes)
    if "errored" in outcomes:
        return "errored", f"errored in {outcomes.count('errored')} of {n} settings ({tally})"
    if outcomes.count("refuted") * 2 > n:
        return "refuted", f"refuted in {outcomes.count('refuted')} of {n} settings ({tally})"
    if controls_failed:
        return "inconclusive", (f"a negative control came out supported (in {', '.join(controls_failed)}): "
                                "the test does not discriminate")
    if outcomes.count("supported") == n:
        return "supported", f"supported in all {n} settings"
    return "inconclusive", f"{tally} of {n} settings; supported needs all {n}, refuted more than {n // 2}"


def _decide_claim(tests: list[dict]) -> tuple[str, str, list[dict]]:
    """(verdict, reason, per-setting verdicts) of one claim. Tests outside any setting (those that
    use no zoo model) count in every setting."""
    labels = list(dict.fromkeys(t["setting"] for t in tests if t.get("setting")))
    if not labels:
        return (*claim_verdict(tests), [])
    shared = [t for t in tests if not t.get("setting")]
    per = {label: claim_verdict([*shared, *(t for t in tests if t.get("setting") == label)]) for label in labels}
    failed = [t["setting"] for t in tests if t.get("setting") and any(c["outcome"] == "supported" for c in t["controls"])]
    rows = [{"label": label, "verdict": v, "reason": r} for label, (v, r) in per.items()]
    return (*over_settings(per, failed), rows)


def holds(record: dict, low: float, high: float) -> bool:
    """Whether the interval [low, high] lies on the claimed side of a verdict record's bound."""
    if record["direction"] == "inside":
        return -record["bound"] < low and high < record["bound"]
    return low > record["bound"] if record["direction"] == "above" else high < record["bound"]


def regime_checks(tests: list[dict]) -> list[dict]:
    """The paper's regime as the run checked it (``repcore.regime``): every precondition the claims
    decided, once per statistic and setting, with its seed-level outcome and, per seed, its value,
    sample interval and whether that seed meets the bound on its own."""
    checks: dict[tuple, dict] = {}
    for test in tests:
        for verdict in test["verdicts"]:
            for pre in verdict.get("preconditions", ()):
                key = (test.get("setting") or "", pre["statistic"])
                if key in checks:
                    continue
                seeds = [{**p, "holds": holds(pre, p["ci_low"], p["ci_high"])} for p in pre["per_seed"]]
                checks[key] = {"setting": key[0], "statistic": pre["statistic"], "bound": pre["bound"],
                               "direction": pre["direction"], "value": pre["value"], "ci_low": pre["ci_low"],
                               "ci_high": pre["ci_high"], "outcome": pre["outcome"], "per_seed": seeds,
                               "missed_by": [p["seed"] for p in seeds if not p["holds"]]}
    return sorted(checks.values(), key=lambda c: (c["setting"], c["statistic"]))


def _model_key(model: str, test: dict) -> str:
    return f"{model}@{test['setting']}" if test.get("setting") and "@" not in model else model


def build_document(tests: list[dict], header: dict, collected: dict[str, int] | None = None,
                   previous: dict | None = None) -> dict:
    """The report document from per-test records (see ``schema.json``), claims in CLAIMS.md order
    and each claim's tests by node id, whatever order the tests finished in. ``collected`` counts
    each claim's selected tests (default: those recorded); a claim with fewer finished is incomplete.
    ``previous`` (an earlier claims report) gives each claim its previous verdict."""
    tests = sorted(tests, key=lambda t: t["nodeid"])
    collected = collected or {}
    before = {c["id"]: c["verdict"] for c in (previous or {}).get("claims", [])}
    claims = []
    for claim_id, statement in CLAIMS.items():
        mine = [t for t in tests if t["claim"] == claim_id]
        ran = sum(t.get("finished", True) for t in mine)
        expected = max(collected.get(claim_id, 0), len(mine))
        if not expected:
            continue
        verdict, reason, settings = _decide_claim(mine) if mine else ("inconclusive", "no test ran", [])
        if ran < expected:
            verdict, reason = "incomplete", (f"incomplete: {ran} of {expected} tests ran; the verdict needs "
                                             f"all of them (those that ran say {verdict}: {reason})")
        evidence: dict[str, dict] = {}
        for t in mine:
            for row in t["evidence"]:
                evidence.setdefault(_model_key(row["model"], t), {}).update(row["metrics"])
        claims.append({
            "id": claim_id, "statement": statement, "verdict": verdict, "reason": reason,
            "tests": mine, "evidence": evidence, "settings": settings,
            "figures": [f for t in mine for f in t["figures"]],
            "tests_collected": expected, "tests_ran": ran, "previous_verdict": before.get(claim_id),
        })
    counts = {o: sum(c["verdict"] == o for c in claims) for o in OUTCOMES}
    models: dict[str, dict] = {}
    for claim in claims:
        for model, metrics in claim["evidence"].items():
            models.setdefault(model, {}).update(metrics)
    complete = not (header.get("interrupted") or header.get("partial") or counts["incomplete"])
    previous_report = None if previous is None else {
        k: previous.get(k) for k in ("path", "git_revision", "finished", "profile")}
    return {"schema_version": SCHEMA_VERSION, **header, "complete": complete, "counts": counts,
            "claims": claims, "models": models, "regime": regime_checks(tests), "previous_report": previous_report}


def write_document(document: dict, path: Path) -> None:
    """``claims.json`` (or wherever ``path`` says), written atomically."""
    atomic_write(path, json.dumps(document, indent=2, sort_keys=False).encode())

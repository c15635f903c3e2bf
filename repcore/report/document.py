"""The claims document (``claims.json``): what ran, per claim, with verdicts, controls, evidence.

Schema: ``schema.json`` beside this file (``SCHEMA_VERSION``). Within one replicate a claim's
verdict aggregates its criteria: errored if any test errored; refuted if any criterion is refuted;
inconclusive if any is inconclusive or a negative control came out supported (the test did not
discriminate); else supported. A replicated run (settings x seeds) decides the claim in each
replicate, then over replicates: supported only if supported in every one, refuted if refuted in
more than half, errored if any errored, else inconclusive (the effect depends on seed or setting).
"""

import json
import math
from pathlib import Path

from repcore.report.claims import CLAIMS
from repcore.stats import mean_t_interval

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("schema.json")
OUTCOMES = ("supported", "refuted", "inconclusive", "errored")


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


def replicated_verdict(per_replicate: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """(verdict, reason) of a claim over replicates, from its verdict in each."""
    outcomes = [verdict for verdict, _ in per_replicate.values()]
    n = len(outcomes)
    tally = ", ".join(f"{outcomes.count(o)} {o}" for o in OUTCOMES if o in outcomes)
    if "errored" in outcomes:
        return "errored", f"errored in {outcomes.count('errored')} of {n} replicates ({tally})"
    if outcomes.count("supported") == n:
        return "supported", f"supported in all {n} replicates"
    if outcomes.count("refuted") * 2 > n:
        return "refuted", f"refuted in {outcomes.count('refuted')} of {n} replicates ({tally})"
    return "inconclusive", (f"{tally} of {n} replicates; supported needs all {n}, "
                            f"refuted more than {n // 2}")


def _decide_claim(tests: list[dict]) -> tuple[str, str, list[dict]]:
    """(verdict, reason, per-replicate verdicts) of one claim. Tests outside any replicate (those
    that use no zoo model) count in every replicate."""
    labels = list(dict.fromkeys(t["replicate"] for t in tests if t.get("replicate")))
    if not labels:
        return (*claim_verdict(tests), [])
    shared = [t for t in tests if not t.get("replicate")]
    per = {label: claim_verdict([*shared, *(t for t in tests if t.get("replicate") == label)])
           for label in labels}
    rows = [{"label": label, "verdict": v, "reason": r} for label, (v, r) in per.items()]
    return (*replicated_verdict(per), rows)


def _criterion_id(test: dict) -> str:
    """A test's node id without its replicate parameter (the same criterion in every replicate)."""
    label = test["replicate"]
    return test["nodeid"].replace(f"[{label}]", "").replace(f"[{label}-", "[")


def across_replicates(tests: list[dict]) -> list[dict]:
    """Each criterion's statistic over replicates: the per-replicate values, their mean with a 95%
    t-interval over replicates, and how many replicates supported it (evidence; the verdict rule
    is ``replicated_verdict``). Criteria first, then negative controls."""
    rows: dict[tuple[str, int], dict] = {}
    for t in tests:
        if not t.get("replicate"):
            continue
        for i, v in enumerate(t["verdicts"] + t["controls"]):
            row = rows.setdefault((_criterion_id(t), i), {
                "criterion": _criterion_id(t).split("::")[-1], "statistic": v["statistic"],
                "control": bool(t["controls"]), "values": {}, "supported": 0})
            row["values"][t["replicate"]] = v["value"]
            row["supported"] += v["outcome"] == "supported"
    for row in rows.values():
        finite = [x for x in row["values"].values() if math.isfinite(x)]
        row["mean"], row["ci_low"], row["ci_high"] = (
            mean_t_interval(finite) if len(finite) >= 2 else (None, None, None))
    return sorted(rows.values(), key=lambda row: row["control"])


def _model_key(model: str, test: dict) -> str:
    return f"{model}@{test['replicate']}" if test.get("replicate") else model


def build_document(tests: list[dict], header: dict) -> dict:
    """The report document from per-test records (see ``schema.json``), claims in CLAIMS.md order
    and each claim's tests by node id, whatever order the tests finished in."""
    tests = sorted(tests, key=lambda t: t["nodeid"])
    claims = []
    for claim_id, statement in CLAIMS.items():
        mine = [t for t in tests if t["claim"] == claim_id]
        if not mine:
            continue
        verdict, reason, replicates = _decide_claim(mine)
        evidence: dict[str, dict] = {}
        for t in mine:
            for row in t["evidence"]:
                evidence.setdefault(_model_key(row["model"], t), {}).update(row["metrics"])
        claims.append({
            "id": claim_id, "statement": statement, "verdict": verdict, "reason": reason,
            "tests": mine, "evidence": evidence, "replicates": replicates,
            "across_replicates": across_replicates(mine) if replicates else [],
            "figures": [f for t in mine for f in t["figures"]],
        })
    counts = {o: sum(c["verdict"] == o for c in claims) for o in OUTCOMES}
    models: dict[str, dict] = {}
    for claim in claims:
        for model, metrics in claim["evidence"].items():
            models.setdefault(model, {}).update(metrics)
    return {"schema_version": SCHEMA_VERSION, **header, "counts": counts, "claims": claims,
            "models": models}


def write_document(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False))

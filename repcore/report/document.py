"""The claims document (``claims.json``): what ran, per claim, with verdicts, controls, evidence.

Schema: ``schema.json`` beside this file (``SCHEMA_VERSION``). Every criterion is already decided
over the training seeds of its setting (seed-level intervals, ``repcore.criteria``). Within one
setting a claim's refutations are first corrected for its number of criteria (Holm,
``repcore.multiplicity``: a criterion refuted alone but not at its Holm level is inconclusive); then
the claim's verdict aggregates its criteria: errored if any test errored; refuted if any criterion
is refuted; inconclusive if any is inconclusive or a negative control came out supported (the test
did not discriminate); else supported (every criterion: no correction needed). A profile with
several settings (dataset x architecture) decides the claim in each setting, then over settings:
supported only if supported in every one, refuted if refuted in more than half, errored if any
errored, else inconclusive (the effect depends on the setting). A negative control is decided once
over all settings: it counts as supported if it came out supported in any (each at level 1 - 0.05 /
settings). A claim of which fewer tests finished than were selected (an interrupted run) is
incomplete, whatever its finished tests say: "incomplete: k of n tests ran". A test skipped because
the models under test lack a role it compares (a checkpoint manifest) leaves the verdict, and the
reason counts it with the roles it needs ("supported on 5 of 9 criteria; 4 criteria not run (need
cutmix, mixup)").
"""

import json
import math
import re
from pathlib import Path

from repcore.criteria import Outcome, outcome_of
from repcore.files import atomic_write
from repcore.multiplicity import correct_refutations
from repcore.power import distance_to_decision
from repcore.report.claims import CLAIMS
from repcore.report.population import paper_conditions, populations
from repcore.spec import claim_rows

SCHEMA_VERSION = 6
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


def is_control(test: dict) -> bool:
    """Whether a test is a negative control (by what it recorded, or by name when it did not run)."""
    return bool(test["controls"]) or "::test_control_" in test["nodeid"]


def is_basics(test: dict) -> bool:
    """Whether a test records the models' basics only (``test_basics_...``): evidence, no criterion."""
    return "::test_basics_" in test["nodeid"]


def not_run(tests: list[dict]) -> dict | None:
    """The tests of a claim that did not run because the models under test lack roles they
    compare: how many criteria and controls, and the roles they need."""
    skipped = [t for t in tests if t["outcome"] == "skipped"]
    if not skipped:
        return None
    needs = sorted({role for t in skipped for role in t.get("needs", ())})
    controls = sum(is_control(t) for t in skipped)
    return {"criteria": len(skipped) - controls, "controls": controls, "needs": needs,
            "tests": [t["nodeid"].split("::")[-1] for t in skipped],
            "messages": sorted({t["message"] for t in skipped if not t.get("needs")})}


def not_run_note(missing: dict | None) -> str:
    """``missing`` (``not_run``) in a few words: "; 4 criteria not run (need cutmix, mixup)"."""
    if not missing:
        return ""
    parts = [f"{missing['criteria']} criteria" if missing["criteria"] else "",
             f"{missing['controls']} control(s)" if missing["controls"] else ""]
    needs = f"need {', '.join(missing['needs'])}" if missing["needs"] else "skipped"
    return f"; {' and '.join(p for p in parts if p)} not run ({needs})"


def claim_verdict(tests: list[dict]) -> tuple[str, str]:
    """(verdict, reason) of one claim from its tests; the reason counts the criteria that ran and
    names the roles the others need."""
    tests = [t for t in tests if not is_basics(t)]
    criteria = [t for t in tests if not is_control(t) and t["outcome"] != "skipped"]
    controls = [c for t in tests for c in t["controls"]]
    outcomes = [criterion_outcome(t) for t in criteria]
    failed_controls = [c for c in controls if c["outcome"] == "supported"]
    missing = not_run(tests)
    skipped = not_run_note(missing)
    total = len(outcomes) + (missing["criteria"] if missing else 0)
    of = f"{len(outcomes)} of {total}" if total > len(outcomes) else f"all {len(outcomes)}"
    if "errored" in outcomes or any(t["outcome"] == "error" for t in tests if is_control(t)):
        return "errored", "a test of this claim raised an error (see its message)"
    if not criteria:
        return "inconclusive", "no criterion of this claim ran" + skipped
    if "refuted" in outcomes:
        return "refuted", f"{outcomes.count('refuted')} of {len(outcomes)} criteria refuted{skipped}"
    if failed_controls:
        return "inconclusive", "a negative control came out supported: the test does not discriminate" + skipped
    if "inconclusive" in outcomes:
        unmet = sorted({v["reason"] for t in criteria for v in t["verdicts"]
                        if v["outcome"] == "inconclusive" and v["reason"].startswith("precondition unmet")})
        why = f" ({'; '.join(unmet)})" if unmet else ""
        counted = f"{outcomes.count('inconclusive')} of {len(outcomes)} criteria inconclusive"
        return "inconclusive", f"{counted}{why}{skipped}"
    controls_note = f"; {len(controls)} negative control(s) not supported, as required" if controls else ""
    return "supported", f"supported on {of} criteria{controls_note}{skipped}"


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
    failed = [t["setting"] for t in tests
              if t.get("setting") and any(c["outcome"] == "supported" for c in t["controls"])]
    rows = [{"label": label, "verdict": v, "reason": r} for label, (v, r) in per.items()]
    return (*over_settings(per, failed), rows)


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
                seeds = [{**p, "holds": outcome_of(p["ci_low"], p["ci_high"], pre["bound"], pre["direction"])[0]
                          is Outcome.SUPPORTED} for p in pre["per_seed"]]
                checks[key] = {"setting": key[0], "statistic": pre["statistic"], "bound": pre["bound"],
                               "direction": pre["direction"], "value": pre["value"], "ci_low": pre["ci_low"],
                               "ci_high": pre["ci_high"], "outcome": pre["outcome"], "per_seed": seeds,
                               "missed_by": [p["seed"] for p in seeds if not p["holds"]]}
    return sorted(checks.values(), key=lambda c: (c["setting"], c["statistic"]))


OVERVIEW = {"accuracy": "accuracy", "train_accuracy": "training accuracy", "mean_conf": "confidence",
            "ece_pct": "ECE %", "nll": "NLL", "brier": "Brier", "signed_gap": "conf − acc", "T_star": "T*",
            "rms": "feature RMS", "mean_cos": "cos(v, v_opt)"}  # then each attack's success and robust accuracy


def overview_columns(metrics: set[str]) -> dict[str, str]:
    """The "your models" table's columns: ``OVERVIEW``'s, then each white-box attack's success
    rate (``asr_<attack>``) and robust accuracy (``robust_<attack>``), in readable names."""
    attacks = sorted(m[4:] for m in metrics if m.startswith("asr_") and not m.endswith("_transfer"))
    per_attack = {}
    for attack in attacks:
        per_attack[f"asr_{attack}"] = f"{attack} success"
        if f"robust_{attack}" in metrics:
            per_attack[f"robust_{attack}"] = f"{attack} robust acc"
    return {**OVERVIEW, **per_attack}


def overview(models: dict[str, dict], roles: list[str] = ()) -> dict:
    """Per setting and role, each overview metric over the seeds: mean, lowest, highest, seeds;
    ``roles`` first in their order (hard, then the compared regularizers). Roles without an
    accuracy (the sweep, the 2-D figures' models) are left out."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for name, metrics in models.items():
        role, _, label = name.partition("@")
        groups.setdefault((re.sub(r"-s\d+(@|$)", r"\1", label), role), []).append(metrics)
    columns = overview_columns({m for metrics in models.values() for m in metrics})
    rows = []
    for (setting, role), runs in groups.items():
        if not any("accuracy" in r for r in runs):
            continue
        cells = {}
        for metric in columns:
            values = [r[metric] for r in runs if isinstance(r.get(metric), (int, float)) and math.isfinite(r[metric])]
            if values:
                cells[metric] = {"mean": sum(values) / len(values), "low": min(values), "high": max(values),
                                 "seeds": len(values)}
                bounds = [r.get(f"{metric}_{end}") for r in runs for end in ("low", "high")]
                if len(values) == 1 and len(bounds) == 2 and all(isinstance(b, float) for b in bounds):
                    cells[metric]["interval"] = bounds
        rows.append({"role": role, "setting": setting, "cells": cells})
    order = ["hard", *roles]
    rows.sort(key=lambda r: (r["setting"], order.index(r["role"]) if r["role"] in order else len(order)))
    used = [m for m in columns if any(m in r["cells"] for r in rows)]
    return {"columns": {m: columns[m] for m in used}, "rows": rows}


def deciding(claim_tests: list[dict], verdict: str) -> dict | None:
    """The criterion that decides a claim's verdict: the first criterion with the claim's outcome
    (refuted, inconclusive), or, for a supported claim, the least decisive one (the smallest distance
    from its bound in half-widths of its interval); None where no criterion recorded a statistic."""
    verdicts = [v for t in claim_tests if not is_control(t) for v in t["verdicts"]]
    same = [v for v in verdicts if v["outcome"] == verdict]
    if not same:
        return verdicts[0] if verdicts else None
    if verdict != "supported":
        return same[0]

    def decisiveness(v: dict) -> float:
        half = (v["ci_high"] - v["ci_low"]) / 2
        return distance_to_decision(v["value"], v["bound"], v["direction"]) / half if half > 0 else math.inf

    return min(same, key=decisiveness)


def forest_panels(claim: dict) -> dict[str, list[dict]]:
    """A claim's criteria decided over two or more seeds, grouped by statistic (the label in
    parentheses, "ls vs hard", names the row): what its forest plot shows."""
    panels: dict[str, list[dict]] = {}
    for test in claim["tests"]:
        if is_control(test):
            continue
        for v in test["verdicts"]:
            if len(v["per_seed"]) < 2 or not all(map(math.isfinite, (v["value"], v["ci_low"], v["ci_high"]))):
                continue
            statistic, _, label = v["statistic"].rpartition(" (")
            if not statistic or not label.endswith(")"):
                statistic, label = v["statistic"], ")"
            if test.get("setting"):
                label = f"{label[:-1]} [{test['setting']}])"
            panels.setdefault(statistic, []).append({
                "label": label[:-1] or "all", "value": v["value"], "low": v["ci_low"], "high": v["ci_high"],
                "bound": v["bound"], "direction": v["direction"], "outcome": v["outcome"],
                "seeds": [p["value"] for p in v["per_seed"]]})
    return panels


def bound_origin(verdict: dict) -> str:
    """Where a criterion's bound comes from, in a line: its tolerance's measurement (without the
    measured values, which the claim's section lists), or the claim's specification."""
    claim = verdict.get("claim", "")
    return verdict.get("bound_evidence", "").split(": ")[0] or f"the claim's (repcore explain {claim})"


def holm_corrected(tests: list[dict]) -> list[dict]:
    """The tests with each claim's refutations corrected over its criteria in each setting
    (``repcore.multiplicity``); controls keep their own correction."""
    groups: dict[tuple, list[tuple[int, int]]] = {}
    for i, test in enumerate(tests):
        if not is_control(test):
            for j, _ in enumerate(test["verdicts"]):
                groups.setdefault((test["claim"], test.get("setting")), []).append((i, j))
    tests = [{**t, "verdicts": list(t["verdicts"])} for t in tests]
    for places in groups.values():
        for (i, j), verdict in zip(places, correct_refutations([tests[i]["verdicts"][j] for i, j in places]),
                                   strict=True):
            tests[i]["verdicts"][j] = verdict
    return tests


def seeds_used(tests: list[dict]) -> int:
    """The most seeds any criterion of a claim was decided on (its last look's)."""
    return max((len(v["per_seed"]) for t in tests for v in t["verdicts"]), default=0)


def _model_key(model: str, test: dict) -> str:
    return f"{model}@{test['setting']}" if test.get("setting") and "@" not in model else model


def build_document(tests: list[dict], header: dict, collected: dict[str, int] | None = None,
                   previous: dict | None = None) -> dict:
    """The report document from per-test records (see ``schema.json``), claims in CLAIMS.md order
    and each claim's tests by node id, whatever order the tests finished in. ``collected`` counts
    each claim's selected tests (default: those recorded); a claim with fewer finished is incomplete.
    ``previous`` (an earlier claims report) gives each claim its previous verdict."""
    tests = holm_corrected(sorted(tests, key=lambda t: t["nodeid"]))
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
        decider = deciding(mine, verdict)
        claims.append({
            "id": claim_id, "statement": statement, "spec": claim_rows().get(claim_id), "verdict": verdict,
            "reason": reason,
            "deciding": decider and {**decider, "bound_origin": bound_origin(decider)},
            "not_run": not_run(mine),
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
    table = overview(models, header.get("roles", []))
    about = populations(header, table)
    for claim in claims:
        claim["population"] = " | ".join(p["text"] for p in about)
        claim["seeds_used"] = seeds_used(claim["tests"])
    previous_report = None if previous is None else {
        k: previous.get(k) for k in ("path", "git_revision", "finished", "profile")}
    return {"schema_version": SCHEMA_VERSION, **header, "complete": complete, "counts": counts,
            "claims": claims, "models": models, "overview": table, "populations": about,
            "paper_conditions": paper_conditions(about, regime_checks(tests)), "regime": regime_checks(tests),
            "previous_report": previous_report}


def write_document(document: dict, path: Path) -> None:
    """``claims.json`` (or wherever ``path`` says), written atomically."""
    atomic_write(path, json.dumps(document, indent=2, sort_keys=False).encode())

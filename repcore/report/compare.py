"""Comparing claims reports: the verdict changes from one run to the next, and why a run does not
count as verdicts."""

import json
import math
import statistics
from pathlib import Path

REGRESSION_POLICIES = ("supported-to-refuted", "any-change", "never")


def _criteria(claim: dict) -> dict[tuple[str, str], str]:
    """{(setting, statistic): outcome} of a claim's verdicts and controls."""
    return {(t.get("setting") or "", v["statistic"]): v["outcome"]
            for t in claim["tests"] for v in t["verdicts"] + t["controls"]}


def diff(a: dict, b: dict) -> list[str]:
    """One line per claim or criterion whose verdict differs (or that ran in only one report)."""
    lines = []
    claims_a = {c["id"]: c for c in a["claims"]}
    claims_b = {c["id"]: c for c in b["claims"]}
    for cid in [*claims_a, *[c for c in claims_b if c not in claims_a]]:
        ca, cb = claims_a.get(cid), claims_b.get(cid)
        if ca is None or cb is None:
            lines.append(f"{cid}: {'only in B' if ca is None else 'only in A'} "
                         f"({(cb or ca)['verdict']})")
            continue
        if ca["verdict"] != cb["verdict"]:
            lines.append(f"{cid}: {ca['verdict']} -> {cb['verdict']}")
        stats_a, stats_b = _criteria(ca), _criteria(cb)
        for setting, statistic in sorted(set(stats_a) & set(stats_b)):
            a_out, b_out = stats_a[setting, statistic], stats_b[setting, statistic]
            if a_out != b_out:
                where = f" [{setting}]" if setting else ""
                lines.append(f"  {cid} {statistic}{where}: {a_out} -> {b_out}")
    return lines


def verdict_table(documents: list[dict], labels: list[str]) -> list[str]:
    """The claims' verdicts of several reports side by side (one column per report, ``labels`` its
    heading), with whether all agree."""
    verdicts = [{c["id"]: c["verdict"] for c in d["claims"]} for d in documents]
    ids = list(dict.fromkeys(cid for v in verdicts for cid in v))
    width = max(13, *map(len, labels))
    lines = [f"{'claim':<6}" + "".join(f"{label:<{width + 2}}" for label in labels) + "same"]
    for cid in ids:
        row = [v.get(cid, "-") for v in verdicts]
        lines.append(f"{cid:<6}" + "".join(f"{o:<{width + 2}}" for o in row) + ("yes" if len(set(row)) == 1 else "NO"))
    agree = sum(len({v.get(cid, "-") for v in verdicts}) == 1 for cid in ids)
    lines.append(f"the reports agree on {agree} of {len(ids)} claims")
    return lines


def comparison_widths(a: dict, b: dict) -> list[str]:
    """Half-widths of the comparison criteria (a model against the hard baseline: statistics
    labelled "vs hard", controls left out) in report A and in report B, their ratio, and the median."""
    def widths(document: dict) -> dict[str, float]:
        return {f"{c['id']} {v['statistic']}": (v["ci_high"] - v["ci_low"]) / 2 for c in document["claims"]
                for t in c["tests"] for v in t["verdicts"]
                if "vs hard" in v["statistic"] and all(isinstance(v.get(k), (int, float)) for k in ("ci_low",
                                                                                                    "ci_high"))}

    wa, wb = widths(a), widths(b)
    shared = [name for name in wa if name in wb and wa[name] > 0]
    lines = [f"{'criterion':<72}{'A':>10}{'B':>10}{'B / A':>8}"]
    ratios = []
    for name in shared:
        ratios.append(wb[name] / wa[name])
        lines.append(f"{name[:71]:<72}{wa[name]:>10.4f}{wb[name]:>10.4f}{ratios[-1]:>8.2f}")
    lines.append(f"median ratio B / A over {len(ratios)} comparison criteria: {statistics.median(ratios):.2f}"
                 if ratios else "no comparison criterion in both reports")
    return lines


def problems(document: dict) -> list[str]:
    """Why a run does not count as verdicts: no claim, a partial report, supported negative
    controls, errored or incomplete claims."""
    found = []
    if not document["claims"]:
        found.append("the report holds no claim: nothing was decided")
    if document.get("complete") is False or document.get("interrupted") or document.get("partial"):
        found.append("a partial report (interrupted, stopped early or a selection): not every claim's tests ran")
    for claim in document["claims"]:
        for test in claim["tests"]:
            for control in test["controls"]:
                if control["outcome"] == "supported":
                    found.append(f"{claim['id']}: negative control came out supported, the test does not "
                                 f"discriminate: {test['nodeid']} ({control['statistic']})")
        if claim["verdict"] in ("errored", "incomplete"):
            found.append(f"{claim['id']}: {claim['verdict']}: {claim['reason']}")
    return found


HEADER = ("profile", "finished", "git_revision")  # what the readers (diff, check, the nightly) read of it
ROW = ("statistic", "outcome")
NUMBERS = ("value", "ci_low", "ci_high", "bound")  # a row's numbers, where it has them (NaN: unmeasured)


def _is_number(x) -> bool:
    """A JSON number the readers can compute with: finite, or NaN (an unmeasured statistic)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    try:
        value = float(x)
    except OverflowError:
        return False
    return math.isfinite(value) or math.isnan(value)


def _seeds_error(seeds) -> str | None:
    if not isinstance(seeds, dict) or not all(isinstance(seeds.get(k, []), list) for k in ("training", "replicates")):
        return "seeds that are not a table of lists (training, replicates)"
    if not all(isinstance(s, int) and not isinstance(s, bool) for k in ("training", "replicates")
               for s in seeds.get(k, [])):
        return "seeds that are not whole numbers"
    return None


def _row_error(row, where: str) -> str | None:
    if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ROW):
        return f"{where} has a verdict without a statistic and an outcome"
    bad = [k for k in NUMBERS if k in row and not _is_number(row[k])]
    return f"{where} has a verdict whose {', '.join(bad)} is not a number" if bad else None


def _shape_error(document) -> str | None:
    """What keeps ``document`` from being a claims report the readers (``diff``, ``check``,
    ``table``, ``widths``, ``--previous-report``, the nightly) can read, if anything: one check
    of every field they read."""
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        return "no list of claims"
    if not isinstance(document.get("counts"), dict) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in document["counts"].values()):
        return "no counts"
    if "seeds" in document and _seeds_error(document["seeds"]):
        return _seeds_error(document["seeds"])
    for claim in document["claims"]:
        if not isinstance(claim, dict) or not all(isinstance(claim.get(k), str) for k in ("id", "verdict", "reason")):
            return "a claim without id, verdict and reason"
        if not isinstance(claim.get("tests"), list):
            return f"claim {claim['id']} has no list of tests"
        for test in claim["tests"]:
            if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str):
                return f"claim {claim['id']} has a test without a nodeid"
            where = f"claim {claim['id']}: test {test['nodeid']}"
            lists = [test.get("verdicts"), test.get("controls")]
            if not all(isinstance(rows, list) for rows in lists):
                return f"{where} lacks its verdicts or controls"
            if not isinstance(test.get("setting"), str | None):
                return f"{where} has a setting that is not a name"
            errors = [_row_error(row, where) for rows in lists for row in rows]
            if any(errors):
                return next(e for e in errors if e)
    missing = [key for key in HEADER if not isinstance(document.get(key), str)]
    return f"no {', '.join(missing)} in its header" if missing else None


def read_report(path: Path) -> dict:
    """The claims report at ``path``; ``ValueError`` (or ``OSError``) saying why it is not one."""
    try:
        document = json.loads(path.read_text())
    except RecursionError:
        raise ValueError("not a claims report (nested too deeply to read)") from None
    problem = _shape_error(document)
    if problem:
        raise ValueError(f"not a claims report ({problem})")
    return document


def regressions(previous: dict, current: dict, policy: str = "supported-to-refuted") -> list[str]:
    """The claim verdict changes from ``previous`` to ``current`` that ``policy`` counts as a failure:
    a supported claim now refuted (the default), any change of a claim's verdict, or none."""
    if policy not in REGRESSION_POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(REGRESSION_POLICIES)}")
    before = {c["id"]: c["verdict"] for c in previous["claims"]}
    changed = [(c["id"], before[c["id"]], c["verdict"]) for c in current["claims"]
               if c["id"] in before and before[c["id"]] != c["verdict"]]
    if policy == "supported-to-refuted":
        changed = [change for change in changed if change[1:] == ("supported", "refuted")]
    elif policy == "never":
        changed = []
    return [f"{cid}: {old} -> {new}" for cid, old, new in changed]

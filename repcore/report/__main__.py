"""``python -m repcore.report diff A.json B.json``: the verdict changes between two claims reports.
``python -m repcore.report check claims.json``: whether a finished run discriminates (exit 0), or
not (exit 1: a negative control came out supported, or a claim errored or is incomplete; exit 2: no
readable report).
Refuted and inconclusive claims are results, not failures."""

import argparse
import json
import sys
from pathlib import Path


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


def problems(document: dict) -> list[str]:
    """Why a run does not count as verdicts: supported negative controls, errored or incomplete claims."""
    found = []
    for claim in document["claims"]:
        for test in claim["tests"]:
            for control in test["controls"]:
                if control["outcome"] == "supported":
                    found.append(f"{claim['id']}: negative control came out supported, the test does not "
                                 f"discriminate: {test['nodeid']} ({control['statistic']})")
        if claim["verdict"] in ("errored", "incomplete"):
            found.append(f"{claim['id']}: {claim['verdict']}: {claim['reason']}")
    return found


def _shape_error(document) -> str | None:
    """What keeps ``document`` from being a claims report ``diff`` and ``check`` can read, if anything."""
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        return "no list of claims"
    if not isinstance(document.get("counts"), dict):
        return "no counts"
    for claim in document["claims"]:
        if not isinstance(claim, dict) or not all(isinstance(claim.get(k), str) for k in ("id", "verdict", "reason")):
            return "a claim without id, verdict and reason"
        if not isinstance(claim.get("tests"), list):
            return f"claim {claim['id']} has no list of tests"
        for test in claim["tests"]:
            rows = [*test.get("verdicts", ()), *test.get("controls", ())] if isinstance(test, dict) else None
            if rows is None or not all(isinstance(r, dict) and "statistic" in r and "outcome" in r for r in rows):
                return f"claim {claim['id']} has a test without verdicts and controls (statistic, outcome)"
    return None


def _read(path: Path) -> dict:
    document = json.loads(path.read_text())
    problem = _shape_error(document)
    if problem:
        raise ValueError(f"not a claims report ({problem})")
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repcore.report", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diff", help="list verdict changes from report A to report B")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    c = sub.add_parser("check", help="exit 1 if a negative control came out supported or a claim errored")
    c.add_argument("report", type=Path)
    for command in (d, c):
        command.add_argument("--debug", action="store_true", help="raise errors with their traceback")
    args = parser.parse_args(argv)
    docs = []
    for path in (args.report,) if args.command == "check" else (args.a, args.b):
        try:
            docs.append(_read(path))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            if args.debug:
                raise
            print(f"error: cannot read claims report {path}: {err}", file=sys.stderr)
            return 2
    if args.command == "check":
        found = problems(docs[0])
        for line in found:
            print(f"error: {line}", file=sys.stderr)
        counts = ", ".join(f"{n} {o}" for o, n in docs[0]["counts"].items() if n)
        print(f"{args.report}: {'does not discriminate' if found else 'verdicts'} ({counts})")
        return 1 if found else 0
    lines = diff(*docs)
    print("\n".join(lines) if lines else "no verdict changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m repcore.report diff A.json B.json``: the verdict changes between two claims reports."""

import argparse
import json
import sys
from pathlib import Path


def _criteria(claim: dict) -> dict[tuple[str, str], str]:
    """{(replicate, statistic): outcome} of a claim's verdicts and controls."""
    return {(t.get("replicate") or "", v["statistic"]): v["outcome"]
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
        for replicate, statistic in sorted(set(stats_a) & set(stats_b)):
            a_out, b_out = stats_a[replicate, statistic], stats_b[replicate, statistic]
            if a_out != b_out:
                where = f" [{replicate}]" if replicate else ""
                lines.append(f"  {cid} {statistic}{where}: {a_out} -> {b_out}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repcore.report", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diff", help="list verdict changes from report A to report B")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    docs = []
    for path in (args.a, args.b):
        try:
            docs.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: cannot read claims report {path}: {err}", file=sys.stderr)
            return 2
    lines = diff(*docs)
    print("\n".join(lines) if lines else "no verdict changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

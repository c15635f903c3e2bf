"""``python -m repcore.report diff A.json B.json``: the verdict changes between two claims reports.
``python -m repcore.report check claims.json``: whether a finished run discriminates (exit 0), or
not (exit 1: a negative control came out supported, or a claim errored or is incomplete; exit 2: no
readable report).
``python -m repcore.report table A.json B.json ...``: the verdicts of several reports side by side
(e.g. three disjoint seed sets). ``python -m repcore.report widths A.json B.json``: the half-widths
of the comparison criteria's intervals in A and in B.
Refuted and inconclusive claims are results, not failures."""

import sys
from pathlib import Path

from repcore.report.compare import comparison_widths, diff, problems, read_report, verdict_table
from repcore.parsing import Parser


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m repcore.report", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diff", help="list verdict changes from report A to report B")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    c = sub.add_parser("check", help="exit 1 if a negative control came out supported or a claim errored")
    c.add_argument("report", type=Path)
    t = sub.add_parser("table", help="the verdicts of several reports side by side")
    t.add_argument("reports", type=Path, nargs="+")
    w = sub.add_parser("widths", help="half-widths of the comparison criteria in report A and report B")
    w.add_argument("a", type=Path)
    w.add_argument("b", type=Path)
    for command in (d, c, t, w):
        command.add_argument("--debug", action="store_true", help="raise errors with their traceback")
    args = parser.parse_args(argv)
    docs = []
    paths = {"check": lambda: [args.report], "table": lambda: args.reports}.get(args.command, lambda: [args.a,
                                                                                                       args.b])()
    for path in paths:
        try:
            docs.append(read_report(path))
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
    if args.command == "table":
        labels = [f"seeds {','.join(map(str, d.get('seeds', {}).get('replicates', [])))}" for d in docs]
        print("\n".join(verdict_table(docs, labels)))
        return 0
    if args.command == "widths":
        print("\n".join(comparison_widths(*docs)))
        return 0
    lines = diff(*docs)
    print("\n".join(lines) if lines else "no verdict changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m repcore.report diff A.json B.json``: the verdict changes between two claims reports.
``python -m repcore.report check claims.json``: whether a finished run discriminates (exit 0), or
not (exit 1: a negative control came out supported, or a claim errored or is incomplete; exit 2: no
readable report).
Refuted and inconclusive claims are results, not failures."""

import argparse
import sys
from pathlib import Path

from repcore.report.compare import diff, problems, read_report


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
    lines = diff(*docs)
    print("\n".join(lines) if lines else "no verdict changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

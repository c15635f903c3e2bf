"""``repcore``: the claims from any folder of an environment that has repcore installed.

    repcore verify MANIFEST.toml [--data-root DIR] [pytest options]   every claim on your models
    repcore claims [pytest options]                                   every claim on the trained zoo
    repcore build|list|plan|clean|prune|export [options]              the zoo (python -m repcore.fixtures)
    repcore report diff|check|table|widths ...                        reports (python -m repcore.report)
    repcore nightly [options]                                         a night (python -m repcore.nightly)
    repcore explain [ID]                                              a claim's specification (CLAIMS.md)

``verify`` and ``claims`` run pytest on the installed claim modules (``repcore.claims``) with
``-n auto`` unless ``-n`` is given, write the report to ``--report-dir`` (default ``reports/`` in
the current folder) and exit with the verdicts' status (``VERDICT_STATUS``): 0 every claim
supported, 1 some claim refuted, 6 none refuted but some inconclusive (or incomplete), 7 a claim
errored; or pytest's own where it gave no verdicts: 2 interrupted, 3 internal error, 4 usage error
(a bad manifest, say), 5 no test ran.
"""

import subprocess
import sys
import time
from pathlib import Path

from repcore.invocation import claims_arguments

VERDICT_STATUS = {"errored": 7, "refuted": 1, "inconclusive": 6, "incomplete": 6}  # the first count that holds

USAGE = __doc__.split("\n\n")[1]


def _pytest(arguments: list[str]) -> int:
    """pytest in a process of its own (this one has imported repcore, which pytest would then not
    rewrite), started with ``-P`` so that no module of the current folder shadows an installed one;
    Ctrl-C reaches both, and this one waits for pytest's partial report. Its status, or where it
    gave verdicts, theirs (``verdict_status``)."""
    started = time.time()
    process = subprocess.Popen([sys.executable, "-P", "-m", "pytest", *arguments])
    while True:
        try:
            status = process.wait()
            break
        except KeyboardInterrupt:
            continue
    return verdict_status(status, report_dir(arguments), started)


def report_dir(arguments: list[str]) -> Path:
    """The ``--report-dir`` the arguments name (``reports`` by default)."""
    for i, argument in enumerate(arguments):
        if argument == "--report-dir" and i + 1 < len(arguments):
            return Path(arguments[i + 1])
        if argument.startswith("--report-dir="):
            return Path(argument.split("=", 1)[1])
    return Path("reports")


def verdict_status(status: int, folder: Path, started: float) -> int:
    """pytest's ``status``, or where it gave verdicts (0 or 1) the status of the report this run
    wrote in ``folder``: 0 every claim supported, else ``VERDICT_STATUS``'s first count that holds."""
    from repcore.report.compare import read_report

    if status not in (0, 1):
        return status
    written = [p for p in (folder / "claims.json", folder / "claims.partial.json")
               if p.is_file() and p.stat().st_mtime >= started - 1]
    if not written:
        return status
    try:
        counts = read_report(max(written, key=lambda p: p.stat().st_mtime))["counts"]
    except (OSError, ValueError):
        return status
    return next((code for outcome, code in VERDICT_STATUS.items() if counts.get(outcome)), 0)


VERIFY_HELP = """usage: repcore verify MANIFEST.toml [--data-root DIR] [--report-dir DIR] [pytest options]

Every claim on the models MANIFEST.toml names (the README's section "Verify your own models";
the manifest's fields: python -c "import repcore.fixtures.checkpoints as c; help(c)").

What code a manifest can run: a state dict of a repcore or torchvision architecture runs none of
yours. arch = "package.module:factory" imports that module and calls the factory: a module
importable from the environment (an installed package, PYTHONPATH) needs nothing more; a module
found only beside the checkpoint files is imported only with trust_local_code = true in the
manifest. A pickled nn.Module (format = "module") runs code when unpickled: it needs
trust_pickled_modules = true. Nothing else the manifest names is executed, and no module of the
current folder is imported (pytest runs with python -P)."""


def verify(argv: list[str]) -> int:
    """``repcore verify MANIFEST.toml [pytest options]``: every claim on the manifest's models."""
    if argv and argv[0] in ("-h", "--help"):
        print(VERIFY_HELP)
        return 0
    if not argv or argv[0].startswith("-"):
        print(VERIFY_HELP, file=sys.stderr)
        return 4
    manifest = Path(argv[0])
    if not manifest.is_file():
        print(f"error: no manifest at {manifest}: write one (the README's \"Verify your own models\"), or export "
              "the zoo's models with `repcore export --profile smoke --out DIR`", file=sys.stderr)
        return 4
    return _pytest(claims_arguments([], ["--checkpoints", str(manifest.resolve()), *argv[1:]]))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "verify":
        return verify(rest)
    if command == "claims":
        paths = [a for a in rest if a.startswith("claims/")]
        return _pytest(claims_arguments(paths, [a for a in rest if a not in paths]))
    if command in ("build", "list", "plan", "clean", "prune", "export"):
        from repcore.fixtures.__main__ import main as zoo
        return zoo([command, *rest])
    if command == "report":
        from repcore.report.__main__ import main as report
        return report(rest)
    if command == "nightly":
        from repcore.nightly import main as nightly
        return nightly(rest)
    if command == "explain":
        from repcore.spec import explain
        try:
            print(explain(rest[0] if rest else None))
        except KeyError as err:
            print(f"error: {err.args[0]}", file=sys.stderr)
            return 2
        return 0
    print(f"usage:\n{USAGE}", file=sys.stderr if command not in ("-h", "--help") else sys.stdout)
    return 0 if command in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())

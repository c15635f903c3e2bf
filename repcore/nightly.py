"""``python -m repcore.nightly --profile paper --device cuda --data-root /data``: one night of the
suite, as the nightly workflow runs it (and as anyone can, on the CPU with a CPU profile).

1. ``python -m repcore.fixtures build``: train what the persistent cache lacks (``--cache-dir``, default
   ``$REPCORE_CACHE_DIR``), with progress; ``--prune-days N`` first removes models of no current
   profile older than N days.
2. ``pytest claims -n auto`` with ``--previous-report`` set to the last night's report, so the
   report shows each claim's previous verdict and marks changes.
3. The change summary (``changes.md`` beside the report, printed, and appended to
   ``$GITHUB_STEP_SUMMARY`` when set), then the report joins the history:
   ``<history>/<profile>/latest.json`` and a dated copy.

Exit status: 0; 1 when a verdict changed in a way ``--fail-on`` counts (default: a supported claim
now refuted); 2 when the night produced no verdicts (build failed, pytest exit above 1, no report).
``--dry-run`` prints what the night would train and how long that is expected to take, and stops.
``--executor slurm`` (with ``--gpus``, ``--partition``, ``--cpus-per-job``, ``--mem-gb``, ``--job-dir``)
builds the zoo as Slurm jobs (``repcore.fixtures.build_submitit``); the claims then read the cache.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import platformdirs

from repcore.fixtures.options import OPTIONS
from repcore.fixtures.profiles import get_profile
from repcore.fixtures.store import CacheDir, cache_location
from repcore.invocation import claims_arguments
from repcore.files import atomic_write
from repcore.report.compare import REGRESSION_POLICIES, diff, read_report, regressions
from repcore.report.session import ReportDirError, check_report_dir
from repcore.parsing import Parser

# The build's own options, declared with the suite's (repcore.fixtures.options), passed to the build alone.
BUILD_OPTIONS = ("--executor", "--gpus", "--partition", "--cpus-per-job", "--mem-gb", "--job-dir")

def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m repcore.nightly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--seeds", default=None)
    parser.add_argument("--settings", default=None)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--cache-dir", type=cache_location, default=None, metavar="DIR|URL",
                        help="the persistent model cache, a folder or an fsspec URL (default $REPCORE_CACHE_DIR, "
                             "else the user cache)")
    parser.add_argument("--history", type=Path, default=None,
                        help="where nights keep their reports (default: history/ beside the cache)")
    parser.add_argument("--report-dir", type=Path, default=Path("reports"))
    parser.add_argument("--fail-on", default="supported-to-refuted", choices=REGRESSION_POLICIES,
                        help="which verdict change fails the night (default supported-to-refuted)")
    parser.add_argument("--prune-days", type=float, default=None,
                        help="first remove cached models of no current profile older than this many days")
    parser.add_argument("--jobs", type=int, default=None)
    for flag in BUILD_OPTIONS:
        parser.add_argument(flag, **OPTIONS[flag])
    parser.add_argument("--claims", nargs="+", default=["claims"], metavar="PATH",
                        help="the claim modules to run (default: all of claims/)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be trained and the expected time")
    return parser


def _zoo_options(args: argparse.Namespace) -> list[str]:
    options = {"--profile": args.profile, "--seeds": args.seeds, "--settings": args.settings,
               "--device": args.device, "--data-root": args.data_root, "--cache-dir": args.cache_dir}
    return [str(part) for option, value in options.items() if value is not None for part in (option, value)]


def _build_options(args: argparse.Namespace) -> list[str]:
    """The options of the night's build (and its plan) alone: where its jobs run."""
    values = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in BUILD_OPTIONS}
    return [str(part) for flag, value in values.items() if value is not None for part in (flag, value)]


def _run(command: list[str]) -> int:
    print(f"$ {' '.join(command)}", flush=True)
    return subprocess.run(command).returncode


def summary(profile: str, current: dict, previous: dict | None, failing: list[str]) -> str:
    """The night's change summary, in Markdown."""
    counts = ", ".join(f"{n} {outcome}" for outcome, n in current["counts"].items() if n)
    lines = [f"## repcore nightly: {profile}", "",
             f"{current['finished']}, git revision `{current['git_revision']}`: {counts}.", ""]
    if previous is None:
        lines.append("No previous night to compare with: this report starts the history.")
    else:
        changes = diff(previous, current)
        lines.append(f"Compared with the night of {previous['finished']} (git revision `{previous['git_revision']}`):")
        lines += ["", *(f"- {line.strip()}" for line in changes)] if changes else ["no verdict changes"]
    if failing:
        lines += ["", "**Failing changes:**", *(f"- {line}" for line in failing)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cache_dir is None and os.environ.get("REPCORE_CACHE_DIR"):
        args.cache_dir = cache_location(os.environ["REPCORE_CACHE_DIR"])
    for name in ("cache_dir", "data_root", "history", "report_dir", "job_dir"):
        if isinstance(getattr(args, name), Path):
            setattr(args, name, getattr(args, name).resolve())
    if args.dry_run:
        return _run([sys.executable, "-m", "repcore.fixtures", "plan", *_zoo_options(args), *_build_options(args)])
    history = (args.history or _default_history(args.cache_dir)) / args.profile
    try:
        check_report_dir(history, "--history")
    except ReportDirError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.prune_days is not None and _run([sys.executable, "-m", "repcore.fixtures", "prune", *_zoo_options(args),
                                             "--older-than", str(args.prune_days)]) != 0:
        return 2
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    build = [sys.executable, "-m", "repcore.fixtures", "build", *_zoo_options(args), *jobs, *_build_options(args)]
    if _run(build) != 0:
        print("error: the build failed; no claims were run", file=sys.stderr)
        return 2
    latest = history / "latest.json"
    previous = previous_night(latest, args)
    shutil.rmtree(args.report_dir, ignore_errors=True)
    exit_code = _run([sys.executable, "-m", "pytest", *claims_arguments(
        [] if args.claims == ["claims"] else args.claims,
        [*_zoo_options(args), "--report-dir", str(args.report_dir),
         *(["--previous-report", str(latest)] if previous else [])])])
    selected = args.claims != ["claims"]  # a night of some claim modules: its report is partial by design
    report = args.report_dir / ("claims.partial.json" if selected else "claims.json")
    current = read_report(report) if exit_code <= 1 and report.is_file() else None
    if current is None or current["interrupted"]:
        print(f"error: the claims run produced no {'finished' if selected else 'complete'} report "
              f"(pytest exit {exit_code})", file=sys.stderr)
        return 2
    failing = regressions(previous, current, args.fail_on) if previous else []
    text = summary(args.profile, current, previous, failing)
    print(text)
    atomic_write(args.report_dir / "changes.md", text.encode())
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as step_summary:
            step_summary.write(text)
    stamp = datetime.datetime.fromisoformat(current["finished"]).strftime("%Y%m%dT%H%M%S")
    blob = json.dumps({**current, "nightly_claims": args.claims}, indent=2).encode()
    atomic_write(history / f"{stamp}-{current['git_revision']}.json", blob)
    atomic_write(latest, blob)
    return 1 if failing else 0


def previous_night(latest: Path, args: argparse.Namespace) -> dict | None:
    """The last night's report to compare with, or None: when there is none, when it cannot be read
    (it is set aside as ``latest.json.unreadable-<time>``, with a warning, so later nights start
    afresh instead of failing too) or when it is of another profile, settings, seeds or claim
    modules (a warning says so; it is not compared). A folder where the report should be is set
    aside the same way."""
    if not latest.exists() and not latest.is_symlink():
        return None
    try:
        previous = read_report(latest)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        aside = latest.with_name(f"{latest.name}.unreadable-{datetime.datetime.now():%Y%m%dT%H%M%S}")
        latest.rename(aside)
        print(f"warning: the last night's report {latest} cannot be read ({err}); set aside as {aside.name}, "
              "tonight is compared with nothing", file=sys.stderr)
        return None
    expected = get_profile(args.profile, args.seeds, args.settings)
    tonight = {"profile": expected.name, "settings": list(expected.settings), "seeds": list(expected.seeds),
               "claims": args.claims}
    before = {"profile": previous.get("profile"), "settings": previous.get("settings"),
              "seeds": (previous.get("seeds") or {}).get("replicates"),
              "claims": previous.get("nightly_claims", ["claims"])}
    if before != tonight:
        print(f"warning: the last night's report {latest} is of {before}, tonight runs {tonight}: not compared",
              file=sys.stderr)
        return None
    return previous


def _default_history(cache_dir: CacheDir | None) -> Path:
    """``history/`` beside a local model cache, so the two persist together (in the user cache
    beside a remote one)."""
    local = isinstance(cache_dir, Path)
    return (cache_dir.parent if local else platformdirs.user_cache_path("repcore")) / "history"


if __name__ == "__main__":
    sys.exit(main())

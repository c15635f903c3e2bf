"""Benchmark: cold build of a profile's zoo, a warm load of every model, and with ``--claims`` the
claims run on that zoo as a user runs it (``pytest claims -n auto``). Prints figures.

    python bench/zoo_build.py --profile smoke [--jobs 2] [--claims]
    python bench/zoo_build.py --profile paper-jpeg --settings resnet18-cifar10_jpeg --seeds 0 --device cuda \\
        --data-root ../shared/data --claims

(the second is the paper profile's CIFAR-10 ResNet-18 part, trained and checked end to end). Uses a
fresh temporary cache, so the cold figure is a real cold build; the claims report goes to
``--report-dir``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.options import OPTIONS, add_options, selected_profile  # noqa: E402
from fixtures.zoo import Zoo, build_zoo, default_jobs, resolve_device  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser.add_argument, overrides={"--device": {"default": "cpu"}}, skip=("--cache-dir",))
    parser.add_argument("--claims", action="store_true", help="then run the claims on the built zoo")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports" / "bench",
                        help="where the claims run writes its report (default reports/bench)")
    return parser


def run_claims(args: argparse.Namespace, cache: Path) -> tuple[float, dict]:
    """``pytest claims -n auto`` on ``cache`` with the benchmark's profile options: (seconds, report)."""
    values = {**vars(args), "cache_dir": cache, "jobs": None}
    passed = {flag: values.get(flag[2:].replace("-", "_")) for flag in OPTIONS}
    options = {**passed, "--report-dir": args.report_dir}
    command = [sys.executable, "-m", "pytest", "claims", "-n", "auto", "-q", "-p", "no:cacheprovider",
               *[str(part) for option, value in options.items() if value is not None
                 for item in (value if isinstance(value, list) else [value]) for part in (option, item)]]
    start = time.perf_counter()
    exit_code = subprocess.run(command, cwd=ROOT).returncode
    seconds = time.perf_counter() - start
    if exit_code > 1:
        sys.exit(f"the claims run produced no verdicts (pytest exit {exit_code}): {' '.join(command)}")
    return seconds, json.loads((args.report_dir / "claims.json").read_text())


def main() -> None:
    args = _parser().parse_args()
    profile = selected_profile(vars(args).get)
    device = resolve_device(args.device)
    jobs = args.jobs or default_jobs(device)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        start = time.perf_counter()
        build_zoo(profile, cache, args.data_root, device, jobs)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        zoos = [Zoo(profile, r, cache, args.data_root, device, log=lambda line: None) for r in profile.replicates]
        models = {profile.model_name(zoo.replicate, role): zoo[role]
                  for zoo in zoos for role in zoo.replicate.models}
        warm = time.perf_counter() - start
        claims = run_claims(args, cache) if args.claims else None
    print(f"profile {profile.name}: {len(models)} models, {jobs} jobs on {device}, {os.cpu_count()} cores")
    print(f"cold build: {cold:.1f} s")
    print(f"warm load of every model (weights + cached representations, verified): {warm:.2f} s")
    width = max(map(len, models)) + 2
    for name, m in models.items():
        print(f"  {name:<{width}} test accuracy {m.test_accuracy:.1%}  "
              f"train {m.meta['metrics']['train_seconds']:.0f} s")
    if claims:
        seconds, report = claims
        counts = ", ".join(f"{n} {outcome}" for outcome, n in report["counts"].items())
        print(f"claims run on the built zoo: {seconds:.1f} s ({counts}); report in {args.report_dir}")
        print(f"cold build + claims: {(cold + seconds) / 60:.1f} min")


if __name__ == "__main__":
    main()

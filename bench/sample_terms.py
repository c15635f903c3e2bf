"""Benchmark: the two parts of the comparison criteria's seed-level intervals, the training-run
term t_{S-1} s_b / sqrt(S) and the test-sample term z se (joint bootstrap), as the number of test
images grows: the measurement that sizes a profile's test split.

Runs ``pytest claims`` on the profile once per ``--sizes`` value with ``--test-images N`` (the
claims read the first N test images of each model and attack no more), on seeds outside the
default set, and prints per comparison criterion (a regularized model against the hard baseline,
controls left out) both half-widths and their ratio, then the median ratio per size. The sizing
rule (``fixtures/profiles.py``): the smallest size whose median ratio is at most ``--target``.

    python bench/sample_terms.py --profile smoke --seeds 100,101,102,103,104 --sizes 1000,2000,5000,10000
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def comparisons(report: dict) -> dict[str, dict]:
    """{claim statistic: verdict record} of the comparison criteria (those with a pairing)."""
    return {f"{c['id']} {v['statistic']}": v for c in report["claims"] for t in c["tests"] for v in t["verdicts"]
            if v.get("pairing")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--seeds", default="100,101,102,103,104")
    parser.add_argument("--sizes", default="1000,2000,5000,10000",
                        help="test images per run (default 1000,2000,5000,10000)")
    parser.add_argument("--target", type=float, default=0.5, help="the sizing rule's median ratio (default 0.5)")
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            report_dir = Path(tmp) / str(n)
            command = [sys.executable, "-m", "pytest", "claims", "-n", "auto", "-q", "-p", "no:cacheprovider",
                       "--profile", args.profile, "--seeds", args.seeds, "--test-images", str(n),
                       "--report-dir", str(report_dir), *(["--data-root", args.data_root] if args.data_root else [])]
            code = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
            if code > 1:
                sys.exit(f"the claims run produced no verdicts (pytest exit {code}): {' '.join(command)}")
            runs[n] = comparisons(json.loads((report_dir / "claims.json").read_text()))
    names = sorted(set.intersection(*(set(r) for r in runs.values())))
    print(f"profile {args.profile}, seeds {args.seeds}: per comparison criterion, training-run term / test-sample "
          "term (half-widths) and their ratio, by test images")
    print(f"{'criterion':<78}" + "".join(f"{n:>22}" for n in sizes))
    for name in names:
        halves = [(runs[n][name]["seed_half"], runs[n][name]["sample_half"]) for n in sizes]
        cells = [f"{seed:.4f}/{sample:.4f} {sample / seed:4.2f}" for seed, sample in halves]
        print(f"{name[:77]:<78}" + "".join(f"{c:>22}" for c in cells))
    medians = {n: statistics.median(runs[n][name]["sample_half"] / runs[n][name]["seed_half"] for name in names)
               for n in sizes}
    print(f"{'median ratio (test-sample / training-run)':<78}" + "".join(f"{medians[n]:>22.2f}" for n in sizes))
    chosen = next((n for n in sizes if medians[n] <= args.target), sizes[-1])
    print(f"smallest size with median ratio <= {args.target}: {chosen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

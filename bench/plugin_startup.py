"""What repcore costs a project that never asked for it: a one-test project's ``pytest`` wall time
in an environment with repcore installed, against the same with ``-p no:repcore``.

Creates the project in a temporary folder and runs ``python -m pytest -q -p no:cacheprovider``
there ``--repeats`` times each way, interleaved, after one warm-up run each; prints the median and
the range in seconds and the difference of the medians. ``--python`` names other interpreters to
measure the same way (another environment, e.g. one with an earlier repcore installed).

    python bench/plugin_startup.py [--repeats 7] [--python /path/to/other/venv/bin/python]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST = "def test_one():\n    assert 1 + 1 == 2\n"


def timed(python: str, folder: Path, *extra: str) -> float:
    start = time.perf_counter()
    run = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], cwd=folder,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{python}: pytest failed in the one-test project:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--python", action="append", default=[], help="another interpreter to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "test_one.py").write_text(TEST)
        for python in [sys.executable, *args.python]:
            ways = {"repcore installed": (), "-p no:repcore": ("-p", "no:repcore")}
            times = {way: [] for way in ways}
            for extra in ways.values():
                timed(python, project, *extra)
            for _ in range(args.repeats):
                for way, extra in ways.items():
                    times[way].append(timed(python, project, *extra))
            print(f"{python} ({args.repeats} runs each, after a warm-up):")
            for way, values in times.items():
                print(f"  {way:<18} median {statistics.median(values):.3f} s "
                      f"(range {min(values):.3f}-{max(values):.3f})")
            difference = statistics.median(times["repcore installed"]) - statistics.median(times["-p no:repcore"])
            print(f"  difference of the medians: {difference:+.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

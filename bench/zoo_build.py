"""Benchmark: cold build of a profile's zoo, then a warm load of every model. Prints figures.

    python bench/zoo_build.py --profile smoke [--jobs 2]
    python bench/zoo_build.py --profile paper-jpeg --settings resnet18-cifar10_jpeg --seeds 0 --device cuda \\
        --data-root ../shared/data

Uses a fresh temporary cache, so the cold figure is a real cold build.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from fixtures.profiles import get_profile  # noqa: E402
from fixtures.zoo import Zoo, build_zoo, resolve_device  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--seeds", default=None, help="training seeds, e.g. 0,1,2")
    parser.add_argument("--settings", default=None, help="a subset of the profile's settings")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--data-root", type=Path, default=None, help="folder holding real datasets")
    parser.add_argument("--jobs", type=int, default=None,
                        help="training processes (default: one per core on the CPU, per GPU on CUDA)")
    args = parser.parse_args()
    profile = get_profile(args.profile, args.seeds, args.settings)
    device = resolve_device(args.device)
    jobs = args.jobs or (torch.cuda.device_count() if device.type == "cuda" else os.cpu_count() or 1)
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
    print(f"profile {profile.name}: {len(models)} models, {jobs} jobs on {device}, {os.cpu_count()} cores")
    print(f"cold build: {cold:.1f} s")
    print(f"warm load of every model (weights + cached representations, verified): {warm:.2f} s")
    width = max(map(len, models)) + 2
    for name, m in models.items():
        print(f"  {name:<{width}} test accuracy {m.test_accuracy:.1%}  "
              f"train {m.meta['metrics']['train_seconds']:.0f} s")


if __name__ == "__main__":
    main()

"""Benchmark: a profile's cold build in phases (training, attacks), the claims on that zoo cold and
warm, and the training loop's old and new memory layouts side by side, against the fp32 matmul
peak of one thread measured in the same run. Prints figures.

    python bench/zoo_build.py --profile smoke [--jobs 2] [--claims] [--repeats 3]
    python bench/zoo_build.py --profile paper-jpeg --settings resnet18-cifar10_jpeg --seeds 0 --device cuda \\
        --data-root ../shared/data --claims

(the second is the paper profile's CIFAR-10 ResNet-18 part, trained and checked end to end). Uses a
fresh temporary cache, so the cold figures are a real cold build; the claims report goes to
``--report-dir``. Per phase: seconds, images (or attack gradient steps) per second per process,
achieved GFLOP/s per process (3 x forward FLOPs per training image, 2 x per attack gradient step)
and, on the CPU, its fraction of the matmul peak. Training runs one thread per process.
"""

import functools
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


import torch
from timing import matmul_peak, peak_memory, repeat_seconds, spread

from repcore.fixtures.data import cached_dataset
from repcore.fixtures.estimate import forward_flops, training_flops
from repcore.fixtures.evaluations import attacked_images
from repcore.fixtures.options import OPTIONS, add_options, selected_profile
from repcore.fixtures.profiles import Profile
from repcore.fixtures.training import train_model
from repcore.fixtures.artifacts import unique_models
from repcore.fixtures.build_pool import build_zoo
from repcore.fixtures.devices import default_jobs, resolve_device
from repcore.fixtures.zoo import Zoo

ROOT = Path(__file__).resolve().parents[1]

APGD_ITERATIONS = 100  # per restart, AutoAttack's standard APGD budget


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser.add_argument, overrides={"--device": {"default": "cpu"}}, skip=("--cache-dir",))
    parser.add_argument("--claims", action="store_true", help="then run the claims on the built zoo, cold and warm")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of the loop comparison (default 3)")
    parser.add_argument("--loop-epochs", type=int, default=2, help="epochs per timed loop run (default 2)")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "reports" / "bench",
                        help="where the claims run writes its report (default reports/bench)")
    return parser


def run_claims(args: argparse.Namespace, cache: Path) -> tuple[float, dict, int]:
    """``pytest claims -n auto`` on ``cache`` with the benchmark's profile options:
    (seconds, report, peak resident memory of the whole process tree in bytes)."""
    values = {**vars(args), "cache_dir": cache, "jobs": None}
    passed = {flag: values.get(flag[2:].replace("-", "_")) for flag in OPTIONS}
    options = {**passed, "--report-dir": args.report_dir}
    command = [sys.executable, "-m", "pytest", "claims", "-n", "auto", "-q", "-p", "no:cacheprovider",
               *[str(part) for option, value in options.items() if value is not None
                 for item in (value if isinstance(value, list) else [value]) for part in (option, item)]]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    with peak_memory(process.pid) as seen:
        exit_code = process.wait()
    seconds = time.perf_counter() - start
    if exit_code > 1:
        sys.exit(f"the claims run produced no verdicts (pytest exit {exit_code}): {' '.join(command)}")
    return seconds, json.loads((args.report_dir / "claims.json").read_text()), seen["bytes"]


def attack_steps(profile: Profile, attack: str) -> int:
    """Image gradient steps of one planned attack (AutoAttack counted as ``APGD_ITERATIONS`` steps
    on every attacked image: an upper bound, it drops images it breaks)."""
    config = profile.attacks[attack]
    return attacked_images(profile, config) * (APGD_ITERATIONS if config.kind == "autoattack" else config.steps)


def attack_flops(profile: Profile) -> float:
    """2 x forward FLOPs per attack gradient step over the attack plan."""
    return sum(2.0 * forward_flops(profile.models[name].arch, profile.models[name].data.name,
                                   profile.models[name].bottleneck, profile.models[name].data.image_size)
               * attack_steps(profile, attack)
               for name, attack in profile.attack_plan())


def phase_line(label: str, seconds: float, units: float, unit: str, flops: float, processes: int,
               peak: float | None) -> str:
    per_process = flops / seconds / processes
    share = f", {per_process / peak:.0%} of the matmul peak" if peak else ""
    return (f"  {label:<10} {seconds:7.1f} s   {units / seconds / processes:8.0f} {unit}/s per process   "
            f"{per_process / 1e9:6.1f} GFLOP/s per process{share}")


def compare_loops(profile: Profile, args: argparse.Namespace, cache: Path, device: torch.device,
                  peak: float | None) -> None:
    """The previous loop (contiguous tensors) and the current one (channels_last), same model and
    recipe, interleaved repeats after one warm-up run each, one thread."""
    spec = replace(next(iter(profile.replicates)).models["hard"], epochs=args.loop_epochs)
    data = cached_dataset(spec.data, args.data_root, cache)
    images = len(data.train) // spec.batch_size * spec.batch_size * spec.epochs
    flops = training_flops(spec)
    layouts = {"contiguous (previous loop)": torch.contiguous_format, "channels_last (this loop)": torch.channels_last}
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seconds = {label: [] for label in layouts}
        for layout in layouts.values():
            repeat_seconds(functools.partial(train_model, spec, data, device, memory_format=layout), 0, warmup=1,
                           device=device)
        for _ in range(args.repeats):
            for label, layout in layouts.items():
                seconds[label] += repeat_seconds(functools.partial(train_model, spec, data, device,
                                                                   memory_format=layout),
                                                 1, warmup=0, device=device)
    finally:
        torch.set_num_threads(previous)
    print(f"training loop, {spec.arch} on {len(data.train)} images x {spec.epochs} epochs, batch {spec.batch_size}, "
          f"{device}, 1 thread, median (min-max) of {args.repeats} interleaved repeats after a warm-up:")
    rates = {}
    for label, values in seconds.items():
        rates[label] = sorted(images / s for s in values)
        gflops = [flops / s / 1e9 for s in values]
        share = f", {flops / min(values) / peak:.0%} of peak at best" if peak else ""
        print(f"  {label:<27} {spread(rates[label])} images/s   {spread(gflops, 1)} GFLOP/s{share}")
    old, new = (rates[label][len(rates[label]) // 2] for label in layouts)
    print(f"  ratio (median)              {new / old:.2f}x")


def main() -> None:
    args = _parser().parse_args()
    profile = selected_profile(vars(args).get)
    device = resolve_device(args.device)
    jobs = args.jobs or default_jobs(device)
    peak = matmul_peak(threads=1) if device.type == "cpu" else None
    print(f"profile {profile.name}, {jobs} processes on {device}, {os.cpu_count()} cores, torch "
          f"{torch.__version__}" + (f"; fp32 matmul peak of one thread: {peak / 1e9:.1f} GFLOP/s" if peak else ""))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        models = unique_models(profile)
        start = time.perf_counter()
        build_zoo(replace(profile, attacks={}), cache, args.data_root, device, jobs)
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        build_zoo(profile, cache, args.data_root, device, jobs)
        attack_seconds = time.perf_counter() - start
        start = time.perf_counter()
        zoos = [Zoo(profile, r, cache, args.data_root, device, log=lambda line: None) for r in profile.replicates]
        loaded = {profile.model_name(zoo.replicate, role): zoo[role] for zoo in zoos for role in zoo.replicate.models}
        warm_load = time.perf_counter() - start
        images = sum((len(cached_dataset(s.data, args.data_root,
                                         cache).train) // s.batch_size) * s.batch_size * s.epochs
                     for s in models.values())
        steps = sum(attack_steps(profile, attack) for _, attack in profile.attack_plan())
        print(f"cold build of {len(models)} models and {len(profile.attack_plan())} attack outcomes, in phases:")
        print(phase_line("training", train_seconds, images, "images", sum(map(training_flops, models.values())),
                         jobs, peak))
        print(phase_line("attacks", attack_seconds, steps, "gradient steps", attack_flops(profile), jobs, peak))
        print(f"  warm load of every model (weights + cached representations, verified): {warm_load:.2f} s")
        if args.claims:
            cold, report, memory = run_claims(args, cache)
            warm, _, _ = run_claims(args, cache)
            counts = ", ".join(f"{n} {outcome}" for outcome, n in report["counts"].items())
            print(f"claims on the built zoo (statistics, figures, report): {cold:.1f} s, warm rerun {warm:.1f} s "
                  f"({counts}); peak memory of the run {memory / 2 ** 30:.2f} GiB; report in {args.report_dir}")
            print(f"cold total (training + attacks + claims): {(train_seconds + attack_seconds + cold) / 60:.1f} min")
        compare_loops(profile, args, cache, device, peak)
    width = max(map(len, loaded)) + 2
    for name, m in loaded.items():
        seconds = m.meta["metrics"]["train_seconds"]
        print(f"  {name:<{width}} test accuracy {m.test_accuracy:.1%}  train {seconds:.0f} s")


if __name__ == "__main__":
    main()

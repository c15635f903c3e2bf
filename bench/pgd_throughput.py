"""Benchmark: repcore's PGD vs torchattacks' PGD, same model, batch, budget and device, side by side.

    python bench/pgd_throughput.py [--arch small_cnn] [--batch 256] [--steps 10] [--repeats 5] [--threads 1]

Needs ``torchattacks`` (a benchmark-only dependency: pip install torchattacks). Prints images/s of
each (median, min-max of interleaved repeats after a warm-up call each), their ratio, and repcore's
PGD at several batch sizes (the CPU default, ``ATTACK_BATCH``, is chosen from these figures).
"""

import functools
import argparse
import statistics


import torch
import torchattacks
from timing import repeat_seconds, spread

from repcore.fixtures.models import build_model
from repcore.attacks import AttackConfig, pgd, run_attack
from repcore.features import channels_last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default="small_cnn")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model(args.arch, 10, (0.5,) * 3, (0.25,) * 3).to(device, memory_format=torch.channels_last).eval()
    x = channels_last(torch.rand(args.batch, 3, 32, 32, device=device))
    y = model(x).argmax(1).detach()
    eps, step = 8 / 255, 2 / 255
    theirs = torchattacks.PGD(model, eps=eps, alpha=step, steps=args.steps, random_start=False)
    runs = {"repcore": lambda: pgd(model, x, y, eps, step, args.steps), "torchattacks": lambda: theirs(x, y)}
    rates = {name: [] for name in runs}
    for run in runs.values():
        repeat_seconds(run, 0, warmup=1, device=device)
    for _ in range(args.repeats):
        for name, run in runs.items():
            rates[name] += [args.batch / s for s in repeat_seconds(run, 1, warmup=0, device=device)]
    same = torch.allclose(pgd(model, x, y, eps, step, args.steps), theirs(x, y), atol=1e-6)
    print(f"PGD-{args.steps}, eps 8/255, {args.arch}, batch {args.batch}, {device}, {torch.get_num_threads()} "
          f"intra-op thread(s); median (min-max) of {args.repeats} interleaved repeats after a warm-up")
    for name, values in rates.items():
        print(f"{name:<13} {spread(values, 1)} images/s")
    print(f"ratio         {statistics.median(rates['repcore']) / statistics.median(rates['torchattacks']):.2f}x   "
          f"(identical adversarial images: {same})")
    images = torch.rand(1000, 3, 32, 32, device=device)
    labels = model(channels_last(images)).argmax(1).detach()
    config = AttackConfig("PGD", "pgd", eps, step, args.steps)
    print(f"repcore's run_attack on 1000 images by batch size (median (min-max) of {args.repeats}):")
    for batch in (100, 250, 500, 1000):
        seconds = repeat_seconds(functools.partial(run_attack, model, images, labels, config, device, batch_size=batch),
                                 args.repeats, device=device)
        print(f"  batch {batch:<5} {spread([1000 / s for s in seconds], 1)} images/s")


if __name__ == "__main__":
    main()

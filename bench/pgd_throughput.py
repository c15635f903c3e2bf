"""Benchmark: repcore's PGD vs torchattacks' PGD, same model, batch, budget and device, side by side.

    python bench/pgd_throughput.py [--arch small_cnn] [--batch 256] [--steps 10] [--repeats 3]

Needs ``torchattacks`` (a benchmark-only dependency: pip install torchattacks). Prints images/s of
each (median of interleaved repeats) and their ratio.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torchattacks  # noqa: E402

from fixtures.models import build_model  # noqa: E402
from repcore.attacks import pgd  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default="small_cnn")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build_model(args.arch, 10, (0.5,) * 3, (0.25,) * 3).to(device).eval()
    x = torch.rand(args.batch, 3, 32, 32, device=device)
    y = model(x).argmax(1).detach()
    eps, step = 8 / 255, 2 / 255
    theirs = torchattacks.PGD(model, eps=eps, alpha=step, steps=args.steps, random_start=False)

    def timed(run) -> float:
        run()  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return args.batch / (time.perf_counter() - start)

    ours_ips, theirs_ips = [], []
    for _ in range(args.repeats):
        ours_ips.append(timed(lambda: pgd(model, x, y, eps, step, args.steps)))
        theirs_ips.append(timed(lambda: theirs(x, y)))
    ours, ref = statistics.median(ours_ips), statistics.median(theirs_ips)
    same = torch.allclose(pgd(model, x, y, eps, step, args.steps), theirs(x, y), atol=1e-6)
    print(f"PGD-{args.steps}, eps 8/255, {args.arch}, batch {args.batch}, {device}, "
          f"{torch.get_num_threads()} threads")
    print(f"repcore      {ours:8.1f} images/s")
    print(f"torchattacks {ref:8.1f} images/s")
    print(f"ratio        {ours / ref:8.2f}x   (identical adversarial images: {same})")


if __name__ == "__main__":
    main()

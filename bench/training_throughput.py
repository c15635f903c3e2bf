"""Benchmark: training throughput of the zoo's loop (data resident as tensors, batch-level
augmentation on the training device) against a plain DataLoader loop (per-image torchvision v2
transforms, collated batches), same model, batch size and augmentation.

    python bench/training_throughput.py [--arch small_cnn] [--images 5000] [--batch 128] [--workers 2]
        [--threads 1] [--repeats 5]

Prints images/s of each (median, min-max of interleaved repeats after one warm-up epoch each) and
the ratio of the medians, with the intra-op thread count stated.
"""

import argparse
import time


import torch
from torch.utils.data import DataLoader, TensorDataset
from torchvision.transforms import v2
from timing import spread, synchronize

from repcore.fixtures.data import load_dataset
from repcore.fixtures.models import build_model
from repcore.fixtures.spec import DataSpec
from repcore.fixtures.training import random_crop_flip


def _step(model, optimizer, images, labels):
    loss = torch.nn.functional.cross_entropy(model(images), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def resident_loop(model, optimizer, x, y, batch, device) -> float:
    x, y = x.to(device), y.to(device)
    generator = torch.Generator().manual_seed(0)
    synchronize(device)
    start = time.perf_counter()
    order = torch.randperm(len(y), generator=generator).to(device)
    for i in range(len(y) // batch):
        idx = order[i * batch:(i + 1) * batch]
        images = random_crop_flip(x[idx].float() / 255, generator).contiguous(memory_format=torch.channels_last)
        _step(model, optimizer, images, y[idx])
    synchronize(device)
    return (len(y) // batch) * batch / (time.perf_counter() - start)


class _Transformed(TensorDataset):
    def __init__(self, x, y):
        super().__init__(x, y)
        self.transform = v2.Compose([v2.RandomCrop(32, padding=4, padding_mode="reflect"),
                                     v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32, scale=True)])

    def __getitem__(self, i):
        image, label = super().__getitem__(i)
        return self.transform(image), label


def dataloader_loop(model, optimizer, x, y, batch, device, workers) -> float:
    loader = DataLoader(_Transformed(x, y), batch_size=batch, shuffle=True, drop_last=True,
                        num_workers=workers, pin_memory=device.type == "cuda",
                        persistent_workers=False)
    start = time.perf_counter()
    seen = 0
    for images, labels in loader:
        images = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        _step(model, optimizer, images, labels.to(device))
        seen += len(labels)
    synchronize(device)
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default="small_cnn")
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of the training process")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    data = load_dataset(DataSpec("embedded", n_train=args.images, n_val=100, n_test=100), None)
    loops = {"resident tensors": (resident_loop, ()), "DataLoader": (dataloader_loop, (args.workers,))}
    setups = {}
    for name in loops:
        torch.manual_seed(0)
        model = build_model(args.arch, data.num_classes, data.mean, data.std).to(device,
                                                                                 memory_format=torch.channels_last)
        setups[name] = model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rates = {name: [] for name in loops}
    for repeat in range(args.repeats + 1):  # the first round warms up and is not counted
        for name, (loop, extra) in loops.items():
            rate = loop(*setups[name], data.train.x, data.train.y, args.batch, device, *extra)
            if repeat:
                rates[name].append(rate)
    print(f"one epoch of {args.images} images, {args.arch}, batch {args.batch}, {device}, "
          f"{torch.get_num_threads()} intra-op thread(s), DataLoader workers {args.workers}; median (min-max) "
          f"of {args.repeats} interleaved epochs after a warm-up epoch")
    for name, values in rates.items():
        print(f"{name:<17} {spread(values)} images/s")
    medians = {name: sorted(v)[len(v) // 2] for name, v in rates.items()}
    print(f"ratio             {medians['resident tensors'] / medians['DataLoader']:.2f}x")


if __name__ == "__main__":
    main()

"""Train your own models outside repcore, then verify them: torchvision's ResNet-18 on CIFAR-10 (the
JPEG q75 copy), hard labels and label smoothing, a few seeds, saved as plain state dicts with the
manifest that names them. Nothing here imports repcore: it stands for a team's own training script.

    python examples/train_torchvision.py --data ../shared/data/cifar10 --out my_models
    pytest claims -n auto --checkpoints my_models/models.toml --data-root ../shared/data

It trains on the first ``--images`` training images with its own normalization and holds out the
first half of the test split for the calibration fits (``held_out = "test_half"``), so no image
the claims fit T* or s* on was trained on. ``--roles hard ls mixup cutmix`` adds torchvision's
``transforms.v2`` MixUp and CutMix models.
"""

import argparse
import io
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.nn import functional as F
from torchvision.transforms import v2

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def load_cifar10_jpeg(folder: Path, images: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``images`` training images of ``jpeg_q75_all.npz`` as uint8 N x 3 x 32 x 32, labels."""
    archive = np.load(folder / "jpeg_q75_all.npz")
    jpeg, offsets = archive["train_jpeg"], archive["train_offsets"]
    x = np.stack([np.asarray(Image.open(io.BytesIO(jpeg[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
                  for i in range(images)])
    return torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(archive["train_y"][:images])


def train(role: str, seed: int, x: torch.Tensor, y: torch.Tensor, epochs: int, eps: float) -> torch.nn.Module:
    """SGD with momentum, cosine schedule, flips and crops; ``role`` picks the labels' regularizer."""
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(num_classes=10)
    steps = epochs * (len(y) // 128)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.05, total_steps=steps)
    augment = v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()])
    mixing = {"mixup": v2.MixUp(alpha=1.0, num_classes=10), "cutmix": v2.CutMix(alpha=1.0, num_classes=10)}.get(role)
    normalize = v2.Normalize(MEAN, STD)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for batch in order[: len(order) // 128 * 128].split(128):
            images = normalize(augment(x[batch]).float() / 255)
            labels = y[batch]
            if mixing is not None:
                images, labels = mixing(images, labels)
            loss = F.cross_entropy(model(images), labels, label_smoothing=eps if role == "ls" else 0.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"{role} seed {seed} epoch {epoch + 1}/{epochs} loss {loss.item():.3f}", flush=True)
    return model.eval()


def manifest(roles: list[str], seeds: list[int], images: int, epochs: int, eps: float, test_images: int) -> str:
    lines = ['dataset = "cifar10_jpeg"', f"n_test = {test_images}", 'held_out = "test_half"',
             'arch = "torchvision:resnet18"', "num_classes = 10", f"mean = {list(MEAN)}", f"std = {list(STD)}",
             "", "[recipe]", 'script = "examples/train_torchvision.py"', f"train_images = {images}",
             f"epochs = {epochs}", f"ls_eps = {eps}"]
    for role in roles:
        lines += ["", f"[[models.{role}]]", f'file = "{role}_s{{seed}}.pt"', f"seeds = {seeds}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the folder holding jpeg_q75_all.npz")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--roles", nargs="+", default=["hard", "ls"], choices=["hard", "ls", "mixup", "cutmix"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--eps", type=float, default=0.1, help="label smoothing of the ls role")
    parser.add_argument("--test-images", type=int, default=2000, help="n_test of the manifest (half calibrate)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    x, y = load_cifar10_jpeg(args.data, args.images)
    for seed in args.seeds:
        for role in args.roles:
            start = time.perf_counter()
            model = train(role, seed, x, y, args.epochs, args.eps)
            torch.save(model.state_dict(), args.out / f"{role}_s{seed}.pt")
            print(f"{role} seed {seed}: {time.perf_counter() - start:.0f}s", flush=True)
    (args.out / "models.toml").write_text(manifest(args.roles, args.seeds, args.images, args.epochs, args.eps,
                                                   args.test_images))
    print(f"wrote {args.out / 'models.toml'}")


if __name__ == "__main__":
    main()

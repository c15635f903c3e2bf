"""Verify your own models from Python, with no checkpoint files and no manifest: a small CNN of
this script's own (its class lives only here), trained with hard labels and with label smoothing
on three seeds each, handed to ``repcore.verify`` as modules.

    python examples/verify_in_python.py [--epochs 12] [--report-dir reports/in-python]

The data is repcore's embedded shapes at 16 x 16 px (``repcore.fixtures.data``), the same images
``verify`` evaluates on: the first training images train the models, the held-out ones (drawn by
the data's seed) calibrate them.
"""

import argparse
import sys

import torch
from torch import nn

import repcore
from repcore.fixtures.data import load_dataset
from repcore.fixtures.spec import DataSpec

DATA = DataSpec("embedded", n_train=1500, n_val=500, n_test=1000, image_size=16)


def block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.MaxPool2d(2))


class SmallCNN(nn.Module):
    """Three conv blocks, a 128-unit representation, a linear head; normalizes images in [0, 1] itself."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], num_classes: int = 10):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.features = nn.Sequential(block(3, 16), block(16, 32), block(32, 64), nn.AdaptiveAvgPool2d(1),
                                      nn.Flatten(), nn.Linear(64, 128), nn.ReLU())
        self.head = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features((x - self.mean) / self.std))


def train(seed: int, smoothing: float, epochs: int) -> nn.Module:
    """SGD with momentum and a one-cycle schedule, ``CrossEntropyLoss(label_smoothing=...)``."""
    torch.manual_seed(seed)
    data = load_dataset(DATA, None)
    model, loss = SmallCNN(data.mean, data.std), nn.CrossEntropyLoss(label_smoothing=smoothing)
    x, y = data.train.x.float() / 255, data.train.y
    batches = torch.randperm(len(y)).split(128)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-5)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=epochs * len(batches))
    for _ in range(epochs):
        for batch in torch.randperm(len(y)).split(128):
            optimizer.zero_grad()
            loss(model(x[batch]), y[batch]).backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--report-dir", default="reports/in-python")
    args = parser.parse_args()
    models = {"hard": [train(seed, 0.0, args.epochs) for seed in range(3)],
              "ls": [train(seed, 0.1, args.epochs) for seed in range(3)]}
    result = repcore.verify(models, "embedded", num_classes=10, image_size=16, n_train=DATA.n_train,
                            n_val=DATA.n_val, n_test=DATA.n_test, recipe={"epochs": args.epochs, "ls_eps": 0.1},
                            report_dir=args.report_dir, options=["--attack-images", "500", "-q"])
    for claim, verdict in result.verdicts.items():
        print(f"{claim:<4} {verdict:<13} {result.reasons[claim][:100]}")
    print(f"report: {result.report} (exit status {result.status})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

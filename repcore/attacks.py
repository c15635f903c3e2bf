"""L-inf gradient attacks on images in [0, 1] (normalization lives inside the model).

FGSM: x' = clip(x + eps sign(grad_x CE)). PGD: k steps of x' <- clip_[0,1](x + clip_eps(x' + a sign(grad) - x)),
optionally from a seeded uniform random start and with early stop (a sample stops moving once it is
misclassified). Model parameters are frozen during an attack, so backward computes input gradients only.
"""

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from repcore.autoattack import autoattack
from repcore.features import channels_last

ATTACK_CODE_VERSION = 2  # bump when this module or repcore.autoattack change what an attack produces


@dataclass(frozen=True)
class AttackConfig:
    """One named attack setting. ``kind``: fgsm | pgd | autoattack. ``subset``: attack only the
    first ``subset`` images; ``aa_attacks``: a custom AutoAttack subset, run for ``aa_iterations``
    APGD iterations (the standard version's 100 unless set)."""

    name: str
    kind: str
    eps: float
    step: float = 0.0
    steps: int = 1
    aa_attacks: tuple[str, ...] = ()
    subset: int | None = None
    aa_iterations: int | None = None

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> str:
        text = f"{self.name}: {self.kind} eps {self.eps * 255:.3g}/255"
        if self.kind == "pgd":
            text += f", step {self.step * 255:.3g}/255, {self.steps} steps"
        if self.kind == "autoattack":
            text += f", {'+'.join(self.aa_attacks) if self.aa_attacks else 'standard'}"
            if self.aa_iterations:
                text += f" ({self.aa_iterations} iterations)"
        if self.subset:
            text += f", first {self.subset} images"
        return text


def paper_attacks(strong_eps: float = 8 / 255, scale: float = 1.0, autoattack_subset: int | None = None,
                  autoattack_attacks: tuple[str, ...] = (), autoattack_iterations: int | None = None,
                  weak_subset: int | None = None, strong_subset: int | None = None) -> dict[str, AttackConfig]:
    """The paper's weak and strong settings (CLAIMS.md), every eps multiplied by ``scale``.

    strong_eps is 8/255 for CIFAR, 4/255 for ImageNet. ``weak_subset`` / ``strong_subset``: the
    first images that FGSM and PGD^w / PGD^s attack (default: the profile's attacked images).
    """
    weak, strong = 0.4 / 255 * scale, strong_eps * scale
    return {
        "FGSM": AttackConfig("FGSM", "fgsm", 1 / 255 * scale, subset=weak_subset),
        "PGD^w": AttackConfig("PGD^w", "pgd", weak, weak / 2, 7, subset=weak_subset),
        "PGD^s": AttackConfig("PGD^s", "pgd", strong, strong / 4, 10, subset=strong_subset),
        "AA^w": AttackConfig("AA^w", "autoattack", weak, aa_attacks=autoattack_attacks, subset=autoattack_subset,
                             aa_iterations=autoattack_iterations),
        "AA^s": AttackConfig("AA^s", "autoattack", strong, aa_attacks=autoattack_attacks, subset=autoattack_subset,
                             aa_iterations=autoattack_iterations),
    }


@contextlib.contextmanager
def frozen_eval(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode with parameters not requiring grad; restores both afterwards."""
    was_training = model.training
    flags = [p.requires_grad for p in model.parameters()]
    model.eval().requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)


def _input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().requires_grad_(True)
    logits = model(x)
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x)
    return grad, logits.detach()


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    with frozen_eval(model):
        grad, _ = _input_gradient(model, x, y)
        return (x + eps * grad.sign()).clamp(0, 1).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, step: float, steps: int,
        random_start: bool = False, generator: torch.Generator | None = None,
        early_stop: bool = False) -> torch.Tensor:
    with frozen_eval(model):
        delta = torch.zeros_like(x)
        if random_start:
            noise = torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1
            delta = ((x + eps * noise.to(x.device)).clamp(0, 1) - x)
        for _ in range(steps):
            grad, logits = _input_gradient(model, x + delta, y)
            if early_stop:
                grad = grad * (logits.argmax(1) == y).view(-1, 1, 1, 1)
            delta = (delta + step * grad.sign()).clamp(-eps, eps)
            delta = (x + delta).clamp(0, 1) - x
        return (x + delta).detach()


# Images per FGSM/PGD batch: on one CPU thread 250 keeps a small CNN's activations near the caches
# (PGD 1.2-1.6x faster than at 500, bench/pgd_throughput.py); an accelerator wants more.
ATTACK_BATCH = {"cpu": 250}
ACCELERATOR_ATTACK_BATCH = 1000


def run_attack(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, config: AttackConfig,
               device: torch.device, batch_size: int | None = None, seed: int = 0) -> tuple[torch.Tensor, list[str]]:
    """Adversarial versions (float, [0, 1], on the CPU) of uint8 or float ``images`` under ``config``,
    and the attack's own check messages (AutoAttack's; none for FGSM and PGD). ``batch_size``
    defaults to ``ATTACK_BATCH`` for the device type."""
    batch_size = batch_size or ATTACK_BATCH.get(torch.device(device).type, ACCELERATOR_ATTACK_BATCH)
    if images.dtype == torch.uint8:
        images = images.float() / 255
    if config.subset is not None:
        images, labels = images[:config.subset], labels[:config.subset]
    if config.kind == "autoattack":
        adversarial, checks = autoattack(model, images, labels, config.eps, device, config.aa_attacks, seed,
                                         iterations=config.aa_iterations)
        return adversarial.cpu(), checks
    generator = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, len(labels), batch_size):
        x = channels_last(images[start:start + batch_size].to(device))
        y = labels[start:start + batch_size].to(device)
        if config.kind == "fgsm":
            out.append(fgsm(model, x, y, config.eps).cpu())
        elif config.kind == "pgd":
            out.append(pgd(model, x, y, config.eps, config.step, config.steps, generator=generator).cpu())
        else:
            raise ValueError(f"unknown attack kind {config.kind!r}: fgsm, pgd or autoattack")
    return torch.cat(out).contiguous(), []


def attack_success_rate(clean_correct: torch.Tensor, adversarial_correct: torch.Tensor) -> float:
    """Share of clean-correct samples that the attack misclassifies."""
    n = int(clean_correct.sum())
    if n == 0:
        raise ValueError("no clean-correct samples: attack success rate is undefined")
    return float((clean_correct & ~adversarial_correct).sum() / n)

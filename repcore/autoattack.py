"""The one adapter over AutoAttack (package ``pyautoattack``: Croce & Hein's reference algorithms).

Nothing else in repcore imports ``pyautoattack``. The device is always passed explicitly (the
package defaults to CUDA).
"""

import logging

import torch
from torch import nn


def autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, device: torch.device,
               attacks: tuple[str, ...] = (), seed: int = 0, batch_size: int = 250) -> torch.Tensor:
    """L-inf AutoAttack on images in [0, 1]: ``version='standard'``, or a custom subset of
    ``attacks`` (e.g. ``("apgd-ce",)``, run with one restart as in the standard version).

    The standard version's targeted attacks (APGD-T, FAB-T) aim at the 9 most likely wrong classes;
    with K <= 9 classes they aim at all K - 1 (the package would index past the logits).
    """
    from pyautoattack import AutoAttack

    logging.getLogger("auto-attack").setLevel(logging.WARNING)
    if attacks:
        adversary = AutoAttack(model, attacks=list(attacks), device=device, eps=eps, norm="Linf",
                               seed=seed, version="custom")
        adversary.apgd.n_restarts = 1
    else:
        adversary = AutoAttack(model, device=device, eps=eps, norm="Linf", seed=seed, version="standard")
        with torch.no_grad():
            wrong_classes = model(x[:1].to(device)).shape[1] - 1
        adversary.apgd_targeted.n_target_classes = min(9, wrong_classes)
        adversary.fab.n_target_classes = min(9, wrong_classes)
    x_adv, _ = adversary.run_standard_evaluation(x.to(device), y.to(device), batch_size=batch_size)
    return x_adv.detach()

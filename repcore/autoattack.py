"""The one adapter over AutoAttack (package ``pyautoattack``: Croce & Hein's reference algorithms).

Nothing else in repcore imports ``pyautoattack``. The device is always passed explicitly (the
package defaults to CUDA).
"""

import contextlib
import logging
import warnings
from collections.abc import Iterator

import torch
from torch import nn


class _Collect(logging.Handler):
    def __init__(self, messages: list[str]):
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured_checks() -> Iterator[list[str]]:
    """Collect the package's own checks (randomized model, gradient masking, too few classes,
    Square beating the gradient attacks), which it logs to ``auto-attack`` or raises as warnings."""
    messages: list[str] = []
    logger = logging.getLogger("auto-attack")
    handler, propagate = _Collect(messages), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
        messages.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


class _ChannelsLast(torch.autograd.Function):
    """x in the channels_last layout going forward, its gradient contiguous coming back: the
    package flattens input gradients with ``view``, which a channels_last gradient does not allow."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous()


class ChannelsLastInputs(nn.Module):
    """``model`` fed channels_last batches (oneDNN's fast path) behind a contiguous interface."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(_ChannelsLast.apply(x) if x.dim() == 4 else x)


def _set_iterations(apgd, iterations: int) -> None:
    """APGD run for ``iterations``, with the step-size checkpoints its constructor derives from
    them (0.22, 0.06 and 0.03 of the iterations, as in ``APGDAttack.__init__``)."""
    apgd.n_iter = apgd.n_iter_orig = iterations
    apgd.n_iter_2 = max(int(0.22 * iterations), 1)
    apgd.n_iter_min = max(int(0.06 * iterations), 1)
    apgd.size_decr = max(int(0.03 * iterations), 1)


def autoattack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, device: torch.device,
               attacks: tuple[str, ...] = (), seed: int = 0, batch_size: int = 250,
               iterations: int | None = None) -> tuple[torch.Tensor, list[str]]:
    """(adversarial images, the package's check messages): L-inf AutoAttack on images in [0, 1],
    ``version='standard'``, or a custom subset of ``attacks`` (e.g. ``("apgd-ce",)``, run with one
    restart as in the standard version, for ``iterations`` APGD iterations if given).

    The standard version's targeted attacks (APGD-T, FAB-T) aim at the 9 most likely wrong classes;
    with K <= 9 classes they aim at all K - 1 (the package would index past the logits).
    """
    from pyautoattack import AutoAttack

    logging.getLogger("auto-attack").setLevel(logging.WARNING)
    model = ChannelsLastInputs(model).eval()
    if attacks:
        adversary = AutoAttack(model, attacks=list(attacks), device=device, eps=eps, norm="Linf",
                               seed=seed, version="custom")
        adversary.apgd.n_restarts = 1
        if iterations:
            _set_iterations(adversary.apgd, iterations)
    else:
        adversary = AutoAttack(model, device=device, eps=eps, norm="Linf", seed=seed, version="standard")
        with torch.no_grad():
            wrong_classes = model(x[:1].to(device)).shape[1] - 1
        adversary.apgd_targeted.n_target_classes = min(9, wrong_classes)
        adversary.fab.n_target_classes = min(9, wrong_classes)
    with captured_checks() as checks:
        x_adv, _ = adversary.run_standard_evaluation(x.to(device), y.to(device), batch_size=batch_size)
    return x_adv.detach(), list(dict.fromkeys(checks))

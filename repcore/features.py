"""Representation vectors v (the final linear layer's input), logits z = W v + b, and the head."""

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Representations:
    """Per-sample v (N x d), z (N x K) and labels y (N), on the CPU."""

    features: torch.Tensor
    logits: torch.Tensor
    labels: torch.Tensor

    @property
    def predictions(self) -> torch.Tensor:
        return self.logits.argmax(1)

    def first(self, n: int) -> "Representations":
        """The first ``n`` samples."""
        return Representations(self.features[:n], self.logits[:n], self.labels[:n])


def final_linear(model: nn.Module) -> nn.Linear:
    """The head: ``model.head`` if it is an ``nn.Linear``, else the last ``nn.Linear`` registered."""
    head = getattr(model, "head", None)
    if isinstance(head, nn.Linear):
        return head
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to read features from")
    return linears[-1]


def linear_logits(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor) -> torch.Tensor:
    """z = W v + b for v of shape (..., d); a bias of None means a bias-free head."""
    z = v @ W.T
    return z if b is None else z + b


def head_parameters(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(W, b) of the head on the CPU, detached; b is None for a bias-free head."""
    head = final_linear(model)
    bias = None if head.bias is None else head.bias.detach().cpu()
    return head.weight.detach().cpu(), bias


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """A 4-D image batch in the channels_last layout, the zoo models' layout (oneDNN's fast path on
    the CPU); any other tensor as it is."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x


@torch.no_grad()
def representations(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                    device: torch.device | str = "cpu", batch_size: int = 500) -> Representations:
    """Run ``model`` in eval mode over uint8 or [0,1] float ``images``; capture v with a forward hook.

    Works for any model whose logits come from a final ``nn.Linear`` (torchvision classifiers too).
    """
    captured: list[torch.Tensor] = []
    hook = final_linear(model).register_forward_hook(
        lambda module, inputs, output: captured.append(inputs[0].float().cpu()))
    model.eval()
    logits = []
    try:
        for start in range(0, len(images), batch_size):
            batch = images[start:start + batch_size].to(device)
            if batch.dtype == torch.uint8:
                batch = batch.float() / 255
            logits.append(model(channels_last(batch)).float().cpu())
    finally:
        hook.remove()
    features = torch.cat(captured)
    return Representations(features, torch.cat(logits), labels.cpu())

"""What several claims read off a zoo model: head, confidence, predictions, alignment with v_opt."""

import torch

from repcore.features import head_parameters
from repcore.geometry import alignment, class_centers_min_loss

REFERENCE_EPS = 0.1  # eps0 of the reference target for the minimal-loss class centers (CLAIMS.md)


def confidence(zoo_model) -> torch.Tensor:
    return zoo_model.test.logits.softmax(1).amax(1)


_CENTERS: dict[str, torch.Tensor] = {}


def min_loss_centers(zoo_model) -> torch.Tensor:
    """v_opt,c for every class c of the model's head (K x d), computed once per model."""
    key = zoo_model.spec.key()
    if key not in _CENTERS:
        W, b = head_parameters(zoo_model.model)
        _CENTERS[key] = class_centers_min_loss(W, b, REFERENCE_EPS)
    return _CENTERS[key]


def predicted_alignment(zoo_model) -> torch.Tensor:
    """cos(v, v_opt,c_hat) on the test split, c_hat the predicted class."""
    return alignment(zoo_model.test.features, min_loss_centers(zoo_model), zoo_model.test.predictions)


def true_class_alignment(zoo_model, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """cos(v, v_opt,y) with y the true class (attack analyses)."""
    return alignment(features, min_loss_centers(zoo_model), labels)


def large_bias(zoo_model, W: torch.Tensor) -> torch.Tensor:
    """A bias of about 3x the typical |W v| logit (seeded normal draws): the negative-control head
    on which the bias, not the direction of v, decides."""
    typical_logit = (zoo_model.test.features @ W.T).abs().mean()
    return 3 * typical_logit * torch.randn(W.shape[0], generator=torch.Generator().manual_seed(0))

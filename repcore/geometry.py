"""Geometry of the representation space: magnitudes, class centers, alignment, cones, rays.

v is a representation vector (the head's input), z = W v + b the logits, c a class.
"""

import torch

from repcore.features import linear_logits
from repcore.theory import min_loss_point, smoothed_target


def mean_square(v: torch.Tensor) -> torch.Tensor:
    """Per-sample mean of v^2 over the d dimensions: ||v||^2 / d (N values)."""
    return v.pow(2).mean(dim=1)


def sample_rms(v: torch.Tensor) -> torch.Tensor:
    """Per-sample RMS ||v||_2 / sqrt(d), for histograms and bins (N values)."""
    return mean_square(v).sqrt()


def feature_rms(v: torch.Tensor) -> float:
    """Global feature RMS: sqrt of the mean of v^2 over samples and dimensions."""
    return float(v.pow(2).mean().sqrt())


def class_centers_min_loss(W: torch.Tensor, b: torch.Tensor | None, eps0: float = 0.1) -> torch.Tensor:
    """v_opt,c for every class c: the minimum-norm argmin_v CE(softmax(W v + b), t_c) with the
    reference smoothed target t_c at ``eps0`` (the same for every model, so centers compare). K x d.
    """
    K = W.shape[0]
    targets = torch.stack([smoothed_target(c, K, eps0) for c in range(K)])
    return min_loss_point(W.detach(), None if b is None else b.detach(), targets).float()


def class_means(v: torch.Tensor, classes: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Mean representation of each class (K x d); a class without samples gets zeros."""
    sums = torch.zeros(num_classes, v.shape[1], dtype=v.dtype).index_add_(0, classes, v)
    counts = torch.bincount(classes, minlength=num_classes).clamp(min=1).to(v.dtype)
    return sums / counts[:, None]


def alignment(v: torch.Tensor, centers: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """cos(v_i, center_{c_i}) per sample, for the class c_i given per sample."""
    return torch.nn.functional.cosine_similarity(v, centers[classes], dim=1)


def prediction_unchanged_under_scaling(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor,
                                       scales: torch.Tensor) -> torch.Tensor:
    """Per sample: argmax(W (a v) + b) == argmax(W v + b) for every a in ``scales`` (cones)."""
    base = linear_logits(W, b, v).argmax(1)
    scaled = linear_logits(W, b, scales.view(-1, 1, 1) * v)
    return (scaled.argmax(2) == base).all(0)


def confidence_along_rays(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor,
                          scales: torch.Tensor) -> torch.Tensor:
    """conf(a v) = max_k softmax(W (a v) + b)_k for each a in ``scales``: S x N."""
    return torch.softmax(linear_logits(W, b, scales.view(-1, 1, 1) * v), dim=2).amax(2)


def loss_gradient(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """grad_v CE(W v + b, y) = W^T (softmax(W v + b) - e_y) per sample (N x d)."""
    p = torch.softmax(linear_logits(W, b, v), dim=1)
    return (p - torch.nn.functional.one_hot(y, W.shape[0]).to(p.dtype)) @ W


def radial_index(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """cos(grad_v CE(W v + b, y), -v) per sample; 1 means the loss gradient points at the origin."""
    return torch.nn.functional.cosine_similarity(loss_gradient(W, b, v, y), -v, dim=1)


def inward_displacement(v: torch.Tensor, v_adv: torch.Tensor) -> torch.Tensor:
    """cos(f(x_adv) - f(x), -f(x)) per sample: 1 when an attack moves v straight toward the origin
    (0 where it does not move v at all)."""
    return torch.nn.functional.cosine_similarity(v_adv - v, -v, dim=1).nan_to_num(0.0)

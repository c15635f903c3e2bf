"""Theorem 1: the CE-optimal representation under soft vs hard labels.

For a head z = W f + b (W in R^{K x d}) and a target distribution t, the loss
CE(f) = -sum_k t_k log softmax(W f + b)_k is convex in f with gradient W^T (softmax(W f + b) - t).

- Soft labels, t = (1 - eps) e_y + eps/K 1 with 0 < eps < (K-1)/K: when W has full row rank
  (K <= d) the minimizers are {f : softmax(W f + b) = t}; we take the minimum-norm one, f*.
  With b = 0 and orthogonal rows of equal norm ||w||,
      ||f*|| = sqrt((K-1)/K) * log(1 + K (1 - eps) / eps) / ||w||,
  and for near-orthogonal rows this is an approximation. With b = 0, f* is linear in the logit
  gap log(1 + K (1 - eps) / eps), so ||f*|| decreases as eps grows.
- Hard labels (eps = 0): CE(s u) -> 0 as s -> infinity along any u with (W u)_y > (W u)_k for
  all k != y, so there is no finite optimum: the hard-label optimal feature is larger than any
  soft-label one.
"""

from dataclasses import dataclass

import numpy as np
import torch


def smoothed_target(y: int, num_classes: int, eps: float) -> torch.Tensor:
    """t = (1 - eps) e_y + eps / K 1 (PyTorch's label-smoothing convention)."""
    t = torch.full((num_classes,), eps / num_classes, dtype=torch.float64)
    t[y] += 1 - eps
    return t


def cross_entropy(f: torch.Tensor, W: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """CE(softmax(W f + b), t) for f of shape (..., d) and t of shape (..., K)."""
    return -(t * torch.log_softmax(f @ W.T + b, dim=-1)).sum(-1)


def min_loss_point(W: torch.Tensor, b: torch.Tensor | None, targets: torch.Tensor,
                   max_iter: int = 500, tol: float = 1e-12) -> torch.Tensor:
    """argmin_f CE(softmax(W f + b), t) for each row t of ``targets`` (M x K) -> M x d, float64.

    L-BFGS from f = 0: every gradient lies in the row space of W, so the iterates stay there and
    converge to the minimum-norm minimizer. Also defined when K > d (the loss still has a minimum
    when t has full support).
    """
    W, b, targets = W.double(), (b if b is not None else torch.zeros(W.shape[0])).double(), targets.double()
    f = torch.zeros(targets.shape[0], W.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([f], lr=1, max_iter=max_iter, tolerance_grad=tol,
                                  tolerance_change=tol, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = cross_entropy(f, W, b, targets).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return f.detach()


def min_norm_optimum_closed_form(W: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """For full row rank W (K <= d): f* = W^+ (log t - b + c 1) with c minimizing ||f*||."""
    W, b, t = W.double(), b.double(), t.double()
    pinv = torch.linalg.pinv(W)
    base, ones = pinv @ (torch.log(t) - b), pinv @ torch.ones_like(t)
    c = -(base @ ones) / (ones @ ones)
    return base + c * ones


def orthogonal_norm_approximation(num_classes: int, eps: float, weight_norm: float) -> float:
    """||f*|| ~ sqrt((K-1)/K) log(1 + K (1 - eps) / eps) / ||w|| (b = 0, near-orthogonal rows)."""
    k = num_classes
    return float(np.sqrt((k - 1) / k) * np.log1p(k * (1 - eps) / eps) / weight_norm)


def hard_label_loss_along_ray(W: torch.Tensor, b: torch.Tensor, y: int, direction: torch.Tensor,
                              scales: np.ndarray) -> np.ndarray:
    """CE(softmax(W (s u) + b), e_y) for each s in ``scales`` along the unit direction u.

    Computed as log1p(sum_{k != y} exp(z_k - z_y)), which stays accurate (not 0) down to ~1e-300.
    """
    u = direction.double() / direction.double().norm()
    points = torch.as_tensor(np.asarray(scales), dtype=torch.float64)[:, None] * u
    z = points @ W.double().T + b.double()
    gaps = torch.cat([z[:, :y], z[:, y + 1:]], dim=1) - z[:, y:y + 1]
    return torch.log1p(torch.exp(gaps).sum(1)).numpy()


@dataclass(frozen=True)
class Theorem1Check:
    """The theorem's conclusions on one head and class: optimal norms along an eps grid."""

    eps: tuple[float, ...]
    norms: tuple[float, ...]
    norms_decrease: bool
    hard_loss_keeps_falling: bool

    @property
    def holds(self) -> bool:
        return self.norms_decrease and self.hard_loss_keeps_falling


def check_theorem1(W: torch.Tensor, b: torch.Tensor, y: int, eps_grid: np.ndarray) -> Theorem1Check:
    """Soft optimum norms ||f*(eps)|| along ``eps_grid`` (increasing) and the hard-label ray.

    The ray follows the direction of the smallest-eps optimum, scaled from its norm up by 30x.
    """
    K = W.shape[0]
    targets = torch.stack([smoothed_target(y, K, float(e)) for e in eps_grid])
    optima = min_loss_point(W, b, targets)
    norms = optima.norm(dim=1).numpy()
    start = max(float(norms[0]), 1e-3)
    losses = hard_label_loss_along_ray(W, b, y, optima[0], start * np.geomspace(1, 30, 12))
    return Theorem1Check(tuple(map(float, eps_grid)), tuple(map(float, norms)),
                         bool(np.all(np.diff(norms) < 0)), bool(np.all(np.diff(losses) < 0)))


def weight_norm_cv(W: torch.Tensor) -> float:
    """Coefficient of variation of the class-weight norms ||w_c|| (0 when all are equal)."""
    norms = W.double().norm(dim=1)
    return float(norms.std(unbiased=False) / norms.mean())


def bias_ratio(b: torch.Tensor | None, W: torch.Tensor, v: torch.Tensor) -> float:
    """mean |b| / mean |W v| over samples v: how much of the logits the bias carries."""
    if b is None:
        return 0.0
    return float(b.double().abs().mean() / (v.double() @ W.double().T).abs().mean())

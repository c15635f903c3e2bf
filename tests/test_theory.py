import numpy as np
import pytest
import torch

from repcore import theory


def _orthogonal_head(K, d, norm, seed=0):
    q, _ = torch.linalg.qr(torch.randn(d, K, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return norm * q.T  # K x d, orthogonal rows of equal norm


def test_min_loss_point_matches_the_min_norm_closed_form():
    g = torch.Generator().manual_seed(1)
    W, b = torch.randn(5, 9, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    t = theory.smoothed_target(2, 5, 0.2)
    numeric = theory.min_loss_point(W, b, t[None])[0]
    closed = theory.min_norm_optimum_closed_form(W, b, t)
    assert torch.allclose(numeric, closed, atol=1e-6)
    assert torch.allclose(torch.softmax(W @ numeric + b, 0), t, atol=1e-8)


def test_orthogonal_equal_norm_optimum_has_the_closed_form_norm():
    W = _orthogonal_head(6, 10, norm=2.0)
    for eps in (0.05, 0.2, 0.5):
        f = theory.min_loss_point(W, torch.zeros(6), theory.smoothed_target(0, 6, eps)[None])[0]
        assert abs(f.norm().item() - theory.orthogonal_norm_approximation(6, eps, 2.0)) < 1e-6


def test_near_orthogonal_rows_match_the_approximation_within_ten_percent():
    """Random rows in d = 100 K dimensions, rescaled to equal norm, are near-orthogonal."""
    g = torch.Generator().manual_seed(3)
    W = torch.randn(5, 500, generator=g, dtype=torch.float64)
    W = W / W.norm(dim=1, keepdim=True)
    f = theory.min_loss_point(W, torch.zeros(5), theory.smoothed_target(1, 5, 0.1)[None])[0]
    assert f.norm().item() == pytest.approx(theory.orthogonal_norm_approximation(5, 0.1, 1.0), rel=0.1)


def test_min_loss_point_exists_when_classes_outnumber_dimensions():
    g = torch.Generator().manual_seed(4)
    W, b = torch.randn(10, 2, generator=g, dtype=torch.float64), torch.zeros(10, dtype=torch.float64)
    f = theory.min_loss_point(W, b, theory.smoothed_target(3, 10, 0.1)[None])[0]
    grad = W.T @ (torch.softmax(W @ f + b, 0) - theory.smoothed_target(3, 10, 0.1))
    assert grad.norm() < 1e-6 and torch.isfinite(f).all()


def test_hard_label_loss_falls_without_end_along_the_class_direction():
    W = _orthogonal_head(4, 6, norm=1.0)
    direction = W.T @ (torch.eye(4, dtype=torch.float64)[0] - 0.25)
    losses = theory.hard_label_loss_along_ray(W, torch.zeros(4), 0, direction, np.geomspace(1, 100, 20))
    assert np.all(np.diff(losses) < 0) and 0 < losses[-1] < 1e-20


def test_assumption_measures():
    W = _orthogonal_head(4, 6, norm=1.5)
    assert theory.weight_norm_cv(W) < 1e-12
    v = torch.randn(50, 6, dtype=torch.float64)
    assert theory.bias_ratio(None, W, v) == 0.0
    expected = 0.5 / (v @ W.T).abs().mean().item()
    assert theory.bias_ratio(torch.full((4,), 0.5), W, v) == pytest.approx(expected)

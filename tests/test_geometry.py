import numpy as np
import torch

from repcore import geometry


def test_rms_and_cosine_match_numpy():
    v = torch.randn(40, 7, generator=torch.Generator().manual_seed(0))
    n = v.numpy().astype(np.float64)
    assert abs(geometry.feature_rms(v) - np.sqrt((n ** 2).mean())) < 1e-6
    assert np.allclose(geometry.sample_rms(v).numpy(), np.linalg.norm(n, axis=1) / np.sqrt(7), atol=1e-6)
    centers = torch.randn(3, 7)
    classes = torch.arange(40) % 3
    c = centers[classes].numpy()
    expected = (n * c).sum(1) / (np.linalg.norm(n, axis=1) * np.linalg.norm(c, axis=1))
    assert np.allclose(geometry.alignment(v, centers, classes).numpy(), expected, atol=1e-6)


def test_class_means():
    v = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    means = geometry.class_means(v, torch.tensor([0, 0, 2]), 3)
    assert torch.equal(means, torch.tensor([[2.0, 1.0], [0.0, 0.0], [5.0, 5.0]]))


def test_radial_index_uses_the_autograd_gradient():
    g = torch.Generator().manual_seed(2)
    W, b = torch.randn(5, 4, generator=g), torch.randn(5, generator=g)
    v = torch.randn(30, 4, generator=g, requires_grad=True)
    y = torch.randint(0, 5, (30,), generator=g)
    torch.nn.functional.cross_entropy(v @ W.T + b, y, reduction="sum").backward()
    expected = torch.nn.functional.cosine_similarity(v.grad, -v.detach(), dim=1)
    assert torch.allclose(geometry.radial_index(W, b, v.detach(), y), expected, atol=1e-5)


def test_bias_free_predictions_are_scale_invariant_and_confidence_grows_along_rays():
    g = torch.Generator().manual_seed(3)
    W, v = torch.randn(6, 3, generator=g), torch.randn(100, 3, generator=g)
    scales = torch.tensor([0.25, 0.5, 1.0, 2.0, 4.0])
    assert geometry.prediction_unchanged_under_scaling(W, None, v, scales).all()
    conf = geometry.confidence_along_rays(W, None, v, scales)
    assert (conf.diff(dim=0) >= 0).all()


def test_min_loss_centers_reach_the_reference_target():
    g = torch.Generator().manual_seed(5)
    W, b = torch.randn(3, 5, generator=g), torch.randn(3, generator=g)
    centers = geometry.class_centers_min_loss(W, b, eps0=0.1)
    p = torch.softmax(centers @ W.T + b, dim=1)
    assert torch.allclose(p.diagonal(), torch.full((3,), 0.9 + 0.1 / 3), atol=1e-4)


def test_inward_displacement_is_one_toward_the_origin_and_zero_without_movement():
    v = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v_adv = torch.tensor([[1.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    assert torch.allclose(geometry.inward_displacement(v, v_adv), torch.tensor([1.0, -1.0, 0.0]))

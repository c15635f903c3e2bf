"""T1 (Theorem 1): with b = 0 and equal class-weight norms, the CE-optimal feature under hard labels
is larger than under soft labels. Under soft labels (0 < eps < (K-1)/K) the optimum f* is finite,
softmax(W f*) = t when K <= d, and ||f*|| decreases as eps grows; under hard labels the loss keeps
falling as ||f|| grows along the class direction, so no finite optimum exists.

Checked for every generated head (hypothesis) to declared tolerances. Negative control: a head with
a large bias, outside the theorem's assumptions, where the ordering breaks.
"""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from repcore.criteria import Criterion
from repcore.stats import Estimate
from repcore.theory import check_theorem1, min_loss_point, smoothed_target

TARGET_TOLERANCE = 1e-5
NORM_DECREASES = Criterion("T1", "share of eps steps where ||f*|| decreases", 0.999, "above",
                           control=True, min_n=1)


@st.composite
def equal_norm_heads(draw):
    """(W, y, eps1 < eps2): K in [2, 8], d in [K, 16], rows of one common norm in [0.5, 3]."""
    k = draw(st.integers(2, 8))
    d = draw(st.integers(k, 16))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    W = torch.randn(k, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    W = draw(st.floats(0.5, 3.0)) * W / W.norm(dim=1, keepdim=True)
    top = (k - 1) / k - 0.02
    eps = sorted(draw(st.lists(st.floats(0.01, top), min_size=2, max_size=2, unique=True)))
    return W, draw(st.integers(0, k - 1)), eps


def test_soft_optimum_is_finite_reaches_the_target_and_shrinks_as_eps_grows(check):
    cases = 0

    @given(equal_norm_heads())
    def holds(case):
        nonlocal cases
        W, y, (eps1, eps2) = case
        if eps2 - eps1 < 1e-3:
            return
        cases += 1
        zero = torch.zeros(W.shape[0], dtype=torch.float64)
        result = check_theorem1(W, zero, y, np.array([eps1, eps2]))
        assert result.norms_decrease, f"||f*|| did not decrease: {result}"
        f = min_loss_point(W, zero, smoothed_target(y, W.shape[0], eps1)[None])[0]
        assert torch.isfinite(f).all()
        assert torch.allclose(torch.softmax(W @ f, 0), smoothed_target(y, W.shape[0], eps1),
                              atol=TARGET_TOLERANCE)

    holds()
    check.holds_for_all("T1", "soft optimum finite, softmax(W f*) = t, ||f*|| decreasing in eps", cases)


def test_hard_label_loss_keeps_falling_beyond_every_soft_optimum(check):
    cases = 0

    @given(equal_norm_heads())
    def holds(case):
        nonlocal cases
        W, y, (eps1, _) = case
        cases += 1
        result = check_theorem1(W, torch.zeros(W.shape[0], dtype=torch.float64), y, np.array([eps1]))
        assert result.hard_loss_keeps_falling, f"hard-label loss stopped falling: {result}"

    holds()
    check.holds_for_all("T1", "hard-label CE strictly decreasing along the ray past ||f*(eps)||", cases)


def test_control_large_bias_head_breaks_the_ordering(check):
    """K = 2, d = 1, w = (1, -1), b = (5, 0): the bias already over-shoots the soft target of class
    0, so a softer target needs a feature pushing against the bias, and ||f*|| grows with eps."""
    W = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    b = torch.tensor([5.0, 0.0], dtype=torch.float64)
    norms = check_theorem1(W, b, 0, np.array([0.05, 0.1, 0.2, 0.3, 0.4])).norms
    share = float(np.mean(np.diff(norms) < 0))
    check.not_supported(NORM_DECREASES.decide([Estimate.exact(share, len(norms) - 1)], [0],
                                              f"large-bias head, norms {np.round(norms, 3).tolist()}"))

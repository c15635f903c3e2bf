"""T1a: Theorem 1's assumptions hold approximately on trained heads: the class-weight norms ||w_c||
are nearly equal and the bias carries a small part of the logits.

Declared bounds: coefficient of variation of ||w_c|| below 0.2; mean |b| / mean |W v| below 0.2
(95% CI over test samples). Negative controls: the hard head with its class-weight norms spread
from 1x to 4x, and the hard head with a large bias.
"""

import numpy as np
import pytest
import torch

from claims.zoo_views import large_bias
from repcore.features import head_parameters
from repcore.stats import decide, paired_bootstrap_ci
from repcore.theory import weight_norm_cv

MAX_WEIGHT_NORM_CV = 0.2
MAX_BIAS_RATIO = 0.2
MODELS = ["hard", "ls", "mixup", "cutmix"]


def weight_norm_verdict(W: torch.Tensor, label: str):
    cv = weight_norm_cv(W)
    return decide("T1a", f"CV of ||w_c|| ({label})", cv, (cv, cv), MAX_WEIGHT_NORM_CV, "below",
                  W.shape[0], min_n=2)


def bias_ratio_verdict(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, label: str):
    weight_term = (v.double() @ W.double().T).abs().mean(1).numpy()
    bias_size = float(b.abs().mean()) if b is not None else 0.0

    def ratio(term, axis=-1):
        return bias_size / term.mean(axis)

    value, low, high = paired_bootstrap_ci(ratio, [weight_term])
    return decide("T1a", f"mean|b| / mean|W v| ({label})", value, (low, high), MAX_BIAS_RATIO,
                  "below", len(weight_term))


@pytest.mark.parametrize("name", MODELS)
def test_class_weight_norms_are_nearly_equal(zoo, name, check):
    W, _ = head_parameters(zoo[name].model)
    verdict = weight_norm_verdict(W, name)
    check.evidence(name, weight_norm_cv=verdict.value)
    check.supported(verdict)


@pytest.mark.parametrize("name", MODELS)
def test_bias_is_small_next_to_the_weight_term(zoo, name, check):
    W, b = head_parameters(zoo[name].model)
    verdict = bias_ratio_verdict(W, b, zoo[name].test.features, name)
    check.evidence(name, bias_ratio=verdict.value)
    check.supported(verdict)
    assert np.isfinite(verdict.value)


def test_control_spread_weight_norms_are_not_equal(zoo, check):
    W, _ = head_parameters(zoo["hard"].model)
    spread = torch.linspace(1, 4, W.shape[0])[:, None] * W / W.norm(dim=1, keepdim=True)
    check.not_supported(weight_norm_verdict(spread, "hard, norms spread 1x-4x"))


def test_control_large_bias_is_not_small(zoo, check):
    W, _ = head_parameters(zoo["hard"].model)
    check.not_supported(bias_ratio_verdict(W, large_bias(zoo["hard"], W), zoo["hard"].test.features,
                                           "hard, large bias"))

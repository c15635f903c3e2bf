"""T1a: Theorem 1's assumptions hold approximately on trained heads: the class-weight norms ||w_c||
are nearly equal and the bias carries a small part of the logits.

Declared bounds: coefficient of variation of ||w_c|| below 0.2; mean |b| / mean |W v| below 0.2
(95% CI over test samples).
"""

import numpy as np
import pytest

from repcore.features import head_parameters
from repcore.stats import decide, paired_bootstrap_ci
from repcore.theory import weight_norm_cv

MAX_WEIGHT_NORM_CV = 0.2
MAX_BIAS_RATIO = 0.2
MODELS = ["hard", "ls", "mixup", "cutmix"]


@pytest.mark.parametrize("name", MODELS)
def test_class_weight_norms_are_nearly_equal(zoo, name, check):
    W, _ = head_parameters(zoo[name].model)
    cv = weight_norm_cv(W)
    check.evidence(name, weight_norm_cv=cv)
    check.supported(decide("T1a", f"CV of ||w_c|| ({name})", cv, (cv, cv), MAX_WEIGHT_NORM_CV,
                           "below", W.shape[0], min_n=2))


@pytest.mark.parametrize("name", MODELS)
def test_bias_is_small_next_to_the_weight_term(zoo, name, check):
    W, b = head_parameters(zoo[name].model)
    weight_term = (zoo[name].test.features.double() @ W.double().T).abs().mean(1).numpy()
    bias_size = float(b.abs().mean()) if b is not None else 0.0

    def ratio(term, axis=-1):
        return bias_size / term.mean(axis)

    value, low, high = paired_bootstrap_ci(ratio, [weight_term])
    check.evidence(name, bias_ratio=value)
    check.supported(decide("T1a", f"mean|b| / mean|W v| ({name})", value, (low, high),
                           MAX_BIAS_RATIO, "below", len(weight_term)))
    assert np.isfinite(value)

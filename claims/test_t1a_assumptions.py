"""T1a: Theorem 1's assumptions hold approximately on trained heads: the class-weight norms ||w_c||
are nearly equal and the bias carries a small part of the logits.

Declared bounds (seed-level intervals): coefficient of variation of ||w_c|| below 0.2; mean |b| /
mean |W v| below 0.2. Negative controls, built from the model under test: its own class weights with
their norms multiplied by 1x to 4x, and its own bias inflated by 3x the typical |W v| logit (in the
direction of its sign); both values depend on the model.
"""

import pytest
import torch

from claims.zoo_views import MAX_BIAS_RATIO, bias_ratio
from fixtures.regularizers import compared
from repcore.criteria import Criterion
from repcore.features import head_parameters
from repcore.stats import Estimate
from repcore.theory import weight_norm_cv

MODELS = ["hard", *compared().values()]
EQUAL_NORMS = Criterion("T1a", "CV of ||w_c||", 0.2, "below", min_n=2)
SMALL_BIAS = Criterion("T1a", "mean|b| / mean|W v|", MAX_BIAS_RATIO, "below")
SPREAD_NORMS = EQUAL_NORMS.as_control("CV of ||w_c||, norms multiplied by 1x-4x")
INFLATED_BIAS = SMALL_BIAS.as_control("mean|b| / mean|W v|, bias inflated by 3x the typical |W v|")


def norm_cv(W: torch.Tensor) -> Estimate:
    return Estimate.exact(weight_norm_cv(W), W.shape[0])


def spread_norms(W: torch.Tensor) -> torch.Tensor:
    """The model's own class weights, row c multiplied by 1 + 3c / (K - 1)."""
    return torch.linspace(1, 4, W.shape[0])[:, None] * W


def inflated_bias(zoo_model, W: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """The model's own bias plus 3x the typical |W v| logit, in the direction of its sign."""
    typical_logit = (zoo_model.test.features @ W.T).abs().mean()
    b = torch.zeros(W.shape[0]) if b is None else b
    return b + 3 * typical_logit * torch.where(b >= 0, 1.0, -1.0)


@pytest.mark.parametrize("name", MODELS)
def test_class_weight_norms_are_nearly_equal(runs, name, check):
    for zoo in runs.zoos:
        check.evidence(zoo[name].name, weight_norm_cv=weight_norm_cv(head_parameters(zoo[name].model)[0]))
    check.supported(runs.decide(EQUAL_NORMS, lambda zoo: norm_cv(head_parameters(zoo[name].model)[0]), name))


@pytest.mark.parametrize("name", MODELS)
def test_bias_is_small_next_to_the_weight_term(runs, name, check):
    def ratio(zoo) -> Estimate:
        return bias_ratio(*head_parameters(zoo[name].model), zoo[name].test.features)

    for zoo in runs.zoos:
        check.evidence(zoo[name].name, bias_ratio=ratio(zoo).value)
    check.supported(runs.decide(SMALL_BIAS, ratio, name))


def test_control_spread_weight_norms_are_not_equal(runs, check):
    check.not_supported(runs.decide(SPREAD_NORMS, lambda zoo: norm_cv(spread_norms(head_parameters(zoo["hard"].model)[0])),
                                    "hard"))


def test_control_inflated_bias_is_not_small(runs, check):
    def ratio(zoo) -> Estimate:
        W, b = head_parameters(zoo["hard"].model)
        return bias_ratio(W, inflated_bias(zoo["hard"], W, b), zoo["hard"].test.features)

    check.not_supported(runs.decide(INFLATED_BIAS, ratio, "hard"))

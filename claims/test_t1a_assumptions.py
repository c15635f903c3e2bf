"""T1a: Theorem 1's assumptions hold approximately on trained heads: the class-weight norms ||w_c||
are nearly equal and the bias carries a small part of the logits.

Declared bounds (seed-level intervals): coefficient of variation of ||w_c|| below 0.2; mean |b| /
mean |W v| below 0.2 (``repcore.regime``). Negative controls, trained models on which the
assumptions genuinely fail: the hard-label recipe on a class-imbalanced (long-tailed) training
split, whose class weights grow with class frequency (role ``imbalanced``: its CV must not come out
below the bound), and the same with a 2-D bottleneck with bias, whose bias carries the class
priors that two feature dimensions cannot (role ``bottleneck_imbalanced``: its bias ratio must not
come out below the bound). Both values come from a model, trained for every seed.
"""

import pytest
import torch

from repcore.fixtures.regularizers import compared
from repcore import regime
from repcore.criteria import NON_NEGATIVE, Criterion
from repcore.features import head_parameters
from repcore.stats import Estimate
from repcore.theory import weight_norm_cv

MODELS = ["hard", *compared().values()]
EQUAL_NORMS = Criterion("T1a", "CV of ||w_c||", 0.2, "below", min_n=2, value_range=NON_NEGATIVE)
SMALL_BIAS = Criterion("T1a", "mean|b| / mean|W v|", regime.BIAS_RATIO, "below", value_range=NON_NEGATIVE)
IMBALANCED_NORMS = EQUAL_NORMS.as_control("CV of ||w_c||, trained on a class-imbalanced split")
IMBALANCED_BIAS = SMALL_BIAS.as_control("mean|b| / mean|W v|, 2-D bottleneck trained on a class-imbalanced split")


def norm_cv(W: torch.Tensor) -> Estimate:
    return Estimate.exact(weight_norm_cv(W), W.shape[0])


def bias_ratio(zoo_model) -> Estimate:
    return regime.bias_ratio(*head_parameters(zoo_model.model), zoo_model.test.features)


@pytest.mark.parametrize("name", MODELS)
def test_class_weight_norms_are_nearly_equal(runs, name, check):
    for zoo in runs.zoos:
        check.evidence(zoo[name].name, weight_norm_cv=weight_norm_cv(head_parameters(zoo[name].model)[0]))
    check.supported(runs.decide(EQUAL_NORMS, lambda zoo: norm_cv(head_parameters(zoo[name].model)[0]), name))


@pytest.mark.parametrize("name", MODELS)
def test_bias_is_small_next_to_the_weight_term(runs, name, check):
    for zoo in runs.zoos:
        check.evidence(zoo[name].name, bias_ratio=bias_ratio(zoo[name]).value)
    check.supported(runs.decide(SMALL_BIAS, lambda zoo: bias_ratio(zoo[name]), name))


def test_control_class_imbalance_spreads_the_weight_norms(runs, check):
    for zoo in runs.zoos:
        check.evidence(zoo["imbalanced"].name,
                       weight_norm_cv=weight_norm_cv(head_parameters(zoo["imbalanced"].model)[0]))
    check.not_supported(runs.decide(IMBALANCED_NORMS, lambda zoo: norm_cv(head_parameters(zoo["imbalanced"].model)[0]),
                                    "imbalanced", roles=("imbalanced",)))


def test_control_class_imbalance_in_two_dimensions_needs_the_bias(runs, check):
    for zoo in runs.zoos:
        check.evidence(zoo["bottleneck_imbalanced"].name, bias_ratio=bias_ratio(zoo["bottleneck_imbalanced"]).value)
    check.not_supported(runs.decide(IMBALANCED_BIAS, lambda zoo: bias_ratio(zoo["bottleneck_imbalanced"]),
                                    "bottleneck_imbalanced", roles=("bottleneck_imbalanced",)))

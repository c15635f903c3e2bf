"""What several claims read off a zoo model (head, confidence, alignment with v_opt), and the
preconditions of the claims that presume a regime, decided on the models under test."""

import numpy as np
import torch

from fixtures.evaluations import attack_outcome
from repcore.calibration import confidence_and_correct
from repcore.criteria import Criterion, Verdict
from repcore.features import head_parameters
from repcore.geometry import alignment, class_centers_min_loss
from repcore.stats import Estimate, paired_bootstrap

REFERENCE_EPS = 0.1  # eps0 of the reference target for the minimal-loss class centers (CLAIMS.md)
MAX_BIAS_RATIO = 0.2  # mean |b| / mean |W v|: a "small" bias (T1a's bound, C1's precondition)
MIN_OVERCONFIDENCE = 0.02  # the hard baseline's signed gap mean(conf) - accuracy, in accuracy units
WEAK_ASR_RANGE = (0.05, 0.95)  # weak attacks must leave the hard model's ASR measurable

OVERCONFIDENT = Criterion("precondition", "signed gap mean(conf) - accuracy of the hard model",
                          MIN_OVERCONFIDENCE, "above")
MEASURABLE_ASR = Criterion("precondition", f"distance of the hard model's ASR from the edges of {WEAK_ASR_RANGE}",
                           0.0, "above")
SMALL_BIAS = Criterion("precondition", "mean|b| / mean|W v|", MAX_BIAS_RATIO, "below")


def confidence(zoo_model) -> torch.Tensor:
    return zoo_model.test.logits.softmax(1).amax(1)


_CENTERS: dict[str, torch.Tensor] = {}


def min_loss_centers(zoo_model) -> torch.Tensor:
    """v_opt,c for every class c of the model's head (K x d), computed once per model."""
    key = zoo_model.meta["sha256"]
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


def bias_ratio(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor) -> Estimate:
    """mean|b| / mean|W v| over test samples (bootstrap): how much of the logits the bias carries."""
    weight_term = (v.double() @ W.double().T).abs().mean(1).numpy()
    bias_size = float(b.abs().mean()) if b is not None else 0.0

    def ratio(term, axis=-1):
        return bias_size / term.mean(axis)

    return paired_bootstrap(ratio, [weight_term])


def signed_gap_estimate(zoo_model) -> Estimate:
    """mean(conf) - accuracy on the test split (bootstrap): > 0 over-confident."""
    def gap(conf, correct, axis=-1):
        return conf.mean(axis) - correct.mean(axis)

    return paired_bootstrap(gap, confidence_and_correct(zoo_model.test.logits, zoo_model.test.labels))


def overconfident_baseline(runs) -> Verdict:
    """C7 and C12 presume an over-confident hard-label baseline: its signed gap above the bound."""
    return runs.decide(OVERCONFIDENT, lambda zoo: signed_gap_estimate(zoo["hard"]), "hard")


def measurable_weak_attack(runs, attack: str) -> Verdict:
    """C9 and C10 presume a weak attack whose success on the hard model lies inside the range."""
    low, high = WEAK_ASR_RANGE

    def distance(zoo) -> Estimate:
        success = attack_outcome(zoo, "hard", runs.profile.attacks[attack]).success.double().numpy()
        return paired_bootstrap(lambda s, axis=-1: np.minimum(s.mean(axis) - low, high - s.mean(axis)), [success])

    return runs.decide(MEASURABLE_ASR, distance, f"{attack}, hard")


def small_bias(runs, role: str) -> Verdict:
    """C1's statement about trained heads presumes a small bias on the ``role`` models."""
    def ratio(zoo) -> Estimate:
        W, b = head_parameters(zoo[role].model)
        return bias_ratio(W, b, zoo[role].test.features)

    return runs.decide(SMALL_BIAS, ratio, role, roles=(role,))

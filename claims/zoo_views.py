"""What several claims read off a zoo model (head, confidence, alignment with v_opt, attack
outcomes as per-image arrays), the preconditions of the claims that presume the paper's regime
(``repcore.regime``), decided on the models under test, and the seed-to-seed spread of two
hard-label models behind every margin (``repcore.spread``)."""

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np
import torch

from repcore.fixtures.cache import load_or_build
from repcore.fixtures.zoo import attack_outcome
from repcore import regime
from repcore.calibration import FitAtBoundError, confidence_and_correct, expected_calibration_error, fit_temperature
from repcore.criteria import NON_NEGATIVE, Criterion, Verdict
from repcore.features import head_parameters
from repcore.geometry import alignment, class_centers_min_loss, mean_square
from repcore.spread import RULES, Margin, margin_from_pairs
from repcore.stats import Estimate, weighted_ratio

REFERENCE_EPS = 0.1  # eps0 of the reference target for the minimal-loss class centers (CLAIMS.md)

OVERCONFIDENT = Criterion("precondition", "signed gap mean(conf) - accuracy of the hard model",
                          regime.SIGNED_GAP, "above", value_range=(-1.0, 1.0))
COOLED_BY_TEMPERATURE = Criterion("precondition", "T* of the hard model (validation split)",
                                  regime.TEMPERATURE, "above", value_range=NON_NEGATIVE, held_out=True)
MEASURABLE_ASR = Criterion("precondition", f"distance of the hard model's ASR from the edges of {regime.WEAK_ASR}",
                           0.0, "above", value_range=(-regime.WEAK_ASR[0],
                                                      (regime.WEAK_ASR[1] - regime.WEAK_ASR[0]) / 2))
SMALL_BIAS = Criterion("precondition", "mean|b| / mean|W v|", regime.BIAS_RATIO, "below", value_range=NON_NEGATIVE)


def shows_figures(runs, regularizer: str) -> bool:
    """Whether the test of ``regularizer`` draws the figures that show every model: the first
    compared regularizer the first run holds (so a manifest without ``ls`` still gets them)."""
    present = [r for r, role in runs.profile.regularized.items() if role in runs.first]
    return bool(present) and regularizer == present[0]


def confidence(zoo_model) -> torch.Tensor:
    return zoo_model.test.logits.softmax(1).amax(1)


def correct(zoo_model) -> np.ndarray:
    """1 where the model classifies the test sample correctly, else 0."""
    return (zoo_model.test.predictions == zoo_model.test.labels).double().numpy()


_CENTERS: dict[str, torch.Tensor] = {}
CENTERS_VERSION = 1  # bump when repcore.geometry.class_centers_min_loss changes its result


def min_loss_centers(zoo_model) -> torch.Tensor:
    """v_opt,c for every class c of the model's head (K x d): solved once per model and kept in
    the model cache beside it (a derived artifact, removed with the model), once per process in memory."""
    sha = zoo_model.meta["sha256"]
    if sha not in _CENTERS:
        def solve() -> tuple[dict, dict]:
            W, b = head_parameters(zoo_model.model)
            return ({"centers": class_centers_min_loss(W, b, REFERENCE_EPS)},
                    {"model": zoo_model.name, "model_key": zoo_model.spec.key(), "model_sha256": sha,
                     "reference_eps": REFERENCE_EPS})

        key = hashlib.sha256(f"centers|{sha}|{REFERENCE_EPS}|{CENTERS_VERSION}".encode()).hexdigest()[:20]
        _CENTERS[sha] = (load_or_build(zoo_model.cache_dir, key, solve)[0]["centers"] if zoo_model.cache_dir
                         else solve()[0]["centers"])
    return _CENTERS[sha]


def predicted_alignment(zoo_model) -> torch.Tensor:
    """cos(v, v_opt,c_hat) on the test split, c_hat the predicted class."""
    return alignment(zoo_model.test.features, min_loss_centers(zoo_model), zoo_model.test.predictions)


def true_class_alignment(zoo_model, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """cos(v, v_opt,y) with y the true class (attack analyses)."""
    return alignment(features, min_loss_centers(zoo_model), labels)


def attack_success(w: np.ndarray, correct: np.ndarray, fooled: np.ndarray) -> np.ndarray:
    """ASR over a resample of the attacked images: the share of its clean-correct images fooled."""
    return weighted_ratio(w, correct * fooled, correct)


def attacked(zoo, name: str, attack: str, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(clean-correct, fooled) per attacked image of model ``name`` under ``attack`` (the first
    ``n`` images if given): what ``attack_success`` reads."""
    return attack_outcome(zoo, name, zoo.profile.attacks[attack]).per_image(n)


def on_kept(estimate: Estimate, *masks: np.ndarray) -> Estimate:
    """``estimate`` counting the samples its 0/1 masks keep (the fewest of any mask), for statistics
    over clean-correct samples weighted by a mask over all of them."""
    return replace(estimate, n=int(min(mask.sum() for mask in masks)))


def large_bias(zoo_model, W: torch.Tensor) -> torch.Tensor:
    """A bias of about 3x the typical |W v| logit (seeded normal draws): the negative-control head
    on which the bias, not the direction of v, decides."""
    typical_logit = (zoo_model.test.features @ W.T).abs().mean()
    return 3 * typical_logit * torch.randn(W.shape[0], generator=torch.Generator().manual_seed(0))


def overconfident_baseline(runs) -> tuple[Verdict, Verdict]:
    """C7 and C12 presume an over-confident hard-label baseline: its signed gap above +5 points
    and its temperature T* above 1.3 (``repcore.regime``)."""
    return runs.once("overconfident", lambda: (
        runs.decide(OVERCONFIDENT, lambda zoo: regime.signed_gap(zoo["hard"].test.logits, zoo["hard"].test.labels),
                    "hard"),
        runs.decide(COOLED_BY_TEMPERATURE, lambda zoo: regime.temperature(zoo["hard"].val.logits,
                                                                          zoo["hard"].val.labels),
                    "hard")))


def measurable_weak_attack(runs, attack: str) -> Verdict:
    """C9 and C10 presume a weak attack whose success on the hard model lies inside the range."""
    return runs.once(("weak attack", attack), lambda: runs.decide(
        MEASURABLE_ASR, lambda zoo: regime.weak_asr_margin(*attacked(zoo, "hard", attack)), f"{attack}, hard"))


def small_bias(runs, role: str) -> Verdict:
    """C1's statement about trained heads presumes a small bias on the ``role`` models."""
    def ratio(zoo) -> Estimate:
        W, b = head_parameters(zoo[role].model)
        return regime.bias_ratio(W, b, zoo[role].test.features)

    return runs.once(("small bias", role), lambda: runs.decide(SMALL_BIAS, ratio, role, roles=(role,)))


def _temperature_scaled_ece(m) -> float:
    T = fit_temperature(m.val.logits, m.val.labels)
    return expected_calibration_error(*confidence_and_correct(m.test.logits.double() / T, m.test.labels))


def _rms(m) -> float:
    return float(mean_square(m.test.features).mean().sqrt())


SPREAD_STATISTICS = {  # repcore.spread.RULES' statistics of two hard-label models (model, base) of different seeds
    "rms_change": lambda model, base: _rms(model) / _rms(base) - 1,
    "cos_gain": lambda model, base: float(predicted_alignment(model).mean() - predicted_alignment(base).mean()),
    "temperature_tolerance": lambda model, base: fit_temperature(model.val.logits, model.val.labels)
    / fit_temperature(base.val.logits, base.val.labels) - 1,
    "ece_tolerance": lambda model, base: _temperature_scaled_ece(model) - _temperature_scaled_ece(base),
}


def spread_of_pair(model, base) -> dict[str, float]:
    """Every statistic of ``repcore.spread.RULES`` for two hard-label models of different seeds:
    RMS change, mean-cos difference, T* relative change, difference of ECE after T*."""
    return {name: statistic(model, base) for name, statistic in SPREAD_STATISTICS.items()}


class MeasuredMargins(Mapping):
    """Margins measured on the models under test (external checkpoints): the pairs of hard-label
    models of consecutive seeds of the run, each margin computed when first read, from its own
    statistic only (a temperature fit without a finite optimum leaves the T*-based margins
    undefined, saying why, and the RMS and cos margins measured)."""

    from_models_under_test = True  # the next-seed controls read these same pairs (SettingRuns.criterion)

    def __init__(self, zoos):
        self._zoos, self._margins = [z for z in zoos if "hard" in z], {}

    def __getitem__(self, name: str) -> Margin:
        if name not in self._margins:
            seeds = ", ".join(str(z.replicate.seed) for z in self._zoos)
            source = f"the hard-label models under test (seeds {seeds})"
            pairs = list(zip(self._zoos, self._zoos[1:], strict=False))
            try:
                values = [SPREAD_STATISTICS[name](b["hard"], a["hard"]) for a, b in pairs]
            except FitAtBoundError as err:
                self._margins[name] = Margin(float("nan"),
                                             f"{RULES[name].statistic} cannot be measured on {source}: {err}")
            else:
                self._margins[name] = margin_from_pairs(name, values, source)
        return self._margins[name]

    def __iter__(self) -> Iterator[str]:
        return iter(RULES)

    def __len__(self) -> int:
        return len(RULES)

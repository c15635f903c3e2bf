"""What several claims read off a zoo model (head, confidence, alignment with v_opt, attack
outcomes as per-image arrays), the comparisons of a model with the hard baseline that several
claims and the seed spreads share (``COMPARISONS``), the preconditions of the claims that presume
the paper's regime (``repcore.regime``), decided on the models under test, and the changes between
two hard-label seeds behind every seed spread and tolerance (``repcore.spread``)."""

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace

import numpy as np
import torch

from repcore.fixtures.cache import load_or_build
from repcore.fixtures.roles import HARD, NEXT_SEED
from repcore.fixtures.zoo import attack_outcome
from repcore import regime
from repcore.calibration import (FitAtBoundError, brier_score, confidence_and_correct, expected_calibration_error,
                                 fit_temperature, negative_log_likelihood, weighted_calibration_error)
from repcore.criteria import NON_NEGATIVE, Criterion, Verdict
from repcore.features import head_parameters
from repcore.geometry import alignment, class_centers_min_loss, feature_rms, mean_square, radial_index
from repcore.spread import PAIR_STATISTICS, PairChanges, pair_changes
from repcore.stats import Estimate, bootstrap, comparison, relative_change, size_change, weighted_mean, weighted_ratio

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
    """C7 and C12 presume an over-confident hard-label baseline: its signed gap above 0 and its
    temperature T* above 1, each with its interval (``repcore.regime``: the paper's conditions)."""
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


def rms(w: np.ndarray, ms: np.ndarray) -> np.ndarray:
    """Global RMS sqrt(mean of v^2) over a resample, from the per-sample mean squares ``ms``."""
    return np.sqrt(weighted_mean(w, ms))


def mean_confidence(w, conf, correct):
    return weighted_mean(w, conf)


def calibration_gap(w, conf, correct):
    """The signed gap mean(conf) - accuracy over a resample."""
    return weighted_mean(w, conf) - weighted_mean(w, correct)


def masked_mean(w, x, mask):
    """The mean of x over the resample's samples where ``mask`` is 1."""
    return weighted_ratio(w, x * mask, mask)


def outputs(m) -> list:
    """(confidence, correct) per test sample."""
    return list(confidence_and_correct(m.test.logits, m.test.labels))


def radial_and_alignment(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(radial index, cos(v, v_opt,y), clean-correct) per test sample, y the true class."""
    v, y = m.test.features, m.test.labels
    W, b = head_parameters(m.model)
    return radial_index(W, b, v, y).numpy(), true_class_alignment(m, v, y).numpy(), correct(m)


def rms_change(model, base) -> Estimate:
    """RMS(model) / RMS(base) - 1 on the shared test images."""
    return comparison(rms, [mean_square(model.test.features).numpy()], [mean_square(base.test.features).numpy()],
                      relative_change)


def alignment_gain(model, base) -> Estimate:
    """mean cos(v, v_opt,c_hat) of the model minus the base's."""
    return comparison(weighted_mean, [predicted_alignment(model).numpy()], [predicted_alignment(base).numpy()])


def confidence_change(model, base) -> Estimate:
    return comparison(mean_confidence, outputs(model), outputs(base))


def ece_change(model, base) -> Estimate:
    """ECE(model) - ECE(base), 15 equal-width bins, on the same resamples."""
    return comparison(weighted_calibration_error, outputs(model), outputs(base))


def gap_size_change(model, base) -> Estimate:
    """|signed gap(model)| - |signed gap(base)|."""
    return comparison(calibration_gap, outputs(model), outputs(base), size_change)


def accuracy_change(model, base) -> Estimate:
    return comparison(weighted_mean, [correct(model)], [correct(base)])


def radial_gain(model, base) -> Estimate:
    """Mean radial index of the model minus the base's, each over its own clean-correct samples."""
    (r_model, _, k_model), (r_base, _, k_base) = radial_and_alignment(model), radial_and_alignment(base)
    return on_kept(comparison(masked_mean, [r_model, k_model], [r_base, k_base]), k_model, k_base)


def asr_change(zoo, model: str, base: str, attack: str) -> Estimate:
    """ASR(model) - ASR(base) under ``attack``, each over its own clean-correct attacked images."""
    return comparison(attack_success, list(attacked(zoo, model, attack)), list(attacked(zoo, base, attack)))


def _models(change: Callable) -> Callable:
    return lambda zoo, model, base: change(zoo[model], zoo[base])


# A comparison of role ``model`` with role ``base`` of one replicate: what the claims compare a
# regularized model with the hard baseline by, and, between two hard seeds, the seed spread
# (repcore.spread.PAIR_STATISTICS, same names).
COMPARISONS: dict[str, Callable[..., Estimate]] = {
    "rms_change": _models(rms_change),
    "cos_gain": _models(alignment_gain),
    "confidence_change": _models(confidence_change),
    "ece_change": _models(ece_change),
    "gap_size_change": _models(gap_size_change),
    "accuracy_change": _models(accuracy_change),
    "radial_gain": _models(radial_gain),
    "asr_change_FGSM": lambda zoo, model, base: asr_change(zoo, model, base, "FGSM"),
    "asr_change_PGD^w": lambda zoo, model, base: asr_change(zoo, model, base, "PGD^w"),
}


def versus_hard(runs, criterion: Criterion, role: str, detail: str = "", **decide) -> Verdict:
    """``criterion`` decided on its comparison (``COMPARISONS[criterion.spread]``) of ``role``
    with the hard baseline, seed by seed, its seed spread beside it; ``detail`` ends the label
    ("ls vs hard, FGSM")."""
    return runs.decide(criterion, lambda zoo: COMPARISONS[criterion.spread](zoo, role, HARD),
                       f"{role} vs hard" + (f", {detail}" if detail else ""), **decide)


def temperature_or_nan(m) -> float:
    """T* fitted on the calibration images, NaN where the fit has no finite optimum."""
    try:
        return fit_temperature(m.val.logits, m.val.labels)
    except FitAtBoundError:
        return float("nan")


def model_basics(zoo, role: str) -> dict[str, float]:
    """What the report's models table shows of one model, whatever the claims: test and training
    accuracy, confidence, 15-bin ECE with its bootstrap interval over the test images, NLL, Brier
    score, signed gap, T*, feature RMS, mean cos(v, v_opt), and under each planned attack its
    success rate and robust accuracy (on the attacked images)."""
    m = zoo[role]
    conf, correct_ = confidence_and_correct(m.test.logits, m.test.labels)
    low, high = bootstrap(weighted_calibration_error, [conf, correct_]).interval()
    basics = {"accuracy": m.test_accuracy, "train_accuracy": zoo.training_accuracy(role), "mean_conf": conf.mean(),
              "ece_pct": 100 * expected_calibration_error(conf, correct_), "ece_pct_low": 100 * low,
              "ece_pct_high": 100 * high, "nll": negative_log_likelihood(m.test.logits, m.test.labels),
              "brier": brier_score(m.test.logits, m.test.labels), "signed_gap": conf.mean() - correct_.mean(),
              "T_star": temperature_or_nan(m), "rms": feature_rms(m.test.features),
              "mean_cos": float(predicted_alignment(m).mean())}
    for attack, config in zoo.profile.attacks.items():
        outcome = attack_outcome(zoo, role, config)
        basics[f"asr_{attack}"] = outcome.success_rate
        basics[f"robust_{attack}"] = float((outcome.clean_correct & ~outcome.fooled).double().mean())
    return basics


def _temperature_scaled_ece(m) -> float:
    T = fit_temperature(m.val.logits, m.val.labels)
    return expected_calibration_error(*confidence_and_correct(m.test.logits.double() / T, m.test.labels))


PAIR_MEASURES: dict[str, Callable] = {  # repcore.spread.PAIR_STATISTICS of hard seed s' (model) against s (base)
    **{name: (lambda zoo, model, base, c=change: c(zoo, model, base).value) for name, change in COMPARISONS.items()},
    "temperature_change": _models(lambda model, base: fit_temperature(model.val.logits, model.val.labels)
                                  / fit_temperature(base.val.logits, base.val.labels) - 1),
    "scaled_ece_change": _models(lambda model, base: _temperature_scaled_ece(model) - _temperature_scaled_ece(base)),
}


def changes_of_pair(zoo) -> dict[str, float]:
    """Every pair statistic for the replicate's hard model of the next seed against its hard model."""
    return {name: float(measure(zoo, NEXT_SEED, HARD)) for name, measure in PAIR_MEASURES.items()}


class MeasuredSpread(Mapping):
    """Seed spreads measured on the models under test (external checkpoints): each replicate's
    hard model against the next seed's (``hard_seed1``), each pair statistic computed when first
    read (a temperature fit without a finite optimum leaves the T*-based ones without pairs, saying
    why, the others measured)."""

    def __init__(self, zoos):
        self._zoos, self._changes = [z for z in zoos if NEXT_SEED in z], {}

    def __getitem__(self, name: str) -> PairChanges:
        if name not in self._changes:
            seeds = ", ".join(str(z.replicate.seed) for z in self._zoos)
            source = f"the hard-label models under test (each seed of {seeds} against the next)"
            try:
                values = [PAIR_MEASURES[name](zoo, NEXT_SEED, HARD) for zoo in self._zoos]
            except FitAtBoundError as err:
                values, source = [], f"{source}: {err}"
            self._changes[name] = pair_changes(name, values, source)
        return self._changes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(PAIR_STATISTICS)

    def __len__(self) -> int:
        return len(PAIR_STATISTICS)

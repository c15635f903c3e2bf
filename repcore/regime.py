"""The paper's regime, declared once: what the claims presume of the models under test.

The paper studies deep networks trained to convergence with hard labels, which are over-confident,
and weak attacks that break some but not all of their predictions. A claim that presumes such a
baseline is inconclusive, never refuted, where the baseline lacks the property
(``repcore.criteria``), and the report shows every check on every seed. The bounds are the paper's
conditions as CLAIMS.md states them (stricter targets, used to choose a zoo recipe that sits
clearly inside the regime, belong to ``bench/recipe_regime.py``, not here):

- over-confidence of the hard-label model: signed gap mean(conf) - accuracy above 0 with its
  interval, and a fitted temperature T* above 1 with its interval (temperature scaling cools it);
- a measurable weak attack: the hard model's attack success rate strictly inside (5%, 95%);
- a small bias: mean|b| / mean|W v| below 0.2 (Theorem 1 assumes b = 0);
- calibration images the model was not trained on: their accuracy no more than 5 points, and no more
  than 3 standard errors of the difference, above the test accuracy. Fits on memorised images
  (T*, s*) say so beside the criteria that use them; a genuinely held-out split differs from the
  test split by sampling alone (3 standard errors: about 5 points at 1,000 images and 70% accuracy).

Each statistic comes with its bootstrap over the samples it is computed on
(``repcore.stats.Estimate``); recipes are chosen against these checks (``bench/recipe_regime.py``).
"""

import numpy as np
import torch

from repcore.calibration import confidence_and_correct, fit_temperatures, refit_temperatures
from repcore.stats import Estimate, bootstrap, index_bootstrap, weighted_mean, weighted_ratio

SIGNED_GAP = 0.0
TEMPERATURE = 1.0
WEAK_ASR = (0.05, 0.95)
BIAS_RATIO = 0.2
HELD_OUT_EXCESS = 0.05
HELD_OUT_Z = 3.0


def signed_gap(logits: torch.Tensor, labels: torch.Tensor) -> Estimate:
    """mean(conf) - accuracy (bootstrap over samples): > 0 over-confident."""
    def gap(w, conf, correct):
        return weighted_mean(w, conf) - weighted_mean(w, correct)

    return bootstrap(gap, confidence_and_correct(logits, labels))


def temperature(logits: torch.Tensor, labels: torch.Tensor) -> Estimate:
    """T* = argmin_T NLL(softmax(z / T), y), refitted on every resample of the samples (a fit
    without a finite optimum is 0 or inf, which leaves the interval undefined)."""
    logits = logits.double()
    whole = float(fit_temperatures(logits[None], labels[None])[0])
    whole = whole if 0 < whole < np.inf else 1.0

    def fit(idx, axis=-1):
        return refit_temperatures(logits, labels, whole, idx).reshape(np.shape(idx)[:-1])

    return index_bootstrap(fit, len(labels), vectorized=True)


def bias_ratio(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor) -> Estimate:
    """mean|b| / mean|W v| over samples (bootstrap): how much of the logits the bias carries."""
    weight_term = (v.double() @ W.double().T).abs().mean(1).numpy()
    bias_size = float(b.abs().mean()) if b is not None else 0.0

    def ratio(w, term):
        return bias_size / weighted_mean(w, term)

    return bootstrap(ratio, [weight_term])


def weak_asr_margin(correct: np.ndarray, success: np.ndarray) -> Estimate:
    """min(ASR - 5%, 95% - ASR), ASR = sum(correct * fooled) / sum(correct) over the attacked
    images (bootstrap over images): above 0 when the attack success is measurable."""
    low, high = WEAK_ASR

    def margin(w, k, s):
        asr = weighted_ratio(w, k * s, k)
        return np.minimum(asr - low, high - asr)

    return bootstrap(margin, [correct, success])


def held_out_excess(val_correct: np.ndarray, test_correct: np.ndarray) -> str:
    """"" when the calibration images' accuracy is within ``HELD_OUT_EXCESS`` and ``HELD_OUT_Z``
    standard errors of the test accuracy; else the warning that they look trained on."""
    val, test = float(np.mean(val_correct)), float(np.mean(test_correct))
    se = np.sqrt(val * (1 - val) / len(val_correct) + test * (1 - test) / len(test_correct))
    excess = val - test
    if excess <= HELD_OUT_EXCESS or excess <= HELD_OUT_Z * se:
        return ""
    return (f"the calibration images look trained on: accuracy {val:.1%} on them against {test:.1%} on the test "
            f"split (+{100 * excess:.1f} points, {excess / se:.1f} standard errors); name held-out images with "
            "held_out in the manifest")

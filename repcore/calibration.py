"""Calibration: ECE and friends, reliability bins, temperature scaling and feature scaling.

conf = max_k p_k, correct = 1[argmax_k p_k = y]. Bins are Guo et al. (2017): B equal-width bins
(i/B, (i+1)/B], a confidence of exactly 0 going to the first. ECE = sum_b (n_b / n) |acc_b - conf_b|.
Temperature scaling: p = softmax(z / T). Feature scaling: p = softmax(W (s v) + b). Both fit
their scalar by minimizing the NLL on a held-out split (golden-section search on log T, log s, in
float64, batched over bootstrap resamples). A fit that lands on its search bound has no finite
optimum there: ``FitAtBoundError`` (0 or inf in a batch).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from repcore.features import linear_logits

N_BINS = 15
LOG_SEARCH_BOUND = 5.0  # T and s are searched in [e^-5, e^5]


class FitAtBoundError(ValueError):
    """A temperature or feature-scale fit landed on its search bound (no finite optimum inside)."""


@dataclass(frozen=True)
class ReliabilityBins:
    """Per equal-width bin: lower/upper edges, sample count, accuracy and mean confidence."""

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray


def confidence_and_correct(logits: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    p = torch.softmax(logits.double(), dim=1)
    conf, pred = p.max(dim=1)
    return conf.numpy(), (pred == labels).double().numpy()


def _bin_index(conf: np.ndarray, n_bins: int) -> np.ndarray:
    return np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)


def reliability_bins(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> ReliabilityBins:
    idx = _bin_index(conf, n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        accuracy = np.bincount(idx, weights=correct, minlength=n_bins) / counts
        confidence = np.bincount(idx, weights=conf, minlength=n_bins) / counts
    return ReliabilityBins(np.linspace(0, 1, n_bins + 1), counts, accuracy, confidence)


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> float:
    """15-bin equal-width ECE as a fraction (x100 for %)."""
    bins = reliability_bins(conf, correct, n_bins)
    filled = bins.counts > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float((bins.counts[filled] / len(conf) * gaps).sum())


def maximum_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> float:
    bins = reliability_bins(conf, correct, n_bins)
    filled = bins.counts > 0
    return float(np.abs(bins.accuracy[filled] - bins.confidence[filled]).max())


def adaptive_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> float:
    """ECE over equal-mass bins (each holds n / B samples, by sorted confidence)."""
    order = np.argsort(conf, kind="stable")
    parts = np.array_split(order, n_bins)
    return float(sum(len(p) / len(conf) * abs(correct[p].mean() - conf[p].mean()) for p in parts if len(p)))


def signed_gap(conf: np.ndarray, correct: np.ndarray) -> float:
    """mean(conf) - accuracy: > 0 over-confident, < 0 under-confident."""
    return float(conf.mean() - correct.mean())


GOLDEN = (np.sqrt(5) - 1) / 2
LOG_TOLERANCE = 1e-6  # the search stops when the bracket on log x is this narrow


def _batched_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each row of a batch: logits (R x n x K), labels (R x n) -> (R,)."""
    return (torch.logsumexp(logits, -1) - logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1)).mean(-1)


def fit_log_scalars(nll_of: Callable[[torch.Tensor], torch.Tensor], count: int) -> np.ndarray:
    """argmin_x NLL_r(x) for ``count`` NLLs at once (``nll_of`` maps x of shape (R,) to NLLs (R,)):
    golden-section search on log x in [-B, B] to ``LOG_TOLERANCE``. An NLL of a scalar fit (the
    temperature, the feature scale) is unimodal in log x, so the search finds its minimum. Where the
    fit has no finite optimum, 0 or inf (the side it ran to): it lands on a bound, or the NLL at the
    nearer bound is no higher (a float64 NLL that went flat before the bound, where the search may
    stop anywhere)."""
    low = torch.full((count,), -LOG_SEARCH_BOUND, dtype=torch.float64)
    high = -low
    inner_low, inner_high = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    f_low, f_high = nll_of(inner_low.exp()), nll_of(inner_high.exp())
    while float((high - low).max()) > LOG_TOLERANCE:
        left = f_low <= f_high  # the minimum lies in [low, inner_high]
        high = torch.where(left, inner_high, high)
        low = torch.where(left, low, inner_low)
        new_low, new_high = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
        probe = torch.where(left, new_low, new_high)
        f_probe = nll_of(probe.exp())
        inner_low, f_low, inner_high, f_high = (
            torch.where(left, probe, inner_high), torch.where(left, f_probe, f_high),
            torch.where(left, inner_low, probe), torch.where(left, f_low, f_probe))
    best = (low + high) / 2
    nearer_bound = torch.copysign(torch.full_like(best, LOG_SEARCH_BOUND), best)
    at_bound = (best.abs() > LOG_SEARCH_BOUND - 1e-3) | (nll_of(nearer_bound.exp()) <= nll_of(best.exp()))
    return torch.where(at_bound, (nearer_bound * torch.inf).exp(), best.exp()).numpy()


def fit_temperatures(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """T*_r = argmin_T NLL(softmax(z_r / T), y_r) for each row r of logits (R x n x K), labels (R x n);
    0 or inf where there is no finite optimum."""
    logits = logits.double()
    return fit_log_scalars(lambda t: _batched_nll(logits / t[:, None, None], labels), len(logits))


def fit_feature_scales(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """s*_r = argmin_s NLL(softmax(W (s v_r) + b), y_r) for each row r of v (R x n x d), labels (R x n);
    0 or inf where there is no finite optimum."""
    Wv = v.double() @ W.double().T
    bias = 0.0 if b is None else b.double()
    return fit_log_scalars(lambda s: _batched_nll(s[:, None, None] * Wv + bias, labels), len(v))


def _single_fit(fits: np.ndarray, name: str) -> float:
    if not 0 < fits[0] < np.inf:
        raise FitAtBoundError(f"the {name} fit landed on its search bound e^{'+' if fits[0] else '-'}"
                              f"{LOG_SEARCH_BOUND:g}: no finite optimum in [e^-{LOG_SEARCH_BOUND:g}, "
                              f"e^{LOG_SEARCH_BOUND:g}]")
    return float(fits[0])


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """T* = argmin_T NLL(softmax(z / T), y) on a held-out split (float64 logits, divided after converting)."""
    return _single_fit(fit_temperatures(logits[None], labels[None]), "temperature T*")


def scaled_feature_logits(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, s: float) -> torch.Tensor:
    """z(s) = W (s v) + b."""
    return linear_logits(W.double(), None if b is None else b.double(), s * v.double())


def fit_feature_scale(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, labels: torch.Tensor) -> float:
    """s* = argmin_s NLL(softmax(W (s v) + b), y) on a held-out split."""
    return _single_fit(fit_feature_scales(W, b, v[None], labels[None]), "feature scale s*")


def ece_curve(logits_of: Callable[[float], torch.Tensor], labels: torch.Tensor, values: np.ndarray) -> np.ndarray:
    """ECE of ``logits_of(x)`` for each x in ``values`` (e.g. feature scales or 1/T)."""
    return np.array([expected_calibration_error(*confidence_and_correct(logits_of(float(x)), labels))
                     for x in values])

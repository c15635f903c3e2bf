"""Calibration: ECE and friends, reliability bins, temperature scaling and feature scaling.

conf = max_k p_k, correct = 1[argmax_k p_k = y]. Bins are Guo et al. (2017): B equal-width bins
(i/B, (i+1)/B], a confidence of exactly 0 going to the first. ECE = sum_b (n_b / n) |acc_b - conf_b|.
Temperature scaling: p = softmax(z / T). Feature scaling: p = softmax(W (s v) + b). Both fit
their scalar by minimizing the NLL on a held-out split (bounded scalar search on log T, log s, in
float64). A fit that lands on its search bound has no finite optimum there: ``FitAtBoundError``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import optimize

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


def _nll(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float(torch.nn.functional.cross_entropy(logits.double(), labels))


def _fit_log_scalar(nll_of: Callable[[float], float], name: str) -> float:
    """argmin_x NLL(x) over log x in [-B, B]; at (or no better than) a bound, ``FitAtBoundError``.

    The second test catches an NLL that goes flat (float64 underflow) before the bound: the search
    may stop anywhere on the flat part, which is no optimum either."""
    result = optimize.minimize_scalar(lambda log_x: nll_of(float(np.exp(log_x))),
                                      bounds=(-LOG_SEARCH_BOUND, LOG_SEARCH_BOUND),
                                      method="bounded", options={"xatol": 1e-6})
    nearer_bound = float(np.copysign(LOG_SEARCH_BOUND, result.x))
    if abs(result.x) > LOG_SEARCH_BOUND - 1e-3 or nll_of(float(np.exp(nearer_bound))) <= result.fun:
        raise FitAtBoundError(f"the {name} fit landed on its search bound e^{'+' if result.x > 0 else '-'}"
                              f"{LOG_SEARCH_BOUND:g}: no finite optimum in [e^-{LOG_SEARCH_BOUND:g}, "
                              f"e^{LOG_SEARCH_BOUND:g}]")
    return float(np.exp(result.x))


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """T* = argmin_T NLL(softmax(z / T), y) on a held-out split (float64 logits, divided after converting)."""
    logits = logits.double()
    return _fit_log_scalar(lambda t: _nll(logits / t, labels), "temperature T*")


def scaled_feature_logits(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, s: float) -> torch.Tensor:
    """z(s) = W (s v) + b."""
    return linear_logits(W.double(), None if b is None else b.double(), s * v.double())


def fit_feature_scale(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, labels: torch.Tensor) -> float:
    """s* = argmin_s NLL(softmax(W (s v) + b), y) on a held-out split."""
    return _fit_log_scalar(lambda s: _nll(scaled_feature_logits(W, b, v, s), labels), "feature scale s*")


def ece_curve(logits_of: Callable[[float], torch.Tensor], labels: torch.Tensor, values: np.ndarray) -> np.ndarray:
    """ECE of ``logits_of(x)`` for each x in ``values`` (e.g. feature scales or 1/T)."""
    return np.array([expected_calibration_error(*confidence_and_correct(logits_of(float(x)), labels))
                     for x in values])

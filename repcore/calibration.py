"""Calibration: ECE and friends, reliability bins, temperature scaling and feature scaling.

conf = max_k p_k, correct = 1[argmax_k p_k = y]. Bins are Guo et al. (2017): B equal-width bins
(i/B, (i+1)/B], a confidence of exactly 0 going to the first. ECE = sum_b (n_b / n) |acc_b - conf_b|.
Temperature scaling: p = softmax(z / T). Feature scaling: p = softmax(W (s v) + b). Both fit
their scalar by minimizing the NLL on a held-out split (safeguarded Newton on the convex NLL, in
float64, batched over bootstrap resamples). A fit that lands on its search bound has no finite
optimum there: ``FitAtBoundError`` (0 or inf in a batch).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from repcore.features import linear_logits
from repcore.stats import counts_of

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


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> float | np.ndarray:
    """15-bin equal-width ECE as a fraction (x100 for %), sum_b (n_b / n) |acc_b - conf_b|
    = sum_b |sum_{i in b} (correct_i - conf_i)| / n, along the last axis: a float for one sample,
    one value per row for a batch of resamples."""
    conf, correct = np.asarray(conf), np.asarray(correct)
    rows = conf.reshape(-1, conf.shape[-1])
    bins = _bin_index(rows, n_bins) + n_bins * np.arange(len(rows))[:, None]
    excess = np.bincount(bins.ravel(), weights=(correct.reshape(rows.shape) - rows).ravel(),
                         minlength=n_bins * len(rows))
    ece = np.abs(excess.reshape(len(rows), n_bins)).sum(1) / conf.shape[-1]
    return float(ece[0]) if conf.ndim == 1 else ece.reshape(conf.shape[:-1])


def weighted_calibration_error(w: np.ndarray, conf: np.ndarray, correct: np.ndarray,
                               n_bins: int = N_BINS) -> np.ndarray:
    """The 15-bin ECE of a resample that holds sample i w_i times, sum_b |sum_{i in b} w_i (correct_i
    - conf_i)| / sum_i w_i: one value per row of w (a float for w of shape (n,)); with w = 1 it is
    ``expected_calibration_error``."""
    excess = np.zeros((len(conf), n_bins))
    excess[np.arange(len(conf)), _bin_index(np.asarray(conf), n_bins)] = np.asarray(correct) - np.asarray(conf)
    return np.abs(w @ excess).sum(-1) / w.sum(-1)


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


def negative_log_likelihood(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """mean_i -log p_{y_i}: the cross-entropy of the predicted distribution.

    >>> round(negative_log_likelihood(torch.tensor([[0.0, 0.0]]), torch.tensor([1])), 4)
    0.6931
    """
    return float(torch.nn.functional.cross_entropy(logits.double(), labels))


def brier_score(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """mean_i sum_k (p_k - 1[k = y_i])^2: the squared error of the predicted distribution.

    >>> brier_score(torch.tensor([[0.0, 0.0]]), torch.tensor([1]))
    0.5
    """
    p = torch.softmax(logits.double(), dim=1)
    return float(((p - torch.nn.functional.one_hot(labels, p.shape[1])) ** 2).sum(1).mean())


LOG_TOLERANCE = 1e-10  # Newton stops when no fit moves by more than this on log x
RESAMPLE_TOLERANCE = 1e-7  # for the refits on bootstrap resamples (whose spread is some 1e-2)
MAX_NEWTON_STEPS = 100


def _nll_derivatives(x: torch.Tensor, a: torch.Tensor, c: torch.Tensor | float,
                     a_label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """NLL'_r(x) = mean_i (E_p[a] - a_y) and NLL''_r(x) = mean_i Var_p[a], p = softmax(x_r a_ri + c),
    for every row r of a (R x n x K)."""
    z = a * x[:, None, None] + c
    p = z.sub_(z.amax(-1, keepdim=True)).exp_()
    total, weighted = p.sum(-1), p * a
    first = weighted.sum(-1) / total
    second = (weighted * a).sum(-1) / total
    return (first - a_label).mean(-1), (second - first ** 2).clamp_(min=0).mean(-1)


def resampled_starts(a: torch.Tensor, c: torch.Tensor | float, labels: torch.Tensor, x: float,
                     counts: np.ndarray) -> np.ndarray:
    """Where each resample's fit starts: one Newton step on u = log x from the whole sample's
    optimum ``x`` (a is n x K, labels n; ``counts`` R x n, the multiplicities of each resample).
    The resample's NLL' and NLL'' at x are the counts-weighted means of the samples' own, so no
    resample is evaluated for it; the refit then needs about two Newton steps fewer."""
    a = a.double()
    a_label = a.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    z = a * x + (c.double() if torch.is_tensor(c) else c)
    p = torch.softmax(z, -1)
    first = (p * a).sum(-1)
    slope_i, curvature_i = first - a_label, ((p * a * a).sum(-1) - first ** 2).clamp_(min=0)
    w = torch.as_tensor(np.asarray(counts), dtype=torch.float64)
    slope = x * (w @ slope_i) / w.sum(-1)
    curvature = x * x * (w @ curvature_i) / w.sum(-1) + slope
    u = np.log(x) - torch.where(curvature > 0, slope / curvature, torch.zeros_like(slope))
    return u.clamp(-LOG_SEARCH_BOUND, LOG_SEARCH_BOUND).exp().numpy()


def fit_logit_scales(a: torch.Tensor, c: torch.Tensor | float, labels: torch.Tensor,
                     start: float | np.ndarray = 1.0, tolerance: float = LOG_TOLERANCE) -> np.ndarray:
    """x*_r = argmin_x NLL_r(x), NLL_r(x) = mean_i [logsumexp(x a_ri + c) - (x a_ri,y + c_y)], for each
    row r of a (R x n x K) with labels (R x n), searched on u = log x in [-B, B] from x = ``start``
    (one value, or one per row; for bootstrap resamples ``resampled_starts``: fewer steps), in float64.

    NLL_r is convex in x (a log-sum-exp of functions affine in x, less a linear term), so its
    derivative in u, x NLL'(x), changes sign at most once. Safeguarded Newton steps on u,
    u - x NLL' / (x^2 NLL'' + x NLL'), each kept inside the bracket on which the sign changes (else
    the bracket's midpoint, or the search bound while that side is unexplored), until no fit moves
    by more than ``tolerance``. Where the NLL still falls at a bound (or is flat: every
    prediction certain and right), there is no finite optimum inside: 0 at e^-B, inf at e^B."""
    a = a.double()
    c = c.double() if torch.is_tensor(c) else c
    a_label = a.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    u = torch.tensor(np.broadcast_to(np.clip(np.log(start), -LOG_SEARCH_BOUND, LOG_SEARCH_BOUND), (len(a),)),
                     dtype=torch.float64)
    low, high = torch.full_like(u, -LOG_SEARCH_BOUND), torch.full_like(u, LOG_SEARCH_BOUND)
    low_unexplored, high_unexplored = torch.ones_like(u, dtype=torch.bool), torch.ones_like(u, dtype=torch.bool)
    at_low, at_high, done = (torch.zeros_like(u, dtype=torch.bool) for _ in range(3))
    for _ in range(MAX_NEWTON_STEPS):
        x = u.exp()
        slope, curvature = _nll_derivatives(x, a, c, a_label)
        slope_u, curvature_u = x * slope, x * x * curvature + x * slope
        at_low |= ~done & (u <= -LOG_SEARCH_BOUND) & (slope_u >= 0)
        at_high |= ~done & (((u >= LOG_SEARCH_BOUND) & (slope_u <= 0)) | ((slope_u == 0) & (curvature_u == 0)))
        low, high = torch.where(slope_u < 0, u, low), torch.where(slope_u > 0, u, high)
        low_unexplored &= slope_u >= 0
        high_unexplored &= slope_u <= 0
        newton = u - slope_u / curvature_u
        midpoint = (low + high) / 2
        fallback = torch.where(slope_u < 0, torch.where(high_unexplored, high, midpoint),
                               torch.where(low_unexplored, low, midpoint))
        step = torch.where((curvature_u > 0) & (newton >= low) & (newton <= high), newton, fallback)
        done |= at_low | at_high | ((step - u).abs() <= tolerance) | (slope_u == 0)
        u = torch.where(done, u, step)
        if bool(done.all()):
            break
    return torch.where(at_low, 0.0, torch.where(at_high, torch.inf, u.exp())).numpy()


def fit_temperatures(logits: torch.Tensor, labels: torch.Tensor, start: float | np.ndarray = 1.0,
                     tolerance: float = LOG_TOLERANCE) -> np.ndarray:
    """T*_r = argmin_T NLL(softmax(z_r / T), y_r) for each row r of logits (R x n x K), labels (R x n),
    searched from T = ``start`` (one value or one per row): 1 / x* of ``fit_logit_scales`` on the
    float64 logits; 0 or inf where there is no finite optimum."""
    with np.errstate(divide="ignore"):
        return 1 / fit_logit_scales(logits.double(), 0.0, labels, 1 / np.asarray(start, dtype=float), tolerance)


def _single_fit(fits: np.ndarray, name: str) -> float:
    if not 0 < fits[0] < np.inf:
        raise FitAtBoundError(f"the {name} fit landed on its search bound e^{'+' if fits[0] else '-'}"
                              f"{LOG_SEARCH_BOUND:g}: no finite optimum in [e^-{LOG_SEARCH_BOUND:g}, "
                              f"e^{LOG_SEARCH_BOUND:g}]")
    return float(fits[0])


def refit_logit_scales(a: torch.Tensor, c: torch.Tensor | float, labels: torch.Tensor, whole: float,
                       idx: np.ndarray) -> np.ndarray:
    """``fit_logit_scales`` on each row of resample indices ``idx`` (R x n) of the n samples of a
    (n x K) and labels, each started one weighted Newton step from the whole sample's fit ``whole``
    (``resampled_starts``) and stopped at ``RESAMPLE_TOLERANCE``."""
    rows = torch.as_tensor(np.array(idx)).reshape(-1, np.shape(idx)[-1])
    start = resampled_starts(a, c, labels, whole, counts_of(rows.numpy(), len(labels)))
    return fit_logit_scales(a[rows], c, labels[rows], start, RESAMPLE_TOLERANCE)


def refit_temperatures(logits: torch.Tensor, labels: torch.Tensor, whole: float, idx: np.ndarray) -> np.ndarray:
    """T* refitted on each row of resample indices ``idx``: 1 / ``refit_logit_scales`` of the
    float64 logits from 1 / ``whole``."""
    with np.errstate(divide="ignore"):
        return 1 / refit_logit_scales(logits.double(), 0.0, labels, 1 / whole, idx)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """T* = argmin_T NLL(softmax(z / T), y) on a held-out split (float64 logits, divided after converting)."""
    return _single_fit(fit_temperatures(logits[None], labels[None]), "temperature T*")


def scaled_feature_logits(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, s: float) -> torch.Tensor:
    """z(s) = W (s v) + b."""
    return linear_logits(W.double(), None if b is None else b.double(), s * v.double())


def fit_feature_scale(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, labels: torch.Tensor) -> float:
    """s* = argmin_s NLL(softmax(W (s v) + b), y) on a held-out split."""
    weight_term = scaled_feature_logits(W, None, v, 1.0)
    return _single_fit(fit_logit_scales(weight_term[None], 0.0 if b is None else b.double(), labels[None]),
                       "feature scale s*")


def ece_curve(logits_of: Callable[[float], torch.Tensor], labels: torch.Tensor, values: np.ndarray) -> np.ndarray:
    """ECE of ``logits_of(x)`` for each x in ``values`` (e.g. feature scales or 1/T)."""
    return np.array([expected_calibration_error(*confidence_and_correct(logits_of(float(x)), labels))
                     for x in values])

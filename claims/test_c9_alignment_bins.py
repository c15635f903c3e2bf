"""C9: higher alignment bins have lower attack success, for FGSM, PGD^w and AutoAttack^w.

Clean-correct test samples are split into 5 quantile bins of cos(v, v_opt,y); the attack success
rate (ASR) is computed per bin. Declared: Spearman(bin, ASR) has its 95% CI (samples resampled,
bins recomputed) below 0, every bin holding >= 30 samples (else inconclusive). Negative control:
the same with the alignments shuffled.
"""

import numpy as np
import pytest

from claims.zoo_views import true_class_alignment
from fixtures.evaluations import attack_outcome
from repcore.report.figures import asr_by_alignment
from repcore.stats import decide, index_bootstrap_ci, spearman

N_BINS = 5
MIN_PER_BIN = 30
MODELS = ["hard", "ls", "mixup", "cutmix"]


def asr_per_bin(cos: np.ndarray, success: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ASR, count) per quantile bin of ``cos``, lowest alignment first."""
    edges = np.quantile(cos, np.linspace(0, 1, N_BINS + 1))
    idx = np.clip(np.searchsorted(edges, cos, side="right") - 1, 0, N_BINS - 1)
    counts = np.bincount(idx, minlength=N_BINS)
    with np.errstate(invalid="ignore"):
        return np.bincount(idx, weights=success, minlength=N_BINS) / counts, counts


def bin_trend_verdict(cos: np.ndarray, success: np.ndarray, label: str):
    def trend(i):
        asr, _ = asr_per_bin(cos[i], success[i])
        return float(spearman(np.arange(N_BINS, dtype=float), asr))

    value, low, high = index_bootstrap_ci(trend, len(cos), n_resamples=1000)
    asr, counts = asr_per_bin(cos, success)
    return decide("C9", f"Spearman(cos bin, ASR) ({label}; ASR per bin {np.round(asr, 3).tolist()})",
                  value, (low, high), 0.0, "below", int(counts.min()), min_n=MIN_PER_BIN)


def cos_and_success(zoo, profile, name, attack):
    outcome = attack_outcome(zoo, name, profile.attacks[attack])
    keep = outcome.clean_correct
    cos = true_class_alignment(zoo[name], outcome.clean.features[keep], outcome.clean.labels[keep])
    return cos.numpy(), outcome.success.double().numpy()


@pytest.mark.parametrize("attack", ["FGSM", "PGD^w", "AA^w"])
@pytest.mark.parametrize("name", MODELS)
def test_aligned_samples_resist_attacks(zoo, profile, name, attack, check, figure):
    cos, success = cos_and_success(zoo, profile, name, attack)
    figure(asr_by_alignment(cos, success, np.quantile(cos, np.linspace(0, 1, N_BINS + 1)), f"{attack}, {name}"),
           f"{name}, {attack}: histogram of cos(v, v_opt,y) over clean-correct test samples, with the "
           "attack success rate of each quantile bin (red).")
    check.supported(bin_trend_verdict(cos, success, f"{attack}, {name}"))


def test_control_shuffled_alignment_has_no_trend(zoo, profile, check):
    cos, success = cos_and_success(zoo, profile, "hard", "FGSM")
    check.not_supported(bin_trend_verdict(np.random.default_rng(0).permutation(cos), success,
                                          "FGSM, hard, shuffled cos"))

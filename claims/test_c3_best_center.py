"""C3: the minimal-loss point is the best class center: alignment with it (cos(v, v_opt,c_hat))
correlates with confidence more than alignment with the class mean or with the weight vector w_c.

Declared: Pearson r(cos to v_opt, conf) - r(cos to candidate, conf) has its 95% CI above 0, for the
class mean and for w_c, on every model. Negative control: the same comparison with the
confidences shuffled across samples.
"""

import numpy as np
import pytest

from claims.zoo_views import confidence, predicted_alignment
from repcore.features import head_parameters
from repcore.geometry import alignment, class_means
from repcore.stats import decide, paired_bootstrap_ci, pearson

MODELS = ["hard", "ls", "mixup", "cutmix"]


def _candidate_alignment(m, candidate: str) -> np.ndarray:
    v, c_hat = m.test.features, m.test.predictions
    if candidate == "class mean":
        centers = class_means(v, c_hat, m.test.logits.shape[1])
    else:
        centers = head_parameters(m.model)[0]
    return alignment(v, centers, c_hat).numpy()


def advantage_verdict(conf: np.ndarray, opt: np.ndarray, other: np.ndarray, candidate: str, label: str):
    def advantage(c, a, b, axis=-1):
        return pearson(a, c, axis=axis) - pearson(b, c, axis=axis)

    value, low, high = paired_bootstrap_ci(advantage, [conf, opt, other])
    return decide("C3", f"r(cos v_opt, conf) - r(cos {candidate}, conf) ({label})",
                  value, (low, high), 0.0, "above", len(conf))


@pytest.mark.parametrize("candidate", ["class mean", "w_c"])
@pytest.mark.parametrize("name", MODELS)
def test_min_loss_point_beats_other_centers(zoo, name, candidate, check):
    m = zoo[name]
    check.supported(advantage_verdict(confidence(m).numpy(), predicted_alignment(m).numpy(),
                                      _candidate_alignment(m, candidate), candidate, name))


def test_control_shuffled_confidence_shows_no_advantage(zoo, check):
    m = zoo["hard"]
    shuffled = np.random.default_rng(0).permutation(confidence(m).numpy())
    check.not_supported(advantage_verdict(shuffled, predicted_alignment(m).numpy(),
                                          _candidate_alignment(m, "class mean"), "class mean",
                                          "hard, shuffled conf"))

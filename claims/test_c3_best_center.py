"""C3: the minimal-loss point is the best class center: alignment with it (cos(v, v_opt,c_hat))
correlates with confidence more than alignment with the class mean or with the weight vector w_c.

Declared: Pearson r(cos to v_opt, conf) - r(cos to candidate, conf) has its seed-level interval
above 0, for the class mean and for w_c, on every model. Negative control: the same comparison with
the confidences shuffled across samples, decided on its seeded permutation distribution.
"""

import numpy as np
import pytest

from repcore.claims.zoo_views import confidence, predicted_alignment
from repcore.fixtures.regularizers import compared
from repcore.criteria import CORRELATION_DIFFERENCE, Criterion
from repcore.features import head_parameters
from repcore.geometry import alignment, class_means
from repcore.stats import bootstrap, pearson, permutation_distribution, weighted_pearson

MODELS = ["hard", *compared().values()]
BEST_CENTER = Criterion("C3", "r(cos v_opt, conf) - r(cos candidate, conf)", 0.0, "above",
                        value_range=CORRELATION_DIFFERENCE)
SHUFFLED = BEST_CENTER.as_control("r(cos v_opt, shuffled conf) - r(cos class mean, shuffled conf)")


def _candidate_alignment(m, candidate: str) -> np.ndarray:
    v, c_hat = m.test.features, m.test.predictions
    if candidate == "class mean":
        centers = class_means(v, c_hat, m.test.logits.shape[1])
    else:
        centers = head_parameters(m.model)[0]
    return alignment(v, centers, c_hat).numpy()


def advantage(c, a, b, axis=-1):
    return pearson(a, c, axis=axis) - pearson(b, c, axis=axis)


def weighted_advantage(w, c, a, b):
    """``advantage`` over a resample."""
    return weighted_pearson(w, a, c) - weighted_pearson(w, b, c)


def _samples(m, candidate: str) -> list[np.ndarray]:
    return [confidence(m).numpy(), predicted_alignment(m).numpy(), _candidate_alignment(m, candidate)]


@pytest.mark.parametrize("candidate", ["class mean", "w_c"])
@pytest.mark.parametrize("name", MODELS)
def test_min_loss_point_beats_other_centers(runs, name, candidate, check):
    check.supported(runs.decide(BEST_CENTER, lambda zoo: bootstrap(weighted_advantage, _samples(zoo[name], candidate)),
                                f"{candidate}, {name}"))


def test_control_shuffled_confidence_shows_no_advantage(runs, check):
    check.not_supported(runs.decide(SHUFFLED, lambda zoo: permutation_distribution(
        advantage, _samples(zoo["hard"], "class mean"), shuffled=0), "hard"))

"""A regularizer beyond the paper, added from outside repcore: focal loss (Lin et al. 2017) with
gamma 3, known to improve calibration (Mukhoti et al. 2020). It keeps hard labels but down-weights
confident samples:

    FL(z, y) = -(1 - p_y)^gamma log p_y,   p = softmax(z).

Run every claim with it beside LS, Mixup and CutMix (trained into the zoo with the profile's recipe
and seeds, cached like the others):

    pytest claims -n auto --regularizer examples.focal_loss:FOCAL
"""

import torch
from torch.nn import functional as F

from repcore.fixtures.regularizers import Regularizer
from repcore.fixtures.spec import ModelSpec

GAMMA = 3.0


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, gamma: float = GAMMA) -> torch.Tensor:
    """mean over the batch of -(1 - p_y)^gamma log p_y."""
    log_p = F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
    return -((1 - log_p.exp()) ** gamma * log_p).mean()


def _focal(spec: ModelSpec, num_classes: int):
    return focal_loss


FOCAL = Regularizer("focal_gamma3", "focal", "Focal", loss=_focal)

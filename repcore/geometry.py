"""Geometry of the representation space: magnitudes of representation vectors v."""

import torch


def mean_square(v: torch.Tensor) -> torch.Tensor:
    """Per-sample mean of v^2 over the d dimensions: ||v||^2 / d (N values)."""
    return v.pow(2).mean(dim=1)


def sample_rms(v: torch.Tensor) -> torch.Tensor:
    """Per-sample RMS ||v||_2 / sqrt(d), for histograms and bins (N values)."""
    return mean_square(v).sqrt()


def feature_rms(v: torch.Tensor) -> float:
    """Global feature RMS: sqrt of the mean of v^2 over samples and dimensions."""
    return float(v.pow(2).mean().sqrt())

"""The report's figures (matplotlib, Agg). Each function returns a Figure; callers save it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from repcore.calibration import expected_calibration_error, reliability_bins
from repcore.features import linear_logits
from repcore.geometry import loss_gradient


def _single(width: float, height: float, right: float = 0.97) -> tuple[Figure, plt.Axes]:
    """One axes with fixed margins (room for labels and a right-hand twin axis): no layout engine,
    which would double the time a figure takes to save."""
    fig, ax = plt.subplots(figsize=(width, height))
    fig.subplots_adjust(left=0.16, bottom=0.16, right=right, top=0.88)
    return fig, ax


def _panels(n: int, width: float = 3.2, height: float = 3.0) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False, constrained_layout=True)
    return fig, axes[0]


def clopper_pearson(successes: np.ndarray, trials: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The exact binomial interval of successes / trials per bin (NaN where a bin is empty)."""
    from scipy.stats import beta

    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(successes > 0, beta.ppf(alpha, successes, trials - successes + 1), 0.0)
        high = np.where(successes < trials, beta.ppf(1 - alpha, successes + 1, trials - successes), 1.0)
    empty = trials == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def reliability_diagrams(models: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Per model: accuracy per 15-bin confidence bin with its 95% Clopper-Pearson band, against the
    diagonal, ECE in the title; beneath it, the share of samples in each bin."""
    fig, axes = plt.subplots(2, len(models), figsize=(3.2 * len(models), 4.2), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]}, sharex=True, constrained_layout=True)
    for (top, bottom), (name, (conf, correct)) in zip(axes.T, models.items(), strict=True):
        bins = reliability_bins(conf, correct)
        centers = (bins.edges[:-1] + bins.edges[1:]) / 2
        width = bins.edges[1] - bins.edges[0]
        filled = bins.counts > 0
        low, high = clopper_pearson(np.rint(np.nan_to_num(bins.accuracy) * bins.counts).astype(int), bins.counts)
        top.bar(centers[filled], bins.accuracy[filled], width=width, edgecolor="k", color="#4c72b0",
                label="accuracy")
        top.bar(centers[filled], (bins.confidence - bins.accuracy)[filled], bottom=bins.accuracy[filled],
                width=width, color="#dd8452", alpha=0.5, label="gap")
        top.errorbar(centers[filled], bins.accuracy[filled],
                     yerr=[(bins.accuracy - low)[filled], (high - bins.accuracy)[filled]], fmt="none",
                     ecolor="k", elinewidth=1, capsize=2, label="95% band")
        top.plot([0, 1], [0, 1], "k--", lw=1)
        top.set(xlim=(0, 1), ylim=(0, 1), title=f"{name}: ECE {100 * expected_calibration_error(conf, correct):.1f}%")
        shares = bins.counts / max(1, bins.counts.sum())
        bottom.bar(centers, shares, width=width, color="#888888")
        bottom.set(xlabel="confidence", ylim=(0, 1.15 * max(float(shares.max()), 0.01)))
    axes[0, 0].set_ylabel("accuracy")
    axes[1, 0].set_ylabel("share")
    axes[0, 0].legend(loc="upper left", fontsize=7)
    return fig


def feature_histograms(models: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Two panels: the per-sample RMS of v and cos(v, v_opt), hard against each regularizer
    (outlined histograms on shared bins)."""
    fig, axes = _panels(2, width=3.8, height=2.9)
    for ax, index, label in ((axes[0], 0, "RMS of v"), (axes[1], 1, "cos(v, v_opt)")):
        values = [m[index] for m in models.values()]
        edges = np.linspace(min(float(np.quantile(v, 0.005)) for v in values),
                            max(float(np.quantile(v, 0.995)) for v in values), 41)
        for i, (name, value) in enumerate(zip(models, values, strict=True)):
            ax.hist(value, bins=edges, histtype="step", lw=2 if name == "hard" else 1.3, color=f"C{i}",
                    density=True, label=f"{name} (mean {np.mean(value):.3g})")
        ax.set(xlabel=label, ylabel="density")
        ax.legend(fontsize=7)
    return fig


COLOURS = {"supported": "#2e7d32", "refuted": "#c62828", "inconclusive": "#ef8f00"}


def forest(panels: dict[str, list[dict]], title: str) -> Figure:
    """One panel per statistic, one row per criterion: the seed-level interval (coloured by its
    outcome), the mean, each seed's value as a dot, and the bound (a red bar; a band for an
    equivalence)."""
    rows = sum(len(p) for p in panels.values())
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.4, 0.9 + 0.42 * rows + 0.5 * len(panels)), squeeze=False,
                             gridspec_kw={"height_ratios": [len(p) for p in panels.values()]}, constrained_layout=True)
    for ax, (statistic, criteria) in zip(axes[:, 0], panels.items(), strict=True):
        for y, c in enumerate(criteria):
            colour = COLOURS.get(c["outcome"], "#555555")
            ax.plot([c["low"], c["high"]], [y, y], color=colour, lw=3, solid_capstyle="butt")
            ax.plot(c["value"], y, "o", color=colour, ms=6)
            ax.plot(c["seeds"], [y + 0.22] * len(c["seeds"]), ".", color="#333333", ms=4)
            bounds = [-c["bound"], c["bound"]] if c["direction"] == "inside" else [c["bound"]]
            for bound in bounds:
                ax.plot([bound, bound], [y - 0.35, y + 0.35], color="#c62828", lw=1.5)
        ax.set_yticks(range(len(criteria)), [c["label"] for c in criteria], fontsize=8)
        ax.set_ylim(len(criteria) - 0.5, -0.6)
        ax.set_title(statistic, fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="#eeeeee")
    fig.suptitle(title, fontsize=10)
    return fig


def rms_vs_cosine(models: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    """Per model: per-sample RMS against cos(v, v_opt), coloured by confidence."""
    fig, axes = _panels(len(models))
    top = max(float(np.quantile(rms, 0.99)) for rms, _, _ in models.values())
    for ax, (name, (rms, cos, conf)) in zip(axes, models.items(), strict=True):
        points = ax.scatter(cos, rms, c=conf, s=4, cmap="viridis", vmin=0, vmax=1)
        ax.set(xlabel="cos(v, v_opt)", ylim=(0, top * 1.05), title=name)
    axes[0].set_ylabel("RMS of v")
    fig.colorbar(points, ax=axes[-1], label="confidence")
    return fig


def asr_by_alignment(cos: np.ndarray, success: np.ndarray, edges: np.ndarray, title: str) -> Figure:
    """Histogram of cos(v, v_opt,y) with the attack success rate of each quantile bin."""
    fig, ax = _single(4.2, 3.0, right=0.84)
    ax.hist(cos, bins=40, color="#bbbbbb")
    ax.set(xlabel="cos(v, v_opt,y)", ylabel="samples", title=title)
    idx = np.clip(np.searchsorted(edges, cos, side="right") - 1, 0, len(edges) - 2)
    asr = [success[idx == i].mean() if (idx == i).any() else np.nan for i in range(len(edges) - 1)]
    twin = ax.twinx()
    twin.step(edges, [*asr, asr[-1]], where="post", color="#c44e52", lw=2)
    twin.set(ylim=(0, 1), ylabel="attack success rate")
    for edge in edges[1:-1]:
        ax.axvline(edge, color="k", lw=0.5, ls=":")
    return fig


def scaling_curves(values: np.ndarray, ece_feature: np.ndarray, ece_temperature: np.ndarray,
                   s_star: float, t_star: float, title: str) -> Figure:
    """ECE against the feature scale s and against 1/T, with the fitted s* and 1/T* marked."""
    fig, ax = _single(4.2, 3.0)
    ax.plot(values, 100 * ece_feature, label="feature scale s")
    ax.plot(values, 100 * ece_temperature, "--", label="1 / temperature")
    ax.axvline(s_star, color="C0", lw=0.8)
    ax.axvline(1 / t_star, color="C1", lw=0.8, ls="--")
    ax.set(xscale="log", xlabel="s or 1/T", ylabel="ECE (%)", title=title)
    ax.legend(fontsize=8)
    return fig


def representation_plane(W: torch.Tensor, b: torch.Tensor | None, v: torch.Tensor, y: torch.Tensor,
                         min_loss_points: torch.Tensor, means: torch.Tensor, title: str,
                         v_adv: torch.Tensor | None = None) -> Figure:
    """A 2-D representation space: decision regions, confidence contours, features by class,
    class means (o), weight vectors (arrows from the origin), minimal-loss points (x), loss-gradient
    arrows at a few features, and perturbed features (clean -> adversarial) when given."""
    fig, ax = plt.subplots(figsize=(5.2, 4.6), constrained_layout=True)
    k = W.shape[0]
    span = float(torch.cat([v, min_loss_points]).abs().quantile(0.98)) * 1.3
    grid = torch.linspace(-span, span, 300)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    plane = torch.stack([gx.flatten(), gy.flatten()], 1)
    probs = torch.softmax(linear_logits(W, b, plane), 1)
    colours = plt.get_cmap("tab10")
    ax.imshow(probs.argmax(1).view(300, 300).numpy(), origin="lower", extent=(-span, span, -span, span),
              cmap=matplotlib.colors.ListedColormap([colours(i % 10) for i in range(k)]), alpha=0.18,
              vmin=0, vmax=k - 1, interpolation="nearest")
    contours = ax.contour(gx.numpy(), gy.numpy(), probs.amax(1).view(300, 300).numpy(),
                          levels=[0.3, 0.5, 0.7, 0.9, 0.99], colors="k", linewidths=0.5)
    ax.clabel(contours, fontsize=6)
    shown = torch.arange(len(y))[:600]
    ax.scatter(v[shown, 0], v[shown, 1], c=[colours(int(c) % 10) for c in y[shown]], s=4)
    if v_adv is not None:
        few = shown[:40]
        ax.quiver(v[few, 0], v[few, 1], (v_adv - v)[few, 0], (v_adv - v)[few, 1], angles="xy",
                  scale_units="xy", scale=1, color="#c44e52", width=0.004, label="attack displacement")
    few = shown[:40]
    grad = loss_gradient(W, b, v[few], y[few])
    grad = grad / grad.norm(dim=1, keepdim=True).clamp(min=1e-12) * span * 0.08
    ax.quiver(v[few, 0], v[few, 1], grad[:, 0], grad[:, 1], angles="xy", scale_units="xy", scale=1,
              color="k", width=0.003, label="loss gradient")
    direction = W / W.norm(dim=1, keepdim=True) * span * 0.5
    for c in range(k):
        ax.annotate("", xy=direction[c].tolist(), xytext=(0, 0),
                    arrowprops={"arrowstyle": "->", "color": colours(c % 10), "lw": 1.5})
    ax.scatter(means[:, 0], means[:, 1], marker="o", s=60, facecolors="none",
               edgecolors=[colours(c % 10) for c in range(k)], linewidths=2, label="class mean")
    ax.scatter(min_loss_points[:, 0], min_loss_points[:, 1], marker="x", s=70,
               c=[colours(c % 10) for c in range(k)], linewidths=2.5, label="minimal-loss point")
    ax.set(xlim=(-span, span), ylim=(-span, span), title=title, xlabel="v1", ylabel="v2")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def white_box_and_transfer(rates: dict[str, dict[str, list[float]]], attack: str) -> Figure:
    """Per model, the attack success rate of its own white-box attack and of the hard model's
    adversarial images transferred to it: each seed a dot, the mean a bar."""
    fig, ax = _single(5.5, 3.2)
    kinds = list(dict.fromkeys(kind for by_kind in rates.values() for kind in by_kind))
    width = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        for i, by_kind in enumerate(rates.values()):
            values = by_kind.get(kind, [])
            if not values:
                continue
            x = i + (k - (len(kinds) - 1) / 2) * width
            ax.bar(x, np.mean(values), width=width, color=f"C{k}", alpha=0.6, label=kind if i == 0 else None)
            ax.plot(np.full(len(values), x), values, "k.", ms=4)
    ax.set_xticks(range(len(rates)), list(rates))
    ax.set(ylabel="attack success rate", ylim=(0, 1), title=f"{attack}: white-box vs transferred from hard")
    ax.legend(fontsize=8)
    return fig

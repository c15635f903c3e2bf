"""C7: soft labels lower confidence and improve the calibration of an over-confident baseline.

Declared (95% CI, paired over test images): mean conf(reg) - mean conf(hard) below 0 for every
regularizer; ECE(LS) - ECE(hard) below 0; for Mixup and CutMix the signed gap mean(conf) - accuracy
(over-confidence) falls: gap(reg) - gap(hard) below 0. Negative control: an under-confident baseline
(the second-strongest smoothing of the sweep) smoothed further (the strongest) does not improve ECE.
"""

import pytest

from repcore.calibration import confidence_and_correct, expected_calibration_error, signed_gap
from repcore.report.figures import reliability_diagrams
from repcore.stats import decide, paired_bootstrap_ci, per_resample


def _ece_difference(c1, k1, c0, k0):
    return expected_calibration_error(c1, k1) - expected_calibration_error(c0, k0)


def _paired(model, base):
    return [*confidence_and_correct(model.test.logits, model.test.labels),
            *confidence_and_correct(base.test.logits, base.test.labels)]


def ece_verdict(model, base):
    value, low, high = paired_bootstrap_ci(per_resample(_ece_difference), _paired(model, base), n_resamples=1000)
    return decide("C7", f"ECE({model.name}) - ECE({base.name})", value, (low, high), 0.0, "below",
                  len(model.test.labels))


@pytest.mark.parametrize("regularizer", ["LS", "Mixup", "CutMix"])
def test_soft_labels_lower_confidence(zoo, profile, regularizer, check):
    reg, hard = zoo[profile.regularized[regularizer]], zoo["hard"]

    def difference(c1, k1, c0, k0, axis=-1):
        return c1.mean(axis) - c0.mean(axis)

    value, low, high = paired_bootstrap_ci(difference, _paired(reg, hard))
    check.supported(decide("C7", f"mean conf({reg.name}) - mean conf({hard.name})", value,
                           (low, high), 0.0, "below", len(reg.test.labels)))


def test_label_smoothing_improves_calibration(zoo, profile, check, figure):
    shown = {name: confidence_and_correct(zoo[name].test.logits, zoo[name].test.labels)
             for name in ["hard", *profile.regularized.values()]}
    for name, (conf, correct) in shown.items():
        check.evidence(name, mean_conf=conf.mean(), ece_pct=100 * expected_calibration_error(conf, correct),
                       signed_gap=signed_gap(conf, correct))
    figure(reliability_diagrams(shown), "Reliability diagrams (15 equal-width bins, test split).")
    check.supported(ece_verdict(zoo[profile.regularized["LS"]], zoo["hard"]))


@pytest.mark.parametrize("regularizer", ["Mixup", "CutMix"])
def test_mixing_reduces_over_confidence(zoo, profile, regularizer, check):
    reg, hard = zoo[profile.regularized[regularizer]], zoo["hard"]

    def gap_difference(c1, k1, c0, k0, axis=-1):
        return (c1.mean(axis) - k1.mean(axis)) - (c0.mean(axis) - k0.mean(axis))

    value, low, high = paired_bootstrap_ci(gap_difference, _paired(reg, hard))
    check.supported(decide("C7", f"signed gap({reg.name}) - signed gap({hard.name})", value,
                           (low, high), 0.0, "below", len(reg.test.labels)))


def test_control_smoothing_an_under_confident_baseline_does_not_help(zoo, profile, check):
    strongest, second = sorted(profile.ls_sweep)[-1], sorted(profile.ls_sweep)[-2]
    base, more = zoo[profile.ls_sweep[second]], zoo[profile.ls_sweep[strongest]]
    conf, correct = confidence_and_correct(base.test.logits, base.test.labels)
    assert conf.mean() < correct.mean(), (
        f"control precondition: {base.name} should be under-confident "
        f"(mean conf {conf.mean():.3f} vs accuracy {correct.mean():.3f})")
    check.not_supported(ece_verdict(more, base))

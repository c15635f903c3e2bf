import pytest
import torch
from torch import nn
from torch.nn import functional as F

from repcore import attacks


def _model_and_data(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 4)).eval()
    x = torch.rand(64, 3, 8, 8, generator=torch.Generator().manual_seed(seed))
    return model, x, model(x).argmax(1).detach()


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_adversarial_images_stay_in_the_eps_ball_and_the_image_box(attack):
    model, x, y = _model_and_data()
    eps = 4 / 255
    adv = attacks.fgsm(model, x, y, eps) if attack == "fgsm" else attacks.pgd(model, x, y, eps, eps / 4, 10)
    assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1


def test_fgsm_is_one_signed_gradient_step():
    model, x, y = _model_and_data()
    x_req = x.clone().requires_grad_(True)
    F.cross_entropy(model(x_req), y, reduction="sum").backward()
    expected = (x + 0.01 * x_req.grad.sign()).clamp(0, 1)
    assert torch.allclose(attacks.fgsm(model, x, y, 0.01), expected)


def test_pgd_raises_the_loss_more_than_fgsm_and_more_steps_do_not_hurt():
    model, x, y = _model_and_data(1)
    eps = 0.05

    def loss(a):
        return F.cross_entropy(model(a), y).item()

    assert loss(attacks.pgd(model, x, y, eps, eps / 4, 20)) >= loss(attacks.fgsm(model, x, y, eps)) - 1e-6
    assert loss(attacks.fgsm(model, x, y, eps)) > loss(x)


def test_attacks_leave_the_model_as_they_found_it():
    model, x, y = _model_and_data()
    model.train()
    attacks.pgd(model, x, y, 0.01, 0.005, 2)
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_seeded_random_start_is_reproducible_and_early_stop_freezes_successes():
    model, x, y = _model_and_data(2)
    a = attacks.pgd(model, x, y, 0.03, 0.01, 5, random_start=True, generator=torch.Generator().manual_seed(0))
    b = attacks.pgd(model, x, y, 0.03, 0.01, 5, random_start=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    stopped = attacks.pgd(model, x, y, 0.2, 0.2, 1, early_stop=True)
    again = attacks.pgd(model, x, y, 0.2, 0.2, 2, early_stop=True)
    flipped = model(stopped).argmax(1) != y
    assert torch.equal(stopped[flipped], again[flipped])


def test_attack_success_rate_counts_clean_correct_samples_only():
    clean = torch.tensor([True, True, True, False])
    adversarial = torch.tensor([False, True, True, False])
    assert attacks.attack_success_rate(clean, adversarial) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no clean-correct"):
        attacks.attack_success_rate(torch.tensor([False]), torch.tensor([False]))


def test_paper_settings_and_their_descriptions():
    settings = attacks.paper_attacks(autoattack_subset=100, autoattack_attacks=("apgd-ce",))
    assert settings["PGD^w"].eps == pytest.approx(0.4 / 255) and settings["PGD^w"].steps == 7
    assert settings["PGD^s"].step == pytest.approx(2 / 255)
    assert "first 100 images" in settings["AA^w"].describe() and "apgd-ce" in settings["AA^s"].describe()
    assert settings["FGSM"].key() != settings["PGD^w"].key()


def test_autoattack_adapter_runs_on_the_cpu_and_respects_the_budget():
    model, x, y = _model_and_data(3)
    config = attacks.AttackConfig("AA", "autoattack", 8 / 255, aa_attacks=("apgd-ce",), subset=16)
    adv, _ = attacks.run_attack(model, x, y, config, torch.device("cpu"))
    assert adv.shape == (16, 3, 8, 8) and (adv - x[:16]).abs().max() <= 8 / 255 + 1e-6
    assert (model(adv).argmax(1) != y[:16]).sum() >= (model(attacks.fgsm(model, x[:16], y[:16],
                                                                         8 / 255)).argmax(1) != y[:16]).sum()


def test_standard_autoattack_runs_with_fewer_than_ten_classes_and_is_at_least_as_strong_as_apgd_ce():
    """The paper profile's version: APGD-CE, APGD-T, FAB-T, Square (here with 3 target classes)."""
    model, x, y = _model_and_data(3)
    standard = attacks.AttackConfig("AA", "autoattack", 8 / 255, subset=4)
    apgd_ce = attacks.AttackConfig("AA", "autoattack", 8 / 255, aa_attacks=("apgd-ce",), subset=4)
    adv, _ = attacks.run_attack(model, x, y, standard, torch.device("cpu"))
    assert adv.shape == (4, 3, 8, 8) and (adv - x[:4]).abs().max() <= 8 / 255 + 1e-6
    fooled = (model(adv).argmax(1) != y[:4]).sum()
    assert fooled >= (model(attacks.run_attack(model, x, y, apgd_ce, torch.device("cpu"))[0]).argmax(1) != y[:4]).sum()


class _Randomized(torch.nn.Module):
    """A classifier whose logits carry fresh noise on every call: AutoAttack must flag it."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        logits = self.model(x)
        return logits + torch.randn_like(logits)


def test_autoattack_checks_are_captured_not_lost_in_the_log():
    model, x, y = _model_and_data(3)
    config = attacks.AttackConfig("AA", "autoattack", 8 / 255, aa_attacks=("apgd-ce",), subset=8)
    _, clean_checks = attacks.run_attack(model, x, y, config, torch.device("cpu"))
    _, checks = attacks.run_attack(_Randomized(model), x, y, config, torch.device("cpu"))
    assert not any("randomized" in c for c in clean_checks)
    assert any("randomized defense" in c for c in checks)

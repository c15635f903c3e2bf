from dataclasses import replace

import pytest
import torch

from repcore.fixtures.data import load_dataset
from repcore.fixtures.regularizers import batch_transform, training_loss
from repcore.fixtures.training import TrainingDivergedError, train_model

CPU = torch.device("cpu")


def test_same_spec_and_seed_give_bit_identical_weights(tiny_spec):
    data = load_dataset(tiny_spec.data, None)
    first = train_model(tiny_spec, data, CPU).state_dict()
    second = train_model(tiny_spec, data, CPU).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_another_seed_gives_other_weights(tiny_spec):
    data = load_dataset(tiny_spec.data, None)
    a = train_model(tiny_spec, data, CPU).head.weight
    b = train_model(replace(tiny_spec, seed=1), data, CPU).head.weight
    assert not torch.equal(a, b)


@pytest.mark.parametrize("regularizer, extra", [
    ("label_smoothing", {"smoothing": 0.1}), ("mixup", {}), ("cutmix", {}),
])
def test_every_regularizer_trains_deterministically(tiny_spec, regularizer, extra):
    spec = replace(tiny_spec, regularizer=regularizer, epochs=1, augment=True, **extra)
    data = load_dataset(spec.data, None)
    a, b = train_model(spec, data, CPU), train_model(spec, data, CPU)
    assert torch.equal(a.head.weight, b.head.weight)


def test_mixup_and_cutmix_give_soft_targets_summing_to_one(tiny_spec):
    x, y = torch.rand(8, 3, 32, 32), torch.arange(8) % 10
    for regularizer in ("mixup", "cutmix"):
        torch.manual_seed(0)
        _, target = batch_transform(replace(tiny_spec, regularizer=regularizer, cutmix_p=1.0), 10)(x, y)
        assert target.shape == (8, 10) and torch.allclose(target.sum(1), torch.ones(8))


@pytest.mark.parametrize("regularizer, extra", [
    ("label_smoothing", {"smoothing": 0.1}), ("mixup", {}), ("cutmix", {"cutmix_p": 1.0}),
])
def test_soft_label_losses_do_not_degrade_to_the_hard_loss(tiny_spec, regularizer, extra):
    """The loss the training loop computes for a regularizer is the soft-label cross-entropy, not
    the hard one: a silently dropped label smoothing, Mixup or CutMix fails here."""
    spec = replace(tiny_spec, regularizer=regularizer, **extra)
    x, y = torch.rand(16, 3, 32, 32), torch.arange(16) % 10
    logits = 6 * torch.nn.functional.one_hot(y, 10) + torch.randn(16, 10, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    images, target = batch_transform(spec, 10)(x, y)
    loss = training_loss(spec, 10)(logits, target)
    hard = torch.nn.functional.cross_entropy(logits, y)
    if regularizer == "label_smoothing":
        soft = (1 - 0.1) * torch.nn.functional.one_hot(y, 10) + 0.1 / 10
    else:
        soft = target
        assert not torch.equal(images, x) and (target.max(1).values < 1).any()
    expected = -(soft * logits.log_softmax(1)).sum(1).mean()
    assert torch.allclose(loss, expected, atol=1e-6) and not torch.allclose(loss, hard, atol=1e-3)


@pytest.mark.parametrize("regularizer, extra", [
    ("label_smoothing", {"smoothing": 0.1}), ("mixup", {}), ("cutmix", {"cutmix_p": 1.0}),
])
def test_every_regularizer_trains_another_model_than_hard_labels(tiny_spec, regularizer, extra):
    data = load_dataset(tiny_spec.data, None)
    hard = train_model(replace(tiny_spec, epochs=1), data, CPU).head.weight
    soft = train_model(replace(tiny_spec, epochs=1, regularizer=regularizer, **extra), data, CPU).head.weight
    assert not torch.allclose(hard, soft)


def test_non_finite_loss_stops_with_a_clear_error(tiny_spec):
    spec = replace(tiny_spec, lr=1e12)
    with pytest.raises(TrainingDivergedError, match="loss is (nan|inf).*lower lr"):
        train_model(spec, load_dataset(spec.data, None), CPU, label="exploding")


def test_short_runs_warm_up_over_two_steps_and_too_short_ones_are_refused(tiny_spec):
    four_steps = replace(tiny_spec, data=replace(tiny_spec.data, n_train=128), epochs=1)
    train_model(four_steps, load_dataset(four_steps.data, None), CPU)
    with pytest.raises(ValueError, match="2 optimizer steps are too few.*smaller batch"):
        train_model(replace(four_steps, batch_size=64), load_dataset(four_steps.data, None), CPU)


def test_training_leaves_the_thread_count_as_it_was(tiny_spec):
    before = torch.get_num_threads()
    train_model(replace(tiny_spec, epochs=1), load_dataset(tiny_spec.data, None), CPU)
    assert torch.get_num_threads() == before


def test_random_crop_flip_moves_each_sample_within_the_padding():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8)
    from repcore.fixtures.training import random_crop_flip
    out = random_crop_flip(x, g, pad=2)
    assert out.shape == x.shape
    centre = out[:, :, 2:6, 2:6]
    for i in range(2):
        found = any(torch.equal(centre[i], x[i, :, r:r + 4, c:c + 4]) or
                    torch.equal(centre[i], x[i, :, r:r + 4, c:c + 4].flip(2))
                    for r in range(5) for c in range(5))
        assert found, "each output must be a (possibly flipped) translate of its own input"


def test_a_batch_that_does_not_split_over_the_processes_is_a_clear_error(tiny_spec, monkeypatch):
    from repcore.fixtures import training
    monkeypatch.setattr(training, "rank_and_world", lambda: (0, 3))
    with pytest.raises(ValueError, match="batch size 32 does not split over 3 processes"):
        train_model(tiny_spec, load_dataset(tiny_spec.data, None), CPU)


def test_the_gpu_recipe_runs_on_the_cpu_too(tiny_spec):
    """channels_last, bf16 autocast and torch.compile: the code path CUDA takes, exercised here."""
    spec = replace(tiny_spec, epochs=1, augment=True, regularizer="mixup")
    data = load_dataset(spec.data, None)
    lines = []
    model = train_model(spec, data, CPU, lines.append, accelerated=True)
    assert type(model).__name__ == "RepresentationClassifier" and not model.training
    assert any("epoch 1/1 loss" in line for line in lines)
    logits = model(data.test.x[:8].float() / 255)
    assert logits.shape == (8, 10) and torch.isfinite(logits).all()

import pytest
import torch
from torch import nn

from repcore.fixtures.models import ARCHITECTURES, build_model
from repcore.features import final_linear, representations

STATS = ((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


@pytest.mark.parametrize("arch, width", [("small_cnn", 128), ("resnet18", 512),
                                         ("resnet50", 2048), ("mobilenet_v2", 1280)])
def test_every_architecture_exposes_features_and_a_linear_head(arch, width):
    model = build_model(arch, 10, *STATS).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        v = model.features(x)
        assert v.shape == (2, width)
        assert torch.allclose(model(x), model.head(v))
    assert model.head.weight.shape == (10, width)


def test_bottleneck_gives_two_dimensional_features_with_or_without_bias():
    with_bias = build_model("small_cnn", 10, *STATS, bottleneck=True, head_bias=True)
    without = build_model("small_cnn", 10, *STATS, bottleneck=True, head_bias=False)
    assert with_bias.features(torch.rand(3, 3, 32, 32)).shape == (3, 2)
    assert with_bias.head.bias is not None and without.head.bias is None


def test_unknown_architecture_lists_the_choices():
    with pytest.raises(ValueError, match="small_cnn, resnet18"):
        build_model("vgg", 10, *STATS)
    assert "mobilenet_v2" in ARCHITECTURES


def test_representations_read_the_head_input_of_any_torchvision_style_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 16), nn.ReLU(), nn.Linear(16, 4))
    x, y = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8), torch.zeros(5, dtype=torch.long)
    reps = representations(model, x, y, batch_size=2)
    assert final_linear(model) is model[3]
    expected = model[:3](x.float() / 255)
    assert torch.allclose(reps.features, expected, atol=1e-5)
    assert torch.allclose(reps.logits, model(x.float() / 255), atol=1e-5)

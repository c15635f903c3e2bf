import numpy as np
import pytest

from repcore.fixtures import embedded


def test_same_seed_gives_identical_images_and_labels():
    x1, y1, s1 = embedded.generate(200, seed=3)
    x2, y2, s2 = embedded.generate(200, seed=3)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and np.array_equal(s1, s2)


def test_other_seed_gives_other_images():
    assert not np.array_equal(embedded.generate(50, seed=0)[0], embedded.generate(50, seed=1)[0])


def test_images_are_uint8_3x32x32_with_ten_balanced_shapes():
    x, y, shapes = embedded.generate(2000, seed=0)
    assert x.shape == (2000, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(shapes).tolist() == [200] * 10


def test_label_noise_rate_is_as_documented_and_never_keeps_the_shape():
    _, labels, shapes = embedded.generate(20000, seed=5)
    noisy = labels != shapes
    assert abs(noisy.mean() - embedded.LABEL_NOISE) < 0.01
    assert set(np.unique(labels[noisy])) == set(range(10))


def test_classes_are_visually_distinct_but_not_trivial():
    """A nearest-class-mean classifier on raw pixels is above chance, far from perfect."""
    x, y, _ = embedded.generate(3000, seed=0)
    flat = x.reshape(len(x), -1).astype(np.float32) / 255
    gray = flat.reshape(len(x), 3, -1).mean(1)
    centered = np.abs(gray - gray.mean(1, keepdims=True))
    means = np.stack([centered[:2000][y[:2000] == c].mean(0) for c in range(10)])
    pred = ((centered[2000:, None] - means[None]) ** 2).sum(-1).argmin(1)
    accuracy = (pred == y[2000:]).mean()
    assert 0.15 < accuracy < 0.9


def test_nonpositive_size_is_rejected():
    with pytest.raises(ValueError, match="n=0"):
        embedded.generate(0, seed=0)

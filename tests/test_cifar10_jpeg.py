"""The CIFAR-10 JPEG copy through torchvision's CIFAR10 loader (needs ../shared/data/cifar10)."""

from pathlib import Path

import numpy as np
import pytest

from repcore.fixtures import cifar10_jpeg
from repcore.fixtures.data import DataNotFoundError, load_dataset
from repcore.fixtures.spec import DataSpec

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_copy = pytest.mark.skipif(not (SHARED / "cifar10" / "jpeg_q75_all.npz").is_file(),
                                reason=f"no CIFAR-10 JPEG copy at {SHARED / 'cifar10'}")


@needs_copy
def test_prepared_copy_loads_through_torchvision_and_survives_corruption(tmp_path):
    data = load_dataset(DataSpec("cifar10_jpeg", n_train=100, n_val=100, n_test=100), SHARED, tmp_path)
    assert data.description == "CIFAR-10 (JPEG q75 copy)" and data.test.x.shape == (100, 3, 32, 32)
    root = tmp_path / "cifar10-jpeg"
    test = cifar10_jpeg.CIFAR10JpegCopy(str(root), train=False, download=False)
    train = cifar10_jpeg.CIFAR10JpegCopy(str(root), train=True, download=False)
    assert len(train) == 50000 and len(test) == 10000
    assert test.targets[:10] == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert np.bincount(train.targets).tolist() == [5000] * 10
    assert test.classes[0] == "airplane" and test[0][0].size == (32, 32)
    batch = root / cifar10_jpeg.FOLDER / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:1000])
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        cifar10_jpeg.CIFAR10JpegCopy(str(root), train=True, download=False)
    cifar10_jpeg.prepare(cifar10_jpeg.find_source(SHARED), root)
    assert len(cifar10_jpeg.CIFAR10JpegCopy(str(root), train=True, download=False)) == 50000


def test_missing_copy_names_the_expected_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="jpeg_q75_all.npz"):
        load_dataset(DataSpec("cifar10_jpeg"), tmp_path)

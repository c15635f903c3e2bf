"""Shared helpers for the unit tests: a tiny spec that trains in about a second."""

import pytest

from fixtures.spec import DataSpec, ModelSpec

TINY = ModelSpec(data=DataSpec("embedded", n_train=96, n_val=32, n_test=64), epochs=2, batch_size=32)


@pytest.fixture
def tiny_spec() -> ModelSpec:
    return TINY


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "zoo"

"""Epoch checkpoints: a training stopped after an epoch resumes to the same bytes; a torn
checkpoint is ignored."""

from dataclasses import replace

import pytest
import torch

from repcore.fixtures.data import load_dataset
from repcore.fixtures.resume import EpochCheckpoints
from repcore.fixtures.training import train_model
from tests.conftest import TINY

SPEC = replace(TINY, regularizer="mixup", epochs=4)


class Stop(Exception):
    pass


def _stop_after(epoch: int):
    def progress(line: str) -> None:
        if f"epoch {epoch}/" in line:
            raise Stop
    return progress


def test_a_training_stopped_after_an_epoch_resumes_to_the_same_weights(tmp_path):
    data = load_dataset(SPEC.data, None, tmp_path / "datasets")
    whole = train_model(SPEC, data, torch.device("cpu"))
    checkpoints = EpochCheckpoints(tmp_path, SPEC.key())
    with pytest.raises(Stop):
        train_model(SPEC, data, torch.device("cpu"), _stop_after(3), checkpoints=checkpoints)
    assert checkpoints.load()["epoch"] == 2
    lines = []
    resumed = train_model(SPEC, data, torch.device("cpu"), lines.append, checkpoints=checkpoints)
    assert [line.split(" loss")[0] for line in lines if "loss" in line] == [" epoch 3/4", " epoch 4/4"]
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_a_torn_or_foreign_epoch_checkpoint_is_ignored(tmp_path):
    checkpoints = EpochCheckpoints(tmp_path, SPEC.key())
    checkpoints.save({"key": SPEC.key(), "epoch": 1})
    path = tmp_path / checkpoints.name
    path.write_bytes(path.read_bytes()[:-5])
    assert checkpoints.load() is None
    EpochCheckpoints(tmp_path, "another").save({"key": "another", "epoch": 1})
    (tmp_path / "partial" / "another.pt").rename(path)
    assert checkpoints.load() is None

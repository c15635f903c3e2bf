from pathlib import Path

import pytest
import torch

from fixtures import __main__ as cli
from fixtures.cache import artifact_paths
from fixtures.data import DataNotFoundError, load_dataset
from fixtures.profiles import get_profile
from fixtures.spec import DataSpec, ModelSpec
from fixtures.zoo import load_or_train
from repcore.features import representations

CPU = torch.device("cpu")


def test_loaded_model_reproduces_its_cached_outputs(tiny_spec, cache_dir):
    trained = load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lambda line: None)
    loaded = load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lambda line: None)
    assert trained.trained_now and not loaded.trained_now
    data = load_dataset(tiny_spec.data, None)
    fresh = representations(loaded.model, data.test.x, data.test.y)
    assert torch.allclose(fresh.logits, loaded.test.logits, atol=1e-5)
    assert torch.allclose(fresh.features, loaded.test.features, atol=1e-5)
    assert loaded.test.features.shape == (64, 128) and loaded.val.logits.shape == (32, 10)


def test_corrupt_checkpoint_is_reported_and_retrained(tiny_spec, cache_dir):
    load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lambda line: None)
    pt, _ = artifact_paths(cache_dir, tiny_spec.key())
    pt.write_bytes(b"not a checkpoint")
    lines = []
    again = load_or_train("tiny", tiny_spec, cache_dir, None, CPU, log=lines.append)
    assert again.trained_now
    assert any("unusable" in line and "checksum" in line for line in lines)


def _load_in_child(spec, cache_dir, barrier, results):
    barrier.wait()
    results.put(load_or_train("tiny", spec, cache_dir, None, CPU, log=lambda line: None).trained_now)


def test_two_processes_racing_for_one_spec_train_it_once(tiny_spec, cache_dir, race):
    assert race(_load_in_child, tiny_spec, cache_dir) == [False, True]


def test_spec_key_depends_on_every_field():
    base = ModelSpec()
    assert base.key() == ModelSpec().key()
    assert len({base.key(), ModelSpec(seed=1).key(), ModelSpec(epochs=31).key(),
                ModelSpec(data=DataSpec(n_train=100)).key()}) == 4
    assert ModelSpec.from_dict(base.to_dict()) == base


def test_spec_rejects_inconsistent_regularizer():
    with pytest.raises(ValueError, match="unknown regularizer"):
        ModelSpec(regularizer="dropout")
    with pytest.raises(ValueError, match="smoothing > 0 goes with"):
        ModelSpec(regularizer="hard", smoothing=0.1)


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown profile 'nope'; available profiles: smoke"):
        get_profile("nope")


def test_smoke_profile_has_every_role():
    profile = get_profile("smoke")
    assert set(profile.regularized) == {"LS", "Mixup", "CutMix"}
    assert sorted(profile.ls_sweep) == [0.0, 0.05, 0.1, 0.2, 0.3]
    assert profile.models["bottleneck_nobias"].head_bias is False


@pytest.mark.parametrize("name, folder", [("cifar10", "cifar-10-batches-py"),
                                          ("cifar100", "cifar-100-python"), ("imagenet", "train")])
def test_missing_real_data_names_the_folder_and_layout(tmp_path, name, folder):
    with pytest.raises(DataNotFoundError, match=folder) as err:
        load_dataset(DataSpec(name), tmp_path)
    assert str(tmp_path) in str(err.value)


def test_real_data_without_data_root_asks_for_it():
    with pytest.raises(DataNotFoundError, match="--data-root"):
        load_dataset(DataSpec("cifar10"), None)


def test_cli_lists_and_cleans_a_profile(tmp_path, capsys):
    assert cli.main(["list", "--profile", "smoke", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hard" in out and "missing" in out
    assert cli.main(["clean", "--profile", "smoke", "--cache-dir", str(tmp_path)]) == 0
    assert cli.main(["build", "--profile", "nope", "--cache-dir", str(tmp_path)]) == 2
    assert "unknown profile" in capsys.readouterr().err


def test_cli_reports_a_damaged_artifact_as_invalid(tmp_path, capsys):
    spec = get_profile("smoke").models["hard"]
    Path(tmp_path, f"{spec.key()}.json").write_text("{")
    cli.main(["list", "--profile", "smoke", "--cache-dir", str(tmp_path)])
    assert "invalid (" in capsys.readouterr().out


def test_cli_build_with_missing_real_data_fails_with_one_clear_line(tmp_path, capsys):
    assert cli.main(["build", "--profile", "cifar10-cpu", "--data-root", str(tmp_path),
                     "--cache-dir", str(tmp_path / "cache"), "--device", "cpu", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "cannot build the cifar10-cpu zoo" in err and "jpeg_q75_all.npz" in err


def test_device_resolution_on_a_cpu_machine(monkeypatch):
    from fixtures.zoo import resolve_device
    assert resolve_device("cpu", "gw3").type == "cpu"
    if not torch.cuda.is_available():
        assert resolve_device("auto", "gw1").type == "cpu"
        with pytest.raises(RuntimeError, match="no CUDA device"):
            resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda", "gw3") == torch.device("cuda", 1)
    assert resolve_device("cuda", None) == torch.device("cuda")

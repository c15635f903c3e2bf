"""Your own checkpoints: models the test trains and saves itself, in each format, run through the
claims as external models; they reproduce the zoo's statistics, and every bad checkpoint is one
line naming its file."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from repcore.fixtures.checkpoints import CheckpointError, load_checkpoint, read_manifest
from repcore.fixtures.artifacts import load_or_train
from repcore.fixtures.external import load_external
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]
LS = replace(TINY, regularizer="label_smoothing", smoothing=0.1)


def _manifest(folder: Path, models: str, trust: bool = False) -> Path:
    data = TINY.data
    path = folder / "models.toml"
    path.write_text(f'dataset = "{data.name}"\nn_train = {data.n_train}\nn_val = {data.n_val}\n'
                    f'n_test = {data.n_test}\ndata_seed = {data.seed}\n'
                    + ("trust_pickled_modules = true\n" if trust else "") + models)
    return path


def _entry(role: str, file: str, fmt: str = "state_dict", arch: str | None = "small_cnn", **extra) -> str:
    lines = [f"[[models.{role}]]", f'file = "{file}"', f'format = "{fmt}"', "num_classes = 10"]
    lines += [f'arch = "{arch}"'] if arch else []
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tiny hard and LS models of the zoo, and their state dicts saved as checkpoints."""
    folder = tmp_path_factory.mktemp("checkpoints")
    models = {role: load_or_train(role, spec, folder / "zoo", None, torch.device("cpu"), log=lambda line: None)
              for role, spec in (("hard", TINY), ("ls", LS))}
    for role, m in models.items():
        torch.save(m.model.state_dict(), folder / f"{role}.pt")
    return folder, models


def test_a_saved_state_dict_gives_the_zoo_models_representations_exactly(trained, tmp_path):
    folder, models = trained
    manifest = read_manifest(_manifest(folder, _entry("hard", "hard.pt") + _entry("ls", "ls.pt")))
    for checkpoint in manifest.checkpoints:
        external = load_external(checkpoint.role, checkpoint, manifest, tmp_path, None, torch.device("cpu"),
                                 log=lambda line: None)
        zoo = models[checkpoint.role]
        for split in ("val", "test"):
            assert torch.equal(getattr(external, split).features, getattr(zoo, split).features)
            assert torch.equal(getattr(external, split).logits, getattr(zoo, split).logits)


def test_a_pickled_module_needs_the_opt_in_and_then_works(trained, tmp_path):
    folder, models = trained
    torch.save(models["hard"].model, tmp_path / "whole.pt")
    untrusted = read_manifest(_manifest(tmp_path, _entry("hard", "whole.pt", "module", arch=None)))
    with pytest.raises(CheckpointError, match="whole.pt: a pickled nn.Module can run code"):
        load_checkpoint(untrusted.checkpoints[0])
    trusted = read_manifest(_manifest(tmp_path, _entry("hard", "whole.pt", "module", arch=None), trust=True))
    external = load_external("hard", trusted.checkpoints[0], trusted, tmp_path / "cache", None, torch.device("cpu"))
    assert torch.equal(external.test.features, models["hard"].test.features)


def test_a_torchvision_classifier_works_unwrapped_with_its_normalization(tmp_path):
    net = torchvision.models.resnet18(num_classes=10)
    torch.save(net.state_dict(), tmp_path / "resnet.pt")
    manifest = read_manifest(_manifest(tmp_path, _entry("hard", "resnet.pt", arch="torchvision:resnet18",
                                                        mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])))
    external = load_external("hard", manifest.checkpoints[0], manifest, tmp_path / "cache", None, torch.device("cpu"),
                             log=lambda line: None)
    assert external.test.features.shape == (64, 512) and external.model.head is external.model.net.fc


@pytest.mark.parametrize("make, entry, words", [
    (lambda d: torch.save(torchvision.models.resnet18(num_classes=10).state_dict(), d / "c.pt"),
     dict(arch="small_cnn"), "Missing key"),
    (lambda d: torch.save(torchvision.models.resnet18(num_classes=7).state_dict(), d / "c.pt"),
     dict(arch="torchvision:resnet18"), "size mismatch"),
    (lambda d: torch.save(nn.Sequential(nn.Flatten(), nn.Linear(3072, 7)), d / "c.pt"),
     dict(fmt="module", arch=None), "its head has 7 outputs, the manifest says num_classes = 10"),
    (lambda d: torch.save({k: v * float("nan") if v.is_floating_point() else v
                           for k, v in torchvision.models.resnet18(num_classes=10).state_dict().items()}, d / "c.pt"),
     dict(arch="torchvision:resnet18"), "NaN or infinite weights"),
    (lambda d: torch.save(nn.Sequential(nn.Conv2d(3, 10, 32), nn.Flatten()), d / "c.pt"),
     dict(fmt="module", arch=None), "has no nn.Linear layer"),
    (lambda d: (d / "c.pt").write_bytes(b"not a checkpoint at all"),
     dict(arch="small_cnn"), "is not a torch.save file of tensors"),
], ids=["missing keys", "wrong shapes", "wrong class count", "NaN weights", "no linear head", "not a checkpoint"])
def test_a_bad_checkpoint_is_one_line_naming_its_file(tmp_path, make, entry, words):
    make(tmp_path)
    fmt = entry.pop("fmt", "state_dict")
    manifest = read_manifest(_manifest(tmp_path, _entry("hard", "c.pt", fmt, **entry), trust=True))
    with pytest.raises(CheckpointError, match=words) as raised:
        load_checkpoint(manifest.checkpoints[0], manifest.trust_pickled_modules)
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "c.pt")) and "\n" not in message


def test_a_manifest_without_models_or_with_an_unknown_format_is_one_line(tmp_path):
    (tmp_path / "m.toml").write_text('dataset = "embedded"\n')
    with pytest.raises(CheckpointError, match="m.toml: not a checkpoint manifest"):
        read_manifest(tmp_path / "m.toml")
    with pytest.raises(CheckpointError, match="format 'torchscript' is not one of"):
        read_manifest(_manifest(tmp_path, _entry("hard", "c.pt", "torchscript")))


def test_the_claims_on_saved_checkpoints_reproduce_the_zoos_statistics(trained, tmp_path):
    """C4 on the tiny zoo and on the same two models saved as checkpoints: the LS-vs-hard criterion
    has the same statistic and verdict; the criteria that need roles the manifest lacks are skipped."""
    folder, _ = trained
    manifest = _manifest(folder, _entry("hard", "hard.pt") + _entry("ls", "ls.pt"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile"}
    reports = {}
    for name, extra in (("zoo", []), ("checkpoints", ["--checkpoints", str(manifest)])):
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "claims/test_c4_feature_shrinkage.py", "-q", "-p", "no:cacheprovider",
             "--profile", "tiny", "--device", "cpu", "--cache-dir", str(tmp_path / name),
             "--report-dir", str(tmp_path / f"report-{name}"), *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
        reports[name] = json.loads((tmp_path / f"report-{name}" / "claims.partial.json").read_text())  # C4 only

    def ls_verdict(document):
        (c4,) = document["claims"]
        (test,) = [t for t in c4["tests"] if t["nodeid"].endswith("test_soft_labels_shrink_features[LS]")]
        return test["verdicts"][0]

    zoo, external = ls_verdict(reports["zoo"]), ls_verdict(reports["checkpoints"])
    assert (external["value"], external["ci_low"], external["ci_high"], external["outcome"]) == \
        (zoo["value"], zoo["ci_low"], zoo["ci_high"], zoo["outcome"])
    outcomes = {t["nodeid"].split("::")[1]: t["outcome"] for t in reports["checkpoints"]["claims"][0]["tests"]}
    assert outcomes["test_soft_labels_shrink_features[Mixup]"] == "skipped"
    assert [c["sha256"] for c in reports["checkpoints"]["checkpoints"]] and not reports["zoo"]["checkpoints"]

"""Extending the suite without editing it: a regularizer from your own module, declared once,
reaches the zoo, every comparison claim and training workers; one options definition serves every
front door; a claim module nobody registered is an error at collection."""

import argparse
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch.nn import functional as F

from repcore import pytest_plugin
from repcore.report.session import mark_claims_folder
from examples.focal_loss import FOCAL, focal_loss
from repcore.fixtures import regularizers
from repcore.fixtures.options import OPTIONS, add_options
from repcore.fixtures.profiles import get_profile, replicated_roles
from repcore.fixtures.regularizers import Regularizer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def focal_registered(monkeypatch):
    """FOCAL registered for one test, the registry and $REPCORE_REGULARIZERS restored after."""
    monkeypatch.setattr(regularizers, "REGISTRY", dict(regularizers.REGISTRY))
    monkeypatch.delenv(regularizers.ENV, raising=False)
    regularizers.add("examples.focal_loss:FOCAL")
    yield
    os.environ.pop(regularizers.ENV, None)


def test_focal_loss_is_cross_entropy_at_gamma_zero_and_down_weights_confident_samples():
    logits, labels = torch.randn(64, 10, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 10
    assert torch.allclose(focal_loss(logits, labels, gamma=0.0), F.cross_entropy(logits, labels))
    confident = torch.nn.functional.one_hot(labels, 10) * 8.0
    assert focal_loss(confident, labels) < 1e-6 * F.cross_entropy(confident, labels)


def test_a_registered_regularizer_gets_a_role_in_every_seed_and_every_comparison(focal_registered):
    assert regularizers.compared() == {"LS": "ls", "Mixup": "mixup", "CutMix": "cutmix", "Focal": "focal"}
    assert "focal" in replicated_roles()
    profile = get_profile("smoke")
    for replicate in profile.replicates:
        assert replicate.models["focal"].regularizer == "focal_gamma3"
    assert profile.regularized["Focal"] == "focal"
    assert os.environ[regularizers.ENV] == "examples.focal_loss:FOCAL"


def test_the_built_in_roles_keep_their_cache_keys(focal_registered):
    """Adding a regularizer changes no existing model: the built-ins' specs and keys stay put."""
    with_focal = get_profile("smoke").models
    regularizers.REGISTRY.pop("focal_gamma3")
    without = get_profile("smoke").models
    assert {n: s.key() for n, s in without.items()} == {n: s.key() for n, s in with_focal.items() if n in without}


@pytest.mark.parametrize("reference, words", [
    ("examples.focal_loss:NOPE", "cannot be loaded"),
    ("no_such_module:FOCAL", "cannot be loaded"),
    ("examples.focal_loss:focal_loss", "is not a repcore.fixtures.regularizers.Regularizer"),
])
def test_a_bad_regularizer_reference_is_one_clear_error(reference, words):
    with pytest.raises(ValueError, match=words):
        regularizers.load(reference)


def test_a_regularizer_may_not_take_a_role_or_name_already_taken(monkeypatch):
    monkeypatch.setattr(regularizers, "REGISTRY", dict(regularizers.REGISTRY))
    with pytest.raises(ValueError, match="role 'ls' is taken by 'label_smoothing'"):
        regularizers.register(Regularizer("my_ls", "ls", "MyLS"))
    regularizers.register(FOCAL)
    regularizers.register(FOCAL)  # again is fine


def test_training_workers_train_a_user_regularizer_named_on_the_command_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu", "--jobs", "2",
         "--regularizer", "examples.focal_loss:FOCAL", "--model", "focal", "--model", "hard",
         "--cache-dir", str(tmp_path), "-v"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert "profile tiny: 2 trained, 0 cached" in run.stdout
    assert "focal: training small_cnn / focal_gamma3" in run.stderr


def test_every_front_door_takes_the_same_options():
    parsers = {}
    for script in ("fixtures/__main__.py", "bench/zoo_build.py", "bench/seed_spread.py"):
        text = (ROOT / script).read_text()
        assert "add_options(parser.add_argument" in text, script
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument)
    parsers["argparse"] = {a for action in parser._actions for a in action.option_strings}
    pytest_help = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
                                 cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    for flag in OPTIONS:
        assert flag in parsers["argparse"] and flag in pytest_help, flag


def test_a_claim_module_nobody_registered_is_an_error_at_collection():
    claims_dir = ROOT / "claims"
    config = SimpleNamespace(rootpath=ROOT, stash=pytest.Stash())
    mark_claims_folder(config, claims_dir)
    items = [SimpleNamespace(nodeid="claims/test_c4_feature_shrinkage.py::test_x",
                             path=claims_dir / "test_c4_feature_shrinkage.py"),
             SimpleNamespace(nodeid="claims/test_c99_new_claim.py::test_y", path=claims_dir / "test_c99_new_claim.py")]
    with pytest.raises(pytest.UsageError, match="claims/test_c99_new_claim.py: no claim registered"):
        pytest_plugin.pytest_collection_modifyitems(config, items)
    pytest_plugin.pytest_collection_modifyitems(config, items[:1])

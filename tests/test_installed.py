"""The installed form: a regularizer shipped as a distribution of its own, registered through the
``repcore.regularizers`` entry point, is trained and compared from a folder outside the checkout
with no ``--regularizer`` flag; the ``repcore`` command and the plugin find the installed claims."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repcore.invocation import claims_arguments

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = {
    "pyproject.toml": """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "repcore-focal"
version = "0.1.0"
dependencies = ["repcore"]

[project.entry-points."repcore.regularizers"]
focal = "repcore_focal:FOCAL"
""",
    "repcore_focal/__init__.py": """\
from torch.nn import functional as F

from repcore.fixtures.regularizers import Regularizer


def _focal(spec, num_classes):
    def loss(logits, labels):
        log_p = F.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
        return -((1 - log_p.exp()) ** 3 * log_p).mean()
    return loss


FOCAL = Regularizer("pkg_focal_gamma3", "focal", "Focal", loss=_focal)
""",
}


@pytest.fixture(scope="module")
def focal_site(tmp_path_factory) -> Path:
    """The package above, built and installed (not editable) into a folder of its own."""
    source, site = tmp_path_factory.mktemp("repcore-focal"), tmp_path_factory.mktemp("site")
    for name, text in PACKAGE.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text)
    run = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(site), str(source)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return site


def _repcore(cwd: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "REPCORE_PLUGINS": "tests.tiny_profile"}
    env.pop("REPCORE_REGULARIZERS", None)
    return subprocess.run([sys.executable, "-m", "repcore.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.mark.slow
def test_an_installed_regularizer_package_is_trained_and_compared_without_a_flag(focal_site, tmp_path):
    cache = tmp_path / "zoo"
    listed = _repcore(tmp_path, focal_site, "list", "--profile", "tiny", "--cache-dir", str(cache))
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert any(line.split()[0] == "focal" for line in listed.stdout.splitlines()[2:]), listed.stdout
    built = _repcore(tmp_path, focal_site, "build", "--profile", "tiny", "--device", "cpu", "--jobs", "2",
                     "--model", "hard", "--model", "focal", "--cache-dir", str(cache), "-v")
    assert built.returncode == 0, built.stderr[-3000:]
    assert "focal: training small_cnn / pkg_focal_gamma3" in built.stderr
    run = _repcore(tmp_path, focal_site, "claims", "claims/test_c4_feature_shrinkage.py", "-n", "0", "-q",
                   "--profile", "tiny", "--device", "cpu", "--cache-dir", str(cache), "--report-dir", "r")
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    (c4,) = json.loads((tmp_path / "r" / "claims.partial.json").read_text())["claims"]
    statistics = [v["statistic"] for t in c4["tests"] for v in t["verdicts"] + t["controls"]]
    assert any("(focal vs hard)" in s for s in statistics), statistics


def test_claim_paths_are_read_beside_the_installed_claims_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments = claims_arguments(["claims/test_c4_feature_shrinkage.py"], ["-q"])
    assert Path(arguments[0]).is_file() and arguments[0].endswith("claims/test_c4_feature_shrinkage.py")
    assert arguments[arguments.index("-n") + 1] == "auto"
    assert "-n" not in claims_arguments([], ["-n", "2"])[:-2]


def test_the_repcore_command_is_registered_and_no_pytest_plugin_is():
    """The claims plugin is registered by the claims' own conftest, never into other projects."""
    from importlib.metadata import entry_points
    assert not [e for e in entry_points(group="pytest11") if e.value.startswith("repcore")]
    assert [e.value for e in entry_points(group="console_scripts") if e.name == "repcore"] == ["repcore.cli:main"]

"""Fault injection: each fault once seen losing a report, running cached code, leaving processes
behind or answering bad input with a traceback, reproduced against the real code path."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

from repcore.fixtures import __main__ as fixtures_cli
from repcore.fixtures import cifar10_jpeg
from repcore.fixtures.cache import (ArtifactError, artifact_paths, load_or_build, read_artifact, remove_artifacts,
                                    write_artifact)
from repcore.fixtures.cifar10_jpeg import DataIntegrityError
from repcore.fixtures.data import DataNotFoundError, load_dataset
from repcore.fixtures.evaluations import outcome_key
from repcore.fixtures.plain_pickle import UnsafePickleError, load_plain
from repcore.fixtures.spec import DataSpec
from repcore.attacks import AttackConfig
from repcore.report import __main__ as report_cli
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
needs_copy = pytest.mark.skipif(not (SHARED / "cifar10" / "jpeg_q75_all.npz").is_file(),
                                reason=f"no CIFAR-10 JPEG copy at {SHARED / 'cifar10'}")


class _Planted:
    """Unpickling this runs ``touch <marker>``: a stand-in for any code planted in a pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def _processes_with(token: str) -> list[int]:
    """Live processes whose environment carries ``token`` (zombies excluded)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and token.encode() in (proc / "environ").read_bytes() \
                    and (proc / "stat").read_text().split(") ")[1][0] != "Z":
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _interruptible() -> None:
    """In the child before exec: SIGINT back to its default, so Python installs its Ctrl-C handler
    even when this test runs where SIGINT is ignored (a background job of a non-interactive shell)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


# 1. Code execution from a cache -------------------------------------------------------------------

def test_a_planted_pickle_is_refused_unexecuted(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(UnsafePickleError, match="posix.system"):
        load_plain(pickle.dumps({"data": _Planted(marker)}))
    assert not marker.exists()
    batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [1, 2], "batch_label": "b"}
    assert load_plain(pickle.dumps(batch))["labels"] == [1, 2]


@needs_copy
def test_a_planted_pickle_in_the_decoded_cifar_copy_is_rebuilt_never_run(tmp_path):
    root = tmp_path / "cifar10-jpeg"
    source = cifar10_jpeg.find_source(SHARED)
    cifar10_jpeg.prepare(source, root)
    marker = tmp_path / "ran"
    batch = root / cifar10_jpeg.FOLDER / "data_batch_2"
    batch.write_bytes(pickle.dumps({"data": _Planted(marker), "labels": []}))
    (root / cifar10_jpeg.FOLDER / "batches.meta").write_bytes(pickle.dumps(_Planted(marker)))
    data = load_dataset(DataSpec("cifar10_jpeg", n_train=100, n_val=100, n_test=100), SHARED, tmp_path)
    assert not marker.exists() and len(data.train) == 100
    assert b"posix" not in batch.read_bytes()


# 2. A finished run lost to a report folder it cannot write -----------------------------------------

def _claims_run(tmp_path, report_dir, *extra, env=None, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "claims", "-k", "t1 and not t1a", "--no-prebuild", "-q",
         "-p", "no:cacheprovider", "--report-dir", str(report_dir), "--cache-dir", str(tmp_path / "cache"),
         *extra],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_interruptible, **kwargs)


def test_a_report_folder_that_is_a_file_is_refused_before_any_test_runs(tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file")
    run = _claims_run(tmp_path, blocker / "sub")
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "is not a folder this run can write" in stderr and "passed" not in stdout
    assert "Traceback" not in stderr


def test_a_report_that_cannot_be_written_at_the_end_goes_to_a_named_folder(tmp_path):
    report_dir = tmp_path / "reports"
    run = _claims_run(tmp_path, report_dir,
                      env={"PYTEST_PLUGINS": "tests.fault_plugins", "REPCORE_FAULT_BREAK_REPORT_DIR": str(report_dir)})
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, stdout + stderr
    line = next(line for line in stderr.splitlines() if "could not write the report" in line)
    fallback = Path(line.rsplit("it is in ", 1)[1])
    document = json.loads((fallback / "claims.partial.json").read_text())
    assert [c["verdict"] for c in document["claims"]] == ["supported"]


# 3. A wrong verdict from an interrupted run --------------------------------------------------------

def test_an_interrupted_claims_run_marks_claims_incomplete_beside_the_complete_report(tmp_path):
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / "claims.json").write_text("the last complete report")
    started = tmp_path / "started"
    token = uuid.uuid4().hex
    run = _claims_run(tmp_path, report_dir, "-n", "2",
                      env={"PYTEST_PLUGINS": "tests.fault_plugins",
                           "REPCORE_FAULT_HANG": "test_control_large_bias_head_breaks_the_ordering",
                           "REPCORE_FAULT_STARTED": str(started), "REPCORE_FAULT_TOKEN": token})
    assert wait_for(started.exists, 240), run.communicate(timeout=60)
    time.sleep(3)  # the other T1 tests finish meanwhile
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, stdout + stderr
    assert (report_dir / "claims.json").read_text() == "the last complete report"
    document = json.loads((report_dir / "claims.partial.json").read_text())
    (t1,) = document["claims"]
    assert document["interrupted"] and not document["complete"]
    assert t1["verdict"] == "incomplete" and t1["reason"].startswith("incomplete: 2 of 3 tests ran")
    assert wait_for(lambda: not _processes_with(token), 20), "pytest-xdist workers left behind"


# 4, 5. Ctrl-C ignored by the build; orphans after kill -9 ----------------------------------------

def _start_build(cache_dir: Path, token: str) -> subprocess.Popen:
    build = subprocess.Popen(
        [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu", "--jobs", "2",
         "--cache-dir", str(cache_dir)],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_interruptible,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile",
             "REPCORE_TINY_EPOCHS": "400", "REPCORE_FAULT_TOKEN": token})
    assert wait_for(lambda: len(_processes_with(token)) >= 3, 120), "the build did not start its workers"
    time.sleep(4)  # the workers are training
    return build


def test_ctrl_c_stops_a_build_at_once_keeping_finished_artifacts_and_no_process(tmp_path):
    token = uuid.uuid4().hex
    build = _start_build(tmp_path, token)
    build.send_signal(signal.SIGINT)
    start = time.monotonic()
    _, stderr = build.communicate(timeout=30)
    assert time.monotonic() - start < 10 and build.returncode == 130, stderr
    assert "interrupted" in stderr.splitlines()[-1]
    assert wait_for(lambda: not _processes_with(token), 10), "training workers left behind"
    assert not list(tmp_path.glob(".*.tmp"))
    for meta in tmp_path.glob("*.json"):
        read_artifact(tmp_path, meta.stem)


def test_a_killed_build_leaves_no_training_worker_behind(tmp_path):
    token = uuid.uuid4().hex
    build = _start_build(tmp_path, token)
    build.kill()
    build.communicate(timeout=30)
    assert wait_for(lambda: not _processes_with(token), 15), "training workers outlived their parent"


# 6. Metadata outside the checksum ---------------------------------------------------------------

def test_edited_metadata_is_detected_and_rebuilt(cache_dir):
    write_artifact(cache_dir, "k1", {"w": torch.ones(2)}, {"num_classes": 10})
    meta_path = artifact_paths(cache_dir, "k1")[1]
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "num_classes": 7}))
    with pytest.raises(ArtifactError, match="does not match its own checksum"):
        read_artifact(cache_dir, "k1")
    _, meta, built = load_or_build(cache_dir, "k1", lambda: ({"w": torch.ones(2)}, {"num_classes": 10}))
    assert built and meta["num_classes"] == 10


# 7. One line instead of a traceback -------------------------------------------------------------

def _copy_folder(folder: Path, arrays: dict | None = None, raw: bytes | None = None, manifest: bool = True) -> Path:
    folder.mkdir()
    npz = folder / "jpeg_q75_all.npz"
    if raw is not None:
        npz.write_bytes(raw)
    else:
        np.savez(npz, **arrays)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"] * 10}))
    if manifest:
        files = {name: {"sha256": cifar10_jpeg._sha256((folder / name).read_bytes())}
                 for name in ("jpeg_q75_all.npz", "batches.meta")}
        (folder / "manifest.json").write_text(json.dumps(
            {"files": files, "decoded_sha256": {"train_all_50000": "0", "test_all_10000": "0"}}))
    return folder


def _split_arrays(n_train: int = 50000, n_test: int = 10000) -> dict:
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        offsets = np.zeros(n + 1, np.int64)
        offsets[-1] = 4
        arrays |= {f"{split}_jpeg": np.zeros(4, np.uint8), f"{split}_offsets": offsets,
                   f"{split}_y": np.zeros(n, np.int64)}
    return arrays


@pytest.mark.parametrize("make, error, words", [
    (lambda f: f.mkdir(), DataNotFoundError, "no CIFAR-10 JPEG copy"),
    (lambda f: _copy_folder(f, {"images": np.zeros(3)}), DataIntegrityError, "KeyError"),
    (lambda f: _copy_folder(f, _split_arrays(n_train=10)), DataIntegrityError, "expected 50000 images"),
    (lambda f: _copy_folder(f, raw=b"PK\x03\x04 not a zip archive"), DataIntegrityError, "unreadable"),
    (lambda f: _copy_folder(f, _split_arrays(), manifest=False), DataIntegrityError, "manifest.json"),
    (lambda f: _copy_folder(f, _split_arrays()), DataIntegrityError, "does not decode"),
], ids=["empty", "wrong keys", "wrong shapes", "corrupt npz", "no manifest", "undecodable jpeg"])
def test_a_malformed_data_folder_is_one_clear_error(tmp_path, make, error, words):
    make(tmp_path / "cifar10")
    with pytest.raises(error, match=words) as raised:
        load_dataset(DataSpec("cifar10_jpeg"), tmp_path, tmp_path / "prepared")
    assert "\n" not in str(raised.value) and str(tmp_path) in str(raised.value)


def test_the_build_cli_answers_a_malformed_data_folder_in_one_line(tmp_path):
    _copy_folder(tmp_path / "cifar10", _split_arrays(n_train=10))
    run = subprocess.run(
        [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "cifar10-cpu", "--seeds", "0",
         "--model", "hard",
         "--data-root", str(tmp_path), "--cache-dir", str(tmp_path / "cache"), "--jobs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "expected 50000 images" in _one_line_error(run.stderr)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_build_on_cuda_without_a_gpu_is_one_line(tmp_path, capsys):
    assert fixtures_cli.main(["build", "--device", "cuda", "--cache-dir", str(tmp_path)]) == 2
    assert "no CUDA device; use --device cpu" in _one_line_error(capsys.readouterr().err)
    with pytest.raises(ValueError, match="no CUDA device"):
        fixtures_cli.main(["build", "--device", "cuda", "--cache-dir", str(tmp_path), "--debug"])


@pytest.mark.parametrize("content, words", [
    (bytes(range(256)), "codec can't decode"),
    (b'{"claims": [1, 2], "counts": {}}', "a claim without id"),
    (b'{"claims": [{"id": "C1", "verdict": "x", "reason": "r", "tests": [{"nodeid": "t", "verdicts": [3]}]}], '
     b'"counts": {}}', "lacks its verdicts or controls"),
], ids=["binary", "claims not objects", "verdicts not objects"])
def test_report_cli_answers_a_file_that_is_no_claims_report_in_one_line(tmp_path, capsys, content, words):
    path = tmp_path / "claims.json"
    path.write_bytes(content)
    for argv in (["diff", str(path), str(path)], ["check", str(path)]):
        assert report_cli.main(argv) == 2
        assert words in _one_line_error(capsys.readouterr().err)


# 8. clean leaves outcomes and temporaries; outcomes keyed on the spec, not the model's bytes -------

def test_clean_removes_models_their_attack_outcomes_and_stale_temporaries(cache_dir):
    write_artifact(cache_dir, "model", {"w": torch.ones(1)}, {})
    write_artifact(cache_dir, "outcome", {"w": torch.ones(2)}, {"model_key": "model"})
    other = write_artifact(cache_dir, "other", {"w": torch.ones(3)}, {"model_key": "another model"})
    (cache_dir / ".model.json.x1y2.tmp").write_bytes(b"half")
    (cache_dir / ".other.json.x1y2.tmp").write_bytes(b"half")
    assert remove_artifacts(cache_dir, {"model"}) == 6
    assert sorted(str(p.relative_to(cache_dir)) for p in cache_dir.rglob("*")) == [
        "objects", f"objects/{other['sha256']}", "other.json"]


def test_clean_keeps_a_payload_that_another_record_names(cache_dir):
    shared = write_artifact(cache_dir, "model", {"w": torch.ones(1)}, {})
    write_artifact(cache_dir, "twin", {"w": torch.ones(1)}, {})
    assert remove_artifacts(cache_dir, {"model"}) == 1
    assert read_artifact(cache_dir, "twin")[1]["sha256"] == shared["sha256"]


def test_an_attack_outcome_belongs_to_the_model_bytes_not_the_spec():
    config = AttackConfig("FGSM", "fgsm", 1 / 255)
    assert outcome_key("a" * 64, config, 100) != outcome_key("b" * 64, config, 100)
    assert outcome_key("a" * 64, config, 100) == outcome_key("a" * 64, config, 100)


# 9. The README's install line and test command ---------------------------------------------------

def test_the_readme_install_line_installs_what_the_unit_tests_import():
    import importlib.metadata
    import re
    import tomllib
    readme = (ROOT / "README.md").read_text()
    extras = re.search(r"pip install -e '\.\[(\w+(?:,\w+)*)\]'\n", readme).group(1).split(",")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(d for e in extras for d in project["optional-dependencies"][e])]
    installed = {re.split(r"[<>=\[ ]", d)[0].lower().replace("_", "-") for d in declared}
    providers = importlib.metadata.packages_distributions()
    imported = set()
    for path in (ROOT / "tests").glob("*.py"):
        imported |= set(re.findall(r"^\s*(?:import|from) (\w+)", path.read_text(), re.M))
    third_party = {m for m in imported if m in providers and m not in sys.stdlib_module_names}
    missing = {m: providers[m] for m in third_party
               if not {p.lower().replace("_", "-") for p in providers[m]} & (installed | {project["name"]})}
    assert not missing, f"the unit tests import {missing}, which the README's install line does not install"


def test_prune_removes_only_old_models_of_no_kept_profile_with_their_outcomes(cache_dir, capsys):
    from repcore.fixtures.profiles import get_profile
    kept = get_profile("smoke", seeds="0").models["hard"].key()
    for size, key in enumerate((kept, "orphan", "recent"), 1):
        write_artifact(cache_dir, key, {"w": torch.ones(size)}, {"spec": {}})
    write_artifact(cache_dir, "orphan_outcome", {"w": torch.ones(4)}, {"model_key": "orphan"})
    month_ago = time.time() - 31 * 86400
    for key in (kept, "orphan", "orphan_outcome"):
        for path in artifact_paths(cache_dir, key):
            os.utime(path, (month_ago, month_ago))
    assert fixtures_cli.main(["prune", "--profile", "smoke", "--seeds", "0", "--older-than", "30",
                              "--cache-dir", str(cache_dir)]) == 0
    assert "removed 4 files" in capsys.readouterr().out
    assert sorted(p.stem for p in cache_dir.glob("*.json")) == sorted([kept, "recent"])


# The doors added since: checkpoint manifests, regularizer plugins, the nightly's history, report
# selections (numbered as the hardening issue lists them) ------------------------------------------

def _small_cnn(folder: Path, name: str, classes: int = 10, nan: bool = False) -> str:
    from repcore.fixtures.models import build_model
    state = build_model("small_cnn", classes, (0.5,) * 3, (0.25,) * 3).state_dict()
    if nan:
        state["head.weight"][0, 0] = float("nan")
    torch.save(state, folder / name)
    return name


def _manifest(folder: Path, body: str, top: str = "") -> Path:
    path = folder / "M.toml"
    path.write_text(f'dataset = "embedded"\nn_train = 96\nn_val = 32\nn_test = 64\n{top}{body}')
    return path


def _entry(role: str, file: str, seed: int = 0, **extra) -> str:
    lines = [f"[[models.{role}]]", f'file = "{file}"', 'arch = "small_cnn"', "num_classes = 10", f"seed = {seed}"]
    return "\n".join([*lines, *(f"{k} = {json.dumps(v)}" for k, v in extra.items())]) + "\n"


def _read_manifest(path: Path):
    from repcore.fixtures.checkpoints import read_manifest
    return read_manifest(path)


def test_d1_only_the_toml_boolean_true_opts_in_to_unpickling(tmp_path):
    from repcore.fixtures.checkpoints import CheckpointError, load_checkpoint
    marker = tmp_path / "ran"
    torch.save(_Planted(marker), tmp_path / "planted.pt")
    body = '[[models.hard]]\nfile = "planted.pt"\nformat = "module"\nnum_classes = 10\n'
    for value in ('"false"', '"true"', "1", "[true]"):
        with pytest.raises(CheckpointError, match="trust_pickled_modules must be the TOML boolean"):
            _read_manifest(_manifest(tmp_path, body, f"trust_pickled_modules = {value}\n"))
    manifest = _read_manifest(_manifest(tmp_path, body, "trust_pickled_modules = false\n"))
    with pytest.raises(CheckpointError, match="can run code"):
        load_checkpoint(manifest.checkpoints[0], manifest.trust_pickled_modules)
    assert not marker.exists()


def test_d2_a_head_with_another_class_count_than_the_data_is_refused(tmp_path):
    from repcore.fixtures.checkpoints import CheckpointError
    _small_cnn(tmp_path, "five.pt", classes=5)
    with pytest.raises(CheckpointError, match="num_classes = 5, but embedded has 10 classes"):
        _read_manifest(_manifest(tmp_path, _entry("hard", "five.pt").replace("num_classes = 10", "num_classes = 5")))


@pytest.mark.parametrize("role", ["hard", "hard_seed1", "ls_0.05", "bottleneck_bias", "imbalanced"])
def test_d3_a_plugin_cannot_take_a_role_of_the_zoo(role):
    from repcore.fixtures.regularizers import Regularizer, register
    with pytest.raises(ValueError, match=f"role {role!r} is one of the zoo's own"):
        register(Regularizer(f"plugin_{role}", role, f"Plugin {role}"))


class _Config:
    """What ``selection`` reads of a pytest config."""

    def __init__(self, args=("claims",), **options):
        from repcore.report.session import mark_claims_folder
        self.args, self.rootpath, self.stash = list(args), ROOT, pytest.Stash()
        self.options = {"keyword": "", "markexpr": "", "deselect": None, "pyargs": False, **options}
        mark_claims_folder(self, ROOT / "claims")

    def getoption(self, name):
        return self.options[name]


def test_d4_any_selection_of_claim_tests_makes_a_partial_report():
    from repcore.report.claims import CLAIMS
    from repcore.report.session import selection
    every = set(CLAIMS)
    assert selection(_Config(), every) is None and selection(_Config(args=()), every) is None
    assert selection(_Config(deselect=["claims/test_c4_feature_shrinkage.py::x"]), every).startswith("--deselect")
    assert "the path" in selection(_Config(args=["claims/test_c4_feature_shrinkage.py"]), every)
    assert "the path" in selection(_Config(args=["claims::x"]), every)
    assert selection(_Config(), every - {"C9"}) == "no test of C9 collected"


def test_d4_a_path_selection_leaves_the_complete_report_alone(tmp_path):
    report_dir = tmp_path / "r"
    report_dir.mkdir()
    (report_dir / "claims.json").write_text("the last complete report")
    run = subprocess.run([sys.executable, "-m", "pytest", "claims/test_t1_theorem1.py", "-q", "--no-prebuild",
                          "-p", "no:cacheprovider", "--report-dir", str(report_dir), "--cache-dir",
                          str(tmp_path / "c")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (report_dir / "claims.json").read_text() == "the last complete report"
    partial = json.loads((report_dir / "claims.partial.json").read_text())
    assert partial["partial"] and not partial["complete"] and "the path" in partial["selection"]


def test_d5_a_manifest_role_the_claims_do_not_know_or_a_seed_without_its_baseline_is_refused(tmp_path):
    from repcore.fixtures.profiles import from_checkpoints, get_profile
    for name in ("hard.pt", "ls.pt"):
        _small_cnn(tmp_path, name)
    typo = _read_manifest(_manifest(tmp_path, _entry("hard", "hard.pt") + _entry("lss", "ls.pt")))
    with pytest.raises(ValueError, match="models.lss is no role the claims know"):
        from_checkpoints(typo, get_profile("smoke"))
    unpaired = _read_manifest(_manifest(tmp_path, _entry("hard", "hard.pt") + _entry("ls", "ls.pt", seed=1)))
    with pytest.raises(ValueError, match="seed\\(s\\) 1 have no \\[\\[models.hard\\]\\]"):
        from_checkpoints(unpaired, get_profile("smoke"))


def _checkpoint_run(tmp_path, manifest: Path, *extra):
    return subprocess.run([sys.executable, "-m", "pytest", "claims", "-q", "-p", "no:cacheprovider",
                           "--checkpoints", str(manifest), "--report-dir", str(tmp_path / "r"),
                           "--cache-dir", str(tmp_path / "cache"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_d5_a_run_in_which_no_criterion_ran_is_not_a_success(tmp_path):
    for name in ("hard.pt", "ls.pt"):
        _small_cnn(tmp_path, name)
    run = _checkpoint_run(tmp_path, _manifest(tmp_path, _entry("hard", "hard.pt") + _entry("ls", "ls.pt")),
                          "-k", "test_control_another_hard_seed_does_not_shrink")
    assert run.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, run.stdout + run.stderr
    assert "no criterion ran" in run.stdout


def test_d6_the_nightly_compares_only_with_a_night_of_the_same_profile_settings_and_seeds(tmp_path, capsys):
    import argparse

    from repcore import nightly
    latest = tmp_path / "latest.json"
    args = argparse.Namespace(profile="smoke", seeds=None, settings=None, claims=["claims"])
    report = {"profile": "cifar10-cpu", "finished": "t", "git_revision": "r", "counts": {}, "claims": [],
              "settings": ["small_cnn-cifar10_jpeg"], "seeds": {"replicates": [0, 1, 2]}}
    latest.write_text(json.dumps(report))
    assert nightly.previous_night(latest, args) is None and "not compared" in capsys.readouterr().err
    latest.write_text(json.dumps({**report, "profile": "smoke", "settings": ["small_cnn-embedded"],
                                  "seeds": {"replicates": [0, 1, 2, 3, 4]}}))
    assert nightly.previous_night(latest, args)["profile"] == "smoke"
    args.claims = ["claims/test_c4_feature_shrinkage.py"]
    assert nightly.previous_night(latest, args) is None and "not compared" in capsys.readouterr().err


def test_d7_a_bad_checkpoint_stops_the_run_before_its_first_test_in_one_line(tmp_path):
    _small_cnn(tmp_path, "hard.pt", nan=True)
    _small_cnn(tmp_path, "ls.pt")
    run = _checkpoint_run(tmp_path, _manifest(tmp_path, _entry("hard", "hard.pt") + _entry("ls", "ls.pt")))
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "hard.pt: has NaN or infinite weights" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr and "passed" not in run.stdout


@pytest.mark.parametrize("file", ["nope.pt", ".", "/dev/zero", "loop.pt"])
def test_d8_d9_a_checkpoint_file_must_be_a_regular_file(tmp_path, file):
    from repcore.fixtures.checkpoints import CheckpointError
    (tmp_path / "loop.pt").symlink_to(tmp_path / "loop.pt")
    with pytest.raises(CheckpointError, match="does not exist|is not a regular file|cannot be resolved"):
        _read_manifest(_manifest(tmp_path, _entry("hard", file)))


def test_d8_d9_a_bad_file_in_a_manifest_is_one_line_before_any_test(tmp_path):
    run = _checkpoint_run(tmp_path, _manifest(tmp_path, _entry("hard", "/dev/zero")))
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "/dev/zero is not a regular file" in run.stderr and "INTERNALERROR" not in run.stdout + run.stderr


def test_d10_a_checkpoint_is_hashed_once_and_in_blocks(tmp_path, monkeypatch):
    import hashlib
    _small_cnn(tmp_path, "hard.pt")
    (checkpoint,) = _read_manifest(_manifest(tmp_path, _entry("hard", "hard.pt"))).checkpoints
    calls = []
    digest = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda f, name: calls.append(name) or digest(f, name))
    assert checkpoint.sha256 == hashlib.sha256((tmp_path / "hard.pt").read_bytes()).hexdigest() == checkpoint.sha256
    assert calls == ["sha256"]


@pytest.mark.parametrize("top, message", [
    ('dataset = "imaginary"\n', "dataset 'imaginary' is not one of"),
    ("n_val = -5\n", "n_val must be a whole number of at least 1, got -5"),
    ("n_test = 0\n", "n_test must be a whole number of at least 1, got 0"),
    ('n_train = "many"\n', "n_train must be a whole number"),
])
def test_d11_the_manifests_data_fields_are_checked_when_it_is_read(tmp_path, top, message):
    from repcore.fixtures.checkpoints import CheckpointError
    _small_cnn(tmp_path, "hard.pt")
    path = tmp_path / "M.toml"
    fields = {"dataset": '"embedded"', "n_train": "96", "n_val": "32", "n_test": "64"}
    key = top.split(" = ")[0]
    path.write_text("".join(f"{k} = {v}\n" for k, v in fields.items() if k != key) + top + _entry("hard", "hard.pt"))
    with pytest.raises(CheckpointError, match=message):
        _read_manifest(path)


def test_d12_a_plugin_that_raises_at_import_is_one_line_naming_it(tmp_path):
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('the plugin is broken')\n")
    run = subprocess.run([sys.executable, "-m", "repcore.fixtures", "list", "--regularizer", "broken_plugin:REG"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}"})
    line = _one_line_error(run.stderr)
    assert run.returncode == 2 and "broken_plugin:REG" in line and "RuntimeError: the plugin is broken" in line
    run = subprocess.run([sys.executable, "-m", "pytest", "claims", "--co", "-q", "--regularizer", "broken_plugin:REG"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}"})
    assert run.returncode == pytest.ExitCode.USAGE_ERROR and "INTERNALERROR" not in run.stdout + run.stderr
    assert "the plugin is broken" in run.stderr


def test_d13_a_plugin_loss_is_checked_when_registered_and_named_when_it_fails(tiny_spec):
    from dataclasses import replace

    from repcore.fixtures.regularizers import REGISTRY, Regularizer, register
    from repcore.fixtures.training import RegularizerError, train_model
    with pytest.raises(ValueError, match="loss must be callable"):
        register(Regularizer("not_callable", "not_callable", "NotCallable", loss=42))

    def raising(spec, k):
        def loss(logits, y):
            raise ArithmeticError("bad loss")
        return loss

    def vector(spec, k):
        return torch.nn.CrossEntropyLoss(reduction="none")

    data = load_dataset(tiny_spec.data, None)
    try:
        for name, loss, message in (("raising", raising, "its loss raised ArithmeticError: bad loss"),
                                    ("vector", vector, r"its loss returned \(\d+,\), not one number")):
            register(Regularizer(name, name, name.title(), loss=loss))
            with pytest.raises(RegularizerError, match=f"my-model: regularizer '{name}': {message}"):
                train_model(replace(tiny_spec, regularizer=name), data, torch.device("cpu"), label="my-model")
    finally:
        for name in ("raising", "vector"):
            REGISTRY.pop(name, None)


def test_d14_d15_an_unreadable_last_night_is_set_aside_and_the_night_runs_without_it(tmp_path, capsys):
    import argparse

    from repcore import nightly
    args = argparse.Namespace(profile="smoke", seeds=None, settings=None, claims=["claims"])
    for content in ("{not json", json.dumps({"profile": "smoke", "git_revision": "r", "counts": {}, "claims": []})):
        latest = tmp_path / "latest.json"
        latest.write_text(content)
        assert nightly.previous_night(latest, args) is None
        assert not latest.exists() and "set aside" in capsys.readouterr().err
        for aside in tmp_path.glob("latest.json.unreadable-*"):
            aside.unlink()


def test_d16_an_unwritable_history_stops_the_night_before_the_build(tmp_path, capsys):
    from repcore import nightly
    blocker = tmp_path / "history"
    blocker.write_text("a file")
    assert nightly.main(["--profile", "smoke", "--history", str(blocker / "sub"),
                         "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr()
    assert "--history" in err.err and "is not a folder this run can write" in err.err and "$ " not in err.out


@pytest.mark.parametrize("content, message", [
    ("[" * 200000, "nested too deeply"),
    (json.dumps({"profile": "p", "finished": "f", "git_revision": "g", "counts": {},
                 "claims": [{"id": "C4", "verdict": "supported", "reason": "r",
                             "tests": [{"nodeid": "t", "verdicts": []}]}]}), "lacks its verdicts or controls"),
    (json.dumps({"profile": "p", "finished": "f", "git_revision": "g", "counts": {},
                 "claims": [{"id": "C4", "verdict": "supported", "reason": "r",
                             "tests": [{"nodeid": "t", "verdicts": [{"statistic": [], "outcome": "supported"}],
                                        "controls": []}]}]}), "without a statistic"),
    (json.dumps({"profile": "p", "finished": "f", "git_revision": "g", "counts": {},
                 "claims": [{"id": "C4", "verdict": "supported", "reason": "r",
                             "tests": [{"verdicts": [], "controls": [{"statistic": "s", "outcome": "supported"}]}]}]}),
     "without a nodeid"),
])
def test_d17_a_malformed_report_is_one_line_for_diff_and_check(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for command in (["check", str(bad)], ["diff", str(bad), str(bad)]):
        assert report_cli.main(command) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("report, message", [
    ({"claims": [], "counts": {}}, "holds no claim"),
    ({"claims": [], "counts": {}, "complete": False, "interrupted": True}, "a partial report"),
])
def test_d17_an_empty_or_partial_report_is_no_pass(tmp_path, capsys, report, message):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"profile": "p", "finished": "f", "git_revision": "g", **report}))
    assert report_cli.main(["check", str(path)]) == 1
    assert message in capsys.readouterr().err


def test_d18_killing_the_pytest_controller_ends_its_workers(tmp_path):
    started, token = tmp_path / "started", uuid.uuid4().hex
    run = _claims_run(tmp_path, tmp_path / "r", "-n", "2",
                      env={"PYTEST_PLUGINS": "tests.fault_plugins", "REPCORE_FAULT_HANG": "test_control_large_bias",
                           "REPCORE_FAULT_STARTED": str(started), "REPCORE_FAULT_TOKEN": token})
    assert wait_for(started.exists, 240), run.communicate(timeout=60)
    run.kill()
    run.communicate(timeout=30)
    assert wait_for(lambda: not _processes_with(token), 15), "pytest-xdist workers outlived their controller"


def test_d19_sigterm_stops_a_claims_run_as_ctrl_c_does(tmp_path):
    report_dir, started = tmp_path / "r", tmp_path / "started"
    run = _claims_run(tmp_path, report_dir, "-n", "2",
                      env={"PYTEST_PLUGINS": "tests.fault_plugins", "REPCORE_FAULT_HANG": "test_control_large_bias",
                           "REPCORE_FAULT_STARTED": str(started)})
    assert wait_for(started.exists, 240), run.communicate(timeout=60)
    time.sleep(3)
    run.terminate()
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, stdout + stderr
    document = json.loads((report_dir / "claims.partial.json").read_text())
    assert document["interrupted"] and not (report_dir / "claims.json").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_d20_a_full_disk_during_a_build_is_one_line_naming_the_file_and_leaves_nothing_half_written(small_disk):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile"}
    run = subprocess.run([sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu",
                          "--jobs", "2", "--cache-dir", str(small_disk)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env=env)
    line = run.stderr.strip().splitlines()[-1]
    assert run.returncode == 2 and line.startswith("error: ") and "Traceback" not in run.stderr, run.stderr[-4000:]
    assert f"cannot write {small_disk}" in line and "No space left" in line
    assert not list(small_disk.rglob(".*.tmp"))
    for meta in small_disk.glob("*.json"):
        read_artifact(small_disk, meta.stem)
    run = subprocess.run([sys.executable, "-m", "pytest", "claims", "--profile", "tiny", "-q", "-p", "no:cacheprovider",
                          "-k", "test_c5", "--cache-dir", str(small_disk), "--report-dir",
                          str(small_disk.parent / "r")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR and "INTERNALERROR" not in run.stdout + run.stderr
    assert f"cannot write {small_disk}" in run.stdout + run.stderr


def test_d20_a_full_disk_for_the_report_writes_nothing_there_and_names_where_it_went(small_disk, tmp_path):
    (small_disk / "filler").write_bytes(b"x" * (1024 * 1024 - 8 * 1024))
    run = _claims_run(tmp_path, small_disk / "r")
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, stdout + stderr
    assert "could not write the report" in stderr
    assert not list((small_disk / "r").glob("claims*.json")) and not list(small_disk.rglob(".*.tmp"))


def test_d21_files_get_the_permissions_the_umask_gives(tmp_path):
    from repcore.files import atomic_write, replace_folder
    previous = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a", b"x")
        replace_folder(tmp_path / "f", {"p.png": b"x"})
    finally:
        os.umask(previous)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o750
    atomic_write(tmp_path / "b", b"x")
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o666 & ~previous


def test_d22_an_attack_outcome_belongs_to_the_attack_codes_version(monkeypatch):
    from repcore.fixtures import evaluations
    config = AttackConfig("FGSM", "fgsm", 1 / 255)
    key = outcome_key("a" * 64, config, 100)
    monkeypatch.setattr(evaluations, "ATTACK_CODE_VERSION", evaluations.ATTACK_CODE_VERSION + 1)
    assert outcome_key("a" * 64, config, 100) != key

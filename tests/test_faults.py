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

from fixtures import __main__ as fixtures_cli
from fixtures import cifar10_jpeg
from fixtures.cache import ArtifactError, artifact_paths, load_or_build, read_artifact, remove_artifacts, write_artifact
from fixtures.cifar10_jpeg import DataIntegrityError
from fixtures.data import DataNotFoundError, load_dataset
from fixtures.evaluations import outcome_key
from fixtures.plain_pickle import UnsafePickleError, load_plain
from fixtures.spec import DataSpec
from repcore.attacks import AttackConfig
from repcore.report import __main__ as report_cli

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


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


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
                      env={"PYTEST_PLUGINS": "tests.fault_plugins", "REPCORE_FAULT_HANG": "test_control_large_bias_head_breaks_the_ordering",
                           "REPCORE_FAULT_STARTED": str(started), "REPCORE_FAULT_TOKEN": token})
    assert _wait_for(started.exists, 240), run.communicate(timeout=60)
    time.sleep(3)  # the other T1 tests finish meanwhile
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, stdout + stderr
    assert (report_dir / "claims.json").read_text() == "the last complete report"
    document = json.loads((report_dir / "claims.partial.json").read_text())
    (t1,) = document["claims"]
    assert document["interrupted"] and not document["complete"]
    assert t1["verdict"] == "incomplete" and t1["reason"].startswith("incomplete: 2 of 3 tests ran")
    assert _wait_for(lambda: not _processes_with(token), 20), "pytest-xdist workers left behind"


# 4, 5. Ctrl-C ignored by the build; orphans after kill -9 ----------------------------------------

def _start_build(cache_dir: Path, token: str) -> subprocess.Popen:
    build = subprocess.Popen(
        [sys.executable, "-m", "fixtures", "build", "--profile", "tiny", "--device", "cpu", "--jobs", "2",
         "--cache-dir", str(cache_dir)],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_interruptible,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile",
             "REPCORE_TINY_EPOCHS": "400", "REPCORE_FAULT_TOKEN": token})
    assert _wait_for(lambda: len(_processes_with(token)) >= 3, 120), "the build did not start its workers"
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
    assert _wait_for(lambda: not _processes_with(token), 10), "training workers left behind"
    assert not list(tmp_path.glob(".*.tmp"))
    for meta in tmp_path.glob("*.json"):
        read_artifact(tmp_path, meta.stem)


def test_a_killed_build_leaves_no_training_worker_behind(tmp_path):
    token = uuid.uuid4().hex
    build = _start_build(tmp_path, token)
    build.kill()
    build.communicate(timeout=30)
    assert _wait_for(lambda: not _processes_with(token), 15), "training workers outlived their parent"


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
        [sys.executable, "-m", "fixtures", "build", "--profile", "cifar10-cpu", "--seeds", "0", "--model", "hard",
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
    (b'{"claims": [{"id": "C1", "verdict": "x", "reason": "r", "tests": [{"verdicts": [3]}]}], "counts": {}}',
     "a test without verdicts"),
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
    write_artifact(cache_dir, "outcome", {"w": torch.ones(1)}, {"model_key": "model"})
    write_artifact(cache_dir, "other", {"w": torch.ones(1)}, {"model_key": "another model"})
    (cache_dir / ".model.pt.x1y2.tmp").write_bytes(b"half")
    (cache_dir / ".other.pt.x1y2.tmp").write_bytes(b"half")
    assert remove_artifacts(cache_dir, {"model"}) == 6
    assert sorted(p.name for p in cache_dir.iterdir()) == ["other.json", "other.pt"]


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
    from fixtures.profiles import get_profile
    kept = get_profile("smoke", seeds="0").models["hard"].key()
    for key in (kept, "orphan", "recent"):
        write_artifact(cache_dir, key, {"w": torch.ones(1)}, {"spec": {}})
    write_artifact(cache_dir, "orphan_outcome", {"w": torch.ones(1)}, {"model_key": "orphan"})
    month_ago = time.time() - 31 * 86400
    for key in (kept, "orphan", "orphan_outcome"):
        for path in artifact_paths(cache_dir, key):
            os.utime(path, (month_ago, month_ago))
    assert fixtures_cli.main(["prune", "--profile", "smoke", "--seeds", "0", "--older-than", "30",
                              "--cache-dir", str(cache_dir)]) == 0
    assert "removed 4 files" in capsys.readouterr().out
    assert sorted(p.stem for p in cache_dir.glob("*.json")) == sorted([kept, "recent"])

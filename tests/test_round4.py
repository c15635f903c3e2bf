"""Round 4 of fault injection: each case once seen changing another project's pytest, running code
a manifest names without an opt-in, hanging, losing a model or answering bad input with a
traceback, reproduced as a user would meet it (r4_<n>: the case's number)."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch

from repcore.fixtures.checkpoints import CheckpointError
from repcore.report import __main__ as report_cli
from tests.conftest import wait_for
from tests.test_faults import _checkpoint_run, _entry, _manifest, _processes_with, _read_manifest, _small_cnn

ROOT = Path(__file__).resolve().parents[1]


# The plugin changes no other project ---------------------------------------------------------------

UNRELATED_CONFTEST = '''
import pytest

def pytest_addoption(parser):
    parser.addoption("--device", default="tpu")
    parser.addoption("--profile", default="mine")
    parser.addoption("--seeds", default="7")

@pytest.fixture
def profile(pytestconfig):
    return pytestconfig.getoption("--profile")

@pytest.fixture
def check():
    return "their check"
'''
UNRELATED_TEST = '''
def test_their_options_and_fixtures(pytestconfig, profile, check):
    assert pytestconfig.getoption("--device") == "gpu" and pytestconfig.getoption("--seeds") == "3"
    assert profile == "theirs" and check == "their check"

def test_device_is_not_a_fixture_here(request):
    import pytest
    with pytest.raises(pytest.FixtureLookupError):
        request.getfixturevalue("runs")
'''


def test_r4_1_2_a_project_with_its_own_device_profile_seeds_and_fixtures_runs_as_without_repcore(tmp_path):
    (tmp_path / "conftest.py").write_text(UNRELATED_CONFTEST)
    (tmp_path / "test_theirs.py").write_text(UNRELATED_TEST)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--device", "gpu",
                          "--profile", "theirs", "--seeds", "3"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "REPCORE_PLUGINS": "not.a.module"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    loaded = ("import sys, pytest; pytest.main(['-q', '--co', '-p', 'no:cacheprovider']); "
              "print(sorted(m for m in sys.modules if m.startswith(('torch', 'repcore'))))")
    modules = subprocess.run([sys.executable, "-c", loaded], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert modules.stdout.strip().endswith("[]"), modules.stdout[-500:]


# A manifest runs code only when asked ----------------------------------------------------------------

SMALL_CNN = '    return build_model("small_cnn", num_classes, (0.5,) * 3, (0.25,) * 3)'


def _factory_module(folder: Path, marker: Path, body: str = SMALL_CNN) -> None:
    """``beside_net.py`` in ``folder``: its import writes ``marker``; ``net(num_classes)`` runs ``body``."""
    (folder / "beside_net.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
        f"from repcore.fixtures.models import build_model\ndef net(num_classes):\n{body}\n")


def test_r4_4_a_module_beside_the_checkpoints_is_imported_only_with_trust_local_code(tmp_path):
    marker = tmp_path / "imported"
    _factory_module(tmp_path, marker)
    _small_cnn(tmp_path, "hard.pt")
    entry = _entry("hard", "hard.pt").replace('arch = "small_cnn"', 'arch = "beside_net:net"')
    run = _checkpoint_run(tmp_path, _manifest(tmp_path, entry))
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "set trust_local_code = true" in run.stderr and "Traceback" not in run.stdout + run.stderr
    assert not marker.exists()
    from repcore.fixtures.checkpoints import load
    manifest = _read_manifest(_manifest(tmp_path, entry, "trust_local_code = true\n"))
    load(manifest, manifest.checkpoints[0])
    assert marker.read_text() == "imported"
    with pytest.raises(CheckpointError, match="trust_local_code must be the TOML boolean"):
        _read_manifest(_manifest(tmp_path, entry, 'trust_local_code = "yes"\n'))


def test_r4_5_repcore_verify_never_runs_a_module_of_the_current_folder(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "json.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit(3)\n")
    repcore = Path(sys.executable).with_name("repcore")  # the command as installed (python -m puts "." first itself)
    run = subprocess.run([str(repcore), "claims", "claims/test_t1_theorem1.py", "-n", "0",
                          "--no-prebuild", "-q", "--report-dir", str(tmp_path / "r"),
                          "--cache-dir", str(tmp_path / "cache")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert not marker.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    assert run.returncode in (0, 1), run.stdout[-2000:] + run.stderr[-2000:]


def test_r4_6_a_factory_that_exits_is_one_line_exit_4(tmp_path):
    _factory_module(tmp_path, tmp_path / "imported", "    raise SystemExit(0)")
    _small_cnn(tmp_path, "hard.pt")
    entry = _entry("hard", "hard.pt").replace('arch = "small_cnn"', 'arch = "beside_net:net"')
    run = _checkpoint_run(tmp_path, _manifest(tmp_path, entry, "trust_local_code = true\n"))
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert "cannot build a network (SystemExit: 0)" in run.stderr
    assert "INTERNALERROR" not in run.stdout + run.stderr


# Bad input is one line, before the first test --------------------------------------------------------

@pytest.mark.parametrize("top, words", [
    ("held_out = [999999]\n", "held_out: the indices must be distinct, between 0 and"),
    ("held_out = [1, 1, 2]\n", "held_out lists index(es) 1 more than once"),
    ("held_out = [-1, 0]\n", "held_out: indices into the training split start at 0"),
    ('held_out = "test_half"\nn_test = 1\n', 'held_out = "test_half" splits the test images in two halves'),
    ('dataset = "cifar10"\nimage_size = 16\n', "image_size = 16: only the embedded data"),
    ('dataset = "cifar10"\n', "dataset = 'cifar10': dataset 'cifar10' needs --data-root"),
])
def test_r4_7_manifest_data_errors_are_one_line_exit_4(tmp_path, top, words):
    _small_cnn(tmp_path, "hard.pt")
    fields = {"dataset": '"embedded"', "n_train": "96", "n_val": "32", "n_test": "64"}
    keys = {line.split(" = ")[0] for line in top.splitlines()}
    path = tmp_path / "M.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in fields.items() if k not in keys) + top
                    + _entry("hard", "hard.pt"))
    run = _checkpoint_run(tmp_path, path)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout[-2000:] + run.stderr[-2000:]
    assert words in run.stderr and "Traceback" not in run.stdout + run.stderr, run.stderr[-2000:]
    assert "passed" not in run.stdout and "failed" not in run.stdout


@pytest.mark.parametrize("body, words", [
    ("    import torch\n    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(5, num_classes))",
     "its forward pass fails on (4, 3, 16, 16) images"),
    ("    import torch\n    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, num_classes))\n"
     "    net[1].bias.data[0] = float('inf')\n    return net", "NaN or infinite"),
])
def test_r4_8_a_checkpoint_that_loads_but_cannot_run_is_one_line_exit_4(tmp_path, body, words):
    _factory_module(tmp_path, tmp_path / "imported", body)
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        import beside_net
        importlib.reload(beside_net)
        torch.save(beside_net.net(10).state_dict(), tmp_path / "hard.pt")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("beside_net", None)
    entry = _entry("hard", "hard.pt").replace('arch = "small_cnn"', 'arch = "beside_net:net"')
    run = _checkpoint_run(tmp_path, _manifest(tmp_path, entry, "trust_local_code = true\nimage_size = 16\n"))
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout[-2000:] + run.stderr[-2000:]
    assert words in run.stderr and "hard.pt" in run.stderr, run.stderr[-2000:]


@pytest.mark.parametrize("argv, words", [
    (["plan", "--profile", "smoke", "--gpus", "-3"], "--gpus: -3 is not a whole number of at least 1"),
    (["build", "--profile", "smoke", "--executor", "submitit-local", "--gpus", "-1"], "--gpus: -1"),
    (["build", "--profile", "smoke", "--jobs", "0"], "--jobs: 0"),
    (["build", "--profile", "smoke", "--cpus-per-job", "0"], "--cpus-per-job: 0"),
    (["build", "--profile", "smoke", "--mem-gb", "-8"], "--mem-gb: -8"),
])
def test_r4_9_counts_are_range_checked_where_they_are_parsed(argv, words, tmp_path):
    run = subprocess.run([sys.executable, "-m", "repcore.fixtures", *argv, "--cache-dir", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and words in run.stderr, run.stderr[-1000:]
    assert len([line for line in run.stderr.splitlines() if line.strip()]) <= 3, run.stderr


def test_r4_10_slurm_without_slurm_and_s3_without_credentials_are_one_line(tmp_path, monkeypatch):
    env = {**os.environ, "PATH": "/usr/bin:/bin", "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("AWS_ACCESS_KEY_ID", None), env.pop("AWS_SECRET_ACCESS_KEY", None)
    for argv, words in ((["build", "--profile", "smoke", "--executor", "slurm", "--cache-dir", str(tmp_path)],
                         "--executor slurm: no Slurm here"),
                        (["list", "--profile", "smoke", "--cache-dir", "s3://no-such-bucket-here/zoo"],
                         "s3://no-such-bucket-here/zoo")):
        run = subprocess.run([sys.executable, "-m", "repcore.fixtures", *argv], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env=env)
        assert run.returncode == 2 and words in run.stderr, run.stderr[-2000:]
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr[-2000:]


def _report(**claim_fields):
    test = {"nodeid": "claims/test_c4_x.py::t", "verdicts": [{"statistic": "s", "outcome": "supported",
                                                               "ci_low": 0.1, "ci_high": 0.2}], "controls": []}
    return {"profile": "p", "finished": "f", "git_revision": "g", "counts": {},
            "seeds": {"training": [0], "replicates": [0]},
            "claims": [{"id": "C4", "verdict": "supported", "reason": "r", "tests": [test]}], **claim_fields}


@pytest.mark.parametrize("document, words", [
    (_report(seeds="abc"), "seeds"), (_report(seeds=None), "seeds"), (_report(seeds={"replicates": 5}), "seeds"),
    ({**_report(), "claims": [{"id": "C4", "verdict": "supported", "reason": "r", "tests": [
        {"nodeid": "t", "verdicts": [{"statistic": "s", "outcome": "supported", "ci_low": 0.1,
                                      "ci_high": int("9" * 4001)}], "controls": []}]}]}, "ci_high is not a number"),
    ({**_report(), "claims": [{"id": "C4", "verdict": "supported", "reason": "r", "tests": [
        {"nodeid": "t", "setting": ["a"], "verdicts": [], "controls": []}]}]}, "a setting that is not a name"),
])
def test_r4_11_every_field_the_report_commands_read_is_shape_checked(tmp_path, capsys, document, words):
    sys.set_int_max_str_digits(5000)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document))
    for command in (["table", str(path), str(path)], ["widths", str(path), str(path)], ["diff", str(path), str(path)]):
        assert report_cli.main(command) == 2, command
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("make", [lambda p: p.mkdir(),
                                  lambda p: p.write_text(json.dumps({"profile": "smoke", "git_revision": "r",
                                                                     "counts": {}, "claims": [], "seeds": "0"}))],
                         ids=["a folder", "string seeds"])
def test_r4_12_an_unreadable_or_ill_typed_last_night_is_set_aside(tmp_path, capsys, make):
    import argparse

    from repcore import nightly
    latest = tmp_path / "latest.json"
    make(latest)
    args = argparse.Namespace(profile="smoke", seeds=None, settings=None, claims=["claims"])
    assert nightly.previous_night(latest, args) is None
    assert not latest.exists() and "set aside" in capsys.readouterr().err


# Nothing lost -----------------------------------------------------------------------------------------

def test_r4_13_clean_skips_a_key_whose_builder_holds_its_lock(cache_dir, tiny_spec):
    from filelock import FileLock

    from repcore.fixtures.artifacts import load_or_train
    from repcore.fixtures.cache import lock_path, remove_artifacts
    model = load_or_train("hard", tiny_spec, cache_dir, None, torch.device("cpu"), log=lambda line: None)
    key = model.spec.key()
    held = FileLock(str(lock_path(cache_dir, key)))
    with held.acquire(timeout=0):
        skipped = []
        assert remove_artifacts(cache_dir, {key}, skipped=skipped.append) == 0 and skipped == [key]
        assert (cache_dir / f"{key}.json").exists()
    assert remove_artifacts(cache_dir, {key}) > 0
    assert not (cache_dir / f"{key}.json").exists() and lock_path(cache_dir, key).exists()


def test_r4_14_a_warm_cache_on_read_only_storage_serves_every_claim(tmp_path):
    """The tiny zoo built, then its cache read-only: C5 (whose min-loss centres the cache lacks)
    and C4 run, the centres computed in memory, and nothing errs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile"}
    cache = tmp_path / "zoo"
    build = subprocess.run([sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny",
                            "--cache-dir", str(cache)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    claims = ["claims/test_c5_alignment.py", "claims/test_c4_feature_shrinkage.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", *claims, "-q", "-p", "no:cacheprovider", "--profile", "tiny",
                          "--cache-dir", str(cache),
                          "--report-dir", str(tmp_path / "r")], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**env, "PYTEST_PLUGINS": "tests.fault_plugins", "REPCORE_FAULT_READ_ONLY_CACHE": "1"})
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    document = json.loads((tmp_path / "r" / "claims.partial.json").read_text())
    assert {c["id"]: c["verdict"] for c in document["claims"]}.keys() == {"C4", "C5"}
    assert not [c for c in document["claims"] if c["verdict"] == "errored"], run.stdout[-3000:]


def test_r4_14_a_cache_that_cannot_be_written_computes_in_memory(monkeypatch, cache_dir):
    from repcore.fixtures import cache
    cache_dir.mkdir(parents=True)

    def read_only(*args, **kwargs):
        raise cache.CacheWriteError("cannot write x (Read-only file system)")

    monkeypatch.setattr(cache, "_writing", read_only)
    logged = []
    payload, meta, built = cache.load_or_build(cache_dir, "k" * 20, lambda: ({"x": torch.ones(1)}, {"m": 1}),
                                               log=logged.append)
    assert built and payload["x"].item() == 1 and meta == {"m": 1}
    assert any("cannot be written" in line for line in logged)


def test_r4_15_sigterm_to_a_submitit_local_build_cancels_its_jobs(tmp_path):
    token = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile", "REPCORE_TOKEN": token,
           "REPCORE_TINY_EPOCHS": "100000"}
    build = subprocess.Popen([sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny",
                              "--executor", "submitit-local", "--gpus", "1", "--cache-dir", str(tmp_path / "zoo")],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: len(_processes_with(token)) > 1, 120), "no job started"
        time.sleep(3)
        build.send_signal(signal.SIGTERM)
        build.communicate(timeout=60)
        assert wait_for(lambda: not _processes_with(token), 30), "a submitit-local job outlived its build"
    finally:
        build.kill()


def test_r4_15_a_killed_builds_local_job_stops_within_seconds(tmp_path):
    token = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile", "REPCORE_TOKEN": token,
           "REPCORE_TINY_EPOCHS": "100000"}
    build = subprocess.Popen([sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny",
                              "--executor", "submitit-local", "--gpus", "1", "--cache-dir", str(tmp_path / "zoo")],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: len(_processes_with(token)) > 1, 120), "no job started"
    time.sleep(3)
    build.kill()
    build.wait(timeout=30)
    assert wait_for(lambda: not _processes_with(token), 30), "an orphaned job kept running"


def test_r4_4_verify_help_says_what_code_a_manifest_can_run():
    run = subprocess.run([sys.executable, "-m", "repcore.cli", "verify", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and "trust_local_code = true" in run.stdout and "trust_pickled_modules" in run.stdout
    readme = (ROOT / "README.md").read_text()
    assert "### Verify your own models" in readme and "**What code a manifest can run.**" in readme


def test_a_claim_run_shows_verdicts_not_failures_and_repcore_tells_refuted_from_inconclusive(tmp_path):
    """C3 on the default zoo has refuted and inconclusive criteria: pytest counts them as such, with
    no FAILED block, and ``repcore claims`` exits 1 (some claim refuted); C10 (inconclusive) 6."""
    env = {**os.environ, "REPCORE_CACHE_DIR": os.environ.get("REPCORE_CACHE_DIR", str(tmp_path / "zoo"))}
    plain = subprocess.run([sys.executable, "-m", "pytest", "claims/test_c3_best_center.py", "-p", "no:cacheprovider",
                            "-n", "0", "--report-dir", str(tmp_path / "p")], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=1800)
    assert plain.returncode == 1 and "FAILED" not in plain.stdout, plain.stdout[-3000:]
    assert " refuted" in plain.stdout.splitlines()[-1] and " inconclusive" in plain.stdout.splitlines()[-1]
    from repcore.cli import verdict_status
    (tmp_path / "r").mkdir()
    for outcome, code in (("refuted", 1), ("inconclusive", 6), ("supported", 0)):
        report = tmp_path / "r" / "claims.json"
        report.write_text(json.dumps({"profile": "p", "finished": "f", "git_revision": "g", "claims": [],
                                      "counts": {"supported": 3, outcome: 1}}))
        assert verdict_status(1, tmp_path / "r", time.time()) == code
    assert verdict_status(4, tmp_path / "r", time.time()) == 4

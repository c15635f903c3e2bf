"""The zoo built as scheduler jobs (submitit's debug and local executors) and on shared storage (an
S3 server on 127.0.0.1, moto in server mode): the same artifact bytes as the pool's, a rerun that
trains nothing, a killed job whose rerun resumes, concurrent builders on one prefix, a corrupt
object rebuilt."""

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import fsspec
import pytest
import torch

from repcore.fixtures import store
from repcore.fixtures.artifacts import is_cached, load_or_train
from repcore.fixtures.build_pool import build_zoo
from repcore.fixtures.build_submitit import ClusterOptions, build_with_submitit, planned_tasks
from repcore.fixtures.cache import object_name, read_artifact, read_record, records
from repcore.fixtures.profiles import get_profile
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny():
    import tests.tiny_profile  # noqa: F401  (registers the profile)
    return get_profile("tiny")


def payload_shas(cache_dir) -> dict[str, str]:
    """{record name: the sha256 of the payload it names} for every record of the cache."""
    return {name: meta["sha256"] for name, meta in records(cache_dir).items()}


def test_the_tiny_zoo_built_by_submitit_debug_and_local_jobs_is_byte_identical_to_the_pools(tiny, tmp_path):
    build_zoo(tiny, tmp_path / "pool", None, CPU, 2)
    lines = []
    for executor in ("submitit-debug", "submitit-local"):
        options = ClusterOptions(executor, tmp_path / executor / "jobs", parallel=2, poll_seconds=0.5)
        trained = build_with_submitit(tiny, tmp_path / executor, None, CPU, options, log=lines.append)
        assert set(trained) == {name for name in tiny.models if name in trained} and all(trained.values())
    pool = payload_shas(tmp_path / "pool")
    assert len(pool) == 31
    assert payload_shas(tmp_path / "submitit-debug") == pool
    assert payload_shas(tmp_path / "submitit-local") == pool
    assert any(line.startswith("jobs: 0 queued, 0 running, 12 done, 0 failed of 12") for line in lines)
    assert not list((tmp_path / "submitit-local").glob("partial/*")), "epoch checkpoints are removed once published"

    again = []
    options = ClusterOptions("submitit-local", tmp_path / "again", parallel=2, poll_seconds=0.5)
    assert planned_tasks(tiny, tmp_path / "pool", None, "cpu") == ([], [])
    trained = build_with_submitit(tiny, tmp_path / "pool", None, CPU, options, log=again.append)
    assert not any(trained.values()) and again == [] and not (tmp_path / "again").exists()


def test_a_local_job_gets_the_gpus_given_to_it_alone(tmp_path):
    import submitit
    executor = submitit.LocalExecutor(folder=tmp_path / "%j")
    executor.update_parameters(timeout_min=2, gpus_per_node=1, visible_gpus=(3,))
    job = executor.submit(lambda: os.environ.get("CUDA_VISIBLE_DEVICES"))
    assert job.result() == "3"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_local_job_killed_mid_training_fails_with_its_log_and_its_rerun_resumes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile",
           "REPCORE_TINY_EPOCHS": "200"}
    command = [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu",
               "--model", "hard", "--executor", "submitit-local", "--cache-dir", str(tmp_path / "zoo")]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: list((tmp_path / "zoo" / "partial").glob("*.pt")), 240), "no epoch checkpoint"
        controllers = [int(p.name) for p in (tmp_path / "zoo" / "jobs").iterdir() if p.name.isdigit()]
        tasks = [child for pid in controllers for child in _children(pid)]
        assert tasks, controllers
        for pid in tasks:
            os.kill(pid, signal.SIGKILL)
        _, stderr = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 2, stderr
    failed = [line for line in stderr.splitlines() if line.startswith("[zoo] FAILED hard")]
    assert failed and "log " in failed[0] and Path(failed[0].rsplit("log ", 1)[1]).exists(), stderr
    assert "1 job(s) failed" in stderr

    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    logs = "".join(p.read_text() for p in (tmp_path / "zoo" / "jobs").rglob("*_log.err"))
    assert "hard resuming after epoch" in logs
    resumed = payload_shas(tmp_path / "zoo")

    whole = subprocess.run([*command[:-4], "--cache-dir", str(tmp_path / "pool")], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr
    assert resumed == payload_shas(tmp_path / "pool")


def test_a_preempted_job_requeues_and_resumes_from_its_epoch_checkpoint(tiny, tmp_path, monkeypatch):
    import submitit
    from dataclasses import replace
    from repcore.fixtures.build_pool import BuildJob
    from repcore.fixtures.build_submitit import ZooTask
    spec = replace(tiny.models["hard"], epochs=100)  # 40-60 epochs a window here: one or two requeues
    executor = submitit.LocalExecutor(folder=tmp_path / "jobs")
    # the time limit's signal (USR2, as Slurm's) comes 10 s after each start: the job is requeued
    # mid-training, from submitit's Checkpointable, and resumes after its last epoch
    executor.update_parameters(timeout_min=1, signal_delay_s=50, gpus_per_node=0)
    job = executor.submit(ZooTask(), (BuildJob("hard", spec, tmp_path / "zoo", None, resumable=True),), "cpu")
    [(_, built, _)] = job.result()
    assert built and is_cached(spec, tmp_path / "zoo")
    err = Path(job.paths.stderr).read_text()
    assert "this job is timed-out" in err and "hard resuming after epoch" in err, err[-2000:]


# Shared storage: an S3 server on 127.0.0.1 -------------------------------------------------------

@pytest.fixture
def s3(monkeypatch):
    """A bucket on a moto S3 server on 127.0.0.1 (started and stopped here): (its URL, the
    environment a builder process needs to reach it)."""
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "FSSPEC_S3_ENDPOINT_URL": endpoint}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})
    fs = fsspec.filesystem("s3", endpoint_url=endpoint, skip_instance_cache=True)
    bucket = f"zoo-{uuid.uuid4().hex[:12]}"  # moto's buckets outlive its server within one process
    fs.mkdir(bucket)
    try:
        yield f"s3://{bucket}/runs", env
    finally:
        server.stop()


def test_the_cache_round_trips_through_s3_and_a_corrupt_object_is_detected_and_rebuilt(tiny, s3, tmp_path):
    url, _ = s3
    spec = tiny.models["hard"]
    model = load_or_train("hard", spec, url, None, CPU)
    assert model.trained_now and is_cached(spec, url)
    again = load_or_train("hard", spec, url, None, CPU)
    assert not again.trained_now
    for name, tensor in model.model.state_dict().items():
        assert torch.equal(tensor, again.model.state_dict()[name])
    sha = read_record(url, f"{spec.key()}.json")["sha256"]
    store.write_bytes(url, object_name(sha), b"not the weights")
    assert not is_cached(spec, url)
    lines = []
    rebuilt = load_or_train("hard", spec, url, None, CPU, log=lines.append)
    assert rebuilt.trained_now and any("rebuilding" in line and "checksum" in line for line in lines)
    assert read_artifact(url, spec.key())[1]["sha256"] == sha, "the same bytes again"


def test_two_builders_on_one_s3_prefix_each_publish_whole_artifacts(tiny, s3, tmp_path):
    url, env = s3
    command = [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu",
               "--jobs", "1", "--cache-dir", url]
    builders = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, **env, "PYTHONPATH": str(ROOT),
                                      "REPCORE_PLUGINS": "tests.tiny_profile",
                                      "XDG_CACHE_HOME": str(tmp_path / f"host{i}")})
                for i in range(2)]
    outputs = [builder.communicate(timeout=600) for builder in builders]
    assert [b.returncode for b in builders] == [0, 0], outputs
    shas = payload_shas(url)
    assert len(shas) == 31
    for name in shas:
        read_artifact(url, name.removesuffix(".json"))
    assert all(is_cached(spec, url) for spec in tiny.models.values())
    print(json.dumps({"records": len(shas), "objects": len(store.names(url, "", "objects")),
                      "trained": [o[1].count("training small_cnn") for o in outputs]}))
    assert payload_shas(url) == shas


def _processes_naming(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_ctrl_c_cancels_the_local_jobs_a_build_submitted_and_leaves_no_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile",
           "REPCORE_TINY_EPOCHS": "2000"}
    command = [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu",
               "--model", "hard", "--model", "ls", "--executor", "submitit-local", "--cache-dir", str(tmp_path / "zoo")]
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        assert wait_for(lambda: len(list((tmp_path / "zoo" / "partial").glob("*.pt"))) == 2, 240)
        assert _processes_naming(str(tmp_path / "zoo" / "jobs"))
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    assert wait_for(lambda: not _processes_naming(str(tmp_path / "zoo" / "jobs")), 30), "a job outlived the build"
    assert not [p for p in (tmp_path / "zoo").glob("*.json")], "nothing was published"


def test_a_failed_job_is_reported_with_its_log_while_the_others_finish(tiny, tmp_path, monkeypatch):
    from repcore.fixtures import build_submitit
    from repcore.fixtures.build_pool import JobsFailed, run_build_job

    def failing(job, device):
        if job.name == "ls" and job.attack is None:
            raise RuntimeError("out of memory on this node")
        return run_build_job(job, device)

    monkeypatch.setattr(build_submitit, "run_build_job", failing)
    options = ClusterOptions("submitit-debug", tmp_path / "jobs")
    lines = []
    with pytest.raises(JobsFailed) as failure:
        build_with_submitit(tiny, tmp_path / "zoo", None, CPU, options, log=lines.append)
    message = str(failure.value)
    assert message.startswith("3 job(s) failed")
    assert "ls (+3): RuntimeError: out of memory on this node; log " in message
    assert message.count("not run, a model it reads failed") == 2
    assert any(line.startswith("FAILED ls") for line in lines)
    assert [name for name, spec in tiny.models.items() if not is_cached(spec, tmp_path / "zoo")] == ["ls"]

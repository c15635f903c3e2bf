"""The real Slurm path once, on this machine: a one-node Slurm from Debian's packages
(``apt-get install slurmctld slurmd slurm-client munge``, as root) started on localhost, the tiny
test profile built by ``python -m repcore.fixtures build --executor slurm`` and by the local pool,
and the sha256 of every artifact compared. Prints the timings and the comparison; stops the
daemons it started. Run from the repository root: ``python bench/slurm_one_node.py``.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from repcore.fixtures.cache import records

CONF = """ClusterName=repcore
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MpiDefault=none
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _start_slurm(root: Path) -> dict:
    """munged (if not running), slurmctld and slurmd on localhost; the environment that reaches them."""
    for tool in ("slurmctld", "slurmd", "sbatch", "munged"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install slurmctld slurmd slurm-client munge (as root)")
    for folder in ("state", "spool"):
        (root / folder).mkdir(parents=True)
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 - 2048
    conf = root / "slurm.conf"
    conf.write_text(CONF.format(host=socket.gethostname(), root=root, cpus=os.cpu_count(), memory_mb=memory_mb))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    if subprocess.run(["munge", "-n"], capture_output=True).returncode:
        Path("/run/munge").mkdir(exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        subprocess.run(["su", "-s", "/bin/sh", "munge", "-c", "/usr/sbin/munged"], check=True)
    subprocess.run(["slurmctld", "-f", str(conf)], check=True, env=env)
    time.sleep(2)
    subprocess.run(["slurmd", "-f", str(conf)], check=True, env=env)
    for _ in range(30):
        if "idle" in subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=env).stdout:
            return env
        time.sleep(1)
    sys.exit(f"the node did not come up; see {root}/slurmd.log")


def _stop_slurm(root: Path) -> None:
    for name in ("slurmd", "slurmctld"):
        pid_file = root / f"{name}.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()])


def _build(cache: Path, env: dict, *options: str) -> float:
    start = time.perf_counter()
    command = [sys.executable, "-m", "repcore.fixtures", "build", "--profile", "tiny", "--device", "cpu",
               "--cache-dir", str(cache), *options]
    run = subprocess.run(command, env=env, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"{' '.join(command)} exited {run.returncode}:\n{run.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    root = Path(tempfile.mkdtemp(prefix="repcore-slurm-"))
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "REPCORE_PLUGINS": "tests.tiny_profile"}
    try:
        env = {**_start_slurm(root / "slurm"), **{k: env[k] for k in ("PYTHONPATH", "REPCORE_PLUGINS")}}
        slurm_seconds = _build(root / "slurm-zoo", env, "--executor", "slurm", "--gpus", str(os.cpu_count()),
                               "--cpus-per-job", "1", "--mem-gb", "2")
        jobs = len(list((root / "slurm-zoo" / "jobs").rglob("*_result.pkl")))
        rerun_seconds = _build(root / "slurm-zoo", env, "--executor", "slurm", "--cpus-per-job", "1", "--mem-gb", "2")
        rerun_jobs = len(list((root / "slurm-zoo" / "jobs").rglob("*_result.pkl"))) - jobs
        pool_seconds = _build(root / "pool-zoo", env, "--jobs", str(os.cpu_count()))
        slurm = {name: meta["sha256"] for name, meta in records(root / "slurm-zoo").items()}
        pool = {name: meta["sha256"] for name, meta in records(root / "pool-zoo").items()}
        print(f"slurm: {jobs} jobs finished, build {slurm_seconds:.1f} s; rerun {rerun_seconds:.1f} s, {rerun_jobs} "
              f"jobs; pool: {pool_seconds:.1f} s")
        print(f"artifacts: {len(slurm)} by Slurm jobs, {len(pool)} by the pool, "
              f"{'identical sha256' if slurm == pool else 'DIFFERENT'}")
        for name in sorted(pool):
            print(f"  {name}  {pool[name]}  {'same' if slurm.get(name) == pool[name] else slurm.get(name)}")
        if slurm != pool:
            sys.exit(1)
    finally:
        _stop_slurm(root / "slurm")


if __name__ == "__main__":
    main()

import os
import subprocess
import sys
from pathlib import Path

import torch

from repcore.fixtures.cache import read_artifact
from repcore.fixtures.artifacts import load_or_train
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]


def _torchrun_build(cache_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "repcore.fixtures", "build", "--profile", "tiny", "--model", "hard", "--device", "cpu",
         "--cache-dir", str(cache_dir)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
                       "REPCORE_PLUGINS": "tests.tiny_profile"},
        capture_output=True, text=True, timeout=300)


def test_torchrun_trains_a_model_data_parallel_and_caches_it_once(tmp_path):
    first = _torchrun_build(tmp_path)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert first.stdout.count("1 trained, 0 cached") == 1  # rank 0 alone reports
    _, meta = read_artifact(tmp_path, TINY.key())
    assert meta["processes"] == 2
    model = load_or_train("hard", TINY, tmp_path, None, torch.device("cpu"), log=lambda line: None)
    assert not model.trained_now and 0 < model.test_accuracy <= 1
    again = _torchrun_build(tmp_path)
    assert again.returncode == 0 and "0 trained, 1 cached" in again.stdout

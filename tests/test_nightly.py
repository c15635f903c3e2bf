"""The nightly script, two nights in a row on a tiny profile: the second trains nothing, compares
with the first and reports no verdict change; the history and the report carry the previous night."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repcore.nightly import summary
from repcore.report.compare import regressions

ROOT = Path(__file__).resolve().parents[1]


def _night(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "repcore.nightly", "--profile", "tiny", "--device", "cpu",
         "--cache-dir", str(tmp_path / "zoo"), "--report-dir", str(tmp_path / "reports"),
         "--claims", "claims/test_c4_feature_shrinkage.py", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REPCORE_PLUGINS": "tests.tiny_profile",
             "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md")})


def test_two_nights_the_second_trains_nothing_and_reports_no_verdict_changes(tmp_path):
    first = _night(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "profile tiny: 12 trained, 0 cached" in first.stdout
    assert "this report starts the history" in first.stdout
    second = _night(tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "profile tiny: 0 trained, 12 cached" in second.stdout
    assert "no verdict changes" in second.stdout
    history = tmp_path / "history" / "tiny"
    assert len(list(history.glob("*.json"))) == 3  # latest.json and one dated copy per night
    document = json.loads((tmp_path / "reports" / "claims.partial.json").read_text())
    (c4,) = document["claims"]
    assert c4["previous_verdict"] == c4["verdict"] and document["previous_report"]["git_revision"]
    assert "previous run" in (tmp_path / "reports" / "claims.partial.html").read_text()
    assert (tmp_path / "step_summary.md").read_text().count("## repcore nightly: tiny") == 2
    assert (tmp_path / "reports" / "changes.md").read_text().endswith("no verdict changes\n")


def test_dry_run_lists_what_a_night_would_train_and_trains_nothing(tmp_path):
    run = _night(tmp_path, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert "12 to train on cpu" in run.stdout and "expected:" in run.stdout and "an estimate" in run.stdout
    assert not (tmp_path / "zoo").exists()


def _report(verdicts: dict[str, str]) -> dict:
    return {"finished": "2026-01-01T00:00:00+00:00", "git_revision": "abc", "counts": {"supported": 1},
            "claims": [{"id": cid, "verdict": v, "reason": "", "tests": []} for cid, v in verdicts.items()]}


@pytest.mark.parametrize("policy, failing", [
    ("supported-to-refuted", ["C4: supported -> refuted"]),
    ("any-change", ["C4: supported -> refuted", "C5: inconclusive -> supported"]),
    ("never", []),
])
def test_which_verdict_changes_fail_a_night(policy, failing):
    before = _report({"C4": "supported", "C5": "inconclusive", "C6": "refuted"})
    after = _report({"C4": "refuted", "C5": "supported", "C6": "refuted"})
    assert regressions(before, after, policy) == failing
    text = summary("paper", after, before, failing)
    assert "C4: supported -> refuted" in text and ("Failing changes" in text) == bool(failing)


def test_the_estimate_uses_the_rate_measured_in_the_cache_else_says_it_assumes_one(tmp_path):
    from repcore.fixtures.cache import write_artifact
    from repcore.fixtures.estimate import ASSUMED_RATE, forward_flops, training_flops, training_rate
    from repcore.fixtures.spec import DataSpec, ModelSpec
    spec = ModelSpec(data=DataSpec("embedded", n_train=1000), epochs=2)
    assert training_flops(spec) == 3 * forward_flops("small_cnn", "embedded") * 1000 * 2
    assumed = training_rate(tmp_path, "cpu")
    assert assumed.flops_per_second == ASSUMED_RATE["cpu"] and assumed.basis.startswith("assumed")
    write_artifact(tmp_path, "k", {}, {"spec": spec.to_dict(), "device": "cpu", "metrics": {"train_seconds": 4.0}})
    measured = training_rate(tmp_path, "cpu")
    assert measured.flops_per_second == training_flops(spec) / 4.0 and "1 cached model" in measured.basis
    assert training_rate(tmp_path, "cuda").basis.startswith("assumed")


def test_a_slurm_night_plans_its_jobs_and_their_wall_time_on_n_gpus(tmp_path):
    run = _night(tmp_path, "--dry-run", "--executor", "slurm", "--gpus", "4")
    assert run.returncode == 0, run.stderr
    assert "--executor slurm --gpus 4" in run.stdout
    assert "slurm: 12 job(s) of a model each" in run.stdout and "2 transfer-attack job(s)" in run.stdout
    assert "expected wall on 4 GPU(s)" in run.stdout and "time limits 31 min" in run.stdout


def test_the_wall_time_of_jobs_on_n_workers_puts_the_longest_first():
    from repcore.fixtures.estimate import makespan
    assert makespan([3, 3, 2, 2, 2], 2) == 7
    assert makespan([5, 1, 1], 8) == 5 and makespan([], 4) == 0 and makespan([2, 2], 1) == 4

"""Lint the CI workflows: valid YAML with the jobs, triggers and steps the project relies on."""

from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.get("on", doc.pop(True, None))  # YAML 1.1 reads the key `on` as True
    return doc


@pytest.mark.parametrize("name", ["ci.yml", "nightly-gpu.yml"])
def test_workflow_is_well_formed(name):
    doc = _load(name)
    assert doc["on"] and doc["jobs"]
    for job in doc["jobs"].values():
        assert job["runs-on"] and job["steps"]
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"a step needs exactly one of uses/run: {step}"


def test_push_workflow_runs_the_ci_script():
    doc = _load("ci.yml")
    assert "push" in doc["on"]
    runs = " ".join(s.get("run", "") for job in doc["jobs"].values() for s in job["steps"])
    assert "bash .ci/run" in runs


def test_nightly_workflow_runs_the_paper_profile_on_a_gpu_runner_and_uploads_the_report():
    doc = _load("nightly-gpu.yml")
    assert doc["on"]["schedule"][0]["cron"]
    (job,) = doc["jobs"].values()
    assert {"self-hosted", "gpu"} <= set(job["runs-on"])
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "pytest claims -n auto --profile paper" in runs and "fixtures build --profile paper" in runs
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "reports/"

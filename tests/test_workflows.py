"""Lint the CI workflows: valid against GitHub's workflow schema (check-jsonschema's bundled copy,
offline), actions pinned to commits, and the jobs, triggers and steps the project relies on."""

import re
import shutil
import subprocess
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


def test_workflows_validate_against_githubs_workflow_schema():
    validator = shutil.which("check-jsonschema")
    assert validator, "check-jsonschema is missing: pip install -e '.[test]'"
    run = subprocess.run([validator, "--builtin-schema", "vendor.github-workflows",
                          *map(str, sorted(WORKFLOWS.glob("*.yml")))], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("name", ["ci.yml", "nightly-gpu.yml"])
def test_every_action_is_pinned_to_a_commit(name):
    for job in _load(name)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_nightly_workflow_runs_the_nightly_script_on_a_gpu_runner_with_a_persistent_cache():
    doc = _load("nightly-gpu.yml")
    assert doc["on"]["schedule"][0]["cron"]
    (job,) = doc["jobs"].values()
    assert {"self-hosted", "gpu"} <= set(job["runs-on"])
    assert "github.workspace" not in job["env"]["REPCORE_CACHE_DIR"]
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "python -m repcore.nightly --dry-run --profile paper" in runs
    assert "python -m repcore.nightly --profile paper --device cuda" in runs
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "reports/"

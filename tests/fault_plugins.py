"""Faults ``test_faults.py`` injects into a real pytest run, loaded there through ``PYTEST_PLUGINS``
(so pytest-xdist workers load it too) and steered by environment variables:

- ``REPCORE_FAULT_HANG=<name>``: the test whose node id contains ``name`` touches
  ``REPCORE_FAULT_STARTED`` and hangs, so the run can be interrupted midway;
- ``REPCORE_FAULT_BREAK_REPORT_DIR=<dir>``: before the report is written, ``dir`` becomes a file;
- ``REPCORE_FAULT_READ_ONLY_CACHE=1``: every write to the model cache fails as on a read-only mount
  (root writes through file permissions, so the mount's refusal is injected where writes happen).
"""

import os
import shutil
import time
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("REPCORE_FAULT_READ_ONLY_CACHE"):
        from repcore.fixtures import cache

        def read_only(where: str, write) -> None:
            raise cache.CacheWriteError(f"cannot write {where} (Read-only file system)")

        cache._writing = read_only


def pytest_runtest_call(item: pytest.Item) -> None:
    hang = os.environ.get("REPCORE_FAULT_HANG")
    if hang and hang in item.nodeid:
        Path(os.environ["REPCORE_FAULT_STARTED"]).touch()
        time.sleep(600)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("REPCORE_FAULT_BREAK_REPORT_DIR")
    if target and not hasattr(session.config, "workerinput"):
        shutil.rmtree(target, ignore_errors=True)
        Path(target).write_text("no longer a folder")

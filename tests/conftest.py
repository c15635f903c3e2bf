"""Shared helpers for the unit tests: a tiny spec that trains in about a second, and a harness
that starts two processes at the same instant, and a poll for a condition."""

import multiprocessing
import time

import pytest

from repcore.fixtures.spec import DataSpec, ModelSpec

TINY = ModelSpec(data=DataSpec("embedded", n_train=96, n_val=32, n_test=64), epochs=3, batch_size=32)


@pytest.fixture
def tiny_spec() -> ModelSpec:
    return TINY


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "zoo"


@pytest.fixture
def race():
    """race(target, *args) -> sorted results: two spawned processes run ``target(*args, barrier,
    results)``, released together by ``barrier``; each puts one result on ``results``."""
    def run(target, *args, timeout=300):
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=target, args=(*args, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        outcomes = sorted(results.get(timeout=timeout) for _ in procs)
        for p in procs:
            p.join(timeout=60)
        return outcomes
    return run


def wait_for(predicate, timeout: float) -> bool:
    """Poll ``predicate`` every 0.2 s until it holds or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())

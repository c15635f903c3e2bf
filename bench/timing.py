"""What every benchmark here shares: repeated timings with the warm-up excluded, their median and
spread, the fp32 matmul peak of one thread measured in the same run (the reference for "fraction
of peak"), and the peak memory of a process tree."""

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager

import psutil
import torch


def synchronize(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def repeat_seconds(run: Callable[[], object], repeats: int, warmup: int = 1,
                   device: torch.device | None = None) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``run``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        run()
    seconds = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        run()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return seconds


def spread(values: Sequence[float], digits: int = 0) -> str:
    """``median (min-max, n=R)``."""
    return (f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f}, "
            f"n={len(values)})")


def matmul_peak(threads: int = 1, size: int = 1024, repeats: int = 5) -> float:
    """Best fp32 GEMM rate of ``threads`` threads on the CPU, in FLOP/s: the machine's practical peak."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(size, size), torch.randn(size, size)
        seconds = repeat_seconds(lambda: a @ b, repeats, warmup=2)
    finally:
        torch.set_num_threads(previous)
    return 2 * size ** 3 / min(seconds)


@contextmanager
def peak_memory(pid: int | None = None, interval: float = 0.2):
    """Sample the summed resident memory of process ``pid`` (default: this one) and all its
    descendants; yields a dict whose ``"bytes"`` holds the largest sum seen so far."""
    root = psutil.Process(pid)
    seen = {"bytes": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = 0
            for process in [root, *root.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            seen["bytes"] = max(seen["bytes"], total)
            stop.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()

"""Timing and memory helpers: medians and percentiles rather than single timings, and peak RSS
read from the kernel's accounting of a child process (the only way to include its workers)."""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50.0)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean in milliseconds of per-query latencies."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50.0),
        "p95_ms": percentile(ms, 95.0),
        "mean_ms": sum(ms) / len(ms) if ms else math.nan,
    }


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(wall seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _rss_bytes(maxrss: int) -> int:
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def _own_peak_bytes() -> int:
    """This process's peak RSS since it started its program.

    Not ru_maxrss: on Linux a process inherits into ru_maxrss the peak of the process it was
    forked from (the kernel keeps the old memory map's high-water mark across exec), so a small
    child of a large benchmark process would report the parent's size. VmHWM is the exec'd
    program's own high-water mark.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _rss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_bytes() -> int:
    """Peak RSS of this process or of any of its waited-for children, whichever is larger.

    RUSAGE_CHILDREN reports the largest single descendant, not a sum, so this is the peak of the
    biggest process of a job, which is what limits how many jobs fit in memory. (A child's
    ru_maxrss also carries this process's size at the time it was forked, which is at most this
    process's own peak, so the maximum is unaffected.)
    """
    children = _rss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return max(_own_peak_bytes(), children)


def run_json_child(args: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``python -m benchmarks.child ARGS`` in a fresh process and return the JSON it prints last."""
    cmd = [sys.executable, "-m", "benchmarks.child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env or child_env())
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def child_env() -> dict[str, str]:
    """The environment for child processes, with the repository root importable even without install."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.pop("PROCSEARCH_INDEX", None)
    return env

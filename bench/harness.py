"""Measure one benchmark case in a fresh process: wall time per run and peak memory during the runs.

Every case runs in its own child process so one case's memory never inflates another's, and peak RSS is
read from the kernel (``VmHWM``), reset after set-up (``/proc/self/clear_refs``), so the number is what
the measured operation itself needed on top of the process it started in.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIB = 1024 * 1024


def best_time(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Best wall time of ``repeat`` runs, in seconds (micro-benchmarks: noise only ever adds time)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> int:
    """Reset the peak-RSS counter to the current RSS; return the current RSS in bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS") * 1024


def peak_rss() -> int:
    return _status_kib("VmHWM") * 1024


@dataclass(frozen=True)
class Result:
    """Medians and spreads of one case."""

    case: str
    times: list[float]
    peak_extra: list[int]
    """Peak RSS above the RSS after set-up, per run (bytes)."""
    peak_total: list[int]
    info: dict[str, Any]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.times), max(self.times)

    @property
    def peak_mib(self) -> float:
        return max(self.peak_extra) / MIB

    @property
    def peak_total_mib(self) -> float:
        return max(self.peak_total) / MIB


Setup = Callable[[], Any]
Run = Callable[[Any], Any]


def run_in_this_process(case: str, setup: Setup, run: Run, repeat: int) -> Result:
    """Set up once, then time ``repeat`` runs, each with a fresh peak-memory window."""
    state = setup()
    times: list[float] = []
    extra: list[int] = []
    total: list[int] = []
    info: dict[str, Any] = {}
    for _ in range(repeat):
        before = reset_peak()
        start = time.perf_counter()
        out = run(state)
        times.append(time.perf_counter() - start)
        peak = peak_rss()
        extra.append(max(0, peak - before))
        total.append(peak)
        if isinstance(out, dict):
            info = out
    return Result(case, times, extra, total, info)


def run_in_child(case: str, size: str, repeat: int, timeout: float = 1800) -> Result:
    """Run ``python -m bench.child CASE`` and read its JSON result."""
    cmd = [sys.executable, "-m", "bench.child", case, "--size", size, "--repeat", str(repeat)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark case {case} failed:\n{done.stderr[-4000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(data["case"], data["times"], data["peak_extra"], data["peak_total"], data.get("info", {}))

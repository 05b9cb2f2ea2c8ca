"""Measure benchmark cases in fresh processes: wall time, CPU time and the peak RSS of the process.

Two kinds of case:

- **commands** (:func:`run_process`): a whole process, as a user starts it (``sop refresh ...``), timed
  from spawn to exit by a bare launcher (:mod:`bench.launch`); its CPU time and peak RSS come from the
  kernel's accounting of that one child (``wait4``), so imports, start-up and memory freed and reused
  inside it all count;
- **components** (:func:`run_in_child`): a set-up, then the measured call, in a child process of its own;
  the peak is that child's whole peak RSS (``VmHWM``), reported beside the RSS its set-up left, never as a
  difference (memory the set-up freed and the call reused would not show in a difference).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
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
    """Medians and spreads of one case over its runs."""

    case: str
    times: list[float]
    """Wall seconds per run."""
    peaks: list[int]
    """Peak RSS of the measuring process per run (bytes): the whole child process."""
    cpu: list[float]
    """CPU seconds (user + system) per run."""
    setup_rss: int = 0
    """Components: the child's RSS after set-up, before the measured call (bytes); 0 for commands."""
    info: dict[str, Any] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.times), max(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak_mib(self) -> float:
        """The highest peak over the runs (memory is a limit: the worst run is the one that counts)."""
        return max(self.peaks) / MIB

    @property
    def setup_mib(self) -> float:
        return self.setup_rss / MIB


@dataclass(frozen=True)
class ProcessRun:
    seconds: float
    cpu: float
    peak_rss: int


LAUNCHER = Path(__file__).with_name("launch.py")


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    log: Path | None = None,
) -> ProcessRun:
    """Run one whole process through :mod:`bench.launch`: wall time from spawn to exit, CPU and peak RSS.

    Output goes to ``log`` (or nowhere); a non-zero exit raises with the log's tail.
    """
    with tempfile.TemporaryDirectory(prefix="sopxl-run-") as tmp:
        result = Path(tmp) / "result.json"
        command = [sys.executable, "-S", str(LAUNCHER), str(result), "--", *argv]
        with log.open("wb") if log is not None else open(os.devnull, "wb") as out:
            proc = subprocess.Popen(
                command, cwd=cwd, env=dict(env) if env is not None else None, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise RuntimeError(f"{' '.join(argv)} did not finish within {timeout:.0f} s") from None
        data = json.loads(result.read_text()) if result.exists() else {"exit": proc.returncode}
    if data["exit"] != 0:
        tail = log.read_text(errors="replace")[-3000:] if log is not None else ""
        raise RuntimeError(f"{' '.join(argv)} exited with {data['exit']}:\n{tail}")
    return ProcessRun(float(data["seconds"]), float(data["cpu"]), int(data["peak_rss"]))


Setup = Callable[[], Any]
Run = Callable[[Any], Any]


def run_in_this_process(case: str, setup: Setup, run: Run) -> Result:
    """Set up, then time one run; the peak is this whole process's (the child of :func:`run_in_child`)."""
    state = setup()
    setup_rss = reset_peak()
    cpu = time.process_time()
    start = time.perf_counter()
    out = run(state)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    # clear_refs resets VmHWM to the current RSS: the peak is then that of the call (on top of the set-up's
    # live memory, which it includes), and the set-up's own transient peak (generating data) is left out
    return Result(case, [seconds], [peak_rss()], [cpu], setup_rss, out if isinstance(out, dict) else None)


def run_in_child(case: str, bench_dir: Path, timeout: float = 1800) -> Result:
    """One run of component ``case`` in a fresh ``python -m bench.child`` process; its JSON result."""
    cmd = [sys.executable, "-m", "bench.child", case, "--dir", str(bench_dir)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark case {case} failed:\n{done.stderr[-4000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(**data)


def merge(results: Sequence[Result]) -> Result:
    """Runs of one case (one result per run, each from its own process) as one result."""
    first = results[0]
    return Result(
        first.case,
        [t for r in results for t in r.times],
        [p for r in results for p in r.peaks],
        [c for r in results for c in r.cpu],
        max(r.setup_rss for r in results),
        first.info,
    )


def from_runs(case: str, runs: Sequence[ProcessRun]) -> Result:
    return Result(case, [r.seconds for r in runs], [r.peak_rss for r in runs], [r.cpu for r in runs])

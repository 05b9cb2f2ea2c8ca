"""Time of the sopxl baseline vs bare AutoETS on the same series, measured so that a shared machine does not decide.

Each run is a fresh child process (``python -m bench.forecast_timing --child CASE SET CUT``) that loads the
data, then times one call: bare ``StatsForecast(models=[AutoETS(12)], n_jobs=-1).forecast`` or the public
``baseline()`` (default config, which also uses all cores for 300+ series). The child reports

- wall seconds of the call, and
- CPU seconds of the call: its own ``time.process_time()`` plus the CPU of the statsforecast worker processes
  (``resource.getrusage(RUSAGE_CHILDREN)``; the pool is joined when the call returns, so every worker's time
  is in it).

CPU time is what the work costs whatever else the machine is doing; wall time is what a user waits, and on
a loaded machine it mixes in the other jobs. Runs alternate (AutoETS, sopxl, sopxl, AutoETS, ...) so both
see the same moments; the ratio reported is the median of the per-pair ratios, with the medians of each.

``python -m bench.forecast_timing [--sets M1,Tourism] [--cuts 0,36,24] [--repeat 3] [--write]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

from .forecast_competitions import write_block

CASES = ("AutoETS", "sopxl")


def _child(case: str, name: str, cut: int) -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    from sop_functions.baseline import FREQ, baseline
    from sop_functions.buckets import Horizon

    from .forecast_competitions import START, _long, _shipments, load

    task = load(name, cut)
    frame = _long(task) if case == "AutoETS" else _shipments(task)
    warnings.simplefilter("ignore")
    cpu0, kids0, wall0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    if case == "AutoETS":
        StatsForecast(models=[AutoETS(season_length=12)], freq=FREQ, n_jobs=-1).forecast(
            df=frame, h=task.h, level=[80, 95]
        )
    else:
        baseline(frame, Horizon(start=START, periods=task.h), level="sku")
    wall = time.perf_counter() - wall0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu0 + (kids.ru_utime - kids0.ru_utime) + (kids.ru_stime - kids0.ru_stime)
    print(json.dumps({"wall": wall, "cpu": cpu}))


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def _run(case: str, name: str, cut: int) -> Timing:
    out = subprocess.run(
        [sys.executable, "-m", "bench.forecast_timing", "--child", case, name, str(cut)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return Timing(float(data["wall"]), float(data["cpu"]))


def measure(name: str, cut: int, repeat: int) -> dict[str, list[Timing]]:
    runs: dict[str, list[Timing]] = {case: [] for case in CASES}
    for i in range(repeat):
        order = CASES if i % 2 == 0 else CASES[::-1]
        for case in order:
            runs[case].append(_run(case, name, cut))
    return runs


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def report(name: str, cut: int, runs: dict[str, list[Timing]], load: str) -> str:
    ets, ours = runs["AutoETS"], runs["sopxl"]
    cpu_ratio = statistics.median(o.cpu / e.cpu for o, e in zip(ours, ets, strict=True))
    wall_ratio = statistics.median(o.wall / e.wall for o, e in zip(ours, ets, strict=True))
    label = f"{name} {cut if cut else 'full'}"
    return (
        f"| {label} | {statistics.median(e.cpu for e in ets):.1f} | {statistics.median(o.cpu for o in ours):.1f} "
        f"| **{cpu_ratio:.2f}x** | {statistics.median(e.wall for e in ets):.1f} "
        f"| {statistics.median(o.wall for o in ours):.1f} | {wall_ratio:.2f}x | {len(ets)} | {load} |"
    )


HEADER = (
    "| set | AutoETS CPU s | sopxl CPU s | CPU ratio | AutoETS wall s | sopxl wall s | wall ratio | pairs "
    "| load 1/5/15 min (at the end) |\n|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", nargs=3, metavar=("CASE", "SET", "CUT"), help=argparse.SUPPRESS)
    parser.add_argument("--sets", default="M1,Tourism")
    parser.add_argument("--cuts", default="0,36,24")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's block in bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.child:
        case, name, cut = args.child
        _child(case, name, int(cut))
        return
    lines = HEADER.splitlines()
    print(HEADER, flush=True)
    for name in (s for s in args.sets.split(",") if s):
        for cut in (int(c) for c in args.cuts.split(",")):
            runs = measure(name, cut, args.repeat)
            lines.append(report(name, cut, runs, _load()))
            print(lines[-1], flush=True)
    if args.write:
        write_block("forecast-timing", lines)


if __name__ == "__main__":
    main()

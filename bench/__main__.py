"""``python -m bench`` (or ``make bench``): every benchmark next to its baseline, measured in the same run.

Prints median and spread of time and the peak memory of each case and baseline, their ratio and the
goal; ``--write`` also rewrites the results table in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sop_functions import clock

from .harness import Result, run_in_child

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


@dataclass(frozen=True)
class Benchmark:
    title: str
    case: str
    baseline: str
    goal_ratio: float
    """The case may take at most this multiple of the baseline's median time."""
    goal_peak_mib: float | None = None


SCRIPTS: tuple[tuple[str, list[str]], ...] = (
    ("bench.udf_speed", []),
    ("bench.tryton_sync", ["--runs", "3"]),
    ("bench.baseline_speed", []),
    ("bench.forecast_eval", []),
)
"""Benchmarks with their own baselines and output, run as ``python -m NAME``; their output goes in RESULTS.md."""

BENCHMARKS = (
    Benchmark("headless in-place refresh vs openpyxl load+write+save", "refresh", "openpyxl_refresh", 0.2, 100),
    Benchmark("planning engine vs one groupby pass over history", "engine", "groupby_floor", 3.0),
    Benchmark("new filled workbook vs pandas.to_excel", "new_workbook", "pandas_to_excel", 1.5),
)


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _row(bench: Benchmark, case: Result, base: Result) -> list[str]:
    ratio = case.median / base.median
    met = ratio <= bench.goal_ratio and (bench.goal_peak_mib is None or case.peak_mib <= bench.goal_peak_mib)
    goal = f"<= {bench.goal_ratio:g}x" + (f", <= {bench.goal_peak_mib:g} MiB" if bench.goal_peak_mib else "")
    lo, hi = case.spread
    blo, bhi = base.spread
    return [
        bench.title,
        f"{case.median:.3f} s ({lo:.3f}-{hi:.3f})",
        f"{case.peak_mib:.0f} MiB ({case.peak_total_mib:.0f} process)",
        f"{base.median:.3f} s ({blo:.3f}-{bhi:.3f})",
        f"{base.peak_mib:.0f} MiB ({base.peak_total_mib:.0f} process)",
        f"{ratio:.2f}x",
        goal,
        "yes" if met else "NO",
    ]


HEADERS = ["benchmark", "sopxl median (min-max)", "peak", "baseline median (min-max)", "peak", "ratio", "goal", "met"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", default="SME-L", choices=["SME-L", "SME-S", "SMALL"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="run only these case names")
    parser.add_argument("--write", action="store_true", help="rewrite the table in bench/RESULTS.md")
    parser.add_argument("--no-scripts", action="store_true", help="skip the script benchmarks (UDF, sync, forecast)")
    args = parser.parse_args()
    console = Console(width=200)
    rows: list[list[str]] = []
    for bench in BENCHMARKS:
        if args.only and bench.case not in args.only:
            continue
        console.print(f"running {bench.title} ({args.size}, {args.repeat} runs each)")
        case = run_in_child(bench.case, args.size, args.repeat)
        base = run_in_child(bench.baseline, args.size, args.repeat)
        rows.append(_row(bench, case, base))
    outputs: list[tuple[str, str]] = []
    for module, extra in () if args.no_scripts or args.only else SCRIPTS:
        console.print(f"running {module}")
        done = subprocess.run([sys.executable, "-m", module, *extra], capture_output=True, text=True, check=False)
        text = (
            done.stdout.strip() if done.returncode == 0 else f"FAILED (exit {done.returncode}):\n{done.stderr[-2000:]}"
        )
        console.print(text, highlight=False, markup=False)
        outputs.append((module, text))
    table = Table(title=f"sopxl benchmarks, {args.size}")
    for header in HEADERS:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if args.write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        lines = [
            BEGIN,
            f"Run {clock.today().isoformat()} on {machine}, commit {_commit()}, workload {args.size}, "
            f"{args.repeat} runs each (median, min-max); peak = RSS growth above the process after set-up "
            "(memory the set-up freed is reused and not counted), process = the process's whole peak RSS.",
            "",
            "| " + " | ".join(HEADERS) + " |",
            "|" + "---|" * len(HEADERS),
            *("| " + " | ".join(r) + " |" for r in rows),
            *(f"\n`python -m {module}`:\n\n```\n{text}\n```" for module, text in outputs),
            END,
        ]
        text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        RESULTS.write_text(head + "\n".join(lines) + tail)


if __name__ == "__main__":
    main()

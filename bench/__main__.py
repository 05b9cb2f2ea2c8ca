"""``python -m bench`` (or ``make bench``): every benchmark next to its baseline, measured in the same run.

First what a user waits for: each ``sop`` command as a whole process on the real workbook (every sheet,
supply planning and the S&OP grid included) next to a whole-process baseline, runs interleaved; then
components (one stage in a child process of its own) and the script benchmarks. Prints median and spread
of wall time, CPU time and peak RSS of each case and baseline, their ratio and the goal; ``--write`` also
rewrites the results block in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sop_functions import clock

from .commands import COMMANDS, run_command, sop
from .harness import ProcessRun, Result, from_runs, merge, run_in_child, run_process
from .prepare import EXPORT, WORKBOOK

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


@dataclass(frozen=True)
class Benchmark:
    title: str
    case: str
    baseline: str
    goal_ratio: float | None = None
    """The case may take at most this multiple of the baseline's median wall time."""
    goal_peak_mib: float | None = None
    runs: int = 1
    """Runs per round (short commands are run more often: their spread is the machine's, not theirs)."""


SCRIPTS: tuple[tuple[str, list[str]], ...] = (
    ("bench.udf_speed", []),
    ("bench.tryton_sync", ["--runs", "3"]),
    ("bench.baseline_speed", []),
    ("bench.forecast_eval", []),
)
"""Benchmarks with their own baselines and output, run as ``python -m NAME``; their output goes in RESULTS.md."""

COMMAND_BENCHMARKS = (
    Benchmark(
        "`sop refresh` (ERP data changed: LP solved) vs openpyxl load+write+save",
        "sop_refresh",
        "openpyxl_refresh",
        0.10,
        250,
    ),
    Benchmark("`sop refresh` (LP inputs unchanged: answer reused) vs openpyxl", "sop_refresh_same", "openpyxl_refresh"),
    Benchmark("`sop new` (filled from the export) vs pandas.to_excel of the same tables", "sop_new", "pandas_to_excel"),
    Benchmark("`sop plan -w` vs pandas.read_csv of the export + one groupby", "sop_plan", "read_export"),
    Benchmark("`sop --help` vs `python -c 'import pandas'`", "sop_help", "import_pandas", 1.5, runs=5),
)
COMPONENT_BENCHMARKS = (
    Benchmark(
        "planning engine, whole plan with the supply LP vs one groupby pass over history", "engine", "groupby_floor"
    ),
)
WRITER = "writer"
"""The writer alone (rewriting the owned tables of the real workbook), compared with openpyxl's whole process."""


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _spread(result: Result) -> str:
    lo, hi = result.spread
    return f"{result.median:.3f} s ({lo:.3f}-{hi:.3f})"


def _row(bench: Benchmark, case: Result, base: Result, peak_note: str = "") -> list[str]:
    ratio = case.median / base.median
    met_time = bench.goal_ratio is None or ratio <= bench.goal_ratio
    met_peak = bench.goal_peak_mib is None or case.peak_mib <= bench.goal_peak_mib
    goals = ([f"<= {bench.goal_ratio:g}x"] if bench.goal_ratio else []) + (
        [f"<= {bench.goal_peak_mib:g} MiB"] if bench.goal_peak_mib else []
    )
    missed = [what for what, ok in (("time", met_time), ("memory", met_peak)) if not ok]
    met = "-" if not goals else ("yes" if not missed else f"NO ({', '.join(missed)})")
    return [
        bench.title,
        _spread(case),
        f"{case.cpu_median:.2f} s",
        f"{case.peak_mib:.0f} MiB{peak_note}",
        _spread(base),
        f"{base.cpu_median:.2f} s",
        f"{base.peak_mib:.0f} MiB",
        f"{ratio:.2f}x",
        ", ".join(goals) or "-",
        met,
    ]


HEADERS = [
    "benchmark",
    "sopxl wall median (min-max)",
    "CPU",
    "peak RSS",
    "baseline wall median (min-max)",
    "CPU",
    "peak RSS",
    "ratio",
    "goal",
    "met",
]


def _interleave(
    console: Console, bench: Benchmark, repeat: int, run: Callable[[str], list[Result]]
) -> tuple[Result, Result]:
    cases: list[Result] = []
    bases: list[Result] = []
    for round_ in range(repeat):
        order = [(bench.case, cases), (bench.baseline, bases)]
        for name, into in order if round_ % 2 == 0 else order[::-1]:
            into.extend(run(name))
        console.print(f"  round {round_ + 1}: {cases[-1].median:.2f} s vs {bases[-1].median:.2f} s", highlight=False)
    return merge(cases), merge(bases)


def _prepare(folder: Path, size: str, console: Console) -> None:
    """The export, the pristine workbook (built by `sop new` itself) and the tables the baselines write."""
    python = sys.executable
    console.print(f"preparing {size} in {folder}")
    subprocess.run([python, "-m", "bench.prepare", str(folder), "export", "--size", size], check=True)
    run_process([*sop(), "new", WORKBOOK, "--source", str(folder / EXPORT), "--force"], cwd=folder)
    subprocess.run([python, "-m", "bench.prepare", str(folder), "tables"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", default="SME-L", choices=["SME-L", "SME-S", "SMALL"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="run only these case names")
    parser.add_argument("--write", action="store_true", help="rewrite the table in bench/RESULTS.md")
    parser.add_argument("--no-scripts", action="store_true", help="skip the script benchmarks (UDF, sync, forecast)")
    parser.add_argument("--dir", type=Path, help="benchmark folder to use and keep (default: a temporary one)")
    args = parser.parse_args()
    console = Console(width=200)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="sopxl-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    component_rows: list[list[str]] = []
    try:
        _prepare(folder, args.size, console)

        def command(name: str) -> list[Result]:
            runs: list[ProcessRun] = [run_command(COMMANDS[name], folder) for _ in range(runs_per_round)]
            return [from_runs(name, runs)]

        def component(name: str) -> list[Result]:
            return [run_in_child(name, folder)]

        refresh_base: Result | None = None
        for bench in COMMAND_BENCHMARKS:
            if args.only and bench.case not in args.only:
                continue
            console.print(f"running {bench.title} ({args.size}, {args.repeat} rounds)")
            runs_per_round = bench.runs
            case, base = _interleave(console, bench, args.repeat, command)
            if bench.baseline == "openpyxl_refresh" and refresh_base is None:
                refresh_base = base
            rows.append(_row(bench, case, base))
        for bench in COMPONENT_BENCHMARKS:
            if args.only and bench.case not in args.only:
                continue
            console.print(f"running {bench.title}")
            case, base = _interleave(console, bench, args.repeat, component)
            component_rows.append(_row(bench, case, base, f" (set-up {case.setup_mib:.0f})"))
        if refresh_base is not None and (not args.only or WRITER in args.only):
            console.print("running the writer alone")
            writer = merge([run_in_child(WRITER, folder) for _ in range(args.repeat)])
            title = "writer alone: rewrite every owned table (ready frames) vs openpyxl whole process"
            bench = Benchmark(title, WRITER, "openpyxl_refresh")
            component_rows.append(_row(bench, writer, refresh_base, f" (set-up {writer.setup_mib:.0f})"))
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    outputs: list[tuple[str, str]] = []
    for module, extra in () if args.no_scripts or args.only else SCRIPTS:
        console.print(f"running {module}")
        done = subprocess.run([sys.executable, "-m", module, *extra], capture_output=True, text=True, check=False)
        text = (
            done.stdout.strip() if done.returncode == 0 else f"FAILED (exit {done.returncode}):\n{done.stderr[-2000:]}"
        )
        console.print(text, highlight=False, markup=False)
        outputs.append((module, text))
    for title, table_rows in (("what a user waits for", rows), ("components", component_rows)):
        table = Table(title=f"sopxl benchmarks, {args.size}: {title}")
        for header in HEADERS:
            table.add_column(header)
        for row in table_rows:
            table.add_row(*row)
        console.print(table)
    if args.write:
        _write(args, rows, component_rows, outputs)


def _markdown(rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _write(
    args: argparse.Namespace, rows: list[list[str]], component_rows: list[list[str]], outputs: list[tuple[str, str]]
) -> None:
    load = os.getloadavg()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        BEGIN,
        f"Run {clock.today().isoformat()} on {machine}, commit {_commit()}, workload {args.size}, "
        f"{args.repeat} rounds (median, min-max; case and baseline alternate); load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. Wall = spawn to exit of a fresh process; CPU = its user + "
        "system time; peak RSS = the process's own peak (kernel accounting of that child: imports, data and "
        "everything freed and reused count), the highest over the runs.",
        "",
        "What a user waits for (each command a whole process, on the workbook `sop new` builds: all sheets):",
        "",
        *_markdown(rows),
        "",
        "Components (one stage in a child process of its own; peak = that child's whole peak RSS during the "
        "call, its RSS after set-up in brackets):",
        "",
        *_markdown(component_rows),
        *(f"\n`python -m {module}`:\n\n```\n{text}\n```" for module, text in outputs),
        END,
    ]
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    RESULTS.write_text(head + "\n".join(lines) + tail)


if __name__ == "__main__":
    main()

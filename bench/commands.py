"""What a user waits for: each ``sop`` command as a whole process, next to a whole-process baseline.

Every run starts a fresh process on a fresh copy of the pristine workbook (:mod:`bench.prepare`), so
imports, start-up, reading the export, planning, writing, verifying, the backup and memory all count,
exactly as for a planner typing the command. Case and baseline runs alternate (case first on even rounds,
baseline first on odd ones), so a change of machine load hits both.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .harness import ProcessRun, run_process
from .prepare import EXPORT, TABLES, WORKBOOK

LP_CACHE = "SOP.lp-cache"
REPO = Path(__file__).resolve().parent.parent


def sop() -> list[str]:
    """The ``sop`` console script of this interpreter's environment (what a user runs)."""
    script = Path(sys.executable).with_name("sop")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from addin.cli import app; app()"]


@dataclass(frozen=True)
class Command:
    """One whole-process run: how to prepare the working folder, then the command line (run in it)."""

    name: str
    argv: Callable[[Path], list[str]]
    prepare: Callable[[Path, Path], None] = lambda bench, work: None
    """(bench folder, working folder) -> None: copy what the run starts from."""


def _fresh_workbook(keep_lp_answers: bool) -> Callable[[Path, Path], None]:
    def prepare(bench: Path, work: Path) -> None:
        for name in (WORKBOOK, LP_CACHE, "sopxl-backups"):
            target = work / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        shutil.copyfile(bench / WORKBOOK, work / WORKBOOK)
        if keep_lp_answers and (bench / LP_CACHE).is_dir():
            shutil.copytree(bench / LP_CACHE, work / LP_CACHE)

    return prepare


def _py(*args: str) -> Callable[[Path], list[str]]:
    return lambda bench: [sys.executable, *args]


COMMANDS: dict[str, Command] = {
    # the ERP data changed since the last refresh (every day): the supply LP is solved
    "sop_refresh": Command(
        "sop_refresh",
        lambda bench: [*sop(), "refresh", WORKBOOK, "--source", str(bench / EXPORT)],
        _fresh_workbook(keep_lp_answers=False),
    ),
    # nothing the LP reads changed since `sop new`: its answer is reused
    "sop_refresh_same": Command(
        "sop_refresh_same",
        lambda bench: [*sop(), "refresh", WORKBOOK, "--source", str(bench / EXPORT)],
        _fresh_workbook(keep_lp_answers=True),
    ),
    "openpyxl_refresh": Command(
        "openpyxl_refresh",
        lambda bench: [sys.executable, "-m", "bench.baselines", "openpyxl-refresh", WORKBOOK, str(bench / TABLES)],
        _fresh_workbook(keep_lp_answers=False),
    ),
    "sop_new": Command(
        "sop_new",
        lambda bench: [*sop(), "new", "NEW.xlsx", "--source", str(bench / EXPORT), "--force"],
        lambda bench, work: shutil.rmtree(work / "NEW.lp-cache", ignore_errors=True),
    ),
    "pandas_to_excel": Command(
        "pandas_to_excel",
        lambda bench: [sys.executable, "-m", "bench.baselines", "pandas-to-excel", str(bench / TABLES), "NEW.xlsx"],
    ),
    "sop_plan": Command(
        "sop_plan",
        lambda bench: [*sop(), "plan", "--source", str(bench / EXPORT), "--workbook", WORKBOOK],
        _fresh_workbook(keep_lp_answers=False),
    ),
    "read_export": Command(
        "read_export", lambda bench: [sys.executable, "-m", "bench.baselines", "read-export", str(bench / EXPORT)]
    ),
    "sop_help": Command("sop_help", lambda bench: [*sop(), "--help"]),
    "import_pandas": Command("import_pandas", _py("-c", "import pandas")),
}


def run_command(command: Command, bench: Path) -> ProcessRun:
    work = bench / "work"
    work.mkdir(exist_ok=True)
    command.prepare(bench, work)
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}  # the baselines are modules of bench/
    return run_process(command.argv(bench), cwd=work, env=env, log=bench / f"{command.name}.log")

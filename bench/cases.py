"""Component benchmarks: each a ``(setup(bench_dir) -> state, run(state))`` pair, run in a child process.

A case and its baseline do the same job on the same data; the ratio of their medians is the result. The
user-level commands (whole processes) are in :mod:`bench.commands`; these time one stage inside them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import tablefile
from .prepare import INPUTS, TABLES, WORKBOOK, load

Case = tuple[Callable[[Path], Any], Callable[[Any], Any]]


# --- the whole plan as a refresh makes it (both layers, the supply LP solved) vs one groupby pass ---------


def _engine(state: dict[str, Any]) -> dict[str, Any]:
    from addin.pipeline import plan_for

    plan = plan_for(state["snapshot"], state["horizon"], state["inputs"])
    lp = plan.capacity_plan
    return {
        "sku_rows": len(plan.sku_plan),
        "history_lines": len(state["snapshot"].shipments),
        "lp_seconds": lp.seconds if lp is not None else 0.0,
        "supply_method": plan.supply_method,
    }


def _groupby_floor(state: dict[str, Any]) -> dict[str, Any]:
    history = state["snapshot"].shipments
    monthly = history.groupby(["sku", history["ship_date"].dt.to_period("M")], observed=True)["qty"].sum()
    return {"groups": len(monthly)}


def _inputs(folder: Path) -> Any:
    import addin.pipeline  # noqa: F401 - imported in the set-up, so the run times the plan only

    return load(folder, INPUTS)


# --- the writer alone: rewrite every owned table of the workbook from ready-made frames -------------------


def _writer_setup(folder: Path) -> tuple[Path, tablefile.Tables]:
    from workbooks.xlsx import refresh_file  # noqa: F401 - imported in the set-up

    work = folder / "writer"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shutil.copyfile(folder / WORKBOOK, work / WORKBOOK)
    return work / WORKBOOK, tablefile.load(folder / TABLES)


def _writer(state: tuple[Path, tablefile.Tables]) -> dict[str, Any]:
    from workbooks.xlsx import refresh_file

    path, tables = state
    report = refresh_file(path, tables.frames, tables.stamp, backups=1)
    return {"rows": sum(report.rows.values()), "bytes": path.stat().st_size}


CASES: dict[str, Case] = {
    "engine": (_inputs, _engine),
    "groupby_floor": (_inputs, _groupby_floor),
    "writer": (_writer_setup, _writer),
}

"""Benchmark cases and their baselines: each a ``(setup(size) -> state, run(state))`` pair.

A case and its baseline do the same job on the same data; the ratio of their medians is the result.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sop_functions.plan import build_plan
from workbooks import layout, template
from workbooks.tables import plan_stamps, plan_tables

from .data import Workload, plan_of, workload

Case = tuple[Callable[[str], Any], Callable[[Any], Any]]
REFRESHED_AT = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


# --- 2. planning engine vs one groupby pass over the history (the floor) ---------------------------------


def _engine(w: Workload) -> dict[str, Any]:
    plan = build_plan(w.snapshot, w.forecast, w.horizon)
    return {"sku_rows": len(plan.sku_plan), "history_lines": len(w.snapshot.shipments)}


def _groupby_floor(w: Workload) -> dict[str, Any]:
    history = w.snapshot.shipments
    monthly = history.groupby(["sku", history["ship_date"].dt.to_period("M")], observed=True)["qty"].sum()
    return {"groups": len(monthly)}


# --- 6. building a new filled workbook vs pandas.to_excel of the same tables ------------------------------


def _book_setup(size: str) -> tuple[dict[str, pd.DataFrame], Any, Path]:
    plan = plan_of(size)
    stamps = plan_stamps(plan, REFRESHED_AT)
    folder = Path(tempfile.mkdtemp(prefix="sopxl-bench-"))
    return plan_tables(plan, stamps), (plan, stamps, workload(size).forecast), folder


def _new_workbook(state: tuple[dict[str, pd.DataFrame], Any, Path]) -> dict[str, Any]:
    tables, (plan, stamps, forecast), folder = state
    path = folder / "SOP.xlsx"
    families = sorted(plan.family_plan["family"].unique().tolist())
    template.new_workbook(
        path, plan.horizon.labels, families, forecast=forecast, tables=tables, stamps=stamps, overwrite=True
    )
    return {"bytes": path.stat().st_size}


def _pandas_to_excel(state: tuple[dict[str, pd.DataFrame], Any, Path]) -> dict[str, Any]:
    tables, _, folder = state
    path = folder / "pandas.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for spec in layout.OWNED_TABLES:
            tables[spec.name].to_excel(writer, sheet_name=spec.name, index=False)
    return {"bytes": path.stat().st_size}


CASES: dict[str, Case] = {
    "engine": (workload, _engine),
    "groupby_floor": (workload, _groupby_floor),
    "new_workbook": (_book_setup, _new_workbook),
    "pandas_to_excel": (_book_setup, _pandas_to_excel),
}

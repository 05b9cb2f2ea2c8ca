"""Benchmark cases and their baselines: each a ``(setup(size) -> state, run(state))`` pair.

A case and its baseline do the same job on the same data; the ratio of their medians is the result.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.utils
import openpyxl.utils.cell
import pandas as pd

from sop_functions.plan import build_plan
from workbooks import layout, template
from workbooks.stamps import stamp_text
from workbooks.tables import plan_stamps, plan_tables
from workbooks.xlsx import refresh_file

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


# --- 1. headless in-place refresh vs openpyxl load + write + save of the same workbook --------------------


def _refresh_setup(size: str) -> tuple[Path, dict[str, pd.DataFrame], str]:
    tables, (plan, stamps, forecast), folder = _book_setup(size)
    path = folder / "SOP.xlsx"
    families = sorted(plan.family_plan["family"].unique().tolist())
    template.new_workbook(
        path, plan.horizon.labels, families, forecast=forecast, tables=tables, stamps=stamps, overwrite=True
    )
    return path, tables, stamp_text(stamps)


def _refresh(state: tuple[Path, dict[str, pd.DataFrame], str]) -> dict[str, Any]:
    path, tables, stamp = state
    report = refresh_file(path, tables, stamp, backups=1)
    return {"rows": sum(report.rows.values()), "bytes": path.stat().st_size}


def _openpyxl_refresh(state: tuple[Path, dict[str, pd.DataFrame], str]) -> dict[str, Any]:
    """What a naive refresh does: load the whole book, write every owned cell, save the whole book."""
    path, tables, stamp = state
    book = openpyxl.load_workbook(path)
    for spec in layout.OWNED_TABLES:
        sheet = book[spec.sheet]
        col0, row0 = openpyxl.utils.cell.coordinate_from_string(spec.anchor)
        first_col = openpyxl.utils.column_index_from_string(col0)
        frame = tables[spec.name]
        for r, values in enumerate(frame.itertuples(index=False), start=row0 + 1):
            for c, value in enumerate(values, start=first_col):
                sheet.cell(row=r, column=c, value=None if pd.isna(value) else value)
        if spec.stamp_cell:
            sheet[spec.stamp_cell] = stamp
    book.save(path)
    return {"bytes": path.stat().st_size}


CASES: dict[str, Case] = {
    "refresh": (_refresh_setup, _refresh),
    "openpyxl_refresh": (_refresh_setup, _openpyxl_refresh),
    "engine": (workload, _engine),
    "groupby_floor": (workload, _groupby_floor),
    "new_workbook": (_book_setup, _new_workbook),
    "pandas_to_excel": (_book_setup, _pandas_to_excel),
}

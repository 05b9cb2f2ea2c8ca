"""The family S&OP grid: the sheet the executive meeting reads. A block per family, months across.

Rows of each block, in the classic S&OP spreadsheet form: recent actual sales against the last published
plan, forecast and open orders, demand, firm and proposed supply, **the agreed supply** (the one row the
planner types in), projected inventory against the safety stock and months of cover, the shortage in
both layers with its first month and why, value at risk, and the load of the family's work centers.
Columns: the last :data:`HISTORY_MONTHS` months (actuals), ``PAST_DUE``, then the horizon's months.

The agreed-supply row belongs to the planner: blank = follow the proposal, a number = that family's supply
in that month (split to its SKUs like the forecast; the plan honours it). The grid itself is rewritten at
every refresh, so the refresh first reads the typed numbers (:func:`agreed_from_rows`, every bad cell
reported by sheet!cell, nothing written), plans with them, and writes them back in their family and
month; a month that has passed leaves the grid with its column.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import TableNotFound

from sop_functions.buckets import PAST_DUE, Horizon, bucket_label
from sop_functions.plan import Plan

from .cells import Cell, cell_ref, cell_text, is_blank
from .layout import AGREED_MEASURE, NO_DEMAND, SOP_GRID_KEYS, SOP_GRID_SHEET, SOP_GRID_TABLE, sop_grid_spec

HISTORY_MONTHS = 3
ACTUAL = " (actual)"
KEYS = [c.field for c in SOP_GRID_KEYS]

MEASURES: tuple[tuple[str, str], ...] = (
    ("actual", "Actual sales"),
    ("last_plan", "Last plan (demand)"),
    ("forecast", "Forecast"),
    ("orders", "Open orders"),
    ("demand_proposed", "Demand (proposed)"),
    ("supply_firm", "Firm supply"),
    ("supply_proposed", "Proposed supply"),
    ("agreed", AGREED_MEASURE),
    ("projected_inventory_proposed", "Projected inventory (proposed)"),
    ("safety_stock", "Safety stock"),
    ("cover_months_proposed", "Months of cover (proposed)"),
    ("shortage_units_firm", "Shortage units (firm)"),
    ("shortage_units_proposed", "Shortage units (proposed)"),
    ("value_at_risk_proposed", "Value at risk (proposed)"),
    ("load_pct_proposed", "Capacity load % (proposed)"),
)
"""(plan field or source, row label) of each row of a family block, in order."""
LABELS = dict(MEASURES)


def history_labels(horizon: Horizon, months: int = HISTORY_MONTHS) -> list[str]:
    """Headers of the actual-sales columns: the ``months`` months before the horizon's first."""
    return [bucket_label(horizon.start - k, horizon.grain) + ACTUAL for k in range(months, 0, -1)]


def actuals_since(horizon: Horizon) -> pd.Timestamp | None:
    """The first day of the first month the grid's actual columns show (None: a weekly grid has none)."""
    return (horizon.start - HISTORY_MONTHS).start_time if horizon.grain == "month" else None


def grid_columns(horizon: Horizon) -> list[str]:
    """The grid's month columns: actual months, ``PAST_DUE``, the horizon's months."""
    return [*history_labels(horizon), *horizon.labels]


def monthly_actuals(shipments: pd.DataFrame, items: pd.DataFrame, months: Sequence[str] | None = None) -> pd.DataFrame:
    """``family, month, qty``: net shipped units per family and calendar month (only ``months``, ``YYYY-MM``,
    when given: the grid shows 3 of the history's 36 months, and grouping every line of a 1.4 M-line
    history held ~125 MiB for the other 33)."""
    # monthly grids (weekly: no actuals); months as numbers, labelled once per month, not once per line
    month = pd.to_datetime(shipments["ship_date"]).to_numpy().astype("datetime64[M]")
    qty = shipments["qty"].to_numpy(dtype=float)
    skus = shipments["sku"]
    if months is not None:
        keep = np.isin(month, np.array(list(months), dtype="datetime64[M]"))
        month, qty, skus = month[keep], qty[keep], skus[keep]
    family = skus.map(items.set_index("sku")["family"])
    frame = pd.DataFrame({"family": family.to_numpy(), "month": month, "qty": qty})
    out = frame.groupby(["family", "month"])["qty"].sum().reset_index()
    out["month"] = out["month"].dt.strftime("%Y-%m")
    return out


def sop_grid(
    plan: Plan,
    shipments: pd.DataFrame,
    items: pd.DataFrame,
    agreed: pd.DataFrame | None = None,
    last_plan: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """tblSOP's rows: ``family, measure, note`` then one column per :func:`grid_columns` label.

    ``agreed`` (``family, bucket, qty``) fills the agreed rows; ``last_plan`` (``family, bucket, demand``,
    the last published version) the last-plan rows. Missing values are NaN (blank cells).
    """
    horizon = plan.horizon
    history = history_labels(horizon)
    columns = grid_columns(horizon)
    families = sorted(plan.family_plan["family"].astype(str).unique())
    fp = plan.family_plan.assign(bucket=plan.family_plan["bucket"].astype(str))
    values: dict[str, pd.DataFrame] = {}
    for field, _ in MEASURES:
        if field in fp.columns:
            values[field] = fp.pivot(index="family", columns="bucket", values=field)
    shown = [label.removesuffix(ACTUAL) for label in history] if horizon.grain == "month" else []
    actual = monthly_actuals(shipments, items, shown)
    actual["month"] = actual["month"] + ACTUAL
    values["actual"] = actual.pivot(index="family", columns="month", values="qty")
    if last_plan is not None and not last_plan.empty:
        lp = last_plan.assign(bucket=last_plan["bucket"].astype(str))
        lp["bucket"] = lp["bucket"].where(lp["bucket"].isin(horizon.labels), lp["bucket"] + ACTUAL)
        values["last_plan"] = lp.pivot_table(index="family", columns="bucket", values="demand", aggfunc="sum")
    if agreed is not None and not agreed.empty:
        typed = agreed.dropna(subset=["qty"]).assign(bucket=agreed["bucket"].astype(str))
        values["agreed"] = typed.pivot_table(index="family", columns="bucket", values="qty", aggfunc="sum")
    notes = _notes(plan)
    rows = []
    for family in families:
        for field, label in MEASURES:
            table = values.get(field)
            row: dict[str, object] = {"family": family, "measure": label, "note": notes.get((family, field), "")}
            for column in columns:
                v: object = np.nan
                if table is not None and family in table.index and column in table.columns:
                    v = table.at[family, column]
                if field not in ("actual", "last_plan") and column in history:
                    v = np.nan
                row[column] = v
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*KEYS, *columns])
    numbers = out[columns].astype(float)
    cover = (out["measure"] == LABELS["cover_months_proposed"]).to_numpy()[:, None] & np.isposinf(numbers.to_numpy())
    out[columns] = (
        numbers.replace([np.inf, -np.inf], np.nan).round(6).astype(object).mask(cover, NO_DEMAND)
    )  # no float noise
    return out


def _notes(plan: Plan) -> dict[tuple[str, str], str]:
    """The Note cell of a family's rows: first short months and why, how to use the agreed row."""
    out: dict[tuple[str, str], str] = {}
    timing = plan.family_timing
    for family, firm, proposed in zip(
        timing["family"].astype(str),
        timing["first_short_bucket_firm"],
        timing["first_short_bucket_proposed"],
        strict=True,
    ):
        out[(family, "agreed")] = "type over the proposal; blank = follow it"
        out[(family, "safety_stock")] = "target of the proposal"
        if firm:
            out[(family, "shortage_units_firm")] = f"first short {firm}"
        if proposed:
            out[(family, "shortage_units_proposed")] = f"first short {proposed}"
    if len(plan.top_gaps):
        for name, why in zip(plan.top_gaps["family"].astype(str), plan.top_gaps["why_short"].astype(str), strict=True):
            if why and (name, "shortage_units_proposed") in out:
                out[(name, "shortage_units_proposed")] += f": {why}"
    return out


@dataclass(frozen=True)
class AgreedIssue:
    """A bad agreed-supply cell: ``S&OP!H12`` (family, month): what is wrong."""

    cell: str
    family: str
    month: str
    message: str

    def __str__(self) -> str:
        return f"{SOP_GRID_SHEET}!{self.cell} (family {self.family!r}, month {self.month}): {self.message}"


class AgreedSupplyError(ValueError):
    """Every bad agreed-supply entry, so the planner fixes them in one go; nothing was written."""

    def __init__(self, issues: Sequence[AgreedIssue]) -> None:
        self.issues = list(issues)
        shown = "\n".join(f"  - {i}" for i in self.issues[:50])
        super().__init__(
            f"{len(self.issues)} invalid agreed-supply entr{'y' if len(self.issues) == 1 else 'ies'}:\n{shown}"
        )


def agreed_from_rows(
    header: Sequence[Cell],
    rows: Sequence[Sequence[Cell]],
    origin: tuple[int, int],
    horizon: Horizon,
    formulas: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
) -> pd.DataFrame:
    """The agreed supply typed in tblSOP (``family, bucket, qty``), for the horizon's months.

    ``header`` and ``rows`` are the table's header and data rows as read (file or live Excel), ``origin``
    the 0-based sheet (row, column) of the header's first cell; ``formulas`` the 0-based sheet cells of
    the table that hold formulas. Months no longer in the horizon are dropped (they have passed). Raises
    :class:`AgreedSupplyError` for text, negative numbers and formulas (a refresh rewrites the grid, so a
    formula would be lost: it must be a typed number).
    """
    labels = [cell_text(h) for h in header]
    try:
        measure = labels.index("Measure")
        family_col = labels.index("Family")
    except ValueError:
        return pd.DataFrame(columns=["family", "bucket", "qty"])
    months = {c: label for c, label in enumerate(labels) if label in horizon.buckets}
    issues: list[AgreedIssue] = []
    out: list[tuple[str, str, float]] = []
    for r, row in enumerate(rows):
        if r >= 0 and (measure >= len(row) or cell_text(row[measure]) != AGREED_MEASURE):
            continue
        family = cell_text(row[family_col]) if family_col < len(row) else ""
        for c, month in months.items():
            value = row[c] if c < len(row) else None
            where = (origin[0] + 1 + r, origin[1] + c)
            ref = cell_ref(*where)
            if where in formulas:
                issues.append(
                    AgreedIssue(ref, family, month, "holds a formula; type a number (sopxl rewrites this sheet)")
                )
                continue
            if is_blank(value):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                issues.append(AgreedIssue(ref, family, month, f"{cell_text(value)!r} is not a number"))
                continue
            number = float(value)
            if not np.isfinite(number) or number < 0:
                issues.append(AgreedIssue(ref, family, month, f"{number:g} must be a number >= 0"))
                continue
            out.append((family, month, number))
    if issues:
        raise AgreedSupplyError(issues)
    return pd.DataFrame(out, columns=["family", "bucket", "qty"])


def read_agreed(path: str | os.PathLike[str], horizon: Horizon) -> pd.DataFrame | None:
    """The agreed supply typed in a workbook file's tblSOP; None when the workbook has no S&OP grid."""
    from .reader import open_book, sheet_of_table  # the hostile-file gate first, like every reader

    file = Path(path)
    sheet_name = sheet_of_table(file, SOP_GRID_TABLE)
    if sheet_name is None:
        return None
    with open_book(file, [sheet_name]) as book:
        try:
            table = book.get_table_by_name(SOP_GRID_TABLE)
        except TableNotFound:
            return None
        data = table.to_python()
        header, body = list(table.columns), data
        start = table.start
        if start is None:
            return None
        origin = (start[0] - 1, start[1])
        sheet = table.sheet
    formulas = formula_cells(file, sheet, origin, len(header), len(body))
    return agreed_from_rows(header, body, origin, horizon, formulas)


def formula_cells(path: Path, sheet: str, origin: tuple[int, int], ncols: int, nrows: int) -> set[tuple[int, int]]:
    """0-based cells of the table area on ``sheet`` that hold a formula: the sheet part's XML is streamed
    once and only its ``<row>``, ``<c>`` and ``<f>`` tags are looked at (no workbook model is built)."""
    from .xlsx.parts import Package
    from .xlsx.refs import parse_cell
    from .xlsx.xmlsafe import hardened_expat, stream_parse
    from .xlsx.zipio import iter_part

    first_row, last_row = origin[0] + 1, origin[0] + max(nrows, 1)
    first_col, last_col = origin[1], origin[1] + ncols - 1
    found: set[tuple[int, int]] = set()
    at = [0, 0]  # 1-based row and column of the current cell (cells may omit their reference)

    def start(name: str, pairs: list[str]) -> None:
        tag = name.rpartition(":")[2]
        attrs = dict(zip(pairs[::2], pairs[1::2], strict=True)) if tag in ("row", "c") else {}
        if tag == "row":
            at[0] = int(attrs["r"]) if "r" in attrs else at[0] + 1
            at[1] = 0
        elif tag == "c":
            at[:] = parse_cell(attrs["r"]) if "r" in attrs else (at[0], at[1] + 1)
        elif tag == "f" and first_row <= at[0] - 1 <= last_row and first_col <= at[1] - 1 <= last_col:
            found.add((at[0] - 1, at[1] - 1))

    with Package(Path(path)) as package:
        part = next((s.part for s in package.sheets if s.name == sheet), None)
        member = package.member(part) if part is not None else None
        if part is None or member is None:
            return found
        parser = hardened_expat(part)
        parser.StartElementHandler = start
        stream_parse(part, iter_part(package.zf, member), parser)
    return found


__all__ = [
    "PAST_DUE",
    "AgreedSupplyError",
    "agreed_from_rows",
    "grid_columns",
    "read_agreed",
    "sop_grid",
    "sop_grid_spec",
]

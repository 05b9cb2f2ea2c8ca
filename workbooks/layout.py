"""The S&OP workbook's layout, written down once: which tables sopxl owns and which ranges the user owns.

Everything that touches a workbook reads this module: the template builder (``sop new``), the readers,
the headless file refresh and the live Excel writer of the add-in. sopxl writes **only** the tables whose
``owner`` is ``"sopxl"`` and their as-of stamp cells; user-owned tables (the Forecast grid) are read,
never written, after the workbook has been created.

Owned tables are long (one row per family or SKU and bucket) so that their columns never change when the
horizon rolls: a refresh only changes the number of rows, and formulas, pivots and charts that refer to
the table by name keep working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Owner = Literal["sopxl", "user"]
ColumnKind = Literal["text", "number", "money", "int", "months", "flag", "datetime"]


@dataclass(frozen=True)
class Column:
    """One table column: the header the user sees and the engine frame column it is filled from."""

    header: str
    field: str
    kind: ColumnKind = "number"


@dataclass(frozen=True)
class TableSpec:
    """An Excel Table (ListObject) of the layout."""

    sheet: str
    name: str
    owner: Owner
    columns: tuple[Column, ...]
    anchor: str = "A4"
    """Top-left cell of the header row; rows 1-2 hold the sheet title and the ERP as-of stamp."""
    stamp_cell: str | None = "A2"
    """Cell holding the ERP as-of time of the data in this table (owned tables only)."""
    frame: str | None = None
    """Name of the engine ``Plan`` frame the table is filled from (``None``: built by the workbook code)."""

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


LAYOUT_VERSION = 2
"""Bumped whenever a sheet, table, header or anchor changes; written to Settings so a refresh can tell.

2: the supply-planning sheets (Capacity, Finance, Scenarios: :data:`PLANNING_TABLES` and the user-owned
:data:`CAPACITY_INPUT` and :data:`SCENARIO_INPUTS`); the core sheets and tables are unchanged."""

PAST_DUE = "PAST_DUE"
"""Bucket label of everything due before the horizon starts; never a Forecast grid column."""
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def is_month_bucket(label: str) -> bool:
    """True for a month bucket label ``YYYY-MM`` (the Forecast grid's column headers)."""
    return _MONTH.fullmatch(label) is not None


BUCKET = Column("Bucket", "bucket", "text")
FAMILY = Column("Family", "family", "text")
SKU = Column("SKU", "sku", "text")

SETTINGS = TableSpec(
    "Settings",
    "tblSettings",
    "sopxl",
    (Column("Setting", "setting", "text"), Column("Value", "value", "text")),
)
"""Source, ERP as-of time, refresh time, horizon: written by sopxl at every refresh."""

FORECAST_SHEET = "Forecast"
FORECAST_TABLE = "tblForecast"
FORECAST_KEY = FAMILY
"""The Forecast grid is user-owned: ``Family`` then one column per month bucket (``YYYY-MM``).

Its month columns depend on the horizon, so it is not a fixed :class:`TableSpec`; see
:func:`forecast_spec`.
"""

DEMAND = TableSpec(
    "Demand",
    "tblDemand",
    "sopxl",
    (
        SKU,
        FAMILY,
        BUCKET,
        Column("Forecast", "forecast"),
        Column("Open orders", "orders"),
        Column("Demand", "demand"),
    ),
    frame="sku_plan",
)

SUPPLY = TableSpec(
    "Supply",
    "tblSupply",
    "sopxl",
    (
        SKU,
        FAMILY,
        BUCKET,
        Column("Purchase receipts", "receipts"),
        Column("Production orders", "production"),
        Column("Supply", "supply"),
    ),
    frame="sku_plan",
)

INVENTORY = TableSpec(
    "Inventory",
    "tblInventory",
    "sopxl",
    (
        SKU,
        FAMILY,
        BUCKET,
        Column("Opening inventory", "opening_inventory"),
        Column("Demand", "demand"),
        Column("Supply", "supply"),
        Column("Projected inventory", "projected_inventory"),
        Column("Safety stock", "safety_stock"),
        Column("Below safety stock", "below_safety_stock", "flag"),
        Column("Months of cover", "cover_months", "months"),
    ),
    frame="sku_plan",
)

PLAN = TableSpec(
    "Plan",
    "tblPlan",
    "sopxl",
    (
        FAMILY,
        BUCKET,
        Column("Demand", "demand"),
        Column("Supply", "supply"),
        Column("Projected inventory", "projected_inventory"),
        Column("Shortage units", "shortage_units"),
        Column("Surplus units", "surplus_units"),
        Column("Gap units", "gap_units"),
        Column("Gap value", "gap_value", "money"),
        Column("Months of cover", "cover_months", "months"),
    ),
    frame="family_plan",
)
"""Family x bucket plan. Gap sign convention: negative = short, positive = surplus (see docs/definitions.md)."""

TOP_GAPS = TableSpec(
    "Summary",
    "tblTopGaps",
    "sopxl",
    (
        Column("Rank", "rank", "int"),
        FAMILY,
        BUCKET,
        Column("Gap units", "gap_units"),
        Column("Gap value", "gap_value", "money"),
    ),
    frame="top_gaps",
)

FAMILY_TOTALS = TableSpec(
    "Summary",
    "tblFamilyTotals",
    "sopxl",
    (
        FAMILY,
        Column("Demand", "demand"),
        Column("Supply", "supply"),
        Column("Gap value", "gap_value", "money"),
    ),
    anchor="H4",
    stamp_cell=None,
    frame="family_totals",
)
"""Horizon totals per family; feeds the Summary sheet's demand-vs-supply chart."""

OWNED_TABLES: tuple[TableSpec, ...] = (SETTINGS, DEMAND, SUPPLY, INVENTORY, PLAN, TOP_GAPS, FAMILY_TOTALS)
"""Every table sopxl writes at each refresh. Nothing else in a workbook is ever written by a refresh."""

SHEET_ORDER: tuple[str, ...] = (
    "Summary",
    "Plan",
    FORECAST_SHEET,
    "Demand",
    "Supply",
    "Inventory",
    "Settings",
)
SHEET_TITLES: dict[str, str] = {
    "Summary": "S&OP summary: biggest gaps and demand vs supply per family",
    "Plan": "Plan by family and month",
    FORECAST_SHEET: "Forecast (units per family and month): type in the shaded cells",
    "Demand": "Demand by SKU and month",
    "Supply": "Supply by SKU and month",
    "Inventory": "Projected inventory by SKU and month",
    "Settings": "Settings written by sopxl",
}
"""Cell A1 of each sheet. Cosmetic: readers never rely on titles."""
TOP_GAP_ROWS = 10


WORK_CENTER = Column("Work center", "work_center", "text")
SCENARIO = Column("Scenario", "scenario", "text")

CAPACITY_SHEET = "Capacity"
CAPACITY_INPUT = TableSpec(
    CAPACITY_SHEET,
    "tblCapacity",
    "user",
    (WORK_CENTER, Column("Hours per month", "hours_per_month")),
    stamp_cell=None,
)
"""User-owned: available hours per work center and month, used where the ERP holds none (Tryton)."""

CAPACITY_LOAD = TableSpec(
    CAPACITY_SHEET,
    "tblCapacityLoad",
    "sopxl",
    (
        WORK_CENTER,
        Column("Name", "name", "text"),
        BUCKET,
        Column("Load hours", "load_hours"),
        Column("Available hours", "available_hours"),
        Column("Overload %", "overload_pct", "months"),
    ),
    anchor="D4",
)
"""Rough-cut load per work center x month. Overload % = (load / available - 1) x 100: positive = overloaded."""

CAPACITY_PEAK = TableSpec(
    CAPACITY_SHEET,
    "tblCapacityPeak",
    "sopxl",
    (
        WORK_CENTER,
        Column("Peak load hours", "peak_load_hours"),
        Column("Available hours", "available_hours"),
        Column("Peak overload %", "peak_overload_pct", "months"),
        Column("Overloaded months", "overloaded_months", "int"),
    ),
    anchor="L4",
    stamp_cell=None,
)
"""One row per work center: its worst month; feeds the Summary sheet's capacity chart."""

MATERIAL_SHORTAGES = TableSpec(
    CAPACITY_SHEET,
    "tblMaterialShortages",
    "sopxl",
    (
        Column("Component", "component", "text"),
        Column("First short month", "first_short_bucket", "text"),
        Column("Short units", "short_units"),
        Column("Lead time days", "lead_time_days", "int"),
        Column("Within lead time", "within_lead_time", "flag"),
        Column("Used by", "parents", "text"),
    ),
    anchor="R4",
    stamp_cell=None,
)
"""Components the plan runs short of: within their lead time first (too late to order)."""

FINANCE = TableSpec(
    "Finance",
    "tblFinance",
    "sopxl",
    (
        FAMILY,
        BUCKET,
        Column("Served units", "served_units"),
        Column("Revenue", "revenue", "money"),
        Column("COGS", "cogs", "money"),
        Column("Gross margin", "gross_margin", "money"),
        Column("Inventory value", "inventory_value", "money"),
        Column("Shortage value", "shortage_value", "money"),
        Column("Gap value", "gap_value", "money"),
    ),
)
"""Money per family x month (docs/supply.md); gap value negative = short, as in tblPlan."""

FINANCE_TOTALS = TableSpec(
    "Finance",
    "tblFinanceTotals",
    "sopxl",
    (
        FAMILY,
        Column("Revenue", "revenue", "money"),
        Column("COGS", "cogs", "money"),
        Column("Gross margin", "gross_margin", "money"),
        Column("Inventory value (end)", "inventory_value", "money"),
        Column("Gap value (end)", "gap_value", "money"),
    ),
    anchor="L4",
    stamp_cell=None,
)
"""Horizon totals per family; feeds the Summary sheet's revenue and margin chart."""

SCENARIO_INPUTS = TableSpec(
    "Scenarios",
    "tblScenarioInputs",
    "user",
    (
        SCENARIO,
        Column("Change", "change", "text"),
        Column("Applies to", "applies_to", "text"),
        Column("Change %", "change_pct"),
    ),
    stamp_cell=None,
)
"""User-owned what-ifs, one change per row; rows with the same Scenario name form one scenario.
Change: ``Demand`` (Applies to: a family or ``*``), ``Capacity`` (a work center or ``*``), ``Lost supplier``
(a supplier name; Change % ignored). Change % in percent points: 10 = +10 %, -20 = -20 %."""

SCENARIOS = TableSpec(
    "Scenarios",
    "tblScenarios",
    "sopxl",
    (
        SCENARIO,
        FAMILY,
        Column("Demand", "demand"),
        Column("Served units", "served_units"),
        Column("Revenue", "revenue", "money"),
        Column("Gross margin", "gross_margin", "money"),
        Column("Shortage units (end)", "shortage_units", "number"),
        Column("Gap value (end)", "gap_value", "money"),
        Column("Inventory value (end)", "inventory_value", "money"),
        Column("Gap value vs base", "gap_value_vs_base", "money"),
    ),
    anchor="F4",
)
"""Base and every scenario side by side, per family, over the horizon."""

SCENARIO_CAPACITY = TableSpec(
    "Scenarios",
    "tblScenarioCapacity",
    "sopxl",
    (
        SCENARIO,
        WORK_CENTER,
        Column("Peak load hours", "peak_load_hours"),
        Column("Peak overload %", "peak_overload_pct", "months"),
        Column("Overloaded months", "overloaded_months", "int"),
    ),
    anchor="Q4",
    stamp_cell=None,
)

PLANNING_TABLES: tuple[TableSpec, ...] = (
    CAPACITY_LOAD,
    CAPACITY_PEAK,
    MATERIAL_SHORTAGES,
    FINANCE,
    FINANCE_TOTALS,
    SCENARIOS,
    SCENARIO_CAPACITY,
)
"""sopxl-owned supply-planning tables (layout 2), written by ``sop new`` with planning and by the supply
commands. Kept apart from :data:`OWNED_TABLES` so workbooks made before layout 2 still refresh."""
PLANNING_INPUTS: tuple[TableSpec, ...] = (CAPACITY_INPUT, SCENARIO_INPUTS)
"""User-owned supply-planning inputs: read, never written after the workbook is created."""
PLANNING_SHEET_ORDER: tuple[str, ...] = (CAPACITY_SHEET, "Finance", "Scenarios")
"""Sheets added after :data:`SHEET_ORDER` when a workbook has the supply-planning sheets."""
SHEET_TITLES |= {
    CAPACITY_SHEET: "Capacity: hours per work center (type in the shaded cells) and the plan's load",
    "Finance": "Finance: revenue, COGS, margin, inventory and gap value per family and month",
    "Scenarios": "Scenarios: what-ifs (type in the shaded cells) compared with the base plan",
}


def planning_table(name: str) -> TableSpec:
    """Look up a supply-planning table (owned or input) by its Excel name."""
    for spec in (*PLANNING_TABLES, *PLANNING_INPUTS):
        if spec.name == name:
            return spec
    raise KeyError(f"{name!r} is not a supply-planning table")


FORECAST_RULE = "Forecast must be a number >= 0"
"""The entry rule of every forecast grid (the master's Forecast sheet and the reps' files), as Excel's
validation message and sopxl's readers state it."""


def forecast_validation() -> dict[str, Any]:
    """xlsxwriter ``data_validation`` options for forecast cells: a number >= 0, or blank."""
    return {
        "validate": "decimal",
        "criteria": ">=",
        "value": 0,
        "ignore_blank": True,
        "input_title": "Forecast (units)",
        "input_message": "A number >= 0. Leave blank for no forecast.",
        "error_title": "Invalid forecast",
        "error_message": FORECAST_RULE,
        "error_type": "stop",
    }


def forecast_spec(buckets: list[str]) -> TableSpec:
    """The user-owned Forecast grid for a horizon's month buckets (past-due excluded)."""
    columns = (FORECAST_KEY, *(Column(b, b) for b in buckets))
    return TableSpec(FORECAST_SHEET, FORECAST_TABLE, "user", columns, stamp_cell=None)


def owned_table(name: str) -> TableSpec:
    """Look up an owned table (core or supply-planning) by its Excel name."""
    for spec in (*OWNED_TABLES, *PLANNING_TABLES):
        if spec.name == name:
            return spec
    raise KeyError(f"{name!r} is not a sopxl-owned table")

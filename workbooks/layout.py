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
ColumnKind = Literal["text", "number", "money", "int", "months", "pct", "flag", "datetime"]


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
    month_headers: bool = False
    """Headers after the key columns are bucket labels that follow the horizon: an owned table of this kind
    may have them renamed by a refresh (same number of columns), never any other header."""

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


LAYOUT_VERSION = 3
"""Bumped whenever a sheet, table, header or anchor changes; written to Settings so a refresh can tell.

2: the supply-planning sheets (Capacity, Finance, Scenarios: :data:`PLANNING_TABLES` and the user-owned
:data:`CAPACITY_INPUT` and :data:`SCENARIO_INPUTS`).
3: one plan in two layers (firm / proposed): shortage and excess apart at every level, when shortages
start, the proposal (tblPlannedOrders), dependent demand, and the family S&OP grid (tblSOP) with its
agreed-supply rows."""

WINDOW_MONTHS = 6
"""The decision window the workbook's "next 6 months" columns measure value at risk over (the engine's
``gaps.WINDOW``)."""
NEXT = f"next {WINDOW_MONTHS} months"

PAST_DUE = "PAST_DUE"
"""Bucket label of everything due before the horizon starts; never a Forecast grid column."""
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def is_month_bucket(label: str) -> bool:
    """True for a month bucket label ``YYYY-MM`` (the Forecast grid's column headers)."""
    return _MONTH.fullmatch(label) is not None


NO_DEMAND = "no demand ahead"
"""What a months-of-cover cell shows when there is stock but no demand ahead (cover is +inf): every sheet
says it the same way as ``SOP_COVER``; readers of the workbook turn it back into +inf."""

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


def firm(header: str) -> str:
    return f"{header} (firm)"


def proposed(header: str) -> str:
    return f"{header} (proposed)"


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
        Column("Independent demand", "independent_demand"),
        Column(firm("Dependent demand"), "dependent_demand_firm"),
        Column(proposed("Dependent demand"), "dependent_demand_proposed"),
        Column(firm("Demand"), "demand_firm"),
        Column(proposed("Demand"), "demand_proposed"),
    ),
    frame="sku_plan",
)
"""Independent demand = max(forecast, open orders); dependent demand = what parents' production needs
(firm: the ERP's production orders; proposed: plus the planned production)."""

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
        Column("Firm supply", "supply_firm"),
        Column("Planned purchases", "planned_purchases"),
        Column("Planned production", "planned_production"),
        Column("Proposed supply", "supply_proposed"),
        Column("Planned by", "planned_by", "text"),
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
        Column("Safety stock", "safety_stock"),
        Column(firm("Projected inventory"), "projected_inventory_firm"),
        Column(firm("Shortage units"), "shortage_units_firm"),
        Column(proposed("Projected inventory"), "projected_inventory_proposed"),
        Column(proposed("Shortage units"), "shortage_units_proposed"),
        Column(proposed("Value at risk"), "value_at_risk_proposed", "money"),
        Column(proposed("Excess units"), "excess_units_proposed"),
        Column(proposed("Cash tied up"), "cash_tied_up_proposed", "money"),
        Column(proposed("Below safety stock"), "below_safety_stock_proposed", "flag"),
        Column(proposed("Months of cover"), "cover_months_proposed", "months"),
        Column(proposed("Why short"), "why_short", "text"),
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
        Column("Forecast", "forecast"),
        Column("Open orders", "orders"),
        Column(firm("Demand"), "demand_firm"),
        Column(proposed("Demand"), "demand_proposed"),
        Column("Firm supply", "supply_firm"),
        Column("Proposed supply", "supply_proposed"),
        Column(firm("Projected inventory"), "projected_inventory_firm"),
        Column(proposed("Projected inventory"), "projected_inventory_proposed"),
        Column("Safety stock", "safety_stock"),
        Column(firm("Shortage units"), "shortage_units_firm"),
        Column(firm("Value at risk"), "value_at_risk_firm", "money"),
        Column(proposed("Shortage units"), "shortage_units_proposed"),
        Column(proposed("Value at risk"), "value_at_risk_proposed", "money"),
        Column(proposed("Excess units"), "excess_units_proposed"),
        Column(proposed("Cash tied up"), "cash_tied_up_proposed", "money"),
        Column(proposed("SKUs short"), "skus_short_proposed", "int"),
        Column(proposed("Months of cover"), "cover_months_proposed", "months"),
        Column(proposed("Capacity load %"), "load_pct_proposed", "pct"),
        Column(proposed("Why short"), "why_short", "text"),
    ),
    frame="family_plan",
)
"""Family x bucket plan: shortage and excess are sums over the family's SKUs, never netted
(docs/definitions.md); projected inventory of a family is its SKUs' stock."""

TOP_GAPS = TableSpec(
    "Summary",
    "tblTopGaps",
    "sopxl",
    (
        Column("Rank", "rank", "int"),
        FAMILY,
        Column(firm("First short month"), "first_short_bucket_firm", "text"),
        Column(firm("Shortage then"), "first_shortage_units_firm"),
        Column(firm("Months short"), "months_short_firm", "int"),
        Column(firm("Worst month"), "worst_bucket_firm", "text"),
        Column(firm("Worst shortage"), "worst_shortage_units_firm"),
        Column(f"Value at risk (firm, {NEXT})", "value_at_risk_window_firm", "money"),
        Column(proposed("First short month"), "first_short_bucket_proposed", "text"),
        Column(f"Shortage units (proposed, {NEXT})", "shortage_units_window_proposed"),
        Column(f"Value at risk (proposed, {NEXT})", "value_at_risk_window_proposed", "money"),
        Column(proposed("Why short"), "why_short", "text"),
    ),
    frame="top_gaps",
)
"""What goes short first, how badly, and what it is worth: ranked by what stays at risk after the
proposal, then by what is at risk if nothing changes."""

FAMILY_TOTALS = TableSpec(
    "Summary",
    "tblFamilyTotals",
    "sopxl",
    (
        FAMILY,
        Column(proposed("Demand"), "demand_proposed"),
        Column("Firm supply", "supply_firm"),
        Column("Proposed supply", "supply_proposed"),
        Column(proposed("Worst value at risk"), "worst_value_at_risk_proposed", "money"),
        Column(proposed("Cash tied up at end"), "cash_tied_up_end", "money"),
    ),
    anchor="N4",
    stamp_cell=None,
    frame="family_totals",
)
"""Horizon totals per family; feeds the Summary sheet's demand-vs-supply chart."""

PLANNED_ORDERS = TableSpec(
    "Proposal",
    "tblPlannedOrders",
    "sopxl",
    (
        SKU,
        FAMILY,
        Column("Kind", "kind", "text"),
        Column("Due month", "bucket", "text"),
        Column("Release month", "release_bucket", "text"),
        Column("Quantity", "qty"),
        Column("Planned by", "planned_by", "text"),
        Column("Note", "note", "text"),
    ),
    frame="planned_orders",
)
"""The proposed supply as planned orders to release: production or purchase, due and release month."""

SOP_GRID_SHEET = "S&OP"
SOP_GRID_TABLE = "tblSOP"
SOP_GRID_KEYS = (FAMILY, Column("Measure", "measure", "text"), Column("Note", "note", "text"))
"""The family S&OP grid's fixed leading columns; the month columns follow the horizon (see
:func:`sop_grid_spec`)."""
AGREED_MEASURE = "Agreed supply (type here)"
"""The one user-entered row per family in tblSOP: blank = follow the proposal; sopxl carries the typed
numbers over every refresh (by family and month) and plans with them."""

OWNED_TABLES: tuple[TableSpec, ...] = (
    SETTINGS,
    DEMAND,
    SUPPLY,
    INVENTORY,
    PLAN,
    TOP_GAPS,
    FAMILY_TOTALS,
    PLANNED_ORDERS,
)
"""Every table sopxl writes at each refresh. Nothing else in a workbook is ever written by a refresh."""

SHEET_ORDER: tuple[str, ...] = (
    SOP_GRID_SHEET,
    "Summary",
    "Plan",
    FORECAST_SHEET,
    "Demand",
    "Supply",
    "Inventory",
    "Proposal",
    "Settings",
)
SHEET_TITLES: dict[str, str] = {
    SOP_GRID_SHEET: "Family S&OP plan: demand, supply, inventory and shortages per family and month",
    "Summary": "S&OP summary: what goes short first, and demand vs supply per family",
    "Plan": "Plan by family and month (firm = what the ERP has; proposed = with the planned supply)",
    FORECAST_SHEET: "Forecast (units per family and month): type in the shaded cells",
    "Demand": "Demand by SKU and month",
    "Supply": "Supply by SKU and month",
    "Inventory": "Projected inventory by SKU and month",
    "Proposal": "Proposed supply: planned production and purchases to release",
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
        Column(firm("Load hours"), "load_hours_firm"),
        Column(proposed("Load hours"), "load_hours_proposed"),
        Column("Available hours", "available_hours"),
        Column(firm("Load %"), "load_pct_firm", "pct"),
        Column(proposed("Load %"), "load_pct_proposed", "pct"),
    ),
    anchor="D4",
)
"""Rough-cut load per work center x month, both layers. Load % = load / available x 100: above 100 = overloaded."""

CAPACITY_PEAK = TableSpec(
    CAPACITY_SHEET,
    "tblCapacityPeak",
    "sopxl",
    (
        WORK_CENTER,
        Column(proposed("Peak load hours"), "peak_load_hours"),
        Column("Available hours", "available_hours"),
        Column(proposed("Peak load %"), "peak_load_pct", "pct"),
        Column(proposed("Overloaded months"), "overloaded_months", "int"),
    ),
    anchor="N4",
    stamp_cell=None,
)
"""One row per work center: its worst month after the proposal; feeds the Summary sheet's capacity chart."""

MATERIAL_SHORTAGES = TableSpec(
    CAPACITY_SHEET,
    "tblMaterialShortages",
    "sopxl",
    (
        Column("Component", "component", "text"),
        FAMILY,
        Column(firm("First short month"), "first_short_bucket_firm", "text"),
        Column(firm("Worst shortage"), "worst_shortage_units_firm"),
        Column(proposed("First short month"), "first_short_bucket_proposed", "text"),
        Column(proposed("Worst shortage"), "worst_shortage_units_proposed"),
        Column(f"Value at risk (proposed, {NEXT})", "value_at_risk_window_proposed", "money"),
        Column("Within lead time", "within_lead_time", "flag"),
        Column("Lead time days", "lead_time_days", "int"),
        Column("Used by", "parents", "text"),
    ),
    anchor="T4",
    stamp_cell=None,
)
"""Components that go short (a view of their Plan rows): within their lead time first (too late to order)."""

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
        Column(proposed("Value at risk"), "value_at_risk_proposed", "money"),
        Column(proposed("Cash tied up"), "cash_tied_up_proposed", "money"),
    ),
)
"""Money per family x month of the proposed plan (docs/supply.md): the same layer as Plan and Scenarios."""

FINANCE_TOTALS = TableSpec(
    "Finance",
    "tblFinanceTotals",
    "sopxl",
    (
        FAMILY,
        Column("Revenue", "revenue", "money"),
        Column("COGS", "cogs", "money"),
        Column("Gross margin", "gross_margin", "money"),
        Column("Inventory value (end)", "inventory_value_end", "money"),
        Column(proposed("Cash tied up at end"), "cash_tied_up_end", "money"),
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
        Column(proposed("Demand"), "demand_proposed"),
        Column("Served units", "served_units"),
        Column("Revenue", "revenue", "money"),
        Column("Gross margin", "gross_margin", "money"),
        Column(proposed("First short month"), "first_short_bucket_proposed", "text"),
        Column(f"Value at risk (proposed, {NEXT})", "value_at_risk_window_proposed", "money"),
        Column("Inventory value (end)", "inventory_value_end", "money"),
        Column(proposed("Cash tied up at end"), "cash_tied_up_end", "money"),
        Column("Value at risk vs base", "value_at_risk_vs_base", "money"),
    ),
    anchor="F4",
)
"""Base and every scenario side by side, per family; Base is the plan itself (its proposed layer)."""

SCENARIO_CAPACITY = TableSpec(
    "Scenarios",
    "tblScenarioCapacity",
    "sopxl",
    (
        SCENARIO,
        WORK_CENTER,
        Column(proposed("Peak load hours"), "peak_load_hours"),
        Column(proposed("Peak load %"), "peak_load_pct", "pct"),
        Column(proposed("Overloaded months"), "overloaded_months", "int"),
    ),
    anchor="R4",
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


SHEET_NOTES: dict[str, tuple[str, str]] = {
    FORECAST_SHEET: ("A2", "Units per family and month. Blank = no forecast. Add families as new rows."),
    SOP_GRID_SHEET: (
        "A3",
        "One block per family. Type the agreed supply in the yellow rows (blank = follow the proposal).",
    ),
    CAPACITY_SHEET: (
        "A3",
        "Hours per month per work center, used where the ERP holds none. Add work centers as rows.",
    ),
    "Scenarios": ("A3", "Change: Demand (family or *), Capacity (work center or *), Lost supplier (supplier)."),
}
"""The planner's instructions on a sheet (cell, text), written once when the sheet is made (``sop new``,
``sop attach``) and never after: below the as-of stamp (A2) that every refresh rewrites."""


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
    """Look up an owned table (core or supply-planning) by its Excel name (not tblSOP: see :func:`sop_grid_spec`)."""
    for spec in (*OWNED_TABLES, *PLANNING_TABLES):
        if spec.name == name:
            return spec
    raise KeyError(f"{name!r} is not a sopxl-owned table")


def table_spec(name: str, frame: Any = None) -> TableSpec:
    """The owned table called ``name``; tblSOP's spec follows its frame's month columns. KeyError otherwise."""
    if name == SOP_GRID_TABLE:
        if frame is None:
            raise KeyError(f"{name} needs its frame: its month columns follow the horizon")
        keys = {c.field for c in SOP_GRID_KEYS}
        return sop_grid_spec([str(c) for c in frame.columns if c not in keys])
    return owned_table(name)


def sop_grid_spec(columns: list[str]) -> TableSpec:
    """The family S&OP grid (owned, but its agreed-supply rows carry the planner's numbers) for its month
    columns: recent actual months then the horizon's labels (``PAST_DUE`` and the months)."""
    months = tuple(Column(label, label) for label in columns)
    return TableSpec(SOP_GRID_SHEET, SOP_GRID_TABLE, "sopxl", (*SOP_GRID_KEYS, *months), month_headers=True)

"""The plan: snapshot + family forecast -> demand, supply, projected inventory and gaps, per SKU and family.

Stages, each a pure function of frames: bucket (:mod:`.buckets`) -> split the forecast (:mod:`.families`)
-> consume it with orders (:mod:`.demand`) -> add supply (:mod:`.supply`) -> project inventory and cover
(:mod:`.inventory`) -> shortage, surplus and money (:mod:`.gaps`). Definitions: docs/definitions.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .buckets import Horizon, count_beyond, sku_grid
from .demand import build_demand, validate_forecast
from .families import history_shares, unknown_families
from .gaps import GAP_COLUMNS, family_gaps, sku_gaps, top_gaps
from .inventory import DECIMALS, family_inventory, project
from .snapshot import Snapshot
from .supply import build_supply

SKU_PLAN_COLUMNS = (
    "sku",
    "family",
    "bucket",
    "forecast",
    "orders",
    "demand",
    "receipts",
    "production",
    "supply",
    "opening_inventory",
    "projected_inventory",
    "safety_stock",
    "below_safety_stock",
    "cover_months",
    *GAP_COLUMNS,
)
FAMILY_PLAN_COLUMNS = (
    *SKU_PLAN_COLUMNS[1:14],
    "skus_below_safety_stock",
    *GAP_COLUMNS,
)
FLOW_SUMS = ("forecast", "orders", "receipts", "production")


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything a refresh writes to the workbook, for one snapshot, forecast and horizon."""

    horizon: Horizon
    as_of: dt.datetime
    source: str
    sku_plan: pd.DataFrame = field(repr=False)
    """One row per SKU x bucket (``PAST_DUE`` first): :data:`SKU_PLAN_COLUMNS`."""
    family_plan: pd.DataFrame = field(repr=False)
    """One row per family x bucket: :data:`FAMILY_PLAN_COLUMNS`; quantities and gaps are SKU sums."""
    top_gaps: pd.DataFrame = field(repr=False)
    """The worst family x bucket shortfalls by value: ``rank, family, bucket, gap_units, gap_value``."""
    family_totals: pd.DataFrame = field(repr=False)
    """``family, demand, supply, gap_value``: demand and supply summed over every bucket (``PAST_DUE``
    included), gap_value of the horizon's last bucket (gaps are cumulative: summing them would count the
    same backlog once per bucket)."""
    beyond_horizon: pd.DataFrame = field(repr=False)
    """``entity, count, qty`` of open orders, receipts and production orders dated after the horizon."""
    unknown_forecast_families: pd.DataFrame = field(repr=False)
    """Forecast rows (``family, bucket, qty``) whose family has no items: reported, not planned."""


def family_totals(family_plan: pd.DataFrame) -> pd.DataFrame:
    """Horizon totals per family: flows summed, gap value taken at the horizon end."""
    by_family = family_plan.groupby("family", sort=True)
    out = by_family[["demand", "supply"]].sum().round(DECIMALS)
    out["gap_value"] = by_family["gap_value"].last()  # rows are in bucket order: last = horizon end
    return out.reset_index()


def beyond_horizon(snapshot: Snapshot, horizon: Horizon) -> pd.DataFrame:
    """What the horizon leaves out: count and quantity of dated demand and supply after its end."""
    dated = (("open_demand", "requested_date"), ("receipts", "expected_date"), ("production", "due_date"))
    rows = [(e, *count_beyond(snapshot.frames[e], d, horizon, snapshot.as_of_date)) for e, d in dated]
    return pd.DataFrame(rows, columns=["entity", "count", "qty"])


def build_plan(snapshot: Snapshot, forecast: pd.DataFrame, horizon: Horizon | None = None) -> Plan:
    """Chain the planning stages for a snapshot and a family forecast (``family, bucket, qty``).

    The horizon defaults to 18 months from the snapshot's as-of month; a given horizon must start with
    the bucket holding the as-of date. Raises ValueError for an invalid forecast.
    """
    as_of = snapshot.as_of_date
    horizon = horizon or Horizon.from_as_of(as_of)
    clean = validate_forecast(forecast, horizon)
    grid = sku_grid(snapshot.items, horizon)
    shares = history_shares(snapshot.shipments, snapshot.items, as_of)
    demand = build_demand(grid, clean, snapshot.open_demand, shares, horizon, as_of)
    supply = build_supply(grid, snapshot.receipts, snapshot.production, horizon, as_of)
    flows = demand.join(supply[["receipts", "production", "supply"]])
    sku_plan = sku_gaps(project(flows, snapshot.stock, snapshot.items, horizon), snapshot.items)
    sku_plan = sku_plan[list(SKU_PLAN_COLUMNS)]
    flow_sums = sku_plan.groupby(["family", "bucket"], observed=True, sort=True)[list(FLOW_SUMS)].sum()
    family_plan = (
        family_inventory(sku_plan, horizon)
        .merge(flow_sums.round(DECIMALS).reset_index(), on=["family", "bucket"], how="left")
        .merge(family_gaps(sku_plan), on=["family", "bucket"], how="left")
    )[list(FAMILY_PLAN_COLUMNS)]
    return Plan(
        horizon=horizon,
        as_of=snapshot.as_of,
        source=snapshot.source,
        sku_plan=sku_plan,
        family_plan=family_plan,
        top_gaps=top_gaps(family_plan),
        family_totals=family_totals(family_plan),
        beyond_horizon=beyond_horizon(snapshot, horizon),
        unknown_forecast_families=unknown_families(clean, snapshot.items),
    )

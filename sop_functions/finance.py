"""Finance: the plan in money, per family and month.

From a SKU plan frame (``sku, family, bucket, demand, projected_inventory`` and the gap columns of
:mod:`.gaps`) and the items' prices and costs:

- **served units** = demand + backlog carried in - backlog carried out
  (``demand + shortage_units[previous bucket] - shortage_units``): what can ship this month, late
  orders included once supply catches up;
- **revenue** = served units x unit price; **COGS** = served units x unit cost;
  **gross margin** = revenue - COGS (and ``gross_margin_pct`` = margin / revenue, NaN without revenue);
- **inventory value** = max(projected inventory, 0) x unit cost at the end of the month;
- **shortage value**, **surplus value** and **gap value** as in docs/definitions.md (gap value negative =
  short: revenue at risk; positive = cash tied up in surplus).

Family figures are sums over the family's SKUs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inventory import DECIMALS

FINANCE_COLUMNS = (
    "family",
    "bucket",
    "served_units",
    "revenue",
    "cogs",
    "gross_margin",
    "gross_margin_pct",
    "inventory_value",
    "shortage_value",
    "surplus_value",
    "gap_value",
)
MONEY_SUMS = ("served_units", "revenue", "cogs", "gross_margin", "inventory_value")


def sku_finance(sku_plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The SKU plan with ``served_units, revenue, cogs, gross_margin, inventory_value`` added."""
    out = sku_plan.copy()
    prices = items.set_index("sku")
    price = out["sku"].map(prices["unit_price"]).fillna(0.0).to_numpy(dtype=float)
    cost = out["sku"].map(prices["unit_cost"]).fillna(0.0).to_numpy(dtype=float)
    short = out["shortage_units"].to_numpy(dtype=float)
    carried_in = out.groupby("sku", sort=False)["shortage_units"].shift(1).fillna(0.0).to_numpy(dtype=float)
    served = np.round(out["demand"].to_numpy(dtype=float) + carried_in - short, DECIMALS) + 0.0
    out["served_units"] = served
    out["revenue"] = served * price
    out["cogs"] = served * cost
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out["inventory_value"] = np.maximum(out["projected_inventory"].to_numpy(dtype=float), 0.0) * cost
    return out


def family_finance(sku_plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """:data:`FINANCE_COLUMNS`: one row per family x bucket, sums of the SKU figures."""
    sku = sku_finance(sku_plan, items)
    sums = [*MONEY_SUMS, "shortage_value", "surplus_value", "gap_value"]
    out = sku.groupby(["family", "bucket"], observed=True, sort=True)[sums].sum().round(6).reset_index()
    revenue = out["revenue"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gross_margin_pct"] = np.where(revenue != 0, out["gross_margin"].to_numpy(dtype=float) / revenue, np.nan)
    return out[list(FINANCE_COLUMNS)]


def finance_totals(family_fin: pd.DataFrame) -> pd.DataFrame:
    """Per family over the horizon: flows summed, inventory and gap values at the horizon end."""
    by = family_fin.groupby("family", sort=True)
    out = by[["served_units", "revenue", "cogs", "gross_margin"]].sum()
    last = by[["inventory_value", "shortage_value", "gap_value"]].last()
    return out.join(last).reset_index()

"""Finance: the proposed plan in money, per family and month.

From the SKU plan's **proposed** layer (:mod:`.plan`) and the items' prices and costs:

- **served units** = the sales (independent demand) the plan can ship in the month, late orders included
  once supply catches up: cumulative independent demand minus its share of the backlog, month over month
  (a backlog that mixes sales and parents' needs is shared pro rata between them);
- **revenue** = served units x unit price; **COGS** = served units x unit cost; **gross margin** = revenue -
  COGS (``gross_margin_pct`` = margin / revenue, NaN without revenue);
- **inventory value** = stock (projected inventory, at least 0) x unit cost at the month's end;
- **value at risk** and **cash tied up**: the proposed layer's, as in docs/definitions.md.

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
    "value_at_risk_proposed",
    "cash_tied_up_proposed",
)
MONEY_SUMS = ("served_units", "revenue", "cogs", "gross_margin", "inventory_value")


def served_sales(sku_plan: pd.DataFrame) -> np.ndarray:
    """Independent demand served per SKU row (see the module docstring)."""
    by = sku_plan.groupby("sku", sort=False)
    independent = sku_plan["independent_demand"].to_numpy(dtype=float)
    cum_independent = by["independent_demand"].cumsum().to_numpy(dtype=float)
    cum_demand = by["demand_proposed"].cumsum().to_numpy(dtype=float)
    backlog = sku_plan["shortage_units_proposed"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(cum_demand > 0, cum_independent / cum_demand, 0.0)
    served_to_date = cum_independent - backlog * share
    previous = pd.Series(served_to_date).groupby(sku_plan["sku"].to_numpy(), sort=False).shift(1).fillna(0.0)
    served = np.round(served_to_date - previous.to_numpy(dtype=float), DECIMALS) + 0.0
    return np.where(np.abs(served) < 1e-9, 0.0, np.where(independent >= 0, served, 0.0))


def sku_finance(sku_plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The SKU plan with ``served_units, revenue, cogs, gross_margin, inventory_value`` added."""
    out = sku_plan.copy()
    prices = items.set_index("sku")
    price = out["sku"].map(prices["unit_price"]).fillna(0.0).to_numpy(dtype=float)
    cost = out["sku"].map(prices["unit_cost"]).fillna(0.0).to_numpy(dtype=float)
    served = served_sales(out)
    out["served_units"] = served
    out["revenue"] = served * price
    out["cogs"] = served * cost
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out["inventory_value"] = np.maximum(out["projected_inventory_proposed"].to_numpy(dtype=float), 0.0) * cost
    return out


def family_finance(sku_plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """:data:`FINANCE_COLUMNS`: one row per family x bucket, sums of the SKU figures."""
    read = ["sku", "family", "bucket", "independent_demand", "demand_proposed", "shortage_units_proposed"]
    read += ["projected_inventory_proposed", "value_at_risk_proposed", "cash_tied_up_proposed"]
    sku = sku_finance(sku_plan[read], items)  # not a copy of all ~40 columns of 95,000 SKU rows for 9 of them
    sums = [*MONEY_SUMS, "value_at_risk_proposed", "cash_tied_up_proposed"]
    out = sku.groupby(["family", "bucket"], observed=True, sort=True)[sums].sum().round(6).reset_index()
    revenue = out["revenue"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gross_margin_pct"] = np.where(revenue != 0, out["gross_margin"].to_numpy(dtype=float) / revenue, np.nan)
    return out[list(FINANCE_COLUMNS)]


def finance_totals(family_fin: pd.DataFrame) -> pd.DataFrame:
    """Per family over the horizon: flows summed; inventory value and cash tied up at the horizon end."""
    by = family_fin.groupby("family", sort=True)
    out = by[["served_units", "revenue", "cogs", "gross_margin"]].sum()
    last = (
        by[["inventory_value", "cash_tied_up_proposed"]]
        .last()
        .rename(columns={"inventory_value": "inventory_value_end", "cash_tied_up_proposed": "cash_tied_up_end"})
    )
    return out.join(last).reset_index()

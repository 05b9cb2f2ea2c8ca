"""Gaps: where the projected inventory leaves demand unserved (shortage) or ties up cash (surplus).

Sign convention: ``gap = surplus - shortage``, so **negative = short, positive = surplus**, in units and in
money. A projection between 0 and the safety stock is neither (it is flagged ``below_safety_stock``).

- ``shortage_units = max(0, -projected_inventory)``: demand to date not covered by opening stock plus
  supply to date (a cumulative backlog, so it carries over until supply catches up).
- ``surplus_units = max(0, projected_inventory - safety_stock)``: stock above what the plan needs.
- ``shortage_value = shortage_units * unit_price``: revenue at risk.
- ``surplus_value = surplus_units * unit_cost``: cash tied up in excess stock.

Family gaps are sums of SKU gaps, never gaps of summed inventory: a red bike cannot fill an order for a
blue one, so one SKU's surplus never hides another's shortage in ``shortage_units``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inventory import DECIMALS

GAP_COLUMNS = ("shortage_units", "surplus_units", "gap_units", "shortage_value", "surplus_value", "gap_value")


def sku_gaps(inventory: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Add the gap columns to a SKU inventory projection (``sku, projected_inventory, safety_stock``)."""
    out = inventory.copy()
    projected = out["projected_inventory"].to_numpy(dtype="float64")
    shortage = np.maximum(0.0, -projected) + 0.0  # + 0.0 turns -0.0 into 0.0
    surplus = np.maximum(0.0, projected - out["safety_stock"].to_numpy(dtype="float64")) + 0.0
    prices = items.set_index("sku")
    price = out["sku"].map(prices["unit_price"]).fillna(0.0).to_numpy(dtype="float64")
    cost = out["sku"].map(prices["unit_cost"]).fillna(0.0).to_numpy(dtype="float64")
    out["shortage_units"] = shortage
    out["surplus_units"] = surplus
    out["gap_units"] = surplus - shortage
    out["shortage_value"] = shortage * price
    out["surplus_value"] = surplus * cost
    out["gap_value"] = out["surplus_value"] - out["shortage_value"]
    return out


def family_gaps(sku_gap_frame: pd.DataFrame) -> pd.DataFrame:
    """``family, bucket`` and the gap columns, each the sum over the family's SKUs."""
    grouped = sku_gap_frame.groupby(["family", "bucket"], observed=True, sort=True)
    return grouped[list(GAP_COLUMNS)].sum().round(DECIMALS).reset_index()


def top_gaps(family_plan: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` families with the worst shortfall by value: ``rank, family, bucket, gap_units, gap_value``.

    Each family appears once, at its most negative bucket, so one family's growing cumulative backlog
    cannot fill the whole list. Only negative ``gap_value`` rows (shortfalls) are ranked, most negative
    first; ties by family then bucket. A plan without shortfalls has an empty top-gaps table.
    """
    short = family_plan[family_plan["gap_value"] < 0]
    worst = short.sort_values(["gap_value", "family", "bucket"], kind="stable").drop_duplicates("family")
    ranked = worst.head(n)
    out = ranked[["family", "bucket", "gap_units", "gap_value"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype="int64"))
    return out

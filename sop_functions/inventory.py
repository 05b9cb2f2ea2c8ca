"""Projected inventory: the stock each SKU will have at the end of each bucket if nothing changes.

``projected = opening + supply - demand``, and a bucket opens with what the previous one closed with; the
first bucket (``PAST_DUE``) opens with today's on-hand stock summed over warehouses. A negative projection
is demand that cannot be served from stock: a cumulative backlog (see :mod:`.gaps`).

Months of cover = projected inventory / average demand per month of the next 3 buckets. The next buckets
(not the current one) because the stock at the end of a bucket serves what comes after it; fewer than 3 at
the horizon end, and the last bucket, which has no next, uses its own demand. Edge cases: 0 when the
projection is <= 0 (nothing covers anything), ``+inf`` when stock is positive but no demand is ahead
(cover is unbounded; writers show it as they see fit, e.g. a blank or "no demand"). Weekly plans express
cover in months too (a week is 7 / 30.44 months), so the column means the same whatever the grain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import Horizon

COVER_WINDOW = 3
DECIMALS = 9
"""Projections are rounded to 1e-9 unit so float noise never shows as a phantom shortage."""


def on_hand(stock: pd.DataFrame) -> pd.Series:
    """Today's stock per SKU, summed over warehouses (negative stock kept as the ERP reports it)."""
    return stock.groupby("sku")["qty"].sum()


def forward_demand(frame: pd.DataFrame, key: str, window: int = COVER_WINDOW) -> np.ndarray:
    """Average demand of the next ``window`` buckets of the same ``key``; the last bucket: its own demand.

    ``frame`` must hold every bucket of each key, in bucket order.
    """
    by_key = frame.groupby(key, sort=False)["demand"]
    ahead = [by_key.shift(-k) for k in range(1, window + 1)]
    total = sum((s.fillna(0.0).to_numpy() for s in ahead), np.zeros(len(frame)))
    count = sum((s.notna().to_numpy() for s in ahead), np.zeros(len(frame)))
    own = frame["demand"].to_numpy(dtype="float64")
    return np.where(count > 0, total / np.maximum(count, 1), own)


def cover_months(projected: np.ndarray, forward: np.ndarray, months_per_bucket: float) -> np.ndarray:
    """Months of cover: 0 when nothing is projected, ``+inf`` when stock meets no future demand."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = projected / forward * months_per_bucket
    return np.where(projected <= 0, 0.0, np.where(forward <= 0, np.inf, ratio))


def project(flows: pd.DataFrame, stock: pd.DataFrame, items: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """Add ``opening_inventory, projected_inventory, safety_stock, below_safety_stock, cover_months``.

    ``flows`` has ``sku, family, bucket, demand, supply`` (one row per SKU and bucket); other columns are
    kept. Rows come back sorted by family, SKU and bucket.
    """
    out = flows.sort_values(["family", "sku", "bucket"], kind="stable").reset_index(drop=True)
    start = out["sku"].map(on_hand(stock)).fillna(0.0).astype("float64")
    net = (out["supply"] - out["demand"]).groupby(out["sku"], sort=False).cumsum()
    out["projected_inventory"] = (start + net).round(DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    previous = out.groupby("sku", sort=False)["projected_inventory"].shift(1)
    out["opening_inventory"] = previous.fillna(start)
    out["safety_stock"] = out["sku"].map(items.set_index("sku")["safety_stock"]).fillna(0.0).astype("float64")
    out["below_safety_stock"] = out["projected_inventory"] < out["safety_stock"]
    projected = out["projected_inventory"].to_numpy(dtype="float64")
    out["cover_months"] = cover_months(projected, forward_demand(out, "sku"), horizon.months_per_bucket)
    added = ["opening_inventory", "projected_inventory", "safety_stock", "below_safety_stock", "cover_months"]
    return out[[c for c in out.columns if c not in added] + added]


FAMILY_SUMS = ("demand", "supply", "opening_inventory", "projected_inventory", "safety_stock")


def family_inventory(sku_inventory: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """The family view: quantities summed over SKUs, cover recomputed from the family sums.

    ``below_safety_stock`` is true when any SKU of the family is below its safety stock (one SKU's excess
    cannot protect another), and ``skus_below_safety_stock`` counts them.
    """
    grouped = sku_inventory.groupby(["family", "bucket"], observed=True, sort=True)
    out = grouped[list(FAMILY_SUMS)].sum().round(DECIMALS).reset_index()
    out["skus_below_safety_stock"] = grouped["below_safety_stock"].sum().to_numpy().astype("int64")
    out["below_safety_stock"] = out["skus_below_safety_stock"] > 0
    projected = out["projected_inventory"].to_numpy(dtype="float64")
    out["cover_months"] = cover_months(projected, forward_demand(out, "family"), horizon.months_per_bucket)
    return out

"""Plan versions compared: this agreed plan vs the previous one vs what actually shipped.

Pure frame functions over the plan store's lines (``level, item, family, bucket, demand, supply,
production, projected_inventory, gap_value``); the store itself is I/O and lives in ``workbooks.plan_store``.
"""

from __future__ import annotations

import pandas as pd

COMPARED = ("demand", "supply", "gap_value")


def compare_lines(old: pd.DataFrame, new: pd.DataFrame, old_name: str = "v1", new_name: str = "v2") -> pd.DataFrame:
    """Side by side per item and bucket: ``<value>_<old>``, ``<value>_<new>`` and ``<value>_change`` (new -
    old) for demand, supply and gap value. Items or buckets present in one version only count 0 in the other.
    """
    keys = ["item", "family", "bucket"]
    a = old.set_index(keys)[list(COMPARED)]
    b = new.set_index(keys)[list(COMPARED)]
    index = a.index.union(b.index)
    a, b = a.reindex(index, fill_value=0.0), b.reindex(index, fill_value=0.0)
    out = pd.DataFrame(index=index)
    for column in COMPARED:
        out[f"{column}_{old_name}"] = a[column]
        out[f"{column}_{new_name}"] = b[column]
        out[f"{column}_change"] = b[column] - a[column]
    return out.reset_index().sort_values(["item", "bucket"], kind="stable").reset_index(drop=True)


def actual_shipments(shipments: pd.DataFrame, items: pd.DataFrame, level: str = "family") -> pd.DataFrame:
    """``item, bucket, actual``: net shipped quantity per family (or SKU) and calendar month ``YYYY-MM``."""
    frame = shipments.merge(items[["sku", "family"]], on="sku", how="left")
    frame["bucket"] = pd.to_datetime(frame["ship_date"]).dt.strftime("%Y-%m")
    key = "family" if level == "family" else "sku"
    out = frame.groupby([key, "bucket"], sort=True)["qty"].sum().rename("actual").reset_index()
    return out.rename(columns={key: "item"})


def with_actuals(compared: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """Add ``actual`` (shipped, NaN where nothing is known yet) to a :func:`compare_lines` frame."""
    out = compared.merge(actuals, on=["item", "bucket"], how="left")
    return out

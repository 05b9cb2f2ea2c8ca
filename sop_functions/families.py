"""Product families: S&OP plans demand per family, the ERP holds stock and orders per SKU.

A family forecast is split over its SKUs in proportion to each SKU's recent shipments (its *share*), so
the SKU plan adds back up to the family forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SHARE_MONTHS = 12
"""Full months of shipments (before the as-of month) that a SKU's share of its family is measured over."""


def share_window(as_of_date: pd.Timestamp, months: int = SHARE_MONTHS) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of the shipments :func:`history_shares` reads: the ``months`` full months before
    the as-of month."""
    first_current = pd.Timestamp(as_of_date).normalize().replace(day=1)
    return first_current - pd.DateOffset(months=months), first_current


def history_shares(
    shipments: pd.DataFrame, items: pd.DataFrame, as_of_date: pd.Timestamp, months: int = SHARE_MONTHS
) -> pd.DataFrame:
    """Each SKU's share of its family's shipments over the last ``months`` full months before the as-of date.

    Net shipments (returns are negative) are clipped at 0 per SKU, so a SKU that was mostly returned gets
    no share rather than a negative one. A family without any (positive) history is split equally among
    its SKUs. Shares of a family sum to 1. Returns columns ``sku, family, share``.
    """
    window_start, first_current = share_window(as_of_date, months)
    dates = shipments["ship_date"]
    window = shipments[(dates >= window_start) & (dates < first_current)]
    net = window.groupby("sku")["qty"].sum().reindex(items["sku"], fill_value=0.0).clip(lower=0.0).to_numpy()
    family = items["family"].to_numpy()
    total = pd.Series(net).groupby(family).transform("sum").to_numpy(dtype="float64")
    count = pd.Series(net).groupby(family).transform("size").to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, net / total, 1.0 / count)
    return pd.DataFrame({"sku": items["sku"].to_numpy(), "family": family, "share": share.astype("float64")})


def disaggregate(family_qty: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Split a ``family, bucket, qty`` frame into ``sku, family, bucket, qty`` in proportion to the shares.

    Families without SKUs in ``shares`` drop out: callers report them (see :func:`unknown_families`).
    """
    merged = family_qty.merge(shares[["sku", "family", "share"]], on="family", how="inner")
    merged["qty"] = merged["qty"] * merged["share"]
    return merged[["sku", "family", "bucket", "qty"]].reset_index(drop=True)


def unknown_families(family_qty: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Rows of a family-level frame whose family has no items (a typo or a retired family)."""
    return family_qty[~family_qty["family"].isin(items["family"])].reset_index(drop=True)

"""Projected inventory: the stock each SKU will have at the end of each bucket, and its months of cover.

``projected = opening + supply - demand``; a bucket opens with what the previous one closed with, and the
first (``PAST_DUE``) with today's on-hand stock summed over warehouses (negative stock kept as the ERP
reports it). A negative projection is demand that cannot be served from stock: a cumulative backlog, the
item's *shortage* (:mod:`.gaps`). Each layer of the plan (firm, proposed) is projected the same way with
its own demand and supply.

Months of cover = stock at the bucket's end / average demand per month of the next 3 buckets (the stock
at a bucket's end serves what comes after it); fewer than 3 at the horizon end, and the last bucket, which
has no next, uses its own demand. 0 when nothing is in stock, ``+inf`` when stock meets no demand ahead
(the sheets show "no demand ahead": ``workbooks.layout.NO_DEMAND``). Weekly plans express cover in months
too (a week is 7 / 30.44 months).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVER_WINDOW = 3
DECIMALS = 9
"""Projections are rounded to 1e-9 unit so float noise never shows as a phantom shortage."""


def on_hand(stock: pd.DataFrame) -> pd.Series:
    """Today's stock per SKU, summed over warehouses (negative stock kept as the ERP reports it)."""
    return stock.groupby("sku")["qty"].sum()


def project(start: np.ndarray, supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(opening, projected)`` per row and bucket for opening stock ``start`` and ``(rows, buckets)`` flows."""
    projected = np.round(start[:, None] + np.cumsum(supply - demand, axis=1), DECIMALS) + 0.0
    opening = np.hstack([start[:, None], projected[:, :-1]])
    return opening, projected


def forward_demand(demand: np.ndarray, window: int = COVER_WINDOW) -> np.ndarray:
    """Average demand of the next ``window`` buckets per row; the last bucket: its own demand."""
    _, width = demand.shape
    out = np.empty_like(demand, dtype=float)
    for k in range(width):
        ahead = demand[:, k + 1 : k + 1 + window]
        out[:, k] = ahead.mean(axis=1) if ahead.shape[1] else demand[:, k]
    return out


def cover_months(stock: np.ndarray, forward: np.ndarray, months_per_bucket: float) -> np.ndarray:
    """Months of cover: 0 when nothing is in stock, ``+inf`` when stock meets no future demand."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = stock / forward * months_per_bucket
    return np.where(stock <= 0, 0.0, np.where(forward <= 0, np.inf, ratio))

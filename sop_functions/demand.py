"""Demand: the family forecast split to SKUs, consumed by the open sales orders.

Forecast consumption: orders already received are part of the forecast, not extra to it, so a bucket's
demand is ``max(forecast, open orders)``. ``PAST_DUE`` holds only overdue orders: the past has no forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import Horizon, sum_to_grid
from .families import disaggregate

FORECAST_COLUMNS = ("family", "bucket", "qty")


def validate_forecast(forecast: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """The forecast as clean ``family, bucket, qty`` rows; raise ValueError naming every bad family and month.

    Blank quantities mean 0 (an empty cell of the Forecast grid). Negative, non-numeric and non-finite
    quantities, months outside the horizon and a family given twice for the same month are errors.
    """
    missing = [c for c in FORECAST_COLUMNS if c not in forecast.columns]
    if missing:
        raise ValueError(f"forecast is missing column(s) {', '.join(missing)}; expected family, bucket, qty")
    family = forecast["family"].where(forecast["family"].notna(), "").astype(str).str.strip()
    raw = forecast["qty"]
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    qty = pd.to_numeric(raw.where(~blank, 0.0), errors="coerce").astype("float64")
    labels = forecast["bucket"]
    parsed: dict[object, str | None] = {}
    reasons: dict[object, str] = {}
    for label in pd.unique(labels):  # one parse per distinct month label, not per row
        try:
            parsed[label] = horizon.parse(label)
        except ValueError as exc:
            parsed[label], reasons[label] = None, str(exc)
    bucket = labels.map(parsed)
    where = "family " + family + ", " + horizon.grain + " " + labels.astype(str) + ": "
    problems = list(where[bucket.isna()] + labels[bucket.isna()].map(reasons))
    problems += list(where[family == ""] + "family name missing")
    bad_number = ~np.isfinite(qty)
    problems += list(where[bad_number] + "quantity " + raw[bad_number].map(repr) + " is not a number")
    negative = qty < 0
    problems += list(where[negative] + "quantity " + qty[negative].map("{:g}".format) + " is negative")
    clean = pd.DataFrame({"family": family, "bucket": bucket, "qty": qty}).reset_index(drop=True)
    duplicated = clean["bucket"].notna() & clean.duplicated(["family", "bucket"], keep="first")
    problems += list(where.reset_index(drop=True)[duplicated] + "given more than once")
    if problems:
        raise ValueError("invalid forecast:\n" + "\n".join(f"  - {p}" for p in problems))
    clean["bucket"] = clean["bucket"].astype(horizon.dtype)
    return clean


def open_orders(grid: pd.DataFrame, open_demand: pd.DataFrame, horizon: Horizon, as_of: pd.Timestamp) -> np.ndarray:
    """Open sales order quantity per grid row, bucketed by requested date (overdue ones in ``PAST_DUE``)."""
    return sum_to_grid(grid, open_demand, "requested_date", horizon, as_of)


def sku_forecast(grid: pd.DataFrame, forecast: pd.DataFrame, shares: pd.DataFrame) -> np.ndarray:
    """The validated family forecast split to SKUs by history share, per grid row (0 for ``PAST_DUE``)."""
    per_sku = disaggregate(forecast, shares)
    merged = grid[["sku", "bucket"]].merge(per_sku[["sku", "bucket", "qty"]], on=["sku", "bucket"], how="left")
    return merged["qty"].fillna(0.0).to_numpy(dtype="float64")


def consume(forecast: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Forecast consumption: orders use up the forecast; only orders above it add demand."""
    demand: np.ndarray = np.maximum(forecast, orders)
    return demand


def build_demand(
    grid: pd.DataFrame,
    forecast: pd.DataFrame,
    open_demand: pd.DataFrame,
    shares: pd.DataFrame,
    horizon: Horizon,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """``sku, family, bucket, forecast, orders, demand`` for every grid row; ``forecast`` must be validated."""
    out = grid[["sku", "family", "bucket"]].copy()
    out["forecast"] = sku_forecast(grid, forecast, shares)
    out["orders"] = open_orders(grid, open_demand, horizon, as_of)
    out["demand"] = consume(out["forecast"].to_numpy(), out["orders"].to_numpy())
    return out

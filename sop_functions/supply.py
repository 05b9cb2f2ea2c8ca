"""Supply: what is already on its way, bucketed by when it is due.

Purchase receipts count at their expected date, production orders at their due date, whatever their state
(planned, firm or running): S&OP asks whether the plan already on the books covers demand. Overdue supply
lands in ``PAST_DUE`` (it is late, not cancelled), supply after the horizon end is left out and counted.
"""

from __future__ import annotations

import pandas as pd

from .buckets import Horizon, sum_to_grid


def build_supply(
    grid: pd.DataFrame, receipts: pd.DataFrame, production: pd.DataFrame, horizon: Horizon, as_of: pd.Timestamp
) -> pd.DataFrame:
    """``sku, family, bucket, receipts, production, supply`` for every row of a :func:`~.buckets.sku_grid`."""
    out = grid[["sku", "family", "bucket"]].copy()
    out["receipts"] = sum_to_grid(grid, receipts, "expected_date", horizon, as_of)
    out["production"] = sum_to_grid(grid, production, "due_date", horizon, as_of)
    out["supply"] = out["receipts"] + out["production"]
    return out

"""Supply: receipts by expected date plus production orders (every state) by due date."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sop_functions.buckets import Horizon, count_beyond, sku_grid
from sop_functions.snapshot import build_snapshot
from sop_functions.supply import build_supply

AS_OF = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
HORIZON = Horizon.from_as_of(AS_OF.date(), periods=3)


def test_supply_buckets_receipts_and_production_past_due_included() -> None:
    snapshot = build_snapshot(
        "test",
        AS_OF,
        {
            "items": pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"], "unit_cost": [1, 1], "unit_price": [2, 2]}),
            "receipts": pd.DataFrame(
                {
                    "order_id": ["P1", "P2", "P3", "P4"],
                    "sku": ["A", "A", "B", "A"],
                    "qty": [7, 11, 13, 100],
                    "expected_date": ["2026-11-01", "2026-12-15", "2026-12-20", "2027-03-01"],
                }
            ),
            "production": pd.DataFrame(
                {
                    "order_id": ["M1", "M2", "M3", "M4"],
                    "sku": ["A", "A", "B", "B"],
                    "qty": [2, 3, 5, 40],
                    "due_date": ["2026-11-15", "2027-01-31", "2026-12-01", "2027-02-01"],
                    "state": ["running", "planned", "firm", "firm"],
                }
            ),
        },
    )
    grid = sku_grid(snapshot.items, HORIZON)
    got = build_supply(grid, snapshot.receipts, snapshot.production, HORIZON, snapshot.as_of_date)
    assert list(got.columns) == ["sku", "family", "bucket", "receipts", "production", "supply"]
    a = got[got["sku"] == "A"].set_index("bucket")
    b = got[got["sku"] == "B"].set_index("bucket")
    assert list(a["receipts"]) == [7.0, 0.0, 11.0, 0.0]
    assert list(a["production"]) == [2.0, 0.0, 0.0, 3.0]
    assert list(a["supply"]) == [9.0, 0.0, 11.0, 3.0]
    assert list(b["supply"]) == [0.0, 0.0, 18.0, 0.0]
    assert count_beyond(snapshot.receipts, "expected_date", HORIZON, snapshot.as_of_date) == (1, 100.0)
    assert count_beyond(snapshot.production, "due_date", HORIZON, snapshot.as_of_date) == (1, 40.0)


def test_supply_with_empty_entities() -> None:
    snapshot = build_snapshot(
        "test",
        AS_OF,
        {"items": pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_cost": [1], "unit_price": [2]})},
    )
    grid = sku_grid(snapshot.items, HORIZON)
    got = build_supply(grid, snapshot.receipts, snapshot.production, HORIZON, snapshot.as_of_date)
    assert list(got["supply"]) == [0.0, 0.0, 0.0, 0.0]
    assert count_beyond(snapshot.receipts, "expected_date", HORIZON, snapshot.as_of_date) == (0, 0.0)

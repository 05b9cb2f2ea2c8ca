"""Small hand-made plans and snapshots whose numbers the tests compute by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sop_functions.snapshot import Snapshot, build_snapshot

AS_OF = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
MONTHS = ["2026-11", "2026-12"]
BUCKETS = ["PAST_DUE", *MONTHS]


def sku_plan(rows: dict[str, dict[str, list[float]]], family: dict[str, str] | None = None) -> pd.DataFrame:
    """A SKU plan frame: per SKU, lists over BUCKETS for demand, supply, production, projected_inventory."""
    out = []
    for sku, values in rows.items():
        for j, bucket in enumerate(BUCKETS):
            row: dict[str, object] = {"sku": sku, "family": (family or {}).get(sku, "F"), "bucket": bucket}
            for column in (
                "demand",
                "supply",
                "production",
                "projected_inventory",
                "shortage_units",
                "opening_inventory",
                "safety_stock",
            ):
                row[column] = float(values.get(column, [0.0] * len(BUCKETS))[j])
            out.append(row)
    frame = pd.DataFrame(out)
    frame["bucket"] = pd.Categorical(frame["bucket"], categories=BUCKETS, ordered=True)
    return frame


def items(prices: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """``sku -> (unit_cost, unit_price)``."""
    return pd.DataFrame(
        {
            "sku": list(prices),
            "family": "F",
            "unit_cost": [c for c, _ in prices.values()],
            "unit_price": [p for _, p in prices.values()],
            "lead_time_days": 0,
        }
    )


def capacity(hours: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"work_center": list(hours), "name": "", "hours_per_month": list(hours.values())})


def routings(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["sku", "work_center", "hours_per_unit"])


def tiny_snapshot() -> tuple[Snapshot, pd.DataFrame]:
    """X (family Made, price 100, cost 50) made on WC1 (10 h/month, 1 h/unit); Y (family Bought, price 20,
    cost 10, 60 days lead time) bought: 8 arrive from Acme on 2026-11-20. No stock, no history. Forecast
    Made 5, 15; Bought 4, 4."""
    frames = {
        "items": pd.DataFrame(
            {
                "sku": ["X", "Y"],
                "description": ["x", "y"],
                "family": ["Made", "Bought"],
                "uom": "unit",
                "unit_cost": [50.0, 10.0],
                "unit_price": [100.0, 20.0],
                "lead_time_days": [0, 60],
                "safety_stock": [0.0, 0.0],
            }
        ),
        "receipts": pd.DataFrame(
            {
                "order_id": ["PO1"],
                "sku": ["Y"],
                "qty": [8.0],
                "expected_date": [pd.Timestamp("2026-11-20")],
                "supplier": ["Acme"],
            }
        ),
        "work_centers": pd.DataFrame({"code": ["WC1"], "name": ["Assembly"], "hours_per_month": [10.0]}),
        "routings": pd.DataFrame({"sku": ["X"], "work_center": ["WC1"], "hours_per_unit": [1.0]}),
    }
    forecast = pd.DataFrame(
        {"family": ["Made", "Made", "Bought", "Bought"], "bucket": MONTHS * 2, "qty": [5.0, 15.0, 4.0, 4.0]}
    )
    return build_snapshot("test", AS_OF, frames), forecast


def made_snapshot(
    demand: list[float],
    *,
    hours: float = 10.0,
    stock: float = 0.0,
    production: list[float] | None = None,
    lead_time_days: int = 0,
) -> Snapshot:
    """One item A (price 100, cost 50: holding 2 % = 1 per unit-month) made on WC1 at 1 h a unit; open orders
    ``demand`` per month of MONTHS (mid-month), ERP production orders ``production`` per month."""
    orders = [(f"SO{k}", "A", q, f"{m}-20") for k, (m, q) in enumerate(zip(MONTHS, demand, strict=True)) if q]
    made = [
        (f"MO{k}", "A", q, f"{m}-20", "firm")
        for k, (m, q) in enumerate(zip(MONTHS, production or [0.0] * len(MONTHS), strict=True))
        if q
    ]
    frames = {
        "items": pd.DataFrame(
            {
                "sku": ["A"],
                "family": ["F"],
                "unit_cost": [50.0],
                "unit_price": [100.0],
                "lead_time_days": [lead_time_days],
            }
        ),
        "stock": pd.DataFrame({"sku": ["A"], "warehouse": ["WH"], "qty": [stock]}),
        "open_demand": pd.DataFrame(orders, columns=["order_id", "sku", "qty", "requested_date"]),
        "production": pd.DataFrame(made, columns=["order_id", "sku", "qty", "due_date", "state"]),
        "work_centers": pd.DataFrame({"code": ["WC1"], "name": ["Assembly"], "hours_per_month": [hours]}),
        "routings": pd.DataFrame({"sku": ["A"], "work_center": ["WC1"], "hours_per_unit": [1.0]}),
    }
    return build_snapshot("made", AS_OF, frames)

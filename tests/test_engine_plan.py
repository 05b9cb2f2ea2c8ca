"""The whole chain: build_plan on edge-case snapshots, weekly plans, and the workbook layout's columns."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.family_view import FAMILY_PLAN_COLUMNS
from sop_functions.plan import SKU_PLAN_COLUMNS, build_plan
from sop_functions.snapshot import Snapshot, build_snapshot
from workbooks import layout

AS_OF = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
ITEMS = pd.DataFrame(
    {
        "sku": ["A", "B"],
        "family": ["Bikes", "Bikes"],
        "unit_cost": [4, 5],
        "unit_price": [10, 12],
        "safety_stock": [0, 1],
    }
)


def snapshot(as_of: dt.datetime = AS_OF, **frames: pd.DataFrame) -> Snapshot:
    return build_snapshot("test", as_of, frames)


def forecast(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["family", "bucket", "qty"])


def test_empty_snapshot_gives_empty_plan_with_every_column() -> None:
    plan = build_plan(snapshot(), forecast())
    assert list(plan.sku_plan.columns) == list(SKU_PLAN_COLUMNS)
    assert list(plan.family_plan.columns) == list(FAMILY_PLAN_COLUMNS)
    assert plan.sku_plan.empty and plan.family_plan.empty and plan.top_gaps.empty and plan.family_totals.empty
    assert list(plan.beyond_horizon["count"]) == [0, 0, 0]
    assert plan.horizon.labels[1] == "2026-11" and len(plan.horizon.labels) == 19
    assert plan.as_of == AS_OF and plan.source == "test"


def test_items_only_plan_is_all_zeros_over_18_months() -> None:
    plan = build_plan(snapshot(items=ITEMS), forecast())
    assert len(plan.sku_plan) == 2 * 19
    assert len(plan.family_plan) == 19
    firm = [c for c in plan.sku_plan.columns if c.endswith("_firm") and not c.startswith("below_")]
    assert (plan.sku_plan[[*firm, "forecast", "orders"]].to_numpy() == 0).all()  # projected 0: cover 0, no shortage
    assert list(plan.family_plan["skus_below_safety_stock_firm"].head(2)) == [1, 1]  # B: 0 < safety stock 1
    assert plan.sku_plan["planned_production"].sum() == 0  # nothing is made: A and B have no BOM or routing
    assert plan.sku_plan.loc[plan.sku_plan["sku"] == "B", "planned_purchases"].sum() == 1.0  # up to safety stock


def test_forecast_for_an_unknown_family_is_reported_not_planned() -> None:
    plan = build_plan(
        snapshot(items=ITEMS),
        forecast(("Bikes", "2026-12", 10), ("Trikes", "2026-12", 7), ("Trikes", "2027-01", 0)),
    )
    unknown = plan.unknown_forecast_families
    assert list(unknown["family"]) == ["Trikes", "Trikes"]
    assert list(unknown["bucket"].astype(str)) == ["2026-12", "2027-01"]
    assert list(unknown["qty"]) == [7.0, 0.0]
    assert plan.family_plan["forecast"].sum() == 10.0  # equal split: A 5, B 5
    assert plan.sku_plan["forecast"].sum() == 10.0
    assert set(plan.family_plan["family"]) == {"Bikes"}


def test_invalid_forecast_fails_the_plan() -> None:
    with pytest.raises(ValueError, match="family Bikes, month 2026-12: quantity -1 is negative"):
        build_plan(snapshot(items=ITEMS), forecast(("Bikes", "2026-12", -1)))


def test_horizon_must_start_at_the_as_of_bucket() -> None:
    with pytest.raises(ValueError, match="not in the horizon's first bucket"):
        build_plan(snapshot(items=ITEMS), forecast(), Horizon.from_as_of(pd.Timestamp("2026-12-01")))


def test_weekly_plan_past_due_beyond_and_cumulative_gaps() -> None:
    # As of Wednesday 2026-11-25 (ISO 2026-W48), two weekly buckets: W48 and W49 (ends Sunday 2026-12-06).
    snap = snapshot(
        dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC),
        items=ITEMS.iloc[:1],
        stock=pd.DataFrame({"sku": ["A"], "warehouse": ["W"], "qty": [5]}),
        open_demand=pd.DataFrame(
            {"order_id": ["1", "2"], "sku": ["A", "A"], "qty": [6, 2], "requested_date": ["2026-11-20", "2026-12-01"]}
        ),
        receipts=pd.DataFrame({"order_id": ["P"], "sku": ["A"], "qty": [1], "expected_date": ["2026-12-07"]}),
    )
    horizon = Horizon.from_as_of(snap.as_of_date, periods=2, grain="week")
    plan = build_plan(snap, forecast(("Bikes", "2026-W48", 3), ("Bikes", "2026-W49", 4)), horizon)
    sku = plan.sku_plan
    assert list(sku["bucket"].astype(str)) == ["PAST_DUE", "2026-W48", "2026-W49"]
    assert list(sku["demand_firm"]) == [6.0, 3.0, 4.0]  # overdue order only; forecast 3; max(4, 2)
    assert list(sku["supply_firm"]) == [0.0, 0.0, 0.0]  # the receipt is after the horizon
    assert list(sku["projected_inventory_firm"]) == [-1.0, -4.0, -8.0]
    assert list(sku["shortage_units_firm"]) == [1.0, 4.0, 8.0]  # cumulative backlog
    assert list(sku["value_at_risk_firm"]) == [10.0, 40.0, 80.0]  # x unit price 10
    # lead time 0: the proposal covers W48 and W49 (the backlog too), PAST_DUE stays short (the past)
    assert list(sku["planned_purchases"]) == [0.0, 4.0, 4.0]
    assert list(sku["shortage_units_proposed"]) == [1.0, 0.0, 0.0]
    top = plan.top_gaps.iloc[0]
    assert (top["first_short_bucket_firm"], top["worst_bucket_firm"], top["months_short_firm"]) == (
        "PAST_DUE",
        "2026-W49",
        3,
    )
    totals = plan.family_totals.iloc[0]
    assert (totals["demand_proposed"], totals["supply_firm"], totals["worst_value_at_risk_proposed"]) == (
        13.0,
        0.0,
        10.0,
    )
    beyond = plan.beyond_horizon.set_index("entity")
    assert (beyond.loc["receipts", "count"], beyond.loc["receipts", "qty"]) == (1, 1.0)
    assert (beyond.loc["open_demand", "count"], beyond.loc["production", "count"]) == (0, 0)


def test_plan_is_immutable() -> None:
    plan = build_plan(snapshot(items=ITEMS), forecast())
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.source = "other"  # type: ignore[misc]


def test_plan_has_every_column_the_workbook_reads() -> None:
    plan = build_plan(snapshot(items=ITEMS), forecast())
    frames = {
        "tblDemand": plan.sku_plan,
        "tblSupply": plan.sku_plan,
        "tblInventory": plan.sku_plan,
        "tblPlan": plan.family_plan,
        "tblTopGaps": plan.top_gaps,
        "tblFamilyTotals": plan.family_totals,
        "tblPlannedOrders": plan.planned_orders,
    }
    for name, frame in frames.items():
        fields = [c.field for c in layout.owned_table(name).columns]
        assert set(fields) <= set(frame.columns), name


def test_plan_invariants_on_random_data() -> None:
    rng = np.random.default_rng(7)
    n = 300
    items = pd.DataFrame(
        {
            "sku": [f"S{i:04d}" for i in range(n)],
            "family": [f"F{i % 7}" for i in range(n)],
            "unit_cost": rng.uniform(1, 50, n),
            "unit_price": rng.uniform(50, 100, n),
            "safety_stock": rng.integers(0, 20, n),
        }
    )
    dates = pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(0, 700, 2000), unit="D")
    snap = snapshot(
        items=items,
        stock=pd.DataFrame({"sku": items["sku"], "warehouse": "W", "qty": rng.integers(-5, 100, n)}),
        open_demand=pd.DataFrame(
            {
                "order_id": np.arange(2000).astype(str),
                "sku": rng.choice(items["sku"], 2000),
                "qty": 1 + rng.integers(0, 9, 2000),
                "requested_date": dates,
            }
        ),
        shipments=pd.DataFrame(
            {
                "sku": rng.choice(items["sku"], 5000),
                "qty": rng.integers(-2, 20, 5000),
                "ship_date": pd.Timestamp("2025-06-01") + pd.to_timedelta(rng.integers(0, 530, 5000), unit="D"),
            }
        ),
    )
    horizon = Horizon.from_as_of(snap.as_of_date)
    fc = pd.DataFrame(
        [(f"F{f}", b, float(rng.integers(0, 500))) for f in range(7) for b in horizon.buckets],
        columns=["family", "bucket", "qty"],
    )
    plan = build_plan(snap, fc)
    sku = plan.sku_plan
    assert len(sku) == n * 19
    assert np.allclose(sku["independent_demand"], np.maximum(sku["forecast"], sku["orders"]))
    for layer in ("firm", "proposed"):
        flow = sku[f"opening_inventory_{layer}"] + sku[f"supply_{layer}"] - sku[f"demand_{layer}"]
        assert np.allclose(sku[f"projected_inventory_{layer}"], flow)
        nxt = sku.groupby("sku")[f"opening_inventory_{layer}"].shift(-1).dropna()
        assert np.allclose(nxt.to_numpy(), sku.loc[nxt.index, f"projected_inventory_{layer}"].to_numpy())
    assert plan.family_plan["forecast"].sum() == pytest.approx(fc["qty"].sum())  # shares sum to 1
    fam = plan.family_plan.set_index(["family", "bucket"])
    cols = ["shortage_units_firm", "excess_units_firm", "shortage_units_proposed", "value_at_risk_proposed"]
    sums = sku.groupby(["family", "bucket"], observed=True)[cols].sum()
    assert np.allclose(fam.loc[sums.index, cols], sums)
    # the proposal (lead time 0, no lot rules) never leaves a dated bucket short
    dated = sku[sku["bucket"].astype(str) != "PAST_DUE"]
    assert (dated["projected_inventory_proposed"] >= dated["safety_stock"] - 1e-6).all()
    assert plan.beyond_horizon.loc[0, "count"] == int((dates > horizon.end).sum())

"""The proposed supply: worked examples from outside sources and by hand.

- Odoo's master production schedule documentation: on hand 60, demand 75, safety stock 10, minimum 5,
  maximum 20: the suggested replenishment is 25, capped at 20.
- The textbook MPS "industrial pumps" example: on hand 64; forecast 30 for 4 weeks then 40 for 4; customer
  orders 33, 20, 10, 4, 2; lot size 70: MPS receipts in weeks 3, 5, 7 and 8, projected available balance
  31, 1, 41, 11, 41, 1, 31, 61.
- A three-level BOM with lead-time offsets, and a capacity-constrained proposal, computed by hand.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.capacity import available_capacity
from sop_functions.lots import LotError, LotRules
from sop_functions.plan import Plan, build_plan
from sop_functions.snapshot import Snapshot, build_snapshot


def _rows(plan: Plan, sku: str) -> pd.DataFrame:
    return plan.sku_plan[plan.sku_plan["sku"] == sku].set_index(
        plan.sku_plan["bucket"].astype(str)[plan.sku_plan["sku"] == sku]
    )


def test_odoo_mps_suggests_25_capped_at_20() -> None:
    as_of = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    items = pd.DataFrame(
        {"sku": ["P"], "family": ["F"], "unit_cost": [1.0], "unit_price": [2.0], "safety_stock": [10.0]}
    )
    stock = pd.DataFrame({"sku": ["P"], "warehouse": ["WH"], "qty": [60.0]})
    horizon = Horizon.from_as_of(as_of.date(), periods=1)
    forecast = pd.DataFrame({"family": ["F"], "bucket": ["2026-12"], "qty": [75.0]})
    uncapped = build_plan(build_snapshot("odoo", as_of, {"items": items, "stock": stock}), forecast, horizon)
    assert _rows(uncapped, "P").loc["2026-12", "planned_purchases"] == 25.0  # 75 + 10 - 60
    capped_items = items.assign(lot_min=5.0, lot_max=20.0)
    plan = build_plan(build_snapshot("odoo", as_of, {"items": capped_items, "stock": stock}), forecast, horizon)
    row = _rows(plan, "P").loc["2026-12"]
    assert row["planned_purchases"] == 20.0
    assert row["projected_inventory_proposed"] == 5.0  # below the safety stock of 10: not a shortage
    assert row["below_safety_stock_proposed"]


def test_textbook_mps_industrial_pumps_with_weekly_buckets() -> None:
    as_of = pd.Timestamp("2026-11-30")  # a Monday: week 1 is ISO week 2026-W49
    weeks = [as_of + pd.Timedelta(days=7 * k) for k in range(5)]
    frames = {
        "items": pd.DataFrame(
            {"sku": ["PUMP"], "family": ["Pumps"], "unit_cost": [100.0], "unit_price": [250.0], "lot_multiple": [70.0]}
        ),
        "stock": pd.DataFrame({"sku": ["PUMP"], "warehouse": ["WH"], "qty": [64.0]}),
        "open_demand": pd.DataFrame(
            {
                "order_id": [f"SO{k}" for k in range(5)],
                "sku": "PUMP",
                "qty": [33, 20, 10, 4, 2],
                "requested_date": weeks,
            }
        ),
    }
    snapshot = build_snapshot("textbook", dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC), frames)
    horizon = Horizon.from_as_of(as_of, periods=8, grain="week")
    forecast = pd.DataFrame({"family": "Pumps", "bucket": horizon.buckets, "qty": [30.0] * 4 + [40.0] * 4})
    plan = build_plan(snapshot, forecast, horizon)
    rows = plan.sku_plan.iloc[1:]  # weeks 1..8 (PAST_DUE first)
    receipts = rows["planned_purchases"].to_numpy()
    assert [k + 1 for k in np.nonzero(receipts)[0]] == [3, 5, 7, 8]
    assert set(receipts[receipts > 0]) == {70.0}
    assert rows["projected_inventory_proposed"].tolist() == [31, 1, 41, 11, 41, 1, 31, 61]


def test_lot_rules() -> None:
    rules = LotRules(
        np.array([5.0, 0.0, 0.0, 5.0]), np.array([0.0, 70.0, 0.0, 10.0]), np.array([np.inf, np.inf, 20.0, 30.0])
    )
    assert rules.size(np.array([2.0, 1.0, 25.0, 33.0])).tolist() == [5.0, 70.0, 20.0, 30.0]  # min, multiple, cap
    assert rules.size(np.array([0.0, 1e-12, -3.0, 0.0])).tolist() == [0.0, 0.0, 0.0, 0.0]  # nothing needed
    items = pd.DataFrame({"sku": ["A"], "lot_min": [10.0], "lot_multiple": [0.0], "lot_max": [4.0]})
    with pytest.raises(LotError, match=r"lot_max is below lot_min for A \(min 10, max 4\)"):
        LotRules.of(items, pd.Index(["A"]))


BOM_ITEMS = pd.DataFrame(
    {
        "sku": ["BIKE", "WHEEL", "SPOKE", "FRAME"],
        "family": ["Bikes", "Parts", "Parts", "Parts"],
        "unit_cost": [300.0, 20.0, 0.1, 50.0],
        "unit_price": [600.0, 40.0, 0.2, 90.0],
        "lead_time_days": [10, 5, 20, 0],
    }
)
BOM = pd.DataFrame(
    {"parent_sku": ["BIKE", "BIKE", "WHEEL"], "component_sku": ["WHEEL", "FRAME", "SPOKE"], "qty_per": [2.0, 1.0, 36.0]}
)


def three_level_snapshot() -> Snapshot:
    """BIKE <- 2 WHEEL (made, 5 days) <- 36 SPOKE (bought, 20 days); BIKE <- 1 FRAME (bought, no lead time)."""
    frames = {
        "items": BOM_ITEMS,
        "stock": pd.DataFrame({"sku": ["WHEEL", "SPOKE", "FRAME"], "warehouse": "WH", "qty": [50.0, 1000.0, 30.0]}),
        "production": pd.DataFrame(
            {"order_id": ["MO1"], "sku": ["BIKE"], "qty": [20.0], "due_date": ["2026-12-20"], "state": ["firm"]}
        ),
        "bom": BOM,
    }
    return build_snapshot("bom", dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), frames)


def test_multi_level_bom_dependent_demand_by_hand() -> None:
    snapshot = three_level_snapshot()
    months = ["2026-12", "2027-01", "2027-02"]
    forecast = pd.DataFrame({"family": "Bikes", "bucket": months, "qty": [0.0, 100.0, 100.0]})
    plan = build_plan(snapshot, forecast, Horizon.from_as_of(pd.Timestamp("2026-12-01"), periods=3))
    bike, wheel, spoke, frame = (_rows(plan, s) for s in ("BIKE", "WHEEL", "SPOKE", "FRAME"))
    # BIKE: MO1's 20 cover December; January and February are planned, released 10 days earlier (Dec, Jan)
    assert bike.loc[months, "planned_production"].tolist() == [0.0, 80.0, 100.0]
    # MO1 (firm, due 20 Dec, released 10 Dec) needs 40 wheels and 20 frames in December
    assert wheel.loc[months, "dependent_demand_firm"].tolist() == [40.0, 0.0, 0.0]
    assert frame.loc[months, "dependent_demand_firm"].tolist() == [20.0, 0.0, 0.0]
    # planned bikes: 80 (Jan, released Dec) and 100 (Feb, released Jan) -> 2 wheels and 1 frame each
    assert wheel.loc[months, "dependent_demand_proposed"].tolist() == [200.0, 200.0, 0.0]
    assert frame.loc[months, "dependent_demand_proposed"].tolist() == [100.0, 100.0, 0.0]
    # WHEEL: 50 on hand, so 150 then 200 are made, both released in December (5 days before the bucket)
    assert wheel.loc[months, "planned_production"].tolist() == [150.0, 200.0, 0.0]
    # SPOKE (level 2): 36 per planned wheel, all in December: 12,600 against 1,000; 20 days: arrives in Dec
    assert spoke.loc[months, "dependent_demand_proposed"].tolist() == [12600.0, 0.0, 0.0]
    assert spoke.loc[months, "planned_purchases"].tolist() == [11600.0, 0.0, 0.0]
    assert frame.loc[months, "planned_purchases"].tolist() == [70.0, 100.0, 0.0]
    assert (plan.sku_plan["shortage_units_proposed"] == 0).all()
    # the firm layer knows only MO1's needs: wheels 50 - 40 = 10 left, spokes untouched
    assert wheel.loc[months, "projected_inventory_firm"].tolist() == [10.0, 10.0, 10.0]
    assert spoke.loc[months, "demand_firm"].tolist() == [0.0, 0.0, 0.0]


def material_snapshot(levels: int) -> Snapshot:
    """P (lead 0) made of 2 C (bought, 60 days, 10 on hand); with ``levels=3``: P <- 1 S (made) <- 1 C, 4 on hand."""
    if levels == 2:
        items = pd.DataFrame({"sku": ["P", "C"], "family": ["F", "Parts"], "lead_time_days": [0, 60]})
        bom = pd.DataFrame({"parent_sku": ["P"], "component_sku": ["C"], "qty_per": [2.0]})
        stock = pd.DataFrame({"sku": ["C"], "warehouse": ["WH"], "qty": [10.0]})
    else:
        items = pd.DataFrame({"sku": ["P", "S", "C"], "family": ["F", "Parts", "Parts"], "lead_time_days": [0, 0, 60]})
        bom = pd.DataFrame({"parent_sku": ["P", "S"], "component_sku": ["S", "C"], "qty_per": [1.0, 1.0]})
        stock = pd.DataFrame({"sku": ["C"], "warehouse": ["WH"], "qty": [4.0]})
    items = items.assign(unit_cost=1.0, unit_price=2.0)
    frames = {"items": items, "bom": bom, "stock": stock}
    return build_snapshot("material", dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), frames)


def test_production_is_held_back_when_components_cannot_arrive() -> None:
    months = ["2026-12", "2027-01", "2027-02"]
    horizon = Horizon.from_as_of(pd.Timestamp("2026-12-01"), periods=3)
    forecast = pd.DataFrame({"family": "F", "bucket": months, "qty": [20.0, 0.0, 20.0]})
    plan = build_plan(material_snapshot(2), forecast, horizon)
    p, c = _rows(plan, "P"), _rows(plan, "C")
    # 20 P need 40 C in December, only 10 are there and more arrive from 30 January: make 5 (10 / 2)
    assert p.loc[months, "planned_production"].tolist() == [5.0, 15.0, 20.0]
    assert p.loc[months, "planned_by"].tolist() == ["held back", "netting", "netting"]
    assert p.loc["2026-12", "shortage_units_proposed"] == 15.0
    assert p.loc["2026-12", "why_short"] == "material: C"
    assert c.loc[months, "dependent_demand_proposed"].tolist() == [10.0, 30.0, 40.0]
    assert c.loc[months, "planned_purchases"].tolist() == [0.0, 30.0, 40.0]
    assert (c["shortage_units_proposed"] == 0).all()  # the component is not planned short: the parent waits
    from sop_functions.materials import material_shortages

    assert material_shortages(plan, material_snapshot(2)).empty  # nothing left short once the parent waits


def test_a_held_back_sub_assembly_holds_its_parent_back() -> None:
    months = ["2026-12", "2027-01"]
    horizon = Horizon.from_as_of(pd.Timestamp("2026-12-01"), periods=2)
    forecast = pd.DataFrame({"family": "F", "bucket": months, "qty": [10.0, 0.0]})
    plan = build_plan(material_snapshot(3), forecast, horizon)
    p, sub, c = _rows(plan, "P"), _rows(plan, "S"), _rows(plan, "C")
    # 4 C in December: 4 S, so 4 P; the 6 P short wait for January (C arrives from 30 January)
    assert p.loc[months, "planned_production"].tolist() == [4.0, 6.0]
    assert p.loc["2026-12", ["shortage_units_proposed", "why_short"]].tolist() == [6.0, "material: S"]
    assert sub.loc[months, "planned_production"].tolist() == [4.0, 6.0]
    assert c.loc[months, "planned_purchases"].tolist() == [0.0, 6.0]


def capacity_snapshot(hours: float | None) -> Snapshot:
    """X made on WC1 at 1 h a unit, 20 days of lead time; 8 on hand; orders of 5, 10 and 25."""
    as_of = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    return build_snapshot(
        "cap",
        as_of,
        {
            "items": pd.DataFrame(
                {"sku": ["X"], "family": ["Made"], "unit_cost": [50.0], "unit_price": [100.0], "lead_time_days": [20]}
            ),
            "stock": pd.DataFrame({"sku": ["X"], "warehouse": ["WH"], "qty": [8.0]}),
            "open_demand": pd.DataFrame(
                {
                    "order_id": ["A", "B", "C"],
                    "sku": "X",
                    "qty": [5.0, 10.0, 25.0],
                    "requested_date": ["2026-11-20", "2026-12-10", "2027-01-10"],
                }
            ),
            "work_centers": pd.DataFrame({"code": ["WC1"], "name": ["Assembly"], "hours_per_month": [hours]}),
            "routings": pd.DataFrame({"sku": ["X"], "work_center": ["WC1"], "hours_per_unit": [1.0]}),
        },
    )


def test_the_proposal_respects_capacity_and_lead_time() -> None:
    snapshot = capacity_snapshot(10.0)
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    plan = build_plan(snapshot, pd.DataFrame(columns=["family", "bucket", "qty"]), horizon)  # type: ignore[arg-type]
    assert plan.supply_method == "lp"
    x = _rows(plan, "X")
    months = ["2026-11", "2026-12", "2027-01"]
    assert x.loc[months, "projected_inventory_firm"].tolist() == [3.0, -7.0, -32.0]
    # nothing before December (16 Nov + 20 days = 6 Dec); at most 10 hours = 10 units a month
    assert x.loc[months, "planned_production"].tolist() == [0.0, 10.0, 10.0]
    assert x.loc[months, "projected_inventory_proposed"].tolist() == [3.0, 3.0, -12.0]
    assert x.loc["2027-01", "why_short"] == "capacity: WC1"
    load = plan.capacity_load.set_index("bucket")
    assert load.loc[months, "load_pct_proposed"].tolist() == [0.0, 100.0, 100.0]
    assert plan.top_gaps.loc[0, "why_short"] == "capacity: WC1 (1 SKU)"


def test_without_hours_the_proposal_nets_at_infinite_capacity_and_shows_the_load() -> None:
    snapshot = capacity_snapshot(None)
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    plan = build_plan(snapshot, pd.DataFrame(columns=["family", "bucket", "qty"]), horizon)  # type: ignore[arg-type]
    assert plan.supply_method == "netting"
    assert any("WC1" in note and "Capacity sheet" in note for note in plan.notes)
    x = _rows(plan, "X")
    assert x.loc[["2026-11", "2026-12", "2027-01"], "planned_production"].tolist() == [0.0, 7.0, 25.0]
    hours = available_capacity(snapshot.work_centers, pd.DataFrame({"work_center": ["WC1"], "hours_per_month": [10.0]}))  # type: ignore[attr-defined]
    constrained = build_plan(snapshot, pd.DataFrame(columns=["family", "bucket", "qty"]), horizon, capacity=hours)  # type: ignore[arg-type]
    assert constrained.supply_method == "lp"  # the workbook's hours make the LP run


def test_agreed_supply_replaces_the_proposal_where_typed() -> None:
    snapshot = capacity_snapshot(None)
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    agreed = pd.DataFrame({"family": ["Made", "Made"], "bucket": ["2026-12", "2027-01"], "qty": [12.0, None]})
    plan = build_plan(snapshot, pd.DataFrame(columns=["family", "bucket", "qty"]), horizon, agreed=agreed)  # type: ignore[arg-type]
    x = _rows(plan, "X")
    # December as agreed (12, not the 7 the netting wants); January blank: the netting nets what is left
    assert x.loc[["2026-12", "2027-01"], "planned_production"].tolist() == [12.0, 20.0]
    assert x.loc[["2026-12", "2027-01"], "planned_by"].tolist() == ["agreed", "netting"]

"""The constrained supply plan (HiGHS LP) on small cases whose optimum is computed by hand."""

from __future__ import annotations

import pytest

from sop_functions.supply_lp import Costs, SupplyPlanError, constrained_sku_plan, solve_supply_plan

from .support import capacity, items, routings, sku_plan

PRICES = items({"A": (50.0, 100.0), "B": (50.0, 100.0)})  # holding 2 % of 50 = 1 per unit-month
STEPS = routings([("A", "WC1", 1.0)])


def solve(demand: list[float], costs: Costs | None = None, hours: float = 10.0):  # type: ignore[no-untyped-def]
    plan = sku_plan({"A": {"demand": [0.0, *demand]}})
    return solve_supply_plan(plan, PRICES, STEPS, capacity({"WC1": hours}), costs)


def test_prebuilds_when_the_peak_month_exceeds_capacity() -> None:
    # demand 5, 15 with 10 h/month: make 10 + 10, carry 5 for a month (cost 5 x 1); being short costs 100/unit
    result = solve([5.0, 15.0])
    assert result.status == "Optimal"
    assert result.objective == pytest.approx(5.0)
    assert result.production["qty"].tolist() == pytest.approx([10.0, 10.0])
    assert result.products["stock"].tolist() == pytest.approx([5.0, 0.0])
    assert result.unmet.empty


def test_unmet_demand_names_the_binding_work_center() -> None:
    # demand 10, 15: at most 20 of 25 can be made; 5 short in Dec at 100 each
    result = solve([10.0, 15.0])
    assert result.objective == pytest.approx(500.0)
    assert result.unmet[["product", "bucket", "short"]].values.tolist() == [["A", "2026-12", pytest.approx(5.0)]]
    assert result.unmet["binding_work_centers"].tolist() == ["WC1"]
    wc = result.work_centers.set_index("bucket")
    assert wc["binding"].tolist() == [True, True]
    assert wc.loc["2026-12", "value_per_hour"] == pytest.approx(100.0)  # one more hour saves one short unit
    # Nov's hours are degenerate (demand = capacity): worth between 99 (pre-build one, holding 1) and 200
    assert 99.0 - 1e-6 <= wc.loc["2026-11", "value_per_hour"] <= 200.0 + 1e-6


def test_overtime_when_cheaper_than_shortage() -> None:
    # demand 10, 14; 10 h + at most 2 h overtime (60/h) per month. Best: overtime 2 h in both months and carry
    # 2 units: 4 x 60 + 2 x 1 = 242 (vs 2 h overtime in Dec only and 2 short: 120 + 200 = 320)
    result = solve([10.0, 14.0], Costs(overtime_cost=60.0, overtime_share=0.2))
    assert result.objective == pytest.approx(242.0)
    assert result.production["qty"].tolist() == pytest.approx([12.0, 12.0])
    assert result.work_centers["overtime_hours"].tolist() == pytest.approx([2.0, 2.0])


def test_existing_orders_use_capacity_and_opening_stock_counts() -> None:
    # 4 units already ordered in Nov take 4 of the 10 h; 3 in stock after PAST_DUE; demand 12, 10
    plan = sku_plan({"A": {"demand": [0, 12, 10], "supply": [0, 4, 0], "production": [0, 4, 0],
                           "projected_inventory": [3, -5, -15]}})  # fmt: skip
    result = solve_supply_plan(plan, PRICES, STEPS, capacity({"WC1": 10.0}))
    # Nov: 3 + 4 + make 5 = 12 (5 of the 6 free hours); Dec: make 10; nothing carried, nothing short
    assert result.objective == pytest.approx(0.0)
    assert result.work_centers["free_hours"].tolist() == [6.0, 10.0]
    assert result.production["qty"].tolist() == pytest.approx([5.0, 10.0])
    after = constrained_sku_plan(plan, result.production)
    assert after["projected_inventory"].tolist() == pytest.approx([3.0, 0.0, 0.0])


def test_family_level_aggregates_and_disaggregates_by_demand() -> None:
    plan = sku_plan({"A": {"demand": [0, 3, 9]}, "B": {"demand": [0, 2, 6]}})
    steps = routings([("A", "WC1", 1.0), ("B", "WC1", 1.0)])
    result = solve_supply_plan(plan, PRICES, steps, capacity({"WC1": 10.0}), level="family")
    # family demand 5, 15 -> same optimum as the single-SKU case; Nov's 10 split 3:2, Dec's 10 split 9:6
    assert result.objective == pytest.approx(5.0)
    by_sku = result.production.pivot(index="sku", columns="bucket", values="qty")
    assert by_sku.loc["A"].tolist() == pytest.approx([6.0, 6.0])
    assert by_sku.loc["B"].tolist() == pytest.approx([4.0, 4.0])


def test_clear_errors_before_solving() -> None:
    plan = sku_plan({"A": {"demand": [0, 1, 1]}, "B": {"production": [0, 5, 0]}})
    with pytest.raises(SupplyPlanError, match=r"production orders but no routing.*B"):
        solve_supply_plan(plan, PRICES, STEPS, capacity({"WC1": 10.0}))
    ok = sku_plan({"A": {"demand": [0, 1, 1]}})
    with pytest.raises(SupplyPlanError, match=r"negative capacity.*WC1"):
        solve_supply_plan(ok, PRICES, STEPS, capacity({"WC1": -1.0}))
    with pytest.raises(SupplyPlanError, match="unknown work center"):
        solve_supply_plan(ok, PRICES, routings([("A", "WC7", 1.0)]), capacity({"WC1": 1.0}))
    with pytest.raises(SupplyPlanError, match="holding_rate"):
        solve_supply_plan(ok, PRICES, STEPS, capacity({"WC1": 1.0}), Costs(holding_rate=-0.1))


def test_sme_l_solves_at_sku_level() -> None:
    """SME-L at SKU level reaches an optimum (its speed is measured in bench/, not asserted here)."""
    import datetime as dt

    from connectors.demo_data import SME_L, generate
    from sop_functions.capacity import available_capacity
    from sop_functions.plan import build_plan
    from sop_functions.snapshot import build_snapshot

    frames = generate(SME_L, 7, dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC))
    forecast = frames.pop("forecast")
    snapshot = build_snapshot("demo", dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC), frames)
    plan = build_plan(snapshot, forecast)
    cap = available_capacity(snapshot.work_centers)
    result = solve_supply_plan(plan.sku_plan, snapshot.items, snapshot.routings, cap, Costs(overtime_share=0.1))
    assert result.status == "Optimal"
    assert result.production["sku"].nunique() > 1000

"""The capacity-constrained proposal (HiGHS LP) on small cases whose optimum is computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.capacity import CapacityError
from sop_functions.plan import Plan, build_plan
from sop_functions.supply_lp import Costs, SupplyPlanError

from .support import AS_OF, MONTHS, made_snapshot

HORIZON = Horizon.from_as_of(AS_OF.date(), periods=2)
NO_FORECAST = pd.DataFrame(
    {"family": pd.Series(dtype=str), "bucket": pd.Series(dtype=str), "qty": pd.Series(dtype=float)}
)


def solve(demand: list[float], costs: Costs | None = None, **kwargs: object) -> Plan:
    plan = build_plan(made_snapshot(demand, **kwargs), NO_FORECAST, HORIZON, costs=costs)  # type: ignore[arg-type]
    assert plan.supply_method == "lp" and plan.capacity_plan is not None
    return plan


def a(plan: Plan, column: str) -> list[float]:
    rows = plan.sku_plan[plan.sku_plan["bucket"].astype(str) != "PAST_DUE"]
    return rows[column].tolist()


def test_prebuilds_when_the_peak_month_exceeds_capacity() -> None:
    # demand 5, 15 with 10 h/month: make 10 + 10, carry 5 for a month (cost 5 x 1); being short costs 100/unit
    plan = solve([5.0, 15.0])
    assert plan.capacity_plan is not None and plan.capacity_plan.objective == pytest.approx(5.0, abs=0.01)
    assert a(plan, "planned_production") == pytest.approx([10.0, 10.0])
    assert a(plan, "projected_inventory_proposed") == pytest.approx([5.0, 0.0])
    assert a(plan, "why_short") == ["", ""]


def test_unmet_demand_names_the_binding_work_center() -> None:
    # demand 10, 15: at most 20 of 25 can be made; 5 short in Dec at 100 each
    plan = solve([10.0, 15.0])
    assert plan.capacity_plan is not None and plan.capacity_plan.objective == pytest.approx(500.0, abs=0.01)
    assert a(plan, "shortage_units_proposed") == pytest.approx([0.0, 5.0])
    assert a(plan, "why_short") == ["", "capacity: WC1"]
    wc = plan.capacity_plan.work_centers.set_index("bucket")
    assert wc["binding"].tolist() == [True, True]
    assert wc.loc["2026-12", "value_per_hour"] == pytest.approx(100.0, abs=0.01)  # one more hour: one unit less short
    # Nov's hours are degenerate (demand = capacity): worth between 99 (pre-build one, holding 1) and 200
    assert 99.0 - 0.01 <= wc.loc["2026-11", "value_per_hour"] <= 200.0 + 0.01


def test_overtime_when_cheaper_than_shortage() -> None:
    # demand 10, 14; 10 h + at most 2 h overtime (60/h) per month. Best: overtime 2 h in both months and carry
    # 2 units: 4 x 60 + 2 x 1 = 242 (vs 2 h overtime in Dec only and 2 short: 120 + 200 = 320)
    plan = solve([10.0, 14.0], Costs(overtime_cost=60.0, overtime_share=0.2))
    assert plan.capacity_plan is not None and plan.capacity_plan.objective == pytest.approx(242.0, abs=0.01)
    assert a(plan, "planned_production") == pytest.approx([12.0, 12.0])
    assert plan.capacity_plan.work_centers["overtime_hours"].tolist() == pytest.approx([2.0, 2.0])


def test_existing_orders_use_capacity_and_opening_stock_counts() -> None:
    # 3 in stock; 4 units already ordered in Nov take 4 of the 10 h; demand 12, 10
    plan = solve([12.0, 10.0], stock=3.0, production=[4.0, 0.0])
    # Nov: 3 + 4 + make 5 = 12 (5 of the 6 free hours); Dec: make 10; nothing carried, nothing short
    assert plan.capacity_plan is not None and plan.capacity_plan.objective == pytest.approx(0.0, abs=0.01)
    assert plan.capacity_plan.work_centers["free_hours"].tolist() == [6.0, 10.0]
    assert a(plan, "planned_production") == pytest.approx([5.0, 10.0])
    load = plan.capacity_load.set_index("bucket")
    assert load.loc[MONTHS, "load_hours_firm"].tolist() == [4.0, 0.0]
    assert load.loc[MONTHS, "load_hours_proposed"].tolist() == [9.0, 10.0]


def test_invalid_inputs_are_clear_errors() -> None:
    with pytest.raises(SupplyPlanError, match="holding_rate must be a finite number >= 0"):
        solve([5.0, 5.0], Costs(holding_rate=-0.1))
    negative = pd.DataFrame({"work_center": ["WC1"], "name": [""], "hours_per_month": [-1.0]})
    with pytest.raises(CapacityError, match="negative capacity for work center"):
        build_plan(made_snapshot([5.0, 5.0]), NO_FORECAST, HORIZON, capacity=negative)


def test_sme_l_solves_at_sku_level() -> None:
    """SME-L at SKU level reaches an optimum (its speed is measured in bench/, not asserted here)."""
    import datetime as dt

    from connectors.demo_data import SME_L, generate
    from sop_functions.snapshot import build_snapshot

    frames = generate(SME_L, 7, dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC))
    forecast = frames.pop("forecast")
    snapshot = build_snapshot("demo", dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC), frames)
    plan = build_plan(snapshot, forecast, costs=Costs(overtime_share=0.1))
    assert plan.supply_method == "lp"
    assert plan.planned_orders["sku"].nunique() > 1000

"""Scenarios side by side and the plan in money, hand-computed on a two-item company (see support.tiny_snapshot)."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.capacity import available_capacity
from sop_functions.finance import family_finance
from sop_functions.scenarios import (
    Change,
    Scenario,
    ScenarioError,
    compare,
    compare_capacity,
    run_scenarios,
    scenarios_from_table,
)

from .support import AS_OF, MONTHS, items, sku_plan, tiny_snapshot


def test_finance_hand_computed() -> None:
    plan = sku_plan({"X": {"demand": [0, 5, 10], "projected_inventory": [10, 5, -5], "shortage_units": [0, 0, 5]}})
    plan["shortage_value"] = plan["shortage_units"] * 10
    plan["surplus_value"] = 0.0
    plan["gap_value"] = -plan["shortage_value"]
    fin = family_finance(plan, items({"X": (6.0, 10.0)}))
    assert fin["served_units"].tolist() == [0.0, 5.0, 5.0]  # Dec: 10 demanded, 5 of it short
    assert fin["revenue"].tolist() == [0.0, 50.0, 50.0]
    assert fin["cogs"].tolist() == [0.0, 30.0, 30.0]
    assert fin["gross_margin"].tolist() == [0.0, 20.0, 20.0]
    assert fin["inventory_value"].tolist() == [60.0, 30.0, 0.0]
    assert fin["gap_value"].tolist() == [0.0, 0.0, -50.0]
    assert fin["gross_margin_pct"].iloc[1] == pytest.approx(0.4)


def test_scenarios_side_by_side() -> None:
    snapshot, forecast = tiny_snapshot()
    horizon = Horizon.from_as_of(AS_OF.date(), periods=2)
    capacity = available_capacity(snapshot.work_centers)
    table = pd.DataFrame(
        {
            "scenario": ["Boom", "Half", "Lost Acme", ""],
            "change": ["Demand", "capacity", "Lost supplier", ""],
            "applies_to": ["Made", "WC1", "Acme", ""],
            "change_pct": [100.0, -50.0, None, None],
        }
    )
    scenarios = scenarios_from_table(table)
    assert [s.name for s in scenarios] == ["Boom", "Half", "Lost Acme"]
    results = run_scenarios(snapshot, forecast, capacity, scenarios, horizon)
    out = compare(results).set_index(["scenario", "family"])
    # Base: X made 10 + 10 for demand 5, 15 (5 pre-built); Y's 8 received cover 4 + 4
    assert out.loc[("Base", "Made"), ["served_units", "revenue", "gross_margin", "gap_value"]].tolist() == [
        20.0, 2000.0, 1000.0, 0.0
    ]  # fmt: skip
    assert out.loc[("Base", "Bought"), ["served_units", "revenue", "gross_margin"]].tolist() == [8.0, 160.0, 80.0]
    # Boom: demand 10, 30 but only 20 can be made: 20 short at the end, 2,000 of revenue at risk
    assert out.loc[("Boom", "Made"), ["demand", "served_units", "shortage_units", "gap_value"]].tolist() == [
        40.0, 20.0, 20.0, -2000.0
    ]  # fmt: skip
    # Half: 5 h/month makes 5 + 5 of 20: 10 short
    assert out.loc[("Half", "Made"), ["served_units", "revenue", "gap_value", "gap_value_vs_base"]].tolist() == [
        10.0, 1000.0, -1000.0, -1000.0
    ]  # fmt: skip
    # Lost Acme: Y gets nothing: 8 short (x 20)
    assert out.loc[("Lost Acme", "Bought"), ["served_units", "shortage_units", "gap_value"]].tolist() == [
        0.0, 8.0, -160.0
    ]  # fmt: skip
    assert out.loc[("Lost Acme", "Made"), "gap_value_vs_base"] == 0.0
    peaks = compare_capacity(results).set_index("scenario")
    # unconstrained load of X: 5, 15 h (Boom 10, 30) vs 10 h (Half: 5 h)
    assert peaks.loc["Base", "peak_overload_pct"] == pytest.approx(50.0)
    assert peaks.loc["Boom", "peak_overload_pct"] == pytest.approx(200.0)
    assert peaks.loc["Half", ["peak_overload_pct", "overloaded_months"]].tolist() == [pytest.approx(200.0), 1]
    assert results[0].finance["bucket"].astype(str).tolist()[:3] == ["PAST_DUE", *MONTHS]


def test_scenario_typos_are_errors() -> None:
    snapshot, forecast = tiny_snapshot()
    capacity = available_capacity(snapshot.work_centers)
    for change, match in (
        (Change("demand", "Mdae", 10), "no family 'Mdae'"),
        (Change("capacity", "WC9", 10), "no work center"),
        (Change("lost_supplier", "Acne"), "supplier 'Acne'"),
    ):
        with pytest.raises(ScenarioError, match=match):
            run_scenarios(snapshot, forecast, capacity, [Scenario("S", (change,))], constrained=False)
    bad = pd.DataFrame({"scenario": ["S"], "change": ["Weather"], "applies_to": ["*"], "change_pct": [1.0]})
    with pytest.raises(ScenarioError, match="Demand, Capacity or Lost supplier"):
        scenarios_from_table(bad)

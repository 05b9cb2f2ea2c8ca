"""Scenarios side by side and the plan in money, hand-computed on a two-item company (see support.tiny_snapshot)."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.capacity import available_capacity
from sop_functions.finance import family_finance
from sop_functions.plan import build_plan
from sop_functions.scenarios import (
    Change,
    Scenario,
    ScenarioError,
    compare,
    compare_capacity,
    run_scenarios,
    scenarios_from_table,
)

from .support import AS_OF, MONTHS, items, tiny_snapshot


def test_finance_hand_computed() -> None:
    labels = ["PAST_DUE", *MONTHS]
    plan = pd.DataFrame(
        {
            "sku": ["X"] * 3 + ["Z"] * 3,
            "family": "F",
            "bucket": pd.Categorical(labels * 2, categories=labels, ordered=True),
            "independent_demand": [0.0, 5.0, 10.0, 0.0, 2.0, 2.0],
            "demand_proposed": [0.0, 5.0, 10.0, 0.0, 10.0, 10.0],  # Z: 8 a month go to parents
            "projected_inventory_proposed": [10.0, 5.0, -5.0, 10.0, 0.0, -5.0],
            "shortage_units_proposed": [0.0, 0.0, 5.0, 0.0, 0.0, 5.0],
            "value_at_risk_proposed": [0.0, 0.0, 50.0, 0.0, 0.0, 0.0],
            "cash_tied_up_proposed": [60.0, 30.0, 0.0, 0.0, 0.0, 0.0],
        }
    )
    fin = family_finance(plan, items({"X": (6.0, 10.0), "Z": (1.0, 1.0)}))
    # X: Dec 10 demanded, 5 of it short; Z: 2 sold a month, its Dec backlog 5 is 1/5 sales (4 of 20 demanded)
    assert fin["served_units"].tolist() == [0.0, 5.0 + 2.0, 5.0 + 1.0]
    assert fin["revenue"].tolist() == [0.0, 52.0, 51.0]
    assert fin["cogs"].tolist() == [0.0, 32.0, 31.0]
    assert fin["gross_margin"].tolist() == [0.0, 20.0, 20.0]
    assert fin["inventory_value"].tolist() == [70.0, 30.0, 0.0]
    assert fin["value_at_risk_proposed"].tolist() == [0.0, 0.0, 50.0]
    assert fin["gross_margin_pct"].iloc[1] == pytest.approx(20 / 52)


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
    window = "value_at_risk_window_proposed"
    # Base: X made 10 + 10 for demand 5, 15 (5 pre-built); Y's 8 received cover 4 + 4
    assert out.loc[("Base", "Made"), ["served_units", "revenue", "gross_margin", window]].tolist() == [
        20.0, 2000.0, 1000.0, 0.0
    ]  # fmt: skip
    assert out.loc[("Base", "Bought"), ["served_units", "revenue", "gross_margin"]].tolist() == [8.0, 160.0, 80.0]
    # Boom: demand 10, 30 but only 20 can be made: 20 short in December, 2,000 of revenue at risk
    boom = out.loc[("Boom", "Made")]
    assert boom[["demand_proposed", "served_units", window, "first_short_bucket_proposed"]].tolist() == [
        40.0, 20.0, 2000.0, "2026-12"
    ]  # fmt: skip
    # Half: 5 h/month makes 5 + 5 of 20: 10 short
    assert out.loc[("Half", "Made"), ["served_units", "revenue", window, "value_at_risk_vs_base"]].tolist() == [
        10.0, 1000.0, 1000.0, 1000.0
    ]  # fmt: skip
    # Lost Acme: Y gets nothing and a new order takes 60 days: 4 short in Nov, 8 in Dec (x 20)
    assert out.loc[("Lost Acme", "Bought"), ["served_units", window]].tolist() == [0.0, 160.0]
    assert out.loc[("Lost Acme", "Made"), "value_at_risk_vs_base"] == 0.0
    # the Base column is the plan itself: the same numbers as a plan built alone
    alone = build_plan(snapshot, forecast, horizon, capacity=capacity)
    assert results[0].plan.family_timing.equals(alone.family_timing)
    peaks = compare_capacity(results).set_index("scenario")
    assert peaks.loc["Base", "peak_load_pct"] == pytest.approx(100.0)  # the pre-build fills November
    assert peaks.loc["Half", ["peak_load_hours", "peak_load_pct"]].tolist() == [
        pytest.approx(5.0),
        pytest.approx(100.0),
    ]
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
            run_scenarios(snapshot, forecast, capacity, [Scenario("S", (change,))])
    bad = pd.DataFrame({"scenario": ["S"], "change": ["Weather"], "applies_to": ["*"], "change_pct": [1.0]})
    with pytest.raises(ScenarioError, match="Demand, Capacity or Lost supplier"):
        scenarios_from_table(bad)

"""Rough-cut capacity and the material check against hand-computed numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.capacity import CapacityError, available_capacity, capacity_load, planned_production
from sop_functions.materials import BomError, explode, material_check, material_shortages

from .support import AS_OF, BUCKETS, MONTHS, capacity, routings, sku_plan


def test_capacity_load_hand_computed() -> None:
    # A: 2 overdue (counts in the first month) + 10 in Nov; B: 4 in Nov, 6 in Dec
    production = pd.DataFrame(
        {"sku": ["A", "A", "A", "B", "B"], "bucket": ["PAST_DUE", "2026-11", "2026-12", "2026-11", "2026-12"],
         "qty": [2.0, 10.0, 0.0, 4.0, 6.0]}
    )  # fmt: skip
    steps = routings([("A", "WC1", 2.0), ("A", "WC2", 0.5), ("B", "WC1", 1.0)])
    erp = pd.DataFrame({"code": ["WC1", "WC2"], "name": ["Saw", "Paint"], "hours_per_month": [20.0, None]})
    cap = available_capacity(erp, pd.DataFrame({"work_center": ["WC2", "WC1"], "hours_per_month": [10.0, 999.0]}))
    assert cap.set_index("work_center")["hours_per_month"].to_dict() == {"WC1": 20.0, "WC2": 10.0}  # ERP wins
    assert cap.set_index("work_center")["source"].to_dict() == {"WC1": "erp", "WC2": "workbook"}
    load = capacity_load(production, steps, cap, MONTHS).set_index(["work_center", "bucket"])
    # WC1 Nov = (2 + 10) x 2 + 4 x 1 = 28; Dec = 6 x 1 = 6. WC2 Nov = 12 x 0.5 = 6; Dec = 0
    assert load["load_hours"].to_dict() == {
        ("WC1", "2026-11"): 28.0, ("WC1", "2026-12"): 6.0, ("WC2", "2026-11"): 6.0, ("WC2", "2026-12"): 0.0
    }  # fmt: skip
    assert load.loc[("WC1", "2026-11"), "overload_pct"] == pytest.approx(0.4)  # 28 / 20 - 1
    assert load.loc[("WC1", "2026-12"), "overload_pct"] == pytest.approx(-0.7)
    assert load.loc[("WC2", "2026-11"), "overload_pct"] == pytest.approx(-0.4)
    weekly = capacity_load(production, steps, cap, MONTHS, months_per_bucket=0.5)
    assert weekly["available_hours"].tolist() == [10.0, 10.0, 5.0, 5.0]


def test_capacity_errors_name_the_work_center() -> None:
    production = pd.DataFrame({"sku": ["A"], "bucket": ["2026-11"], "qty": [1.0]})
    erp = pd.DataFrame({"code": ["WC1"], "name": [""], "hours_per_month": [None]})
    with pytest.raises(CapacityError, match=r"WC1.*Capacity sheet"):
        capacity_load(production, routings([("A", "WC1", 1.0)]), available_capacity(erp), MONTHS)
    with pytest.raises(CapacityError, match=r"unknown work center.*WC9"):
        capacity_load(production, routings([("A", "WC9", 1.0)]), available_capacity(erp), MONTHS)
    with pytest.raises(CapacityError, match=">= 0"):
        available_capacity(erp, pd.DataFrame({"work_center": ["WC1"], "hours_per_month": [-5.0]}))
    zero = capacity_load(production, routings([("A", "WC1", 1.0)]), capacity({"WC1": 0.0}), MONTHS)
    assert math.isinf(zero["overload_pct"].iloc[0]) and zero["overload_pct"].iloc[1] == 0.0


def test_planned_production_is_orders_plus_backlog_growth() -> None:
    plan = sku_plan(
        {
            "A": {"production": [0, 2, 0], "shortage_units": [4, 5, 3]},
            "Z": {"production": [0, 9, 9]},  # no routing: bought, loads nothing
        }
    )
    out = planned_production(plan, routings([("A", "WC1", 1.0)]))
    # running max of shortage: 4, 5, 5 -> extra 4 (overdue: to Nov), 1, 0; Nov = 2 orders + 4 + 1
    assert out["sku"].tolist() == ["A", "A"]
    assert out["bucket"].astype(str).tolist() == MONTHS
    assert out["qty"].tolist() == [7.0, 0.0]
    assert out["extra"].tolist() == [5.0, 0.0]


def test_material_check_hand_computed_multi_level() -> None:
    horizon = Horizon.from_as_of(AS_OF.date(), periods=2)
    production = pd.DataFrame({"sku": ["P", "P"], "bucket": MONTHS, "qty": [10.0, 20.0]})
    bom = pd.DataFrame({"parent_sku": ["P", "C"], "component_sku": ["C", "R"], "qty_per": [2.0, 3.0]})
    plan = sku_plan({"C": {"projected_inventory": [30, 30, 30]}, "R": {"projected_inventory": [100, 100, 100]}})
    items = pd.DataFrame({"sku": ["C", "R", "P"], "lead_time_days": [10, 60, 0]})
    need = explode(production, bom).set_index(["component", "bucket"])["qty"]
    assert need.to_dict() == {("C", "2026-11"): 20.0, ("C", "2026-12"): 40.0, ("R", "2026-11"): 60.0,
                              ("R", "2026-12"): 120.0}  # fmt: skip
    check = material_check(plan, production, bom, items, horizon, pd.Timestamp(AS_OF.date()))
    c = check[check["component"] == "C"]
    assert c["projected_available"].tolist() == [30.0, 10.0, -30.0]  # 30 - cumulative 20, 60
    assert c["within_lead_time"].tolist() == [True, True, False]  # Dec 1 is after Nov 16 + 10 days
    r = check[check["component"] == "R"]
    assert r["projected_available"].tolist() == [100.0, 40.0, -80.0]
    assert r["within_lead_time"].tolist() == [True, True, True]  # Nov 16 + 60 days = Jan 15
    short = material_shortages(check, bom)
    assert short[["component", "first_short_bucket", "short_units", "within_lead_time", "parents"]].values.tolist() == [
        ["R", "2026-12", 80.0, True, "C"],
        ["C", "2026-12", 30.0, False, "P"],
    ]
    assert horizon.labels == BUCKETS


def test_bom_cycle_is_an_error() -> None:
    bom = pd.DataFrame({"parent_sku": ["A", "B"], "component_sku": ["B", "A"], "qty_per": [1.0, 1.0]})
    with pytest.raises(BomError, match="own parent"):
        explode(pd.DataFrame({"sku": ["A"], "bucket": ["2026-11"], "qty": [1.0]}), bom)

"""Rough-cut capacity in both layers and BOM levels, against hand-computed numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sop_functions.bom import BomError, low_level_codes
from sop_functions.buckets import Horizon
from sop_functions.capacity import CapacityError, available_capacity, capacity_peaks, layer_load, load_hours

from .support import AS_OF, MONTHS, capacity, routings


def test_available_capacity_erp_first_then_workbook() -> None:
    erp = pd.DataFrame({"code": ["WC1", "WC2"], "name": ["Saw", "Paint"], "hours_per_month": [20.0, None]})
    cap = available_capacity(erp, pd.DataFrame({"work_center": ["WC2", "WC1"], "hours_per_month": [10.0, 999.0]}))
    assert cap.set_index("work_center")["hours_per_month"].to_dict() == {"WC1": 20.0, "WC2": 10.0}  # ERP wins
    assert cap.set_index("work_center")["source"].to_dict() == {"WC1": "erp", "WC2": "workbook"}
    with pytest.raises(CapacityError, match=">= 0"):
        available_capacity(erp, pd.DataFrame({"work_center": ["WC1"], "hours_per_month": [-5.0]}))
    with pytest.raises(CapacityError, match="more than once: WC2"):
        available_capacity(erp, pd.DataFrame({"work_center": ["WC2", "WC2"], "hours_per_month": [1.0, 2.0]}))


def test_load_hours_hand_computed() -> None:
    # A: 2 overdue (counts in the first month) + 10 in Nov; B: 4 in Nov, 6 in Dec
    production = pd.DataFrame(
        {"sku": ["A", "A", "A", "B", "B"], "bucket": ["PAST_DUE", "2026-11", "2026-12", "2026-11", "2026-12"],
         "qty": [2.0, 10.0, 0.0, 4.0, 6.0]}
    )  # fmt: skip
    steps = routings([("A", "WC1", 2.0), ("A", "WC2", 0.5), ("B", "WC1", 1.0)])
    load = load_hours(production, steps, ["WC1", "WC2"], MONTHS)
    # WC1 Nov = (2 + 10) x 2 + 4 x 1 = 28; Dec = 6 x 1 = 6. WC2 Nov = 12 x 0.5 = 6; Dec = 0
    assert load.tolist() == [[28.0, 6.0], [6.0, 0.0]]


def test_layer_load_firm_and_proposed_against_hours() -> None:
    horizon = Horizon.from_as_of(AS_OF.date(), periods=2)
    plan = pd.DataFrame(
        {
            "sku": ["A"] * 3,
            "bucket": pd.Categorical(["PAST_DUE", *MONTHS], categories=horizon.labels, ordered=True),
            "production": [0.0, 4.0, 0.0],
            "planned_production": [0.0, 6.0, 30.0],
        }
    )
    cap = pd.concat([capacity({"WC1": 20.0}), capacity({"WC2": float("nan")})], ignore_index=True)
    steps = routings([("A", "WC1", 1.0), ("A", "WC2", 1.0)])
    load = layer_load(plan, steps, cap, horizon).set_index(["work_center", "bucket"])
    assert load.loc["WC1", "load_hours_firm"].tolist() == [4.0, 0.0]
    assert load.loc["WC1", "load_hours_proposed"].tolist() == [10.0, 30.0]
    assert load.loc["WC1", "load_pct_proposed"].tolist() == [50.0, 150.0]
    assert load.loc["WC2", "load_pct_proposed"].isna().all()  # hours unknown: load shown, % unknown
    peaks = capacity_peaks(load.reset_index()).set_index("work_center")
    assert peaks.loc["WC1", ["peak_load_hours", "peak_load_pct", "overloaded_months"]].tolist() == [30.0, 150.0, 1]
    zero = layer_load(plan, routings([("A", "WC1", 1.0)]), capacity({"WC1": 0.0}), horizon)
    assert math.isinf(zero["load_pct_proposed"].iloc[0])
    with pytest.raises(CapacityError, match=r"unknown work center.*WC9"):
        layer_load(plan, routings([("A", "WC9", 1.0)]), cap, horizon)


def test_low_level_codes_and_cycles() -> None:
    skus = pd.Index(["BIKE", "WHEEL", "SPOKE", "NUT"])
    bom = pd.DataFrame(
        {"parent_sku": ["BIKE", "WHEEL", "BIKE", "SPOKE"], "component_sku": ["WHEEL", "SPOKE", "NUT", "NUT"],
         "qty_per": 1.0}
    )  # fmt: skip
    assert low_level_codes(skus, bom).tolist() == [0, 1, 2, 3]  # NUT: deepest use (under SPOKE) wins
    cycle = pd.DataFrame({"parent_sku": ["A", "B"], "component_sku": ["B", "A"], "qty_per": [1.0, 1.0]})
    with pytest.raises(BomError, match="own parent"):
        low_level_codes(pd.Index(["A", "B"]), cycle)

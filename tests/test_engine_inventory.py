"""Inventory: projected balance, safety stock flag, months of cover and its edge cases, family view."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.inventory import cover_months, family_inventory, forward_demand, project

HORIZON = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
LABELS = ["PAST_DUE", "2026-11", "2026-12", "2027-01"]
ITEMS = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F"] * 3, "safety_stock": [10.0, 0.0, 25.0]})
STOCK = pd.DataFrame({"sku": ["A", "A", "C"], "warehouse": ["W1", "W2", "W1"], "qty": [-5.0, 25.0, 30.0]})


def flows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
            "family": ["F"] * 12,
            "bucket": pd.Categorical(LABELS * 3, dtype=HORIZON.dtype),
            "demand": [10, 0, 0, 0, 0, 6, 3, 9, 0, 6, 3, 9],
            "supply": [0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0],
        }
    ).astype({"demand": float, "supply": float})


@pytest.fixture(scope="module")
def projected() -> pd.DataFrame:
    return project(flows(), STOCK, ITEMS, HORIZON)


def column(frame: pd.DataFrame, sku: str, name: str) -> list[float]:
    return list(frame.loc[frame["sku"] == sku, name])


def test_projection_opens_with_on_hand_over_warehouses(projected: pd.DataFrame) -> None:
    # A: on hand -5 + 25 = 20 (negative stock kept); B: no stock row, 0; C: 30.
    assert column(projected, "A", "opening_inventory") == [20.0, 10.0, 10.0, 10.0]
    assert column(projected, "A", "projected_inventory") == [10.0, 10.0, 10.0, 10.0]
    assert column(projected, "B", "opening_inventory") == [0.0, 0.0, -6.0, 3.0]
    assert column(projected, "B", "projected_inventory") == [0.0, -6.0, 3.0, -6.0]
    assert column(projected, "C", "projected_inventory") == [30.0, 24.0, 21.0, 12.0]


def test_below_safety_stock_is_strict(projected: pd.DataFrame) -> None:
    assert column(projected, "A", "below_safety_stock") == [False] * 4  # 10 is not below 10
    assert column(projected, "B", "below_safety_stock") == [False, True, False, True]
    assert column(projected, "C", "below_safety_stock") == [False, True, True, True]
    assert column(projected, "C", "safety_stock") == [25.0] * 4


def test_cover_uses_the_next_three_buckets(projected: pd.DataFrame) -> None:
    # C: 30 / mean(6, 3, 9); 24 / mean(3, 9); 21 / 9; last bucket: 12 / its own 9.
    assert column(projected, "C", "cover_months") == pytest.approx([5.0, 4.0, 21 / 9, 12 / 9])


def test_cover_edge_cases(projected: pd.DataFrame) -> None:
    # B: projected 0 or negative -> 0; 3 / next demand 9.
    assert column(projected, "B", "cover_months") == pytest.approx([0.0, 0.0, 1 / 3, 0.0])
    # A: stock but no demand ahead (and none in the last bucket itself) -> +inf.
    assert all(math.isinf(c) and c > 0 for c in column(projected, "A", "cover_months"))


def test_cover_months_in_a_weekly_plan() -> None:
    # 14 units over 7 a week = 2 weeks = 14 days = 14 / 30.436875 months (365.2425 / 12 days a month).
    weekly = Horizon.from_as_of(pd.Timestamp("2026-11-25"), grain="week")
    got = cover_months(np.array([14.0, 0.0, 5.0]), np.array([7.0, 0.0, 0.0]), weekly.months_per_bucket)
    assert list(got) == pytest.approx([14 / 30.436875, 0.0, math.inf])


def test_forward_demand_shortens_at_the_horizon_end() -> None:
    frame = pd.DataFrame({"key": ["x"] * 5, "demand": [1.0, 2.0, 4.0, 6.0, 8.0]})
    assert list(forward_demand(frame, "key")) == pytest.approx([4.0, 6.0, 7.0, 8.0, 8.0])


def test_family_inventory_sums_and_recomputes_cover(projected: pd.DataFrame) -> None:
    got = family_inventory(projected, HORIZON)
    assert list(got["bucket"]) == LABELS
    assert list(got["projected_inventory"]) == [40.0, 28.0, 34.0, 16.0]
    assert list(got["demand"]) == [10.0, 12.0, 6.0, 18.0]
    assert list(got["safety_stock"]) == [35.0] * 4
    assert list(got["skus_below_safety_stock"]) == [0, 2, 1, 2]
    assert list(got["below_safety_stock"]) == [False, True, True, True]
    # 40 / mean(12, 6, 18); 28 / mean(6, 18); 34 / 18; last: 16 / 18.
    assert list(got["cover_months"]) == pytest.approx([40 / 12, 28 / 12, 34 / 18, 16 / 18])

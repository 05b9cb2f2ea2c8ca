"""Inventory: the projected balance of a layer, months of cover and its edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.inventory import cover_months, forward_demand, on_hand, project

STOCK = pd.DataFrame({"sku": ["A", "A", "C"], "warehouse": ["W1", "W2", "W1"], "qty": [-5.0, 25.0, 30.0]})
DEMAND = np.array([[10.0, 0, 0, 0], [0, 6, 3, 9], [0, 6, 3, 9]])
SUPPLY = np.array([[0.0, 0, 0, 0], [0, 0, 12, 0], [0, 0, 0, 0]])


def test_on_hand_sums_warehouses_and_keeps_negative_stock() -> None:
    assert on_hand(STOCK).to_dict() == {"A": 20.0, "C": 30.0}  # -5 + 25


def test_projection_opens_with_on_hand_and_carries_over() -> None:
    opening, projected = project(np.array([20.0, 0.0, 30.0]), SUPPLY, DEMAND)
    assert opening.tolist() == [[20, 10, 10, 10], [0, 0, -6, 3], [30, 30, 24, 21]]
    assert projected.tolist() == [[10, 10, 10, 10], [0, -6, 3, -6], [30, 24, 21, 12]]


def test_cover_uses_the_next_three_buckets() -> None:
    _, projected = project(np.array([20.0, 0.0, 30.0]), SUPPLY, DEMAND)
    cover = cover_months(np.maximum(projected, 0), forward_demand(DEMAND), 1.0)
    # C: 30 / mean(6, 3, 9); 24 / mean(3, 9); 21 / 9; last bucket: 12 / its own 9.
    assert cover[2].tolist() == pytest.approx([5.0, 4.0, 21 / 9, 12 / 9])
    # B: nothing in stock -> 0; 3 / next demand 9.
    assert cover[1].tolist() == pytest.approx([0.0, 0.0, 1 / 3, 0.0])
    # A: stock but no demand ahead (and none in the last bucket itself) -> +inf.
    assert all(math.isinf(c) and c > 0 for c in cover[0])


def test_cover_months_in_a_weekly_plan() -> None:
    # 14 units over 7 a week = 2 weeks = 14 days = 14 / 30.436875 months (365.2425 / 12 days a month).
    weekly = Horizon.from_as_of(pd.Timestamp("2026-11-25"), grain="week")
    got = cover_months(np.array([14.0, 0.0, 5.0]), np.array([7.0, 0.0, 0.0]), weekly.months_per_bucket)
    assert list(got) == pytest.approx([14 / 30.436875, 0.0, math.inf])


def test_forward_demand_shortens_at_the_horizon_end() -> None:
    assert forward_demand(np.array([[1.0, 2.0, 4.0, 6.0, 8.0]]))[0].tolist() == pytest.approx([4, 6, 7, 8, 8])

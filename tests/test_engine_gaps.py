"""Gaps: shortage, surplus, sign convention, money, family sums without netting, top gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_functions.gaps import family_gaps, sku_gaps, top_gaps

ITEMS = pd.DataFrame({"sku": ["R", "B"], "unit_cost": [100.0, 120.0], "unit_price": [250.0, 300.0]})


def inventory() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["R", "R", "R", "B", "B", "B"],
            "family": ["Bikes"] * 6,
            "bucket": ["m1", "m2", "m3"] * 2,
            "projected_inventory": [-5.0, 2.0, 0.0, 10.0, 15.0, 3.0],
            "safety_stock": [3.0, 3.0, 3.0, 5.0, 5.0, 5.0],
        }
    )


def test_sku_gaps_sign_convention_and_money() -> None:
    got = sku_gaps(inventory(), ITEMS)
    assert list(got["shortage_units"]) == [5.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert list(got["surplus_units"]) == [0.0, 0.0, 0.0, 5.0, 10.0, 0.0]  # 2 and 3 are below safety stock
    assert list(got["gap_units"]) == [-5.0, 0.0, 0.0, 5.0, 10.0, 0.0]  # negative = short
    assert list(got["shortage_value"]) == [1250.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # 5 x price 250
    assert list(got["surplus_value"]) == [0.0, 0.0, 0.0, 600.0, 1200.0, 0.0]  # 5 and 10 x cost 120
    assert list(got["gap_value"]) == [-1250.0, 0.0, 0.0, 600.0, 1200.0, 0.0]
    assert not np.signbit(got["shortage_units"].to_numpy()).any()  # no -0.0 shown as "-0" in Excel


def test_family_gaps_are_sums_of_sku_gaps_without_netting() -> None:
    got = family_gaps(sku_gaps(inventory(), ITEMS)).set_index("bucket")
    # m1: R is 5 short while B holds 5 surplus: the family is still 5 short (not 0).
    assert got.loc["m1", "shortage_units"] == 5.0
    assert got.loc["m1", "surplus_units"] == 5.0
    assert got.loc["m1", "gap_units"] == 0.0
    assert got.loc["m1", "gap_value"] == -650.0  # 600 of cash tied up - 1250 of revenue at risk
    assert list(got["surplus_units"]) == [5.0, 10.0, 0.0]


def test_top_gaps_ranks_each_family_once_at_its_worst_bucket() -> None:
    family_plan = pd.DataFrame(
        {
            "family": ["A", "A", "B", "B", "C"],
            "bucket": ["m1", "m2", "m1", "m2", "m1"],
            "gap_units": [-1.0, -2.0, 4.0, -3.0, -2.0],
            "gap_value": [-100.0, -300.0, 400.0, -300.0, -50.0],
        }
    )
    got = top_gaps(family_plan)
    assert list(got.columns) == ["rank", "family", "bucket", "gap_units", "gap_value"]
    assert list(got["rank"]) == [1, 2, 3]
    assert list(zip(got["family"], got["bucket"], strict=True)) == [("A", "m2"), ("B", "m2"), ("C", "m1")]
    assert list(got["gap_value"]) == [-300.0, -300.0, -50.0]
    assert list(top_gaps(family_plan, n=2)["family"]) == ["A", "B"]
    assert top_gaps(family_plan[family_plan["gap_value"] > 0]).empty

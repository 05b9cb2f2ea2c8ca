"""Consensus demand (baseline + overrides, consumed by orders) and accuracy metrics against hand-computed numbers."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from sop_functions.accuracy import accuracy, family_actuals, lag_months
from sop_functions.buckets import Horizon
from sop_functions.consensus import CONSENSUS_COLUMNS, consensus_demand, family_orders, validate_overrides

HORIZON = Horizon.from_as_of(dt.date(2026, 11, 25), periods=3)  # 2026-11 .. 2027-01


def _baseline() -> pd.DataFrame:
    return pd.DataFrame(
        [("Bikes", m, 100.0) for m in HORIZON.buckets] + [("Locks", m, 50.0) for m in HORIZON.buckets],
        columns=["family", "bucket", "qty"],
    )


def test_consensus_shows_where_each_number_comes_from() -> None:
    overrides = pd.DataFrame(
        [
            ("Bikes", "2026-11", "absolute", 80),
            ("Bikes", "2026-12", "percent", 10),
            ("Locks", "2027-1", "percent", -100),
        ],
        columns=["family", "bucket", "kind", "value"],
    )
    orders = pd.DataFrame(
        [("Bikes", "PAST_DUE", 7.0), ("Bikes", "2026-11", 90.0), ("Bikes", "2026-12", 20.0), ("Locks", "2027-01", 5.0)],
        columns=["family", "bucket", "orders"],
    )
    out = consensus_demand(_baseline(), overrides, orders, HORIZON)
    assert tuple(out.columns) == CONSENSUS_COLUMNS
    rows = out.assign(bucket=out["bucket"].astype(str)).values.tolist()
    assert math.isnan(rows[0][4]) and math.isnan(rows[3][4])  # no override value
    for row in rows:
        del row[4]
    assert rows[:4] == [
        ["Bikes", "PAST_DUE", 0.0, "", 0.0, 7.0, 7.0, "orders"],
        ["Bikes", "2026-11", 100.0, "absolute", 80.0, 90.0, 90.0, "orders"],
        ["Bikes", "2026-12", 100.0, "percent", pytest.approx(110.0), 20.0, pytest.approx(110.0), "override"],
        ["Bikes", "2027-01", 100.0, "", 100.0, 0.0, 100.0, "baseline"],
    ]
    assert out["override_value"].iloc[2] == 10.0
    locks = out[out["family"] == "Locks"].set_index(out["bucket"].astype(str)[out["family"] == "Locks"])
    assert locks.loc["2027-01", ["consensus", "demand", "source"]].tolist() == [0.0, 5.0, "orders"]


def test_bad_overrides_are_all_reported() -> None:
    bad = pd.DataFrame(
        [
            ("Bikes", "2026-11", "absolute", -1),
            ("Bikes", "2026-12", "percent", -150),
            ("Bikes", "2027-01", "double", 2),
            ("Bikes", "2030-01", "absolute", 1),
            ("", "2026-11", "absolute", 1),
            ("Locks", "2026-11", "absolute", "many"),
            ("Locks", "2026-12", "absolute", 1),
            ("Locks", "2026-12", "percent", 1),
        ],
        columns=["family", "bucket", "kind", "value"],
    )
    with pytest.raises(ValueError) as exc:
        validate_overrides(bad, HORIZON)
    assert str(exc.value).splitlines() == [
        "invalid overrides:",
        "  - family Bikes, month 2026-11: absolute override -1 is negative",
        "  - family Bikes, month 2026-12: percent override -150 would make demand negative (below -100 %)",
        "  - family Bikes, month 2027-01: override kind 'double' is not 'absolute' or 'percent'",
        "  - family Bikes, month 2030-01: month 2030-01 is outside the horizon 2026-11 .. 2027-01",
        "  - family ?, month 2026-11: family name missing",
        "  - family Locks, month 2026-11: override value 'many' is not a number",
        "  - family Locks, month 2026-12: overridden more than once",
    ]


def test_family_orders_bucket_like_the_plan() -> None:
    items = pd.DataFrame({"sku": ["B1", "B2", "L1"], "family": ["Bikes", "Bikes", "Locks"]})
    open_demand = pd.DataFrame(
        {
            "sku": ["B1", "B2", "L1", "B1"],
            "qty": [5.0, 3.0, 4.0, 2.0],
            "requested_date": pd.to_datetime(["2026-11-01", "2026-11-30", "2026-12-15", "2030-01-01"]),
        }
    )
    out = family_orders(open_demand, items, HORIZON, pd.Timestamp("2026-11-25"))
    table = out.set_index(["family", "bucket"])["orders"]
    assert table[("Bikes", "PAST_DUE")] == 5.0 and table[("Bikes", "2026-11")] == 3.0
    assert table[("Locks", "2026-12")] == 4.0 and table.sum() == 12.0  # 2030 is beyond the horizon


def test_accuracy_against_hand_computed_numbers() -> None:
    versions = pd.DataFrame(
        [
            ("2026-08", "Bikes", "2026-09", 100.0, 110.0),
            ("2026-08", "Bikes", "2026-10", 100.0, 90.0),
            ("2026-08", "Locks", "2026-09", 50.0, 40.0),
            ("2026-08", "Locks", "2026-10", 10.0, 10.0),
            ("2026-08", "Locks", "2026-11", 10.0, 10.0),  # not over yet: unmatched
        ],
        columns=["version", "family", "bucket", "baseline", "consensus"],
    )
    actuals = pd.DataFrame(
        [
            ("Bikes", "2026-09", 120.0),
            ("Bikes", "2026-10", 80.0),
            ("Locks", "2026-09", 40.0),
            ("Locks", "2026-10", 0.0),
        ],
        columns=["family", "bucket", "actual"],
    )
    acc = accuracy(versions, actuals)
    assert acc.unmatched == 1
    bikes = acc.by_family.set_index("family").loc["Bikes"]
    # baseline errors -20, +20 -> WAPE 40/200 = 20 %, bias 0; consensus -10, +10 -> 10 %, FVA +10 points
    assert bikes["wape_baseline"] == pytest.approx(20.0) and bikes["wape_consensus"] == pytest.approx(10.0)
    assert bikes["mape_baseline"] == pytest.approx((20 / 120 + 20 / 80) / 2 * 100)
    assert bikes["bias_baseline"] == pytest.approx(0.0) and bikes["fva"] == pytest.approx(10.0)
    locks = acc.by_family.set_index("family").loc["Locks"]
    # baseline +10, +10 over actual 40 -> WAPE 50 %, bias +50 %; MAPE only over the month with actual > 0
    assert locks["wape_baseline"] == pytest.approx(50.0) and locks["bias_baseline"] == pytest.approx(50.0)
    assert locks["mape_baseline"] == pytest.approx(25.0) and locks["mape_excluded"] == 1
    assert locks["wape_consensus"] == pytest.approx(25.0) and locks["fva"] == pytest.approx(25.0)
    total = acc.total.iloc[0]
    assert total["wape_baseline"] == pytest.approx(60 / 240 * 100) and total["wape_consensus"] == pytest.approx(
        30 / 240 * 100
    )
    month = acc.by_month.set_index("bucket").loc["2026-10"]
    assert month["bias_consensus"] == pytest.approx(20 / 80 * 100)
    assert lag_months(versions["version"], versions["bucket"]).tolist() == [1, 2, 1, 2, 3]


def test_zero_actuals_give_no_wape_instead_of_dividing_by_zero() -> None:
    versions = pd.DataFrame(
        [("v1", "Locks", "2026-10", 5.0, 0.0)], columns=["version", "family", "bucket", "baseline", "consensus"]
    )
    actuals = pd.DataFrame([("Locks", "2026-10", 0.0)], columns=["family", "bucket", "actual"])
    row = accuracy(versions, actuals).by_family.iloc[0]
    assert math.isnan(row["wape_baseline"]) and math.isnan(row["bias_baseline"]) and math.isnan(row["mape_baseline"])


def test_family_actuals_fill_months_without_shipments() -> None:
    items = pd.DataFrame({"sku": ["B1", "L1"], "family": ["Bikes", "Locks"]})
    shipments = pd.DataFrame(
        {
            "sku": ["B1", "B1", "L1"],
            "qty": [5.0, -1.0, 2.0],
            "ship_date": pd.to_datetime(["2026-09-03", "2026-09-20", "2026-08-01"]),
        }
    )
    out = family_actuals(shipments, items, "2026-09", "2026-10")
    assert out.values.tolist() == [
        ["Bikes", "2026-09", 4.0],
        ["Bikes", "2026-10", 0.0],
        ["Locks", "2026-09", 0.0],
        ["Locks", "2026-10", 0.0],
    ]

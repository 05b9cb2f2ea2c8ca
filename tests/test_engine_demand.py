"""Demand: forecast validation, split to SKUs, open orders by requested date, forecast consumption."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sop_functions.buckets import Horizon, sku_grid
from sop_functions.demand import build_demand, consume, validate_forecast
from sop_functions.families import history_shares
from sop_functions.snapshot import build_snapshot

AS_OF = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)
HORIZON = Horizon.from_as_of(AS_OF.date(), periods=3)


def forecast(*rows: tuple[object, object, object]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["family", "bucket", "qty"])


def test_consume_takes_the_larger_of_forecast_and_orders() -> None:
    got = consume(np.array([30.0, 60.0, 0.0, 10.0]), np.array([35.0, 20.0, 7.0, 10.0]))
    assert list(got) == [35.0, 60.0, 7.0, 10.0]


def test_validate_forecast_cleans_labels_and_blanks() -> None:
    got = validate_forecast(
        forecast(("Bikes", "2026-12", "12.5"), (" Bikes ", "2027-1", None), ("Bikes", "2026-11", "")), HORIZON
    )
    assert list(got["family"]) == ["Bikes", "Bikes", "Bikes"]
    assert list(got["bucket"]) == ["2026-12", "2027-01", "2026-11"]
    assert list(got["qty"]) == [12.5, 0.0, 0.0]
    assert got["bucket"].dtype == HORIZON.dtype


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("Bikes", "2026-12", -5), r"family Bikes, month 2026-12: quantity -5 is negative"),
        (("Bikes", "2026-12", "lots"), r"family Bikes, month 2026-12: quantity 'lots' is not a number"),
        (("Bikes", "2026-12", float("inf")), r"family Bikes, month 2026-12: quantity inf is not a number"),
        (("Bikes", "2027-02", 5), r"family Bikes, month 2027-02: month 2027-02 is outside the horizon"),
        (("Bikes", "PAST_DUE", 5), r"family Bikes, month PAST_DUE: 'PAST_DUE' is not a month label"),
        (("Bikes", "Dec", 5), r"family Bikes, month Dec: 'Dec' is not a month label"),
        (("", "2026-12", 5), r"family , month 2026-12: family name missing"),
    ],
)
def test_validate_forecast_names_family_and_month(row: tuple[object, object, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_forecast(forecast(("Bikes", "2026-11", 1), row), HORIZON)


def test_validate_forecast_reports_every_problem_and_duplicates() -> None:
    bad = forecast(("Bikes", "2026-11", 1), ("Bikes", "2026-11", 2), ("Trikes", "2030-01", -1))
    with pytest.raises(ValueError) as info:
        validate_forecast(bad, HORIZON)
    text = str(info.value)
    assert "family Bikes, month 2026-11: given more than once" in text
    assert "family Trikes, month 2030-01: month 2030-01 is outside the horizon" in text
    assert "family Trikes, month 2030-01: quantity -1 is negative" in text


def test_validate_forecast_missing_column() -> None:
    with pytest.raises(ValueError, match="missing column"):
        validate_forecast(pd.DataFrame({"family": ["Bikes"], "qty": [1]}), HORIZON)


def test_validate_empty_forecast() -> None:
    assert validate_forecast(forecast(), HORIZON).empty


def test_build_demand_consumes_forecast_and_past_due_is_orders_only() -> None:
    snapshot = build_snapshot(
        "test",
        AS_OF,
        {
            "items": pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"], "unit_cost": [1, 1], "unit_price": [2, 2]}),
            "open_demand": pd.DataFrame(
                {
                    "order_id": ["1", "2", "3", "4", "5"],
                    "sku": ["A", "A", "A", "B", "B"],
                    "qty": [4, 50, 5, 3, 9],
                    # A: overdue, 2026-11 (above forecast), 2026-12 (below forecast); B: 2026-12, beyond.
                    "requested_date": ["2026-11-15", "2026-11-16", "2026-12-31", "2026-12-01", "2027-02-01"],
                }
            ),
        },
    )
    grid = sku_grid(snapshot.items, HORIZON)
    shares = history_shares(snapshot.shipments, snapshot.items, snapshot.as_of_date)  # no history: 0.5 each
    fc = validate_forecast(forecast(("F", "2026-11", 20), ("F", "2026-12", 30), ("F", "2027-01", 0)), HORIZON)
    got = build_demand(grid, fc, snapshot.open_demand, shares, HORIZON, snapshot.as_of_date)
    assert list(got.columns) == ["sku", "family", "bucket", "forecast", "orders", "demand"]
    a = got[got["sku"] == "A"].set_index("bucket")
    b = got[got["sku"] == "B"].set_index("bucket")
    assert list(a["forecast"]) == [0.0, 10.0, 15.0, 0.0]
    assert list(a["orders"]) == [4.0, 50.0, 5.0, 0.0]
    assert list(a["demand"]) == [4.0, 50.0, 15.0, 0.0]
    assert list(b["forecast"]) == [0.0, 10.0, 15.0, 0.0]
    assert list(b["orders"]) == [0.0, 0.0, 3.0, 0.0]
    assert list(b["demand"]) == [0.0, 10.0, 15.0, 0.0]


def test_validate_forecast_accepts_month_headers_turned_into_dates() -> None:
    dated = forecast(("Bikes", dt.datetime(2026, 12, 1), 1), ("Bikes", pd.Timestamp("2027-01-01"), 2))
    dated["bucket"] = pd.to_datetime(dated["bucket"])  # a datetime64 column, as a reader may return it
    assert list(validate_forecast(dated, HORIZON)["bucket"]) == ["2026-12", "2027-01"]

"""Buckets: horizon labels, PAST_DUE / BEYOND assignment, user label parsing (months and ISO weeks)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sop_functions.buckets import BEYOND, PAST_DUE, Horizon, sku_grid


def dates(*texts: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts)), index=[10 + i for i in range(len(texts))])


def test_monthly_labels_start_with_past_due_and_the_as_of_month() -> None:
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    assert horizon.labels == ["PAST_DUE", "2026-11", "2026-12", "2027-01"]
    assert horizon.buckets == ["2026-11", "2026-12", "2027-01"]
    assert horizon.end == pd.Timestamp("2027-01-31")


def test_default_horizon_is_18_months() -> None:
    horizon = Horizon.from_as_of(dt.date(2026, 11, 16))
    assert len(horizon.labels) == 19
    assert horizon.labels[-1] == "2028-04"


def test_assign_monthly() -> None:
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    got = horizon.assign(
        dates("2026-11-15", "2026-11-16", "2026-11-30", "2026-12-01", "2027-01-31", "2027-02-01", "2020-01-01"),
        pd.Timestamp("2026-11-16"),
    )
    assert list(got) == [PAST_DUE, "2026-11", "2026-11", "2026-12", "2027-01", BEYOND, PAST_DUE]
    assert list(got.index) == [10, 11, 12, 13, 14, 15, 16]
    assert got.cat.ordered
    assert list(got.cat.categories) == ["PAST_DUE", "2026-11", "2026-12", "2027-01", "BEYOND"]


def test_assign_empty_series() -> None:
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    got = horizon.assign(pd.Series(pd.to_datetime([])), pd.Timestamp("2026-11-16"))
    assert len(got) == 0


def test_assign_rejects_an_as_of_date_outside_the_first_bucket() -> None:
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=3)
    with pytest.raises(ValueError, match="not in the horizon's first bucket"):
        horizon.assign(dates("2026-12-05"), pd.Timestamp("2026-12-01"))


def test_weekly_labels_are_iso_weeks() -> None:
    # 2026-11-25 is a Wednesday of ISO week 48 (Mon 2026-11-23 .. Sun 2026-11-29).
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-25"), periods=3, grain="week")
    assert horizon.labels == ["PAST_DUE", "2026-W48", "2026-W49", "2026-W50"]
    assert horizon.end == pd.Timestamp("2026-12-13")


def test_weekly_labels_across_the_iso_year_end() -> None:
    # 2026 has 53 ISO weeks (1 January 2026 is a Thursday); ISO 2027-W01 starts Monday 2027-01-04.
    horizon = Horizon.from_as_of(pd.Timestamp("2026-12-28"), periods=3, grain="week")
    assert horizon.buckets == ["2026-W53", "2027-W01", "2027-W02"]


def test_assign_weekly() -> None:
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-25"), periods=3, grain="week")
    got = horizon.assign(
        dates("2026-11-24", "2026-11-25", "2026-11-29", "2026-11-30", "2026-12-13", "2026-12-14"),
        pd.Timestamp("2026-11-25"),
    )
    assert list(got) == [PAST_DUE, "2026-W48", "2026-W48", "2026-W49", "2026-W50", BEYOND]


@pytest.mark.parametrize(
    ("label", "bucket"),
    [("2027-03", "2027-03"), (" 2027-3 ", "2027-03"), (dt.date(2027, 3, 1), "2027-03"), ("2026-11", "2026-11")],
)
def test_parse_month_labels(label: object, bucket: str) -> None:
    assert Horizon.from_as_of(pd.Timestamp("2026-11-16")).parse(label) == bucket


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("2028-05", r"month 2028-05 is outside the horizon 2026-11 \.\. 2028-04"),
        ("2026-10", "outside the horizon"),
        ("March", "'March' is not a month label like 2027-03"),
        ("2027-13", "not a valid month"),
        ("PAST_DUE", "not a month label"),
        ("", "not a month label"),
    ],
)
def test_parse_rejects_bad_or_out_of_horizon_labels(label: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Horizon.from_as_of(pd.Timestamp("2026-11-16")).parse(label)


def test_parse_week_labels() -> None:
    horizon = Horizon.from_as_of(pd.Timestamp("2026-11-25"), periods=3, grain="week")
    assert horizon.parse("2026-W49") == "2026-W49"
    assert horizon.parse(" 2026-W50 ") == "2026-W50"
    with pytest.raises(ValueError, match="week 2026-W51 is outside the horizon"):
        horizon.parse("2026-W51")
    with pytest.raises(ValueError, match="not a valid week"):
        horizon.parse("2026-W54")
    with pytest.raises(ValueError, match="not a week label"):
        horizon.parse("2026-12")


def test_invalid_horizons() -> None:
    with pytest.raises(ValueError, match="at least one bucket"):
        Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=0)
    with pytest.raises(ValueError, match="grain"):
        Horizon.from_as_of(pd.Timestamp("2026-11-16"), grain="day")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a week period"):
        Horizon(pd.Period("2026-11", freq="M"), 3, "week")


def test_sku_grid_is_every_sku_times_every_bucket() -> None:
    items = pd.DataFrame({"sku": ["B", "A", "C"], "family": ["F2", "F1", "F1"]})
    grid = sku_grid(items, Horizon.from_as_of(pd.Timestamp("2026-11-16"), periods=2))
    assert list(grid["sku"]) == ["A"] * 3 + ["C"] * 3 + ["B"] * 3
    assert list(grid["bucket"]) == ["PAST_DUE", "2026-11", "2026-12"] * 3

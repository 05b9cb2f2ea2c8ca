"""The one clock seam: SOPXL_NOW, frozen(), zones, and the code that reads "today" through it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from connectors.demo_data import write_export_folder
from connectors.files import read_export_folder
from connectors.registry import company_clock
from sop_functions import clock
from sop_functions.buckets import Horizon

BRUSSELS_JUST_AFTER_MIDNIGHT = "2027-03-01T00:05:00+01:00"


def test_environment_variable_fixes_the_clock_in_every_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_VAR, BRUSSELS_JUST_AFTER_MIDNIGHT)
    assert clock.now(dt.UTC) == dt.datetime(2027, 2, 28, 23, 5, tzinfo=dt.UTC)
    assert clock.today(dt.UTC) == dt.date(2027, 2, 28)
    assert clock.today(clock.zone("Europe/Brussels")) == dt.date(2027, 3, 1)
    assert clock.now().utcoffset() is not None  # local zone, always aware


def test_a_time_without_offset_is_utc_and_garbage_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_VAR, "2027-01-15T10:00:00")
    assert clock.now(dt.UTC) == dt.datetime(2027, 1, 15, 10, tzinfo=dt.UTC)
    monkeypatch.setenv(clock.ENV_VAR, "next tuesday")
    with pytest.raises(ValueError, match="SOPXL_NOW='next tuesday' is not an ISO 8601 time"):
        clock.now()


def test_frozen_wins_over_the_environment_and_nests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_VAR, BRUSSELS_JUST_AFTER_MIDNIGHT)
    with clock.frozen("2030-06-01T12:00:00+00:00"):
        with clock.frozen(dt.datetime(2031, 1, 1, 0, 0)):
            assert clock.now(dt.UTC) == dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
        assert clock.today(dt.UTC) == dt.date(2030, 6, 1)
    assert clock.today(clock.zone("Europe/Brussels")) == dt.date(2027, 3, 1)


def test_zones() -> None:
    assert clock.zone("") is dt.UTC and clock.zone(None) is dt.UTC
    assert clock.zone(" Asia/Tokyo ").utcoffset(dt.datetime(2027, 1, 1)) == dt.timedelta(hours=9)
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        clock.zone("Mars/Olympus")


def test_a_profile_takes_today_in_the_companys_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV_VAR, BRUSSELS_JUST_AFTER_MIDNIGHT)
    as_of = company_clock("Europe/Brussels")()
    assert as_of.date() == dt.date(2027, 3, 1) and as_of.utcoffset() == dt.timedelta(hours=1)
    assert Horizon.from_as_of(as_of.date()).buckets[0] == "2027-03"
    assert company_clock("America/New_York")().date() == dt.date(2027, 2, 28)


def test_the_demo_erp_dates_follow_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo export's as-of (and so its open orders and history) comes from the clock, not the wall."""
    monkeypatch.setenv(clock.ENV_VAR, BRUSSELS_JUST_AFTER_MIDNIGHT)
    snapshot = read_export_folder(write_export_folder(tmp_path / "export"))
    assert snapshot.as_of == dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert snapshot.shipments["ship_date"].max() < pd.Timestamp("2027-03-01")
    assert snapshot.open_demand["requested_date"].min() >= pd.Timestamp("2027-01-01")

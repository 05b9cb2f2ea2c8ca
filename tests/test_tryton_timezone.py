"""The as-of date is the Tryton company's today: a Tokyo company a few minutes after midnight is in the new day.

The server runs under libfaketime at 15:05 UTC on the last day of a month, which is 00:05 on the 1st in
Tokyo (UTC+9, no daylight saving). Our own process keeps the real clock: the as-of must come from the ERP.
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Iterator

import pandas as pd
import pytest

from connectors.tryton import TrytonConnector
from connectors.tryton.server import DemoServer, demo_server
from sop_functions import clock
from sop_functions.buckets import Horizon
from tests.tryton_support import transport_for

pytestmark = pytest.mark.tryton

ZONE = "Asia/Tokyo"


def _libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    assert found, "libfaketime is missing: `make test` installs the Debian package faketime"
    return found[0]


def _month_end_utc() -> dt.datetime:
    """15:05 UTC on the last day of the current month: 00:05 on the 1st of the next month in Tokyo."""
    first_next = (pd.Period(clock.today(dt.UTC), freq="M") + 1).start_time
    return (first_next - pd.Timedelta(days=1)).to_pydatetime().replace(hour=15, minute=5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def server_time() -> dt.datetime:
    return _month_end_utc()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, server_time: dt.datetime) -> Iterator[DemoServer]:
    env = {"LD_PRELOAD": _libfaketime(), "FAKETIME": server_time.strftime("@%Y-%m-%d %H:%M:%S")}
    with demo_server(workdir=tmp_path_factory.mktemp("tryton-tz"), env=env) as server:
        yield server


def test_as_of_and_stock_date_are_the_companys_today(demo: DemoServer, server_time: dt.datetime) -> None:
    t = transport_for(demo)
    company = t.context["company"]
    t.model("company.company", "write", [company], {"timezone": ZONE}, idempotent=False)
    tokyo_today = (server_time + dt.timedelta(hours=9)).date()
    assert tokyo_today.day == 1 and tokyo_today != server_time.date()
    assert t.model("ir.date", "today") == tokyo_today  # what Tryton's own screens call today

    # stock counted today (Tokyo): on hand now; a connector dating stock by UTC would not see it yet
    before = TrytonConnector(demo.settings).snapshot(full=True)
    (product,) = t.model("product.product", "search", [("code", "=", "RM-510")], 0, 1, None)
    storage = t.model("stock.location", "search", [("code", "=", "STO")], 0, 1, None)
    had = float(before.stock.loc[(before.stock["sku"] == "RM-510") & (before.stock["warehouse"] == "WH"), "qty"].sum())
    (inventory,) = t.model(
        "stock.inventory",
        "create",
        [
            {
                "location": storage[0],
                "date": tokyo_today,
                "lines": [["create", [{"product": product, "quantity": had + 7.0}]]],
            }
        ],
        idempotent=False,
    )
    t.model("stock.inventory", "confirm", [inventory], idempotent=False)
    snapshot = TrytonConnector(demo.settings).snapshot(full=True)

    assert snapshot.as_of.utcoffset() == dt.timedelta(hours=9)
    assert abs(snapshot.as_of - server_time) < dt.timedelta(minutes=10)
    assert snapshot.as_of_date == pd.Timestamp(tokyo_today)
    assert Horizon.from_as_of(snapshot.as_of_date).buckets[0] == tokyo_today.strftime("%Y-%m")

    def on_hand(snap: object) -> float:
        stock = snap.stock  # type: ignore[attr-defined]
        return float(stock.loc[stock["sku"] == "RM-510", "qty"].sum())

    assert on_hand(snapshot) == pytest.approx(on_hand(before) + 7.0)

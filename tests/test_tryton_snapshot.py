"""A real trytond (seeded demo database) read into a snapshot, checked against the seed's own manifest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.tryton import TrytonConnector
from connectors.tryton.server import DemoServer, demo_server
from sop_functions import clock
from sop_functions.snapshot import Snapshot
from tests.tryton_support import expected, rows, shipped_by_month

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(workdir=tmp_path_factory.mktemp("tryton-snapshot")) as server:
        yield server


@pytest.fixture(scope="module")
def snapshot(demo: DemoServer) -> Snapshot:
    return TrytonConnector(demo.settings).snapshot(full=True)


def test_as_of_is_the_servers_clock(snapshot: Snapshot) -> None:
    assert snapshot.as_of.tzinfo is not None
    assert abs(snapshot.as_of - clock.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert snapshot.source == "tryton:sopdemo"


def test_items(demo: DemoServer, snapshot: Snapshot) -> None:
    manifest = demo.manifest["items"]
    default = demo.settings.default_lead_time_days
    for row in manifest:
        if row["lead_time_days"] is None:
            row["lead_time_days"] = default
    assert len(snapshot.items) == len(manifest) == 24
    columns = ("sku", "description", "family", "unit_cost", "unit_price", "lead_time_days", "safety_stock")
    assert rows(snapshot.items, *columns) == expected(manifest, *columns)
    assert set(snapshot.items["uom"]) == {"Unit"}


def test_on_hand_per_warehouse(demo: DemoServer, snapshot: Snapshot) -> None:
    want = [r for r in demo.manifest["stock"] if r["qty"]]
    assert rows(snapshot.stock, "sku", "warehouse", "qty") == expected(want, "sku", "warehouse", "qty")
    assert set(snapshot.stock["warehouse"]) == {"WH", "WH2"}


def test_open_demand_receipts_and_production(demo: DemoServer, snapshot: Snapshot) -> None:
    m = demo.manifest
    demand = ("order_id", "sku", "qty", "requested_date", "customer")
    assert rows(snapshot.open_demand, *demand) == expected(m["open_demand"], *demand)
    receipts = ("order_id", "sku", "qty", "expected_date", "supplier")
    assert rows(snapshot.receipts, *receipts) == expected(m["receipts"], *receipts)
    production = ("order_id", "sku", "qty", "due_date", "state")
    assert rows(snapshot.production, *production) == expected(m["production"], *production)
    assert set(snapshot.production["state"]) == {"planned", "firm", "running"}


def test_shipment_history(demo: DemoServer, snapshot: Snapshot) -> None:
    want = {(r["sku"], r["month"]): r["qty"] for r in demo.manifest["shipments_by_sku_month"]}
    assert shipped_by_month(snapshot.shipments) == want
    assert set(snapshot.shipments["customer"]) <= set(demo.manifest["customers"])
    months = {m for _, m in want}
    assert len(months) >= 12


def test_work_centers_bom_routings(demo: DemoServer, snapshot: Snapshot) -> None:
    m = demo.manifest
    assert sorted(snapshot.work_centers["code"]) == sorted(m["work_centers"])
    assert snapshot.work_centers["hours_per_month"].isna().all()
    assert rows(snapshot.bom, "parent_sku", "component_sku", "qty_per") == expected(
        m["bom"], "parent_sku", "component_sku", "qty_per"
    )
    assert rows(snapshot.routings, "sku", "work_center", "hours_per_unit") == expected(
        m["routings"], "sku", "work_center", "hours_per_unit"
    )


def test_password_is_not_in_cache_or_logs(demo: DemoServer, snapshot: Snapshot) -> None:
    secret = demo.settings.password.get_secret_value().encode()
    assert secret not in demo.settings.cache_file.read_bytes()
    assert secret not in Path(demo.log_path).read_bytes()
    assert secret.decode() not in repr(demo.settings)

"""Incremental sync against a real trytond: changes made through the server are exactly what the next sync sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest

from connectors.tryton.server import DemoServer, demo_server
from connectors.tryton.sync import SyncCache, sync
from sop_functions import clock
from tests.tryton_support import transport_for

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(workdir=tmp_path_factory.mktemp("tryton-sync")) as server:
        yield server


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    cols = list(a.columns)
    left = a.sort_values(cols).reset_index(drop=True)
    right = b.sort_values(cols).reset_index(drop=True)
    return bool(left.equals(right))


def test_incremental_sync_sees_exactly_the_changes(demo: DemoServer) -> None:
    t = transport_for(demo)
    cache = SyncCache(demo.settings.cache_file, "demo")
    full_snapshot, full = sync(t, cache, full=True, overlap_seconds=0)
    assert full.total_fetched > 500

    # Nothing changed: an incremental sync finds no change, fetches no row of the sources it reads by their
    # changes (small ones are read in full: one request each) and reads no stock level.
    _, idle = sync(t, cache, overlap_seconds=0)
    assert not any(idle.changed.values()) and not any(idle.deleted.values()), (idle.changed, idle.deleted)
    assert "customer_moves" in idle.by_changes and idle.fetched["customer_moves"] == 0
    assert not [k for k in idle.fetched if k.startswith("stock@")]

    # 1. a new sales order, confirmed (Tryton creates its shipment moves)
    customers = t.model("party.party", "search", [("name", "=", "Officeworld")], 0, 1, None)
    products = t.model("product.product", "search_read", [("code", "=", "TB-230")], 0, 1, None, ["default_uom"])
    addresses = t.model("party.address", "search", [("party", "=", customers[0])], 0, 1, None)
    warehouses = t.model("stock.location", "search", [("code", "=", "WH")], 0, 1, None)
    ship = clock.today(dt.UTC) + dt.timedelta(days=20)
    (sale_id,) = t.model(
        "sale.sale",
        "create",
        [
            {
                "party": customers[0],
                "invoice_address": addresses[0],
                "shipment_address": addresses[0],
                "warehouse": warehouses[0],
                "invoice_method": "manual",
                "shipment_method": "order",
                "shipping_date": ship,
                "lines": [
                    [
                        "create",
                        [
                            {
                                "product": products[0]["id"],
                                "unit": products[0]["default_uom"],
                                "quantity": 7.0,
                                "unit_price": Decimal(79),
                            }
                        ],
                    ]
                ],
            }
        ],
        idempotent=False,
    )
    t.model("sale.sale", "quote", [sale_id], idempotent=False)
    t.model("sale.sale", "confirm", [sale_id], idempotent=False)
    (sale,) = t.model("sale.sale", "read", [sale_id], ["number", "lines"])
    new_moves = t.model(
        "stock.move", "search", [("origin", "in", [f"sale.line,{i}" for i in sale["lines"]])], 0, None, None
    )
    assert new_moves

    # 2. a purchase order's delivery moved
    (po_move,) = t.model(
        "stock.move",
        "search_read",
        [("origin", "like", "purchase.line,%"), ("state", "=", "draft")],
        0,
        1,
        None,
        ["id"],
    )
    new_date = clock.today(dt.UTC) + dt.timedelta(days=90)
    t.model("stock.move", "write", [po_move["id"]], {"planned_date": new_date}, idempotent=False)

    # 3. a production order cancelled, 4. another one deleted
    drafts = t.model("production", "search", [("state", "=", "draft")], 0, None, [["id", "ASC"]])
    cancelled, deleted = drafts[0], drafts[1]
    t.model("production", "cancel", [cancelled], idempotent=False)
    t.model("production", "delete", [deleted], idempotent=False)

    snapshot, inc = sync(t, cache, overlap_seconds=0)
    assert sorted(inc.changed["customer_moves"]) == sorted(new_moves)
    assert sorted(inc.changed["sale_lines"]) == sorted(sale["lines"])
    assert inc.changed["purchase_moves"] == [po_move["id"]]
    assert inc.changed["productions"] == [cancelled]
    assert inc.deleted["productions"] == [deleted]
    assert inc.changed["sales"] == [sale_id]  # open sales are read in full: the new one is the change
    tracked = [s for s in inc.changed if s not in ("warehouses", "categories", "products")]
    for source in tracked:
        if source not in ("customer_moves", "sale_lines", "purchase_moves", "productions", "sales"):
            assert inc.changed[source] == [] and inc.deleted[source] == [], source
    assert inc.fetched["customer_moves"] == len(new_moves), inc.fetched  # only the changes of the big source

    # the snapshot reflects each change
    demand = snapshot.open_demand
    assert ((demand["order_id"] == sale["number"]) & (demand["sku"] == "TB-230") & (demand["qty"] == 7)).any()
    assert len(demand) == len(full_snapshot.open_demand) + len(new_moves)
    assert pd.Timestamp(new_date) in set(snapshot.receipts["expected_date"])
    assert len(snapshot.production) == len(full_snapshot.production) - 2

    # an incremental result equals a full resync of the same server state
    again, refull = sync(t, SyncCache(demo.settings.cache_dir / "other.sqlite", "demo"), full=True)
    for entity in snapshot.frames:
        assert _frames_equal(snapshot.frames[entity], again.frames[entity]), entity
    print(
        f"\nfull sync: {full.total_fetched} records in {full.seconds:.2f}s ({full.requests} requests); "
        f"incremental: {inc.total_fetched} records in {inc.seconds:.2f}s ({inc.requests} requests); "
        f"idle incremental: {idle.total_fetched} records in {idle.seconds:.2f}s"
    )
    # + the new sale's moves, lines and the sale itself (open sales), - the deleted production
    assert refull.total_fetched == full.total_fetched + len(new_moves) + len(sale["lines"]) + 1 - 1


def test_watermarks_are_server_timestamps(demo: DemoServer) -> None:
    cache = SyncCache(demo.settings.cache_file, "demo")
    marks = cache.watermarks()
    assert marks["customer_moves"] is not None
    assert marks["customer_moves"] <= clock.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)

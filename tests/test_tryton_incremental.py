"""The incremental sync against a real trytond: the same snapshot as a full resync and as mapping every
cached row, whatever changed (moves re-dated, a done move cancelled and deleted, a line deleted from a
draft sale later confirmed, productions deleted); deletions found by count; stock re-read only for the
products whose done moves changed; the session kept between runs as a secret."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.notices import Notes
from connectors.tryton import TrytonConnector
from connectors.tryton import sync as sync_module
from connectors.tryton import transport as transport_module
from connectors.tryton.mapping import map_all
from connectors.tryton.server import DemoServer, demo_server
from connectors.tryton.sync import SyncCache, all_rows, sync
from sop_functions import clock
from sop_functions.snapshot import Snapshot, snapshot_from_records
from tests.tryton_support import transport_for

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(workdir=tmp_path_factory.mktemp("tryton-incremental")) as server:
        yield server


@pytest.fixture
def methods(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The JSON-RPC methods sent (all threads)."""
    sent: list[str] = []
    lock = threading.Lock()
    post = transport_module.TrytonTransport._post

    def recording(self: transport_module.TrytonTransport, method: str, params: Any) -> Any:
        with lock:
            sent.append(method)
        return post(self, method, params)

    monkeypatch.setattr(transport_module.TrytonTransport, "_post", recording)
    return sent


def _same(a: Snapshot, b: Snapshot) -> None:
    for entity in a.frames:
        left, right = a.frames[entity], b.frames[entity]
        cols = list(left.columns)
        left = left.sort_values(cols).reset_index(drop=True)
        right = right.sort_values(cols).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=entity)


def _every_row(cache: SyncCache, like: Snapshot) -> Snapshot:
    """The snapshot of mapping every cached row the way the sync did before it kept the history mapped."""
    raw = all_rows(cache)
    stock = cache.stock_levels()
    records = map_all(raw, stock, like.as_of.date(), 14, Notes())
    return snapshot_from_records(like.source, like.as_of, records)


def _check(demo: DemoServer, cache: SyncCache, snapshot: Snapshot, tmp: Path) -> None:
    again, _ = sync(transport_for(demo), SyncCache(tmp / f"full-{time.monotonic_ns()}.sqlite", "demo"), full=True)
    _same(snapshot, again)
    _same(snapshot, _every_row(cache, snapshot))


@pytest.mark.parametrize("small_rows", [0, 100])
def test_incremental_equals_a_full_resync_whatever_changed(
    demo: DemoServer, tmp_path: Path, methods: list[str], small_rows: int
) -> None:
    t = transport_for(demo)
    cache = SyncCache(tmp_path / "sync.sqlite", "demo")
    first, _ = sync(t, cache, full=True, overlap_seconds=0, small_rows=small_rows)
    assert len(set(first.stock["warehouse"])) == 2, "both warehouses (picked from the locations) have stock"
    _check(demo, cache, first, tmp_path)

    # nothing changed: no id list is asked for (the counts agree), no stock level is read
    methods.clear()
    idle, report = sync(t, cache, overlap_seconds=0, small_rows=small_rows)
    assert not [m for m in methods if m.endswith(".search")], methods
    assert not [k for k in report.fetched if k.startswith("stock@")]
    assert report.revalidated == [], "nothing changed: every validated frame is kept"
    assert methods.count("model.stock.location.search_read") == 1, "warehouses are read with the locations"
    _same(first, idle)

    # a draft sale whose first line is deleted, then confirmed: the deleted line must not be demand
    day = clock.today(dt.UTC) + dt.timedelta(days=40)
    customer = t.model("party.party", "search", [("name", "=", "Officeworld")], 0, 1, None)[0]
    address = t.model("party.address", "search", [("party", "=", customer)], 0, 1, None)[0]
    warehouse = t.model("stock.location", "search", [("code", "=", "WH")], 0, 1, None)[0]
    products = t.model("product.product", "search_read", [("code", "in", ["TB-230", "CH-120"])], 0, 2, None,
                       ["default_uom"])  # fmt: skip
    lines = [
        {"product": p["id"], "unit": p["default_uom"], "quantity": 3.0 + k, "unit_price": Decimal(50)}
        for k, p in enumerate(products)
    ]
    (sale_id,) = t.model(
        "sale.sale",
        "create",
        [{"party": customer, "invoice_address": address, "shipment_address": address, "warehouse": warehouse,
          "invoice_method": "manual", "shipment_method": "order", "shipping_date": day,
          "lines": [["create", lines]]}],
        idempotent=False,
    )  # fmt: skip
    sync(t, cache, overlap_seconds=0, small_rows=small_rows)  # the draft sale's lines are cached now

    # a done customer shipment cancelled (its moves leave the history, their products' stock goes back up:
    # Tryton lets the Stock Cancellation group do it) and one of its moves deleted; open moves re-dated; a
    # production deleted
    (group,) = t.model("res.group", "search", [("name", "=", "Stock Cancellation")], 0, 1, None)
    t.model("res.user", "write", [t.model("res.user", "search", [("login", "=", "admin")], 0, 1, None)[0]],
            {"groups": [["add", [group]]]}, idempotent=False)  # fmt: skip
    (shipment,) = t.model("stock.shipment.out", "search", [("state", "=", "done")], 0, 1, [["id", "DESC"]])
    t.model("stock.shipment.out", "cancel", [shipment], idempotent=False)
    done = t.model("stock.move", "search", [("shipment", "=", f"stock.shipment.out,{shipment}"),
                   ("to_location.type", "=", "customer")], 0, None, [["id", "ASC"]])  # fmt: skip
    assert done
    moved = {r["product"] for r in t.model("stock.move", "read", done, ["product"])}
    t.model("stock.move", "delete", done[-1:], idempotent=False)
    drafts = t.model("stock.move", "search", [("state", "=", "draft"), ("origin", "like", "sale.line,%")], 0, 3, None)
    t.model("stock.move", "write", drafts, {"planned_date": day}, idempotent=False)
    productions = t.model("production", "search", [("state", "=", "draft")], 0, 1, [["id", "DESC"]])
    t.model("production", "delete", productions, idempotent=False)

    # a draft move to a customer done (draft -> done: a new history line, its product's stock goes down), a
    # product renamed (its item changes: validated again, not kept)
    (waiting,) = t.model("stock.shipment.out", "search", [("state", "=", "waiting")], 0, 1, [["id", "ASC"]])
    for step in ("assign_force", "pick", "pack", "do"):  # Tryton's own path from waiting to done
        t.model("stock.shipment.out", step, [waiting], idempotent=False)
    shipped_now = t.model("stock.move", "search_read", [("shipment", "=", f"stock.shipment.out,{waiting}"),
                          ("to_location.type", "=", "customer")], 0, None, None, ["product", "state"])  # fmt: skip
    assert shipped_now and {m["state"] for m in shipped_now} == {"done"}
    moved |= {m["product"] for m in shipped_now}
    (supplier,) = t.model("purchase.product_supplier", "search", [], 0, 1, [["id", "ASC"]])
    price_row = {"product_supplier": supplier, "quantity": 10.0, "unit_price": Decimal(1)}
    (price,) = t.model("purchase.product_supplier.price", "create", [price_row], idempotent=False)
    (renamed,) = t.model("product.product", "read", [products[1]["id"]], ["template"])
    t.model(
        "product.template", "write", [renamed["template"]], {"name": f"Renamed chair {small_rows}"}, idempotent=False
    )

    (sale,) = t.model("sale.sale", "read", [sale_id], ["lines"])
    t.model("sale.line", "delete", sale["lines"][:1], idempotent=False)
    t.model("sale.sale", "quote", [sale_id], idempotent=False)
    t.model("sale.sale", "confirm", [sale_id], idempotent=False)

    methods.clear()
    snapshot, report = sync(t, cache, overlap_seconds=0, small_rows=small_rows)
    assert done[-1] in report.deleted["customer_moves"] and productions[0] in report.deleted["productions"]
    assert set(done[:-1]) <= set(report.changed["customer_moves"])
    assert sale["lines"][0] in report.deleted["sale_lines"]
    assert [k for k in report.fetched if k.startswith("stock@")], "a done move was cancelled: stock re-read"
    stock_reads = {k: n for k, n in report.fetched.items() if k.startswith("stock@")}
    assert all(n <= len(moved) for n in stock_reads.values()), (stock_reads, moved)
    _check(demo, cache, snapshot, tmp_path)
    number = t.model("sale.sale", "read", [sale_id], ["number"])[0]["number"]
    demand = snapshot.open_demand[snapshot.open_demand["order_id"] == number]
    assert sorted(demand["qty"].tolist()) == [4.0], demand  # the second line only
    assert {m["id"] for m in shipped_now} <= set(report.changed["customer_moves"])
    assert report.changed["supplier_prices"] == [price]
    # read through the suppliers' prices field when the suppliers are read in full, else on its own
    assert ("model.purchase.product_supplier.price.search_read" in methods) == (small_rows == 0), methods
    assert {"items", "shipments", "stock"} <= set(report.revalidated), report.revalidated
    assert f"Renamed chair {small_rows}" in set(snapshot.items["description"])

    # an internal shipment to the other warehouse shipped (in transit: read with the moves done since the last
    # stock read, one request), then received (out of transit)
    (storage,) = t.model("stock.location", "search", [("code", "=", "STO")], 0, 1, None)
    (east,) = t.model("stock.location", "search", [("name", "=", "East Storage")], 0, 1, None)
    line = {"product": products[0]["id"], "quantity": 2.0, "unit": products[0]["default_uom"],
            "from_location": storage, "to_location": east}  # fmt: skip
    (internal,) = t.model("stock.shipment.internal", "create", [{"from_location": storage, "to_location": east,
                          "planned_date": clock.today(dt.UTC), "planned_start_date": clock.today(dt.UTC),
                          "moves": [["create", [line]]]}], idempotent=False)  # fmt: skip
    for step in ("wait", "assign_force", "pack", "ship"):
        t.model("stock.shipment.internal", step, [internal], idempotent=False)
    methods.clear()
    snapshot, report = sync(t, cache, overlap_seconds=0, small_rows=small_rows)
    assert report.changed["transit_moves"] and [k for k in report.fetched if k.startswith("stock@")]
    assert methods.count("model.stock.move.search_read") == 3, methods  # customer, purchase moves, done+transit
    _check(demo, cache, snapshot, tmp_path)
    t.model("stock.shipment.internal", "do", [internal], idempotent=False)
    snapshot, report = sync(t, cache, overlap_seconds=0, small_rows=small_rows)
    assert report.deleted["transit_moves"] and not report.fetched["transit_moves"]
    _check(demo, cache, snapshot, tmp_path)

    # a warehouse renamed: read with the locations, every stock level read again (the layout changed)
    (other_wh,) = t.model("stock.location", "search", [("type", "=", "warehouse"), ("id", "!=", warehouse)], 0, 1, None)
    t.model("stock.location", "write", [other_wh], {"code": "WH-NEW"}, idempotent=False)
    t.model("purchase.product_supplier.price", "delete", [price], idempotent=False)
    snapshot, report = sync(t, cache, overlap_seconds=0, small_rows=small_rows)
    assert report.changed["warehouses"] == [other_wh] and "WH-NEW" in set(snapshot.stock["warehouse"])
    assert report.deleted["supplier_prices"] == [price]
    _check(demo, cache, snapshot, tmp_path)
    t.model("stock.location", "write", [other_wh], {"code": f"WH-{small_rows}"}, idempotent=False)


def test_the_session_is_kept_as_a_secret_and_reused(demo: DemoServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connector = TrytonConnector(demo.settings)
    first = connector.transport()
    first.context  # noqa: B018 - logs in
    assert first.logins == 1
    files = list(Path(demo.settings.session_dir or "").glob("*.json"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    auth = str(first._auth)
    assert auth.startswith("Session ") and auth.split()[1] not in caplog.text and auth not in repr(first)

    second = connector.transport()  # a new run: no login
    second.context  # noqa: B018
    assert second.logins == 0

    files[0].write_text(files[0].read_text().replace(auth.split()[1][:8], "AAAAAAAA"))  # a session Tryton refuses
    third = connector.transport()
    assert third.model("res.user", "search_count", []) >= 1
    assert third.logins == 1 and auth.split()[1] not in caplog.text


def test_kept_frames_are_the_validated_ones_and_long_ones_are_validated_every_time(
    demo: DemoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = transport_for(demo)
    cache = SyncCache(tmp_path / "sync.sqlite", "demo")
    first, report = sync(t, cache, full=True, overlap_seconds=0)
    assert set(report.revalidated) == set(first.frames)
    kept, report = sync(t, cache, overlap_seconds=0)
    assert report.revalidated == []
    _same(first, kept)
    for entity, frame in kept.frames.items():  # the same dtypes as validated, empty frames included
        assert list(frame.dtypes) == list(first.frames[entity].dtypes), entity

    monkeypatch.setattr(sync_module, "KEEP_ROWS", 0)  # every frame "long": none kept, none left stored
    again, report = sync(t, cache, overlap_seconds=0)
    assert set(report.revalidated) == set(first.frames)
    _same(first, again)
    with sqlite3.connect(cache.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM frame").fetchone() == (0,)

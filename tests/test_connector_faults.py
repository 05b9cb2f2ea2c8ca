"""Fault tests for every API connector: 429 storms, 5xx bursts, timeouts, credentials expiring mid-sync,
malformed records and pages that vanish mid-sync. A sync completes, or leaves the previous snapshot and
state exactly as they were."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.sync import SnapshotStore, run_sync
from connectors.transport import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitedError,
    SourceDataError,
    UnavailableError,
)
from tests.connector_support import API_KINDS, fast_retry, make_connector, make_fake
from tests.fakes import business_central as bcf
from tests.fakes import dataset as ds
from tests.fakes import exact_online as exf
from tests.fakes.exact_online import FakeExact

MID = {
    "odoo17": ("/jsonrpc", 4),
    "odoo19": ("/json/2/", 3),
    "business_central": ("/api/v2.0/", 3),
    "exact_online": ("/api/v1/", 3),
    "sap_b1": ("/b1s/v1/PurchaseOrders", 0),
}
NEXT_PAGE = {"business_central": "$skiptoken", "exact_online": "$skiptoken", "sap_b1": "$skip"}


def same_as_expected(store: SnapshotStore) -> None:
    snap = store.load_snapshot()
    assert snap is not None
    expected, got = ds.sorted_frames(ds.expected_snapshot()), ds.sorted_frames(snap)
    for entity, frame in expected.items():
        pd.testing.assert_frame_equal(got[entity], frame, obj=entity)


def previous_kept(store: SnapshotStore, before: Path | None) -> None:
    assert store.current() == before
    same_as_expected(store)
    assert not [p for p in (store.root / "versions").iterdir() if p.name.startswith(".staging")]


def _good_first(kind: str, fake: Any, tmp: Path) -> tuple[SnapshotStore, Path | None]:
    store = SnapshotStore(tmp / "store")
    run_sync(make_connector(kind, fake, tmp), store)
    return store, store.current()


@pytest.mark.parametrize("kind", API_KINDS)
def test_429_storm_with_retry_after_recovers(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        path, skip = MID[kind]
        fault = fake.fault(path, status=429, count=4, skip=skip, headers={"Retry-After": "0"})
        store = SnapshotStore(tmp_path / "s")
        run_sync(make_connector(kind, fake, tmp_path), store)
        assert fault.hits == 4
        same_as_expected(store)


@pytest.mark.parametrize("kind", API_KINDS)
def test_endless_429_fails_and_keeps_the_previous_snapshot(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        store, before = _good_first(kind, fake, tmp_path)
        path, skip = MID[kind]
        fake.fault(path, status=429, count=1000, skip=skip, headers={"Retry-After": "0"})
        with pytest.raises(RateLimitedError, match="failed after 6 attempt"):
            run_sync(make_connector(kind, fake, tmp_path), store)
        previous_kept(store, before)


@pytest.mark.parametrize("kind", API_KINDS)
def test_retry_after_beyond_the_budget_fails_fast(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        fake.fault(MID[kind][0], status=429, count=1, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
        with pytest.raises(RateLimitedError, match="asks to wait"):
            make_connector(kind, fake, tmp_path).fetch()


@pytest.mark.parametrize("kind", API_KINDS)
def test_5xx_burst_recovers(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        path, skip = MID[kind]
        a = fake.fault(path, status=503, count=2, skip=skip)
        b = fake.fault(path, status=500, count=1, skip=skip + 1)
        store = SnapshotStore(tmp_path / "s")
        run_sync(make_connector(kind, fake, tmp_path), store)
        assert (a.hits, b.hits) == (2, 1)
        same_as_expected(store)


@pytest.mark.parametrize("kind", API_KINDS)
def test_5xx_that_never_ends_keeps_the_previous_snapshot(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        store, before = _good_first(kind, fake, tmp_path)
        path, skip = MID[kind]
        fake.fault(path, status=502, count=1000, skip=skip)
        with pytest.raises(UnavailableError, match="HTTP 502"):
            run_sync(make_connector(kind, fake, tmp_path, fast_retry(3)), store)
        previous_kept(store, before)


@pytest.mark.parametrize("kind", API_KINDS)
def test_timeout_is_retried(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        path, skip = MID[kind]
        slow = fake.fault(path, status=None, delay=0.6, count=1, skip=skip)
        store = SnapshotStore(tmp_path / "s")
        run_sync(make_connector(kind, fake, tmp_path), store)
        assert slow.hits == 1
        same_as_expected(store)


@pytest.mark.parametrize("kind", ["business_central", "exact_online", "sap_b1"])
def test_credentials_expiring_mid_sync_are_renewed(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        path, skip = MID[kind]
        expire = getattr(fake, "expire_sessions" if kind == "sap_b1" else "expire_tokens")
        fake.fault(path, status=None, action=expire, skip=skip + 1)
        store = SnapshotStore(tmp_path / "s")
        connector = make_connector(kind, fake, tmp_path)
        run_sync(connector, store)
        same_as_expected(store)
        auth_paths = ("/oauth2/", "/Login")
        assert sum(1 for r in fake.log if any(p in r.path for p in auth_paths)) == 2


@pytest.mark.parametrize("kind", ["odoo17", "odoo19"])
def test_odoo_key_revoked_mid_sync_fails_and_keeps_the_previous_snapshot(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        store, before = _good_first(kind, fake, tmp_path)
        path, skip = MID[kind]
        fake.fault(path, status=None, action=lambda: setattr(fake, "api_key", "rotated"), skip=skip)
        with pytest.raises(AuthError, match="Odoo refused"):
            run_sync(make_connector(kind, fake, tmp_path), store)
        previous_kept(store, before)


def _corrupt(kind: str, fake: Any) -> str:
    """Break one record; return what the error must say to name it."""
    if kind.startswith("odoo"):
        rec = fake.find("stock.quant", quantity=12.0)
        rec["quantity"] = "twelve"
        return f"stock.quant id={rec['id']}"
    if kind == "business_central":
        line = fake.sets["salesOrderLines"][0]
        line["quantity"] = "five"
        return f"salesOrderLines id={line['id']!r}"
    if kind == "exact_online":
        line = fake.sets["sync/SalesOrder/SalesOrderLines"][1]
        line["DeliveryDate"] = "/Date(soon)/"
        line["Timestamp"] = 999_999
        return f"SalesOrderLines ID={line['ID']!r}"
    fake.sets["Items"][0]["AvgStdPrice"] = "n/a"
    return "Items ItemCode='BK-100'"


@pytest.mark.parametrize("kind", API_KINDS)
def test_malformed_record_is_named_and_nothing_changes(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        store, before = _good_first(kind, fake, tmp_path)
        where = _corrupt(kind, fake)
        with pytest.raises(SourceDataError) as info:
            run_sync(make_connector(kind, fake, tmp_path), store, full=True)
        assert where in str(info.value)
        previous_kept(store, before)


@pytest.mark.parametrize("kind", API_KINDS)
def test_page_disappearing_mid_sync_keeps_the_previous_snapshot(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        store, before = _good_first(kind, fake, tmp_path)
        if kind == "odoo17":
            missing = {
                "jsonrpc": "2.0",
                "id": 9,
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "name": "odoo.exceptions.MissingError",
                        "message": "Record does not exist or has been deleted.",
                        "arguments": [],
                        "context": {},
                        "debug": "",
                    },
                },
            }
            fake.fault("/jsonrpc", status=200, body=missing, skip=6)
            error: type[Exception] = ApiError
        elif kind == "odoo19":
            fake.fault("/json/2/stock.quant", status=404, skip=1)
            error = NotFoundError
        else:
            fake.fault(NEXT_PAGE[kind], status=404, skip=1)
            error = NotFoundError
        with pytest.raises(error):
            run_sync(make_connector(kind, fake, tmp_path), store)
        previous_kept(store, before)


def test_odoo_incremental_sync_reads_changes_and_drops_deleted(tmp_path: Path) -> None:
    with make_fake("odoo19") as fake:
        store, _ = _good_first("odoo19", fake, tmp_path)
        first_calls = len(fake.log)
        quant = fake.find("stock.quant", quantity=55.0)
        fake.touch(quant, "2026-06-01 07:30:00", quantity=50.0)
        gone = fake.find("stock.quant", quantity=3.0)
        fake.tables["stock.quant"].remove(gone)
        snap = run_sync(make_connector("odoo19", fake, tmp_path), store)
        stock = snap.stock.set_index(["sku", "warehouse"])["qty"]
        assert stock[("HL-300", "WH1")] == 50.0
        assert ("BK-100", "WH2") not in stock.index
        assert len(fake.log) - first_calls < first_calls * 2  # change reads are single short pages


def test_exact_sync_endpoints_use_timestamp_watermarks(tmp_path: Path) -> None:
    with make_fake("exact_online") as fake:
        store, _ = _good_first("exact_online", fake, tmp_path)
        state = store.load_state()
        assert state is not None and state["watermarks"]["SalesOrderLines"] > 0
        line = fake.sets["sync/SalesOrder/SalesOrderLines"][0]
        line.update(Quantity=7.0, Timestamp=fake.stamp())
        fake.log.clear()
        snap = run_sync(make_connector("exact_online", fake, tmp_path), store)
        filters = [r.query.get("$filter", "") for r in fake.log if "SalesOrderLines" in r.path]
        assert filters == [f"Timestamp gt {state['watermarks']['SalesOrderLines']}L"]
        assert snap.open_demand.set_index(["order_id", "sku"]).loc[("10001", "BK-100"), "qty"] == 7.0


def test_exact_refresh_token_rotation_is_persisted_0600(tmp_path: Path) -> None:
    with make_fake("exact_online") as fake:
        make_connector("exact_online", fake, tmp_path).fetch()
        token_file = tmp_path / "tokens" / "exact.json"
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        assert exf.FIRST_REFRESH not in token_file.read_text()
        fake.expire_tokens()
        make_connector("exact_online", fake, tmp_path).fetch()  # the rotated token from the file still works
        assert not [p for p in token_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_exact_minute_limit_from_headers_avoids_429(tmp_path: Path) -> None:
    with FakeExact(per_minute=6, minute_window=0.25) as fake:
        make_connector("exact_online", fake, tmp_path).fetch()
        assert fake.refused == 0


def test_exact_daily_limit_stops_before_the_server_refuses(tmp_path: Path) -> None:
    with FakeExact(per_day=5) as fake:
        with pytest.raises(RateLimitedError, match="daily API call limit"):
            make_connector("exact_online", fake, tmp_path).fetch()
        assert fake.refused == 0


def test_no_secret_reaches_logs_or_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sopxl")
    with make_fake("business_central") as fake:
        fake.fault("/api/v2.0/", status=429, count=2, headers={"Retry-After": "0"})
        fake.fault("/api/v2.0/", status=None, action=fake.expire_tokens, skip=4)
        make_connector("business_central", fake, tmp_path).fetch()
        fake.fault("/oauth2/", status=401, count=1, body={"error": "invalid_client", "error_description": "bad"})
        fake.expire_tokens()
        with pytest.raises(AuthError) as info:
            make_connector("business_central", fake, tmp_path).fetch()
    text = caplog.text + str(info.value)
    assert "http.retry" in caplog.text and "auth.renew" in caplog.text
    assert bcf.CLIENT_SECRET not in text and "bc-token-" not in text

"""Faults against a real trytond: wrong password, server stopped mid-sync, session expired server-side."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from connectors.tryton import TrytonConnector, TrytonLoginError, TrytonUnavailableError
from connectors.tryton.seed import DATABASE
from connectors.tryton.server import DemoServer, demo_server
from connectors.tryton.sync import SyncCache, sync
from tests.tryton_support import transport_for

pytestmark = pytest.mark.tryton


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(workdir=tmp_path_factory.mktemp("tryton-faults")) as server:
        yield server


def _db(demo: DemoServer) -> sqlite3.Connection:
    return sqlite3.connect(demo.workdir / f"{DATABASE}.sqlite", timeout=10)


def test_wrong_password_is_one_attempt_with_a_clear_message(demo: DemoServer) -> None:
    with closing(_db(demo)) as db:
        before = db.execute("SELECT count(*) FROM res_user_login_attempt").fetchone()[0]
    bad = demo.settings.model_copy(update={"password": SecretStr("not-the-password")})
    connector = TrytonConnector(bad)
    t = connector.transport()
    with pytest.raises(TrytonLoginError) as info:
        sync(t, connector.cache())
    assert t.requests_sent == 1
    message = str(info.value)
    assert "wrong user name or password" in message and "admin" in message
    assert "not-the-password" not in message
    with closing(_db(demo)) as db:
        after = db.execute("SELECT count(*) FROM res_user_login_attempt").fetchone()[0]
    assert after - before == 1
    # the right password still works (the user is not locked)
    TrytonConnector(demo.settings).transport().login()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_server_stopped_mid_sync_changes_nothing(demo: DemoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = SyncCache(demo.workdir / "midsync.sqlite", "demo")
    t = transport_for(demo, attempts=2)
    sync(t, cache)
    t.model(
        "production", "cancel", t.model("production", "search", [("state", "=", "draft")], 0, 1, None), idempotent=False
    )
    before, marks = _digest(cache.path), cache.watermarks()

    stopping = transport_for(demo, attempts=2)
    original = stopping._post
    calls = {"n": 0}

    def post_then_stop(method: str, params: object) -> requests.Response:
        calls["n"] += 1
        if calls["n"] == 8:  # several sources already fetched
            demo.stop()
        return original(method, params)  # type: ignore[arg-type]

    monkeypatch.setattr(stopping, "_post", post_then_stop)
    try:
        with pytest.raises(TrytonUnavailableError, match="cannot reach Tryton"):
            sync(stopping, cache, workers=1)  # one transport: the patched one sends every request
        assert _digest(cache.path) == before
        assert cache.watermarks() == marks
    finally:
        demo.start()
    _, report = sync(transport_for(demo), cache, overlap_seconds=0)
    assert len(report.changed["productions"]) == 1


def test_expired_session_logs_in_again_transparently(demo: DemoServer) -> None:
    t = transport_for(demo)
    cache = SyncCache(demo.workdir / "expired.sqlite", "demo")
    sync(t, cache)
    assert t.logins == 1
    with closing(_db(demo)) as db, db:
        db.execute("DELETE FROM ir_session")  # the server forgets every session
    snapshot, _ = sync(t, cache)
    assert t.logins == 2
    assert len(snapshot.items) == 24

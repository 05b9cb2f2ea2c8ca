"""Connections fail fast and never carry credentials in clear text; local stores are private.

- a refused connection (nothing listens) is one attempt and one line, not a retry storm per entity;
- plain ``http://`` to another machine is refused (API keys, tokens, sessions would cross the network
  unencrypted) unless the profile names it with ``allow_insecure_http = true``; loopback is fine;
- the local stores of ERP data, plans and audit trails are created readable by their owner only.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from addin.cli import app
from connectors.transport import ConfigError, HttpClient, RetryPolicy, UnavailableError, make_session
from connectors.transport.errors import UnreachableError
from connectors.tryton.transport import TrytonTransport

runner = CliRunner()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture()
def odoo_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    config = tmp_path / "sop.toml"
    config.write_text(
        f'[odoo]\nkind = "odoo"\nurl = "http://127.0.0.1:{closed_port()}"\ndatabase = "prod"\nusername = "sync"\n'
    )
    monkeypatch.setenv("SOP_ODOO_API_KEY", "k-123")
    yield config


def test_check_connection_to_a_port_nobody_listens_on_is_one_line_without_retries(
    odoo_profile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sopxl.transport")
    result = runner.invoke(app, ["check-connection", "odoo", "-c", str(odoo_profile)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert (
        lines[0].startswith("error: [odoo] Odoo: cannot connect to http://127.0.0.1:")
        and "connection refused" in lines[0]
    )
    assert not [r for r in caplog.records if "retry" in r.getMessage()]  # no backoff, so no sleeping either


def test_a_refused_connection_is_not_retried_and_the_client_stays_down() -> None:
    slept: list[float] = []
    client = HttpClient("Odoo", f"http://127.0.0.1:{closed_port()}/")
    client.clock = type(client.clock)(sleep=slept.append)
    with pytest.raises(UnreachableError, match="connection refused"):
        client.request("GET", "a")
    with pytest.raises(UnreachableError, match="connection refused"):
        client.request("GET", "b")  # the next entity: same answer, no network, no wait
    assert client.calls == 1 and slept == []


def test_a_dropped_connection_is_still_retried_within_the_policy() -> None:
    """Transient failures keep their bounded retries: only "nothing listens there" is final."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def hang_up() -> None:  # accept every connection and close it at once: the server drops it
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        client = HttpClient("Odoo", f"http://127.0.0.1:{listener.getsockname()[1]}/", retry=RetryPolicy(max_attempts=3))
        client.clock = type(client.clock)(sleep=lambda _s: None)
        with pytest.raises(UnavailableError, match="failed after 3 attempt") as caught:
            client.request("GET", "a")
        assert not isinstance(caught.value, UnreachableError) and client.calls == 3
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("odoo", ["url=http://erp.example.com", "database=prod", "username=sync"]),
        ("sap_b1", ["url=http://b1.example.com:50000", "company_db=SBO", "username=manager"]),
    ],
)
def test_plain_http_to_another_host_is_refused_with_the_reason(kind: str, settings: list[str], tmp_path: Path) -> None:
    config = tmp_path / "sop.toml"
    args = ["connect", kind, "-c", str(config), *[a for s in settings for a in ("--set", s)]]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "plain http to another machine: the credentials would cross the network unencrypted" in refused.output
    assert "allow_insecure_http = true" in refused.output
    assert not config.exists()
    allowed = runner.invoke(app, [*args, "--set", "allow_insecure_http=true"])
    assert allowed.exit_code == 0, allowed.output


def test_the_client_refuses_plain_http_unless_the_session_names_the_host() -> None:
    with pytest.raises(ConfigError, match="plain http to another machine"):
        HttpClient("Odoo", "http://erp.example.com/")
    HttpClient("Odoo", "http://127.0.0.1:8069/")  # loopback: never leaves the machine
    HttpClient("Odoo", "http://localhost:8069/")
    HttpClient("Odoo", "https://erp.example.com/")
    lab = HttpClient("Odoo", "http://erp.lab/", session=make_session(insecure_hosts=["erp.lab"]))
    with pytest.raises(ConfigError, match="plain http to another machine"):
        lab.url("http://elsewhere.example.com/page2")  # a next link to another host is still refused


def test_tryton_refuses_plain_http_to_another_host_unless_allowed() -> None:
    with pytest.raises(ConfigError, match=r"Tryton: http://erp\.example\.com:8000 is plain http"):
        TrytonTransport("http://erp.example.com:8000", "db", "admin", "pw")
    TrytonTransport("http://erp.example.com:8000", "db", "admin", "pw", allow_insecure_http=True).close()
    TrytonTransport("http://127.0.0.1:8000", "db", "admin", "pw").close()


def test_tryton_settings_accept_the_explicit_allowance(tmp_path: Path) -> None:
    from connectors.tryton.connector import TrytonConnector
    from connectors.tryton.settings import load_settings

    config = tmp_path / "sop.toml"
    config.write_text('[tryton]\nurl = "http://erp.lan:8000"\ndatabase = "d"\nuser = "u"\n')
    settings = load_settings(config, env={"SOP_TRYTON_PASSWORD": "x"})
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        TrytonConnector(settings).transport()
    config.write_text('[tryton]\nurl = "http://erp.lan:8000"\ndatabase = "d"\nuser = "u"\nallow_insecure_http = true\n')
    TrytonConnector(load_settings(config, env={"SOP_TRYTON_PASSWORD": "x"})).transport().close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def open_umask() -> Iterator[None]:
    """The usual umask (022): files are world-readable unless sopxl says otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_audit_plan_and_sync_stores_are_created_readable_by_their_owner_only(open_umask: None, tmp_path: Path) -> None:
    from connectors.sync import SnapshotStore, SyncResult
    from connectors.tryton.sync import SyncCache
    from sop_functions import clock
    from tests.crash_support import NOW, build_world
    from workbooks.forecast_audit import audit_path

    with clock.frozen(NOW):
        world = build_world(tmp_path / "w")
        done = runner.invoke(app, ["collect", str(world.reps), "-w", str(world.master)])
        assert done.exit_code == 0, done.output
        published = runner.invoke(app, ["publish", "-s", str(world.exports), "-w", str(world.master)])
        assert published.exit_code == 0, published.output
    assert _mode(audit_path(world.master)) == 0o600
    assert _mode(world.master.with_name("SOP.plans.sqlite")) == 0o600
    cache = SyncCache(tmp_path / ".sop-cache" / "tryton-x.sqlite", "id")
    with cache.transaction(full=True):
        pass
    assert _mode(cache.path) == 0o600 and _mode(cache.path.parent) == 0o700
    from connectors.files import read_export_folder

    store = SnapshotStore(tmp_path / ".sop-cache" / "odoo")
    folder = store.commit(SyncResult(read_export_folder(world.exports), {"raw": {}}))
    assert _mode(folder) == 0o700 and {_mode(p) for p in folder.iterdir()} == {0o600}


def test_requests_session_keeps_tls_verification(tmp_path: Path) -> None:
    session = make_session(insecure_hosts=["erp.lab"])
    assert isinstance(session, requests.Session) and session.verify is True

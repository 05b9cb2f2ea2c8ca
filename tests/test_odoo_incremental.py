"""Odoo's incremental sync finds deletions by count: ids are listed only when rows went (both APIs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sync import SnapshotStore, run_sync
from tests.connector_support import make_connector, make_fake
from tests.fakes.base import Req


def _calls(log: list[Req], kind: str) -> list[str]:
    """The Odoo methods called: JSON-2 names them in the path, JSON-RPC in the body."""
    if kind == "odoo19":
        return [r.path.rstrip("/").rsplit("/", 1)[-1] for r in log if "/json/2/" in r.path]
    bodies = [r.json()["params"] for r in log if r.path.endswith("/jsonrpc") and r.body]
    return [str(p["args"][4]) for p in bodies if p.get("method") == "execute_kw"]


@pytest.mark.parametrize("kind", ["odoo17", "odoo19"])
def test_ids_are_listed_only_when_rows_went(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        store = SnapshotStore(tmp_path / "store")
        run_sync(make_connector(kind, fake, tmp_path), store)
        fake.log.clear()
        run_sync(make_connector(kind, fake, tmp_path), store)  # nothing changed
        calls = _calls(fake.log, kind)
        assert "search_count" in calls and "search" not in calls, calls

        gone = fake.find("stock.quant", quantity=3.0)
        fake.tables["stock.quant"].remove(gone)
        fake.log.clear()
        snap = run_sync(make_connector(kind, fake, tmp_path), store)
        assert _calls(fake.log, kind).count("search") == 1  # only stock.quant's count fell short
        assert ("BK-100", "WH2") not in snap.stock.set_index(["sku", "warehouse"]).index

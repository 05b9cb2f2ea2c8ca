"""Publishing is keyed on the plan's content: the same plan twice is one version and one set of forecasts
in Tryton, even though a live ERP's as-of time moves between the two calls."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from addin import pipeline
from addin.publish import publish_plan
from sop_functions import clock
from workbooks.plan_store import open_store, plan_lines

NOW = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.UTC)
"""The clock of the store-only test (fixed). The Tryton test runs at noon of the ERP's own today, whose
seeded data follows the clock, so both pulls fall on one day whatever the hour."""


@pytest.fixture(scope="module")
def erp() -> Iterator[Any]:
    try:
        from connectors.tryton.server import demo_server
    except ImportError as exc:  # pragma: no cover - the harness is part of the repo
        pytest.skip(f"Tryton harness unavailable: {exc}")
    with demo_server(show_progress=False) as server:
        yield server


def noon() -> dt.datetime:
    return clock.now().replace(hour=12, minute=0, second=0, microsecond=0)


def _marked(server: Any, plan: str) -> dict[int, list[dict[str, Any]]]:
    """Forecasts in Tryton per sopxl version of ``plan`` (read back over JSON-RPC)."""
    from connectors.tryton.connector import TrytonConnector

    rpc = TrytonConnector(server.settings).transport()
    try:
        notes = rpc.model("ir.note", "search_read", [("message", "like", f"sopxl plan {plan} version %")], 0, None,
                          None, ["resource", "message"])  # fmt: skip
        by_version: dict[int, list[int]] = {}
        for n in notes:
            by_version.setdefault(int(n["message"].rsplit(" ", 1)[1]), []).append(int(n["resource"].split(",")[1]))
        return {
            v: rpc.model("stock.forecast", "read", ids, ["from_date", "state"], context={"active_test": False})
            for v, ids in by_version.items()
        }
    finally:
        rpc.close()


@pytest.mark.tryton
def test_the_same_plan_published_twice_against_a_live_erp_is_one_version_and_one_forecast_set(
    erp: Any, tmp_path: Path
) -> None:
    from connectors.tryton.connector import TrytonConnector

    at = noon()
    with clock.frozen(at):
        first_pull = TrytonConnector(erp.settings).snapshot(full=True)
    # The live ERP a little later: only as_of moved. as_of is Tryton's own clock (its replies' Date header,
    # whole seconds), and an incremental pull can end within the second of the full one: pull again then.
    for _ in range(20):
        with clock.frozen(at + dt.timedelta(minutes=7)):
            second_pull = TrytonConnector(erp.settings).snapshot()
        if second_pull.as_of > first_pull.as_of:
            break
        time.sleep(0.25)
    assert second_pull.as_of > first_pull.as_of
    book = tmp_path / "W.xlsx"
    with clock.frozen(at):
        pipeline.new_workbook(book, source=first_pull)
        one = publish_plan(book, source=first_pull, erp=erp.settings, who="ann")
        two = publish_plan(book, source=second_pull, erp=erp.settings, who="ann")
    assert one.created and one.version.version == 1
    assert not two.created and two.version.version == 1
    assert two.erp is not None and not two.erp.created
    with open_store(one.store_url) as store:
        assert [v.version for v in store.versions("W")] == [1]
    forecasts = _marked(erp, "W")
    assert list(forecasts) == [1]
    months = sorted(r["from_date"] for r in forecasts[1])
    assert len(months) == len(set(months)) == len(one.erp.forecast_ids if one.erp else ())  # one per month
    assert {r["state"] for r in forecasts[1]} == {"done"}


def test_a_version_stored_before_content_keys_still_matches_its_plan(tmp_path: Path) -> None:
    """Stores written by older sopxl hashed the as-of time into the fingerprint: the same plan published
    again after the upgrade must not become a second version."""
    lines = plan_lines(
        pd.DataFrame({"sku": ["A"], "family": ["F"], "bucket": ["2026-12"], "demand": [5.0], "supply": [1.0]}),
        pd.DataFrame({"family": ["F"], "bucket": ["2026-12"], "demand": [5.0], "supply": [1.0]}),
    )
    url = str(tmp_path / "p.plans.sqlite")
    with open_store(url) as store:
        store.publish(lines, plan="p", published_by="ann", source="s", as_of=NOW)
    with sqlite3.connect(url) as db:  # what an older version of sopxl stored: a fingerprint with the as-of
        db.execute("UPDATE sop_plan_version SET fingerprint = 'e3b0c44298fc1c149afbf4c8996fb924' WHERE plan = 'p'")
    with open_store(url) as store:
        again, created = store.publish(lines, plan="p", published_by="ann", source="s", as_of=NOW + dt.timedelta(1))
        assert not created and again.version == 1
        changed = lines.assign(demand=lines["demand"] + 1)
        newer, created = store.publish(changed, plan="p", published_by="ann", source="s", as_of=NOW)
        assert created and newer.version == 2

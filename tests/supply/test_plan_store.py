"""The plan store on SQLite and on a real PostgreSQL cluster the test starts (and stops)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sop_functions.versions import compare_lines
from workbooks.plan_store import PlanStoreError, default_store_url, open_store, plan_lines

from .support import AS_OF, BUCKETS

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def lines(scale: float = 1.0) -> pd.DataFrame:
    sku = pd.DataFrame(
        {
            "sku": ["A"] * 3 + ["B"] * 3,
            "family": "F",
            "bucket": BUCKETS * 2,
            "independent_demand": [1.0 * scale, 2.0, 3.0, 4.0, 5.0, 6.0],
            "supply_proposed": 1.0,
            "production": 0.0,
            "planned_production": 0.5,
            "projected_inventory_proposed": 0.0,
            "gap_value_proposed": -1.5,
        }
    )
    sums = ["independent_demand", "supply_proposed", "projected_inventory_proposed"]
    family = sku.groupby(["family", "bucket"], as_index=False)[sums].sum()
    family["gap_value_proposed"] = -3.0
    return plan_lines(sku, family)


def exercise(url: str) -> None:
    with open_store(url) as store:
        v1, created = store.publish(lines(), plan="team", published_by="ann", source="demo", as_of=AS_OF, note="S&OP")
        assert (v1.version, created, v1.published_by, v1.as_of) == (1, True, "ann", AS_OF)
        again, created = store.publish(lines(), plan="team", published_by="bob", source="demo", as_of=AS_OF)
        assert (again.version, created) == (1, False)  # same plan twice: no copy
        v2, created = store.publish(lines(2.0), plan="team", published_by="bob", source="demo", as_of=AS_OF)
        assert (v2.version, created) == (2, True)
        other, _ = store.publish(lines(), plan="other", published_by="cy", source="demo", as_of=AS_OF)
        assert other.version == 1  # numbered per plan history
        assert [v.version for v in store.versions("team")] == [1, 2]
        store.set_erp_status("team", 2, "published", "stock.forecast 7,8")
        assert store.version("team", 2).erp_reference == "stock.forecast 7,8"
        family = store.lines("team", 1, "family")
        assert family["bucket"].tolist() == BUCKETS and family["demand"].tolist() == [5.0, 7.0, 9.0]
        diff = compare_lines(store.lines("team", 1, "sku"), store.lines("team", 2, "sku"))
        assert diff.loc[(diff["item"] == "A") & (diff["bucket"] == "PAST_DUE"), "demand_change"].tolist() == [1.0]
        with pytest.raises(PlanStoreError, match="no version 9"):
            store.lines("team", 9)
        bad = lines()
        bad.loc[0, "demand"] = float("nan")
        with pytest.raises(PlanStoreError, match="missing or infinite"):
            store.publish(bad, plan="team", published_by="x", source="demo", as_of=AS_OF)
    with open_store(url) as store:  # persisted
        assert len(store.versions("team")) == 2


def test_sqlite_store_beside_the_workbook(tmp_path: Path) -> None:
    url = default_store_url(tmp_path / "SOP.xlsx")
    assert url.endswith("SOP.plans.sqlite")
    exercise(url)
    with pytest.raises(PlanStoreError, match="as-of"):
        open_store(url).publish(lines(), plan="t", published_by="x", source="s", as_of=dt.datetime(2026, 1, 1))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port, run as the ``postgres`` user."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="sopxl-pg-"))
    data = root / "data"
    if as_user:
        shutil.chown(root, "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True}
    subprocess.run([*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"], **run)  # type: ignore[call-overload]
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    start = [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w"]
    subprocess.run([*start, "start"], **run)  # type: ignore[call-overload]
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_store(postgres: str) -> None:
    exercise(postgres)

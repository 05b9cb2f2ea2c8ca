"""Every connector turns the one canonical data set, served in its ERP's own shape, into the same snapshot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from connectors.sync import SnapshotStore, run_sync
from sop_functions.snapshot import Snapshot
from tests.connector_support import API_KINDS, make_connector, make_fake, sql_connector
from tests.fakes import dataset as ds
from tests.pg_server import postgres_url  # noqa: F401 - the session fixture


def assert_same(snapshot: Snapshot) -> None:
    expected = ds.sorted_frames(ds.expected_snapshot())
    got = ds.sorted_frames(snapshot)
    assert snapshot.as_of == ds.AS_OF
    for entity, frame in expected.items():
        pd.testing.assert_frame_equal(got[entity], frame, obj=entity)


@pytest.mark.parametrize("kind", API_KINDS)
def test_api_connector_produces_the_canonical_snapshot(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        connector = make_connector(kind, fake, tmp_path)
        store = SnapshotStore(tmp_path / "store")
        assert_same(run_sync(connector, store))
        loaded = store.load_snapshot()
        assert loaded is not None
        assert_same(loaded)


def test_sql_sqlite_produces_the_canonical_snapshot(tmp_path: Path) -> None:
    assert_same(sql_connector(f"sqlite:///{tmp_path / 'erp.db'}").fetch().snapshot)


@pytest.mark.postgres
def test_sql_postgres_produces_the_canonical_snapshot(postgres_url: str) -> None:  # noqa: F811
    assert_same(sql_connector(postgres_url).fetch().snapshot)


def test_paging_really_happened(tmp_path: Path) -> None:
    """The fakes serve 2 records a page, so every connector followed several pages."""
    with make_fake("business_central") as fake:
        make_connector("business_central", fake, tmp_path).fetch()
        assert any("$skiptoken" in r.query for r in fake.log)
    with make_fake("exact_online") as fake:
        make_connector("exact_online", fake, tmp_path).fetch()
        assert any("$skiptoken" in r.query for r in fake.log)
    with make_fake("sap_b1") as fake:
        make_connector("sap_b1", fake, tmp_path).fetch()
        assert any("$skip" in r.query for r in fake.log)


def test_sql_bad_row_is_named_by_entity_and_row(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from sop_functions.snapshot import SnapshotError
    from tests.connector_support import QUERIES, SqlConnector, load_sql, now

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}")
    load_sql(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE onhand SET qty = NULL WHERE item_no = 'CP-400'"))
    with pytest.raises(SnapshotError, match=r"stock row 6 \(sku=CP-400, warehouse=WH1\): qty: missing"):
        SqlConnector(engine, QUERIES, now=now).fetch()

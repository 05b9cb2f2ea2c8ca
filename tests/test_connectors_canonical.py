"""Every connector turns the one canonical data set, served in its ERP's own shape, into the same snapshot:
boxed lines in pieces, lines without their own date by their order's, partial receipts by what is left. What
a connector cannot read as the ERP means it is left out (or given a stated fallback) with a warning."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
        assert store.load_warnings() == []  # the canonical data set is all readable


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


@pytest.mark.parametrize("kind", ["odoo17", "odoo19"])
def test_odoo_reads_the_company_of_the_profile(kind: str, tmp_path: Path) -> None:
    """Odoo shows a multi-company database's records per company: without ``company_id`` the API user's
    current company (the canonical data), with it exactly that company's orders and stock."""
    with make_fake(kind) as fake:
        other = make_connector(kind, fake, tmp_path, odoo_company=2).fetch().snapshot
    assert other.open_demand[["order_id", "sku", "qty"]].values.tolist() == [["C2-S1", "BK-100", 7.0]]
    assert other.stock[["sku", "warehouse", "qty"]].values.tolist() == [["BK-100", "CH1", 500.0]]
    assert other.receipts.empty and other.production.empty
    assert len(other.items) == len(ds.ITEMS)  # products are shared by the companies


def _odoo_unit_of_another_category(fake: Any) -> tuple[str, str]:
    line = next(r for r in fake.tables["sale.order.line"] if r["order_id"][1] == "10006")
    line["product_uom_id" if fake.version >= 19 else "product_uom"] = fake.uoms["kg"]
    return "sale.order.line", f"id={line['id']}"


def _bc_unit_without_item_unit(fake: Any) -> tuple[str, str]:
    fake.sets["itemUnitsOfMeasure"] = [r for r in fake.sets["itemUnitsOfMeasure"] if r["code"] != "BOX6"]
    line = next(r for r in fake.sets["salesOrderLines"] if r.get("unitOfMeasureCode") == "BOX6")
    return "salesOrderLines", f"id={line['id']!r}"


def _exact_order_without_date(fake: Any) -> tuple[str, str]:
    head = next(h for h in fake.sets["sync/SalesOrder/SalesOrderHeaders"] if h["OrderNumber"] == 10003)
    head["DeliveryDate"] = None
    line = next(r for r in fake.sets["sync/SalesOrder/SalesOrderLines"] if r["OrderID"] == head["OrderID"])
    return "SalesOrderLines", f"ID={line['ID']!r}"


def _sap_order_without_date(fake: Any) -> tuple[str, str]:
    doc = next(d for d in fake.sets["Orders"] if d["DocNum"] == 10003)
    doc["DocDueDate"] = None
    return "Orders.DocumentLines", "DocNum=10003"


UNREADABLE: dict[str, tuple[Callable[[Any], tuple[str, str]], str, str]] = {
    # kind: (break one record, entity, what is done with it)
    "odoo17": (_odoo_unit_of_another_category, "open_demand", "left out"),
    "odoo19": (_odoo_unit_of_another_category, "open_demand", "left out"),
    "business_central": (_bc_unit_without_item_unit, "open_demand", "left out"),
    "exact_online": (_exact_order_without_date, "open_demand", f"due {ds.AS_OF.date()}"),
    "sap_b1": (_sap_order_without_date, "open_demand", f"due {ds.AS_OF.date()}"),
}


@pytest.mark.parametrize("kind", API_KINDS)
def test_an_unreadable_record_is_a_warning_not_a_guess(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A line whose unit has no conversion, or that has no date at all, does not stop the sync: it is left
    out (or due at the as-of date), named in a warning that is logged and stored with the snapshot."""
    breaker, entity, action = UNREADABLE[kind]
    with make_fake(kind) as fake:
        table, record = breaker(fake)
        store = SnapshotStore(tmp_path / "store")
        with caplog.at_level(logging.WARNING, logger="sopxl.connectors"):
            snapshot = run_sync(make_connector(kind, fake, tmp_path), store)
    (warning,) = store.load_warnings()
    assert (warning.entity, warning.table) == (entity, table)
    assert record in warning.record and action in warning.message
    assert str(warning) in caplog.text
    expected = ds.expected_snapshot().open_demand
    got = snapshot.open_demand
    if action == "left out":
        assert len(got) == len(expected) - 1 and "10006" not in set(got["order_id"])
    else:
        assert got.loc[got["order_id"] == "10003", "requested_date"].tolist() == [pd.Timestamp(ds.AS_OF.date())]


def _no_category(kind: str, fake: Any) -> None:
    """Take the helmet (HL-300) out of every category, the way each ERP can hold it."""
    if kind.startswith("odoo"):
        next(r for r in fake.tables["product.product"] if r["default_code"] == "HL-300")["categ_id"] = False
    elif kind == "business_central":
        next(r for r in fake.sets["items"] if r["number"] == "HL-300")["itemCategoryCode"] = ""
    elif kind == "exact_online":
        next(r for r in fake.sets["sync/Logistics/Items"] if r["Code"] == "HL-300")["ItemGroupDescription"] = None
    else:
        next(r for r in fake.sets["Items"] if r["ItemCode"] == "HL-300")["ItemsGroupCode"] = None


@pytest.mark.parametrize("kind", API_KINDS)
def test_an_item_without_category_is_planned_as_uncategorized_with_a_warning(kind: str, tmp_path: Path) -> None:
    with make_fake(kind) as fake:
        _no_category(kind, fake)
        result = make_connector(kind, fake, tmp_path).fetch()
    items = result.snapshot.items.set_index("sku")
    assert items.loc["HL-300", "family"] == "Uncategorized"
    assert (items.drop(index="HL-300")["family"] != "Uncategorized").all()
    (warning,) = result.warnings
    assert warning.entity == "items" and "HL-300" in warning.record and "no category" in warning.message


def test_export_folder_produces_the_canonical_snapshot(tmp_path: Path) -> None:
    """An export of the canonical data in the documented format (quantities already in the items' units,
    open quantities, one date per line: docs/export-files.md) reads back as the same snapshot."""
    from connectors.files import read_export_folder

    for entity, rows in ds.canonical_records().items():
        frame = pd.DataFrame(rows)
        for column in frame.columns:
            if frame[column].map(lambda v: isinstance(v, dt.date)).any():
                frame[column] = frame[column].map(lambda v: v.isoformat() if isinstance(v, dt.date) else "")
        frame.to_csv(tmp_path / f"{entity}.csv", index=False)
    (tmp_path / "mapping.toml").write_text(f'[snapshot]\nas_of = "{ds.AS_OF.isoformat()}"\n', encoding="utf-8")
    assert_same(read_export_folder(tmp_path))

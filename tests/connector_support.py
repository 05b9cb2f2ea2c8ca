"""Builds each connector against its fake (or a SQL database loaded with the canonical data set)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connectors.business_central import BusinessCentralConnector, bc_error, parse_custom_pages
from connectors.exact_online import ExactConnector, exact_error
from connectors.odoo import Json2, JsonRpc, OdooConnector, StaticKey, company_context, json2_error
from connectors.sap_b1 import SapB1Connector, SapSession, sap_error
from connectors.sql import SqlConnector
from connectors.sync import Connector
from connectors.transport import FileTokenStore, HttpClient, RateLimiter, RefreshToken, RetryPolicy
from connectors.transport.oauth import ClientCredentials
from tests.fakes import business_central as bcf
from tests.fakes import dataset as ds
from tests.fakes import exact_online as exf
from tests.fakes import sap_b1 as sapf
from tests.fakes.base import FakeERP
from tests.fakes.business_central import FakeBusinessCentral
from tests.fakes.exact_online import FakeExact
from tests.fakes.odoo import FakeOdoo
from tests.fakes.sap_b1 import FakeSapB1

API_KINDS = ["odoo17", "odoo19", "business_central", "exact_online", "sap_b1"]
TIMEOUT = (1.0, 0.3)
"""Read timeout 0.3 s: a fault delaying 0.6 s is a timeout."""


def fast_retry(attempts: int = 6) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, base_delay=0.001, max_delay=0.01, max_total=10.0, rng=random.Random(1))


def make_fake(kind: str) -> FakeERP:
    if kind.startswith("odoo"):
        return FakeOdoo(version=int(kind[4:]))
    return {"business_central": FakeBusinessCentral, "exact_online": FakeExact, "sap_b1": FakeSapB1}[kind]()


def now() -> dt.datetime:
    return ds.AS_OF


def make_connector(
    kind: str, fake: Any, tmp: Path, retry: RetryPolicy | None = None, odoo_company: int = 0
) -> Connector:
    retry = retry or fast_retry()
    common: dict[str, Any] = {"retry": retry, "timeout": TIMEOUT}
    context = company_context(odoo_company)
    if kind == "odoo17":
        return OdooConnector(
            JsonRpc(HttpClient("Odoo", fake.url, **common), fake.db, fake.login, fake.api_key, context),
            version=17,
            page_size=2,
            now=now,
        )
    if kind == "odoo19":
        client = HttpClient("Odoo", fake.url, auth=StaticKey(fake.api_key), error_parser=json2_error, **common)
        return OdooConnector(Json2(client, fake.db, context), version=19, page_size=2, now=now)
    if kind == "business_central":
        auth = ClientCredentials(
            "Business Central",
            f"{fake.url}/{bcf.TENANT}/oauth2/v2.0/token",
            bcf.CLIENT_ID,
            bcf.CLIENT_SECRET,
            "https://api.businesscentral.dynamics.com/.default",
            retry=retry,
        )
        client = HttpClient(
            "Business Central",
            f"{fake.url}/v2.0/{bcf.TENANT}/{bcf.ENV}/api/",
            auth=auth,
            error_parser=bc_error,
            **common,
        )
        return BusinessCentralConnector(
            client, bcf.COMPANY, custom=parse_custom_pages(bcf.CUSTOM_PAGES), page_size=3, now=now
        )
    if kind == "exact_online":
        store = FileTokenStore(tmp / "tokens" / "exact.json")
        if store.load() is None:
            store.save({"refresh_token": exf.FIRST_REFRESH})
        auth2 = RefreshToken(
            "Exact Online", f"{fake.url}/api/oauth2/token", exf.CLIENT_ID, exf.CLIENT_SECRET, store, retry=retry
        )
        client = HttpClient(
            "Exact Online",
            f"{fake.url}/api/v1/{exf.DIVISION}/",
            auth=auth2,
            error_parser=exact_error,
            limiter=RateLimiter(60, 5000),
            **common,
        )
        return ExactConnector(client, work_days_per_month=ds.WORK_DAYS_PER_MONTH, now=now)
    if kind == "sap_b1":
        base = f"{fake.url}/b1s/v1/"
        sess = SapSession(base, sapf.COMPANY_DB, sapf.USER, sapf.PASSWORD)
        client = HttpClient("SAP Business One", base, auth=sess, error_parser=sap_error, **common)
        hours = {c: h for c, _n, _c, _e, h in ds.WORK_CENTERS}
        return SapB1Connector(client, work_center_hours=hours, page_size=3, now=now)
    raise KeyError(kind)


# ------------------------------------------------------------------ SQL: a home-grown ERP schema
META = sa.MetaData()
T = {
    "art": sa.Table(
        "art",
        META,
        sa.Column("item_no", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(80)),
        sa.Column("grp", sa.String(40)),
        sa.Column("unit", sa.String(10)),
        sa.Column("std_cost", sa.Float),
        sa.Column("list_price", sa.Float),
        sa.Column("lead_days", sa.Integer),
        sa.Column("safety_qty", sa.Float),
        sa.Column("moq", sa.Float),
        sa.Column("order_mult", sa.Float),
    ),
    "onhand": sa.Table(
        "onhand", META, sa.Column("item_no", sa.String(20)), sa.Column("whs", sa.String(10)), sa.Column("qty", sa.Float)
    ),
    "so_heads": sa.Table(
        "so_heads", META, sa.Column("order_no", sa.String(20), primary_key=True), sa.Column("req_date", sa.Date)
    ),
    "so_lines": sa.Table(  # quantities in the line's unit: `pack` items each; req_date empty = the order's
        "so_lines",
        META,
        sa.Column("order_no", sa.String(20)),
        sa.Column("item_no", sa.String(20)),
        sa.Column("qty", sa.Float),
        sa.Column("qty_shipped", sa.Float),
        sa.Column("pack", sa.Float),
        sa.Column("req_date", sa.Date),
        sa.Column("cust", sa.String(80)),
    ),
    "deliveries": sa.Table(
        "deliveries",
        META,
        sa.Column("item_no", sa.String(20)),
        sa.Column("qty", sa.Float),
        sa.Column("ship_date", sa.Date),
        sa.Column("cust", sa.String(80)),
    ),
    "po_heads": sa.Table(
        "po_heads", META, sa.Column("order_no", sa.String(20), primary_key=True), sa.Column("due", sa.Date)
    ),
    "po_lines": sa.Table(
        "po_lines",
        META,
        sa.Column("order_no", sa.String(20)),
        sa.Column("item_no", sa.String(20)),
        sa.Column("qty", sa.Float),
        sa.Column("qty_recv", sa.Float),
        sa.Column("pack", sa.Float),
        sa.Column("due", sa.Date),
        sa.Column("vendor", sa.String(80)),
    ),
    "mo": sa.Table(
        "mo",
        META,
        sa.Column("order_no", sa.String(20)),
        sa.Column("item_no", sa.String(20)),
        sa.Column("qty", sa.Float),
        sa.Column("qty_done", sa.Float),
        sa.Column("due", sa.Date),
        sa.Column("start", sa.Date),
        sa.Column("status", sa.String(1)),
    ),
    "wc": sa.Table(
        "wc",
        META,
        sa.Column("code", sa.String(10)),
        sa.Column("name", sa.String(80)),
        sa.Column("hours_month", sa.Float),
    ),
    "routing": sa.Table(
        "routing",
        META,
        sa.Column("item_no", sa.String(20)),
        sa.Column("wc", sa.String(10)),
        sa.Column("hrs_batch", sa.Float),
        sa.Column("batch", sa.Float),
    ),
    "bom": sa.Table(
        "bom",
        META,
        sa.Column("parent", sa.String(20)),
        sa.Column("comp", sa.String(20)),
        sa.Column("qty", sa.Float),
        sa.Column("batch", sa.Float),
    ),
}
QUERIES = {
    "items": "SELECT item_no AS sku, name AS description, grp AS family, unit AS uom, std_cost AS unit_cost, "
    "list_price AS unit_price, lead_days AS lead_time_days, safety_qty AS safety_stock, moq AS lot_min, "
    "order_mult AS lot_multiple FROM art",
    "stock": "SELECT item_no AS sku, whs AS warehouse, qty FROM onhand",
    "open_demand": "SELECT l.order_no AS order_id, item_no AS sku, (qty - qty_shipped) * pack AS qty, "
    "COALESCE(l.req_date, h.req_date) AS requested_date, cust AS customer "
    "FROM so_lines l JOIN so_heads h ON h.order_no = l.order_no WHERE qty > qty_shipped",
    "shipments": "SELECT item_no AS sku, qty, ship_date, cust AS customer FROM deliveries "
    "WHERE ship_date <= :as_of_date",
    "receipts": "SELECT l.order_no AS order_id, item_no AS sku, (qty - qty_recv) * pack AS qty, "
    "COALESCE(l.due, h.due) AS expected_date, vendor AS supplier "
    "FROM po_lines l JOIN po_heads h ON h.order_no = l.order_no WHERE qty > qty_recv",
    "production": "SELECT order_no AS order_id, item_no AS sku, qty - qty_done AS qty, due AS due_date, "
    "CASE status WHEN 'P' THEN 'planned' WHEN 'F' THEN 'firm' ELSE 'running' END AS state, start AS start_date "
    "FROM mo WHERE status IN ('P', 'F', 'R')",
    "work_centers": "SELECT code, name, hours_month AS hours_per_month FROM wc",
    "routings": "SELECT item_no AS sku, wc AS work_center, hrs_batch / batch AS hours_per_unit FROM routing",
    "bom": "SELECT parent AS parent_sku, comp AS component_sku, qty / batch AS qty_per FROM bom",
}


def load_sql(engine: sa.Engine) -> None:
    META.drop_all(engine)
    META.create_all(engine)
    codes = {"planned": "P", "firm": "F", "running": "R"}

    def pack(order: str, sku: str) -> float:
        unit = ds.LINE_UNITS.get((order, sku))
        return ds.UNITS[unit] if unit else 1.0

    def own_date(order: str, sku: str, day: dt.date) -> dt.date | None:
        return None if (order, sku) in ds.HEADER_DATED else day

    rows: dict[str, list[dict[str, Any]]] = {
        "art": [
            dict(
                zip(
                    ["item_no", "name", "grp", "unit", "std_cost", "list_price", "lead_days", "safety_qty"],
                    i[:8],
                    strict=True,
                )
            )
            | dict(zip(["moq", "order_mult"], ds.LOTS.get(i[0], (0.0, 0.0)), strict=True))
            for i in ds.ITEMS
        ],
        "onhand": [{"item_no": s, "whs": w, "qty": q} for s, w, q in ds.STOCK],
        "so_heads": [
            {"order_no": o, "req_date": dd if (o, s) in ds.HEADER_DATED else dt.date(2026, 5, 1)}
            for o, s, *_, dd, _c in ds.SALES_LINES
            if s == next(x[1] for x in ds.SALES_LINES if x[0] == o)
        ],
        "so_lines": [
            {
                "order_no": o,
                "item_no": s,
                "qty": q / pack(o, s),
                "qty_shipped": d / pack(o, s),
                "pack": pack(o, s),
                "req_date": own_date(o, s, dd),
                "cust": c,
            }
            for o, s, q, d, dd, c in ds.SALES_LINES
        ],
        "deliveries": [{"item_no": s, "qty": q, "ship_date": d, "cust": c} for s, q, d, c in ds.SHIPMENTS]
        + [{"item_no": "BK-100", "qty": 1.0, "ship_date": dt.date(2026, 6, 3), "cust": "Future"}],
        "po_heads": [
            {"order_no": o, "due": d if (o, s) in ds.HEADER_DATED else dt.date(2026, 5, 1)}
            for o, s, _q, _r, d, _c in ds.PURCHASE_LINES
            if s == next(x[1] for x in ds.PURCHASE_LINES if x[0] == o)
        ],
        "po_lines": [
            {
                "order_no": o,
                "item_no": s,
                "qty": q / pack(o, s),
                "qty_recv": r / pack(o, s),
                "pack": pack(o, s),
                "due": own_date(o, s, d),
                "vendor": c,
            }
            for o, s, q, r, d, c in ds.PURCHASE_LINES
        ],
        "mo": [
            {
                "order_no": o,
                "item_no": s,
                "qty": q,
                "qty_done": d,
                "due": dd,
                "start": ds.PRODUCTION_STARTS.get(o),
                "status": codes[st],
            }
            for o, s, q, d, dd, st in ds.PRODUCTION
        ]
        + [
            {
                "order_no": "30099",
                "item_no": "BK-100",
                "qty": 4.0,
                "qty_done": 4.0,
                "due": dt.date(2026, 5, 1),
                "start": None,
                "status": "C",
            }
        ],
        "wc": [{"code": c, "name": n, "hours_month": h} for c, n, _, _, h in ds.WORK_CENTERS],
        "routing": [
            {"item_no": p, "wc": w, "hrs_batch": h, "batch": b} for p, (b, _, ops) in ds.BOMS.items() for w, h in ops
        ],
        "bom": [
            {"parent": p, "comp": c, "qty": q, "batch": b} for p, (b, lines, _) in ds.BOMS.items() for c, q in lines
        ],
    }
    with engine.begin() as conn:
        for name, data in rows.items():
            conn.execute(T[name].insert(), data)


def sql_connector(url: str) -> SqlConnector:
    engine = sa.create_engine(url)
    load_sql(engine)
    return SqlConnector(engine, QUERIES, now=now)

"""SAP Business One Service Layer.

Login: ``POST /b1s/v1/Login {"CompanyDB", "UserName", "Password"}`` answers ``SessionId`` and
``SessionTimeout`` (minutes, 30 by default) and sets the ``B1SESSION`` and ``ROUTEID`` (load balancer
node) cookies, sent with every later request. An expired session answers 401 (error code 301, "Invalid
session"); the client logs in again once and resends. Collections page with ``Prefer:
odata.maxpagesize=N`` and a ``odata.nextLink`` relative to the service root.

Read: ``Items`` (inventory items: ``ItemWarehouseInfoCollection.InStock`` per warehouse, ``AvgStdPrice``,
``ItemPrices`` of the configured price list, ``LeadTime``, ``MinInventory``, ``MinOrderQuantity``,
``OrderMultiple``, group name from ``ItemGroups``), open ``Orders`` / ``PurchaseOrders`` (open lines'
``RemainingOpenInventoryQuantity``: the open quantity in the inventory unit, where ``RemainingOpenQuantity``
is in the line's unit of measure; ``ShipDate``, else the document's ``DocDueDate``),
``DeliveryNotes`` and ``Returns`` (history), ``ProductionOrders`` (planned -> planned; released ->
firm, or running once some quantity is completed), ``Resources`` (work centers) and ``ProductTrees``
(item lines -> BOM, resource lines -> routings, per tree quantity). Resource capacity is not read
(it lives in per-day capacity tables); give hours per month per resource in ``work_center_hours``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import requests

from connectors.families import family_or_uncategorized
from connectors.sync import EntityStatus, SyncResult
from connectors.transport import (
    ApiError,
    AuthError,
    ConnectorError,
    HttpClient,
    NotFoundError,
    Reader,
    Row,
    link_pages,
    sap_odata,
)
from connectors.transport.redact import excerpt
from connectors.transport.retry import Clock
from sop_functions import clock
from sop_functions.snapshot import snapshot_from_records


def sap_error(resp: requests.Response) -> ApiError:
    """``{"error": {"code": -1, "message": {"lang": "en-us", "value": "..."}}}``."""
    try:
        err = resp.json()["error"]
        message, code = str(err["message"]["value"]), str(err.get("code", ""))
    except (ValueError, KeyError, TypeError):
        message, code = excerpt(resp.text, 200), ""
    cls = NotFoundError if resp.status_code in (404, 410) else ApiError
    return cls("SAP Business One", resp.status_code, message or resp.reason or "", code)


class SapSession:
    """Logs in lazily, re-logs in shortly before ``SessionTimeout`` and when the server says 401."""

    def __init__(self, base_url: str, company_db: str, user: str, password: str, clock: Clock | None = None) -> None:
        self.base_url = base_url
        self.company_db, self.user, self.password = company_db, user, password
        self.clock = clock or Clock()
        self.cookie: str | None = None
        self.expires_at = 0.0
        self.logins = 0

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.cookie) if s)

    def refresh(self, session: requests.Session) -> None:
        client = HttpClient(
            "SAP Business One", self.base_url, session=session, error_parser=sap_error, clock=self.clock
        )
        body = {"CompanyDB": self.company_db, "UserName": self.user, "Password": self.password}
        try:
            resp = client.request("POST", "Login", json=body, use_auth=False)
        except ApiError as exc:
            if exc.status in (400, 401):
                raise AuthError(
                    f"SAP Business One refused the login of {self.user!r} to {self.company_db!r}: {exc.message}"
                ) from exc
            raise
        session_id = resp.cookies.get("B1SESSION") or (resp.json() or {}).get("SessionId")
        if not session_id:
            raise AuthError("SAP Business One login answered without a B1SESSION")
        route = resp.cookies.get("ROUTEID")
        self.cookie = f"B1SESSION={session_id}" + (f"; ROUTEID={route}" if route else "")
        minutes = float((resp.json() or {}).get("SessionTimeout", 30))
        self.expires_at = self.clock.wall() + minutes * 60.0
        self.logins += 1

    def apply(self, headers: dict[str, str], session: requests.Session) -> None:
        if self.cookie is None or self.clock.wall() > self.expires_at - 60.0:
            self.refresh(session)
        headers["Cookie"] = self.cookie or ""


def _inventory_qty(row: Row, inventory_field: str, line_field: str) -> float:
    """A document line's quantity in the item's inventory unit: the ``...Inventory...`` field when the
    Service Layer gives it, else the line-unit quantity times ``UnitsOfMeasurment`` (items per unit)."""
    if row.get(inventory_field) is not None:
        return row.num(inventory_field)
    return row.num(line_field) * (row.num("UnitsOfMeasurment", required=False, default=1.0) or 1.0)


TABLES: dict[str, tuple[str, dict[str, str], str]] = {
    "Items": (
        "Items",
        {
            "$select": "ItemCode,ItemName,ItemsGroupCode,InventoryUOM,AvgStdPrice,ItemPrices,LeadTime,"
            "MinInventory,MinOrderQuantity,OrderMultiple,ItemWarehouseInfoCollection",
            "$filter": "InventoryItem eq 'tYES'",
        },
        "items",
    ),
    "ItemGroups": ("ItemGroups", {"$select": "Number,GroupName"}, "items"),
    "Orders": (
        "Orders",
        {"$select": "DocEntry,DocNum,CardName,DocDueDate,DocumentLines", "$filter": "DocumentStatus eq 'bost_Open'"},
        "open_demand",
    ),
    "PurchaseOrders": (
        "PurchaseOrders",
        {"$select": "DocEntry,DocNum,CardName,DocDueDate,DocumentLines", "$filter": "DocumentStatus eq 'bost_Open'"},
        "receipts",
    ),
    "DeliveryNotes": ("DeliveryNotes", {"$select": "DocEntry,DocDate,CardName,DocumentLines"}, "shipments"),
    "Returns": ("Returns", {"$select": "DocEntry,DocDate,CardName,DocumentLines"}, "shipments"),
    "ProductionOrders": (
        "ProductionOrders",
        {
            "$select": "AbsoluteEntry,DocumentNumber,ItemNo,PlannedQuantity,"
            "CompletedQuantity,DueDate,StartDate,ProductionOrderStatus",
            "$filter": "ProductionOrderStatus eq 'boposPlanned' or ProductionOrderStatus eq 'boposReleased'",
        },
        "production",
    ),
    "Resources": ("Resources", {"$select": "Code,Name"}, "work_centers"),
    "ProductTrees": ("ProductTrees", {"$select": "TreeCode,Quantity,ProductTreeLines"}, "bom"),
}


class SapB1Connector:
    kind = "sap_b1"

    def __init__(
        self,
        client: HttpClient,
        *,
        price_list: int = 1,
        work_center_hours: Mapping[str, float] | None = None,
        page_size: int = 100,
        now: Callable[[], dt.datetime] | None = None,
        source: str = "sap_b1",
    ) -> None:
        self.client = client
        self.price_list = price_list
        self.work_center_hours = dict(work_center_hours or {})
        self.page_size = page_size
        self.now = now or clock.now
        self.source = source

    def _all(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        out: list[dict[str, Any]] = []
        for page in link_pages(self.client, path, sap_odata, params, headers):
            out.extend(page)
        return out

    def fetch(self, previous: dict[str, Any] | None = None) -> SyncResult:
        as_of = self.now()
        raw = {name: self._all(path, params) for name, (path, params, _e) in TABLES.items()}
        reader = Reader(self.source)
        records = self.map(raw, reader, as_of.date())
        reader.check()
        return SyncResult(snapshot_from_records(self.source, as_of, records), {"raw": raw}, list(reader.notes))

    def map(
        self, raw: dict[str, list[dict[str, Any]]], reader: Reader, as_of: dt.date
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        groups = {g.get("Number"): g.get("GroupName") for g in raw["ItemGroups"]}
        for rec in raw["Items"]:
            row = reader.row("Items", rec, "ItemCode")
            sku = row.text("ItemCode")
            family = family_or_uncategorized(row, str(groups.get(rec.get("ItemsGroupCode")) or ""))
            prices = [p for p in rec.get("ItemPrices") or [] if p.get("PriceList") == self.price_list]
            item = {
                "sku": sku,
                "description": row.text("ItemName", False),
                "family": family,
                "uom": row.text("InventoryUOM"),
                "unit_cost": row.num("AvgStdPrice"),
                "unit_price": float(prices[0].get("Price") or 0.0) if prices else 0.0,
                "lead_time_days": int(row.num("LeadTime", False)),
                "safety_stock": row.num("MinInventory", False),
                "lot_min": row.num("MinOrderQuantity", False),
                "lot_multiple": row.num("OrderMultiple", False),
            }
            for wh in rec.get("ItemWarehouseInfoCollection") or []:
                wrow = reader.row(
                    "Items.ItemWarehouseInfoCollection", {**wh, "ItemCode": sku}, "ItemCode", "WarehouseCode"
                )
                code, qty = wrow.text("WarehouseCode"), wrow.num("InStock")
                if wrow.ok and qty != 0:
                    out["stock"].append({"sku": sku, "warehouse": code, "qty": qty})
            if row.ok:
                out["items"].append(item)
        for table, entity, date_key, party_key in (
            ("Orders", "open_demand", "requested_date", "customer"),
            ("PurchaseOrders", "receipts", "expected_date", "supplier"),
        ):
            for doc in raw[table]:
                for line in doc.get("DocumentLines") or []:
                    row = reader.row(
                        f"{table}.DocumentLines", {**line, "DocNum": doc.get("DocNum")}, "DocNum", "LineNum"
                    )
                    qty = _inventory_qty(row, "RemainingOpenInventoryQuantity", "RemainingOpenQuantity")
                    day = row.date("ShipDate", required=False) or reader.row(table, doc, "DocNum").date(
                        "DocDueDate", required=False
                    )
                    if day is None:
                        row.warn(entity, f"no ShipDate nor DocDueDate: due {as_of}")
                        day = as_of
                    rec_out = {
                        "order_id": str(doc.get("DocNum")),
                        "sku": row.text("ItemCode"),
                        "qty": qty,
                        date_key: day,
                        party_key: str(doc.get("CardName") or ""),
                    }
                    if row.ok and line.get("LineStatus", "bost_Open") == "bost_Open" and qty > 1e-9:
                        out[entity].append(rec_out)
        for table, sign in (("DeliveryNotes", 1.0), ("Returns", -1.0)):
            for doc in raw[table]:
                drow = reader.row(table, doc, "DocEntry")
                date = drow.date("DocDate")
                for line in doc.get("DocumentLines") or []:
                    row = reader.row(
                        f"{table}.DocumentLines", {**line, "DocEntry": doc.get("DocEntry")}, "DocEntry", "LineNum"
                    )
                    ship = {
                        "sku": row.text("ItemCode"),
                        "qty": sign * _inventory_qty(row, "InventoryQuantity", "Quantity"),
                        "ship_date": date,
                        "customer": str(doc.get("CardName") or ""),
                    }
                    if row.ok and drow.ok:
                        out["shipments"].append(ship)
        for rec in raw["ProductionOrders"]:
            row = reader.row("ProductionOrders", rec, "AbsoluteEntry", "DocumentNumber")
            done = row.num("CompletedQuantity", False)
            status = rec.get("ProductionOrderStatus")
            state = (
                "planned"
                if status == "boposPlanned"
                else ("running" if done > 0 else "firm")
                if status == "boposReleased"
                else None
            )
            remaining = row.num("PlannedQuantity") - done
            order = {
                "order_id": row.text("DocumentNumber"),
                "sku": row.text("ItemNo"),
                "qty": remaining,
                "due_date": row.date("DueDate"),
                "state": state,
                "start_date": row.date("StartDate", False),
            }
            if row.ok and state and remaining > 1e-9:
                out["production"].append(order)
        for rec in raw["Resources"]:
            row = reader.row("Resources", rec, "Code")
            code = row.text("Code")
            if row.ok:
                out["work_centers"].append(
                    {"code": code, "name": row.text("Name", False), "hours_per_month": self.work_center_hours.get(code)}
                )
        for tree in raw["ProductTrees"]:
            trow = reader.row("ProductTrees", tree, "TreeCode")
            parent, batch = trow.text("TreeCode"), trow.num("Quantity")
            if batch <= 0:
                reader.add("ProductTrees", trow.label, "Quantity", f"must be > 0, got {batch}")
                continue
            for line in tree.get("ProductTreeLines") or []:
                row = reader.row("ProductTrees.ProductTreeLines", {**line, "TreeCode": parent}, "TreeCode", "ItemCode")
                code, qty = row.text("ItemCode"), row.num("Quantity")
                if not (row.ok and trow.ok):
                    continue
                if line.get("ItemType") == "pit_Resource":
                    out["routings"].append({"sku": parent, "work_center": code, "hours_per_unit": qty / batch})
                elif line.get("ItemType", "pit_Item") == "pit_Item":
                    out["bom"].append({"parent_sku": parent, "component_sku": code, "qty_per": qty / batch})
        return dict(out)

    def check(self) -> list[EntityStatus]:
        result = []
        for _name, (path, params, entity) in TABLES.items():
            try:
                self.client.json("GET", path, params={"$select": params["$select"].split(",")[0], "$top": "1"})
                result.append(EntityStatus(entity, "ok", path))
            except ConnectorError as exc:
                result.append(EntityStatus(entity, "error", path, str(exc)))
        if not self.work_center_hours:
            result.append(
                EntityStatus(
                    "work_centers",
                    "missing",
                    "Resources",
                    "capacity is not read from SAP B1; set work_center_hours in sop.toml",
                )
            )
        return result

"""Exact Online: ``{base}/api/v1/{division}/...``.

Incremental tables use the ``/sync/`` endpoints (up to 1,000 records a page, ``$filter=Timestamp gt
<watermark>L``; the watermark is the highest ``Timestamp`` seen and is stored with the snapshot, so the
next sync reads only what changed); the rest are read in full (60 a page via ``d.__next``). Access tokens
last 10 minutes; each refresh returns a new refresh token, persisted before use (see
:mod:`connectors.transport.oauth`). The client keeps to 60 calls a minute and stops before the daily
limit, both read from ``X-RateLimit-Minutely-*`` / ``X-RateLimit-*`` headers.

Quantities are in the item's unit: ``SalesOrderLines.Quantity`` is "in default units" (the screen shows
``Quantity * UnitFactor``) and ``PurchaseOrderLines.Quantity`` "in item units" (not ``QuantityInPurchaseUnits``).
A line without its own date (``DeliveryDate`` / ``ReceiptDate``) takes its order's.

Deletions are not visible through ``/sync/`` reads (Exact reports them through ``sync/Deleted``); cancelled
or completed orders are dropped by their status. Run ``--full`` now and then to drop deleted records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import requests

from connectors.families import family_or_uncategorized
from connectors.sync import EntityStatus, SyncResult
from connectors.transport import ApiError, ConnectorError, HttpClient, NotFoundError, Reader, exact_d, link_pages
from connectors.transport.redact import excerpt
from sop_functions import clock
from sop_functions.snapshot import snapshot_from_records

# name: (path, key, $select)
SYNC = {
    "Items": (
        "sync/Logistics/Items",
        "ID",
        "ID,Code,Description,ItemGroupDescription,Unit,CostPriceStandard,IsStockItem,Timestamp",
    ),
    "SalesItemPrices": ("sync/Logistics/SalesItemPrices", "ID", "ID,ItemCode,Price,Timestamp"),
    "SalesOrderHeaders": (
        "sync/SalesOrder/SalesOrderHeaders",
        "OrderID",
        "OrderID,OrderNumber,OrderedByName,Status,DeliveryDate,Timestamp",
    ),
    "SalesOrderLines": (
        "sync/SalesOrder/SalesOrderLines",
        "ID",
        "ID,OrderID,ItemCode,Quantity,QuantityDelivered,DeliveryDate,Timestamp",
    ),
    "PurchaseOrders": (
        "sync/PurchaseOrder/PurchaseOrders",
        "PurchaseOrderID",
        "PurchaseOrderID,OrderNumber,SupplierName,OrderStatus,ReceiptDate,Timestamp",
    ),
    "PurchaseOrderLines": (
        "sync/PurchaseOrder/PurchaseOrderLines",
        "ID",
        "ID,PurchaseOrderID,ItemCode,Quantity,ReceivedQuantity,ReceiptDate,Timestamp",
    ),
    "GoodsDeliveryLines": (
        "sync/SalesOrder/GoodsDeliveryLines",
        "ID",
        "ID,ItemCode,QuantityDelivered,DeliveryDate,DeliveryAccountName,Timestamp",
    ),
}
BULK = {
    "ItemWarehouses": ("inventory/ItemWarehouses", "ID", "ID,ItemCode,WarehouseCode,CurrentStock,SafetyStock"),
    "SupplierItem": (
        "logistics/SupplierItem",
        "ID",
        "ID,ItemCode,PurchaseLeadTime,MainSupplier,MinimumQuantity,PurchaseUnitFactor",
    ),
    "ShopOrders": (
        "manufacturing/ShopOrders",
        "ID",
        "ID,ShopOrderNumber,ItemCode,PlannedQuantity,ProducedQuantity,PlannedDate,PlannedStartDate,Status,IsReleased",
    ),
    "Workcenters": ("manufacturing/Workcenters", "ID", "ID,Code,Description,Capacity"),
    "BillOfMaterialMaterials": (
        "manufacturing/BillOfMaterialMaterials",
        "ID",
        "ID,ItemCode,PartItemCode,Quantity,BatchQuantity",
    ),
    "BillOfMaterialRoutings": (
        "manufacturing/BillOfMaterialRoutings",
        "ID",
        "ID,ItemCode,WorkcenterCode,RunTime,BatchQuantity",
    ),
}
ENTITY = {
    "Items": "items",
    "SalesItemPrices": "items",
    "SupplierItem": "items",
    "ItemWarehouses": "stock",
    "SalesOrderHeaders": "open_demand",
    "SalesOrderLines": "open_demand",
    "PurchaseOrders": "receipts",
    "PurchaseOrderLines": "receipts",
    "GoodsDeliveryLines": "shipments",
    "ShopOrders": "production",
    "Workcenters": "work_centers",
    "BillOfMaterialMaterials": "bom",
    "BillOfMaterialRoutings": "routings",
}
OPEN_SALES = {12, 20}  # open, partial
OPEN_PURCHASE = {10, 20}  # open, partial


def _pack(supplier_item: dict[str, Any]) -> float:
    """Items bought in a bigger unit (``PurchaseUnitFactor`` items per purchase unit) come in whole units."""
    factor = float(supplier_item.get("PurchaseUnitFactor") or 0.0)
    return factor if factor > 1.0 else 0.0


def exact_error(resp: requests.Response) -> ApiError:
    """``{"error": {"code": "", "message": {"lang": "", "value": "..."}}}``."""
    try:
        err = resp.json()["error"]
        message = err["message"]["value"] if isinstance(err.get("message"), dict) else str(err.get("message"))
        code = str(err.get("code", ""))
    except (ValueError, KeyError, TypeError):
        message, code = excerpt(resp.text, 200), ""
    cls = NotFoundError if resp.status_code in (404, 410) else ApiError
    return cls("Exact Online", resp.status_code, message or resp.reason or "", code)


class ExactConnector:
    kind = "exact_online"

    def __init__(
        self,
        client: HttpClient,
        *,
        work_days_per_month: float = 21.0,
        now: Callable[[], dt.datetime] | None = None,
        source: str = "exact_online",
    ) -> None:
        self.client = client
        self.work_days_per_month = work_days_per_month
        self.now = now or clock.now
        self.source = source

    def _read(self, path: str, select: str, flt: str | None) -> list[dict[str, Any]]:
        params = {"$select": select, **({"$filter": flt} if flt else {})}
        out: list[dict[str, Any]] = []
        for page in link_pages(self.client, path, exact_d, params):
            out.extend(page)
        return out

    def fetch(self, previous: dict[str, Any] | None = None) -> SyncResult:
        as_of = self.now()
        prev_raw: dict[str, dict[str, Any]] = (previous or {}).get("raw", {})
        marks: dict[str, int] = {k: int(v) for k, v in (previous or {}).get("watermarks", {}).items()}
        raw: dict[str, dict[str, Any]] = {}
        for name, (path, key, select) in SYNC.items():
            mark = marks.get(name, 0) if previous else 0
            rows = self._read(path, select, f"Timestamp gt {mark}L")
            merged = dict(prev_raw.get(name, {})) if previous else {}
            merged.update({str(r.get(key)): r for r in rows})
            raw[name] = merged
            marks[name] = max([mark, *(int(r.get("Timestamp") or 0) for r in rows)])
        for name, (path, key, select) in BULK.items():
            raw[name] = {str(r.get(key)): r for r in self._read(path, select, None)}
        reader = Reader(self.source)
        records = self.map({k: list(v.values()) for k, v in raw.items()}, reader, as_of.date())
        reader.check()
        state = {"raw": raw, "watermarks": marks}
        return SyncResult(snapshot_from_records(self.source, as_of, records), state, list(reader.notes))

    def map(
        self, raw: dict[str, list[dict[str, Any]]], reader: Reader, as_of: dt.date
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        price = {r.get("ItemCode"): r.get("Price") for r in raw["SalesItemPrices"]}
        main = {r.get("ItemCode"): r for r in raw["SupplierItem"] if r.get("MainSupplier")}
        lead = {code: r.get("PurchaseLeadTime") for code, r in main.items()}
        safety: dict[str, float] = defaultdict(float)
        for rec in raw["ItemWarehouses"]:
            row = reader.row("ItemWarehouses", rec, "ID", "ItemCode")
            sku, wh, qty, ss = (
                row.text("ItemCode"),
                row.text("WarehouseCode"),
                row.num("CurrentStock"),
                row.num("SafetyStock", False),
            )
            if row.ok:
                safety[sku] += ss
                out["stock"].append({"sku": sku, "warehouse": wh, "qty": qty})
        for rec in raw["Items"]:
            if rec.get("IsStockItem") is False:
                continue
            row = reader.row("Items", rec, "ID", "Code")
            sku = row.text("Code")
            item = {
                "sku": sku,
                "description": row.text("Description", False),
                "family": family_or_uncategorized(row, row.text("ItemGroupDescription", False)),
                "uom": row.text("Unit"),
                "unit_cost": row.num("CostPriceStandard"),
                "unit_price": float(price.get(sku) or 0.0),
                "lead_time_days": int(lead.get(sku) or 0),
                "safety_stock": safety.get(sku, 0.0),
                "lot_min": float(main.get(sku, {}).get("MinimumQuantity") or 0.0),
                "lot_multiple": _pack(main.get(sku, {})),
            }
            if row.ok:
                out["items"].append(item)
        for (
            heads_name,
            lines_name,
            head_key,
            party,
            status_field,
            open_codes,
            done,
            date,
            entity,
            date_key,
            party_key,
        ) in (
            (
                "SalesOrderHeaders",
                "SalesOrderLines",
                "OrderID",
                "OrderedByName",
                "Status",
                OPEN_SALES,
                "QuantityDelivered",
                "DeliveryDate",
                "open_demand",
                "requested_date",
                "customer",
            ),
            (
                "PurchaseOrders",
                "PurchaseOrderLines",
                "PurchaseOrderID",
                "SupplierName",
                "OrderStatus",
                OPEN_PURCHASE,
                "ReceivedQuantity",
                "ReceiptDate",
                "receipts",
                "expected_date",
                "supplier",
            ),
        ):
            heads = {h.get(head_key): h for h in raw[heads_name]}
            for rec in raw[lines_name]:
                row = reader.row(lines_name, rec, "ID", head_key)
                head = row.lookup(head_key, heads, heads_name)
                remaining = row.num("Quantity") - row.num(done, False)
                day = row.date(date, required=False)
                if day is None and head is not None:  # no date of its own: the order's
                    day = reader.row(heads_name, head, head_key, "OrderNumber").date(date, required=False)
                if day is None:
                    row.warn(entity, f"no {date} on the line nor its order: due {as_of}")
                    day = as_of
                line = {"sku": row.text("ItemCode"), "qty": remaining, date_key: day}
                if row.ok and head and int(head.get(status_field) or 0) in open_codes and remaining > 1e-9:
                    out[entity].append(
                        {"order_id": str(head.get("OrderNumber")), **line, party_key: str(head.get(party) or "")}
                    )
        for rec in raw["GoodsDeliveryLines"]:
            row = reader.row("GoodsDeliveryLines", rec, "ID", "ItemCode")
            ship = {
                "sku": row.text("ItemCode"),
                "qty": row.num("QuantityDelivered"),
                "ship_date": row.date("DeliveryDate"),
                "customer": row.text("DeliveryAccountName", False),
            }
            if row.ok:
                out["shipments"].append(ship)
        for rec in raw["ShopOrders"]:
            row = reader.row("ShopOrders", rec, "ID", "ShopOrderNumber")
            status = int(row.num("Status"))
            state = (
                "running"
                if status == 20
                else ("firm" if rec.get("IsReleased") else "planned")
                if status == 10
                else None
            )
            remaining = row.num("PlannedQuantity") - row.num("ProducedQuantity", False)
            order = {
                "order_id": row.text("ShopOrderNumber"),
                "sku": row.text("ItemCode"),
                "qty": remaining,
                "due_date": row.date("PlannedDate"),
                "state": state,
                "start_date": row.date("PlannedStartDate", False),
            }
            if row.ok and state and remaining > 1e-9:
                out["production"].append(order)
        for rec in raw["Workcenters"]:
            row = reader.row("Workcenters", rec, "ID", "Code")
            wc = {
                "code": row.text("Code"),
                "name": row.text("Description", False),
                "hours_per_month": round(row.num("Capacity") * self.work_days_per_month, 6),
            }
            if row.ok:
                out["work_centers"].append(wc)
        for rec in raw["BillOfMaterialMaterials"]:
            row = reader.row("BillOfMaterialMaterials", rec, "ID", "ItemCode")
            batch = row.num("BatchQuantity", False, 1.0) or 1.0
            bom = {
                "parent_sku": row.text("ItemCode"),
                "component_sku": row.text("PartItemCode"),
                "qty_per": row.num("Quantity") / batch,
            }
            if row.ok:
                out["bom"].append(bom)
        for rec in raw["BillOfMaterialRoutings"]:
            row = reader.row("BillOfMaterialRoutings", rec, "ID", "ItemCode")
            batch = row.num("BatchQuantity", False, 1.0) or 1.0
            rt = {
                "sku": row.text("ItemCode"),
                "work_center": row.text("WorkcenterCode"),
                "hours_per_unit": row.num("RunTime") / batch,
            }
            if row.ok:
                out["routings"].append(rt)
        return dict(out)

    def check(self) -> list[EntityStatus]:
        result = []
        for name, (path, _key, select) in {**SYNC, **BULK}.items():
            try:
                self.client.json("GET", path, params={"$select": select.split(",")[0], "$top": "1"})
                result.append(EntityStatus(ENTITY[name], "ok", path))
            except ConnectorError as exc:
                result.append(EntityStatus(ENTITY[name], "error", path, str(exc)))
        return result

"""A fake Exact Online: ``/api/oauth2/token`` (authorization code + rotating refresh tokens, 10-minute access
tokens), ``/api/v1/<division>/...`` in the OData v2 verbose envelope ``{"d": {"results", "__next"}}`` with
``/Date(ms)/`` dates, ``/sync/`` endpoints filtered on ``Timestamp gt <n>L`` (1,000 a page; smaller here),
``X-RateLimit-*`` headers on every answer and 429 beyond the minute or day budget. As in Exact, order line
quantities are in the item's unit whatever unit the line shows (``UnitCode``, ``QuantityInPurchaseUnits``),
and a line's date may be empty where its order has one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
import threading
import time
from typing import Any
from urllib.parse import urlencode

from . import dataset as ds
from .base import FakeERP, Reply, Req

DIVISION = 123456
CLIENT_ID, CLIENT_SECRET = "exact-client", "exact-secret-abc"
FIRST_REFRESH = "refresh-0"


def ms_date(day: dt.date) -> str:
    return f"/Date({calendar.timegm(day.timetuple()) * 1000})/"


class FakeExact(FakeERP):
    def __init__(self, per_minute: int = 1000, per_day: int = 5000, minute_window: float = 60.0) -> None:
        super().__init__()
        self.per_minute, self.per_day, self.minute_window = per_minute, per_day, minute_window
        self.minute_start, self.minute_used, self.day_used = time.time(), 0, 0
        self.access: dict[str, float] = {}
        self.refresh = {FIRST_REFRESH}
        self.token_lifetime = 600
        self._n = itertools.count(1)
        self._ts = itertools.count(1000)
        self.rl_lock = threading.Lock()
        self.refused = 0
        self.sets: dict[str, list[dict[str, Any]]] = {}
        self._build()

    def guid(self) -> str:
        return f"{next(self._n):08d}-0000-0000-0000-000000000000"

    def stamp(self) -> int:
        return next(self._ts)

    def _build(self) -> None:
        s = self.sets
        s["sync/Logistics/Items"] = [
            {
                "ID": self.guid(),
                "Code": sku,
                "Description": d,
                "ItemGroupDescription": f,
                "Unit": u,
                "CostPriceStandard": c,
                "IsStockItem": True,
                "Timestamp": self.stamp(),
            }
            for sku, d, f, u, c, *_ in ds.ITEMS
        ] + [
            {
                "ID": self.guid(),
                "Code": "SRV-1",
                "Description": "Installation",
                "ItemGroupDescription": "Services",
                "Unit": "hour",
                "CostPriceStandard": 0,
                "IsStockItem": False,
                "Timestamp": self.stamp(),
            }
        ]
        s["sync/Logistics/SalesItemPrices"] = [
            {"ID": self.guid(), "ItemCode": i[0], "Price": i[5], "Timestamp": self.stamp()} for i in ds.ITEMS
        ]
        s["logistics/SupplierItem"] = [
            {
                "ID": self.guid(),
                "ItemCode": i[0],
                "PurchaseLeadTime": i[6],
                "MainSupplier": True,
                "MinimumQuantity": ds.LOTS.get(i[0], (0.0, 0.0))[0],
                "PurchaseUnitFactor": ds.LOTS.get(i[0], (0.0, 1.0))[1] or 1.0,
            }
            for i in ds.ITEMS
        ] + [  # another supplier of the helmets: not the main one, its terms do not apply
            {
                "ID": self.guid(),
                "ItemCode": "HL-300",
                "PurchaseLeadTime": 60,
                "MainSupplier": False,
                "MinimumQuantity": 500.0,
                "PurchaseUnitFactor": 50.0,
            }
        ]
        safety_done: set[str] = set()
        rows = []
        for sku, wh, qty in ds.STOCK:
            ss = next(i[7] for i in ds.ITEMS if i[0] == sku) if sku not in safety_done else 0.0
            safety_done.add(sku)
            rows.append(
                {"ID": self.guid(), "ItemCode": sku, "WarehouseCode": wh, "CurrentStock": qty, "SafetyStock": ss}
            )
        s["inventory/ItemWarehouses"] = rows
        for kind, lines, party, status_f, head_key, done_f, date_f, heads_path, lines_path in (
            (
                "sales",
                ds.SALES_LINES,
                "OrderedByName",
                "Status",
                "OrderID",
                "QuantityDelivered",
                "DeliveryDate",
                "sync/SalesOrder/SalesOrderHeaders",
                "sync/SalesOrder/SalesOrderLines",
            ),
            (
                "purchase",
                ds.PURCHASE_LINES,
                "SupplierName",
                "OrderStatus",
                "PurchaseOrderID",
                "ReceivedQuantity",
                "ReceiptDate",
                "sync/PurchaseOrder/PurchaseOrders",
                "sync/PurchaseOrder/PurchaseOrderLines",
            ),
        ):
            heads: dict[str, dict[str, Any]] = {}
            out = []
            for order, sku, qty, done, date, who in lines:
                complete = all(q <= d for o, _s, q, d, *_ in lines if o == order)
                header_dated = (order, sku) in ds.HEADER_DATED
                head = heads.setdefault(
                    order,
                    {
                        head_key: self.guid(),
                        "OrderNumber": int(order),
                        party: who,
                        status_f: 21 if complete else 12 if kind == "sales" else 10,
                        date_f: ms_date(date if header_dated else dt.date(2026, 5, 1)),
                        "Timestamp": self.stamp(),
                    },
                )
                unit = ds.LINE_UNITS.get((order, sku))
                size = ds.UNITS[unit] if unit else 1.0
                shown = {"UnitCode": unit or "pcs"} if kind == "sales" else {"Unit": unit or "pcs"}
                if kind == "purchase":
                    shown["QuantityInPurchaseUnits"] = qty / size
                out.append(
                    {
                        "ID": self.guid(),
                        head_key: head[head_key],
                        "ItemCode": sku,
                        "Quantity": qty,  # in the item's unit, whatever the line's unit
                        done_f: done,
                        date_f: None if header_dated else ms_date(date),
                        "Timestamp": self.stamp(),
                        **shown,
                    }
                )
            s[heads_path], s[lines_path] = list(heads.values()), out
        s["sync/SalesOrder/GoodsDeliveryLines"] = [
            {
                "ID": self.guid(),
                "ItemCode": sku,
                "QuantityDelivered": q,
                "DeliveryDate": ms_date(d),
                "DeliveryAccountName": c,
                "Timestamp": self.stamp(),
            }
            for sku, q, d, c in ds.SHIPMENTS
        ]
        s["manufacturing/ShopOrders"] = [
            {
                "ID": self.guid(),
                "ShopOrderNumber": int(o),
                "ItemCode": sku,
                "PlannedQuantity": q,
                "ProducedQuantity": d,
                "PlannedDate": ms_date(dd),
                "PlannedStartDate": ms_date(ds.PRODUCTION_STARTS[o]) if o in ds.PRODUCTION_STARTS else None,
                "Status": 20 if st == "running" else 10,
                "IsReleased": st != "planned",
            }
            for o, sku, q, d, dd, st in ds.PRODUCTION
        ]
        s["manufacturing/Workcenters"] = [
            {"ID": self.guid(), "Code": c, "Description": n, "Capacity": h / ds.WORK_DAYS_PER_MONTH}
            for c, n, _, _, h in ds.WORK_CENTERS
        ]
        s["manufacturing/BillOfMaterialMaterials"] = [
            {"ID": self.guid(), "ItemCode": p, "PartItemCode": c, "Quantity": q, "BatchQuantity": b}
            for p, (b, lines_, _) in ds.BOMS.items()
            for c, q in lines_
        ]
        s["manufacturing/BillOfMaterialRoutings"] = [
            {"ID": self.guid(), "ItemCode": p, "WorkcenterCode": wc, "RunTime": h, "BatchQuantity": b}
            for p, (b, _, ops) in ds.BOMS.items()
            for wc, h in ops
        ]

    def expire_tokens(self) -> None:
        self.access.clear()

    def error_body(self, status: int) -> Any:
        if status == 429:
            return "Too many API requests"
        return {"error": {"code": "", "message": {"lang": "", "value": f"Fake error {status}"}}}

    def _rl_headers(self) -> dict[str, str]:
        reset_minute = int((self.minute_start + self.minute_window) * 1000)
        return {
            "X-RateLimit-Limit": str(self.per_day),
            "X-RateLimit-Remaining": str(max(0, self.per_day - self.day_used)),
            "X-RateLimit-Reset": str(int((time.time() + 3600) * 1000)),
            "X-RateLimit-Minutely-Limit": str(self.per_minute),
            "X-RateLimit-Minutely-Remaining": str(max(0, self.per_minute - self.minute_used)),
            "X-RateLimit-Minutely-Reset": str(reset_minute),
        }

    def handle(self, req: Req) -> Reply:
        if req.method == "POST" and req.path == "/api/oauth2/token":
            form = req.form()
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return Reply(400, {"error": "invalid_client"})
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in self.refresh:
                    return Reply(400, {"error": "invalid_grant", "error_description": "Old or invalid refresh token"})
                self.refresh.discard(form["refresh_token"])
            elif not (form.get("grant_type") == "authorization_code" and form.get("code") == "good-code"):
                return Reply(400, {"error": "invalid_grant"})
            access, new = f"exact-access-{next(self._n)}", f"refresh-{next(self._n)}"
            self.access[access] = time.time() + self.token_lifetime
            self.refresh.add(new)
            return Reply(
                200,
                {
                    "access_token": access,
                    "token_type": "bearer",
                    "expires_in": str(self.token_lifetime),
                    "refresh_token": new,
                },
            )
        m = re.fullmatch(rf"/api/v1/{DIVISION}/(.+)", req.path)
        if not m:
            return Reply(404, {"error": {"code": "", "message": {"lang": "", "value": "Not found"}}})
        with self.rl_lock:
            if time.time() >= self.minute_start + self.minute_window:
                self.minute_start, self.minute_used = time.time(), 0
            if self.minute_used >= self.per_minute or self.day_used >= self.per_day:
                self.refused += 1
                return Reply(
                    429, raw=b"Too many API requests", headers={**self._rl_headers(), "Content-Type": "text/plain"}
                )
            self.minute_used += 1
            self.day_used += 1
            headers = self._rl_headers()
        auth = req.header("Authorization")
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if self.access.get(token, 0) < time.time():
            return Reply(
                401,
                {"error": {"code": "", "message": {"lang": "", "value": "Access token is invalid or expired"}}},
                {**headers, "WWW-Authenticate": "Bearer"},
            )
        name = m.group(1)
        if name not in self.sets:
            return Reply(
                404, {"error": {"code": "", "message": {"lang": "", "value": f"Resource not found: {name}"}}}, headers
            )
        rows = self.sets[name]
        flt = req.query.get("$filter", "")
        ts = re.fullmatch(r"Timestamp gt (\d+)L", flt)
        if flt and not ts:
            return Reply(
                400, {"error": {"code": "", "message": {"lang": "", "value": f"Invalid filter {flt}"}}}, headers
            )
        if ts:
            rows = sorted((r for r in rows if r["Timestamp"] > int(ts.group(1))), key=lambda r: r["Timestamp"])
        if "$top" in req.query:
            rows = rows[: int(req.query["$top"])]
        fields = req.query.get("$select", "").split(",") if req.query.get("$select") else None
        skip = int(req.query.get("$skiptoken", "0"))
        size = self.page_size
        page = [{k: r.get(k) for k in fields} if fields else r for r in rows[skip : skip + size]]
        page = [{"__metadata": {"uri": f"{self.url}{req.path}", "type": "Exact.Web.Api.Models"}, **p} for p in page]
        d: dict[str, Any] = {"results": page}
        if skip + size < len(rows):
            query = {k: v for k, v in req.query.items() if k != "$skiptoken"} | {"$skiptoken": str(skip + size)}
            d["__next"] = f"{self.url}{req.path}?{urlencode(query)}"
        return Reply(200, {"d": d}, headers)

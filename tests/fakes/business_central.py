"""A fake Business Central: Entra ID token endpoint (client credentials, expiring tokens) and API v2.0
collections under ``/v2.0/<tenant>/<env>/api/v2.0/companies(<id>)/`` with ``Prefer: odata.maxpagesize``,
``@odata.nextLink`` (``$skiptoken``), ``{"error": {"code", "message"}}`` bodies, plus the custom API pages
``sopxl/planning/v1.0`` a customer would publish for what the standard API lacks (among them *Item Unit of
Measure*, the only place BC keeps how many base units a box holds). Lines in a second unit carry its
``unitOfMeasureCode`` and their quantities in it; an empty date is ``0001-01-01``, as BC writes it.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any
from urllib.parse import urlencode

from . import dataset as ds
from .base import FakeERP, Reply, Req

TENANT, ENV, COMPANY = "contoso.onmicrosoft.com", "production", "c0ffee00-0000-0000-0000-000000000001"
CLIENT_ID, CLIENT_SECRET = "app-123", "bc-secret-xyz"
CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "BadRequest_NotFound",
    429: "Application_TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
CUSTOM_PAGES = {
    "stock": {
        "path": "sopxl/planning/v1.0/stockByLocation",
        "fields": {"sku": "itemNo", "warehouse": "locationCode", "qty": "quantity"},
    },
    "item_planning": {
        "path": "sopxl/planning/v1.0/itemPlanning",
        "fields": {
            "sku": "itemNo",
            "lead_time_days": "leadTimeDays",
            "safety_stock": "safetyStockQuantity",
            "lot_min": "minimumOrderQuantity",
            "lot_multiple": "orderMultiple",
            "lot_max": "maximumOrderQuantity",
        },
    },
    "item_units": {
        "path": "sopxl/planning/v1.0/itemUnitsOfMeasure",
        "fields": {"sku": "itemNo", "unit": "code", "qty_per_unit": "qtyPerUnitOfMeasure"},
    },
    "production": {
        "path": "sopxl/planning/v1.0/productionOrders",
        "fields": {
            "order_id": "no",
            "sku": "sourceNo",
            "qty": "remainingQuantity",
            "due_date": "dueDate",
            "state": "status",
            "start_date": "startingDate",
        },
        "values": {"state": {"Planned": "planned", "Firm Planned": "firm", "Released": "running"}},
    },
    "work_centers": {
        "path": "sopxl/planning/v1.0/workCenters",
        "fields": {"code": "no", "name": "name", "hours_per_month": "capacityHoursPerMonth"},
    },
    "routings": {
        "path": "sopxl/planning/v1.0/routingLines",
        "fields": {"sku": "itemNo", "work_center": "workCenterNo", "hours_per_unit": "runTimeHours"},
    },
    "bom": {
        "path": "sopxl/planning/v1.0/bomLines",
        "fields": {"parent_sku": "parentItemNo", "component_sku": "no", "qty_per": "quantityPer"},
    },
}


class FakeBusinessCentral(FakeERP):
    def __init__(self, token_lifetime: int = 3599) -> None:
        super().__init__()
        self.token_lifetime = token_lifetime
        self.tokens: dict[str, float] = {}
        self._n = itertools.count(1)
        self.sets: dict[str, list[dict[str, Any]]] = {}
        self._build()

    def gid(self) -> str:
        return f"00000000-0000-0000-0000-{next(self._n):012d}"

    def _build(self) -> None:
        totals: dict[str, float] = {}
        for sku, _wh, qty in ds.STOCK:
            totals[sku] = totals.get(sku, 0.0) + qty
        self.sets["items"] = [
            {
                "id": self.gid(),
                "number": sku,
                "displayName": desc,
                "type": "Inventory",
                "itemCategoryCode": fam,
                "baseUnitOfMeasureCode": uom,
                "unitCost": cost,
                "unitPrice": price,
                "inventory": totals.get(sku, 0.0),
            }
            for sku, desc, fam, uom, cost, price, *_ in ds.ITEMS
        ] + [
            {
                "id": self.gid(),
                "number": "SRV-1",
                "displayName": "Installation",
                "type": "Service",
                "itemCategoryCode": "",
                "baseUnitOfMeasureCode": "HOUR",
                "unitCost": 0,
                "unitPrice": 50,
                "inventory": 0,
            }
        ]
        uom = {i[0]: i[3] for i in ds.ITEMS}
        for kind, lines, party in (
            ("sales", ds.SALES_LINES, "customerName"),
            ("purchase", ds.PURCHASE_LINES, "vendorName"),
        ):
            heads: dict[str, dict[str, Any]] = {}
            rows = []
            wanted = "requestedDeliveryDate" if kind == "sales" else "requestedReceiptDate"
            for seq, (order, sku, qty, done, date, who) in enumerate(lines, 1):
                header_dated = (order, sku) in ds.HEADER_DATED
                head = heads.setdefault(
                    order,
                    {
                        "id": self.gid(),
                        "number": order,
                        party: who,
                        "status": "Open",
                        wanted: date.isoformat() if header_dated else "2026-05-01",
                    },
                )
                done_f, date_f = (
                    ("shippedQuantity", "shipmentDate")
                    if kind == "sales"
                    else ("receivedQuantity", "expectedReceiptDate")
                )
                unit = ds.LINE_UNITS.get((order, sku))
                size = ds.UNITS[unit] if unit else 1.0
                rows.append(
                    {
                        "id": self.gid(),
                        "documentId": head["id"],
                        "sequence": seq * 10000,
                        "lineType": "Item",
                        "lineObjectNumber": sku,
                        "unitOfMeasureCode": unit or uom[sku],
                        "quantity": qty / size,
                        done_f: done / size,
                        date_f: "0001-01-01" if header_dated else date.isoformat(),
                    }
                )
            first = next(iter(heads.values()))
            rows.append(
                {
                    "id": self.gid(),
                    "documentId": first["id"],
                    "sequence": 99999,
                    "lineType": "Comment",
                    "lineObjectNumber": "",
                    "quantity": 0,
                }
            )
            self.sets[f"{kind}Orders"] = list(heads.values())
            self.sets[f"{kind}OrderLines"] = rows
        heads = []
        rows = []
        for i, (sku, qty, date, customer) in enumerate(ds.SHIPMENTS, 1):
            head = {"id": self.gid(), "number": f"SSH-{i:03d}", "customerName": customer}
            heads.append(head)
            rows.append(
                {
                    "id": self.gid(),
                    "documentId": head["id"],
                    "documentNo": head["number"],
                    "sequence": 10000,
                    "lineType": "Item",
                    "lineObjectNumber": sku,
                    "unitOfMeasureCode": uom[sku],
                    "quantity": qty,
                    "shipmentDate": date.isoformat(),
                }
            )
        self.sets["salesShipments"], self.sets["salesShipmentLines"] = heads, rows
        status = {"planned": "Planned", "firm": "Firm Planned", "running": "Released"}
        self.sets["stockByLocation"] = [{"itemNo": s, "locationCode": w, "quantity": q} for s, w, q in ds.STOCK]
        self.sets["itemPlanning"] = [
            {
                "itemNo": i[0],
                "leadTimeDays": i[6],
                "safetyStockQuantity": i[7],
                "minimumOrderQuantity": ds.LOTS.get(i[0], (0.0, 0.0))[0],
                "orderMultiple": ds.LOTS.get(i[0], (0.0, 0.0))[1],
                "maximumOrderQuantity": None,
            }
            for i in ds.ITEMS
        ]
        self.sets["itemUnitsOfMeasure"] = [
            {"itemNo": sku, "code": unit, "qtyPerUnitOfMeasure": ds.UNITS[unit]}
            for (_order, sku), unit in ds.LINE_UNITS.items()
        ] + [{"itemNo": i[0], "code": i[3], "qtyPerUnitOfMeasure": 1.0} for i in ds.ITEMS]
        start = {o: d.isoformat() for o, d in ds.PRODUCTION_STARTS.items()}
        self.sets["productionOrders"] = [  # the page's remaining quantity is in the item's base unit
            {
                "no": o,
                "sourceNo": s,
                "remainingQuantity": q - d,
                "dueDate": dd.isoformat(),
                "startingDate": start.get(o, "0001-01-01"),
                "status": status[st],
            }
            for o, s, q, d, dd, st in ds.PRODUCTION
        ]
        self.sets["workCenters"] = [
            {"no": c, "name": n, "capacityHoursPerMonth": h} for c, n, _, _, h in ds.WORK_CENTERS
        ]
        self.sets["routingLines"] = [
            {"itemNo": p, "workCenterNo": wc, "runTimeHours": h / b}
            for p, (b, _, ops) in ds.BOMS.items()
            for wc, h in ops
        ]
        self.sets["bomLines"] = [
            {"parentItemNo": p, "no": c, "quantityPer": q / b} for p, (b, lines, _) in ds.BOMS.items() for c, q in lines
        ]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def error_body(self, status: int) -> Any:
        return {"error": {"code": CODES.get(status, "Error"), "message": f"Fake error {status}. CorrelationId: 1"}}

    def handle(self, req: Req) -> Reply:
        if req.method == "POST" and req.path == f"/{TENANT}/oauth2/v2.0/token":
            form = req.form()
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return Reply(
                    401,
                    {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
                )
            if form.get("grant_type") != "client_credentials":
                return Reply(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
            token = f"bc-token-{next(self._n)}"
            self.tokens[token] = time.time() + self.token_lifetime
            return Reply(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": self.token_lifetime,
                    "ext_expires_in": 3599,
                    "access_token": token,
                },
            )
        m = re.fullmatch(
            rf"/v2\.0/{re.escape(TENANT)}/{ENV}/api/(v2\.0|sopxl/planning/v1\.0)/companies\(([^)]*)\)/(\w+)", req.path
        )
        if not m:
            return Reply(404, {"error": {"code": "BadRequest_NotFound", "message": "The request URI is not valid."}})
        auth = req.header("Authorization")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.tokens or self.tokens[token] < time.time():
            return Reply(
                401,
                {"error": {"code": "Unauthorized", "message": "The credentials provided are incorrect"}},
                {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/x"'},
            )
        if m.group(2) != COMPANY:
            return Reply(404, {"error": {"code": "BadRequest_NotFound", "message": "The company does not exist."}})
        name = m.group(3)
        if name not in self.sets:
            return Reply(
                404,
                {"error": {"code": "BadRequest_NotFound", "message": f"Resource not found for the segment '{name}'."}},
            )
        rows = self.sets[name]
        flt = req.query.get("$filter")
        if flt:
            fm = re.fullmatch(r"(\w+) eq '([^']*)'", flt)
            if not fm:
                return Reply(400, {"error": {"code": "BadRequest", "message": f"Could not parse $filter {flt!r}"}})
            rows = [r for r in rows if str(r.get(fm.group(1))) == fm.group(2)]
        if "$top" in req.query:
            rows = rows[: int(req.query["$top"])]
        size = self.page_size
        prefer = re.search(r"odata\.maxpagesize=(\d+)", req.header("Prefer"))
        if prefer:
            size = min(int(prefer.group(1)), self.page_size)
        skip = int(req.query.get("$skiptoken", "0"))
        body: dict[str, Any] = {"@odata.context": f"{self.url}/$metadata#{name}", "value": rows[skip : skip + size]}
        if skip + size < len(rows):
            query = {k: v for k, v in req.query.items() if k != "$skiptoken"} | {"$skiptoken": str(skip + size)}
            body["@odata.nextLink"] = f"{self.url}{req.path}?{urlencode(query)}"
        return Reply(200, body, {"Preference-Applied": f"odata.maxpagesize={size}"} if prefer else {})

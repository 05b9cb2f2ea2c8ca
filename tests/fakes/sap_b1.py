"""A fake SAP Business One Service Layer ``/b1s/v1``: ``POST Login`` (sets ``B1SESSION`` + ``ROUTEID``
cookies, answers ``SessionId``/``SessionTimeout``), 401 with code 301 "Invalid session" once a session
expires, collections with ``Prefer: odata.maxpagesize`` and a relative ``odata.nextLink``, and
``{"error": {"code", "message": {"lang", "value"}}}`` error bodies. Document lines in a second unit of
measure carry ``UoMCode``, ``UnitsOfMeasurment`` (items per unit) and their quantities in that unit, with the
inventory-unit twins (``InventoryQuantity``, ``RemainingOpenInventoryQuantity``) the Service Layer adds.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any
from urllib.parse import urlencode

from . import dataset as ds
from .base import FakeERP, Reply, Req

COMPANY_DB, USER, PASSWORD = "SBODEMO", "manager", "b1-pass-789"


class FakeSapB1(FakeERP):
    def __init__(self, session_minutes: int = 30) -> None:
        super().__init__()
        self.session_minutes = session_minutes
        self.sessions: dict[str, float] = {}
        self._n = itertools.count(1)
        self.sets: dict[str, list[dict[str, Any]]] = {}
        self._build()

    def _build(self) -> None:
        fams = sorted({i[2] for i in ds.ITEMS})
        gcode = {f: 100 + n for n, f in enumerate(fams)}
        self.sets["ItemGroups"] = [{"Number": c, "GroupName": f} for f, c in gcode.items()]
        self.sets["Items"] = [
            {
                "ItemCode": sku,
                "ItemName": d,
                "ItemsGroupCode": gcode[f],
                "InventoryUOM": u,
                "AvgStdPrice": c,
                "ItemPrices": [{"PriceList": 1, "Price": p, "Currency": "EUR"}, {"PriceList": 2, "Price": p * 0.8}],
                "LeadTime": lt,
                "MinInventory": ss,
                "MinOrderQuantity": ds.LOTS.get(sku, (0.0, 0.0))[0],
                "OrderMultiple": ds.LOTS.get(sku, (0.0, 0.0))[1],
                "InventoryItem": "tYES",
                "ItemWarehouseInfoCollection": [{"WarehouseCode": w, "InStock": q} for s, w, q in ds.STOCK if s == sku]
                + [{"WarehouseCode": "WH3", "InStock": 0.0}],
            }
            for sku, d, f, u, c, p, lt, ss, _ in ds.ITEMS
        ]
        for name, lines in (("Orders", ds.SALES_LINES), ("PurchaseOrders", ds.PURCHASE_LINES)):
            docs: dict[str, dict[str, Any]] = {}
            for order, sku, qty, done, date, who in lines:
                header_dated = (order, sku) in ds.HEADER_DATED
                doc = docs.setdefault(
                    order,
                    {
                        "DocEntry": next(self._n),
                        "DocNum": int(order),
                        "CardName": who,
                        "DocDueDate": date.isoformat() if header_dated else "2026-05-01",
                        "DocumentStatus": "bost_Open",
                        "DocumentLines": [],
                    },
                )
                unit = ds.LINE_UNITS.get((order, sku))
                size = ds.UNITS[unit] if unit else 1.0
                doc["DocumentLines"].append(
                    {
                        "LineNum": len(doc["DocumentLines"]),
                        "ItemCode": sku,
                        "UoMCode": unit or "Manual",
                        "UnitsOfMeasurment": size,
                        "Quantity": qty / size,
                        "InventoryQuantity": qty,
                        "RemainingOpenQuantity": (qty - done) / size,
                        "RemainingOpenInventoryQuantity": qty - done,
                        "ShipDate": None if header_dated else date.isoformat(),
                        "LineStatus": "bost_Open" if qty > done else "bost_Close",
                    }
                )
            for doc in docs.values():
                if all(ln["LineStatus"] == "bost_Close" for ln in doc["DocumentLines"]):
                    doc["DocumentStatus"] = "bost_Close"
            self.sets[name] = list(docs.values())
        for name, sign in (("DeliveryNotes", 1), ("Returns", -1)):
            self.sets[name] = [
                {
                    "DocEntry": next(self._n),
                    "DocDate": d.isoformat(),
                    "CardName": c,
                    "DocumentLines": [{"LineNum": 0, "ItemCode": s, "Quantity": abs(q)}],
                }
                for s, q, d, c in ds.SHIPMENTS
                if (q > 0) == (sign > 0)
            ]
        self.sets["ProductionOrders"] = [
            {
                "AbsoluteEntry": next(self._n),
                "DocumentNumber": int(o),
                "ItemNo": s,
                "PlannedQuantity": q,
                "CompletedQuantity": d,
                "DueDate": dd.isoformat(),
                "StartDate": ds.PRODUCTION_STARTS[o].isoformat() if o in ds.PRODUCTION_STARTS else None,
                "ProductionOrderStatus": "boposPlanned" if st == "planned" else "boposReleased",
            }
            for o, s, q, d, dd, st in ds.PRODUCTION
        ] + [
            {
                "AbsoluteEntry": 999,
                "DocumentNumber": 30099,
                "ItemNo": "BK-100",
                "PlannedQuantity": 4,
                "CompletedQuantity": 4,
                "DueDate": "2026-05-01",
                "ProductionOrderStatus": "boposClosed",
            }
        ]
        self.sets["Resources"] = [{"Code": c, "Name": n} for c, n, *_ in ds.WORK_CENTERS]
        self.sets["ProductTrees"] = [
            {
                "TreeCode": p,
                "Quantity": b,
                "ProductTreeLines": [{"ItemCode": c, "Quantity": q, "ItemType": "pit_Item"} for c, q in lines]
                + [{"ItemCode": wc, "Quantity": h, "ItemType": "pit_Resource"} for wc, h in ops],
            }
            for p, (b, lines, ops) in ds.BOMS.items()
        ]

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def error_body(self, status: int) -> Any:
        return {
            "error": {
                "code": -1 if status < 500 else -5002,
                "message": {"lang": "en-us", "value": f"Fake error {status}"},
            }
        }

    def _filter(self, rows: list[dict[str, Any]], flt: str) -> list[dict[str, Any]]:
        alts = [re.fullmatch(r"(\w+) eq '([^']*)'", part.strip()) for part in flt.split(" or ")]
        if not all(alts):
            raise ValueError(flt)
        return [r for r in rows if any(str(r.get(m.group(1))) == m.group(2) for m in alts if m)]

    def handle(self, req: Req) -> Reply:
        if req.method == "POST" and req.path == "/b1s/v1/Login":
            body = req.json() or {}
            if (body.get("CompanyDB"), body.get("UserName"), body.get("Password")) != (COMPANY_DB, USER, PASSWORD):
                return Reply(
                    401,
                    {
                        "error": {
                            "code": -304,
                            "message": {"lang": "en-us", "value": "Fail to get DB Credentials from SLD"},
                        }
                    },
                )
            sid = f"sess-{next(self._n)}"
            self.sessions[sid] = time.time() + self.session_minutes * 60
            return Reply(
                200,
                {
                    "odata.metadata": f"{self.url}/b1s/v1/$metadata#B1Sessions/@Element",
                    "SessionId": sid,
                    "Version": "1000190",
                    "SessionTimeout": self.session_minutes,
                },
                {"Set-Cookie": [f"B1SESSION={sid}; path=/b1s/v1; HttpOnly", "ROUTEID=.node1; path=/b1s"]},
            )
        m = re.fullmatch(r"/b1s/v1/(\w+)", req.path)
        if not m:
            return Reply(404, {"error": {"code": -1, "message": {"lang": "en-us", "value": "Resource not found."}}})
        cookie = req.header("Cookie")
        sid = re.search(r"B1SESSION=([^;]+)", cookie)
        if not sid or self.sessions.get(sid.group(1), 0) < time.time() or "ROUTEID=.node1" not in cookie:
            return Reply(
                401,
                {
                    "error": {
                        "code": 301,
                        "message": {"lang": "en-us", "value": "Invalid session or session already timeout."},
                    }
                },
            )
        name = m.group(1)
        if name not in self.sets:
            return Reply(
                404,
                {
                    "error": {
                        "code": -1,
                        "message": {"lang": "en-us", "value": f"Resource not found for the segment '{name}'."},
                    }
                },
            )
        rows = self.sets[name]
        if "$filter" in req.query:
            try:
                rows = self._filter(rows, req.query["$filter"])
            except ValueError:
                return Reply(400, {"error": {"code": -1000, "message": {"lang": "en-us", "value": "Invalid filter"}}})
        if "$top" in req.query:
            rows = rows[: int(req.query["$top"])]
        fields = req.query["$select"].split(",") if req.query.get("$select") else None
        size = self.page_size
        prefer = re.search(r"odata\.maxpagesize=(\d+)", req.header("Prefer"))
        if prefer:
            size = min(size, int(prefer.group(1)))
        skip = int(req.query.get("$skip", "0"))
        page = [{k: r.get(k) for k in fields} if fields else r for r in rows[skip : skip + size]]
        body: dict[str, Any] = {"odata.metadata": f"{self.url}/b1s/v1/$metadata#{name}", "value": page}
        if skip + size < len(rows):
            query = {k: v for k, v in req.query.items() if k != "$skip"} | {"$skip": str(skip + size)}
            body["odata.nextLink"] = f"{name}?{urlencode(query)}"
        return Reply(200, body)

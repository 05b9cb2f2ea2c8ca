"""Business Central API v2.0: ``.../api/v2.0/companies({id})/<entity set>``, OAuth2 client credentials
(Microsoft Entra ID, scope ``https://api.businesscentral.dynamics.com/.default``), ``@odata.nextLink``
paging with ``Prefer: odata.maxpagesize``; 429 beyond the service's limits (6,000 requests / 5 min).

Read from the standard API: ``items`` (type Inventory), ``salesOrders`` + ``salesOrderLines`` (open =
``quantity - shippedQuantity``, dated ``shipmentDate``), ``purchaseOrders`` + ``purchaseOrderLines`` (open
= ``quantity - receivedQuantity``, ``expectedReceiptDate``), ``salesShipments`` + ``salesShipmentLines``.
Line quantities are in the line's ``unitOfMeasureCode``; a line in another unit than the item's base unit
is converted with the ``item_units`` custom page (BC's *Item Unit of Measure*, qty per unit of measure),
else left out with a warning. BC writes an empty date as ``0001-01-01``: a line without its own date takes
the order's ``requestedDeliveryDate`` / ``requestedReceiptDate``.

**Not in the standard API** (:data:`STANDARD_GAPS`): stock per location (items only carry the total
``inventory``), lead time and safety stock, production orders, work centers, routings and BOMs. A user
publishes API pages of their own (AL ``PageType = API``) and maps them in ``sop.toml``
(:func:`parse_custom_pages`); without a stock page, stock is the item total in warehouse ``ALL``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from connectors.families import family_or_uncategorized
from connectors.sync import EntityStatus, SyncResult
from connectors.transport import (
    ApiError,
    ConfigError,
    ConnectorError,
    HttpClient,
    NotFoundError,
    Reader,
    Row,
    link_pages,
)
from connectors.transport import odata_v4 as odata
from connectors.transport.redact import excerpt
from sop_functions import clock
from sop_functions.snapshot import COLUMNS, snapshot_from_records

STANDARD_GAPS = {
    "stock": "per-location stock (items.inventory is the total only)",
    "item_planning": "lead time and safety stock",
    "production": "production orders",
    "work_centers": "work centers",
    "routings": "routings",
    "bom": "production BOMs",
}
CUSTOM_ENTITIES = {
    **{e: COLUMNS[e] for e in ("stock", "production", "work_centers", "routings", "bom")},
    "item_planning": ["sku", "lead_time_days", "safety_stock", "lot_min", "lot_multiple", "lot_max"],
    "item_units": ["sku", "unit", "qty_per_unit"],
}
BLANK_DATE = "0001-01-01"
"""How Business Central writes an empty date."""


@dataclass(frozen=True)
class CustomPage:
    """A user-published API page: its path under the company, and canonical field -> page field."""

    entity: str
    path: str
    fields: Mapping[str, str]
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per canonical field, page value -> canonical value (e.g. production status -> planned/firm/running)."""


def parse_custom_pages(raw: Mapping[str, Any]) -> dict[str, CustomPage]:
    """``[<profile>.custom.<entity>]`` tables: ``path``, ``fields = {canonical = "pageField"}``, ``values``."""
    pages: dict[str, CustomPage] = {}
    problems: list[str] = []
    for entity, spec in raw.items():
        if entity not in CUSTOM_ENTITIES:
            problems.append(f"custom.{entity}: not an entity a custom page can supply ({', '.join(CUSTOM_ENTITIES)})")
            continue
        if not isinstance(spec, Mapping) or not isinstance(spec.get("path"), str):
            problems.append(f'custom.{entity}: needs path = "<publisher>/<group>/<version>/<entitySet>"')
            continue
        fields = dict(spec.get("fields", {}))
        missing = [f for f in CUSTOM_ENTITIES[entity] if f not in fields and f in ("sku", "code", "order_id")]
        unknown = [f for f in fields if f not in CUSTOM_ENTITIES[entity]]
        if missing or unknown:
            problems.append(f"custom.{entity}: missing fields {missing}, unknown fields {unknown}")
            continue
        pages[entity] = CustomPage(entity, spec["path"], fields, dict(spec.get("values", {})))
    if problems:
        raise ConfigError("Business Central custom pages:\n  - " + "\n  - ".join(problems))
    return pages


def _date(row: Row, field: str) -> dt.date | None:
    """A BC date, None when empty (``0001-01-01``)."""
    value = row.get(field)
    if value is None or str(value).startswith(BLANK_DATE):
        return None
    return row.date(field, required=False)


class _Units:
    """Line quantities in the item's base unit: as is in the base unit, else by the item's qty per unit."""

    def __init__(self, base: Mapping[str, str], per_unit: Mapping[tuple[str, str], Any]) -> None:
        self.base, self.per_unit = base, per_unit

    def qty(self, row: Row, entity: str, sku: str, qty: float) -> float | None:
        unit = str(row.get("unitOfMeasureCode") or "") or self.base.get(sku, "")
        if unit == self.base.get(sku, unit):
            return qty
        factor = self.per_unit.get((sku, unit))
        if not factor:
            row.warn(
                entity,
                f"quantity {qty:g} is in {unit}, not in {sku}'s base unit {self.base.get(sku)}, "
                "and no item_units page gives its qty per unit of measure: left out",
            )
            return None
        return qty * float(factor)


def bc_error(resp: requests.Response) -> ApiError:
    """``{"error": {"code": "...", "message": "..."}}``."""
    try:
        err = resp.json().get("error", {})
        code, message = str(err.get("code", "")), str(err.get("message", ""))
    except (ValueError, AttributeError):
        code, message = "", excerpt(resp.text, 200)
    cls = NotFoundError if resp.status_code in (404, 410) else ApiError
    return cls("Business Central", resp.status_code, message or resp.reason or "", code)


STANDARD = {
    "items": ("items", {"$filter": "type eq 'Inventory'"}),
    "salesOrders": ("salesOrders", {"$select": "id,number,customerName,status,requestedDeliveryDate"}),
    "salesOrderLines": ("salesOrderLines", {"$filter": "lineType eq 'Item'"}),
    "purchaseOrders": ("purchaseOrders", {"$select": "id,number,vendorName,status,requestedReceiptDate"}),
    "purchaseOrderLines": ("purchaseOrderLines", {"$filter": "lineType eq 'Item'"}),
    "salesShipments": ("salesShipments", {"$select": "id,number,customerName"}),
    "salesShipmentLines": ("salesShipmentLines", {"$filter": "lineType eq 'Item'"}),
}
ENTITY_OF = {
    "items": "items",
    "salesOrders": "open_demand",
    "salesOrderLines": "open_demand",
    "purchaseOrders": "receipts",
    "purchaseOrderLines": "receipts",
    "salesShipments": "shipments",
    "salesShipmentLines": "shipments",
}


class BusinessCentralConnector:
    kind = "business_central"

    def __init__(
        self,
        client: HttpClient,
        company_id: str,
        *,
        custom: Mapping[str, CustomPage] | None = None,
        page_size: int = 1000,
        now: Callable[[], dt.datetime] | None = None,
        source: str = "business_central",
    ) -> None:
        self.client = client
        self.company_id = company_id
        self.custom = dict(custom or {})
        self.page_size = page_size
        self.now = now or clock.now
        self.source = source

    def path(self, entity_set: str) -> str:
        """``v2.0/items`` or ``<publisher>/<group>/<version>/<set>`` -> ``.../companies(<id>)/<set>``."""
        api, _, name = entity_set.rpartition("/")
        return f"{api or 'v2.0'}/companies({self.company_id})/{name}"

    def _all(self, path: str, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        path = self.path(path)
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        out: list[dict[str, Any]] = []
        for page in link_pages(self.client, path, odata, params, headers):
            out.extend(page)
        return out

    def fetch(self, previous: dict[str, Any] | None = None) -> SyncResult:
        as_of = self.now()
        raw = {name: self._all(path, params) for name, (path, params) in STANDARD.items()}
        for entity, page in self.custom.items():
            raw[f"custom.{entity}"] = self._all(page.path)
        reader = Reader(self.source)
        records = self.map(raw, reader, as_of.date())
        reader.check()
        return SyncResult(snapshot_from_records(self.source, as_of, records), {"raw": raw}, list(reader.notes))

    def map(
        self, raw: dict[str, list[dict[str, Any]]], reader: Reader, as_of: dt.date
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entity, page in self.custom.items():
            for rec in raw[f"custom.{entity}"]:
                row = reader.row(page.path, rec, *list(page.fields.values())[:2])
                canon: dict[str, Any] = {}
                for name, source in page.fields.items():
                    value = rec.get(source)
                    if isinstance(value, str) and value.startswith(BLANK_DATE):
                        value = None  # BC's empty date
                    mapped = page.values.get(name, {})
                    if mapped:
                        if str(value) not in mapped:
                            reader.add(page.path, row.label, source, f"value {value!r} not in the values map")
                            row.ok = False
                            continue
                        value = mapped[str(value)]
                    canon[name] = value
                if row.ok and (entity != "production" or canon.get("state") != "skip"):
                    out[entity].append(canon)
        planning = {r["sku"]: r for r in out.pop("item_planning", [])}
        per_unit = {(str(r["sku"]), str(r["unit"])): r["qty_per_unit"] for r in out.pop("item_units", [])}
        base: dict[str, str] = {}
        for rec in raw["items"]:
            row = reader.row("items", rec, "number")
            sku = row.text("number")
            extra = planning.get(sku, {})
            item = {
                "sku": sku,
                "description": row.text("displayName", False),
                "family": family_or_uncategorized(row, row.text("itemCategoryCode", required=False)),
                "uom": row.text("baseUnitOfMeasureCode"),
                "unit_cost": row.num("unitCost"),
                "unit_price": row.num("unitPrice"),
                "lead_time_days": extra.get("lead_time_days", 0),
                "safety_stock": extra.get("safety_stock", 0.0),
                **{k: extra[k] for k in ("lot_min", "lot_multiple", "lot_max") if extra.get(k) is not None},
            }
            base[sku] = item["uom"]
            total = row.num("inventory", required=False)
            if row.ok:
                out["items"].append(item)
                if "stock" not in self.custom and total:
                    out["stock"].append({"sku": sku, "warehouse": "ALL", "qty": total})
        units = _Units(base, per_unit)
        self._lines(raw, reader, out, units, as_of, sales=True)
        self._lines(raw, reader, out, units, as_of, sales=False)
        heads = {h.get("id"): h for h in raw["salesShipments"]}
        for rec in raw["salesShipmentLines"]:
            row = reader.row("salesShipmentLines", rec, "id", "documentNo")
            head = row.lookup("documentId", heads, "sales shipment")
            sku, quantity = row.text("lineObjectNumber"), row.num("quantity")
            ship = {
                "sku": sku,
                "ship_date": row.date("shipmentDate"),
                "customer": str(head.get("customerName", "")) if head else "",
            }
            if row.ok:
                qty = units.qty(row, "shipments", sku, quantity)
                if qty is not None:
                    out["shipments"].append({**ship, "qty": qty})
        return dict(out)

    def _lines(
        self,
        raw: dict[str, list[dict[str, Any]]],
        reader: Reader,
        out: dict[str, list[dict[str, Any]]],
        units: _Units,
        as_of: dt.date,
        *,
        sales: bool,
    ) -> None:
        heads_name, lines_name = (
            ("salesOrders", "salesOrderLines") if sales else ("purchaseOrders", "purchaseOrderLines")
        )
        done_field, date_field = (
            ("shippedQuantity", "shipmentDate") if sales else ("receivedQuantity", "expectedReceiptDate")
        )
        wanted = "requestedDeliveryDate" if sales else "requestedReceiptDate"
        entity = "open_demand" if sales else "receipts"
        heads = {h.get("id"): h for h in raw[heads_name]}
        for rec in raw[lines_name]:
            row = reader.row(lines_name, rec, "id", "documentId", "sequence")
            head = row.lookup("documentId", heads, heads_name[:-1])
            remaining = row.num("quantity") - row.num(done_field, required=False)
            sku, date = row.text("lineObjectNumber"), _date(row, date_field)
            if not row.ok or remaining <= 1e-9 or head is None:
                continue
            if date is None:
                date = _date(reader.row(heads_name, head, "id", "number"), wanted)
            if date is None:
                row.warn(entity, f"no {date_field} and no {wanted} on the order: due {as_of}")
                date = as_of
            qty = units.qty(row, entity, sku, remaining)
            if qty is None:
                continue
            party = str(head.get("customerName" if sales else "vendorName", ""))
            order = {"order_id": str(head.get("number")), "sku": sku, "qty": qty}
            if sales:
                out["open_demand"].append({**order, "requested_date": date, "customer": party})
            else:
                out["receipts"].append({**order, "expected_date": date, "supplier": party})

    def check(self) -> list[EntityStatus]:
        result: list[EntityStatus] = []
        for name, (path, params) in STANDARD.items():
            result.append(self._probe(ENTITY_OF[name], path, params))
        for entity, gap in STANDARD_GAPS.items():
            if entity in self.custom:
                result.append(self._probe(entity, self.custom[entity].path, None))
            else:
                note = "stock is read as item totals in warehouse ALL" if entity == "stock" else "left empty"
                result.append(
                    EntityStatus(
                        entity,
                        "missing",
                        "standard API v2.0",
                        f"not in the standard API ({gap}); publish an API page and map it "
                        f"under custom.{entity}; {note}",
                    )
                )
        return result

    def _probe(self, entity: str, path: str, params: Mapping[str, str] | None) -> EntityStatus:
        try:
            self.client.json("GET", self.path(path), params={**(params or {}), "$top": "1"})
            return EntityStatus(entity, "ok", path)
        except ConnectorError as exc:
            return EntityStatus(entity, "error", path, str(exc))

"""The Odoo connector: which models are read with which domain and fields, full or incremental.

Paging is keyset (``id > last id``, ordered by id, ``limit`` = page size) rather than offset, so records
created or deleted during a sync cannot shift pages and skip others. Incremental syncs read only records
with ``write_date >= `` the previous sync's highest ``write_date`` (Odoo server time, UTC), merge them by id
into the stored records, and drop ids Odoo no longer returns for the table's domain (deleted, cancelled).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.sync import EntityStatus, SyncResult
from connectors.transport import ConnectorError, Reader, keyset_pages
from sop_functions import clock
from sop_functions.snapshot import snapshot_from_records

from .api import Domain, OdooApi
from .fields import line_uom, supplier_uom
from .mapping import Raw, to_records
from .units import uom_fields


@dataclass(frozen=True)
class Table:
    name: str
    model: str
    domain: Domain
    fields: tuple[str, ...]
    entity: str


def tables(version: int) -> list[Table]:
    qty = "quantity" if version >= 17 else "quantity_done"
    product_types = ["product", "consu"]
    unit = line_uom(version)
    done_out = [
        ("state", "=", "done"),
        ("location_dest_id.usage", "=", "customer"),
        ("location_id.usage", "!=", "customer"),
    ]
    done_back = [
        ("state", "=", "done"),
        ("location_id.usage", "=", "customer"),
        ("location_dest_id.usage", "!=", "customer"),
    ]
    return [
        Table("uom.uom", "uom.uom", [("active", "in", [True, False])], uom_fields(version), "items"),
        Table(
            "product.product",
            "product.product",
            [("type", "in", product_types)],
            (
                "default_code",
                "name",
                "categ_id",
                "uom_id",
                "standard_price",
                "lst_price",
                "produce_delay",
                "product_tmpl_id",
            ),
            "items",
        ),
        Table(
            "product.supplierinfo",
            "product.supplierinfo",
            [],
            ("product_tmpl_id", "product_id", "delay", "sequence", "min_qty", supplier_uom(version)),
            "items",
        ),
        Table(
            "stock.warehouse.orderpoint",
            "stock.warehouse.orderpoint",
            [],
            ("product_id", "product_min_qty", "qty_multiple"),
            "items",
        ),
        Table(
            "stock.quant",
            "stock.quant",
            [("location_id.usage", "=", "internal")],
            ("product_id", "warehouse_id", "quantity"),
            "stock",
        ),
        Table(
            "sale.order",
            "sale.order",
            [("state", "in", ["sale", "done"])],
            ("name", "commitment_date", "expected_date"),
            "open_demand",
        ),
        Table(
            "sale.order.line",
            "sale.order.line",
            [("state", "in", ["sale", "done"])],
            ("order_id", "product_id", "product_uom_qty", "qty_delivered", unit, "order_partner_id"),
            "open_demand",
        ),
        Table(
            "purchase.order.line",
            "purchase.order.line",
            [("state", "in", ["purchase", "done"])],
            ("order_id", "product_id", "product_qty", "qty_received", unit, "date_planned", "partner_id"),
            "receipts",
        ),
        Table(
            "mrp.production",
            "mrp.production",
            [("state", "in", ["draft", "confirmed", "progress", "to_close"])],
            (
                "name",
                "product_id",
                "product_qty",
                "qty_produced",
                "product_uom_id",
                "date_deadline",
                "date_finished",
                "date_start",
                "state",
            ),
            "production",
        ),
        Table("resource.calendar", "resource.calendar", [], ("name", "hours_per_day"), "work_centers"),
        Table(
            "mrp.workcenter",
            "mrp.workcenter",
            [],
            ("code", "name", "default_capacity", "time_efficiency", "resource_calendar_id"),
            "work_centers",
        ),
        Table(
            "mrp.bom",
            "mrp.bom",
            [("type", "=", "normal")],
            ("product_tmpl_id", "product_id", "product_qty", "product_uom_id"),
            "bom",
        ),
        Table("mrp.bom.line", "mrp.bom.line", [], ("bom_id", "product_id", "product_qty", "product_uom_id"), "bom"),
        Table(
            "mrp.routing.workcenter",
            "mrp.routing.workcenter",
            [],
            ("bom_id", "workcenter_id", "time_cycle_manual"),
            "routings",
        ),
        Table(
            "stock.move", "stock.move", done_out, ("product_id", qty, "product_uom", "date", "partner_id"), "shipments"
        ),
        Table(
            "stock.move.return",
            "stock.move",
            done_back,
            ("product_id", qty, "product_uom", "date", "partner_id"),
            "shipments",
        ),
    ]


class OdooConnector:
    kind = "odoo"

    def __init__(
        self,
        api: OdooApi,
        *,
        version: int = 17,
        page_size: int = 500,
        work_days_per_month: float = 21.0,
        now: Callable[[], dt.datetime] | None = None,
        source: str = "odoo",
    ) -> None:
        self.api = api
        self.version = version
        self.page_size = page_size
        self.work_days_per_month = work_days_per_month
        self.now = now or clock.now
        self.source = source

    def _read(self, table: Table, extra: Domain) -> list[dict[str, Any]]:
        fields = [*table.fields, "write_date"]

        def fetch(after: int | None, limit: int) -> list[dict[str, Any]]:
            domain = [*table.domain, *extra, *([("id", ">", after)] if after is not None else [])]
            return self.api.search_read(table.model, domain, fields, limit, "id asc")

        records: list[dict[str, Any]] = []
        for page in keyset_pages(fetch, lambda r: int(r["id"]), self.page_size):
            records.extend(page)
        return records

    def fetch(self, previous: dict[str, Any] | None = None) -> SyncResult:
        as_of = self.now()
        prev_raw: Raw = (previous or {}).get("raw", {})
        marks: dict[str, str] = dict((previous or {}).get("watermarks", {}))
        raw: Raw = {}
        for table in tables(self.version):
            mark = marks.get(table.name) if previous else None
            if mark is None:
                rows = self._read(table, [])
                raw[table.name] = {str(r["id"]): r for r in rows}
            else:
                changed = self._read(table, [("write_date", ">=", mark)])
                merged = dict(prev_raw.get(table.name, {}))
                merged.update({str(r["id"]): r for r in changed})
                # a record enters the domain by being written: when the count matches what is kept plus the
                # changes, nothing was deleted (one small request); otherwise list the ids still matching
                if self.api.search_count(table.model, table.domain) != len(merged):
                    alive = {str(i) for i in self.api.search(table.model, table.domain)}
                    merged = {k: v for k, v in merged.items() if k in alive}
                raw[table.name] = merged
            stamps = [str(r.get("write_date")) for r in raw[table.name].values() if r.get("write_date")]
            marks[table.name] = max(stamps, default=mark or "1970-01-01 00:00:00")
        reader = Reader(self.source)
        records = to_records(raw, reader, self.work_days_per_month, self.version)
        reader.check()
        snapshot = snapshot_from_records(self.source, as_of, records)
        return SyncResult(snapshot, {"raw": raw, "watermarks": marks}, list(reader.notes))

    def check(self) -> list[EntityStatus]:
        seen: dict[str, EntityStatus] = {}
        for table in tables(self.version):
            try:
                self.api.search_read(table.model, table.domain, ["id"], 1, "id asc")
                status = EntityStatus(table.entity, "ok", f"{table.model}")
            except ConnectorError as exc:
                status = EntityStatus(table.entity, "error", table.model, str(exc))
            old = seen.get(table.entity)
            if old is None or old.status == "ok":
                seen[table.entity] = (
                    status
                    if old is None or status.status != "ok"
                    else EntityStatus(table.entity, "ok", f"{old.source}, {table.model}")
                )
        return list(seen.values())

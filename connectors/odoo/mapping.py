"""Odoo records -> canonical records. Pure functions of the raw tables (``model -> id -> record``).

Quantities are converted to the product's unit (``uom_id``) from the unit each record is in
(:mod:`.units`); a record whose unit does not convert is left out with a warning.

- items: ``product.product`` (storable/consumable), ``default_code`` = sku, family = the ``categ_id``
  category's name, or as much of its path as tells it from another category of that name
  (:mod:`connectors.families`); ``standard_price`` / ``lst_price``; lead time = the main vendor's
  ``delay`` (``product.supplierinfo``, lowest sequence) else ``produce_delay``; safety stock = the sum of
  ``stock.warehouse.orderpoint.product_min_qty``; ``lot_min`` = the main vendor's ``min_qty`` (in the
  vendor's unit, converted); ``lot_multiple`` = the largest orderpoint ``qty_multiple`` above 1 (Odoo's
  default 1 only asks for whole units).
- stock: ``stock.quant`` in internal locations, summed per product and warehouse.
- open demand: ``sale.order.line`` of confirmed orders, ``product_uom_qty - qty_delivered`` > 0 (both in
  the line's unit), dated by the order's ``commitment_date`` (the date promised to the customer) else its
  ``expected_date``.
- receipts: ``purchase.order.line``, ``product_qty - qty_received`` (the line's unit), ``date_planned``.
- production: ``mrp.production`` not done/cancelled, ``product_qty - qty_produced`` (``product_uom_id``),
  due ``date_deadline`` else ``date_finished``, start ``date_start``; draft = planned, confirmed = firm,
  progress/to_close = running.
- work centers: ``mrp.workcenter``; hours/month = ``default_capacity`` x ``time_efficiency``/100 x the
  calendar's ``hours_per_day`` x working days per month (a profile setting, default 21).
- routings: ``mrp.routing.workcenter.time_cycle_manual`` (minutes per BoM batch) / 60 / BoM quantity
  (converted to the product's unit).
- bom: ``mrp.bom.line.product_qty`` / BoM ``product_qty``, each converted from its own unit.
- shipments: done ``stock.move`` to customer locations (returns from customers negative), ``quantity`` in
  the move's ``product_uom``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from connectors.families import family_names, family_or_uncategorized, split_path
from connectors.transport import Reader, Row

from .fields import line_uom, supplier_uom
from .units import OdooUnits

Raw = dict[str, dict[str, dict[str, Any]]]
Records = dict[str, list[dict[str, Any]]]
PRODUCTION_STATES = {"draft": "planned", "confirmed": "firm", "progress": "running", "to_close": "running"}


def _id(value: Any) -> int | None:
    return value[0] if isinstance(value, list) and value else None


class _Products:
    """Skus, templates and units of the products, and the conversion of any record's quantity."""

    def __init__(self, raw: Raw, reader: Reader, version: int) -> None:
        self.units = OdooUnits({int(k): v for k, v in raw.get("uom.uom", {}).items()}, version)
        self.sku_of: dict[int, str] = {}
        self.tmpl_sku: dict[int, str] = {}
        self.uom_of: dict[str, Any] = {}
        for rec in raw.get("product.product", {}).values():
            row = reader.row("product.product", rec, "id", "default_code")
            sku = row.text("default_code")
            if row.ok:
                self.sku_of[rec["id"]] = sku
                self.uom_of[sku] = rec.get("uom_id")
                if (tid := _id(rec.get("product_tmpl_id"))) is not None:
                    self.tmpl_sku[tid] = sku

    def qty(self, row: Row, entity: str, sku: str | None, qty: float, unit: Any) -> float | None:
        """``qty`` (in ``unit``) in the unit of ``sku``; None, and a warning, when it does not convert."""
        if not sku:
            return None
        target = self.uom_of.get(sku)
        converted = self.units.convert(qty, unit if unit else target, target)
        if converted is None:
            given, wanted = self.units.name(unit), self.units.name(target)
            row.warn(entity, f"quantity {qty:g} is in {given}, which has no conversion to {wanted}: left out")
        return converted


def _items(raw: Raw, reader: Reader, products: _Products, version: int, out: Records) -> None:
    vendor: dict[str, tuple[int, float, float | None]] = {}  # sku -> (sequence, delay, min_qty in sku's unit)
    for rec in raw.get("product.supplierinfo", {}).values():
        sku = products.sku_of.get(_id(rec.get("product_id")) or -1) or products.tmpl_sku.get(
            _id(rec.get("product_tmpl_id")) or -1
        )
        row = reader.row("product.supplierinfo", rec, "id")
        delay, seq = row.num("delay"), int(row.num("sequence", required=False, default=10))
        minimum = row.num("min_qty", required=False)
        if sku and row.ok and (sku not in vendor or seq < vendor[sku][0]):
            unit = rec.get(supplier_uom(version))
            vendor[sku] = (seq, delay, products.qty(row, "items", sku, minimum, unit) if minimum else 0.0)
    safety: dict[str, float] = defaultdict(float)
    multiple: dict[str, float] = defaultdict(float)
    for rec in raw.get("stock.warehouse.orderpoint", {}).values():
        row = reader.row("stock.warehouse.orderpoint", rec, "id", "product_id")
        sku, qty = row.lookup("product_id", products.sku_of, "product"), row.num("product_min_qty")
        step = row.num("qty_multiple", required=False)
        if row.ok:
            safety[sku] += qty
            multiple[sku] = max(multiple[sku], step)
    names = [rec.get("categ_id") for rec in raw.get("product.product", {}).values()]
    categories = {str(c[1]): split_path(str(c[1])) for c in names if isinstance(c, list) and len(c) == 2}
    families = family_names(categories)
    for rec in raw.get("product.product", {}).values():
        row = reader.row("product.product", rec, "id", "default_code")
        sku = row.text("default_code")
        category = row.text("categ_id", required=False)
        lead = vendor[sku][1] if sku in vendor else row.num("produce_delay", False)
        item = {
            "sku": sku,
            "description": row.text("name", required=False),
            "family": family_or_uncategorized(row, families.get(category, category)),
            "uom": row.text("uom_id"),
            "unit_cost": row.num("standard_price"),
            "unit_price": row.num("lst_price"),
            "lead_time_days": int(lead),
            "safety_stock": safety.get(sku, 0.0),
            "lot_min": (vendor[sku][2] or 0.0) if sku in vendor else 0.0,
            "lot_multiple": multiple[sku] if multiple.get(sku, 0.0) > 1.0 else 0.0,
        }
        if row.ok:
            out["items"].append(item)


def _orders(raw: Raw, reader: Reader, products: _Products, version: int, out: Records) -> None:
    unit = line_uom(version)
    orders = {int(k): v for k, v in raw.get("sale.order", {}).items()}
    for rec in raw.get("sale.order.line", {}).values():
        row = reader.row("sale.order.line", rec, "id", "order_id")
        order = row.lookup("order_id", orders, "sale order")
        sku = row.lookup("product_id", products.sku_of, "product")
        open_qty = row.num("product_uom_qty") - row.num("qty_delivered", required=False)
        date = None
        if order is not None:
            orow = reader.row("sale.order", order, "id", "name")
            date = orow.date("commitment_date", required=False) or orow.date("expected_date")
            row.ok &= orow.ok
        if row.ok and open_qty > 1e-9:
            qty = products.qty(row, "open_demand", sku, open_qty, rec.get(unit))
            if qty is not None:
                customer = row.text("order_partner_id", False)
                out["open_demand"].append(
                    {"order_id": order["name"], "sku": sku, "qty": qty, "requested_date": date, "customer": customer}
                )
    for rec in raw.get("purchase.order.line", {}).values():
        row = reader.row("purchase.order.line", rec, "id", "order_id")
        sku = row.lookup("product_id", products.sku_of, "product")
        open_qty = row.num("product_qty") - row.num("qty_received", required=False)
        rec_out = {
            "order_id": row.text("order_id"),
            "sku": sku,
            "expected_date": row.date("date_planned"),
            "supplier": row.text("partner_id", False),
        }
        if row.ok and open_qty > 1e-9:
            qty = products.qty(row, "receipts", sku, open_qty, rec.get(unit))
            if qty is not None:
                out["receipts"].append({**rec_out, "qty": qty})


def _production(raw: Raw, reader: Reader, products: _Products, out: Records) -> None:
    for rec in raw.get("mrp.production", {}).values():
        row = reader.row("mrp.production", rec, "id", "name")
        state = PRODUCTION_STATES.get(str(rec.get("state")))
        remaining = row.num("product_qty") - row.num("qty_produced", required=False)
        sku = row.lookup("product_id", products.sku_of, "product")
        rec_out = {
            "order_id": row.text("name"),
            "sku": sku,
            "due_date": row.date("date_deadline", False) or row.date("date_finished"),
            "state": state,
            "start_date": row.date("date_start", False),
        }
        if row.ok and state and remaining > 1e-9:
            qty = products.qty(row, "production", sku, remaining, rec.get("product_uom_id"))
            if qty is not None and qty > 1e-9:
                out["production"].append({**rec_out, "qty": qty})


def _work_centers(raw: Raw, reader: Reader, work_days_per_month: float, out: Records) -> dict[int, str]:
    calendars = {int(k): v for k, v in raw.get("resource.calendar", {}).items()}
    wc_code: dict[int, str] = {}
    for rec in raw.get("mrp.workcenter", {}).values():
        row = reader.row("mrp.workcenter", rec, "id", "code", "name")
        code = row.text("code", required=False) or row.text("name")
        cal = row.lookup("resource_calendar_id", calendars, "working calendar")
        hours_per_day = reader.row("resource.calendar", cal, "id", "name").num("hours_per_day") if cal else 0.0
        hours = row.num("default_capacity") * row.num("time_efficiency") / 100.0 * hours_per_day * work_days_per_month
        if row.ok:
            wc_code[rec["id"]] = code
            out["work_centers"].append({"code": code, "name": row.text("name"), "hours_per_month": round(hours, 6)})
    return wc_code


def _boms(raw: Raw, reader: Reader, products: _Products, wc_code: dict[int, str], out: Records) -> None:
    boms: dict[int, tuple[str, float]] = {}
    dropped: set[int] = set()  # BoMs whose own unit does not convert (warned): their lines go too
    for rec in raw.get("mrp.bom", {}).values():
        row = reader.row("mrp.bom", rec, "id", "product_tmpl_id")
        pid = _id(rec.get("product_id"))
        bom_sku: str | None = (
            products.sku_of.get(pid) if pid else row.lookup("product_tmpl_id", products.tmpl_sku, "product template")
        )
        batch = row.num("product_qty")
        if batch <= 0:
            reader.add("mrp.bom", row.label, "product_qty", f"must be > 0, got {batch}")
        elif row.ok and bom_sku:
            per = products.qty(row, "bom", bom_sku, batch, rec.get("product_uom_id"))
            if per:
                boms[rec["id"]] = (bom_sku, per)
            else:
                dropped.add(rec["id"])
    for rec in raw.get("mrp.bom.line", {}).values():
        row = reader.row("mrp.bom.line", rec, "id", "bom_id")
        if _id(rec.get("bom_id")) in dropped:
            continue
        parent = row.lookup("bom_id", boms, "bill of materials")
        comp, qty = row.lookup("product_id", products.sku_of, "product"), row.num("product_qty")
        if row.ok:
            per_parent = products.qty(row, "bom", comp, qty, rec.get("product_uom_id"))
            if per_parent is not None:
                out["bom"].append({"parent_sku": parent[0], "component_sku": comp, "qty_per": per_parent / parent[1]})
    routing: dict[tuple[str, str], float] = defaultdict(float)
    for rec in raw.get("mrp.routing.workcenter", {}).values():
        row = reader.row("mrp.routing.workcenter", rec, "id", "bom_id")
        if _id(rec.get("bom_id")) in dropped:
            continue
        parent = row.lookup("bom_id", boms, "bill of materials")
        wc, minutes = row.lookup("workcenter_id", wc_code, "work center"), row.num("time_cycle_manual")
        if row.ok:
            routing[(parent[0], wc)] += minutes / 60.0 / parent[1]
    out["routings"] = [{"sku": s, "work_center": w, "hours_per_unit": round(h, 9)} for (s, w), h in routing.items()]


def _shipments(raw: Raw, reader: Reader, products: _Products, out: Records) -> None:
    for model, sign in (("stock.move", 1.0), ("stock.move.return", -1.0)):
        for rec in raw.get(model, {}).values():
            row = reader.row("stock.move", rec, "id", "product_id")
            sku = row.lookup("product_id", products.sku_of, "product")
            quantity = row.num("quantity")
            rec_out = {"sku": sku, "ship_date": row.date("date"), "customer": row.text("partner_id", False)}
            if row.ok:
                qty = products.qty(row, "shipments", sku, quantity, rec.get("product_uom"))
                if qty is not None:
                    out["shipments"].append({**rec_out, "qty": sign * qty})


def to_records(raw: Raw, reader: Reader, work_days_per_month: float, version: int = 17) -> Records:
    products = _Products(raw, reader, version)
    out: Records = defaultdict(list)
    _items(raw, reader, products, version, out)
    stock: dict[tuple[str, str], float] = defaultdict(float)
    for rec in raw.get("stock.quant", {}).values():
        row = reader.row("stock.quant", rec, "id", "product_id")
        key = (row.lookup("product_id", products.sku_of, "product"), row.text("warehouse_id"))
        qty = row.num("quantity")
        if row.ok:
            stock[key] += qty
    out["stock"] = [{"sku": s, "warehouse": w, "qty": q} for (s, w), q in stock.items()]
    _orders(raw, reader, products, version, out)
    _production(raw, reader, products, out)
    wc_code = _work_centers(raw, reader, work_days_per_month, out)
    _boms(raw, reader, products, wc_code, out)
    _shipments(raw, reader, products, out)
    return dict(out)


def odoo_datetime(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

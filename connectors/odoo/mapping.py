"""Odoo records -> canonical records. Pure functions of the raw tables (``model -> id -> record``).

- items: ``product.product`` (storable/consumable), ``default_code`` = sku, family = last segment of the
  ``categ_id`` path, ``standard_price`` / ``lst_price``; lead time = the main vendor's ``delay``
  (``product.supplierinfo``, lowest sequence) else ``produce_delay``; safety stock = the sum of
  ``stock.warehouse.orderpoint.product_min_qty``.
- stock: ``stock.quant`` in internal locations, summed per product and warehouse.
- open demand: ``sale.order.line`` of confirmed orders, ``product_uom_qty - qty_delivered`` > 0, dated by
  the order's ``commitment_date`` else ``expected_date``.
- receipts: ``purchase.order.line``, ``product_qty - qty_received`` > 0, ``date_planned``.
- production: ``mrp.production`` not done/cancelled, ``product_qty - qty_produced``, ``date_deadline`` else
  ``date_finished``; draft = planned, confirmed = firm, progress/to_close = running.
- work centers: ``mrp.workcenter``; hours/month = ``default_capacity`` x ``time_efficiency``/100 x the
  calendar's ``hours_per_day`` x working days per month (a profile setting, default 21).
- routings: ``mrp.routing.workcenter.time_cycle_manual`` (minutes per BoM batch) / 60 / BoM quantity.
- bom: ``mrp.bom.line.product_qty`` / BoM ``product_qty``.
- shipments: done ``stock.move`` to customer locations (returns from customers negative).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from connectors.transport import Reader

Raw = dict[str, dict[str, dict[str, Any]]]
PRODUCTION_STATES = {"draft": "planned", "confirmed": "firm", "progress": "running", "to_close": "running"}


def _id(value: Any) -> int | None:
    return value[0] if isinstance(value, list) and value else None


def to_records(raw: Raw, reader: Reader, work_days_per_month: float) -> dict[str, list[dict[str, Any]]]:
    products = raw.get("product.product", {})
    sku_of: dict[int, str] = {}
    tmpl_sku: dict[int, str] = {}
    for rec in products.values():
        row = reader.row("product.product", rec, "id", "default_code")
        sku = row.text("default_code")
        if row.ok:
            sku_of[rec["id"]] = sku
            if (tid := _id(rec.get("product_tmpl_id"))) is not None:
                tmpl_sku[tid] = sku
    vendor_delay: dict[str, tuple[int, float]] = {}
    for rec in raw.get("product.supplierinfo", {}).values():
        vsku: str | None = sku_of.get(_id(rec.get("product_id")) or -1) or tmpl_sku.get(
            _id(rec.get("product_tmpl_id")) or -1
        )
        row = reader.row("product.supplierinfo", rec, "id")
        delay, seq = row.num("delay"), int(row.num("sequence", required=False, default=10))
        if vsku and row.ok and (vsku not in vendor_delay or seq < vendor_delay[vsku][0]):
            vendor_delay[vsku] = (seq, delay)
    safety: dict[str, float] = defaultdict(float)
    for rec in raw.get("stock.warehouse.orderpoint", {}).values():
        row = reader.row("stock.warehouse.orderpoint", rec, "id", "product_id")
        sku, qty = row.lookup("product_id", sku_of, "product"), row.num("product_min_qty")
        if row.ok:
            safety[sku] += qty

    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in products.values():
        row = reader.row("product.product", rec, "id", "default_code")
        sku = row.text("default_code")
        family = row.text("categ_id").split("/")[-1].strip()
        lead = vendor_delay[sku][1] if sku in vendor_delay else row.num("produce_delay", False)
        item = {
            "sku": sku,
            "description": row.text("name", required=False),
            "family": family,
            "uom": row.text("uom_id"),
            "unit_cost": row.num("standard_price"),
            "unit_price": row.num("lst_price"),
            "lead_time_days": int(lead),
            "safety_stock": safety.get(sku, 0.0),
        }
        if row.ok:
            out["items"].append(item)

    stock: dict[tuple[str, str], float] = defaultdict(float)
    for rec in raw.get("stock.quant", {}).values():
        row = reader.row("stock.quant", rec, "id", "product_id")
        key = (row.lookup("product_id", sku_of, "product"), row.text("warehouse_id"))
        qty = row.num("quantity")
        if row.ok:
            stock[key] += qty
    out["stock"] = [{"sku": s, "warehouse": w, "qty": q} for (s, w), q in stock.items()]

    orders = raw.get("sale.order", {})
    for rec in raw.get("sale.order.line", {}).values():
        row = reader.row("sale.order.line", rec, "id", "order_id")
        order = row.lookup("order_id", {int(k): v for k, v in orders.items()}, "sale order")
        sku = row.lookup("product_id", sku_of, "product")
        open_qty = row.num("product_uom_qty") - row.num("qty_delivered", required=False)
        date = None
        if order is not None:
            orow = reader.row("sale.order", order, "id", "name")
            date = orow.date("commitment_date", required=False) or orow.date("expected_date")
            row.ok &= orow.ok
        if row.ok and open_qty > 1e-9:
            customer = row.text("order_partner_id", False)
            out["open_demand"].append(
                {"order_id": order["name"], "sku": sku, "qty": open_qty, "requested_date": date, "customer": customer}
            )

    for rec in raw.get("purchase.order.line", {}).values():
        row = reader.row("purchase.order.line", rec, "id", "order_id")
        sku = row.lookup("product_id", sku_of, "product")
        open_qty = row.num("product_qty") - row.num("qty_received", required=False)
        rec_out = {
            "order_id": row.text("order_id"),
            "sku": sku,
            "qty": open_qty,
            "expected_date": row.date("date_planned"),
            "supplier": row.text("partner_id", False),
        }
        if row.ok and open_qty > 1e-9:
            out["receipts"].append(rec_out)

    for rec in raw.get("mrp.production", {}).values():
        row = reader.row("mrp.production", rec, "id", "name")
        state = PRODUCTION_STATES.get(str(rec.get("state")))
        remaining = row.num("product_qty") - row.num("qty_produced", required=False)
        rec_out = {
            "order_id": row.text("name"),
            "sku": row.lookup("product_id", sku_of, "product"),
            "qty": remaining,
            "due_date": row.date("date_deadline", False) or row.date("date_finished"),
            "state": state,
        }
        if row.ok and state and remaining > 1e-9:
            out["production"].append(rec_out)

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

    boms: dict[int, tuple[str, float]] = {}
    for rec in raw.get("mrp.bom", {}).values():
        row = reader.row("mrp.bom", rec, "id", "product_tmpl_id")
        pid = _id(rec.get("product_id"))
        bom_sku: str | None = sku_of.get(pid) if pid else row.lookup("product_tmpl_id", tmpl_sku, "product template")
        batch = row.num("product_qty")
        if batch <= 0:
            reader.add("mrp.bom", row.label, "product_qty", f"must be > 0, got {batch}")
        elif row.ok and bom_sku:
            boms[rec["id"]] = (bom_sku, batch)
    for rec in raw.get("mrp.bom.line", {}).values():
        row = reader.row("mrp.bom.line", rec, "id", "bom_id")
        parent = row.lookup("bom_id", boms, "bill of materials")
        comp, qty = row.lookup("product_id", sku_of, "product"), row.num("product_qty")
        if row.ok:
            out["bom"].append({"parent_sku": parent[0], "component_sku": comp, "qty_per": qty / parent[1]})
    routing: dict[tuple[str, str], float] = defaultdict(float)
    for rec in raw.get("mrp.routing.workcenter", {}).values():
        row = reader.row("mrp.routing.workcenter", rec, "id", "bom_id")
        parent = row.lookup("bom_id", boms, "bill of materials")
        wc, minutes = row.lookup("workcenter_id", wc_code, "work center"), row.num("time_cycle_manual")
        if row.ok:
            routing[(parent[0], wc)] += minutes / 60.0 / parent[1]
    out["routings"] = [{"sku": s, "work_center": w, "hours_per_unit": round(h, 9)} for (s, w), h in routing.items()]

    for model, sign in (("stock.move", 1.0), ("stock.move.return", -1.0)):
        for rec in raw.get(model, {}).values():
            row = reader.row("stock.move", rec, "id", "product_id")
            rec_out = {
                "sku": row.lookup("product_id", sku_of, "product"),
                "qty": sign * row.num("quantity"),
                "ship_date": row.date("date"),
                "customer": row.text("partner_id", False),
            }
            if row.ok:
                out["shipments"].append(rec_out)
    return dict(out)


def odoo_datetime(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

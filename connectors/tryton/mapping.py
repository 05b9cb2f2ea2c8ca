"""What sopxl reads from which Tryton model, and how raw Tryton rows become canonical records.

Pure functions over plain dicts (decoded JSON-RPC rows keyed by id): no I/O here, so the mapping is tested
without a server and the sync layer can cache raw rows and re-map them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Row = dict[str, Any]
Rows = Mapping[int, Row]

OPEN_STATES_EXCLUDED = ("done", "cancelled")
PRODUCTION_STATES = {
    "request": "planned",
    "draft": "planned",
    "waiting": "firm",
    "assigned": "firm",
    "running": "running",
}
"""Tryton production state -> canonical state; done and cancelled productions are not supply to come."""


@dataclass(frozen=True)
class Source:
    """One Tryton model read by the sync: its domain, its fields, and whether changes can be tracked."""

    name: str
    model: str
    domain: list[Any]
    fields: tuple[str, ...]
    incremental: bool = True
    optional: bool = False
    """Skipped (empty) when the model's module is not activated on the server."""
    extra: dict[str, Any] = field(default_factory=dict)


SOURCES: tuple[Source, ...] = (
    Source("warehouses", "stock.location", [("type", "=", "warehouse")], ("code", "name"), incremental=False),
    Source("categories", "product.category", [], ("name",), incremental=False),
    # cost_price and list_price_used are computed per company: changing them does not touch write_date.
    Source(
        "products",
        "product.product",
        [("type", "=", "goods")],
        ("code", "name", "template", "template.categories", "default_uom.name", "cost_price", "list_price_used"),
        incremental=False,
    ),
    Source(
        "product_suppliers",
        "purchase.product_supplier",
        [],
        ("template", "product", "lead_time", "sequence"),
        optional=True,
    ),
    Source("order_points", "stock.order_point", [], ("product", "type", "min_quantity"), optional=True),
    Source("sale_lines", "sale.line", [("type", "=", "line")], ("sale.number", "sale.party.name"), optional=True),
    Source(
        "customer_moves",
        "stock.move",
        ["OR", ("to_location.type", "=", "customer"), ("from_location.type", "=", "customer")],
        (
            "product",
            "internal_quantity",
            "state",
            "planned_date",
            "effective_date",
            "origin",
            "to_location.type",
            "from_location.type",
            "shipment.customer.name",
        ),
    ),
    Source(
        "purchase_moves",
        "stock.move",
        [("origin", "like", "purchase.line,%")],
        (
            "product",
            "internal_quantity",
            "state",
            "planned_date",
            "from_location.type",
            "origin.purchase.number",
            "origin.purchase.party.name",
        ),
        optional=True,
    ),
    Source(
        "productions",
        "production",
        [],
        ("number", "product", "quantity", "planned_date", "planned_start_date", "state"),
        optional=True,
    ),
    Source("work_centers", "production.work.center", [], ("name", "parent"), optional=True),
    Source("product_boms", "product.product-production.bom", [], ("product", "bom", "sequence"), optional=True),
    Source("bom_inputs", "production.bom.input", [], ("bom", "product", "quantity"), optional=True),
    Source("bom_outputs", "production.bom.output", [], ("bom", "product", "quantity"), optional=True),
    Source(
        "work_cycles",
        "production.work.cycle",
        [("state", "=", "done")],
        ("duration", "work.work_center.name", "work.production.product", "work.production.quantity"),
        optional=True,
    ),
)
SOURCE_BY_NAME = {s.name: s for s in SOURCES}


def stock_context(warehouse_id: int, today: dt.date) -> dict[str, Any]:
    """Context that makes ``product.product.quantity`` the on-hand (done moves) of one warehouse today."""
    return {"locations": [warehouse_id], "stock_date_end": today, "with_childs": True}


def _num(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def _nested(row: Row, dotted: str) -> Any:
    """Value of a dotted field as Tryton returns it: ``{"a.": {"b": 1}}`` for ``a.b``."""
    *path, last = dotted.split(".")
    node: Any = row
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part + ".")
    return node.get(last) if isinstance(node, dict) else None


def _ref_id(reference: Any, model: str) -> int | None:
    if isinstance(reference, str) and reference.startswith(model + ","):
        try:
            return int(reference.split(",", 1)[1])
        except ValueError:
            return None
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def sku_map(products: Rows) -> dict[int, str]:
    return {pid: (row.get("code") or f"product-{pid}") for pid, row in products.items()}


def warehouse_code(row: Row) -> str:
    return str(row.get("code") or row.get("name") or f"warehouse-{row['id']}")


def map_items(raw: Mapping[str, Rows], default_lead_time_days: int) -> list[Row]:
    products, categories = raw["products"], raw["categories"]
    skus = sku_map(products)
    lead: dict[int, tuple[int, int]] = {}  # product id -> (sequence, days)
    template_lead: dict[int, tuple[int, int]] = {}
    for row in raw.get("product_suppliers", {}).values():
        delta = row.get("lead_time")
        if not isinstance(delta, dt.timedelta):
            continue
        days = math.ceil(delta.total_seconds() / 86400)
        rank = (row.get("sequence") or 0, days)
        target = lead if row.get("product") else template_lead
        key = row.get("product") or row.get("template")
        if key is not None and (key not in target or rank < target[key]):
            target[key] = rank
    safety: dict[int, float] = defaultdict(float)
    for row in raw.get("order_points", {}).values():
        if row.get("type") in ("purchase", "production") and row.get("product"):
            safety[row["product"]] += _num(row.get("min_quantity"))
    items = []
    for pid, row in sorted(products.items()):
        category_ids = _nested(row, "template.categories") or []
        names = [categories[c]["name"] for c in sorted(category_ids) if c in categories]
        template_id = row.get("template") or (row.get("template.") or {}).get("id")
        ranked = lead.get(pid) or (template_lead.get(template_id) if template_id else None)
        items.append(
            {
                "sku": skus[pid],
                "description": row.get("name") or "",
                "family": names[0] if names else "Uncategorized",
                "uom": _nested(row, "default_uom.name") or "unit",
                "unit_cost": max(0.0, _num(row.get("cost_price"))),
                "unit_price": max(0.0, _num(row.get("list_price_used"))),
                "lead_time_days": ranked[1] if ranked else default_lead_time_days,
                "safety_stock": safety.get(pid, 0.0),
            }
        )
    return items


def map_stock(raw: Mapping[str, Rows], stock: Mapping[int, Mapping[int, float]]) -> list[Row]:
    """``stock``: warehouse id -> product id -> on-hand quantity."""
    skus = sku_map(raw["products"])
    rows = []
    for wh_id, quantities in sorted(stock.items()):
        code = warehouse_code(raw["warehouses"][wh_id])
        for pid, qty in sorted(quantities.items()):
            if pid in skus and qty:
                rows.append({"sku": skus[pid], "warehouse": code, "qty": qty})
    return rows


def map_open_demand(raw: Mapping[str, Rows], as_of_date: dt.date) -> list[Row]:
    skus = sku_map(raw["products"])
    lines = raw.get("sale_lines", {})
    out = []
    for _mid, move in sorted(raw["customer_moves"].items()):
        line_id = _ref_id(move.get("origin"), "sale.line")
        if line_id is None or move.get("state") in OPEN_STATES_EXCLUDED:
            continue
        if _nested(move, "to_location.type") != "customer" or move.get("product") not in skus:
            continue
        qty = _num(move.get("internal_quantity"))
        if qty <= 0:
            continue
        line = lines.get(line_id, {})
        out.append(
            {
                "order_id": _nested(line, "sale.number") or f"sale-line-{line_id}",
                "sku": skus[move["product"]],
                "qty": qty,
                "requested_date": _date(move.get("planned_date")) or as_of_date,
                "customer": _nested(line, "sale.party.name") or "",
            }
        )
    return out


def map_shipments(raw: Mapping[str, Rows]) -> list[Row]:
    skus = sku_map(raw["products"])
    lines = raw.get("sale_lines", {})
    out = []
    for _mid, move in sorted(raw["customer_moves"].items()):
        if move.get("state") != "done" or move.get("product") not in skus:
            continue
        to_customer = _nested(move, "to_location.type") == "customer"
        from_customer = _nested(move, "from_location.type") == "customer"
        if to_customer == from_customer:
            continue
        day = _date(move.get("effective_date")) or _date(move.get("planned_date"))
        if day is None:
            continue
        qty = _num(move.get("internal_quantity"))
        line = lines.get(_ref_id(move.get("origin"), "sale.line") or -1, {})
        customer = _nested(move, "shipment.customer.name") or _nested(line, "sale.party.name") or ""
        out.append(
            {"sku": skus[move["product"]], "qty": qty if to_customer else -qty, "ship_date": day, "customer": customer}
        )
    return out


def map_receipts(raw: Mapping[str, Rows], as_of_date: dt.date) -> list[Row]:
    skus = sku_map(raw["products"])
    out = []
    for _mid, move in sorted(raw.get("purchase_moves", {}).items()):
        if move.get("state") in OPEN_STATES_EXCLUDED or move.get("product") not in skus:
            continue
        if _nested(move, "from_location.type") != "supplier":
            continue
        qty = _num(move.get("internal_quantity"))
        if qty <= 0:
            continue
        line_id = _ref_id(move.get("origin"), "purchase.line")
        out.append(
            {
                "order_id": _nested(move, "origin.purchase.number") or f"purchase-line-{line_id}",
                "sku": skus[move["product"]],
                "qty": qty,
                "expected_date": _date(move.get("planned_date")) or as_of_date,
                "supplier": _nested(move, "origin.purchase.party.name") or "",
            }
        )
    return out


def map_production(raw: Mapping[str, Rows], as_of_date: dt.date) -> list[Row]:
    skus = sku_map(raw["products"])
    out = []
    for pid, row in sorted(raw.get("productions", {}).items()):
        state = PRODUCTION_STATES.get(row.get("state") or "")
        qty = _num(row.get("quantity"))
        if state is None or row.get("product") not in skus or qty <= 0:
            continue
        due = _date(row.get("planned_date")) or _date(row.get("planned_start_date")) or as_of_date
        out.append(
            {
                "order_id": row.get("number") or f"production-{pid}",
                "sku": skus[row["product"]],
                "qty": qty,
                "due_date": due,
                "state": state,
            }
        )
    return out


def map_work_centers(raw: Mapping[str, Rows]) -> list[Row]:
    """Leaf work centers (a center with children only groups them). Tryton holds no capacity."""
    centers = raw.get("work_centers", {})
    parents = {row.get("parent") for row in centers.values() if row.get("parent")}
    seen: set[str] = set()
    out = []
    for cid, row in sorted(centers.items()):
        name = row.get("name") or f"work-center-{cid}"
        if cid in parents or name in seen:
            continue
        seen.add(name)
        out.append({"code": name, "name": name, "hours_per_month": None})
    return out


def map_bom(raw: Mapping[str, Rows]) -> list[Row]:
    """Each item's first BOM (by the product's BOM list sequence, else any BOM that outputs it)."""
    skus = sku_map(raw["products"])
    inputs: dict[int, list[Row]] = defaultdict(list)
    for row in raw.get("bom_inputs", {}).values():
        inputs[row["bom"]].append(row)
    output_qty: dict[tuple[int, int], float] = {}
    bom_of: dict[int, int] = {}
    for _oid, row in sorted(raw.get("bom_outputs", {}).items()):
        output_qty[(row["bom"], row["product"])] = _num(row.get("quantity"))
        bom_of.setdefault(row["product"], row["bom"])
    ranked = sorted(raw.get("product_boms", {}).values(), key=lambda r: (r.get("sequence") or 0, r["id"]))
    chosen: dict[int, int] = {}
    for row in ranked:
        chosen.setdefault(row["product"], row["bom"])
    for product, bom in bom_of.items():
        chosen.setdefault(product, bom)
    out = []
    for product, bom in sorted(chosen.items()):
        per_output = output_qty.get((bom, product), 0.0)
        if product not in skus or per_output <= 0:
            continue
        totals: dict[str, float] = defaultdict(float)
        for row in inputs.get(bom, []):
            if row.get("product") in skus:
                totals[skus[row["product"]]] += _num(row.get("quantity")) / per_output
        out += [
            {"parent_sku": skus[product], "component_sku": sku, "qty_per": qty}
            for sku, qty in sorted(totals.items())
            if qty > 0
        ]
    return out


def map_routings(raw: Mapping[str, Rows]) -> list[Row]:
    """Hours per unit measured from done work cycles (production_work): hours / produced quantity."""
    skus = sku_map(raw["products"])
    centers = {row["code"] for row in map_work_centers(raw)}
    hours: dict[tuple[str, str], float] = defaultdict(float)
    quantities: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for row in raw.get("work_cycles", {}).values():
        duration = row.get("duration")
        work = row.get("work.") or {}
        center = _nested(work, "work_center.name")
        production = work.get("production.") or {}
        product = production.get("product")
        if not isinstance(duration, dt.timedelta) or product not in skus or center not in centers:
            continue
        key = (skus[product], center)
        hours[key] += duration.total_seconds() / 3600
        quantities[key][production["id"]] = _num(production.get("quantity"))
    out = []
    for key, total in sorted(hours.items()):
        produced = sum(quantities[key].values())
        if produced > 0:
            out.append({"sku": key[0], "work_center": key[1], "hours_per_unit": total / produced})
    return out


def map_all(
    raw: Mapping[str, Rows],
    stock: Mapping[int, Mapping[int, float]],
    as_of_date: dt.date,
    default_lead_time_days: int,
) -> dict[str, list[Row]]:
    """Every canonical entity from the raw rows of every source."""
    return {
        "items": map_items(raw, default_lead_time_days),
        "stock": map_stock(raw, stock),
        "open_demand": map_open_demand(raw, as_of_date),
        "shipments": map_shipments(raw),
        "receipts": map_receipts(raw, as_of_date),
        "production": map_production(raw, as_of_date),
        "work_centers": map_work_centers(raw),
        "routings": map_routings(raw),
        "bom": map_bom(raw),
    }

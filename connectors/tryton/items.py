"""Tryton products -> sopxl items: family, lead time, safety stock and lot sizes as Tryton means them.

- **Family**: the product template's first category *in Tryton's own order* (the order the Categories
  list shows, which Tryton sorts by name, not by id), named by the category's name; when another
  category has the same name ("Pumps / Spares", "Valves / Spares"), by as much of its path as tells them
  apart. No category: family "Uncategorized", with a warning.
- **Lead time**: the product's ``purchase.product_supplier.lead_time`` (lowest sequence), else the
  template's, else the setting ``default_lead_time_days``.
- **Safety stock**: the sum of ``min_quantity`` of its purchase/production order points.
- **Lot sizes**: ``lot_min`` = the largest ``target_quantity - min_quantity`` of its order points (Tryton
  then orders up to the target, so never less) or the smallest price-break quantity of its supplier
  (``purchase.product_supplier.price.quantity``), whichever is larger; ``lot_multiple`` = one purchase unit
  in default units when the product is bought in another unit (Tryton rounds purchase requests up to
  whole purchase units); ``lot_max`` none (Tryton has no cap).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping

from connectors.families import UNCATEGORIZED, family_names
from connectors.notices import Notes

from .rows import Row, Rows, nested, num, record, sku_map
from .units import Units


def category_paths(categories: Rows) -> dict[int, list[str]]:
    """Category id -> the names from its top-level category down to it (``parent`` links)."""
    paths: dict[int, list[str]] = {}
    for cid in categories:
        path: list[str] = []
        node: int | None = cid
        seen: set[int] = set()
        while node is not None and node in categories and node not in seen:
            seen.add(node)
            path.insert(0, str(categories[node].get("name") or f"category-{node}"))
            node = categories[node].get("parent")
        paths[cid] = path
    return paths


def _lead_times(raw: Mapping[str, Rows]) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """Per product and per template: (days, product_supplier id) of the lowest-sequence supplier with a
    lead time (the shorter one on a tie)."""
    lead: dict[int, tuple[int, int]] = {}
    template_lead: dict[int, tuple[int, int]] = {}
    ranks: dict[tuple[bool, int], tuple[int, int]] = {}
    for sid, row in sorted(raw.get("product_suppliers", {}).items()):
        delta = row.get("lead_time")
        if not isinstance(delta, dt.timedelta):
            continue
        days = math.ceil(delta.total_seconds() / 86400)
        rank = (row.get("sequence") or 0, days)
        is_product = bool(row.get("product"))
        key = row.get("product") or row.get("template")
        if key is not None and ((is_product, key) not in ranks or rank < ranks[(is_product, key)]):
            ranks[(is_product, key)] = rank
            (lead if is_product else template_lead)[key] = (days, sid)
    return lead, template_lead


def _price_suppliers(raw: Mapping[str, Rows]) -> tuple[dict[int, int], dict[int, int]]:
    """Per product and per template: the supplier with the lowest sequence (for its price quantities)."""
    own: dict[int, tuple[int, int]] = {}
    shared: dict[int, tuple[int, int]] = {}
    for sid, row in raw.get("product_suppliers", {}).items():
        rank = (row.get("sequence") or 0, sid)
        target, key = (own, row.get("product")) if row.get("product") else (shared, row.get("template"))
        if key is not None and (key not in target or rank < target[key]):
            target[key] = rank
    return {k: v[1] for k, v in own.items()}, {k: v[1] for k, v in shared.items()}


def _order_point_spans(raw: Mapping[str, Rows]) -> dict[int, float]:
    """Per product: the largest ``target_quantity - min_quantity`` of its purchase/production order points."""
    spans: dict[int, float] = defaultdict(float)
    for row in raw.get("order_points", {}).values():
        if row.get("type") in ("purchase", "production") and row.get("product"):
            span = num(row.get("target_quantity")) - num(row.get("min_quantity"))
            spans[row["product"]] = max(spans[row["product"]], span)
    return spans


def _lot_min(row: Row, span: float, minimum: float | None, units: Units) -> float:
    """The larger of the order point span and the supplier's smallest price quantity (in default units)."""
    if minimum is None:
        return span
    quantity = units.convert(minimum, row.get("purchase_uom") or row.get("default_uom"), row.get("default_uom"))
    return max(span, quantity or 0.0)


def _lot_multiple(row: Row, units: Units) -> float:
    purchase, default = row.get("purchase_uom"), row.get("default_uom")
    if not purchase or purchase == default:
        return 0.0
    step = num((units.uoms.get(purchase) or {}).get("rounding")) or 1.0
    return units.convert(step, purchase, default) or 0.0


def map_items(raw: Mapping[str, Rows], default_lead_time_days: int, notes: Notes) -> list[Row]:
    products, categories = raw["products"], raw["categories"]
    skus = sku_map(products)
    units = Units(raw.get("uoms", {}))
    families = family_names(category_paths(categories))
    lead, template_lead = _lead_times(raw)
    min_price: dict[int, float] = {}
    for row in raw.get("supplier_prices", {}).values():
        sid = row.get("product_supplier")
        if sid is not None:
            min_price[sid] = min(min_price.get(sid, math.inf), num(row.get("quantity")))
    own_supplier, template_supplier = _price_suppliers(raw)
    spans = _order_point_spans(raw)
    safety: dict[int, float] = defaultdict(float)
    for row in raw.get("order_points", {}).values():
        if row.get("type") in ("purchase", "production") and row.get("product"):
            safety[row["product"]] += num(row.get("min_quantity"))
    items = []
    for pid, row in sorted(products.items()):
        category_ids = [c for c in nested(row, "template.categories") or [] if c in categories]
        if category_ids:
            family = families[category_ids[0]]
        else:
            family = UNCATEGORIZED
            notes.add("items", "product.product", record(pid, row, "code"), f"no category: planned in family {family}")
        template_id = row.get("template") or (row.get("template.") or {}).get("id")
        ranked = lead.get(pid) or (template_lead.get(template_id) if template_id else None)
        supplier = own_supplier.get(pid) or template_supplier.get(template_id or -1)
        items.append(
            {
                "sku": skus[pid],
                "description": row.get("name") or "",
                "family": family,
                "uom": nested(row, "default_uom.name") or "unit",
                "unit_cost": max(0.0, num(row.get("cost_price"))),
                "unit_price": max(0.0, num(row.get("list_price_used"))),
                "lead_time_days": ranked[0] if ranked else default_lead_time_days,
                "safety_stock": safety.get(pid, 0.0),
                "lot_min": _lot_min(row, spans.get(pid, 0.0), min_price.get(supplier or -1), units),
                "lot_multiple": _lot_multiple(row, units),
            }
        )
    return items

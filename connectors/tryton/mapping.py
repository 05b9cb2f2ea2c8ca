"""Raw Tryton rows -> canonical records, every entity: the rules live in docs/tryton.md and the modules.

Pure functions over plain dicts (decoded JSON-RPC rows keyed by id): no I/O here, so the mapping is tested
without a server and the sync layer can cache raw rows and re-map them. What is read from where is
:mod:`.sources`; items in :mod:`.items`, open orders and their dates in :mod:`.orders`, stock in
:mod:`.stock`, units in :mod:`.units`. Records that cannot be read as Tryton means them are left out (or
given a stated fallback) with a warning in ``notes``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

from connectors.notices import Notes

from .history import resolve, shipped
from .items import map_items
from .orders import PRODUCTION_STATES, map_open_demand, map_production, map_receipts
from .rows import Row, Rows, nested, num, record, sku_map
from .sources import SOURCE_BY_NAME, SOURCES, Source, stock_context
from .stock import map_stock
from .units import DefaultUnits

__all__ = [
    "PRODUCTION_STATES",
    "SOURCES",
    "SOURCE_BY_NAME",
    "Row",
    "Rows",
    "Source",
    "map_all",
    "stock_context",
]


def map_shipments(raw: Mapping[str, Rows]) -> list[Row]:
    """Done moves to a customer (+) or back from one (returns, -) by effective date, in default units."""
    lines = raw.get("sale_lines", {})
    found = (shipped(move) for move in raw["customer_moves"].values())
    return resolve(
        (s for s in found if s is not None),
        sku_map(raw["products"]),
        lambda line: nested(lines.get(line, {}), "sale.party.name"),
    )


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


def map_bom(raw: Mapping[str, Rows], units: DefaultUnits) -> list[Row]:
    """Each item's first BOM (by the product's BOM list sequence, else any BOM that outputs it): the input
    quantities per output unit, both converted from their lines' units to the products' default units."""
    skus = sku_map(raw["products"])
    inputs: dict[int, list[tuple[int, Row]]] = defaultdict(list)
    for iid, row in sorted(raw.get("bom_inputs", {}).items()):
        inputs[row["bom"]].append((iid, row))
    outputs: dict[tuple[int, int], tuple[int, Row]] = {}
    bom_of: dict[int, int] = {}
    for oid, row in sorted(raw.get("bom_outputs", {}).items()):
        outputs[(row["bom"], row["product"])] = (oid, row)
        bom_of.setdefault(row["product"], row["bom"])
    ranked = sorted(raw.get("product_boms", {}).values(), key=lambda r: (r.get("sequence") or 0, r["id"]))
    chosen: dict[int, int] = {}
    for row in ranked:
        chosen.setdefault(row["product"], row["bom"])
    for product, bom in bom_of.items():
        chosen.setdefault(product, bom)
    out = []
    for product, bom in sorted(chosen.items()):
        if product not in skus or (bom, product) not in outputs:
            continue
        oid, output = outputs[(bom, product)]
        table = "production.bom.output"
        per_output = units.qty(product, num(output.get("quantity")), output.get("unit"), "bom", table, record(oid))
        if per_output is None or per_output <= 0:
            continue
        totals: dict[str, float] = defaultdict(float)
        for iid, row in inputs.get(bom, []):
            if row.get("product") not in skus:
                continue
            label, quantity = record(iid, row, "bom"), num(row.get("quantity"))
            qty = units.qty(row["product"], quantity, row.get("unit"), "bom", "production.bom.input", label)
            if qty is not None:
                totals[skus[row["product"]]] += qty / per_output
        out += [
            {"parent_sku": skus[product], "component_sku": sku, "qty_per": qty}
            for sku, qty in sorted(totals.items())
            if qty > 0
        ]
    return out


def map_routings(raw: Mapping[str, Rows], units: DefaultUnits) -> list[Row]:
    """Hours per unit measured from done work cycles (production_work): hours / produced quantity, the
    productions' quantities converted from their own units."""
    skus = sku_map(raw["products"])
    centers = {row["code"] for row in map_work_centers(raw)}
    hours: dict[tuple[str, str], float] = defaultdict(float)
    quantities: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    produced: dict[int, float | None] = {}
    for _cid, row in sorted(raw.get("work_cycles", {}).items()):
        duration = row.get("duration")
        work = row.get("work.") or {}
        center = nested(work, "work_center.name")
        production = work.get("production.") or {}
        product = production.get("product")
        if not isinstance(duration, dt.timedelta) or product not in skus or center not in centers:
            continue
        pid = production["id"]
        if pid not in produced:
            qty = num(production.get("quantity"))
            label = record(pid)
            produced[pid] = units.qty(product, qty, production.get("unit"), "routings", "production", label)
        qty_default = produced[pid]
        if qty_default is None:
            continue
        key = (skus[product], center)
        hours[key] += duration.total_seconds() / 3600
        quantities[key][pid] = qty_default
    out = []
    for key, total in sorted(hours.items()):
        made = sum(quantities[key].values())
        if made > 0:
            out.append({"sku": key[0], "work_center": key[1], "hours_per_unit": total / made})
    return out


def map_all(
    raw: Mapping[str, Rows],
    stock: Mapping[int, Mapping[int, float]],
    as_of_date: dt.date,
    default_lead_time_days: int,
    notes: Notes | None = None,
    *,
    shipments: bool = True,
) -> dict[str, list[Row]]:
    """Every canonical entity from the raw rows of every source; warnings go to ``notes``.

    ``shipments=False`` leaves the shipment history out (the sync assembles it from :mod:`.history`).
    """
    notes = notes if notes is not None else Notes()
    units = DefaultUnits(raw.get("uoms", {}), raw["products"], notes)
    return {
        "items": map_items(raw, default_lead_time_days, notes),
        "stock": map_stock(raw, stock, notes),
        "open_demand": map_open_demand(raw, as_of_date, units, notes),
        **({"shipments": map_shipments(raw)} if shipments else {}),
        "receipts": map_receipts(raw, as_of_date, units, notes),
        "production": map_production(raw, as_of_date, units, notes),
        "work_centers": map_work_centers(raw),
        "routings": map_routings(raw, units),
        "bom": map_bom(raw, units),
    }

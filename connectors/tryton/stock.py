"""On-hand stock per warehouse, including what is on its way between own warehouses.

Tryton's ``product.quantity`` of a warehouse counts the done moves into and out of its locations. Goods
of a shipped internal shipment between two warehouses have left the first one and sit in the transit
location, which belongs to no warehouse: counted per warehouse they would vanish. sopxl counts them at
the warehouse they are shipped to (the incoming moves of shipments in state "shipped", not done yet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from connectors.notices import Notes

from .rows import Row, Rows, num, record, sku_map, warehouse_code


def warehouse_of(locations: Rows, location: int | None) -> int | None:
    """The warehouse a location is in (itself or its nearest ancestor of type warehouse)."""
    seen: set[int] = set()
    while location is not None and location in locations and location not in seen:
        seen.add(location)
        if locations[location].get("type") == "warehouse":
            return location
        location = locations[location].get("parent")
    return None


def in_transit(raw: Mapping[str, Rows], notes: Notes) -> dict[int, dict[int, float]]:
    """Warehouse id -> product id -> quantity shipped to it from another warehouse, not received yet."""
    locations = raw.get("locations", {})
    out: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for mid, move in sorted(raw.get("transit_moves", {}).items()):
        target = warehouse_of(locations, move.get("to_location"))
        if warehouse_of(locations, move.get("from_location")) is not None:
            continue  # not from a transit location: the stock is still counted where it is
        if target is None:
            notes.add("stock", "stock.move", record(mid), "in transit to a location of no warehouse: left out")
            continue
        out[target][move.get("product") or -1] += num(move.get("internal_quantity"))
    return out


def map_stock(raw: Mapping[str, Rows], stock: Mapping[int, Mapping[int, float]], notes: Notes) -> list[Row]:
    """``stock``: warehouse id -> product id -> on-hand quantity (Tryton's, done moves only)."""
    skus = sku_map(raw["products"])
    transit = in_transit(raw, notes)
    rows = []
    for wh_id in sorted(set(stock) | set(transit)):
        if wh_id not in raw["warehouses"]:
            continue
        code = warehouse_code(raw["warehouses"][wh_id])
        quantities = defaultdict(float, stock.get(wh_id, {}))
        for pid, qty in transit.get(wh_id, {}).items():
            quantities[pid] += qty
        for pid, qty in sorted(quantities.items()):
            if pid in skus and qty:
                rows.append({"sku": skus[pid], "warehouse": code, "qty": qty})
    return rows

"""The one canonical data set every ERP fake serves (each in its own ERP's shape) and every connector
must turn back into the same snapshot: a small bicycle maker, hand-made so every value is checkable.

Raw-only facts (a fully delivered sales line, a cancelled order, a service item) are listed separately:
fakes add them so connectors prove they leave them out. Some lines are served the way ERPs make them hard to
read: in a second unit of measure (:data:`LINE_UNITS`: boxes of 6 helmets, boxes of 10 wheels, a dozen
bikes), with the line's own date empty so the order's date applies (:data:`HEADER_DATED`), partially
received and overdue; each fake writes them in its own ERP's terms and every connector must still read
them as the quantities and dates below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from sop_functions.snapshot import Snapshot, build_snapshot

AS_OF = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
WORK_DAYS_PER_MONTH = 21
HOURS_PER_DAY = 8.0

ITEMS = [
    # sku, description, family, uom, unit_cost, unit_price, lead_time_days, safety_stock, made
    ("BK-100", "City bike", "Bikes", "pcs", 400.0, 900.0, 10, 5.0, True),
    ("BK-200", "E-bike", "E-Bikes", "pcs", 1500.0, 2800.0, 14, 2.0, True),
    ("HL-300", "Helmet", "Helmets", "pcs", 20.0, 70.0, 21, 30.0, False),
    ("CP-400", "Frame", "Components", "pcs", 80.0, 120.0, 30, 10.0, False),
    ("CP-410", "Wheel", "Components", "pcs", 25.0, 40.0, 12, 40.0, False),
    ("CP-420", "Battery", "Components", "pcs", 300.0, 450.0, 45, 0.0, False),
]
WAREHOUSES = ["WH1", "WH2"]
STOCK = [
    ("BK-100", "WH1", 12.0),
    ("BK-100", "WH2", 3.0),
    ("BK-200", "WH1", 4.0),
    ("HL-300", "WH1", 55.0),
    ("HL-300", "WH2", -2.0),
    ("CP-400", "WH1", 20.0),
    ("CP-410", "WH1", 64.0),
    ("CP-420", "WH2", 7.0),
]
SALES_LINES = [
    # order, sku, ordered, delivered, requested date, customer
    ("10001", "BK-100", 5.0, 0.0, dt.date(2026, 6, 10), "Velo Hamburg"),
    ("10001", "HL-300", 10.0, 0.0, dt.date(2026, 6, 10), "Velo Hamburg"),
    ("10002", "BK-200", 3.0, 1.0, dt.date(2026, 6, 20), "Cycle Lyon"),
    ("10003", "BK-100", 1.0, 0.0, dt.date(2026, 5, 25), "Bike Center Graz"),
    ("10004", "HL-300", 20.0, 0.0, dt.date(2026, 7, 5), "Cycle Lyon"),
    ("10005", "BK-100", 3.0, 3.0, dt.date(2026, 5, 20), "Velo Hamburg"),  # fully delivered: not open
    ("10006", "HL-300", 12.0, 6.0, dt.date(2026, 6, 8), "Bike Center Graz"),  # boxes of 6, one delivered
]
SHIPMENTS = [
    ("BK-100", 4.0, dt.date(2026, 3, 2), "Velo Hamburg"),
    ("BK-100", 2.0, dt.date(2026, 4, 15), "Cycle Lyon"),
    ("BK-200", 1.0, dt.date(2026, 4, 20), "Cycle Lyon"),
    ("HL-300", 12.0, dt.date(2026, 5, 3), "Velo Hamburg"),
    ("HL-300", -1.0, dt.date(2026, 5, 10), "Velo Hamburg"),
    ("BK-100", 3.0, dt.date(2026, 5, 28), "Bike Center Graz"),
]
PURCHASE_LINES = [
    # order, sku, ordered, received, expected date, supplier
    ("20001", "HL-300", 50.0, 0.0, dt.date(2026, 6, 15), "Parts GmbH"),
    ("20001", "CP-410", 100.0, 0.0, dt.date(2026, 6, 15), "Parts GmbH"),
    ("20002", "CP-400", 30.0, 0.0, dt.date(2026, 6, 25), "Frames SA"),
    ("20003", "CP-420", 15.0, 5.0, dt.date(2026, 7, 1), "Cells AG"),
    ("20004", "CP-400", 40.0, 10.0, dt.date(2026, 5, 20), "Frames SA"),  # overdue rest of a partial receipt
    ("20005", "CP-410", 60.0, 20.0, dt.date(2026, 6, 22), "Parts GmbH"),  # boxes of 10, 2 received
]
PRODUCTION = [
    # order, sku, planned qty, produced qty, due date, state
    ("30001", "BK-100", 20.0, 0.0, dt.date(2026, 6, 12), "planned"),
    ("30002", "BK-200", 5.0, 0.0, dt.date(2026, 6, 18), "firm"),
    ("30003", "BK-100", 10.0, 2.0, dt.date(2026, 6, 5), "running"),
    ("30004", "BK-100", 24.0, 0.0, dt.date(2026, 7, 10), "planned"),  # two dozen
]
PRODUCTION_STARTS = {"30001": dt.date(2026, 6, 8), "30002": dt.date(2026, 6, 15), "30004": dt.date(2026, 7, 6)}
"""Planned start of the orders that have one (the others' start is empty)."""
UNITS = {"BOX6": 6.0, "BOX10": 10.0, "DOZEN": 12.0}
"""Second units of measure: how many pieces (the items' unit) one holds."""
LINE_UNITS = {("10006", "HL-300"): "BOX6", ("20005", "CP-410"): "BOX10", ("30004", "BK-100"): "DOZEN"}
"""Order lines the ERP holds in another unit than the item's: quantities above are in pieces, the fakes
serve ``quantity / UNITS[unit]`` in that unit (production in another unit only where the ERP allows it)."""
HEADER_DATED = {("10003", "BK-100"), ("20004", "CP-400")}
"""Lines whose own date the ERP leaves empty: the order (header) carries the date above."""
LOTS = {"HL-300": (24.0, 6.0), "CP-410": (50.0, 10.0)}
"""Lot sizes (minimum order, order multiple) of the items that have one."""
WORK_CENTERS = [
    # code, name, parallel capacity, efficiency %, hours per month (= capacity x eff x 8 h x 21 d)
    ("ASM", "Bike assembly", 2.0, 100.0, 336.0),
    ("ELC", "Electronics", 1.0, 87.5, 147.0),
]
BOMS = {
    # parent sku: (batch quantity, [(component, qty per batch)], [(work center, hours per batch)])
    "BK-100": (1.0, [("CP-400", 1.0), ("CP-410", 2.0)], [("ASM", 2.5)]),
    "BK-200": (2.0, [("CP-400", 2.0), ("CP-410", 4.0), ("CP-420", 2.0)], [("ASM", 7.0), ("ELC", 2.0)]),
}


def canonical_records() -> dict[str, list[dict[str, Any]]]:
    """The canonical records (what every connector must produce), derived from the tables above."""
    return {
        "items": [
            {
                "sku": s,
                "description": d,
                "family": f,
                "uom": u,
                "unit_cost": c,
                "unit_price": p,
                "lead_time_days": lt,
                "safety_stock": ss,
                "lot_min": LOTS.get(s, (0.0, 0.0))[0],
                "lot_multiple": LOTS.get(s, (0.0, 0.0))[1],
            }
            for s, d, f, u, c, p, lt, ss, _ in ITEMS
        ],
        "stock": [{"sku": s, "warehouse": w, "qty": q} for s, w, q in STOCK],
        "open_demand": [
            {"order_id": o, "sku": s, "qty": q - dq, "requested_date": d, "customer": c}
            for o, s, q, dq, d, c in SALES_LINES
            if q > dq
        ],
        "shipments": [{"sku": s, "qty": q, "ship_date": d, "customer": c} for s, q, d, c in SHIPMENTS],
        "receipts": [
            {"order_id": o, "sku": s, "qty": q - r, "expected_date": d, "supplier": c}
            for o, s, q, r, d, c in PURCHASE_LINES
        ],
        "production": [
            {
                "order_id": o,
                "sku": s,
                "qty": q - done,
                "due_date": d,
                "state": st,
                "start_date": PRODUCTION_STARTS.get(o),
            }
            for o, s, q, done, d, st in PRODUCTION
        ],
        "work_centers": [{"code": c, "name": n, "hours_per_month": h} for c, n, _, _, h in WORK_CENTERS],
        "routings": [
            {"sku": parent, "work_center": wc, "hours_per_unit": hours / batch}
            for parent, (batch, _, ops) in BOMS.items()
            for wc, hours in ops
        ],
        "bom": [
            {"parent_sku": parent, "component_sku": comp, "qty_per": qty / batch}
            for parent, (batch, lines, _) in BOMS.items()
            for comp, qty in lines
        ],
    }


def expected_snapshot(source: str = "expected") -> Snapshot:
    frames = {e: pd.DataFrame(rows) for e, rows in canonical_records().items()}
    return build_snapshot(source, AS_OF, frames)


def sorted_frames(snapshot: Snapshot) -> dict[str, pd.DataFrame]:
    """Frames sorted by every column, index reset: connectors may return records in any order."""
    out = {}
    for entity, frame in snapshot.frames.items():
        out[entity] = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
    return out

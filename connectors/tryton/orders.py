"""Open sales, purchases and productions read the way Tryton means them: quantity, unit and date.

**What is open.** Sales and purchases in state confirmed or processing. Each of their lines is open for

- every stock move of the line that is neither done nor cancelled (to a customer / from a supplier), for
  its ``internal_quantity`` (already in the product's default unit), and
- the part of the line no move covers yet, ``quantity`` (in the line's unit, converted) minus the moves
  not cancelled and the cancelled moves the user chose to ignore: a sale shipped "on invoice paid" or
  "manually" has no move at all until then, a confirmed order not processed yet neither.

**Which date.** A move's ``planned_date`` is Tryton's, not the customer's or the supplier's. Tryton plans a
sale's move no earlier than the day it creates it (a sale entered after its shipping date, or a product
without sale lead time, gets "today"), and leaves a purchase move's date empty when the delivery date had
passed (confirmed late, the rest of a partial receipt). So:

- demand is dated by the sale: ``sale_date`` + the product's sale lead time, no earlier than the sale's
  ``shipping_date`` (Tryton's own planned shipping date), or the shipping date when the product has no
  lead time; unless a user moved the move (``planned_date`` differs from ``origin_planned_date``);
- supply is dated by the move's ``planned_date``, else by the line's delivery date (the edited line date,
  else the purchase's ``delivery_date``, else ``purchase_date`` + the supplier's lead time);
- a production is due on its ``planned_date`` (else its ``planned_start_date``) and starts on its
  ``planned_start_date``; its ``quantity`` is in its own unit, converted.

What has no date at all is planned at the as-of date, with a warning.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.notices import Notes

from .rows import Row, Rows, date, nested, num, record, ref_id, sku_map
from .sources import OPEN_STATES_EXCLUDED
from .units import DefaultUnits

PRODUCTION_STATES = {
    "request": "planned",
    "draft": "planned",
    "waiting": "firm",
    "assigned": "firm",
    "running": "running",
}
"""Tryton production state -> canonical state; done and cancelled productions are not supply to come."""
EPSILON = 1e-9


def _moves_by_line(moves: Rows, model: str) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = defaultdict(list)
    for _mid, move in sorted(moves.items()):
        line = ref_id(move.get("origin"), model)
        if line is not None:
            out[line].append(move)
    return out


def _unmoved(line: Row, moves: list[Row], units: DefaultUnits, entity: str, table: str, label: str) -> float | None:
    """The part of a line no move covers, in the product's default unit; None when nothing is left or the
    line's unit has no conversion. ``moves`` are the line's moves in its own direction."""
    ordered = units.qty(line["product"], num(line.get("quantity")), line.get("unit"), entity, table, label)
    if ordered is None:
        return None
    ignored = set(line.get("moves_ignored") or [])
    covered = sum(
        num(m.get("internal_quantity")) for m in moves if m.get("state") != "cancelled" or m.get("id") in ignored
    )
    rest = ordered - covered
    return rest if rest > max(EPSILON, ordered * 1e-9) else None


def _open_lines(lines: Rows, headers: Rows, header: str) -> Iterator[tuple[int, Row, Row]]:
    for lid, line in sorted(lines.items()):
        head = headers.get(line.get(header) or -1)
        if head is not None and line.get("product") and num(line.get("quantity")) > 0:
            yield lid, line, head


def sale_date(sale: Row, product: Row, default_lead: Any) -> dt.date | None:
    """The date the customer is to be shipped: Tryton's planned shipping date, without its "not before
    today" and without dropping the sale's shipping date when the product has no lead time."""
    shipping, ordered = date(sale.get("shipping_date")), date(sale.get("sale_date"))
    lead = product.get("lead_time")
    lead = lead if isinstance(lead, dt.timedelta) else default_lead
    if isinstance(lead, dt.timedelta) and ordered is not None:
        planned = ordered + lead
        return max(planned, shipping) if shipping else planned
    return shipping


def map_open_demand(raw: Mapping[str, Rows], as_of: dt.date, units: DefaultUnits, notes: Notes) -> list[Row]:
    products = raw["products"]
    skus = sku_map(products)
    lines, sales = raw.get("sale_lines", {}), raw.get("sales", {})
    default_lead = next(iter(raw.get("product_config", {}).values()), {}).get("default_lead_time")
    moves = _moves_by_line(raw["customer_moves"], "sale.line")
    out: list[Row] = []

    def emit(line_id: int, line: Row, sale: Row | None, product: int, qty: float, move: Row | None) -> None:
        wanted = sale_date(sale, products.get(product, {}), default_lead) if sale else None
        planned = date(move.get("planned_date")) if move else None
        moved = move is not None and planned is not None and planned != date(move.get("origin_planned_date"))
        day = planned if moved else wanted or planned
        if day is None:
            day = as_of
            notes.add("open_demand", "sale.line", record(line_id, line), f"no date: due {as_of}")
        order = (sale or {}).get("number") or nested(line, "sale.number") or f"sale-line-{line_id}"
        customer = nested(sale or {}, "party.name") or nested(line, "sale.party.name") or ""
        out.append({"order_id": order, "sku": skus[product], "qty": qty, "requested_date": day, "customer": customer})

    for line_id, line_moves in moves.items():
        line = lines.get(line_id, {})
        sale = sales.get(line.get("sale") or -1)
        for move in line_moves:
            if move.get("state") in OPEN_STATES_EXCLUDED or move.get("product") not in skus:
                continue
            qty = num(move.get("internal_quantity"))
            if nested(move, "to_location.type") == "customer" and qty > 0:
                emit(line_id, line, sale, move["product"], qty, move)
    for line_id, line, sale in _open_lines(lines, sales, "sale"):
        if line["product"] not in skus:
            continue
        label = record(line_id, line, "sale.number")
        outgoing = [m for m in moves.get(line_id, []) if nested(m, "to_location.type") == "customer"]
        rest = _unmoved(line, outgoing, units, "open_demand", "sale.line", label)
        if rest is not None:
            emit(line_id, line, sale, line["product"], rest, None)
    return out


def purchase_date(line: Row, purchase: Row | None) -> dt.date | None:
    """Tryton's planned delivery date of a purchase line, before Tryton empties it for being past."""
    if line.get("delivery_date_edit"):
        return date(line.get("delivery_date_store"))
    if purchase is None:
        return None
    if date(purchase.get("delivery_date")):
        return date(purchase.get("delivery_date"))
    lead, ordered = nested(line, "product_supplier.lead_time_used"), date(purchase.get("purchase_date"))
    return ordered + lead if isinstance(lead, dt.timedelta) and ordered else None


def map_receipts(raw: Mapping[str, Rows], as_of: dt.date, units: DefaultUnits, notes: Notes) -> list[Row]:
    skus = sku_map(raw["products"])
    lines, purchases = raw.get("purchase_lines", {}), raw.get("purchases", {})
    moves = _moves_by_line(raw.get("purchase_moves", {}), "purchase.line")
    out: list[Row] = []

    def emit(line_id: int, line: Row, purchase: Row | None, fallback: Row, product: int, qty: float, day: Any) -> None:
        day = date(day) or purchase_date(line, purchase)
        if day is None:
            day = as_of
            notes.add("receipts", "purchase.line", record(line_id), f"no delivery date: due {as_of}")
        order = (purchase or {}).get("number") or nested(fallback, "origin.purchase.number")
        supplier = nested(purchase or {}, "party.name") or nested(fallback, "origin.purchase.party.name") or ""
        out.append(
            {
                "order_id": order or f"purchase-line-{line_id}",
                "sku": skus[product],
                "qty": qty,
                "expected_date": day,
                "supplier": supplier,
            }
        )

    for line_id, line_moves in moves.items():
        line = lines.get(line_id, {})
        purchase = purchases.get(line.get("purchase") or -1)
        for move in line_moves:
            if move.get("state") in OPEN_STATES_EXCLUDED or move.get("product") not in skus:
                continue
            qty = num(move.get("internal_quantity"))
            if nested(move, "from_location.type") == "supplier" and qty > 0:
                emit(line_id, line, purchase, move, move["product"], qty, move.get("planned_date"))
    for line_id, line, purchase in _open_lines(lines, purchases, "purchase"):
        if line["product"] not in skus:
            continue
        label = record(line_id, line)
        incoming = [m for m in moves.get(line_id, []) if nested(m, "from_location.type") == "supplier"]
        rest = _unmoved(line, incoming, units, "receipts", "purchase.line", label)
        if rest is not None:
            emit(line_id, line, purchase, {}, line["product"], rest, None)
    return out


def map_production(raw: Mapping[str, Rows], as_of: dt.date, units: DefaultUnits, notes: Notes) -> list[Row]:
    skus = sku_map(raw["products"])
    out = []
    for pid, row in sorted(raw.get("productions", {}).items()):
        state = PRODUCTION_STATES.get(row.get("state") or "")
        if state is None or row.get("product") not in skus or num(row.get("quantity")) <= 0:
            continue
        label = record(pid, row, "number")
        qty = units.qty(row["product"], num(row.get("quantity")), row.get("unit"), "production", "production", label)
        if qty is None or qty <= 0:
            continue
        start = date(row.get("planned_start_date"))
        due = date(row.get("planned_date")) or start
        if due is None:
            due = as_of
            notes.add("production", "production", label, f"no planned date: due {as_of}")
        out.append(
            {
                "order_id": row.get("number") or f"production-{pid}",
                "sku": skus[row["product"]],
                "qty": qty,
                "due_date": due,
                "state": state,
                "start_date": start,
            }
        )
    return out

"""The shipment history: done moves to (and back from) customers, kept mapped between syncs.

Done customer moves are the one Tryton source that grows without bound (1.4 M lines over three years at
SME-L) and that is nearly immutable: Tryton refuses to change a done move's product, quantity, locations
or dates, and a done move only leaves the history by being cancelled (then possibly deleted). So the
incremental sync keeps each done move as one :class:`Shipped` (what a shipment line needs: product,
signed quantity, date, customer) and applies only the moves that changed; the shipments frame is then
assembled from them in one vectorised pass (:func:`shipments_frame`). :func:`shipped` and
:func:`resolve` are also what :func:`connectors.tryton.mapping.map_shipments` is made of, so the two
paths cannot read a move differently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from .rows import Row, date, nested, num, ref_id


class Shipped(NamedTuple):
    """A done move to or from a customer, as a shipment line reads it (product by id, not yet by code)."""

    move: int
    product: int
    qty: float
    """Positive to a customer, negative back from one (a return)."""
    day: str
    """ISO date: the move's effective date, else its planned date."""
    customer: str
    """The shipment's customer ('' when the move has none: the sale line's party is used then)."""
    line: int | None
    """The sale line the move comes from (for the customer of a move without shipment)."""


def shipped(move: Row) -> Shipped | None:
    """The shipment line of a move, or None when the move is not a done move to/from a customer."""
    if move.get("state") != "done" or not isinstance(move.get("product"), int):
        return None
    to_customer = nested(move, "to_location.type") == "customer"
    from_customer = nested(move, "from_location.type") == "customer"
    if to_customer == from_customer:
        return None
    day = date(move.get("effective_date")) or date(move.get("planned_date"))
    if day is None:
        return None
    qty = num(move.get("internal_quantity"))
    customer = nested(move, "shipment.customer.name") or ""
    line = ref_id(move.get("origin"), "sale.line")
    return Shipped(move["id"], move["product"], qty if to_customer else -qty, day.isoformat(), str(customer), line)


def resolve(lines: Iterable[Shipped], skus: Mapping[int, str], party: Callable[[int], object]) -> list[Row]:
    """Shipment records (``sku, qty, ship_date, customer``) in move order; ``party(line)`` names the
    customer of a move without shipment customer. Moves of products sopxl does not read are left out."""
    out = []
    for s in sorted(lines):
        if s.product not in skus:
            continue
        customer = s.customer or (party(s.line) if s.line is not None else "") or ""
        out.append(
            {"sku": skus[s.product], "qty": s.qty, "ship_date": dt.date.fromisoformat(s.day), "customer": customer}
        )
    return out


def shipments_frame(lines: pd.DataFrame, skus: Mapping[int, str], party: Mapping[int, str]) -> pd.DataFrame:
    """:func:`resolve` for a frame of :class:`Shipped` columns, vectorised (the whole history in one pass).

    ``party`` maps the sale lines of moves without shipment customer to their party's name.
    """
    ordered = lines.sort_values("move", kind="stable")
    code = ordered["product"].map(pd.Series(skus, dtype=object)) if len(skus) else pd.Series(dtype=object)
    keep = code.notna().to_numpy() if len(ordered) else np.zeros(0, dtype=bool)
    ordered, code = ordered[keep], code[keep]
    customer = ordered["customer"].astype(object)
    blank = (customer == "").to_numpy()
    if blank.any():
        fallback = ordered["line"].map(pd.Series(party, dtype=object)) if party else pd.Series(dtype=object)
        customer = customer.where(~blank, fallback.reindex(customer.index).fillna(""))
    return pd.DataFrame(
        {
            "sku": code.to_numpy(dtype=object),
            "qty": ordered["qty"].to_numpy(dtype=float),
            "ship_date": pd.to_datetime(ordered["day"].to_numpy(dtype=object)).astype("datetime64[ns]"),
            "customer": customer.to_numpy(dtype=object),
        }
    )

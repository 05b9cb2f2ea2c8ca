"""What sopxl reads from which Tryton model: one :class:`Source` per model and domain, read by the sync.

A source is *incremental* when a change to what sopxl reads from it always touches its rows'
``write_date``; otherwise (computed values, header fields read through a line, states of another model)
it is read in full every time, which is why the open sales and purchases are their own small sources.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

OPEN_STATES_EXCLUDED = ("done", "cancelled")
OPEN_ORDER_STATES = ["confirmed", "processing"]
"""Sales and purchases whose lines are still to ship or receive (draft and quotation are not orders yet)."""
ARCHIVED_TOO = ("active", "in", [True, False])
"""Tryton's searches skip archived records unless the domain names ``active``."""


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
    module_fields: tuple[str, ...] = ()
    """Fields read only when the server has them (they come with a module: ``purchase_uom`` with purchase)."""
    singleton: bool = False
    """A configuration model (one record, id 1) that cannot be searched: read directly."""
    within: str = ""
    """Another source of the same model whose domain includes this one's: this source's fields are read in
    that source's request and its rows picked from that source's cached rows by :func:`matches` (one
    request fewer). Its domain must then be ``(field, "=", value)`` terms only."""
    via: tuple[str, ...] = ()
    """``(host source, its One2Many field, this source's field back to the host)``: when the host is read in
    full, this source's rows are read through that field in the host's request (one request fewer). Every
    row must belong to a host row, or belong only to host rows the mapping does not use."""
    extra: dict[str, Any] = field(default_factory=dict)


SOURCES: tuple[Source, ...] = (
    Source(
        "warehouses",
        "stock.location",
        [("type", "=", "warehouse")],
        ("code", "name"),
        incremental=False,
        within="locations",
    ),
    Source("locations", "stock.location", [ARCHIVED_TOO], ("type", "parent")),
    Source("categories", "product.category", [], ("name", "parent"), incremental=False),
    # an archived unit still converts the documents written in it
    Source("uoms", "product.uom", [ARCHIVED_TOO], ("name", "category", "factor", "rate", "rounding")),
    # cost_price and list_price_used are computed per company: changing them does not touch write_date.
    Source(
        "products",
        "product.product",
        [("type", "=", "goods")],
        (
            "code",
            "name",
            "template",
            "template.categories",
            "default_uom",
            "default_uom.name",
            "cost_price",
            "list_price_used",
        ),
        incremental=False,
        module_fields=("purchase_uom", "lead_time"),
    ),
    Source(
        "product_config",
        "product.configuration",
        [],
        (),
        incremental=False,
        module_fields=("default_lead_time",),
        singleton=True,
    ),
    Source(
        "product_suppliers",
        "purchase.product_supplier",
        [],
        ("template", "product", "lead_time", "sequence"),
        optional=True,
    ),
    # prices of a supplier of an archived product (not searched as a supplier) are never used
    Source(
        "supplier_prices",
        "purchase.product_supplier.price",
        [],
        ("product_supplier", "quantity"),
        optional=True,
        via=("product_suppliers", "prices", "product_supplier"),
    ),
    Source(
        "order_points",
        "stock.order_point",
        [],
        ("product", "type", "min_quantity", "target_quantity"),
        optional=True,
    ),
    Source(
        "sales",
        "sale.sale",
        [("state", "in", OPEN_ORDER_STATES)],
        ("number", "party.name", "shipping_date", "sale_date"),
        incremental=False,
        optional=True,
    ),
    Source(
        "sale_lines",
        "sale.line",
        [("type", "=", "line")],
        ("sale", "sale.number", "sale.party.name", "product", "quantity", "unit", "moves_ignored"),
        optional=True,
    ),
    Source(
        "customer_moves",
        "stock.move",
        ["OR", ("to_location.type", "=", "customer"), ("from_location.type", "=", "customer")],
        (
            "product",
            "internal_quantity",
            "state",
            "planned_date",
            "origin_planned_date",
            "effective_date",
            "origin",
            "to_location.type",
            "from_location.type",
            "shipment.customer.name",
        ),
    ),
    Source(
        "purchases",
        "purchase.purchase",
        [("state", "in", OPEN_ORDER_STATES)],
        ("number", "party.name", "delivery_date", "purchase_date"),
        incremental=False,
        optional=True,
    ),
    Source(
        "purchase_lines",
        "purchase.line",
        [("type", "=", "line")],
        (
            "purchase",
            "product",
            "quantity",
            "unit",
            "delivery_date_edit",
            "delivery_date_store",
            "product_supplier.lead_time_used",
            "moves_ignored",
        ),
        optional=True,
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
            "origin",
            "origin.purchase.number",
            "origin.purchase.party.name",
        ),
        optional=True,
    ),
    # Shipped internal shipments between warehouses: the goods sit in the transit location (no warehouse)
    # until received. A shipment's state is not a field of its moves, so this small set is read in full.
    Source(
        "transit_moves",
        "stock.move",
        [
            ("shipment.state", "=", "shipped", "stock.shipment.internal"),
            ("state", "not in", list(OPEN_STATES_EXCLUDED)),
        ],
        ("product", "internal_quantity", "from_location", "to_location"),
        incremental=False,
    ),
    Source(
        "productions",
        "production",
        [],
        ("number", "product", "quantity", "unit", "planned_date", "planned_start_date", "state"),
        optional=True,
    ),
    Source("work_centers", "production.work.center", [], ("name", "parent"), optional=True),
    Source("product_boms", "product.product-production.bom", [], ("product", "bom", "sequence"), optional=True),
    Source("bom_inputs", "production.bom.input", [], ("bom", "product", "quantity", "unit"), optional=True),
    Source("bom_outputs", "production.bom.output", [], ("bom", "product", "quantity", "unit"), optional=True),
    Source(
        "work_cycles",
        "production.work.cycle",
        [("state", "=", "done")],
        (
            "duration",
            "work.work_center.name",
            "work.production.product",
            "work.production.quantity",
            "work.production.unit",
        ),
        optional=True,
    ),
)
SOURCE_BY_NAME = {s.name: s for s in SOURCES}


def matches(source: Source, row: dict[str, Any]) -> bool:
    """Whether a row read by the source ``source.within`` is in ``source``'s domain, as Tryton's search
    decides it: every ``(field, "=", value)`` term holds and the record is active (a domain that does not
    name ``active`` skips archived records; on SQLite Tryton answers booleans as 1/0)."""
    terms = list(source.domain)
    if any(not (isinstance(t, tuple) and len(t) == 3 and t[1] == "=") for t in terms):
        raise ValueError(f"source {source.name}: only (field, '=', value) terms can be picked client-side")
    active = any(t[0] == "active" for t in terms) or bool(row.get("active"))
    return active and all(row.get(t[0]) == t[2] for t in terms)


def read_fields(source: Source) -> tuple[str, ...]:
    """The fields a source's request reads: its own and those of the sources read within it."""
    hosted = [s for s in SOURCES if s.within == source.name]
    extra = [f for s in hosted for f in (*s.fields, *(t[0] for t in s.domain), "active")]
    return tuple(dict.fromkeys([*source.fields, *extra]))


def sources_fingerprint() -> str:
    """Changes whenever a source's model, domain or fields change: a cache of other fields is unusable."""
    shape = [
        (s.name, s.model, repr(s.domain), s.fields, s.module_fields, s.incremental, s.within, s.via) for s in SOURCES
    ]
    return hashlib.sha256(json.dumps(shape, default=str).encode()).hexdigest()[:12]


def stock_context(warehouse_id: int, today: dt.date) -> dict[str, Any]:
    """Context that makes ``product.product.quantity`` the on-hand (done moves) of one warehouse today."""
    return {"locations": [warehouse_id], "stock_date_end": today, "with_childs": True}

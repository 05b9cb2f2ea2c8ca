"""Canonical data model: the records every ERP connector must produce.

One pydantic model per entity is the single written contract. Connectors that receive records one at a
time (JSON APIs) validate them with these models; connectors that read whole tables (CSV, SQL) hand
frames to :mod:`sop_functions.snapshot`, whose vectorised validator reads its rules from the same models,
so both paths accept and reject exactly the same data.

Dates are calendar dates in the ERP's own time zone; only the snapshot's ``as_of`` is a timestamp.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProductionState = Literal["planned", "firm", "running"]


class Record(BaseModel):
    """Base of every canonical record: strict field names, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Item(Record):
    """A stocked item (SKU) and the planning attributes S&OP needs."""

    sku: str = Field(min_length=1, description="Item code, unique")
    description: str = Field(default="", description="Item name")
    family: str = Field(min_length=1, description="Product family the S&OP plan is made at")
    uom: str = Field(default="unit", min_length=1, description="Unit of measure of every quantity")
    unit_cost: float = Field(ge=0, description="Standard or average cost per unit")
    unit_price: float = Field(ge=0, description="List or average selling price per unit")
    lead_time_days: int = Field(default=0, ge=0, description="Replenishment lead time in days")
    safety_stock: float = Field(default=0.0, ge=0, description="Safety stock in units")
    lot_min: float = Field(default=0.0, ge=0, description="Smallest planned order (made or bought), 0 = no minimum")
    lot_multiple: float = Field(default=0.0, ge=0, description="Planned orders are multiples of this, 0 = any")
    lot_max: float | None = Field(
        default=None, ge=0, description="Most replenishment planned per bucket, empty = no cap"
    )


class StockOnHand(Record):
    """Quantity on hand of one item in one warehouse at the snapshot's as-of time."""

    sku: str = Field(min_length=1)
    warehouse: str = Field(min_length=1)
    qty: float = Field(description="On-hand quantity; negative stock is kept as the ERP reports it")


class SalesOrderLine(Record):
    """Open demand: the not yet shipped part of a sales order line."""

    order_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    qty: float = Field(gt=0, description="Remaining (open) quantity")
    requested_date: dt.date
    customer: str = Field(default="")


class Shipment(Record):
    """Shipment history: a quantity delivered to a customer on a date."""

    sku: str = Field(min_length=1)
    qty: float = Field(description="Shipped quantity; returns are negative")
    ship_date: dt.date
    customer: str = Field(default="")


class PurchaseReceipt(Record):
    """Scheduled receipt: the not yet received part of a purchase order line."""

    order_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    qty: float = Field(gt=0, description="Remaining (open) quantity")
    expected_date: dt.date
    supplier: str = Field(default="")


class ProductionOrder(Record):
    """A production order's output still to come."""

    order_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    qty: float = Field(gt=0, description="Quantity still to be produced")
    due_date: dt.date
    state: ProductionState
    start_date: dt.date | None = Field(default=None, description="Planned start: when its components are needed")


class WorkCenter(Record):
    """A work center; capacity is optional because some ERPs (Tryton) do not hold it."""

    code: str = Field(min_length=1)
    name: str = Field(default="")
    hours_per_month: float | None = Field(default=None, ge=0, description="Available hours per month")


class Routing(Record):
    """Bill of resources: hours of a work center needed per unit of an item."""

    sku: str = Field(min_length=1)
    work_center: str = Field(min_length=1)
    hours_per_unit: float = Field(ge=0)


class BomLine(Record):
    """One component line of an item's bill of materials."""

    parent_sku: str = Field(min_length=1)
    component_sku: str = Field(min_length=1)
    qty_per: float = Field(gt=0, description="Component units per parent unit")


ENTITY_MODELS: dict[str, type[Record]] = {
    "items": Item,
    "stock": StockOnHand,
    "open_demand": SalesOrderLine,
    "shipments": Shipment,
    "receipts": PurchaseReceipt,
    "production": ProductionOrder,
    "work_centers": WorkCenter,
    "routings": Routing,
    "bom": BomLine,
}
"""Entity name -> record model. Entity names are also the export file names of the CSV connector."""

RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "items": ("sku",),
    "stock": ("sku", "warehouse"),
    "open_demand": ("order_id", "sku"),
    "shipments": ("sku", "ship_date"),
    "receipts": ("order_id", "sku"),
    "production": ("order_id",),
    "work_centers": ("code",),
    "routings": ("sku", "work_center"),
    "bom": ("parent_sku", "component_sku"),
}
"""Fields that name a record in error messages (not uniqueness constraints, except items and work centers)."""

SKU_REFERENCES: dict[str, tuple[str, ...]] = {
    "stock": ("sku",),
    "open_demand": ("sku",),
    "shipments": ("sku",),
    "receipts": ("sku",),
    "production": ("sku",),
    "routings": ("sku",),
    "bom": ("parent_sku", "component_sku"),
}
"""Fields that must name a known item."""

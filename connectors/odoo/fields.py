"""Field names that differ between Odoo versions (the connector supports 17-19)."""

from __future__ import annotations


def line_uom(version: int) -> str:
    """The unit field of sale and purchase lines: ``product_uom`` up to 18, ``product_uom_id`` from 19."""
    return "product_uom_id" if version >= 19 else "product_uom"


def supplier_uom(version: int) -> str:
    """The vendor's unit of ``product.supplierinfo.min_qty``: ``product_uom`` up to 18, ``uom_id`` from 19."""
    return "uom_id" if version >= 19 else "product_uom"

"""Quantities in each product's default unit, converted the way Tryton converts them.

Tryton keeps every document quantity in the document's own unit (a sale of 2 boxes of 12 is ``quantity=2``
in unit "Box of 12"); only stock moves carry a copy in the default unit (``internal_quantity``). A unit
converts to another of the same category through its ``factor`` (reference units per unit) or ``rate``
(its inverse), whichever is written more exactly (Tryton's ``product.uom.compute_qty``). Units of
different categories have no conversion: such a record cannot be planned as anything, so the caller
leaves it out with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.notices import Notes

from .rows import Row, Rows, num

CONVERSION_DIGITS = 12
"""Tryton's ``uom_conversion_decimal`` default."""


def _decimals(value: float) -> int:
    return len(f"{value:.{CONVERSION_DIGITS}f}".split(".")[1].rstrip("0"))


def _exact_field(row: Row) -> str:
    """``factor`` or ``rate``: the one with fewer decimals, as Tryton's ``accurate_field``."""
    factor, rate = num(row.get("factor")), num(row.get("rate"))
    if _decimals(rate) < _decimals(factor):
        return "rate"
    if _decimals(factor) < _decimals(rate):
        return "factor"
    return "factor" if factor >= 1.0 else "rate"


class Units:
    """The units of measure of one server (``product.uom`` rows by id)."""

    def __init__(self, uoms: Rows) -> None:
        self.uoms: Mapping[int, Row] = uoms

    def name(self, uom_id: int | None) -> str:
        row = self.uoms.get(uom_id) if uom_id is not None else None
        return str(row.get("name") or f"unit {uom_id}") if row else f"unit {uom_id}"

    def _to_reference(self, row: Row, qty: float) -> float:
        return qty * num(row.get("factor")) if _exact_field(row) == "factor" else qty / num(row.get("rate"))

    def _from_reference(self, row: Row, qty: float) -> float:
        return qty / num(row.get("factor")) if _exact_field(row) == "factor" else qty * num(row.get("rate"))

    def convert(self, qty: float, from_id: int | None, to_id: int | None) -> float | None:
        """``qty`` in ``from_id`` expressed in ``to_id``; None when the two cannot be converted."""
        if from_id == to_id and from_id is not None:
            return qty
        source, target = self.uoms.get(from_id or -1), self.uoms.get(to_id or -1)
        if source is None or target is None or source.get("category") != target.get("category"):
            return None
        if not num(source.get("factor")) and not num(source.get("rate")):
            return None
        if not num(target.get("factor")) and not num(target.get("rate")):
            return None
        return self._from_reference(target, self._to_reference(source, qty))

    def why_not(self, from_id: int | None, to_id: int | None) -> str:
        """Why :meth:`convert` gave None, in the words of a warning."""
        if from_id is None:
            return "has no unit"
        if from_id not in self.uoms:
            return f"is in an unknown {self.name(from_id)}"
        return f"is in {self.name(from_id)}, which has no conversion to {self.name(to_id)}"


class DefaultUnits:
    """Converts document quantities to their product's default unit, warning about those it cannot."""

    def __init__(self, uoms: Rows, products: Rows, notes: Notes) -> None:
        self.units = Units(uoms)
        self.default = {pid: row.get("default_uom") for pid, row in products.items()}
        self.notes = notes

    def qty(self, product: int, qty: float, unit: int | None, entity: str, table: str, record: str) -> float | None:
        """``qty`` of ``product`` in its default unit; None (and a warning) when it cannot be converted."""
        target = self.default.get(product)
        converted = self.units.convert(qty, unit, target)
        if converted is None:
            why = self.units.why_not(unit, target)
            self.notes.add(entity, table, record, f"quantity {qty:g} {why}: left out")
        return converted

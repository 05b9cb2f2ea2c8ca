"""Odoo quantities in the product's unit (``uom_id``), converted the way Odoo's ``_compute_quantity`` does.

Order lines, productions and BoMs keep their quantities in their own unit (``product_uom`` on sale and
purchase lines up to 18, ``product_uom_id`` from 19; ``product_uom_id`` on productions and BoMs).

- Odoo <= 18: units of one ``category_id`` convert through ``factor`` (how many of the unit make one
  reference unit): ``qty / from.factor * to.factor``.
- Odoo 19 has no categories: a unit is ``relative_factor`` times its ``relative_uom_id``, ``factor`` the
  product down to the top unit; units convert when they share that top unit (``parent_path``'s first id):
  ``qty * from.factor / to.factor``.

Units that do not convert (another category, another top unit) cannot be planned: the caller leaves the
record out with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _id(value: Any) -> int | None:
    if isinstance(value, list) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def uom_fields(version: int) -> tuple[str, ...]:
    return (
        ("name", "factor", "relative_factor", "relative_uom_id", "parent_path")
        if version >= 19
        else (
            "name",
            "factor",
            "category_id",
        )
    )


class OdooUnits:
    """The ``uom.uom`` records of one database, by id."""

    def __init__(self, uoms: Mapping[int, Mapping[str, Any]], version: int) -> None:
        self.uoms = uoms
        self.version = version

    def _family(self, uom: Mapping[str, Any]) -> Any:
        if self.version < 19:
            return _id(uom.get("category_id"))
        path = str(uom.get("parent_path") or "")
        return path.split("/")[0] if path else uom.get("id")

    def name(self, value: Any) -> str:
        uid = _id(value)
        if isinstance(value, list) and len(value) > 1:
            return str(value[1])
        row = self.uoms.get(uid or -1)
        return str(row.get("name")) if row else f"unit {uid}"

    def convert(self, qty: float, from_unit: Any, to_unit: Any) -> float | None:
        """``qty`` in ``from_unit`` (an id or ``[id, name]``) expressed in ``to_unit``; None if impossible."""
        source, target = _id(from_unit), _id(to_unit)
        if source is None or target is None:
            return None
        if source == target:
            return qty
        a, b = self.uoms.get(source), self.uoms.get(target)
        if a is None or b is None or self._family(a) != self._family(b):
            return None
        fa, fb = float(a.get("factor") or 0.0), float(b.get("factor") or 0.0)
        if not fa or not fb:
            return None
        return qty * fa / fb if self.version >= 19 else qty / fa * fb

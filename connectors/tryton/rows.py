"""Reading decoded Tryton JSON-RPC rows: numbers, dates, dotted fields, references, the names of records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

Row = dict[str, Any]
Rows = Mapping[int, Row]


def num(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


def nested(row: Row, dotted: str) -> Any:
    """Value of a dotted field as Tryton returns it: ``{"a.": {"b": 1}}`` for ``a.b``."""
    *path, last = dotted.split(".")
    node: Any = row
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part + ".")
    return node.get(last) if isinstance(node, dict) else None


def ref_id(reference: Any, model: str) -> int | None:
    """The id in a Reference value ``"sale.line,12"`` of ``model``, else None."""
    if isinstance(reference, str) and reference.startswith(model + ","):
        try:
            return int(reference.split(",", 1)[1])
        except ValueError:
            return None
    return None


def date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def record(rid: int, row: Row | None = None, *names: str) -> str:
    """How a warning names a record: ``id=12`` plus the fields a user searches by (``number='SO-7'``)."""
    parts = [f"id={rid}"]
    for name in names:
        value = nested(row or {}, name)
        if value:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def sku_map(products: Rows) -> dict[int, str]:
    return {pid: (row.get("code") or f"product-{pid}") for pid, row in products.items()}


def warehouse_code(row: Row) -> str:
    return str(row.get("code") or row.get("name") or f"warehouse-{row['id']}")

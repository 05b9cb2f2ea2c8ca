"""Small helpers on cell values read back with python-calamine, shared by the workbook readers."""

from __future__ import annotations

import datetime as dt
import math

from xlsxwriter.utility import xl_rowcol_to_cell

Cell = int | float | str | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None
"""A value as python-calamine returns it (``None`` or ``""`` for an empty cell)."""


def is_blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Cell) -> str:
    """Cell as text; a family typed as a number (``100``) reads ``"100"``, not ``"100.0"``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def cell_ref(row: int, col: int) -> str:
    """A1 reference of a 0-based row and column."""
    return str(xl_rowcol_to_cell(row, col))


def same_qty(a: float | None, b: float | None) -> bool:
    """Two forecast quantities are the same entry (blank equals only blank)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def show_qty(value: float | None) -> str:
    return "blank" if value is None else f"{value:g}"

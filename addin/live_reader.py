"""Read a workbook open in Excel (xlwings): the Settings table and the user's Forecast grid.

The same rules as the file reader (:mod:`workbooks.reader`): the grid is ``tblForecast`` (``Family`` then
one ``YYYY-MM`` column per month); a blank cell is 0; every bad entry is reported at once with its
``Forecast!D7`` address, family and month.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import xlwings as xw

from workbooks.layout import FORECAST_KEY, FORECAST_SHEET, FORECAST_TABLE, SETTINGS, TableSpec, is_month_bucket
from workbooks.reader import FORECAST_RULE, ForecastError, ForecastIssue
from workbooks.xlsx.errors import LayoutError
from workbooks.xlsx.refs import col_letters


def find_table(book: xw.Book, name: str) -> tuple[xw.Sheet, xw.main.Table]:
    for sheet in book.sheets:
        for table in sheet.tables:
            if table.name.lower() == name.lower():
                return sheet, table
    raise LayoutError(f"{book.name}: table {name} is missing (deleted or renamed?)")


def read_settings(book: xw.Book) -> dict[str, str]:
    """tblSettings as ``setting -> value`` texts."""
    _sheet, table = find_table(book, SETTINGS.name)
    body = table.data_body_range
    rows = body.options(ndim=2).value if body is not None else []
    return {str(r[0]).strip(): "" if r[1] is None else str(r[1]).strip() for r in rows if r and r[0]}


def _month(value: Any) -> str | None:
    if isinstance(value, dt.date) and value.day == 1:
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str) and is_month_bucket(value.strip()):
        return value.strip()
    return None


def _family(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def read_forecast(book: xw.Book) -> pd.DataFrame:
    """The live Forecast grid as ``family, bucket, qty`` (blank = 0); :class:`ForecastError` lists every bad cell."""
    _sheet, table = find_table(book, FORECAST_TABLE)
    whole = table.range
    top, left = whole.row, whole.column
    values = whole.options(ndim=2).value
    header, body = values[0], values[1:]
    issues: list[ForecastIssue] = []

    def ref(r: int, c: int) -> str:
        return f"{col_letters(left + c)}{top + r}"

    if _family(header[0]) != FORECAST_KEY.header:
        raise LayoutError(f"{FORECAST_SHEET}: the first column of {FORECAST_TABLE} must be {FORECAST_KEY.header!r}")
    months: dict[int, str] = {}
    for c, raw in enumerate(header[1:], start=1):
        month = _month(raw)
        if month is None:
            issues.append(ForecastIssue(ref(0, c), None, None, f"column header {raw!r} is not a month (YYYY-MM)"))
        elif month in months.values():
            issues.append(ForecastIssue(ref(0, c), None, month, "month appears twice"))
        else:
            months[c] = month
    records: list[tuple[str, str, float]] = []
    seen: set[str] = set()
    for r, row in enumerate(body, start=1):
        family = _family(row[0])
        filled = {c: v for c, v in enumerate(row) if c and v not in (None, "")}
        if not family:
            if filled:
                issues.append(ForecastIssue(ref(r, 0), None, None, "forecast numbers in a row without a family"))
            continue
        if family in seen:
            issues.append(ForecastIssue(ref(r, 0), family, None, "family appears twice; give each family one row"))
            continue
        seen.add(family)
        for c, month in months.items():
            value = row[c] if c < len(row) else None
            qty = _quantity(value)
            if qty is None:
                issues.append(
                    ForecastIssue(ref(r, c), family, month, f"{value!r} is not a number >= 0; {FORECAST_RULE}")
                )
                qty = 0.0
            records.append((family, month, qty))
    if issues:
        raise ForecastError(Path(book.fullname), issues)
    return pd.DataFrame(records, columns=["family", "bucket", "qty"]).astype({"qty": float})


def _quantity(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def read_table(book: xw.Book, spec: TableSpec) -> pd.DataFrame:
    """Any layout table's body as a frame with the layout's field names (blank rows dropped)."""
    _sheet, table = find_table(book, spec.name)
    body = table.data_body_range
    rows = body.options(ndim=2).value if body is not None else []
    fields = [c.field for c in spec.columns]
    data = [list(r[: len(fields)]) for r in rows if r and any(v not in (None, "") for v in r)]
    return pd.DataFrame(data, columns=fields)

"""Turning the text (CSV) or loosely typed cells (xlsx) of one column into numbers and dates.

Parsing here rather than in the snapshot validator keeps errors precise: the planner sees the value as
written in the file. Nothing is ever evaluated; ``=SUM(A1)`` is a string like any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from .mapping import EntityOptions

Parsed = tuple[pd.Series, pd.Series]
"""Parsed values (NaN / NaT where empty or bad) and the mask of non-empty values that did not parse."""


def _each_distinct(text: pd.Series, parse: Callable[[pd.Series], Parsed]) -> Parsed:
    """``parse`` applied once per distinct text of a categorical column (a CSV column: see
    :func:`.tables.read_csv`) and spread over its rows; other columns are parsed as they are."""
    if not isinstance(text.dtype, pd.CategoricalDtype):
        return parse(text)
    values, bad = parse(pd.Series(text.cat.categories, dtype=object))
    codes = text.cat.codes.to_numpy()
    missing = codes < 0
    take = np.where(missing, 0, codes)
    out = values.to_numpy()[take] if len(values) else np.empty(len(codes), dtype=values.to_numpy().dtype)
    flags = bad.to_numpy(dtype=bool)[take] if len(bad) else np.zeros(len(codes), dtype=bool)
    if missing.any():
        out[missing] = values.dtype.type("NaT") if values.dtype.kind == "M" else np.nan
        flags[missing] = False
    return pd.Series(out, index=text.index, dtype=values.dtype), pd.Series(flags, index=text.index)


def _text_mask(column: pd.Series) -> pd.Series:
    return column.map(lambda v: isinstance(v, str)).astype(bool)


def _numbers_from_text(text: pd.Series, options: EntityOptions) -> Parsed:
    clean = text.str.strip()
    if options.thousands:
        clean = clean.str.replace(options.thousands, "", regex=False)
    if options.decimal != ".":
        clean = clean.str.replace(".", "\x00", regex=False).str.replace(options.decimal, ".", regex=False)
    values = pd.to_numeric(clean, errors="coerce").astype("float64")
    return values, values.isna() & (clean != "")


def _dates_from_text(text: pd.Series, options: EntityOptions) -> Parsed:
    clean = text.str.strip()
    fmt = options.date_format or "ISO8601"
    try:
        values = pd.to_datetime(clean, format=fmt, errors="coerce")
    except (ValueError, TypeError):  # mixed time zone offsets and the like: parse one by one
        values = pd.Series([pd.to_datetime(v, format=fmt, errors="coerce") for v in clean], index=clean.index)
        values = pd.to_datetime(values, errors="coerce", utc=True)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    values = values.astype("datetime64[ns]")
    return values, values.isna() & (clean != "")


def _combine(column: pd.Series, is_typed: pd.Series, typed: pd.Series, text: Parsed, empty: object) -> Parsed:
    """Typed cells as they are, text cells as parsed; any other cell (a bool, a date for a number) is bad."""
    is_text = _text_mask(column).to_numpy()
    values = pd.Series(empty, index=column.index, dtype=text[0].dtype)
    values[is_typed.to_numpy()] = typed.to_numpy()
    values[is_text] = text[0].to_numpy()
    bad = ~is_typed.to_numpy() & ~is_text
    bad[is_text] = text[1].to_numpy()
    return values, pd.Series(bad, index=column.index)


def parse_numbers(column: pd.Series, options: EntityOptions, typed: bool) -> Parsed:
    """Numbers from text in the file's decimal convention; typed (xlsx) cells may also hold numbers."""
    if not typed:
        return _each_distinct(column, lambda text: _numbers_from_text(text, options))
    is_number = column.map(lambda v: isinstance(v, int | float) and not isinstance(v, bool)).astype(bool)
    text = _numbers_from_text(column[_text_mask(column)].astype(str), options)
    return _combine(column, is_number, column[is_number].astype("float64"), text, np.nan)


def parse_dates(column: pd.Series, options: EntityOptions, typed: bool) -> Parsed:
    """Dates from text in the mapping's date format (ISO 8601 by default); xlsx date cells as they are."""
    if not typed:
        return _each_distinct(column, lambda text: _dates_from_text(text, options))
    is_date = column.map(lambda v: isinstance(v, dt.date)).astype(bool)
    dates = pd.to_datetime(column[is_date].map(pd.Timestamp)).astype("datetime64[ns]")
    text = _dates_from_text(column[_text_mask(column)].astype(str), options)
    return _combine(column, is_date, dates, text, pd.NaT)


def cell_text(value: object) -> str:
    """An xlsx cell as the text a person reads in it (``1001.0`` is the item code ``1001``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def shown(value: object) -> str:
    """A bad value as it is quoted in a message: text in quotes, typed cells as the cell shows them."""
    return repr(value) if isinstance(value, str) else cell_text(value)

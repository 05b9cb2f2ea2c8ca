"""One cell's XML from one Python value: the only place frame values become worksheet XML.

Rules (documented in docs/refresh.md):
- text is always an inline string (``t="inlineStr"``): never a formula, whatever it starts with (``= + - @``,
  tab, CR, NUL: formula injection is impossible), and it leaves ``sharedStrings.xml`` untouched;
- numbers via ``repr`` (shortest round-trip form), booleans ``t="b"``;
- dates/datetimes as serial numbers in the workbook's date system (1900 or 1904); dates the system cannot
  hold (before its epoch) are written as ISO text;
- ``None``/``NaN``/``NaT``/``NA`` = missing -> empty cell (so ``SUM``/``SUMIFS`` keep working);
  ``+inf``/``-inf`` -> the error cell ``#NUM!`` (a real overflow the planner must see);
- text: lone surrogates and U+FFFE/U+FFFF dropped, capped at 32,767 UTF-16 units (Excel's cell limit),
  a literal ``_xHHHH_`` escaped as ``_x005F_xHHHH_``, and control characters XML cannot carry
  (incl. ``\\r``) written as Excel's ``_xHHHH_`` escapes so they round-trip.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

import numpy as np
import pandas as pd

MAX_TEXT = 32_767
"""Excel's maximum number of characters (UTF-16 code units) in a cell."""

_DROP = re.compile("[\ud800-\udfff\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")
_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})

_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1900_EARLY = dt.datetime(1899, 12, 31)  # Excel's fictitious 1900-02-29 shifts Jan/Feb 1900 by one
_MARCH_1900 = dt.datetime(1900, 3, 1)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def clean_text(text: str) -> str:
    """The text Excel will show: unencodable code points dropped, capped at 32,767 UTF-16 units."""
    text = _DROP.sub("", text)
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_TEXT:
        cut = text.encode("utf-16-le")[: 2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
        text = cut
    return text


def escape_text(text: str) -> str:
    """``clean_text`` then OOXML string escaping (``_xHHHH_``) and XML escaping, ready for ``<t>``."""
    text = clean_text(text)
    if "_x" in text:
        text = _LITERAL_ESCAPE.sub(r"_x005F_\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.translate(_XML)


def excel_serial(value: dt.datetime, date1904: bool) -> float | None:
    """Serial day number of ``value`` in the workbook's date system, or None if it predates the epoch."""
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # wall-clock time, as the ERP showed it
    if date1904:
        epoch = _EPOCH_1904
        if value < epoch:
            return None
    elif value >= _MARCH_1900:
        epoch = _EPOCH_1900
    elif value >= dt.datetime(1900, 1, 1):
        epoch = _EPOCH_1900_EARLY
    else:
        return None
    delta = value - epoch
    return delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400.0


def _text_cell(ref: str, style: str, text: str) -> str:
    body = escape_text(text)
    space = ' xml:space="preserve"' if body[:1].isspace() or body[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{body}</t></is></c>'


def _number_cell(ref: str, style: str, number: float) -> str:
    if math.isfinite(number):
        return f'<c r="{ref}"{style}><v>{number!r}</v></c>'
    if math.isnan(number):
        return f'<c r="{ref}"{style}/>' if style else ""
    return f'<c r="{ref}"{style} t="e"><v>#NUM!</v></c>'


def cell_xml(ref: str, value: object, style: int | None = None, date1904: bool = False) -> str:
    """The ``<c>`` element for ``value`` at ``ref`` ("" for an unstyled missing value)."""
    s = f' s="{style}"' if style else ""
    kind = type(value)
    if kind is float:
        return _number_cell(ref, s, value)  # type: ignore[arg-type]
    if kind is str:
        return _text_cell(ref, s, value)  # type: ignore[arg-type]
    if value is None or value is pd.NA or value is pd.NaT:
        return f'<c r="{ref}"{s}/>' if s else ""
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}"{s} t="b"><v>{int(bool(value))}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{ref}"{s}><v>{int(value)}</v></c>'
    if isinstance(value, float | np.floating | Decimal):
        return _number_cell(ref, s, float(value))
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return f'<c r="{ref}"{s}/>' if s else ""
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, dt.datetime | dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
        serial = excel_serial(moment, date1904)
        if serial is None:
            return _text_cell(ref, s, value.isoformat())
        return f'<c r="{ref}"{s}><v>{serial!r}</v></c>'
    return _text_cell(ref, s, str(value))

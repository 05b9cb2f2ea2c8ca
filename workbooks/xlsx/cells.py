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
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

MAX_TEXT = 32_767
"""Excel's maximum number of characters (UTF-16 code units) in a cell."""

_DROP = re.compile("[\ud800-\udfff\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")
_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_NEEDS_CARE = re.compile("[&<>\x01-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_x")
"""Anything :func:`escape_text` would change (NUL is checked apart: it separates the joined column)."""
_EDGE_SPACE = re.compile(r"(?:^|\x00)\s|\s(?:\x00|$)")
"""A text starting or ending with white space (needs ``xml:space="preserve"``), in a NUL-joined column."""

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


def column_xml(
    letters: str, first_row: int, values: Sequence[object], style: int | None = None, date1904: bool = False
) -> list[str]:
    """The ``<c>`` elements of one column for consecutive rows from ``first_row`` ("" for no cell).

    Exactly ``[cell_xml(f"{letters}{r}", v, style, date1904) for r, v in enumerate(values, first_row)]``, but a
    column holding only finite floats, only ints, only bools or only plain text (nothing to escape) is
    formatted by one comprehension instead of a call per cell; anything else takes the per-cell path.
    """
    n = len(values)
    rows = range(first_row, first_row + n)
    s = f' s="{style}"' if style else ""
    head = f'<c r="{letters}'
    kinds = set(map(type, values))
    if kinds == {float}:
        finite = np.isfinite(np.array(values, dtype=float))
        mid = f'"{s}><v>'
        out = [f"{head}{r}{mid}{v!r}</v></c>" for r, v in zip(rows, values, strict=True)]
        if not finite.all():
            for i in np.flatnonzero(~finite).tolist():
                out[i] = _number_cell(f"{letters}{first_row + i}", s, values[i])
        return out
    if kinds == {str} and _plain_texts(values):  # type: ignore[arg-type]
        mid = f'"{s} t="inlineStr"><is><t>'
        return [f"{head}{r}{mid}{v}</t></is></c>" for r, v in zip(rows, values, strict=True)]
    if kinds == {int}:
        mid = f'"{s}><v>'
        return [f"{head}{r}{mid}{v}</v></c>" for r, v in zip(rows, values, strict=True)]
    if kinds == {bool}:
        mid = f'"{s} t="b"><v>'
        return [f"{head}{r}{mid}{'1' if v else '0'}</v></c>" for r, v in zip(rows, values, strict=True)]
    return [cell_xml(f"{letters}{r}", v, style, date1904) for r, v in zip(rows, values, strict=True)]


def _plain_texts(texts: Sequence[str]) -> bool:
    """True if :func:`escape_text` leaves every text as it is and none needs ``xml:space``."""
    if not texts:
        return True
    joined = "\x00".join(texts)
    return (
        joined.count("\x00") == len(texts) - 1
        and _NEEDS_CARE.search(joined) is None
        and _EDGE_SPACE.search(joined) is None
        and (len(joined) <= MAX_TEXT // 2 or max(map(len, texts)) <= MAX_TEXT // 2)
    )

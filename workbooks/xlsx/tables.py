"""Table (ListObject) parts: move a table's ``ref`` (and its autoFilter/sortState) and create new ones.

Existing table parts are edited as text, changing only the ``ref`` attribute values, so everything else a
user set on the table (style, banding, filters, column formats, extensions) is preserved byte for byte.
"""

from __future__ import annotations

import re

from .refs import make_range, parse_range
from .xmlsafe import START_TAG, attr_re, esc_attr

_REF = attr_re("ref")


def _set_ref(text: str, element: str, ref: str) -> str:
    pattern = re.compile(r"<(?:[\w.-]+:)?" + element + r"\b" + START_TAG + ">")

    def swap(m: re.Match[str]) -> str:
        return _REF.sub(lambda a: f'{a.group(1)}"{ref}"', m.group(0), count=1)

    return pattern.sub(swap, text)


_COLUMN = re.compile(r"<(?:[\w.-]+:)?tableColumn\b" + START_TAG + ">")
_NAME = attr_re("name")


def _rename_columns(text: str, headers: tuple[str, ...]) -> str:
    """The ``name`` of each ``<tableColumn>``, in order, set to ``headers`` (everything else kept)."""
    names = iter(headers)

    def swap(m: re.Match[str]) -> str:
        name = next(names, None)
        if name is None:
            return m.group(0)
        return _NAME.sub(lambda a: f'{a.group(1)}"{esc_attr(name)}"', m.group(0), count=1)

    return _COLUMN.sub(swap, text)


def update_table_xml(xml: bytes, new_ref: str, headers: tuple[str, ...] | None = None) -> bytes:
    """The table part with its range, autoFilter range and sortState range moved to ``new_ref`` (and its
    column names set to ``headers`` when given: month headers that follow the horizon)."""
    text = xml.decode("utf-8")
    if headers is not None:
        text = _rename_columns(text, headers)
    text = _set_ref(text, "table", new_ref)
    text = _set_ref(text, "autoFilter", new_ref)
    r1, c1, r2, c2 = parse_range(new_ref)
    text = _set_ref(text, "sortState", make_range(r1 + 1, c1, r2, c2))
    return text.encode("utf-8")


_COLUMNS_END = re.compile(r"</([\w.-]+:)?tableColumns\s*>")
_COLUMNS_START = re.compile(r"<(?:[\w.-]+:)?tableColumns\b" + START_TAG + ">")
_COUNT = attr_re("count")
_ID = attr_re("id")


def append_columns_xml(xml: bytes, new_ref: str, headers: tuple[str, ...]) -> bytes:
    """The table part with ``headers`` added as new last columns (fresh ids, ``count`` raised) and its ranges
    moved to ``new_ref``; every existing column, its formats and the table's other settings are kept."""
    text = xml.decode("utf-8")
    end = _COLUMNS_END.search(text)
    start = _COLUMNS_START.search(text)
    if end is None or start is None:
        raise ValueError("the table part has no <tableColumns>")
    ids = [int(m.group(2).strip("\"'")) for c in _COLUMN.finditer(text) if (m := _ID.search(c.group(0)))]
    prefix = end.group(1) or ""
    first = max(ids, default=0) + 1
    added = "".join(f'<{prefix}tableColumn id="{first + i}" name="{esc_attr(h)}"/>' for i, h in enumerate(headers))
    text = text[: end.start()] + added + text[end.start() :]
    count = len(_COLUMN.findall(text))
    tag = _COUNT.sub(lambda a: f'{a.group(1)}"{count}"', start.group(0), count=1)
    text = text[: start.start()] + tag + text[start.end() :]
    return update_table_xml(text.encode("utf-8"), new_ref)


def new_table_xml(table_id: int, name: str, ref: str, headers: tuple[str, ...], ns_main: str) -> bytes:
    """A fresh table part (header row + data rows, autoFilter, a plain banded style)."""
    cols = "".join(f'<tableColumn id="{i}" name="{esc_attr(h)}"/>' for i, h in enumerate(headers, start=1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<table xmlns="{ns_main}" id="{table_id}" name="{esc_attr(name)}" '
        f'displayName="{esc_attr(name)}" ref="{ref}" totalsRowShown="0">'
        f'<autoFilter ref="{ref}"/><tableColumns count="{len(headers)}">{cols}</tableColumns>'
        '<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" '
        'showRowStripes="1" showColumnStripes="0"/></table>'
    ).encode()


__all__ = ["append_columns_xml", "new_table_xml", "update_table_xml"]

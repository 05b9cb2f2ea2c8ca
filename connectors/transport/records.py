"""Reading values out of an ERP's JSON records, collecting every malformed value with the record's name.

Mapping modules read each source record through a :class:`Row`; a bad value is recorded as a
:class:`RecordIssue` naming the table, the record (its id and code) and the field, and the row is
marked bad so it is left out. :meth:`Reader.check` raises one :class:`SourceDataError` with all of them.
Data that is well formed but cannot be read the way the ERP means it (a unit without conversion, an order
without any date) is a warning instead (:meth:`Row.warn`): the sync goes on and ``Reader.notes`` tells.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from connectors.notices import Notes

from .errors import RecordIssue, SourceDataError

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_date(value: Any) -> dt.date | None:
    """ISO dates/timestamps (``2026-05-01``, ``2026-05-01 10:00:00``, ``...T...Z``), OData v2 ``/Date(ms)/``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000.0, dt.UTC).date()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_timestamp(value: Any) -> dt.datetime | None:
    """An ISO timestamp or ``/Date(ms)/`` as an aware datetime (naive ERP timestamps are taken as UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000.0, dt.UTC)
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


class Reader:
    """Collects the issues of one sync."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[RecordIssue] = []
        self.notes = Notes()

    def row(self, table: str, record: Mapping[str, Any], *keys: str) -> Row:
        """Wrap one record; ``keys`` are the fields that name it in messages (e.g. ``"id", "default_code"``)."""
        label = ", ".join(f"{k}={record.get(k)!r}" for k in keys if k in record) or "(record)"
        return Row(self, table, record, label)

    def add(self, table: str, label: str, field: str, message: str) -> None:
        self.issues.append(RecordIssue(table, label, field, message))

    def check(self) -> None:
        if self.issues:
            raise SourceDataError(self.source, self.issues)


class Row:
    """One source record; typed getters record issues instead of raising, and clear :attr:`ok`."""

    def __init__(self, reader: Reader, table: str, record: Mapping[str, Any], label: str) -> None:
        self.reader = reader
        self.table = table
        self.record = record
        self.label = label
        self.ok = True

    def _bad(self, field: str, message: str) -> None:
        self.ok = False
        self.reader.add(self.table, self.label, field, message)

    def warn(self, entity: str, message: str) -> None:
        """A per-record warning (the sync goes on); ``message`` says what sopxl did with the record."""
        self.reader.notes.add(entity, self.table, self.label, message)

    def get(self, field: str, default: Any = None) -> Any:
        return self.record.get(field, default)

    def text(self, field: str, required: bool = True) -> str:
        value = self.record.get(field)
        if value is None or value is False or (isinstance(value, str) and not value.strip()):
            if required:
                self._bad(field, "missing")
            return ""
        if isinstance(value, list) and len(value) == 2:  # Odoo many2one [id, display name]
            return str(value[1]).strip()
        if not isinstance(value, str | int | float):
            self._bad(field, f"not text: {value!r}")
            return ""
        return str(value).strip()

    def num(self, field: str, required: bool = True, default: float = 0.0) -> float:
        value = self.record.get(field)
        if value is None or value is False or value == "":
            if required:
                self._bad(field, "missing")
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            self._bad(field, f"not a number: {value!r}")
            return default
        if not math.isfinite(number):
            self._bad(field, f"not a finite number: {value!r}")
            return default
        return number

    def date(self, field: str, required: bool = True) -> dt.date | None:
        value = self.record.get(field)
        if value is None or value is False or value == "":
            if required:
                self._bad(field, "missing")
            return None
        parsed = parse_date(value)
        if parsed is None:
            self._bad(field, f"not a date: {value!r}")
        return parsed

    def ref(self, field: str, required: bool = True) -> int | str | None:
        """The id of a reference: Odoo many2one ``[id, name]``, or a plain id/GUID."""
        value = self.record.get(field)
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], int):
            return value[0]
        if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
            return value
        if required:
            self._bad(field, "missing reference" if value in (None, False, "") else f"not a reference: {value!r}")
        return None

    def lookup(self, field: str, table: Mapping[Any, Any], what: str) -> Any:
        """Resolve a reference through ``table``; an unknown id is an issue naming ``what``."""
        key = self.ref(field)
        if key is None:
            return None
        if key not in table:
            self._bad(field, f"refers to unknown {what} {key!r}")
            return None
        return table[key]

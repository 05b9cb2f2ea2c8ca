"""Tryton's JSON value tagging: ``{"__class__": "Decimal"|"date"|"datetime"|"time"|"timedelta"|"bytes", ...}``."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

TAGS = frozenset({"Decimal", "date", "datetime", "time", "timedelta", "bytes"})


def decode(value: Any) -> Any:
    """Turn tagged values (recursively) into Python objects; Decimal stays Decimal, datetimes stay naive UTC."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__class__")
    if kind is None:
        return {k: decode(v) for k, v in value.items()}
    if kind == "Decimal":
        return Decimal(str(value["decimal"]))
    if kind == "date":
        return dt.date(value["year"], value["month"], value["day"])
    if kind == "datetime":
        return dt.datetime(
            value["year"],
            value["month"],
            value["day"],
            value.get("hour", 0),
            value.get("minute", 0),
            value.get("second", 0),
            value.get("microsecond", 0),
        )
    if kind == "time":
        return dt.time(
            value.get("hour", 0), value.get("minute", 0), value.get("second", 0), value.get("microsecond", 0)
        )
    if kind == "timedelta":
        return dt.timedelta(seconds=value["seconds"])
    if kind == "bytes":
        return base64.b64decode(value["base64"])
    raise ValueError(f"unknown Tryton value class {kind!r}")


def encode(value: Any) -> Any:
    """The reverse of :func:`decode`, for request parameters (domains with dates, created records)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def _tagged(value: dict[str, Any]) -> Any:
    return decode(value) if value.get("__class__") in TAGS else value


def loads(text: str | bytes) -> Any:
    """``decode(json.loads(text))`` in one pass: the C parser hands each object to the hook as it is built
    (no second walk over every row in Python: ~2x faster on a page of moves)."""
    return json.loads(text, object_hook=_tagged)


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.timedelta | Decimal | bytes):
        return encode(value)
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def dumps(value: Any) -> str:
    """``json.dumps(encode(value))`` without the walk: the C encoder calls :func:`encode` only for the
    values JSON has no type for (dates, Decimals, ...)."""
    return json.dumps(value, default=_tag, sort_keys=True)

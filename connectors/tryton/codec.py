"""Tryton's JSON value tagging: ``{"__class__": "Decimal"|"date"|"datetime"|"time"|"timedelta"|"bytes", ...}``."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any


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

"""The one clock: every "now" and "today" in sopxl comes from here, so a test can set it.

Horizons, as-of stamps, refresh times, backups, rep files' locked months and the demo data's relative dates
all follow the date. Reading the wall clock in many places made tests that pass on some days only; this
module is the single seam instead:

- ``SOPXL_NOW=2027-01-15T00:05:00+01:00`` in the environment fixes the clock for a process and its
  children (CLI tests set it; an offset is required, a time without one is taken as UTC);
- ``with frozen("2027-01-15T00:05:00+01:00"):`` fixes it inside one process;
- otherwise the system clock (which libfaketime shifts when the test suite runs under ``faketime``).

"Today" is always a date *in a time zone*: the ERP company's zone for planning dates (connectors express
the snapshot's as-of time in it), the machine's local zone for file stamps. :func:`today` takes the zone.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_VAR = "SOPXL_NOW"
_frozen: list[dt.datetime] = []


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 time as an aware datetime (no offset: UTC). Raises ValueError naming the variable."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{ENV_VAR}={text!r} is not an ISO 8601 time like 2027-01-15T00:05:00+01:00") from None
    return value if value.utcoffset() is not None else value.replace(tzinfo=dt.UTC)


def now(tz: dt.tzinfo | None = None) -> dt.datetime:
    """The current time, timezone-aware, expressed in ``tz`` (default: the machine's local zone)."""
    if _frozen:
        current = _frozen[-1]
    elif text := os.environ.get(ENV_VAR, "").strip():
        current = parse_instant(text)
    else:
        current = dt.datetime.now(dt.UTC)
    return current.astimezone(tz) if tz is not None else current.astimezone()


def today(tz: dt.tzinfo | None = None) -> dt.date:
    """Today's date in ``tz`` (default: the machine's local zone)."""
    return now(tz).date()


def zone(name: str | None) -> dt.tzinfo:
    """The time zone called ``name`` (IANA, e.g. ``Europe/Brussels``); blank: UTC. ValueError if unknown."""
    if not name or not name.strip():
        return dt.UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name like Europe/Brussels)") from None


@contextmanager
def frozen(when: dt.datetime | str) -> Iterator[dt.datetime]:
    """Fix :func:`now` to ``when`` inside the block (nested blocks: the innermost wins)."""
    instant = parse_instant(when) if isinstance(when, str) else when
    if instant.utcoffset() is None:
        instant = instant.replace(tzinfo=dt.UTC)
    _frozen.append(instant)
    try:
        yield instant
    finally:
        _frozen.pop()

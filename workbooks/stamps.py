"""What a workbook says about its own data: the ERP as-of stamp cells and the Settings table.

The template builder and the refresh both write these, so the wording lives here once. A planner must
always see how old the numbers are: every owned sheet carries the stamp in its ``stamp_cell`` (A2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata

import pandas as pd

from sop_functions import clock

from .layout import LAYOUT_VERSION, PAST_DUE, SETTINGS

NOT_REFRESHED = "ERP data: not refreshed yet (run a refresh to load the ERP)"


def _now() -> dt.datetime:
    return clock.now().replace(microsecond=0)


@dataclass(frozen=True)
class WorkbookStamps:
    """Where the data came from and how old it is.

    ``erp_as_of`` is the ERP's own time of the snapshot (timezone-aware, so planners in other offices
    read it right); ``None`` for a template that has never been refreshed.
    """

    source: str = "template"
    erp_as_of: dt.datetime | None = None
    refreshed_at: dt.datetime = field(default_factory=_now)
    grain: str = "month"

    def __post_init__(self) -> None:
        for name in ("erp_as_of", "refreshed_at"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"WorkbookStamps.{name} must be timezone-aware, got {value!r}")


def _minutes(value: dt.datetime) -> str:
    """``2026-11-25 08:00 +01:00``: minutes are enough for a planner, the offset is not optional."""
    text = value.strftime("%Y-%m-%d %H:%M %z")
    return f"{text[:-2]}:{text[-2:]}"


def settings_time(value: dt.datetime) -> str:
    """A time as tblSettings holds it: ``2026-11-25 08:00:00.123456+01:00`` (ISO 8601 with a space).

    Not the ``T`` form: xlwings' Office.js engine turns every cell text matching its ISO pattern into a
    datetime and fails on a ``+01:00`` offset. Python's ``fromisoformat`` reads both forms.
    """
    return value.isoformat(sep=" ")


def same_time(text: str, value: dt.datetime) -> bool:
    """Whether a Settings time text (either ISO form) names ``value``."""
    try:
        return dt.datetime.fromisoformat(text.strip()) == value
    except (ValueError, TypeError):
        return False


def stamp_text(stamps: WorkbookStamps) -> str:
    """The as-of stamp, e.g. ``ERP data as of 2026-11-25 08:00 +01:00 (source: files:demo)``."""
    if stamps.erp_as_of is None:
        return f"{NOT_REFRESHED} (source: {stamps.source})"
    return f"ERP data as of {_minutes(stamps.erp_as_of)} (source: {stamps.source})"


def sopxl_version() -> str:
    """The installed sopxl version, or ``unknown`` when running from a plain checkout."""
    try:
        return metadata.version("sopxl")
    except metadata.PackageNotFoundError:
        return "unknown"


def settings_frame(stamps: WorkbookStamps, buckets: Sequence[str]) -> pd.DataFrame:
    """The tblSettings rows (``setting``, ``value``; all text so Excel never reformats them)."""
    months = [b for b in buckets if b != PAST_DUE]
    rows = {
        "source": stamps.source,
        "erp_as_of": settings_time(stamps.erp_as_of) if stamps.erp_as_of else "",
        "refreshed_at": settings_time(stamps.refreshed_at),
        "horizon_start": months[0] if months else "",
        "horizon_periods": str(len(months)),
        "grain": stamps.grain,
        "sopxl_version": sopxl_version(),
        "layout_version": str(LAYOUT_VERSION),
    }
    fields = [c.field for c in SETTINGS.columns]
    return pd.DataFrame({fields[0]: list(rows), fields[1]: list(rows.values())})

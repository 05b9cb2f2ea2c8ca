"""The column mapping: how one ERP's export differs from the documented file format.

The documented format needs no mapping: one file per entity named ``<entity>.csv`` or ``<entity>.xlsx``,
headers equal to the canonical field names, ``.`` as decimal mark, dates as ``YYYY-MM-DD``. Anything
else is described in ``mapping.toml`` in the folder (or passed as a dict of the same shape)::

    [snapshot]                      # applies to every file
    as_of = "2026-11-25T08:00:00+01:00"
    decimal = ","                   # decimal mark, "." (default) or ","
    thousands = "."                 # thousands separator to drop, default none
    delimiter = ";"                 # CSV delimiter, default: detected from the header line
    encoding = "cp1252"             # default: UTF-8 (with or without BOM), else cp1252
    date_format = "%d.%m.%Y"        # strptime format, default ISO 8601

    [open_demand]                   # one table per entity: canonical field = header in the file
    qty = "Open Qty"
    requested_date = "Req. Date"
    date_format = "%d/%m/%Y"        # any [snapshot] format option, for this file only
    file = "SalesOrders.xlsx"       # file name when it is not open_demand.csv / .xlsx
    sheet = "Orders"                # xlsx sheet, default: the sheet named open_demand, else the first
    ignore_columns = ["Customer name", "Region"]   # extra headers to skip (others are an error)
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sop_functions.model import ENTITY_MODELS
from sop_functions.snapshot import COLUMNS

from .errors import FileDataError, FileIssue

MAPPING_FILE = "mapping.toml"
GLOBAL_SECTION = "snapshot"
FORMAT_KEYS = ("decimal", "thousands", "delimiter", "encoding", "date_format")
ENTITY_KEYS = ("file", "sheet", "ignore_columns")


@dataclass(frozen=True)
class EntityOptions:
    """How to read one entity's file."""

    renames: Mapping[str, str] = field(default_factory=dict)
    """Header in the file -> canonical field name."""
    decimal: str = "."
    thousands: str = ""
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    file: str | None = None
    sheet: str | None = None
    ignore_columns: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FolderMapping:
    """The whole mapping: per-entity options and the as-of time, if given."""

    entities: Mapping[str, EntityOptions]
    as_of: dt.datetime | None = None
    base: EntityOptions = field(default_factory=EntityOptions)
    """The ``[snapshot]`` options alone: how to read a file that is not an entity (``forecast.csv``)."""

    def options(self, entity: str) -> EntityOptions:
        return self.entities[entity]


def parse_as_of(value: object) -> dt.datetime:
    """An ISO 8601 date or timestamp; without an offset it is read in the local time zone."""
    if isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, dt.date):
        stamp = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        stamp = dt.datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return stamp if stamp.utcoffset() is not None else stamp.astimezone()


def _format_options(raw: Mapping[str, Any], where: str, issues: list[FileIssue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in FORMAT_KEYS:
        if key not in raw:
            continue
        value = raw[key]
        if not isinstance(value, str):
            issues.append(FileIssue(MAPPING_FILE, f"{where} {key} must be a string, got {value!r}"))
        elif key == "decimal" and value not in (".", ","):
            issues.append(FileIssue(MAPPING_FILE, f'{where} decimal must be "." or ",", got {value!r}'))
        else:
            out[key] = value
    return out


def _entity_options(entity: str, raw: Mapping[str, Any], base: EntityOptions, issues: list[FileIssue]) -> EntityOptions:
    where = f"[{entity}]"
    fields = COLUMNS[entity]
    renames: dict[str, str] = {}
    extra: dict[str, Any] = {}
    for key, value in raw.items():
        if key in FORMAT_KEYS:
            continue
        if key in ("file", "sheet") and isinstance(value, str):
            extra[key] = value
        elif key == "ignore_columns" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            extra[key] = frozenset(v.strip() for v in value)
        elif key in ENTITY_KEYS:
            issues.append(FileIssue(MAPPING_FILE, f"{where} {key} has the wrong type: {value!r}"))
        elif key not in fields:
            expected = ", ".join(fields)
            issues.append(FileIssue(MAPPING_FILE, f"{where} unknown field {key!r} (fields: {expected})"))
        elif not isinstance(value, str) or not value.strip():
            issues.append(FileIssue(MAPPING_FILE, f"{where} {key} must name a column header, got {value!r}"))
        elif value.strip() in renames:
            other = renames[value.strip()]
            issues.append(FileIssue(MAPPING_FILE, f"{where} header {value!r} is mapped to {other} and {key}"))
        else:
            renames[value.strip()] = key
    options = replace(base, renames=renames, **extra, **_format_options(raw, where, issues))
    if options.thousands and options.thousands == options.decimal:
        issues.append(FileIssue(MAPPING_FILE, f"{where} thousands and decimal are both {options.decimal!r}"))
    return options


def parse_mapping(raw: Mapping[str, Any], folder: str | Path = MAPPING_FILE) -> FolderMapping:
    """Check a mapping (the parsed ``mapping.toml`` or a dict of the same shape); raise with every issue."""
    issues: list[FileIssue] = []
    known = (GLOBAL_SECTION, *ENTITY_MODELS)
    for section, value in raw.items():
        if section not in known:
            issues.append(FileIssue(MAPPING_FILE, f"unknown section [{section}] (sections: {', '.join(known)})"))
        elif not isinstance(value, Mapping):
            issues.append(FileIssue(MAPPING_FILE, f"[{section}] must be a table, got {value!r}"))
    sections = {k: v for k, v in raw.items() if k in known and isinstance(v, Mapping)}
    glob = sections.get(GLOBAL_SECTION, {})
    for key in set(glob) - {*FORMAT_KEYS, "as_of"}:
        issues.append(FileIssue(MAPPING_FILE, f"[{GLOBAL_SECTION}] unknown option {key!r}"))
    base = EntityOptions(**_format_options(glob, f"[{GLOBAL_SECTION}]", issues))
    entities = {e: _entity_options(e, sections.get(e, {}), base, issues) for e in ENTITY_MODELS}
    as_of = None
    if "as_of" in glob:
        try:
            as_of = parse_as_of(glob["as_of"])
        except ValueError:
            issues.append(FileIssue(MAPPING_FILE, f"[{GLOBAL_SECTION}] as_of is not a timestamp: {glob['as_of']!r}"))
    if issues:
        raise FileDataError(folder, issues)
    return FolderMapping(entities, as_of, base)


def load_mapping(folder: Path, mapping: Mapping[str, Any] | None = None) -> FolderMapping:
    """The dict argument if given, else ``mapping.toml`` in the folder, else the documented format."""
    if mapping is None:
        path = folder / MAPPING_FILE
        if not path.is_file():
            return parse_mapping({}, folder)
        try:
            mapping = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise FileDataError(folder, [FileIssue(MAPPING_FILE, f"cannot read: {exc}")]) from exc
    return parse_mapping(mapping, folder)

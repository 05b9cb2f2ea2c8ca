"""Read an ERP export folder (one CSV or xlsx file per entity) into a validated :class:`Snapshot`.

``items`` is required; every other entity is optional and empty when its file is absent. Files that are
not entity exports (``forecast.csv``, notes, ...) are ignored. Every problem in every file is collected
and raised together as one :class:`FileDataError`, each placed by file, row (header = row 1) and column.

The snapshot's ``as_of`` is, in this order: the ``as_of`` argument, ``[snapshot] as_of`` in the mapping,
the timestamp in ``as_of.txt``, else the newest modification time of the entity files read, in the local
time zone. A timestamp without an offset is read in the local time zone. ``source`` is
``files:<folder name>``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectors.notices import DataWarning
from sop_functions import clock
from sop_functions.model import ENTITY_MODELS
from sop_functions.snapshot import COLUMNS, FIELD_RULES, Issue, Snapshot, SnapshotError, build_snapshot

from .errors import FileDataError, FileIssue
from .mapping import MAPPING_FILE, EntityOptions, load_mapping, parse_as_of
from .tables import CSV_SUFFIXES, SHEET_SUFFIXES, read_csv, read_sheet
from .values import cell_text, parse_dates, parse_numbers, shown

AS_OF_FILE = "as_of.txt"
REQUIRED = ("items",)
_ISO_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
_REFERENCE_MESSAGES = {"items": "unknown item", "work_centers": "unknown work center"}


def _locate(present: Mapping[str, Path], entity: str, options: EntityOptions, issues: list[FileIssue]) -> Path | None:
    """The entity's file (names match case-insensitively); ``present`` maps lower-cased names to files."""
    if options.file:
        path = present.get(options.file.lower())
        if path is None:
            issues.append(FileIssue(options.file, f"file not found (named for {entity} in {MAPPING_FILE})"))
        return path
    found = [present[n] for n in (f"{entity}{s}" for s in CSV_SUFFIXES + SHEET_SUFFIXES) if n in present]
    if len(found) > 1:
        issues.append(FileIssue(found[0].name, f"ambiguous: {' and '.join(p.name for p in found)} both exist"))
        return None
    if not found and entity in REQUIRED:
        issues.append(FileIssue(f"{entity}.csv", f"file not found; {entity}.csv or {entity}.xlsx is required"))
    return found[0] if found else None


def _match_headers(
    entity: str, name: str, table: pd.DataFrame, options: EntityOptions, issues: list[FileIssue]
) -> dict[str, str] | None:
    """Canonical field -> header in the file; ``None`` if a required column is missing."""
    fields = COLUMNS[entity]
    headers: dict[str, str] = {}
    for header in map(str, table.columns):
        canonical = options.renames.get(header) or next((f for f in fields if f == header.lower()), None)
        if canonical is None or (canonical in options.renames.values() and header not in options.renames):
            if header not in options.ignore_columns:
                issues.append(FileIssue(name, f"unknown column {header!r} (expected: {', '.join(fields)}; "
                                        f"map it or list it in ignore_columns in {MAPPING_FILE})"))  # fmt: skip
        elif canonical in headers:
            issues.append(FileIssue(name, f"columns {headers[canonical]!r} and {header!r} are both {canonical}"))
        else:
            headers[canonical] = header
    found = ", ".join(map(str, table.columns))
    complete = True
    for rule in FIELD_RULES[entity]:
        if rule.required and rule.name not in headers:
            complete = False
            mapped = next((h for h, f in options.renames.items() if f == rule.name), None)
            what = f"{mapped!r} (mapped to {rule.name}; " if mapped else f"{rule.name!r} ("
            issues.append(FileIssue(name, f"missing column {what}columns found: {found})"))
    return headers if complete else None


def _label(name: str, header: str) -> str:
    """A column as named in messages: its header in the file, with the canonical name if renamed."""
    return header if header == name else f"{header} ({name})"


def _date_hint(value: object, options: EntityOptions) -> str:
    if options.date_format:
        return f" (expected format {options.date_format})"
    if isinstance(value, str) and _ISO_LIKE.match(value.strip()):
        return ""
    return f" (expected YYYY-MM-DD, or set date_format in {MAPPING_FILE})"


_GROUPED = {",": re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?"), ".": re.compile(r"[-+]?\d{1,3}(\.\d{3})+(,\d*)?")}
"""Numbers written with thousands separators (``1,034``, ``12,345.50``; ``1.034,5``)."""


def _number_hint(value: object, options: EntityOptions) -> str:
    if not isinstance(value, str):
        return ""
    text = value.strip()
    separator = "," if options.decimal == "." else "."
    if not options.thousands and _GROUPED[separator].fullmatch(text):
        return f' (for a thousands separator set thousands = "{separator}" in {MAPPING_FILE})'
    if options.decimal == "." and "," in text:
        return f' (for decimal commas set decimal = "," in {MAPPING_FILE})'
    return ""


def _canonical(
    entity: str, name: str, table: pd.DataFrame, options: EntityOptions, typed: bool, issues: list[FileIssue]
) -> tuple[pd.DataFrame, dict[str, str], set[tuple[int, str]]] | None:
    """The table with canonical columns and parsed values, the header of each field, the cells that failed."""
    headers = _match_headers(entity, name, table, options, issues)
    if headers is None:
        return None
    out: dict[str, pd.Series] = {}
    failed: set[tuple[int, str]] = set()
    for rule in FIELD_RULES[entity]:
        if rule.name not in headers:
            continue
        column = table[headers[rule.name]]
        label = _label(rule.name, headers[rule.name])
        if rule.kind == "date":
            values, bad = parse_dates(column, options, typed)
            what, hint = "not a date", _date_hint
        elif rule.kind in ("float", "int"):
            values, bad = parse_numbers(column, options, typed)
            what, hint = "not a number", _number_hint
        else:
            out[rule.name] = column.map(cell_text) if typed else column
            continue
        for row, value in column[bad.to_numpy()].items():
            issues.append(FileIssue(name, f"{what}: {shown(value)}{hint(value, options)}", int(row), label))  # type: ignore[call-overload]
            failed.add((int(row), rule.name))  # type: ignore[call-overload]
        out[rule.name] = values
    return pd.DataFrame(out, index=table.index, copy=False), headers, failed  # columns of this read's own


def _as_of(root: Path, paths: list[Path], issues: list[FileIssue]) -> dt.datetime:
    stamp_file = root / AS_OF_FILE
    if stamp_file.is_file():
        try:
            text = stamp_file.read_text(encoding="utf-8-sig").strip()
            return parse_as_of(text)
        except (OSError, UnicodeDecodeError):
            issues.append(FileIssue(AS_OF_FILE, "cannot read the file"))
        except ValueError:
            issues.append(FileIssue(AS_OF_FILE, f"not a timestamp: {text!r} (expected e.g. 2026-11-25T08:00:00+01:00)"))
    newest = max((p.stat().st_mtime for p in paths), default=clock.now().timestamp())
    return dt.datetime.fromtimestamp(newest).astimezone()


def _translate(issue: Issue, files: Mapping[str, str], headers: Mapping[str, Mapping[str, str]]) -> FileIssue:
    label = _label(issue.field, headers.get(issue.entity, {}).get(issue.field, issue.field))
    row = int(issue.row) if isinstance(issue.row, int | np.integer) else None
    return FileIssue(files.get(issue.entity, f"{issue.entity}.csv"), issue.message, row, label)


def _empty(path: Path) -> bool:
    """A file with nothing in it (0 bytes, or only a byte-order mark and white space)."""
    size = path.stat().st_size
    return size == 0 or (size < 64 and not path.read_bytes().removeprefix(b"\xef\xbb\xbf").strip())


def _duplicate_stock(frame: pd.DataFrame, name: str) -> list[DataWarning]:
    """Stock rows of one item and warehouse: the plan sums them; the import summary says so."""
    keys = ["sku", "warehouse"]
    twice = frame[frame.duplicated(keys, keep=False)]
    out = []
    for (sku, warehouse), rows in twice.groupby(keys, sort=False, observed=True):
        qty = " + ".join(f"{q:g}" for q in rows["qty"])
        out.append(
            DataWarning(
                "stock",
                name,
                f"rows {', '.join(map(str, rows.index))}",
                f"item {sku} at warehouse {warehouse} appears {len(rows)} times: quantities summed "
                f"({qty} = {rows['qty'].sum():g})",
            )
        )
    return out


def read_export_folder(
    folder: str | Path,
    mapping: Mapping[str, Any] | None = None,
    as_of: dt.datetime | None = None,
    *,
    warnings: list[DataWarning] | None = None,
) -> Snapshot:
    """Read every entity file of an export folder into a snapshot, or raise :class:`FileDataError`.

    ``mapping`` replaces the folder's ``mapping.toml`` (same shape, see :mod:`connectors.files.mapping`).
    What is read but worth a word (an empty optional file read as no rows, stock rows of one item and
    warehouse summed) is appended to ``warnings``: the import summary the CLI prints.
    """
    notes: list[DataWarning] = []
    root = Path(folder).resolve()
    if not root.is_dir():
        raise FileDataError(root, [FileIssue(str(root), "not a folder")])
    config = load_mapping(root, mapping)
    issues: list[FileIssue] = []
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    headers: dict[str, dict[str, str]] = {}
    failed: set[tuple[str, int, str]] = set()
    broken: set[str] = set()
    read: list[Path] = []
    present = {p.name.lower(): p for p in root.iterdir() if p.is_file()}
    for entity in ENTITY_MODELS:
        options = config.options(entity)
        known = len(issues)
        path = _locate(present, entity, options, issues)
        if path is None:
            broken.update([entity] if len(issues) > known else [])  # reported: no "unknown item" noise
            continue
        files[entity] = path.name
        read.append(path)
        typed = path.suffix.lower() in SHEET_SUFFIXES
        if entity not in REQUIRED and _empty(path):
            table: pd.DataFrame | None = pd.DataFrame({f: pd.Series([], dtype=object) for f in COLUMNS[entity]})
            typed = False
            notes.append(DataWarning(entity, path.name, "(whole file)", f"empty file: read as no {entity} rows"))
        elif typed:
            table = read_sheet(path, entity, options, issues)
        else:
            table = read_csv(path, options, issues)
        result = None if table is None else _canonical(entity, path.name, table, options, typed, issues)
        if result is None:
            broken.add(entity)
            continue
        frames[entity], headers[entity], cells = result
        failed.update((entity, row, name) for row, name in cells)
        if entity in REQUIRED and frames[entity].empty:
            issues.append(FileIssue(path.name, f"no data rows; the {entity} file is required"))
    stamp = parse_as_of(as_of) if as_of is not None else config.as_of or _as_of(root, read, issues)
    try:
        snapshot = build_snapshot(f"files:{root.name}", stamp, frames)
    except SnapshotError as exc:
        skip = tuple(_REFERENCE_MESSAGES[e] for e in broken if e in _REFERENCE_MESSAGES)
        issues += [
            _translate(i, files, headers)
            for i in exc.issues
            if (i.entity, i.row, i.field) not in failed and not (skip and i.message.startswith(skip))
        ]
    if issues:
        rank = {name: n for n, name in enumerate(files.values())}
        place = {
            (files[e], _label(f, hs[f])): n for e, hs in headers.items() for n, f in enumerate(COLUMNS[e]) if f in hs
        }
        issues.sort(key=lambda i: (rank.get(i.file, -1), i.row or 0, place.get((i.file, i.column or ""), -1)))
        raise FileDataError(root, issues)
    if "stock" in frames:
        notes += _duplicate_stock(frames["stock"], files["stock"])
    if warnings is not None:
        warnings.extend(notes)
    return snapshot

"""Headless refresh of the tables sopxl owns in a workbook file, leaving every other byte alone.

Owned tables are located by **table name** across all sheets (so a user may rename or reorder sheets).
Only their worksheets' ``<sheetData>``/``<dimension>``, their table parts, ``workbook.xml``'s
``fullCalcOnLoad``, pivot caches fed by owned tables (``refreshOnLoad``) and the calculation chain (removed)
change.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd

from workbooks.layout import TableSpec, table_spec

from .errors import LayoutError, WorkbookError
from .journal import Pending
from .parts import Package, TablePart
from .rebuild import Plan, verify_package, write_package
from .refs import make_range, parse_cell, parse_range
from .safe_save import checkpoint
from .sheetdata import ROW_MARK, SheetRewriter, TableFill
from .tables import append_columns_xml, update_table_xml
from .txn import safe_write, writing
from .wbedit import decode, ensure_full_calc_on_load, remove_elements, set_attribute
from .xmlsafe import hardened_expat, local, parse_xml, stream_parse
from .zipio import DEFAULT_LIMITS, ZipLimits, iter_part

_CHUNK_ROWS = 4096
_READ = 1 << 18


@dataclass(frozen=True)
class RefreshReport:
    path: Path
    rows: dict[str, int]
    """Data rows written per owned table."""
    changed_parts: tuple[str, ...]
    removed_parts: tuple[str, ...]
    backup: Path | None
    seconds: float


def frame_rows(frame: pd.DataFrame, fields: Sequence[str]) -> Iterator[tuple[object, ...]]:
    """Rows of ``frame``'s ``fields`` as Python values, converted a chunk at a time (bounded memory)."""
    for start in range(0, len(frame), _CHUNK_ROWS):
        chunk = frame.iloc[start : start + _CHUNK_ROWS]
        yield from zip(*(chunk[f].tolist() for f in fields), strict=True)


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@dataclass
class _Queued:
    spec: TableSpec
    frame: pd.DataFrame | None = None
    stamp: str | None = None
    grow: tuple[str, ...] = ()
    """New last columns of a user table (their header cells; the body cells stay empty)."""


@dataclass
class FileTableWriter:
    """Owned-table writer for a workbook file on disk (see :class:`~workbooks.xlsx.writer.OwnedTableWriter`)."""

    path: Path
    backups: int = 5
    limits: ZipLimits = DEFAULT_LIMITS
    command: str = "refresh"
    """The command writing, for the lock's holder and its messages (``refresh``, ``collect``)."""
    _queue: dict[str, _Queued] = field(default_factory=dict)

    def write_table(self, spec: TableSpec, frame: pd.DataFrame, *, user_action: bool = False) -> None:
        """Queue ``frame`` as the table's new rows.

        User-owned tables (the Forecast grid) are refused unless ``user_action`` says the user asked for
        exactly this write (``sop collect``); a refresh never passes it.
        """
        if spec.owner != "sopxl" and not user_action:
            raise ValueError(f"{spec.name} is user-owned: sopxl never writes it")
        missing = [c.field for c in spec.columns if c.field not in frame.columns]
        if missing:
            raise ValueError(f"frame for {spec.name} lacks columns {missing}")
        self._queue.setdefault(spec.name, _Queued(spec)).frame = frame

    def grow_table(self, spec: TableSpec, headers: tuple[str, ...]) -> None:
        """Queue new last columns for the user table ``spec`` (e.g. the Forecast grid's new horizon month).

        The one write sopxl makes into a user-owned table without being asked: cells it *adds*, never ones
        it overwrites. The header cells get ``headers``, the body cells stay empty (styled like the column
        before them); the commit is refused if any of those cells holds data.
        """
        if not headers:
            raise ValueError("give the new columns' headers")
        self._queue.setdefault(spec.name, _Queued(spec)).grow = tuple(headers)

    def write_stamp(self, spec: TableSpec, text: str) -> None:
        if spec.stamp_cell is None:
            raise ValueError(f"{spec.name} has no stamp cell")
        self._queue.setdefault(spec.name, _Queued(spec)).stamp = text

    def commit(self, pending: Sequence[Pending] = ()) -> RefreshReport:
        """Apply the queue (all or nothing), with ``pending`` store records journaled around the replace.

        Joins the caller's :func:`~workbooks.xlsx.txn.writing` of this path; without one, the lock is
        taken before the workbook is read here.
        """
        started = time.monotonic()
        path = Path(self.path)
        checkpoint("planned")  # the command has read the workbook and computed what to write
        with writing(path, self.command), Package(path, self.limits) as pkg:
            plan, stats, expected = self._plan(pkg)

            def verify(tmp: Path) -> None:
                # the rewritten sheets are read to their end by the row count: their CRC is checked there
                verify_package(pkg, plan, tmp, lambda z: _check_sheets(z, stats, expected), frozenset(stats))

            backup = safe_write(
                path, lambda fh: write_package(pkg, plan, fh), verify, backups=self.backups, pending=pending
            )
        rows = {name: q.frame.shape[0] for name, q in self._queue.items() if q.frame is not None}
        changed = tuple(sorted(plan.changed))
        return RefreshReport(path, rows, changed, tuple(sorted(plan.remove)), backup, time.monotonic() - started)

    # -- planning -----------------------------------------------------------------------------------
    def _locate(self, pkg: Package) -> dict[str, TablePart]:
        found: dict[str, TablePart] = {}
        problems = []
        for name, q in self._queue.items():
            part = pkg.table(name)
            spec = q.spec
            if part is None:
                problems.append(
                    f"table {name} (normally on sheet {spec.sheet!r}) is missing: it was deleted or renamed. "
                    f"Rename it back to {name} (Table Design > Table Name) or run `sop attach` to re-create it."
                )
            elif part.columns != spec.headers and not renamable(spec, part.columns):
                problems.append(
                    f"table {name} on sheet {part.sheet.name!r} has headers {list(part.columns)}, expected "
                    f"{list(spec.headers)}: restore the header names (sopxl-owned tables must keep them)."
                )
            elif part.header_rows != 1 or part.totals_rows:
                problems.append(
                    f"table {name} on sheet {part.sheet.name!r} must have one header row and no total row "
                    "(Table Design > Header Row on, Total Row off)."
                )
            else:
                found[name] = part
        if problems:
            raise LayoutError(
                f"{pkg.path.name}: the sopxl layout was not found; nothing was written.\n- " + "\n- ".join(problems)
            )
        return found

    def _plan(self, pkg: Package) -> tuple[Plan, dict[str, SheetRewriter], dict[str, str]]:
        found = self._locate(pkg)
        plan = Plan()
        rewriters: dict[str, SheetRewriter] = {}
        expected_refs: dict[str, str] = {}
        by_sheet: dict[str, list[str]] = {}
        for name, part in found.items():
            by_sheet.setdefault(part.sheet.part, []).append(name)
        for sheet_part, names in by_sheet.items():
            fills: list[TableFill] = []
            stamps: dict[tuple[int, int], str] = {}
            headers: dict[tuple[int, int], str] = {}
            renamed: dict[str, tuple[str, ...]] = {}
            added: dict[tuple[int, int], tuple[str | None, int]] = {}
            grown: dict[str, str] = {}
            for name in names:
                q, part = self._queue[name], found[name]
                r1, c1, r2, _c2 = parse_range(part.ref)
                if q.grow:
                    grown[name] = _grow(added, r1, c1, r2, _c2, q.grow)
                if q.frame is not None:
                    fields = [c.field for c in q.spec.columns]
                    fills.append(TableFill(name, r1, c1, len(fields), r2, len(q.frame), frame_rows(q.frame, fields)))
                if q.stamp is not None and q.spec.stamp_cell:
                    stamps[parse_cell(q.spec.stamp_cell)] = q.stamp
                if part.columns != q.spec.headers:  # month headers that follow the horizon (checked in _locate)
                    renamed[name] = q.spec.headers
                    for j, (old, new) in enumerate(zip(part.columns, q.spec.headers, strict=True)):
                        if old != new:
                            headers[(r1, c1 + j)] = new
            self._check_room(pkg, sheet_part, fills, stamps, grown)
            stamps |= headers  # header cells are rewritten like stamps (text, the cell's own style kept)
            member = pkg.member(sheet_part) or sheet_part
            rewriter = SheetRewriter(member, fills, stamps, pkg.date1904, added=added)
            rewriters[member] = rewriter
            plan.stream[member] = _sheet_writer(pkg, member, rewriter)
            if pkg.zf.getinfo(member).file_size + sum(f.nrows * f.ncols * 64 for f in fills) > 1 << 30:
                plan.large.add(member)
            for f in fills:
                table_member = pkg.member(found[f.name].part) or found[f.name].part
                plan.replace[table_member] = update_table_xml(pkg.read(table_member), f.ref, renamed.get(f.name))
                expected_refs[table_member] = f.ref
            for name, ref in grown.items():
                table_member = pkg.member(found[name].part) or found[name].part
                plan.replace[table_member] = append_columns_xml(pkg.read(table_member), ref, self._queue[name].grow)
                expected_refs[table_member] = ref
        self._plan_workbook(pkg, plan, {found[n].sheet.name for n in found}, set(found))
        return plan, rewriters, expected_refs

    def _check_room(
        self,
        pkg: Package,
        sheet_part: str,
        fills: list[TableFill],
        stamps: dict[tuple[int, int], str],
        grown: dict[str, str] | None = None,
    ) -> None:
        """Refuse growth into another table, and stamps inside a table, before anything is written."""
        areas = {f.name: parse_range(f.ref) for f in fills} | {n: parse_range(r) for n, r in (grown or {}).items()}
        for t in pkg.tables:
            if t.sheet.part == sheet_part and t.name not in areas:
                areas[t.name] = parse_range(t.ref)
        names = sorted(areas)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if _overlaps(areas[a], areas[b]):
                    raise LayoutError(
                        f"{a} would overlap {b} after the refresh; move {b} away from {a} and refresh again. "
                        "Nothing was written."
                    )
        for (r, c), _text in stamps.items():
            for name, area in areas.items():
                if _overlaps((r, c, r, c), area):
                    raise LayoutError(f"the as-of stamp cell is inside table {name}; move the table down.")

    def _plan_workbook(self, pkg: Package, plan: Plan, owned_sheets: set[str], owned: set[str]) -> None:
        wb_member = pkg.member(pkg.workbook_part) or pkg.workbook_part
        text = decode(wb_member, pkg.read(wb_member))
        new_text = ensure_full_calc_on_load(text)
        if new_text != text:
            plan.replace[wb_member] = new_text.encode("utf-8")
        chain = pkg.calc_chain
        if chain:
            plan.remove.add(pkg.member(chain) or chain)
            rels = pkg.member(pkg.workbook_rels_part) or pkg.workbook_rels_part
            rels_text = decode(rels, pkg.read(rels))
            rels_text = remove_elements(rels_text, "Relationship", lambda a: a.get("Type", "").endswith("/calcChain"))
            plan.replace[rels] = rels_text.encode("utf-8")
            ct = pkg.member("[Content_Types].xml") or "[Content_Types].xml"
            ct_text = decode(ct, pkg.read(ct))
            ct_text = remove_elements(
                ct_text, "Override", lambda a: a.get("PartName", "").lstrip("/").lower() == chain.lower()
            )
            plan.replace[ct] = ct_text.encode("utf-8")
        owned_lower = {n.lower() for n in owned}
        sheets_lower = {s.lower() for s in owned_sheets}
        for cache in pkg.parts_of_kind("pivotCacheDefinition"):
            member = pkg.member(cache)
            if member is None:
                continue
            data = pkg.read(member)
            root = parse_xml(member, data)
            if root.get("refreshOnLoad") in ("1", "true"):
                continue
            for el in root.iter():
                if local(el.tag) == "worksheetSource" and (
                    el.get("name", "").lower() in owned_lower or el.get("sheet", "").lower() in sheets_lower
                ):
                    text = decode(member, data)
                    plan.replace[member] = set_attribute(text, "pivotCacheDefinition", "refreshOnLoad", "1").encode()
                    break


def _grow(
    added: dict[tuple[int, int], tuple[str | None, int]], r1: int, c1: int, r2: int, c2: int, headers: tuple[str, ...]
) -> str:
    """Queue a table's new last columns in ``added`` (headers in its header row, empty body cells styled
    like the last column's) and return the table's new range."""
    for k, header in enumerate(headers, start=1):
        added[(r1, c2 + k)] = (header, c2)
        for r in range(r1 + 1, r2 + 1):
            added[(r, c2 + k)] = (None, c2)
    return make_range(r1, c1, r2, c2 + len(headers))


def renamable(spec: TableSpec, found: tuple[str, ...]) -> bool:
    """A table whose month headers follow the horizon: same width and key columns, other month labels."""
    keys = len(spec.columns) - sum(1 for c in spec.columns if c.header == c.field)
    return spec.month_headers and len(found) == len(spec.headers) and found[:keys] == spec.headers[:keys]


def _sheet_writer(pkg: Package, member: str, rewriter: SheetRewriter) -> Callable[[IO[bytes]], None]:
    def write(out: IO[bytes]) -> None:
        rewriter.run(iter_part(pkg.zf, member, _READ), out)
        checkpoint("sheet-written")

    return write


def _check_sheets(new: zipfile.ZipFile, rewriters: dict[str, SheetRewriter], refs: dict[str, str]) -> None:
    """Owned parts parse and hold exactly the rows written; table parts carry the new ranges."""
    for part, rewriter in rewriters.items():
        for name, f_rows in rewriter.table_rows.items():
            fill = next(f for f in rewriter.fills if f.name == name)
            if f_rows != fill.nrows:
                raise WorkbookError(f"verification failed: {name} got {f_rows} rows, expected {fill.nrows}.")
        counted = _count_rows(new, part)
        if counted != rewriter.row_marks:
            raise WorkbookError(f"verification failed: {part} has {counted} rows, expected {rewriter.stats.rows}.")
    for part, ref in refs.items():
        if parse_xml(part, new.read(part)).get("ref") != ref:
            raise WorkbookError(f"verification failed: {part} does not carry the range {ref}.")


def _count_rows(new: zipfile.ZipFile, part: str, chunk_size: int = _READ) -> int:
    """Parse ``part`` (hardened expat, no Python per element) and count its row start tags on the way."""
    count = 0
    keep = len(b"<row")

    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal count
        carry = b""
        for chunk in chunks:
            data = carry + chunk  # a tag split between chunks is counted once, in the second
            count += len(ROW_MARK.findall(data))
            carry = data[-keep:]
            yield chunk

    stream_parse(part, counted(iter_part(new, part, chunk_size)), hardened_expat(part))
    return count


def refresh_file(
    path: str | Path,
    tables: Mapping[str, pd.DataFrame],
    stamp_text: str,
    *,
    backups: int = 5,
    grow: Mapping[TableSpec, tuple[str, ...]] | None = None,
    pending: Sequence[Pending] = (),
) -> RefreshReport:
    """Write each owned table present in ``tables`` (keyed by table name) and the stamps, all or nothing.

    Core tables and the supply-planning ones (layout 2) alike; user-owned input tables are refused, except
    for the new last columns ``grow`` gives them (the Forecast grid's new month: added, never overwritten).
    ``pending``: stores beside the workbook that change with it (journaled, see :meth:`FileTableWriter.commit`).
    """
    specs = [table_spec(name, frame) for name, frame in tables.items()]  # KeyError for what sopxl does not own
    writer = FileTableWriter(Path(path), backups=backups)
    for spec in specs:
        writer.write_table(spec, tables[spec.name])
        if spec.stamp_cell:
            writer.write_stamp(spec, stamp_text)
    for user_spec, headers in (grow or {}).items():
        writer.grow_table(user_spec, headers)
    return writer.commit(pending)

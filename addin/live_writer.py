"""The live-Excel backend of the owned-table writer: refresh sopxl's tables in an open workbook via xlwings.

Same interface as the file part-patcher (:class:`workbooks.xlsx.writer.OwnedTableWriter`): queue tables
and stamps, then ``commit`` writes them all. Rules:

- only tables the layout marks ``owner="sopxl"`` are written, located by **table name** on any sheet;
  user-owned ranges (the Forecast grid) are never touched, and nothing is written at all when a table
  is missing, has other headers, or would grow into another table;
- each table's rows go in one range write (never cell by cell), with screen updating, events and
  automatic calculation off during the writes and restored afterwards, even when a write fails;
- the table (ListObject) is resized through xlwings (``ListObject.Resize`` on Windows); rows left over
  from a longer previous refresh are cleared;
- text is written with Excel's text prefix (``'``), so ``2026-11`` stays the text bucket label instead
  of becoming a date and ``=cmd|...`` from an ERP field never becomes a formula.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xlwings as xw

from workbooks.layout import ColumnKind, TableSpec
from workbooks.xlsx.errors import LayoutError
from workbooks.xlsx.patch import renamable

MAX_TEXT = 32_767


@dataclass(frozen=True)
class LiveReport:
    book: str
    rows: dict[str, int]
    ranges: dict[str, str]
    """Table name -> its new address (``Plan!A4:J137``)."""


def _swap(app: xw.App, name: str, value: Any) -> tuple[str, Any] | None:
    """Set an application setting, returning (name, previous); None where the engine lacks it."""
    try:
        previous = getattr(app, name)
        setattr(app, name, value)
    except (AttributeError, NotImplementedError):
        return None
    return name, previous


@contextmanager
def excel_quiet(app: xw.App) -> Iterator[None]:
    """Screen updating and events off, manual calculation, for the block; the user's settings come back.

    Settings an engine does not have (xlwings Server has no ``enable_events``) are skipped.
    """
    saved = [_swap(app, "screen_updating", False), _swap(app, "enable_events", False)]
    saved.append(_swap(app, "calculation", "manual"))
    try:
        yield
    finally:
        for entry in reversed(saved):
            if entry is not None:
                setattr(app, entry[0], entry[1])


def cell_value(value: Any, kind: ColumnKind) -> Any:
    """One frame value as Excel should get it: blanks for NaN/inf, text never taken for a formula."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if kind == "text":
        return "'" + str(value).replace("\x00", "")[:MAX_TEXT]
    if kind == "flag":
        return bool(value)
    if kind == "datetime":
        return pd.Timestamp(value).to_pydatetime().replace(tzinfo=None)
    if isinstance(value, str):
        return "'" + value
    number = float(value)
    return number if math.isfinite(number) else None


def frame_cells(spec: TableSpec, frame: pd.DataFrame) -> list[list[Any]]:
    """The frame's layout columns as rows of Excel values (column by column, then zipped)."""
    columns = [[cell_value(v, c.kind) for v in frame[c.field].tolist()] for c in spec.columns]
    return [list(row) for row in zip(*columns, strict=True)]


@dataclass
class _Target:
    spec: TableSpec
    sheet: xw.Sheet
    table: xw.main.Table
    top: int
    left: int
    old_bottom: int
    frame: pd.DataFrame | None = None
    stamp: str | None = None
    rename: bool = False
    """Month headers that follow the horizon get the spec's labels (tblSOP)."""

    @property
    def right(self) -> int:
        return self.left + len(self.spec.columns) - 1

    @property
    def new_bottom(self) -> int:
        rows = self.old_bottom - self.top if self.frame is None else len(self.frame)
        return self.top + max(rows, 1)  # an Excel table keeps at least one (blank) data row


@dataclass
class LiveTableWriter:
    """Owned-table writer for a workbook open in Excel (see the module doc)."""

    book: xw.Book
    _frames: dict[str, tuple[TableSpec, pd.DataFrame]] = field(default_factory=dict)
    _stamps: dict[str, tuple[TableSpec, str]] = field(default_factory=dict)

    def write_table(self, spec: TableSpec, frame: pd.DataFrame, *, user_action: bool = False) -> None:
        """Queue ``frame`` for the table; user-owned tables only on an explicit user action (Collect)."""
        if spec.owner != "sopxl" and not user_action:
            raise ValueError(f"{spec.name} is user-owned: sopxl never writes it")
        missing = [c.field for c in spec.columns if c.field not in frame.columns]
        if missing:
            raise ValueError(f"frame for {spec.name} lacks columns {missing}")
        self._frames[spec.name] = (spec, frame)

    def write_stamp(self, spec: TableSpec, text: str) -> None:
        if spec.stamp_cell is None:
            raise ValueError(f"{spec.name} has no stamp cell")
        if spec.owner != "sopxl":
            raise ValueError(f"{spec.name} is user-owned: sopxl never writes it")
        self._stamps[spec.name] = (spec, text)

    def commit(self) -> LiveReport:
        targets = self._locate()
        self._check_room(targets)
        with excel_quiet(self.book.app):
            for target in targets.values():
                self._write(target)
        return LiveReport(
            self.book.fullname,
            {n: len(t.frame) for n, t in targets.items() if t.frame is not None},
            {n: f"{t.sheet.name}!{t.table.range.address.replace('$', '')}" for n, t in targets.items()},
        )

    # -- planning (reads only) ------------------------------------------------------------------------
    def _locate(self) -> dict[str, _Target]:
        tables: dict[str, tuple[xw.Sheet, xw.main.Table]] = {}
        for sheet in self.book.sheets:
            for table in sheet.tables:
                tables[table.name.lower()] = (sheet, table)
        names = list(dict.fromkeys([*self._frames, *self._stamps]))
        problems: list[str] = []
        targets: dict[str, _Target] = {}
        for name in names:
            spec = (self._frames.get(name) or self._stamps[name])[0]
            found = tables.get(name.lower())
            if found is None:
                problems.append(
                    f"table {name} (normally on sheet {spec.sheet!r}) is missing: it was deleted or renamed. "
                    f"Rename it back to {name} (Table Design > Table Name)."
                )
                continue
            sheet, table = found
            header = table.header_row_range
            headers = [str(h) for h in (header.value if header is not None else [])]
            if headers != list(spec.headers) and not renamable(spec, tuple(headers)):
                problems.append(
                    f"table {name} on sheet {sheet.name!r} has headers {headers}, expected {list(spec.headers)}"
                )
                continue
            whole = table.range
            targets[name] = _Target(
                spec,
                sheet,
                table,
                whole.row,
                whole.column,
                whole.row + whole.shape[0] - 1,
                self._frames[name][1] if name in self._frames else None,
                self._stamps[name][1] if name in self._stamps else None,
                headers != list(spec.headers),
            )
        if problems:
            raise LayoutError(
                f"{self.book.name}: the sopxl layout was not found; nothing was written.\n- " + "\n- ".join(problems)
            )
        return targets

    def _check_room(self, targets: dict[str, _Target]) -> None:
        """Refuse, before any write, a table growing into another table or a stamp inside a table."""
        for target in targets.values():
            grown = (target.top, target.left, target.new_bottom, target.right)
            for table in target.sheet.tables:
                if table.name.lower() == target.spec.name.lower():
                    continue
                rng = table.range
                other = (rng.row, rng.column, rng.row + rng.shape[0] - 1, rng.column + rng.shape[1] - 1)
                if _overlaps(grown, other):
                    raise LayoutError(
                        f"{target.spec.name} would overlap {table.name} after the refresh; move {table.name} away "
                        "and refresh again. Nothing was written."
                    )
                if target.stamp is not None and target.spec.stamp_cell:
                    cell = target.sheet.range(target.spec.stamp_cell)
                    if _overlaps((cell.row, cell.column, cell.row, cell.column), other):
                        raise LayoutError(f"the as-of stamp cell is inside table {table.name}; move the table down.")

    # -- writing ------------------------------------------------------------------------------------
    def _write(self, t: _Target) -> None:
        sheet = t.sheet
        if t.rename:
            sheet.range((t.top, t.left)).value = [[cell_value(h, "text") for h in t.spec.headers]]
        if t.frame is not None:
            rows = frame_cells(t.spec, t.frame)
            if rows:
                sheet.range((t.top + 1, t.left)).value = rows
            else:
                sheet.range((t.top + 1, t.left), (t.top + 1, t.right)).clear_contents()
            if t.old_bottom > t.new_bottom:
                sheet.range((t.new_bottom + 1, t.left), (t.old_bottom, t.right)).clear_contents()
            # an engine without ListObject.Resize: the rows are written all the same
            with contextlib.suppress(AttributeError, NotImplementedError):
                t.table.resize(sheet.range((t.top, t.left), (t.new_bottom, t.right)))
        if t.stamp is not None and t.spec.stamp_cell:
            sheet.range(t.spec.stamp_cell).value = cell_value(t.stamp, "text")


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]

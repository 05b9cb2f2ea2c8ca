"""Read an S&OP workbook back with python-calamine: the user's Forecast grid, owned tables, layout checks.

Calamine reads the cached cell values straight from the file (fast, no Excel, no openpyxl round trip).
Nothing a planner typed is dropped silently: every bad Forecast cell is reported with its sheet!cell,
family, month and the rule it breaks, all at once so one fix-and-retry round is enough.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError, CalamineTable, CalamineWorkbook, TableNotFound

from .cells import Cell
from .cells import cell_ref as _ref
from .cells import cell_text as _text
from .cells import is_blank as _blank
from .layout import (
    FORECAST_KEY,
    FORECAST_RULE,
    FORECAST_SHEET,
    FORECAST_TABLE,
    NO_DEMAND,
    OWNED_TABLES,
    TableSpec,
    is_month_bucket,
)
from .xlsx import errors as xlsx_errors
from .xlsx import gate
from .xlsx.formulas import suspect_cells
from .xlsx.parts import Package, TablePart
from .xlsx.zipio import iter_part


class LayoutError(xlsx_errors.LayoutError):
    """The workbook no longer matches the layout contract (a table deleted, headers changed...).

    The same exception type as the refresh's, so callers catch one; this one lists every problem.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the workbook does not match the sopxl layout:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class ForecastIssue:
    """One bad Forecast entry: where it is (``Forecast!D7``), whose and which month, what is wrong."""

    cell: str
    family: str | None
    month: str | None
    message: str

    def __str__(self) -> str:
        about = [f"family {self.family!r}"] if self.family else []
        about += [f"month {self.month}"] if self.month else []
        where = f"{FORECAST_SHEET}!{self.cell}" + (f" ({', '.join(about)})" if about else "")
        return f"{where}: {self.message}"


class ForecastError(ValueError):
    """Every bad entry of the Forecast grid, so the planner fixes them all in one go."""

    def __init__(self, path: Path, issues: Sequence[ForecastIssue]) -> None:
        self.issues = list(issues)
        shown = "\n".join(f"  - {issue}" for issue in self.issues[:50])
        more = f"\n  ... and {len(self.issues) - 50} more" if len(self.issues) > 50 else ""
        super().__init__(
            f"{len(self.issues)} invalid entr{'y' if len(self.issues) == 1 else 'ies'} "
            f"in the Forecast grid of {path.name}:\n{shown}{more}"
        )


def read_forecast(path: str | os.PathLike[str], *, blank: float = 0.0) -> pd.DataFrame:
    """The Forecast grid as a long frame (``family``, ``bucket``, ``qty``); blank cells are qty ``blank``
    (0 for planning; NaN where a blank must stay blank, e.g. when ``sop collect`` writes the grid back)."""
    return read_forecast_grid(path, blank=blank).frame


ROOM_COLUMNS = 12
"""How far right of tblForecast :attr:`ForecastGrid.room` looks for empty columns."""


@dataclass(frozen=True)
class ForecastGrid:
    """The Forecast grid as read, with what a planner must hear about it."""

    frame: pd.DataFrame
    """``family, bucket, qty``, one row per family and month column."""
    months: tuple[str, ...]
    """The grid's month columns, in sheet order."""
    notes: tuple[str, ...] = ()
    """Entries the grid does not read (typed below or beside the table), in words a planner can act on."""
    outside_families: tuple[str, ...] = ()
    """Families named in rows typed below the table (not read)."""
    room: int = 0
    """Empty columns right of tblForecast (over its header and data rows, up to :data:`ROOM_COLUMNS`, no
    other table in the way): where a refresh may add the horizon's new months. 0 without the table."""


def read_forecast_grid(path: str | os.PathLike[str], *, blank: float = 0.0) -> ForecastGrid:
    """The Forecast grid (see :func:`read_forecast`), its month columns and notes about entries it leaves out.

    The grid is found by its header row (first cell ``Family``) on the sheet holding the ``tblForecast``
    table (tables are found by name, so a renamed sheet or one that ``sop attach`` had to call
    ``Forecast (sopxl)`` still works), else on the Forecast sheet; bounded by the table when it is still
    there, else by the sheet's used range. Numbers typed below or right of the table are not read (Excel
    does not count them as the table's), and each such block is named in :attr:`ForecastGrid.notes`.
    """
    file = Path(path)
    with open_book(file, [_forecast_sheet(file)]) as book:
        table = _table(book, FORECAST_TABLE)
        sheet = table.sheet if table is not None else FORECAST_SHEET
        if sheet not in book.sheet_names:
            raise LayoutError([_missing_sheet(FORECAST_SHEET, book.sheet_names)])
        rows = _rows(book, file, sheet)
        # only this sheet's tables (calamine expands a table's whole sheet to find it: the others are
        # the refresh's largest sheets, hundreds of MB of XML, and the gate budgeted only this one)
        placed = gate.check(file).table_sheets
        on_sheet = [n for n in book.table_names or [] if placed.get(n.lower()) == sheet]
        others = [t for n in on_sheet if n != FORECAST_TABLE and (t := _table(book, n)) is not None]
    found = _find_header(rows, FORECAST_KEY.header)
    if found is None:
        raise LayoutError([f"sheet {sheet!r} has no header row starting with {FORECAST_KEY.header!r}"])
    header_row, key_col = found
    last_row, last_col = len(rows) - 1, _last_header_col(rows[header_row], key_col)
    on_grid = table is not None and table.start == (header_row + 1, key_col)
    if table is not None and on_grid and table.end:
        last_row, last_col = table.end
    suspects = _suspects(file, sheet, (header_row + 1, key_col + 1, last_row, last_col))
    frame = parse_forecast_grid(
        rows,
        header_row=header_row,
        key_col=key_col,
        last_row=last_row,
        last_col=last_col,
        path=file,
        suspects=suspects,
        blank=blank,
    )
    months = tuple(dict.fromkeys(frame["bucket"]))
    if table is None or not on_grid:
        return ForecastGrid(frame, months)
    blocked = [
        t.start[1]
        for t in others
        if t.sheet == sheet and t.start and t.end and t.start[0] - 1 <= last_row and t.end[0] >= header_row
    ]
    notes, below = _outside_table(rows, header_row, key_col, last_row, last_col, sheet)
    room = _room(rows, header_row, last_row, last_col, min((c for c in blocked if c > last_col), default=None))
    return ForecastGrid(frame, months, notes, below, room)


def _outside_table(
    rows: Sequence[Sequence[Cell]], header_row: int, key_col: int, last_row: int, last_col: int, sheet: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Notes naming the cells typed below and right of tblForecast (not read), and the families below it."""
    notes: list[str] = []
    below = [r for r in range(last_row + 1, len(rows)) if any(not _blank(v) for v in rows[r][key_col:])]
    families = tuple(f for r in below if (f := _text(_at(rows[r], key_col))))
    if below:
        width = max(len(rows[r]) for r in below) - 1
        named = f" ({', '.join(map(repr, families[:5]))}{', ...' if len(families) > 5 else ''})" if families else ""
        notes.append(
            f"{sheet}!{_ref(below[0], key_col)}:{_ref(below[-1], max(width, last_col))}: {len(below)} row(s) typed "
            f"below the {FORECAST_TABLE} table{named} are not read; extend the table over them (drag its "
            "bottom-right corner, or Table Design > Resize Table) and plan again"
        )
    right = [c for c in range(last_col + 1, max(map(len, rows[header_row : last_row + 1]), default=0))]
    typed = [c for c in right if any(not _blank(_at(rows[r], c)) for r in range(header_row, last_row + 1))]
    if typed:
        notes.append(
            f"{sheet}!{_ref(header_row, typed[0])}:{_ref(last_row, typed[-1])}: cells right of the {FORECAST_TABLE} "
            "table are not read as forecast; to add a month, type its YYYY-MM header right next to the table's "
            "last column (Excel then extends the table)"
        )
    return tuple(notes), families


def _room(rows: Sequence[Sequence[Cell]], header_row: int, last_row: int, last_col: int, next_table: int | None) -> int:
    """Empty columns right of the table (header to last row), before any other table on the sheet."""
    room = 0
    for c in range(last_col + 1, last_col + 1 + ROOM_COLUMNS):
        if (next_table is not None and c >= next_table) or any(
            not _blank(_at(rows[r], c)) for r in range(header_row, min(last_row, len(rows) - 1) + 1)
        ):
            break
        room += 1
    return room


@contextlib.contextmanager
def open_book(path: Path, sheets: Iterable[str] | None = None) -> Iterator[CalamineWorkbook]:
    """A calamine workbook for reading ``sheets`` (None: any one), after the hostile-file gate.

    The gate refuses hostile or oversized files before anything is expanded and hands calamine a view
    when the workbook holds sheet kinds it cannot parse; calamine's own errors become one
    :class:`~workbooks.xlsx.errors.WorkbookError` line.
    """
    with gate.readable(path, sheets) as view:
        try:
            book = CalamineWorkbook.from_path(view, load_tables=True)
        except CalamineError as exc:
            raise xlsx_errors.WorkbookError(f"{path.name} cannot be read as a workbook: {exc}") from None
        with book:
            try:
                yield book
            except CalamineError as exc:
                raise xlsx_errors.WorkbookError(f"{path.name} cannot be read as a workbook: {exc}") from None


def sheet_of_table(path: str | os.PathLike[str], table: str) -> str | None:
    """The name of the sheet holding ``table``, read from the package (gated), or None."""
    return gate.table_sheet(gate.check(path), table)


def table_names(path: str | os.PathLike[str]) -> set[str]:
    """Every table name of the workbook (gated; no sheet is expanded)."""
    return set(gate.check(path).table_names)


def _forecast_sheet(path: Path) -> str:
    return sheet_of_table(path, FORECAST_TABLE) or FORECAST_SHEET


def _rows(book: CalamineWorkbook, path: Path, sheet: str) -> Sequence[Sequence[Cell]]:
    try:
        rows: Sequence[Sequence[Cell]] = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise xlsx_errors.WorkbookError(f"{path.name}: sheet {sheet!r} cannot be read: {exc}") from None
    return rows


def _suspects(path: Path, sheet: str, area: tuple[int, int, int, int]) -> dict[tuple[int, int], str]:
    """Cells of ``area`` on ``sheet`` holding errors or uncomputed formulas (calamine shows them blank)."""
    part = gate.check(path).sheets.get(sheet)
    if part is None:
        return {}
    with zipfile.ZipFile(path) as zf:
        found = suspect_cells(part, iter_part(zf, part), area)
    return {(s.row, s.col): s.describe() for s in found}


def parse_forecast_grid(
    rows: Sequence[Sequence[Cell]],
    *,
    header_row: int,
    key_col: int,
    last_row: int,
    last_col: int,
    path: Path,
    origin: tuple[int, int] = (0, 0),
    blank: float = 0.0,
    suspects: Mapping[tuple[int, int], str] | None = None,
) -> pd.DataFrame:
    """The grid's entries as ``family, bucket, qty``, or :class:`ForecastError` with every bad cell.

    ``rows`` is a matrix of cell values (from a file or from live Excel) whose ``[0][0]`` is the 0-based
    sheet cell ``origin``; the other arguments are matrix positions. Both readers share these rules.
    A blank cell's qty is ``blank``.
    ``suspects`` maps matrix positions of error and uncomputed-formula cells (a file reader sees them
    blank) to what is wrong with them: each is reported, never planned as 0.
    """
    flagged = suspects or {}

    def ref(r: int, c: int) -> str:
        return _ref(r + origin[0], c + origin[1])

    issues: list[ForecastIssue] = []
    months = _month_columns(rows[header_row], key_col, last_col, header_row, issues, ref)
    records: list[tuple[str, str, float]] = []
    seen: dict[str, int] = {}
    for r in range(header_row + 1, last_row + 1):
        row = rows[r] if r < len(rows) else []
        cells = {c: _at(row, c) for c in range(key_col, last_col + 1)}
        family = _text(cells[key_col])
        values = {c: v for c, v in cells.items() if c != key_col and not _blank(v)}
        if not family:
            if values:
                issues.append(
                    ForecastIssue(
                        ref(r, key_col),
                        None,
                        None,
                        "forecast numbers in a row without a family; type the family name or clear the row",
                    )
                )
            continue
        if family in seen:
            issues.append(
                ForecastIssue(
                    ref(r, key_col),
                    family,
                    None,
                    f"family appears twice (first in row {seen[family] + origin[0] + 1}); give each family one row",
                )
            )
            continue
        seen[family] = r
        for c, month in months.items():
            if (r, c) in flagged:
                issues.append(ForecastIssue(ref(r, c), family, month, f"{flagged[r, c]}; {FORECAST_RULE}"))
                continue
            qty = (
                blank if _blank(cells[c]) else _quantity(cells[c], ForecastIssue(ref(r, c), family, month, ""), issues)
            )
            records.append((family, month, qty))
    if issues:
        raise ForecastError(path, issues)
    frame = pd.DataFrame(records, columns=["family", "bucket", "qty"])
    return frame.astype({"family": str, "bucket": str, "qty": float})


def _quantity(value: Cell, where: ForecastIssue, issues: list[ForecastIssue]) -> float:
    """A cell's forecast units, or 0 after recording why the cell is not a valid forecast."""
    problem: str | None = None
    if _blank(value):
        return 0.0
    if isinstance(value, bool):
        problem = f"{'TRUE' if value else 'FALSE'} is not a number"
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            problem = f"{value} is not a finite number"
        elif value < 0:
            problem = f"{value:g} is negative"
        else:
            return float(value)
    elif isinstance(value, str):
        problem = f"text {value.strip()!r} is not a number"
    else:
        problem = f"a date/time ({value}) is not a number"
    issues.append(ForecastIssue(where.cell, where.family, where.month, f"{problem}; {FORECAST_RULE}"))
    return 0.0


def _month_columns(
    header: Sequence[Cell],
    key_col: int,
    last_col: int,
    row: int,
    issues: list[ForecastIssue],
    ref: Callable[[int, int], str],
) -> dict[int, str]:
    """Sheet column -> month label; headers that are not months are reported, not skipped."""
    months: dict[int, str] = {}
    for c in range(key_col + 1, last_col + 1):
        raw = _at(header, c)
        month = month_label(raw)
        if month is None:
            issues.append(
                ForecastIssue(
                    ref(row, c),
                    None,
                    None,
                    f"column header {_text(raw)!r} is not a month; month columns must be headed YYYY-MM (e.g. 2026-11)",
                )
            )
        elif month in months.values():
            first = next(k for k, v in months.items() if v == month)
            issues.append(ForecastIssue(ref(row, c), None, month, f"month appears twice (first in {ref(row, first)})"))
        else:
            months[c] = month
    return months


def month_label(value: Cell) -> str | None:
    """``YYYY-MM`` text, or a first-of-month date (Excel turns a typed ``2026-11`` into one)."""
    if isinstance(value, dt.date) and value.day == 1:
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str) and is_month_bucket(value.strip()):
        return value.strip()
    return None


def settings_values(frame: pd.DataFrame) -> dict[str, str]:
    """tblSettings rows (``setting``, ``value``, from a file or live Excel) as a dict of texts."""
    return {
        str(k).strip(): "" if v is None else str(v).strip()
        for k, v in zip(frame["setting"], frame["value"], strict=True)
        if k is not None and str(k).strip()
    }


def read_table(path: str | os.PathLike[str], spec: TableSpec) -> pd.DataFrame:
    """An owned table's rows as a frame with the layout's field names and kind-appropriate dtypes.

    Raises :class:`LayoutError` if the table is gone or its headers changed (it may be on any sheet).
    Fully blank rows (the placeholder row of an empty table) are skipped.
    """
    file = Path(path)
    with open_book(file, [s for s in [sheet_of_table(file, spec.name)] if s]) as book:
        table = _table(book, spec.name)
        problem = _table_problem(spec, _columns(table))
        if problem or table is None:
            raise LayoutError([problem or f"table {spec.name} is missing"])
        data = [row for row in table.to_python() if not all(_blank(v) for v in row)]
    columns: dict[str, pd.Series] = {}
    for j, column in enumerate(spec.columns):
        raw = [row[j] if j < len(row) else "" for row in data]
        if column.kind == "text":
            columns[column.field] = pd.Series([_text(v) for v in raw], dtype=object)
        elif column.kind == "flag":
            columns[column.field] = pd.Series([None if _blank(v) else bool(v) for v in raw], dtype="boolean")
        elif column.kind == "datetime":
            columns[column.field] = pd.to_datetime(pd.Series([None if _blank(v) else v for v in raw]))
        else:
            if column.kind == "months":  # stock, but no demand ahead: cover is infinite
                raw = [math.inf if v == NO_DEMAND else v for v in raw]
            numbers = pd.to_numeric(pd.Series([None if _blank(v) else v for v in raw], dtype=object))
            columns[column.field] = numbers.astype("Int64" if column.kind == "int" else float)
    return pd.DataFrame(columns)


def check_layout(path: str | os.PathLike[str]) -> list[str]:
    """Every way the workbook departs from the layout, in words a planner can act on; [] when fine.

    Owned tables are found by name on whatever sheet holds them: the table names are the contract. Their
    headers are compared from the table parts' column names (a few KB of XML), never from their cells: a
    refresh checks the layout of a workbook whose owned tables hold a million cells in well under a second.
    """
    file = Path(path)
    gate.check(file)  # the hostile-file gate before any part is parsed
    with Package(file) as package:
        tables = {t.name: t for t in package.tables}
        sheets = [s.name for s in package.sheets]
    problems = [p for spec in OWNED_TABLES if (p := _table_problem(spec, _columns(tables.get(spec.name))))]
    forecast = tables.get(FORECAST_TABLE)
    sheet = forecast.sheet.name if forecast is not None else FORECAST_SHEET
    if sheet not in sheets:
        problems.append(_missing_sheet(FORECAST_SHEET, sheets))
    else:
        with open_book(file, [sheet]) as book:
            rows = _rows(book, file, sheet)
        if _find_header(rows, FORECAST_KEY.header) is None:
            problems.append(
                f"the {sheet} sheet has no header row starting with "
                f"{FORECAST_KEY.header!r}: the forecast grid cannot be read"
            )
    return problems


def require_layout(path: str | os.PathLike[str]) -> None:
    """Raise :class:`LayoutError` listing every problem :func:`check_layout` finds."""
    problems = check_layout(path)
    if problems:
        raise LayoutError(problems)


def _columns(table: TablePart | CalamineTable | None) -> list[str] | None:
    return None if table is None else [str(h) for h in table.columns]


def _table_problem(spec: TableSpec, found: list[str] | None) -> str | None:
    expected = list(spec.headers)
    if found is None:
        return (
            f"table {spec.name} (sheet {spec.sheet!r}, headers {', '.join(expected)}) is missing: "
            "it was deleted, renamed or converted to a plain range"
        )
    if found == expected:
        return None
    missing = [h for h in expected if h not in found]
    extra = [h for h in found if h not in expected]
    parts = [f"missing column(s) {', '.join(map(repr, missing))}"] if missing else []
    parts += [f"unexpected column(s) {', '.join(map(repr, extra))}"] if extra else []
    parts = parts or ["columns are in a different order"]
    return f"table {spec.name} on sheet {spec.sheet!r}: {'; '.join(parts)} (expected {', '.join(expected)})"


def _table(book: CalamineWorkbook, name: str) -> CalamineTable | None:
    try:
        return book.get_table_by_name(name)
    except TableNotFound:
        return None


def _missing_sheet(sheet: str, present: Sequence[str]) -> str:
    return f"sheet {sheet!r} is missing (renamed or deleted?); the workbook has {', '.join(map(repr, present))}"


def _find_header(rows: Sequence[Sequence[Cell]], key: str) -> tuple[int, int] | None:
    """(row, column) of the first row whose first non-blank cell is ``key``."""
    for r, row in enumerate(rows):
        first = next((c for c, v in enumerate(row) if not _blank(v)), None)
        if first is not None and _text(row[first]) == key:
            return r, first
    return None


def _last_header_col(header: Sequence[Cell], key_col: int) -> int:
    """Last column of a contiguous header row (a blank header ends the grid when there is no table)."""
    c = key_col
    while c + 1 < len(header) and not _blank(header[c + 1]):
        c += 1
    return c


def _at(row: Sequence[Cell], col: int) -> Cell:
    return row[col] if col < len(row) else ""

"""An in-memory Excel for tests: implements the parts of ``xlwings.base_classes`` sopxl uses.

``xw.Book(impl=MemoryBook(...))`` is a real xlwings ``Book``: ``sheet["A1"].options(pd.DataFrame).value``,
``Book.caller()`` via ``set_mock_caller()``, ``sheet.tables[...]`` and ``xlwings.conversion`` all run
their real (BSD) code against this engine. Cells live in a dict; every write is logged with the
application state at the time, so tests can check *when* and *where* something was written.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xlwings as xw
from xlwings import base_classes as base
from xlwings.utils import address_to_index_tuple, col_name

_pids = itertools.count(4242)
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


@dataclass
class Write:
    sheet: str
    address: str
    screen_updating: bool
    calculation: str


class MemoryEngine:
    """Engine named ``excel`` by default: the UDF path (``conversion.read(None, ...)``) asks for that name."""

    def __init__(self, name: str = "excel") -> None:
        self.name = name
        self.type = "desktop"
        self.apps = MemoryApps(self)

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any) -> Any:
        """What Excel is handed for one Python value (mirrors the Windows engine: NaN/None -> blank)."""
        if isinstance(x, pd.Timestamp):
            return x.to_pydatetime()
        if isinstance(x, np.datetime64):
            return pd.Timestamp(x).to_pydatetime()
        if isinstance(x, dt.date | str | bool):
            return x
        if x is None or (isinstance(x, float | np.floating) and math.isnan(x)) or x is pd.NA or x is pd.NaT:
            return ""
        if isinstance(x, np.bool_):
            return bool(x)
        if isinstance(x, np.number):
            return float(x)
        return x

    @staticmethod
    def clean_value_data(data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any, err_to_str: Any) -> Any:
        """What Python gets back for cell values (mirrors the Windows engine)."""

        def clean(value: Any) -> Any:
            if value in ("", None):
                return empty_as
            if isinstance(value, dt.datetime):
                return datetime_builder(value.year, value.month, value.day, value.hour, value.minute, value.second)
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            return value

        return [[clean(c) for c in row] for row in data]


class MemoryApps(base.Apps):
    def __init__(self, engine: MemoryEngine) -> None:
        self.engine = engine
        self._apps: list[MemoryApp] = []

    def keys(self) -> list[int]:
        return [a.pid for a in self._apps]

    def add(self, spec: Any = None, add_book: Any = None, xl: Any = None, visible: Any = None) -> MemoryApp:
        app = MemoryApp(self.engine)
        self._apps.insert(0, app)
        return app

    def cleanup(self) -> None:
        pass

    def __iter__(self) -> Iterator[MemoryApp]:
        return iter(self._apps)

    def __len__(self) -> int:
        return len(self._apps)

    def __getitem__(self, pid: int) -> MemoryApp:
        return next(a for a in self._apps if a.pid == pid)


class MemoryApp(base.App):
    # plain attributes shadow the base class's abstract properties
    pid: Any = None
    books: Any = None
    screen_updating: Any = None
    display_alerts: Any = None
    enable_events: Any = None
    calculation: Any = None
    status_bar: Any = None
    visible: Any = None
    version: Any = None
    path: Any = None
    startup_path: Any = None

    def __init__(self, engine: MemoryEngine) -> None:
        self.engine = engine
        self.pid = next(_pids)
        self.books = MemoryBooks(self)
        self.screen_updating = True
        self.display_alerts = True
        self.enable_events = True
        self.calculation = "automatic"
        self.status_bar = False
        self.visible = True
        self.alerts: list[tuple[str, str]] = []
        self.calculations: list[str] = []
        self.writes: list[Write] = []
        self.version = "16.0"
        self.path = "/memory"
        self.startup_path = "/memory/XLSTART"

    @property
    def api(self) -> MemoryApp:
        return self

    def CalculateFull(self) -> None:
        self.calculations.append("full")

    def calculate(self) -> None:
        self.calculations.append("calculate")

    def alert(self, prompt: str, title: str, buttons: Any, mode: Any, callback: Any) -> str:
        self.alerts.append((title, prompt))
        return "ok"

    def activate(self, steal_focus: bool = False) -> None:
        pass

    def quit(self) -> None:
        pass

    def kill(self) -> None:
        pass


class MemoryBooks(base.Books):
    def __init__(self, app: MemoryApp) -> None:
        self.app = app
        self._books: list[MemoryBook] = []

    @property
    def api(self) -> MemoryBooks:
        return self

    @property
    def active(self) -> MemoryBook:
        return self._books[-1]

    def __call__(self, name_or_index: int | str) -> MemoryBook:
        if isinstance(name_or_index, int):
            return self._books[name_or_index - 1]
        return next(b for b in self._books if b.name.lower() == name_or_index.lower())

    def __len__(self) -> int:
        return len(self._books)

    def add(self, name: str = "Book1.xlsx") -> MemoryBook:
        book = MemoryBook(self.app, name)
        self._books.append(book)
        return book

    def open(self, fullname: str | None = None, **kwargs: Any) -> MemoryBook:
        return self.add(str(fullname or "Book1.xlsx"))

    def __iter__(self) -> Iterator[MemoryBook]:
        return iter(self._books)


class MemoryBook(base.Book):
    name: Any = None
    sheets: Any = None
    fullname: Any = None

    def __init__(self, app: MemoryApp, fullname: str) -> None:
        self._app = app
        self.fullname = fullname
        self.name = fullname.replace("\\", "/").rsplit("/", 1)[-1]
        self.sheets = MemorySheets(self)
        self.saved = 0

    @property
    def api(self) -> MemoryBook:
        return self

    @property
    def app(self) -> MemoryApp:
        return self._app

    def save(self, path: str | None = None, password: str | None = None) -> None:
        self.saved += 1

    def close(self) -> None:
        self._app.books._books.remove(self)

    def activate(self) -> None:
        pass


class MemorySheets(base.Sheets):
    def __init__(self, book: MemoryBook) -> None:
        self.book = book
        self._sheets: list[MemorySheet] = []

    @property
    def api(self) -> MemorySheets:
        return self

    @property
    def active(self) -> MemorySheet:
        return self._sheets[0]

    def __call__(self, name_or_index: int | str) -> MemorySheet:
        if isinstance(name_or_index, int):
            return self._sheets[name_or_index - 1]
        for sheet in self._sheets:
            if sheet.name.lower() == name_or_index.lower():
                return sheet
        raise KeyError(name_or_index)

    def __len__(self) -> int:
        return len(self._sheets)

    def __iter__(self) -> Iterator[MemorySheet]:
        return iter(self._sheets)

    def add(self, before: Any = None, after: Any = None, name: str | None = None) -> MemorySheet:
        sheet = MemorySheet(self.book, name or f"Sheet{len(self._sheets) + 1}")
        self._sheets.append(sheet)
        return sheet


class MemorySheet(base.Sheet):
    name: Any = None
    tables: Any = None

    def __init__(self, book: MemoryBook, name: str) -> None:
        self._book = book
        self.name = name
        self.cells_: dict[tuple[int, int], Any] = {}
        self.tables = MemoryTables(self)

    @property
    def api(self) -> MemorySheet:
        return self

    @property
    def book(self) -> MemoryBook:
        return self._book

    @property
    def index(self) -> int:
        return self._book.sheets._sheets.index(self) + 1

    def range(self, arg1: Any, arg2: Any = None) -> MemoryRange:
        if isinstance(arg1, MemoryRange):
            r1, c1, r2, c2 = arg1.bounds
            if isinstance(arg2, MemoryRange):
                r2, c2 = arg2.bounds[2], arg2.bounds[3]
            return MemoryRange(self, r1, c1, r2, c2)
        if isinstance(arg1, tuple) and len(arg1) == 4:  # (row, column, rows, columns)
            r1, c1, nrows, ncols = arg1
            return MemoryRange(self, r1, c1, r1 + nrows - 1, c1 + ncols - 1)
        if isinstance(arg1, tuple):
            r1, c1 = arg1
            r2, c2 = arg2 if isinstance(arg2, tuple) else (r1, c1)
            return MemoryRange(self, r1, c1, r2, c2)
        match = _A1.match(str(arg1).upper())
        if match is None:
            raise ValueError(f"unsupported address {arg1!r}")
        r1, c1 = address_to_index_tuple(f"{match[1]}{match[2]}")
        r2, c2 = address_to_index_tuple(f"{match[3]}{match[4]}") if match[3] else (r1, c1)
        return MemoryRange(self, r1, c1, r2, c2)

    @property
    def cells(self) -> MemoryRange:
        return MemoryRange(self, 1, 1, 1_048_576, 16_384)

    def values(self, ref: str) -> list[list[Any]]:
        """Test helper: the values of an A1 range as rows."""
        r1, c1, r2, c2 = self.range(ref).bounds
        return [[self.cells_.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


class MemoryRange(base.Range):
    def __init__(self, sheet: MemorySheet, r1: int, c1: int, r2: int, c2: int) -> None:
        self.sheet = sheet
        self.bounds = (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))
        self.options: dict[str, Any] = {}

    @property
    def api(self) -> MemoryRange:
        return self

    @property
    def coords(self) -> tuple[str, str, int, int, int, int]:
        r1, c1, r2, c2 = self.bounds
        return (self.sheet.book.name, self.sheet.name, r1, c1, r2 - r1 + 1, c2 - c1 + 1)

    @property
    def row(self) -> int:
        return self.bounds[0]

    @property
    def column(self) -> int:
        return self.bounds[1]

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self.bounds
        return (r2 - r1 + 1, c2 - c1 + 1)

    def __len__(self) -> int:
        return self.shape[0] * self.shape[1]

    max_cells_per_read = None
    max_cells_per_write = None

    @property
    def raw_value(self) -> Any:
        r1, c1, r2, c2 = self.bounds
        rows = [[self.sheet.cells_.get((r, c)) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        return rows[0][0] if (r1, c1) == (r2, c2) else rows

    @raw_value.setter
    def raw_value(self, data: Any) -> None:
        r1, c1, r2, c2 = self.bounds
        app = self.sheet.book.app
        app.writes.append(Write(self.sheet.name, self.address, app.screen_updating, app.calculation))
        if not isinstance(data, list | tuple):
            data = [[data] * (c2 - c1 + 1)] * (r2 - r1 + 1)
        elif data and not isinstance(data[0], list | tuple):
            data = [data]
        for i, row in enumerate(data):
            for j, value in enumerate(row):
                self._set(r1 + i, c1 + j, value)

    def _set(self, r: int, c: int, value: Any) -> None:
        if isinstance(value, str) and value.startswith("'"):
            value = value[1:]  # Excel's text prefix: the cell holds the text without it
        elif isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # Excel keeps every number as a double
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if value is None or value == "":
            self.sheet.cells_.pop((r, c), None)
        else:
            self.sheet.cells_[(r, c)] = value

    def clear_contents(self) -> None:
        r1, c1, r2, c2 = self.bounds
        app = self.sheet.book.app
        app.writes.append(Write(self.sheet.name, self.address, app.screen_updating, app.calculation))
        for key in [k for k in self.sheet.cells_ if r1 <= k[0] <= r2 and c1 <= k[1] <= c2]:
            del self.sheet.cells_[key]

    def get_address(self, row_absolute: bool = True, col_absolute: bool = True, external: bool = False) -> str:
        r1, c1, r2, c2 = self.bounds
        first = f"{col_name(c1)}{r1}"
        return first if (r1, c1) == (r2, c2) else f"{first}:{col_name(c2)}{r2}"

    @property
    def address(self) -> str:
        return self.get_address()

    def __call__(self, arg1: int, arg2: int | None = None) -> MemoryRange:
        r, c = (arg1, arg2) if arg2 is not None else divmod(arg1 - 1, self.shape[1])
        if arg2 is None:
            r, c = r + 1, c + 1
        return MemoryRange(
            self.sheet, self.bounds[0] + r - 1, self.bounds[1] + c - 1, self.bounds[0] + r - 1, self.bounds[1] + c - 1
        )

    def end(self, direction: str) -> MemoryRange:
        r, c = self.bounds[0], self.bounds[1]
        dr, dc = {"down": (1, 0), "up": (-1, 0), "right": (0, 1), "left": (0, -1)}[direction]
        while (r + dr, c + dc) in self.sheet.cells_:
            r, c = r + dr, c + dc
        return MemoryRange(self.sheet, r, c, r, c)

    def expand(self, mode: str = "table") -> MemoryRange:
        r1, c1, r2, c2 = self.bounds
        if mode in ("table", "down", "d"):
            r2 = max(r2, self.end("down").row)
        if mode in ("table", "right", "r"):
            c2 = max(c2, self.end("right").column)
        return MemoryRange(self.sheet, r1, c1, r2, c2)


class MemoryTables(base.Tables):
    def __init__(self, sheet: MemorySheet) -> None:
        self.sheet = sheet
        self._tables: list[MemoryTable] = []

    def __call__(self, key: int | str) -> MemoryTable:
        if isinstance(key, int):
            return self._tables[key - 1]
        return next(t for t in self._tables if t.name.lower() == key.lower())

    def __len__(self) -> int:
        return len(self._tables)

    def __iter__(self) -> Iterator[MemoryTable]:
        return iter(self._tables)

    def __contains__(self, key: str) -> bool:
        return any(t.name.lower() == key.lower() for t in self._tables)

    def add(self, source: Any = None, name: str | None = None, **kwargs: Any) -> MemoryTable:
        table = MemoryTable(self.sheet, name or f"Table{len(self._tables) + 1}", source.impl.bounds)
        self._tables.append(table)
        return table


class MemoryTable(base.Table):
    parent: Any = None
    name: Any = None
    show_totals: Any = None
    show_headers: Any = None

    def __init__(self, parent: MemorySheet, name: str, bounds: tuple[int, int, int, int]) -> None:
        self.parent = parent
        self.name = name
        self.bounds = bounds
        self.show_totals = False
        self.show_headers = True
        self.resized: list[str] = []

    @property
    def api(self) -> MemoryTable:
        return self

    @property
    def range(self) -> MemoryRange:
        return MemoryRange(self.parent, *self.bounds)

    @property
    def header_row_range(self) -> MemoryRange:
        r1, c1, _r2, c2 = self.bounds
        return MemoryRange(self.parent, r1, c1, r1, c2)

    @property
    def data_body_range(self) -> MemoryRange | None:
        r1, c1, r2, c2 = self.bounds
        return MemoryRange(self.parent, r1 + 1, c1, r2, c2) if r2 > r1 else None

    def resize(self, range: Any) -> None:
        self.bounds = range.impl.bounds
        self.resized.append(range.address)


def new_book(fullname: str = "/plans/SOP.xlsx", engine: MemoryEngine | None = None) -> xw.Book:
    """A fresh empty in-memory ``xw.Book`` (in its own app of ``engine``)."""
    engine = engine or MemoryEngine("memory")
    app = engine.apps.add()
    return xw.Book(impl=app.books.add(fullname))


def add_table(book: xw.Book, sheet: str, name: str, anchor: str, rows: list[list[Any]]) -> None:
    """Create (or reuse) ``sheet`` and put an Excel table ``name`` with ``rows`` (header first) at ``anchor``."""
    impl: MemoryBook = book.impl
    try:
        target = impl.sheets(sheet)
    except KeyError:
        target = impl.sheets.add(name=sheet)
    first = target.range(anchor)
    r1, c1 = first.row, first.column
    area = MemoryRange(target, r1, c1, r1 + max(len(rows), 2) - 1, c1 + len(rows[0]) - 1)
    area.raw_value = [list(r) for r in rows]
    target.tables._tables.append(MemoryTable(target, name, area.bounds))


def book_from_xlsx(path: str, engine: MemoryEngine | None = None) -> xw.Book:
    """Load a workbook file's cell values and Excel tables into a fresh in-memory ``xw.Book``."""
    import openpyxl

    book = new_book(str(path), engine)
    impl: MemoryBook = book.impl
    source = openpyxl.load_workbook(path)
    for ws in source.worksheets:
        sheet = impl.sheets.add(name=ws.title)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.range((cell.row, cell.column))._set(cell.row, cell.column, cell.value)
        for name, ref in ws.tables.items():
            sheet.tables._tables.append(MemoryTable(sheet, name, sheet.range(ref).bounds))
    return book

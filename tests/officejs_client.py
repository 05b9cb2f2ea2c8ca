"""A stand-in for the Office.js side of xlwings Server: the request it sends and the actions it applies.

Excel on the web cannot run here, so this plays its part faithfully to xlwings' own client code
(``xlwings_server/static/js/custom-scripts``): :func:`book_payload` builds the workbook payload of
``getBookData`` (``client: "Office.js"``, per-sheet ``values`` from A1 to the last used cell with dates as
``toISOString()`` texts and empty cells as ``""``, tables with their unqualified addresses), read from a
real .xlsx with python-calamine and openpyxl. :class:`ClientWorkbook` applies the returned actions the way
the JS callbacks do (0-based ``getRangeByIndexes`` for ``setValues``/``rangeClearContents``,
``resizeTable`` by table index, ``'`` text prefix as Excel's cell entry) and refuses any action it does
not know, so a new kind of write cannot slip through untested.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import xlwings as xw
from openpyxl.utils.cell import get_column_letter as column_letter
from openpyxl.utils.cell import range_boundaries
from python_calamine import CalamineWorkbook

Box = tuple[int, int, int, int]
"""0-based inclusive (top row, left column, bottom row, right column)."""


def _iso(value: dt.date | dt.datetime) -> str:
    """What ``new Date(...).toISOString()`` gives for a date-formatted cell."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return _iso(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def _box(address: str) -> Box:
    left, top, right, bottom = range_boundaries(address)
    assert left is not None and top is not None and right is not None and bottom is not None
    return top - 1, left - 1, bottom - 1, right - 1


def _address(box: Box) -> str:
    top, left, bottom, right = box
    return f"{column_letter(left + 1)}{top + 1}:{column_letter(right + 1)}{bottom + 1}"


def book_payload(path: Path) -> dict[str, Any]:
    """The JSON Office.js sends with a script call for the workbook at ``path``."""
    calamine = CalamineWorkbook.from_path(str(path))
    structure = openpyxl.load_workbook(path, read_only=False)
    sheets = []
    for ws in structure.worksheets:
        rows = calamine.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
        width = max((len(r) for r in rows), default=1)
        values = [[_json_value(v) for v in r] + [""] * (width - len(r)) for r in rows] or [[""]]
        tables = []
        for table in ws.tables.values():
            top, left, bottom, right = _box(table.ref)
            headers = bool(table.headerRowCount is None or table.headerRowCount)
            tables.append(
                {
                    "name": table.name,
                    "range_address": table.ref,
                    "row_count": bottom - top + 1,
                    "column_count": right - left + 1,
                    "columns": [c.name for c in table.tableColumns],
                    "header_row_range_address": _address((top, left, top, right)) if headers else None,
                    "data_body_range_address": _address((top + 1 if headers else top, left, bottom, right)),
                    "total_row_range_address": None,
                    "show_headers": headers,
                    "show_totals": False,
                    "table_style": table.tableStyleInfo.name if table.tableStyleInfo else None,
                    "show_autofilter": True,
                    "show_table_style_first_column": False,
                    "show_table_style_last_column": False,
                    "show_table_style_row_stripes": True,
                    "show_table_style_column_stripes": False,
                }
            )
        sheets.append(
            {
                "name": ws.title,
                "visibility": "Visible" if ws.sheet_state == "visible" else "Hidden",
                "show_gridlines": True,
                "print_area": None,
                "notes": [],
                "notes_supported": True,
                "used_range_address": f"A1:{column_letter(width)}{len(values)}",
                "used_range_row_count": len(values),
                "used_range_column_count": width,
                "values": values,
                "pictures": [],
                "shapes": [],
                "charts": [],
                "tables": tables,
                "pivot_tables": [],
            }
        )
    return {
        "client": "Office.js",
        "version": xw.__version__,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1", "calculation": "Automatic"},
        "sheets": sheets,
        "names": [],
    }


@dataclass
class Write:
    sheet: str
    box: Box
    func: str


@dataclass
class ClientWorkbook:
    """The workbook as the Office.js client holds it: sheet values and tables, changed only by actions."""

    payload: dict[str, Any]
    writes: list[Write] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    calculation_modes: list[str] = field(default_factory=list)
    full_recalculations: int = 0

    def sheet(self, name: str) -> dict[str, Any]:
        return next(s for s in self.payload["sheets"] if s["name"] == name)

    def table(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for sheet in self.payload["sheets"]:
            for table in sheet["tables"]:
                if table["name"].lower() == name.lower():
                    return sheet, table
        raise KeyError(name)

    def table_box(self, name: str) -> Box:
        return _box(self.table(name)[1]["range_address"])

    def table_rows(self, name: str) -> list[list[Any]]:
        """A table's data rows (blank cells as None)."""
        sheet, table = self.table(name)
        top, left, bottom, right = _box(table["range_address"])
        grid = sheet["values"]
        return [
            [None if c == "" else c for c in (grid[r][left : right + 1] if r < len(grid) else [])]
            for r in range(top + 1, bottom + 1)
        ]

    def set_cell(self, sheet: str, row: int, column: int, value: Any) -> None:
        grid = self.sheet(sheet)["values"]
        while len(grid) <= row:
            grid.append([""] * len(grid[0]))
        for line in grid:
            line.extend([""] * (column + 1 - len(line)))
        grid[row][column] = value

    def apply(self, response: dict[str, Any]) -> None:
        for action in response["actions"]:
            handler = getattr(self, "_" + action["func"], None)
            if handler is None:
                raise AssertionError(f"the Office.js stand-in does not know action {action['func']!r}: {action}")
            handler(action)

    # -- the JS callbacks -------------------------------------------------------------------------------
    def _sheet_name(self, action: dict[str, Any]) -> str:
        return str(self.payload["sheets"][action["sheet_position"]]["name"])

    def _target(self, action: dict[str, Any]) -> Box:
        top, left = action["start_row"], action["start_column"]
        return top, left, top + action["row_count"] - 1, left + action["column_count"] - 1

    def _setValues(self, action: dict[str, Any]) -> None:
        name, box = self._sheet_name(action), self._target(action)
        self.writes.append(Write(name, box, "setValues"))
        for i, row in enumerate(action["values"]):
            for j, value in enumerate(row):
                entry = value[1:] if isinstance(value, str) and value.startswith("'") else value
                self.set_cell(name, box[0] + i, box[1] + j, "" if entry is None else entry)

    def _rangeClearContents(self, action: dict[str, Any]) -> None:
        name, box = self._sheet_name(action), self._target(action)
        self.writes.append(Write(name, box, "rangeClearContents"))
        for r in range(box[0], box[2] + 1):
            for c in range(box[1], box[3] + 1):
                self.set_cell(name, r, c, "")

    def _resizeTable(self, action: dict[str, Any]) -> None:
        sheet = self.payload["sheets"][action["sheet_position"]]
        table = sheet["tables"][int(action["args"][0])]
        top, left, bottom, right = _box(str(action["args"][1]).replace("$", "").split("!")[-1])
        table["range_address"] = _address((top, left, bottom, right))
        table["row_count"] = bottom - top + 1
        table["data_body_range_address"] = _address((top + 1, left, bottom, right))

    def _setCalculation(self, action: dict[str, Any]) -> None:
        self.calculation_modes.append(str(action["args"][0]))
        self.payload["book"]["calculation"] = str(action["args"][0])

    def _setScreenUpdating(self, action: dict[str, Any]) -> None:
        pass  # Office.js only suspends repainting until the next sync

    def _calculate(self, action: dict[str, Any]) -> None:
        self.full_recalculations += 1

    def _alert(self, action: dict[str, Any]) -> None:
        self.alerts.append(str(action["args"][0]))


def overlaps(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def function_call(name: str, *args: Any, book: str = "SOP.xlsx", cell: str = "Report!B2") -> dict[str, Any]:
    """The body Office.js posts for one custom-function evaluation (every argument a 2-D matrix)."""
    return {
        "client": "Office.js",
        "func_name": name,
        "args": [None if a is None else a if isinstance(a, list) else [[a]] for a in args],
        "caller_address": f"[{book}]{cell}",
        "session_id": "test-session",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
        "version": xw.__version__,
        "runtime": "1.4",
    }

"""Read a workbook open in Excel (xlwings): the Settings table, the user's Forecast grid and other inputs.

The Forecast grid is ``tblForecast`` (``Family`` then one ``YYYY-MM`` column per month), parsed by the file
reader's own rules (:func:`workbooks.reader.parse_forecast_grid`): a blank cell is 0; every bad entry is
reported at once with its ``Forecast!D7`` address, family and month.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlwings as xw

from sop_functions.buckets import Horizon
from workbooks.cells import cell_text
from workbooks.layout import (
    CAPACITY_INPUT,
    FORECAST_KEY,
    FORECAST_SHEET,
    FORECAST_TABLE,
    SCENARIO_INPUTS,
    SETTINGS,
    SOP_GRID_TABLE,
    TableSpec,
)
from workbooks.reader import ForecastGrid, parse_forecast_grid, settings_values
from workbooks.sop_grid import agreed_from_rows
from workbooks.xlsx.errors import LayoutError

from .pipeline import WorkbookInputs, last_published


def find_table(book: xw.Book, name: str) -> tuple[xw.Sheet, xw.main.Table]:
    for sheet in book.sheets:
        for table in sheet.tables:
            if table.name.lower() == name.lower():
                return sheet, table
    raise LayoutError(f"{book.name}: table {name} is missing (deleted or renamed?)")


def read_settings(book: xw.Book) -> dict[str, str]:
    """tblSettings as ``setting -> value`` texts."""
    return settings_values(read_table(book, SETTINGS))


def read_forecast(book: xw.Book, *, blank: float = 0.0) -> pd.DataFrame:
    """The live Forecast grid as ``family, bucket, qty`` (blank cells: ``blank``, 0 for planning);
    :class:`ForecastError` lists every bad cell."""
    _sheet, table = find_table(book, FORECAST_TABLE)
    whole = table.range
    values = whole.options(ndim=2).value
    if cell_text(values[0][0]) != FORECAST_KEY.header:
        raise LayoutError(f"{FORECAST_SHEET}: the first column of {FORECAST_TABLE} must be {FORECAST_KEY.header!r}")
    return parse_forecast_grid(
        values,
        header_row=0,
        key_col=0,
        last_row=len(values) - 1,
        last_col=len(values[0]) - 1,
        path=Path(book.fullname),
        origin=(whole.row - 1, whole.column - 1),
        blank=blank,
    )


def read_table(book: xw.Book, spec: TableSpec) -> pd.DataFrame:
    """Any layout table's body as a frame with the layout's field names (blank rows dropped)."""
    _sheet, table = find_table(book, spec.name)
    body = table.data_body_range
    rows = body.options(ndim=2).value if body is not None else []
    fields = [c.field for c in spec.columns]
    data = [list(r[: len(fields)]) for r in rows if r and any(v not in (None, "") for v in r)]
    return pd.DataFrame(data, columns=fields)


def read_agreed(book: xw.Book, horizon: Horizon) -> pd.DataFrame | None:
    """The agreed supply typed in the live tblSOP (None when the workbook has no S&OP grid); formulas in
    its cells are refused like text (a refresh rewrites the grid)."""
    try:
        _sheet, table = find_table(book, SOP_GRID_TABLE)
    except LayoutError:
        return None
    whole = table.range
    values = whole.options(ndim=2).value
    origin = (whole.row - 1, whole.column - 1)
    try:
        raw: object = whole.formula
    except (NotImplementedError, AttributeError):  # xlwings Server (Office.js) reads values only
        raw = []
    formulas: list[list[object]] = [[raw]] if isinstance(raw, str) else [list(r) for r in raw]  # type: ignore[attr-defined]
    found = {
        (origin[0] + r, origin[1] + c)
        for r, row in enumerate(formulas)
        if r > 0
        for c, text in enumerate(row)
        if isinstance(text, str) and text.startswith("=")
    }
    return agreed_from_rows(values[0], values[1:], origin, horizon, found)


def read_inputs(book: xw.Book, horizon: Horizon) -> WorkbookInputs:
    """Everything the planner owns in the live workbook, as the plan reads it (like the file reader)."""
    optional: dict[str, pd.DataFrame | None] = {}
    for spec in (CAPACITY_INPUT, SCENARIO_INPUTS):
        try:
            optional[spec.name] = read_table(book, spec)
        except LayoutError:
            optional[spec.name] = None
    forecast = read_forecast(book)
    return WorkbookInputs(
        forecast=forecast,
        capacity=optional[CAPACITY_INPUT.name],
        scenarios=optional[SCENARIO_INPUTS.name],
        agreed=read_agreed(book, horizon),
        last_plan=last_published(Path(book.fullname)) if Path(book.fullname).is_absolute() else None,
        forecast_from="the Forecast grid",
        grid=ForecastGrid(forecast, tuple(dict.fromkeys(forecast["bucket"]))),
    )

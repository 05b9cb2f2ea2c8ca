"""Build a new S&OP workbook (``sop new``) from the layout contract, with xlsxwriter.

Everything here is driven by :mod:`workbooks.layout`: sheets, table names, headers, anchors and number
formats come from it, so a layout change needs no change here. The builder writes a file once; later
refreshes patch only the owned tables, which is why every owned range is a real Excel Table.

Safety: ERP strings are always written as text (``strings_to_formulas`` off, ``write_string``), so a
family called ``=cmd|' /C calc'!A0`` is a harmless label. NaN and infinite numbers (e.g. months of cover
with no demand) are written as **blank** cells: a blank reads as "no finite value" to a planner, keeps
SUM/AVERAGE over the column working, and never produces an error cell or a broken file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from .forecast_grid import forecast_grid_frame
from .layout import (
    CAPACITY_INPUT,
    CAPACITY_PEAK,
    FAMILY_TOTALS,
    FINANCE_TOTALS,
    FORECAST_SHEET,
    OWNED_TABLES,
    PAST_DUE,
    PLAN,
    PLANNING_INPUTS,
    PLANNING_SHEET_ORDER,
    PLANNING_TABLES,
    SCENARIO_INPUTS,
    SETTINGS,
    SHEET_ORDER,
    SHEET_TITLES,
    SOP_GRID_SHEET,
    SOP_GRID_TABLE,
    TOP_GAP_ROWS,
    TOP_GAPS,
    Column,
    TableSpec,
    forecast_spec,
    forecast_validation,
    is_month_bucket,
    sop_grid_spec,
)
from .printing import DEFAULT_WIDTH, HEADER_ROW, Chart, RowBlocks, page_setup
from .stamps import WorkbookStamps, settings_frame, stamp_text
from .styles import ROW_HEIGHT, TABLE_STYLE, Formats, column_width, header_lines

MAX_TEXT = 32_767
"""Excel's cell text limit."""
LAST_ROW = 1_048_575
"""Last worksheet row (0-based): conditional formats reach it so they still cover a refreshed, longer table."""


def new_workbook(
    path: str | os.PathLike[str],
    buckets: list[str],
    families: list[str],
    forecast: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    stamps: WorkbookStamps | None = None,
    *,
    overwrite: bool = False,
    planning: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write a new S&OP workbook and return its path.

    ``buckets`` are the horizon's bucket labels (``PAST_DUE`` then ``YYYY-MM``); ``families`` are the
    Forecast grid rows; ``forecast`` (``family``, ``bucket``, ``qty``) prefills the grid; ``tables`` maps
    owned Excel table names (``tblPlan``...) to frames whose columns are the layout fields (extra columns
    are ignored; missing tables are written empty). Refuses to replace an existing file unless
    ``overwrite``: a planner's workbook must never be clobbered by a typo.

    ``planning`` (layout 2) adds the supply-planning sheets (Capacity, Finance, Scenarios) after the core
    ones, with a capacity and a finance chart on Summary: it maps supply-planning table names (owned ones
    and the user inputs ``tblCapacity`` / ``tblScenarioInputs``, to prefill them) to frames; missing
    tables are written empty. ``None`` (the default) builds the core workbook only.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass --force to replace it")
    stamps = stamps or WorkbookStamps()
    months = _month_buckets(buckets)
    given = dict(tables or {})
    grid_frame = given.pop(SOP_GRID_TABLE, None)
    frames = _owned_frames(given, stamps, buckets)
    grid = forecast_grid_frame(months, families, forecast)
    extra = _planning_frames(planning) if planning is not None else None

    tmp = target.with_name(f".~{target.stem}.{os.getpid()}.tmp.xlsx")
    workbook = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        fmts = Formats(workbook)
        sheets = {name: workbook.add_worksheet(name) for name in SHEET_ORDER}
        for name, sheet in sheets.items():
            sheet.write_string(0, 0, SHEET_TITLES[name], fmts.title)
        stamp = stamp_text(stamps)
        extents: dict[str, tuple[int, int]] = {}
        for spec in OWNED_TABLES:
            sheet = sheets[spec.sheet]
            if spec.stamp_cell:
                sheet.write_string(spec.stamp_cell, stamp, fmts.stamp)
            extents[spec.name] = write_table(sheet, spec, frames[spec.name], fmts)
            if spec.sheet not in ("Summary", "Settings"):
                _freeze_keys(sheet, spec)
        _forecast_sheet(sheets[FORECAST_SHEET], forecast_spec(months), grid, fmts)
        sheets[SOP_GRID_SHEET].write_string("A2", stamp, fmts.stamp)
        _sop_grid_sheet(sheets[SOP_GRID_SHEET], grid_frame, months, fmts)
        _plan_gap_colours(sheets[PLAN.sheet], fmts)
        charts = _summary_charts(workbook, sheets[TOP_GAPS.sheet], extents)
        if extra is not None:
            charts += _planning_sheets(workbook, sheets[TOP_GAPS.sheet], extra, fmts, stamp)
        _print_setup(workbook, fmts, {TOP_GAPS.sheet: charts})
    except BaseException:
        workbook.close()  # release xlsxwriter's temp files; the half-built file is deleted below
        raise
    else:
        workbook.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _print_setup(workbook: Any, fmts: Formats, charts: Mapping[str, list[Chart]]) -> None:
    """Every sheet prints landscape, one page wide (tables side by side: one table a page), its header row
    repeated; the S&OP grid with whole family blocks on each page (see :mod:`workbooks.printing`)."""
    from .sop_grid import MEASURES

    tables = (*OWNED_TABLES, *PLANNING_TABLES, *PLANNING_INPUTS)
    for sheet in workbook.worksheets():
        name = sheet.get_name()
        blocks = RowBlocks(HEADER_ROW + 1, len(MEASURES)) if name == SOP_GRID_SHEET else None
        on_sheet = [t for t in tables if t.sheet == name]
        widths = fmts.widths.get(name, {})
        page_setup(sheet, on_sheet, widths, charts.get(name, []), blocks, SHEET_TITLES[name])


CHART_SCALE = {"x_scale": 1.4, "y_scale": 1.2}
CHART_PX = (480, 288)
"""xlsxwriter's default chart size in pixels, before :data:`CHART_SCALE`."""


def _place_chart(sheet: Any, row: int, col: int, chart: Any) -> Chart:
    """Insert ``chart`` at (row, col) at the workbook's chart size; where it lands, for the page setup."""
    sheet.insert_chart(row, col, chart, dict(CHART_SCALE))
    width, height = CHART_PX
    return Chart(row, col, round(width * CHART_SCALE["x_scale"]), round(height * CHART_SCALE["y_scale"]))


def _month_buckets(buckets: Sequence[str]) -> list[str]:
    """The Forecast grid's month columns; anything that is neither a month nor PAST_DUE is a caller bug."""
    bad = [b for b in buckets if b != PAST_DUE and not is_month_bucket(str(b))]
    if bad:
        raise ValueError(f"bucket labels must be {PAST_DUE!r} or YYYY-MM, got {bad}")
    months = [b for b in buckets if b != PAST_DUE]
    if len(set(months)) != len(months):
        raise ValueError(f"duplicate bucket labels in {months}")
    return months


def _checked_frames(
    given: Mapping[str, pd.DataFrame],
    specs: Sequence[TableSpec],
    what: str,
    default: Callable[[TableSpec], pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """One frame per table of ``specs``, checked against the layout; an absent table gets ``default(spec)``
    (else an empty frame). Refuses names not among ``specs`` and frames lacking a column."""
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"not {what}: {unknown}; they are {sorted(known)}")
    frames: dict[str, pd.DataFrame] = {}
    for name, spec in known.items():
        fields = [c.field for c in spec.columns]
        frame = given.get(name)
        if frame is None:
            frame = default(spec) if default is not None else pd.DataFrame(columns=fields)
        missing = [f for f in fields if f not in frame.columns]
        if missing:
            raise ValueError(f"frame for {name} lacks column(s) {missing} (needs {fields})")
        frames[name] = frame
    return frames


def _owned_frames(
    tables: Mapping[str, pd.DataFrame], stamps: WorkbookStamps, buckets: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """One frame per owned table; an absent Settings gets the stamps' rows; Top gaps holds at most 10 rows."""

    def default(spec: TableSpec) -> pd.DataFrame:
        fields = [c.field for c in spec.columns]
        return settings_frame(stamps, buckets) if spec is SETTINGS else pd.DataFrame(columns=fields)

    frames = _checked_frames(tables, OWNED_TABLES, "sopxl-owned tables", default)
    top = frames[TOP_GAPS.name]
    if len(top) > TOP_GAP_ROWS:
        raise ValueError(f"{TOP_GAPS.name} holds at most {TOP_GAP_ROWS} rows, got {len(top)}")
    return frames


def write_table(
    sheet: Any, spec: TableSpec, frame: pd.DataFrame, fmts: Formats, *, user_input: bool = False
) -> tuple[int, int]:
    """Write ``frame`` as the Excel Table ``spec`` and return its (first, last) 0-based data rows.

    An empty frame still gets one blank data row: Excel rejects a table with a header and no body.
    The Top gaps table always has ``TOP_GAP_ROWS`` rows so the Summary chart's range is fixed.
    """
    header_row, first_col = xl_cell_to_rowcol(spec.anchor)
    rows = TOP_GAP_ROWS if spec is TOP_GAPS else max(len(frame), 1)
    first, last = header_row + 1, header_row + rows
    columns = [
        {
            "header": c.header,
            "header_format": fmts.header,
            "format": fmts.cell(c.kind, user_input=user_input and c.kind != "text"),
        }
        for c in spec.columns
    ]
    sheet.add_table(
        header_row,
        first_col,
        last,
        first_col + len(spec.columns) - 1,
        {"name": spec.name, "columns": columns, "style": TABLE_STYLE},
    )
    for j, column in enumerate(spec.columns):
        values = frame[column.field].tolist()
        fmt = columns[j]["format"]
        longest = 0
        for i in range(rows):
            value = values[i] if i < len(values) else None
            try:
                longest = max(longest, _write_cell(sheet, first + i, first_col + j, value, column, fmt))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{spec.name} row {i + 1}, column {column.header!r}: {exc}") from exc
        width = column_width(column, longest)
        sheet.set_column(first_col + j, first_col + j, width)
        fmts.widths.setdefault(sheet.get_name(), {})[first_col + j] = width
    _fit_header_row(sheet, spec, fmts)
    return first, last


def _fit_header_row(sheet: Any, spec: TableSpec, fmts: Formats) -> None:
    """Make the header row tall enough for its wrapped headers: LibreOffice keeps a row's height on load
    (a wrapped header showed one line), so the height is written, the same for every reader."""
    header_row, first_col = xl_cell_to_rowcol(spec.anchor)
    widths = fmts.widths.get(sheet.get_name(), {})
    lines = max(header_lines(c.header, widths.get(first_col + j, DEFAULT_WIDTH)) for j, c in enumerate(spec.columns))
    key = (sheet.get_name(), header_row)
    lines = max(lines, fmts.header_lines.get(key, 1))
    fmts.header_lines[key] = lines
    if lines > 1:
        sheet.set_row(header_row, ROW_HEIGHT * lines)


def _write_cell(sheet: Any, row: int, col: int, value: Any, column: Column, fmt: Any) -> int:
    """Write one value by column kind; return its text length (for column widths)."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        sheet.write_blank(row, col, None, fmt)
        return 0
    if column.kind == "text":
        text = (value if isinstance(value, str) else str(value))[:MAX_TEXT]
        sheet.write_string(row, col, text, fmt)
        return len(text)
    if column.kind == "flag":
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise ValueError(f"flag must be True/False, got {value!r}")
        sheet.write_boolean(row, col, bool(value), fmt)
        return 5
    if column.kind == "datetime":
        stamp = pd.Timestamp(value)
        sheet.write_datetime(row, col, stamp.tz_localize(None).to_pydatetime(), fmt)
        return 16
    if isinstance(value, (str, bytes)):
        raise ValueError(f"expected a number, got text {value!r}")
    number = float(value)
    if math.isfinite(number):
        sheet.write_number(row, col, number, fmt)
    else:
        sheet.write_blank(row, col, None, fmt)
    return 0


def _freeze_keys(sheet: Any, spec: TableSpec) -> None:
    """Keep the header row and the leading key columns (SKU/Family/Bucket) in view while scrolling."""
    header_row, first_col = xl_cell_to_rowcol(spec.anchor)
    keys = next((i for i, c in enumerate(spec.columns) if c.kind != "text"), len(spec.columns))
    sheet.freeze_panes(header_row + 1, first_col + keys)


def _forecast_sheet(sheet: Any, spec: TableSpec, grid: pd.DataFrame, fmts: Formats) -> None:
    """The user-owned grid: shaded input cells, validation that rejects negatives and text."""
    sheet.write_string(1, 0, "Units per family and month. Blank = no forecast. Add families as new rows.", fmts.stamp)
    first, last = write_table(sheet, spec, grid, fmts, user_input=True)
    header_row, first_col = xl_cell_to_rowcol(spec.anchor)
    sheet.freeze_panes(header_row + 1, first_col + 1)
    if len(spec.columns) > 1:
        sheet.data_validation(
            first,
            first_col + 1,
            last,
            first_col + len(spec.columns) - 1,
            forecast_validation(),
        )


def _column_index(spec: TableSpec, field: str) -> int:
    """Absolute 0-based sheet column of a table field."""
    _, first_col = xl_cell_to_rowcol(spec.anchor)
    return int(first_col) + [c.field for c in spec.columns].index(field)


def _plan_gap_colours(sheet: Any, fmts: Formats) -> None:
    """Red where anything is short, green where stock is in excess, down to the last row (survives refreshes)."""
    header_row, _ = xl_cell_to_rowcol(PLAN.anchor)
    colours = {
        "shortage_units_firm": fmts.short,
        "value_at_risk_firm": fmts.short,
        "shortage_units_proposed": fmts.short,
        "value_at_risk_proposed": fmts.short,
        "excess_units_proposed": fmts.surplus,
        "cash_tied_up_proposed": fmts.surplus,
    }
    for field, fmt in colours.items():
        col = _column_index(PLAN, field)
        sheet.conditional_format(
            header_row + 1, col, LAST_ROW, col, {"type": "cell", "criteria": ">", "value": 0, "format": fmt}
        )


GRID_ANCHOR = "A4"


def _sop_grid_sheet(sheet: Any, frame: pd.DataFrame | None, months: list[str], fmts: Formats) -> None:
    """The family S&OP grid: tblSOP with its agreed-supply rows shaded as input, shortages in red."""
    from .layout import AGREED_MEASURE
    from .sop_grid import ACTUAL, HISTORY_MONTHS, KEYS

    if frame is None:
        start = pd.Period(months[0], "M") if months else pd.Period("2000-01", "M")
        history = [(start - k).strftime("%Y-%m") + ACTUAL for k in range(HISTORY_MONTHS, 0, -1)]
        frame = pd.DataFrame(columns=[*KEYS, *history, PAST_DUE, *months])
    spec = sop_grid_spec([str(c) for c in frame.columns if c not in KEYS])
    sheet.write_string(
        2,
        0,
        "One block per family. Type the agreed supply in the yellow rows (blank = follow the proposal).",
        fmts.stamp,
    )
    first, _last = write_table(sheet, spec, frame, fmts)
    header_row, first_col = xl_cell_to_rowcol(GRID_ANCHOR)
    last_col = first_col + len(spec.columns) - 1
    measure = xl_col_to_name(first_col + 1)
    cell = f"{xl_col_to_name(first_col + 3)}{first + 1}"
    rules = (
        (f'=${measure}{first + 1}="{AGREED_MEASURE}"', fmts.cell("number", user_input=True)),
        (f'=AND(LEFT(${measure}{first + 1},9)="Shortage ",{cell}>0)', fmts.short),
        (f'=LEFT(${measure}{first + 1},15)="Months of cover"', fmts.cell("months")),  # numbers are units, not these
        (f'=LEFT(${measure}{first + 1},15)="Capacity load %"', fmts.cell("pct")),
    )
    for formula, fmt in rules:
        sheet.conditional_format(
            first, first_col + 3, LAST_ROW, last_col, {"type": "formula", "criteria": formula, "format": fmt}
        )
    sheet.freeze_panes(header_row + 1, first_col + 3)
    sheet.set_column(first_col + 1, first_col + 1, 32)
    fmts.widths.setdefault(sheet.get_name(), {})[first_col + 1] = 32


def _summary_charts(workbook: Any, sheet: Any, extents: Mapping[str, tuple[int, int]]) -> list[Chart]:
    """Native charts fed from the Summary tables' sheet ranges (Excel redraws them on every refresh)."""
    name = sheet.get_name()
    header_row, _ = xl_cell_to_rowcol(FAMILY_TOTALS.anchor)
    chart_col = _column_index(FAMILY_TOTALS, FAMILY_TOTALS.columns[-1].field) + 2

    first, last = extents[FAMILY_TOTALS.name]
    family = _column_index(FAMILY_TOTALS, "family")
    totals = workbook.add_chart({"type": "column"})
    for field in ("demand_proposed", "supply_proposed"):
        col = _column_index(FAMILY_TOTALS, field)
        totals.add_series(
            {
                "name": [name, header_row, col],
                "categories": [name, first, family, last, family],
                "values": [name, first, col, last, col],
            }
        )
    totals.set_title({"name": "Demand vs proposed supply per family"})
    totals.set_y_axis({"num_format": "#,##0"})
    placed = [_place_chart(sheet, header_row, chart_col, totals)]

    first, last = extents[TOP_GAPS.name]
    gap_header, _ = xl_cell_to_rowcol(TOP_GAPS.anchor)
    family = _column_index(TOP_GAPS, "family")
    gaps = workbook.add_chart({"type": "bar"})
    for field in ("value_at_risk_window_firm", "value_at_risk_window_proposed"):
        value = _column_index(TOP_GAPS, field)
        gaps.add_series(
            {
                "name": [name, gap_header, value],
                "categories": [name, first, family, last, family],
                "values": [name, first, value, last, value],
            }
        )
    gaps.set_title({"name": "Value at risk: if nothing changes vs after the proposal"})
    gaps.set_y_axis({"reverse": True})
    gaps.set_x_axis({"num_format": "#,##0"})
    gaps.set_legend({"position": "bottom"})
    placed.append(_place_chart(sheet, header_row + 18, chart_col, gaps))
    return placed


# --- supply-planning sheets (layout 2) ---------------------------------------------------------------


def _planning_frames(planning: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One frame per supply-planning table (owned and input), checked against the layout."""
    return _checked_frames(planning, (*PLANNING_TABLES, *PLANNING_INPUTS), "supply-planning tables")


def _planning_sheets(
    workbook: Any, summary: Any, frames: Mapping[str, pd.DataFrame], fmts: Formats, stamp: str
) -> list[Chart]:
    """Capacity, Finance and Scenarios sheets, their input tables (shaded, validated) and Summary charts."""
    sheets = {name: workbook.add_worksheet(name) for name in PLANNING_SHEET_ORDER}
    for name, sheet in sheets.items():
        sheet.write_string(0, 0, SHEET_TITLES[name], fmts.title)
    extents: dict[str, tuple[int, int]] = {}
    for spec in PLANNING_TABLES:
        sheet = sheets[spec.sheet]
        if spec.stamp_cell:
            sheet.write_string(spec.stamp_cell, stamp, fmts.stamp)
        extents[spec.name] = write_table(sheet, spec, frames[spec.name], fmts)
    for spec in PLANNING_INPUTS:
        first, _ = write_table(sheets[spec.sheet], spec, frames[spec.name], fmts, user_input=True)
        number = next(i for i, c in enumerate(spec.columns) if c.kind != "text")
        col = _column_index(spec, spec.columns[number].field)
        rule: dict[str, Any] = {"validate": "decimal", "ignore_blank": True, "error_type": "stop"}
        if spec is CAPACITY_INPUT:
            rule |= {"criteria": ">=", "value": 0, "error_message": "Hours per month must be a number >= 0"}
        else:
            rule |= {"criteria": ">=", "value": -100, "error_message": "Change % is a number >= -100 (10 = +10 %)"}
        sheets[spec.sheet].data_validation(first, col, LAST_ROW, col, rule)
    # row 3: row 2 holds the as-of stamp of the sheet's owned tables, which every refresh rewrites
    sheets[CAPACITY_INPUT.sheet].write_string(
        2, 0, "Hours per month per work center, used where the ERP holds none. Add work centers as rows.", fmts.stamp
    )
    sheets[SCENARIO_INPUTS.sheet].write_string(
        2, 0, "Change: Demand (family or *), Capacity (work center or *), Lost supplier (supplier).", fmts.stamp
    )
    return _planning_charts(workbook, summary, extents)


def _planning_charts(workbook: Any, summary: Any, extents: Mapping[str, tuple[int, int]]) -> list[Chart]:
    """Summary charts: peak load vs available hours per work center; revenue and margin per family."""
    header_row, _ = xl_cell_to_rowcol(FAMILY_TOTALS.anchor)
    chart_col = _column_index(FAMILY_TOTALS, FAMILY_TOTALS.columns[-1].field) + 2
    placed: list[Chart] = []
    for k, (spec, key, fields, title) in enumerate(
        (
            (CAPACITY_PEAK, "work_center", ("peak_load_hours", "available_hours"), "Capacity: peak load vs hours"),
            (FINANCE_TOTALS, "family", ("revenue", "gross_margin"), "Revenue and gross margin per family"),
        )
    ):
        first, last = extents[spec.name]
        spec_header, _ = xl_cell_to_rowcol(spec.anchor)
        chart = workbook.add_chart({"type": "column"})
        category = _column_index(spec, key)
        for field in fields:
            col = _column_index(spec, field)
            chart.add_series(
                {
                    "name": [spec.sheet, spec_header, col],
                    "categories": [spec.sheet, first, category, last, category],
                    "values": [spec.sheet, first, col, last, col],
                }
            )
        chart.set_title({"name": title})
        chart.set_y_axis({"num_format": "#,##0"})
        placed.append(_place_chart(summary, header_row + 36 + 18 * k, chart_col, chart))
    return placed

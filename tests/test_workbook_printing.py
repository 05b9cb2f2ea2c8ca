"""How the S&OP workbook prints: the page setup read back by openpyxl and from the raw parts, kept by the
headless refresh, and the pages LibreOffice prints of the demo workbook."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from addin import pipeline
from addin.pack.pdf import to_pdf
from connectors.demo_data import write_export_folder
from tests.addin_support import DEMO_AS_OF
from tests.libreoffice import requires_libreoffice
from workbooks import layout
from workbooks.printing import (
    BLOCK_ROWS_LIMIT,
    PRINTABLE_WIDTH_PT,
    SAFETY,
    Chart,
    RowBlocks,
    column_pixels,
    pages_by_sheet,
    print_layout,
    title_pixels,
)
from workbooks.sop_grid import MEASURES
from workbooks.styles import HEADER_FILL, header_lines
from workbooks.xlsx import refresh_file

SIDE_BY_SIDE = {"Summary", "Capacity", "Finance", "Scenarios"}
"""Sheets with tables side by side: one table (group) a page, at a computed scale."""
PORTRAIT = {"Proposal", "Settings"}
"""Narrow enough for a portrait page at 80 % or more (the demo's widths)."""
BLOCK = len(MEASURES)


def _calibri_metrics() -> bool:
    """Calibri or Carlito (its metric-compatible twin) is what LibreOffice draws the workbook's font with."""
    if shutil.which("fc-match") is None:
        return False
    font = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True, check=False).stdout
    return "Carlito" in font or "Calibri" in font


requires_print_tools = pytest.mark.skipif(
    shutil.which("pdftotext") is None or not _calibri_metrics(),
    reason="poppler-utils and the Carlito font (make system-deps): without it LibreOffice lays out every page "
    "with a wider fallback font than the workbook's Calibri",
)
FIRST_DATA_ROW = 4
"""0-based: the row under every table's header (row 4)."""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("printing")
    export = write_export_folder(folder / "erp-export", seed=7, as_of=DEMO_AS_OF)
    return pipeline.new_workbook(folder / "SOP.xlsx", source=str(export), force=True)


def test_every_sheet_prints_one_page_wide_with_its_header_row_on_every_page(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo)
    assert wb.sheetnames == [*layout.SHEET_ORDER, *layout.PLANNING_SHEET_ORDER]
    for ws in wb:
        setup, fit = ws.page_setup, ws.sheet_properties.pageSetUpPr
        assert setup.orientation == ("portrait" if ws.title in PORTRAIT else "landscape"), ws.title
        assert ws.oddFooter.left.text == "&A" and ws.oddFooter.right.text == "Page &P of &N", ws.title
        assert not ws.print_area, ws.title  # the used range: it grows with the rows a refresh adds
        if ws.title == "Summary":
            assert ws.print_title_rows is None  # its charts start on row 4: no part of one repeated
        else:
            assert ws.print_title_rows == "$4:$4", ws.title
        if ws.title in SIDE_BY_SIDE or ws.title == layout.SOP_GRID_SHEET:
            assert not (fit is not None and fit.fitToPage), ws.title  # Excel ignores page breaks under "fit to"
            assert 10 <= int(setup.scale) < 100, ws.title
        else:
            assert fit is not None and fit.fitToPage, ws.title
            assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, ws.title  # 1 wide, as tall as needed
            assert not ws.col_breaks.brk and not ws.row_breaks.brk


def test_side_by_side_tables_break_between_tables_and_the_grid_between_family_blocks(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo)
    starts: dict[str, set[int]] = {}
    for spec in (*layout.OWNED_TABLES, *layout.PLANNING_TABLES, *layout.PLANNING_INPUTS):
        starts.setdefault(spec.sheet, set()).add(openpyxl.utils.cell.coordinate_to_tuple(spec.anchor)[1] - 1)
    for name in SIDE_BY_SIDE:
        breaks = [b.id for b in wb[name].col_breaks.brk]
        assert breaks, name
        assert set(breaks) <= starts[name] - {0}, name  # a page starts where a table starts, never inside one
    assert [b.id for b in wb["Summary"].col_breaks.brk] == [13]  # the family totals and charts: column N
    grid = [b.id for b in wb[layout.SOP_GRID_SHEET].row_breaks.brk]
    assert grid and all((r - FIRST_DATA_ROW) % BLOCK == 0 for r in grid)  # every page starts a family block
    assert max(grid) < FIRST_DATA_ROW + BLOCK_ROWS_LIMIT <= max(grid) + (grid[1] - grid[0])


def test_header_rows_stand_out_without_the_table_style(demo: Path) -> None:
    """LibreOffice and other readers ignore table styles: the headers carry their own fill and font."""
    wb = openpyxl.load_workbook(demo)
    for ws in wb:
        for table in ws.tables.values():
            first = ws[table.ref.split(":")[0]]
            assert first.fill.fgColor.rgb == "FF" + HEADER_FILL.lstrip("#"), (ws.title, table.name)
            assert first.font.b and first.font.color.rgb == "FFFFFFFF", (ws.title, table.name)
            assert first.alignment.wrap_text, (ws.title, table.name)
    summary = wb["Summary"]
    widths = {c - 1: d.width for d in summary.column_dimensions.values() for c in range(d.min, d.max + 1)}
    lines = max(header_lines(h, widths[j]) for j, h in enumerate(layout.TOP_GAPS.headers))
    assert lines > 1 and summary.row_dimensions[4].height >= 15 * lines  # tall enough for its wrapped headers


def test_header_lines_err_on_a_line_too_many() -> None:
    assert header_lines("Family", 12) == 1
    assert header_lines("Value at risk (proposed, next 6 months)", 16) == 3
    assert header_lines("Supercalifragilisticexpialidocious", 12) == 4  # a long word breaks inside it
    assert header_lines("", 12) == 1


def test_print_layout_fits_the_widest_table_and_packs_its_neighbours() -> None:
    widths = dict.fromkeys(range(40), 10.0)  # 75 px a column
    room = SAFETY * PRINTABLE_WIDTH_PT / 0.75  # pixels of a page width at 100 %
    narrow = print_layout([(0, 2), (4, 6), (8, 10)], widths)
    assert narrow.scale == 100 and narrow.column_breaks == ()  # everything fits one page at full size
    wide = print_layout([(0, 24), (26, 28), (30, 32)], widths)
    assert wide.scale == int(100 * room / (26 * column_pixels(10.0)))  # the 25 columns and their gap
    assert wide.column_breaks == (26,)  # the two small tables share the next page
    assert print_layout([(0, 999)], dict.fromkeys(range(1000), 10.0)).scale == 10  # never below 10 %


def test_print_layout_keeps_the_title_and_charts_whole() -> None:
    widths = dict.fromkeys(range(40), 10.0)
    apart = print_layout([(0, 1), (3, 20)], widths)
    assert apart.column_breaks == (3,)
    title = print_layout([(0, 1), (3, 20)], widths, heading_px=title_pixels("x" * 60))
    assert title.column_breaks == () and title.scale < apart.scale  # the title runs over both: one page
    charts = [Chart(3 + 18 * k, 5, 672, 346) for k in range(4)]
    layout_ = print_layout([(0, 3)], widths, charts)
    assert layout_.scale == int(100 * SAFETY * PRINTABLE_WIDTH_PT / ((5 * column_pixels(10.0) + 672) * 0.75))
    assert layout_.row_breaks and set(layout_.row_breaks) <= {c.row for c in charts}  # above a chart, never in one


def test_print_layout_breaks_between_whole_blocks() -> None:
    blocks = print_layout([(0, 24)], dict.fromkeys(range(25), 12.0), blocks=RowBlocks(4, 15))
    step = blocks.row_breaks[0] - 4
    assert step % 15 == 0 and step >= 15
    assert list(blocks.row_breaks) == list(range(4 + step, 4 + BLOCK_ROWS_LIMIT, step))


def test_pages_by_sheet_reads_the_footer() -> None:
    text = "Title\n\n S&OP          Page 1 of 2\n\fx\nS&OP   Page 2 of 2\n\fPlan (sopxl)    Page 1 of 1\n\f"
    assert pages_by_sheet(text) == {"S&OP": [1, 2], "Plan (sopxl)": [3]}


PAGE_PARTS = re.compile(
    rb"<(?:\w+:)?(?:sheetPr|pageMargins|pageSetup|headerFooter|rowBreaks|colBreaks)\b.*?(?:/>|</(?:\w+:)?"
    rb"(?:sheetPr|headerFooter|rowBreaks|colBreaks)>)",
    re.S,
)


def _page_parts(book: Path) -> dict[str, list[bytes]]:
    with zipfile.ZipFile(book) as z:
        out = {n: PAGE_PARTS.findall(z.read(n)) for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
        out["definedNames"] = re.findall(rb"<definedName\b.*?</definedName>", z.read("xl/workbook.xml"))
    return out


def _grid(book: Path) -> pd.DataFrame:
    with CalamineWorkbook.from_path(str(book), load_tables=True) as wb:
        table = wb.get_table_by_name(layout.SOP_GRID_TABLE)
        frame = pd.DataFrame(table.to_python(), columns=[str(c) for c in table.columns])
    return frame.rename(columns={c.header: c.field for c in layout.SOP_GRID_KEYS})


def _pdf_pages(book: Path) -> tuple[list[str], dict[str, list[int]]]:
    pdf = to_pdf(book, book.with_suffix(".pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f"), pages_by_sheet(text)


@pytest.mark.libreoffice
@requires_libreoffice
@requires_print_tools
def test_a_refresh_keeps_the_page_setup_and_its_new_rows_print(demo: Path, tmp_path: Path) -> None:
    book = tmp_path / "SOP.xlsx"
    shutil.copy(demo, book)
    before = _page_parts(book)
    assert any(b"_xlnm.Print_Titles" in n for n in before["definedNames"])
    grid = _grid(book)
    families = [f"Family {k:02d}" for k in range(12)]  # 12 families where the demo has 7
    bigger = pd.concat([grid.head(BLOCK).assign(family=f) for f in families], ignore_index=True)
    demand = pd.DataFrame({c.field: [0.0] * 400 for c in layout.DEMAND.columns})
    demand["sku"] = [f"NEW-{i:04d}" for i in range(400)]
    demand["family"], demand["bucket"] = "Family 00", "2026-11"
    refresh_file(book, {layout.SOP_GRID_TABLE: bigger, layout.DEMAND.name: demand}, "ERP data as of later", backups=0)
    assert _page_parts(book) == before  # page setup, breaks, footer and print titles untouched
    pages, sheets = _pdf_pages(book)
    last = next(i for i, page in enumerate(pages, start=1) if "NEW-0399" in page)
    assert last in sheets["Demand"]  # rows a refresh added print: there is no fixed print area
    row = re.compile(r"^\s*Family \d\d\s+(?P<measure>\S+(?: \S+)*)")
    printed = 0
    for number in sheets[layout.SOP_GRID_SHEET]:  # still whole family blocks on every page
        rows = [m["measure"] for m in map(row.match, pages[number - 1].splitlines()) if m]
        assert rows and rows[0] == "Actual sales" and len(rows) % BLOCK == 0, number
        printed += len(rows)
    assert printed == len(families) * BLOCK


@pytest.mark.libreoffice
@requires_libreoffice
@requires_print_tools
def test_the_demo_workbook_prints_on_few_pages_with_whole_titles(demo: Path, tmp_path: Path) -> None:
    book = tmp_path / "SOP.xlsx"
    shutil.copy(demo, book)
    pages, sheets = _pdf_pages(book)
    assert list(sheets) == [*layout.SHEET_ORDER, *layout.PLANNING_SHEET_ORDER]
    assert sum(len(p) for p in sheets.values()) == len([p for p in pages if p.strip()])  # every page says its sheet
    assert len(sheets[layout.FORECAST_SHEET]) == 1  # 18 months, 7 families (before: 3 pages, 5 to 7 months each)
    assert len(sheets[layout.SOP_GRID_SHEET]) <= 2  # 7 family blocks (before: 15 pages)
    assert len(sheets["Summary"]) <= 3  # tables, then the charts (before: 10 pages, its title split)
    assert sum(len(p) for p in sheets.values()) <= 110  # before: 231
    for sheet, numbers in sheets.items():
        title = layout.SHEET_TITLES[sheet]
        assert any(title in line for line in pages[numbers[0] - 1].splitlines()), sheet  # on one line, whole

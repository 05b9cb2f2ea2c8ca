"""How each sheet of the S&OP workbook prints (and exports to PDF): landscape, one page wide, header repeated.

Every sheet prints landscape with a footer naming the sheet and the page, and its table header row
(row 4) repeated on every page (not the Summary's: its charts start on that row). A sheet holding one
table (Plan, Forecast, Demand, ...) is scaled to **one page wide**, as many pages tall as its rows need
("fit to 1 page wide"); one narrow enough to fit a portrait page at 80 % or more (Proposal, Settings)
prints portrait instead, about twice the rows a page.

Two kinds of sheet get a computed print scale instead, because Excel ignores manual page breaks under
"fit to", and these need them:

- tables side by side (Summary with its charts, Capacity, Finance, Scenarios) would shrink to a quarter of
  their size on one page width: each table (with the charts to its right; narrow neighbours share a page)
  prints one page wide on pages of its own, at the one scale that fits the widest; no chart is cut;
- the family S&OP grid prints one page wide with whole family blocks on each page (never a family's
  15 rows split over two sheets of paper). Blocks have a fixed height, so the breaks stay on block
  boundaries however many families a refresh brings.

No print area is set: the printed range is the used range, which grows with the rows a refresh adds (a
fixed range would silently leave them out). The headless refresh never touches the parts that hold the
page setup (``<pageSetup>``, ``<rowBreaks>``/``<colBreaks>``, ``<headerFooter>``, ``_xlnm.Print_Titles``).

Paper size is left to the printer (Letter or A4): the scale is computed for the narrower of the two.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import xl_cell_to_rowcol

from .layout import TableSpec

HEADER_ROW = 3
"""0-based row of every table's header (the layout's anchors are all on row 4): repeated on every page."""
FOOTER = "&L&A&RPage &P of &N"
"""Sheet name left, page number right: a loose printed page still says where it belongs."""
_FOOTER_LINE = re.compile(r"^\s*(?P<sheet>\S.*?)\s{2,}Page \d+ of \d+\s*$")
MARGINS_IN = {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.6}
PRINTABLE_WIDTH_PT = (11.0 - MARGINS_IN["left"] - MARGINS_IN["right"]) * 72
"""Landscape Letter (11 in; A4 is 11.69 in) less the side margins."""
PRINTABLE_HEIGHT_PT = (8.27 - MARGINS_IN["top"] - MARGINS_IN["bottom"]) * 72
"""Landscape A4 (8.27 in; Letter is 8.5 in) less the top and bottom margins."""
PORTRAIT_WIDTH_PT = (8.27 - MARGINS_IN["left"] - MARGINS_IN["right"]) * 72
"""Portrait A4 less the side margins."""
PORTRAIT_MIN_SCALE = 0.8
"""A table that fits a portrait page at this scale or more prints portrait: about twice the rows a page
of landscape, for text at least 80 % of its size."""
SAFETY = 0.95
"""Room for the difference between Excel's and LibreOffice's metrics."""
DEFAULT_WIDTH = 8.43
"""Excel's default column width in characters (64 px)."""
ROW_PT = 15.0
"""Default row height (Calibri 11)."""
TOP_ROWS_PT = 4 * ROW_PT + 45.0
"""Allowance above the first data row: title, stamp and note rows, and a header wrapped over 3 lines."""
BLOCK_ROWS_LIMIT = 3_000
"""Rows of the S&OP grid given page breaks at block boundaries (200 families); beyond them the printer
breaks pages itself."""


@dataclass(frozen=True)
class Chart:
    """A chart as placed on a sheet: its top-left cell and size in pixels."""

    row: int
    col: int
    width_px: int
    height_px: int


@dataclass(frozen=True)
class RowBlocks:
    """Rows that belong together on a page: ``size`` rows at a time from 0-based row ``first``."""

    first: int
    size: int


@dataclass(frozen=True)
class PrintLayout:
    """What :func:`print_layout` decided for a sheet that needs manual page breaks."""

    scale: int
    """Print scale in percent."""
    column_breaks: tuple[int, ...]
    """0-based columns that start a new page."""
    row_breaks: tuple[int, ...]
    """0-based rows that start a new page (above a chart that would be cut, or a block)."""


def column_pixels(width: float) -> int:
    """Excel's drawn width of a column ``width`` characters wide (Calibri 11: 7 px a character, 5 px padding)."""
    return 0 if width <= 0 else int(width * 7 + 0.5) + 5


def title_pixels(title: str) -> int:
    """Width of a sheet title (bold 14 pt Calibri, measured in LibreOffice with the metric-compatible Carlito:
    7.6 to 8.2 px a character) with room to spare. The italic notes under it are shorter."""
    return math.ceil(8.5 * len(title))


def table_span(spec: TableSpec) -> tuple[int, int]:
    """First and last 0-based column of a table."""
    _, first = xl_cell_to_rowcol(spec.anchor)
    return int(first), int(first) + len(spec.columns) - 1


def print_layout(
    spans: Sequence[tuple[int, int]],
    widths: Mapping[int, float],
    charts: Sequence[Chart] = (),
    blocks: RowBlocks | None = None,
    heading_px: int = 0,
) -> PrintLayout:
    """Scale and page breaks for ``spans`` (the first and last columns of the sheet's tables), ``widths``
    (column widths in characters by 0-based column, others Excel's default), ``charts`` (drawn right of a
    table), row ``blocks`` to keep whole and the width of the sheet's title (``heading_px``).

    The scale makes the widest table (with its charts) one page wide, and the tables the title runs over
    one page wide together; neighbours share a page while they fit, and each group starts on a new page.
    A page break goes above a chart that would run over the bottom of its page, and between blocks so
    that each page holds as many whole blocks as fit.
    """
    ordered = sorted(spans)
    starts = [first for first, _ in ordered]

    def px(first: int, last: int) -> int:
        return sum(column_pixels(widths.get(c, DEFAULT_WIDTH)) for c in range(first, last + 1))

    def block_px(i: int) -> int:
        """Table i's pixels up to the next table (the gap columns print on its page), or to the right edge of
        the charts drawn right of it, whichever is wider."""
        first, last = ordered[i]
        nxt = starts[i + 1] if i + 1 < len(ordered) else None
        width = px(first, last if nxt is None else nxt - 1)
        for chart in charts:
            if chart.col > last and (nxt is None or chart.col < nxt):
                width = max(width, px(first, chart.col - 1) + chart.width_px)
        return width

    widths_px = [block_px(i) for i in range(len(ordered))]
    # the first page holds every table the sheet's title runs over: a title is never cut by a page break
    head = 1
    while head < len(ordered) and px(0, starts[head] - 1) < heading_px:
        head += 1
    first_px = px(0, starts[head] - 1) if head < len(ordered) else px(0, ordered[0][0] - 1) + sum(widths_px)
    widest = max([first_px, *widths_px[head:]])
    scale = max(10, min(100, math.floor(100 * SAFETY * PRINTABLE_WIDTH_PT / (widest * 0.75))))
    room_px = SAFETY * PRINTABLE_WIDTH_PT / 0.75 * 100 / scale
    column_breaks: list[int] = []
    used = first_px
    for first, pixels in zip(starts[head:], widths_px[head:], strict=True):
        used += pixels
        if used > room_px:
            column_breaks.append(first)
            used = pixels

    rows_per_page = (SAFETY * PRINTABLE_HEIGHT_PT * 100 / scale - TOP_ROWS_PT) / ROW_PT
    row_breaks: list[int] = []
    top = 0
    for chart in sorted(charts, key=lambda c: c.row):
        bottom = chart.row + math.ceil(chart.height_px * 0.75 / ROW_PT)
        if bottom - top > rows_per_page and chart.row > top:
            row_breaks.append(chart.row)
            top = chart.row
    if blocks is not None:
        step = blocks.size * max(1, math.floor(rows_per_page / blocks.size))
        row_breaks += range(blocks.first + step, blocks.first + BLOCK_ROWS_LIMIT, step)
    return PrintLayout(scale, tuple(column_breaks), tuple(sorted(set(row_breaks))))


def page_setup(
    sheet: Any,
    tables: Sequence[TableSpec] = (),
    widths: Mapping[int, float] | None = None,
    charts: Sequence[Chart] = (),
    blocks: RowBlocks | None = None,
    title: str = "",
) -> None:
    """Landscape (portrait if narrow), footer, header row repeated; one page wide, by "fit to" or by
    :func:`print_layout`.

    ``sheet`` is an xlsxwriter worksheet; ``tables`` the layout tables on it; ``widths`` the widths
    (characters) its columns were given, by 0-based column; ``charts`` the charts placed on it;
    ``blocks`` rows to keep together; ``title`` the sheet's title (cell A1), kept on one page. A sheet
    with charts does not repeat its header row: a chart drawn from that row on would be printed again, in
    part, at the top of every page (and its tables, the Summary's, are short).
    """
    given = dict(widths or {})
    if not charts:
        sheet.repeat_rows(HEADER_ROW)
    sheet.set_margins(**MARGINS_IN)
    sheet.set_footer(FOOTER)
    if len(tables) < 2 and blocks is None:
        wide = sum(column_pixels(given.get(c, DEFAULT_WIDTH)) for c in range(max(given, default=0) + 1))
        if wide * 0.75 * PORTRAIT_MIN_SCALE > SAFETY * PORTRAIT_WIDTH_PT:
            sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        return
    sheet.set_landscape()
    spans = [table_span(t) for t in tables] or [(min(given, default=0), max(given, default=0))]
    layout = print_layout(spans, given, charts, blocks, title_pixels(title))
    sheet.set_print_scale(layout.scale)
    if layout.column_breaks:
        sheet.set_v_pagebreaks(list(layout.column_breaks))
    if layout.row_breaks:
        sheet.set_h_pagebreaks(list(layout.row_breaks))


def pages_by_sheet(text: str) -> dict[str, list[int]]:
    """The 1-based PDF pages of each sheet, read from the :data:`FOOTER` of every page of a printed workbook
    (``text``: ``pdftotext -layout`` output, pages separated by form feeds); sheets in printing order."""
    out: dict[str, list[int]] = {}
    for number, page in enumerate(text.split("\f"), start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        match = _FOOTER_LINE.match(lines[-1]) if lines else None
        if match is not None:
            out.setdefault(match["sheet"], []).append(number)
    return out

"""Cell formats of the S&OP workbook, keyed by the layout's column kinds.

Formats follow the *kind* of a column, never its name, so a new layout column is formatted without
touching this module.
"""

from __future__ import annotations

from typing import Any

from .layout import Column, ColumnKind

NUMBER_FORMATS: dict[ColumnKind, str | None] = {
    "text": "@",
    "number": "#,##0",
    "money": "#,##0.00",
    "int": "0",
    "months": "0.0",
    "pct": '0.0"%"',
    "flag": None,
    "datetime": "yyyy-mm-dd hh:mm",
}
INPUT_FILL = "#FFF2CC"
"""Light yellow: the cells a planner is expected to type into (the Forecast grid)."""
SHORT_FILL, SHORT_FONT = "#FFC7CE", "#9C0006"
SURPLUS_FILL, SURPLUS_FONT = "#C6EFCE", "#006100"
TABLE_STYLE = "Table Style Medium 2"
HEADER_FILL, HEADER_FONT = "#4F81BD", "#FFFFFF"
"""The header row of :data:`TABLE_STYLE` (the workbook theme's accent 1, white bold), also written as the
header cells' own format: readers that ignore table styles (LibreOffice, its PDF export, viewers) still
show a header row that stands out."""
ROW_HEIGHT = 15.0
"""Excel's default row height in points (Calibri 11): one line of text."""
HEADER_LINE = 14
"""Characters of a header per line: longer headers wrap (over up to four lines) instead of widening
their column, so a table fits more columns on screen and on a printed page."""


class Formats:
    """The workbook's formats, created once per xlsxwriter workbook (formats are workbook objects)."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._cells: dict[tuple[ColumnKind, bool], Any] = {}
        self.widths: dict[str, dict[int, float]] = {}
        """Column widths (characters) the tables were given, by sheet name and 0-based column: the page
        setup scales from them."""
        self.header_lines: dict[tuple[str, int], int] = {}
        """Lines the tallest wrapped header needs, by sheet name and 0-based header row."""
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.stamp = workbook.add_format({"italic": True, "font_color": "#595959"})
        self.short = workbook.add_format({"bg_color": SHORT_FILL, "font_color": SHORT_FONT})
        self.surplus = workbook.add_format({"bg_color": SURPLUS_FILL, "font_color": SURPLUS_FONT})
        self.header = workbook.add_format(
            {"bold": True, "font_color": HEADER_FONT, "bg_color": HEADER_FILL, "text_wrap": True}
        )

    def cell(self, kind: ColumnKind, *, user_input: bool = False) -> Any:
        """Format of a data cell of this kind; ``user_input`` adds the input fill."""
        key = (kind, user_input)
        if key not in self._cells:
            props: dict[str, object] = {}
            if NUMBER_FORMATS[kind] is not None:
                props["num_format"] = NUMBER_FORMATS[kind]
            if kind == "flag":
                props["align"] = "center"
            if user_input:
                props.update({"bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF"})
            self._cells[key] = self._workbook.add_format(props)
        return self._cells[key]


def header_lines(header: str, width: float) -> int:
    """Lines ``header`` wraps over in a column ``width`` characters wide: a greedy word wrap that leaves
    two characters for the filter button and the padding, so it errs on a line too many, never too few."""
    room = max(int(width) - 2, 4)
    lines, used = 1, 0
    for word in header.split():
        need = len(word) if used == 0 else used + 1 + len(word)
        if used and need > room:
            lines, used = lines + 1, len(word)
        else:
            used = need
        while used > room:  # a word longer than a line breaks inside it
            lines, used = lines + 1, used - room
    return lines


def column_width(column: Column, longest_value: int) -> float:
    """A width that shows a line of the (wrapping) header and, for text, the longest value, capped so one
    long name can't push the rest of the table off screen."""
    header = min(len(column.header), HEADER_LINE)
    if column.kind == "text":
        return float(min(max(header, longest_value, 8) + 2, 40))
    return float(max(header + 2, 12))

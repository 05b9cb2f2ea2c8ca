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


class Formats:
    """The workbook's formats, created once per xlsxwriter workbook (formats are workbook objects)."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._cells: dict[tuple[ColumnKind, bool], Any] = {}
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.stamp = workbook.add_format({"italic": True, "font_color": "#595959"})
        self.short = workbook.add_format({"bg_color": SHORT_FILL, "font_color": SHORT_FONT})
        self.surplus = workbook.add_format({"bg_color": SURPLUS_FILL, "font_color": SURPLUS_FONT})

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


def column_width(column: Column, longest_value: int) -> float:
    """A width that shows the header and (for text) the longest value, capped so one long name can't
    push the rest of the table off screen."""
    if column.kind == "text":
        return float(min(max(len(column.header), longest_value, 8) + 2, 40))
    return float(max(len(column.header) + 2, 12))

"""Native PowerPoint charts (chart parts with their own embedded workbook), so finance can restyle them.

python-pptx writes each chart's data into an embedded xlsx with XlsxWriter, whose ``write()`` turns text
starting with ``=`` into a formula; family, scenario and work-center names come from the ERP or the
planner, so the chart data here is written with ``strings_to_formulas`` (and URLs) off: a name stays text.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.util import Emu, Pt
from xlsxwriter import Workbook

PALETTE = ("1F3A5F", "2A9D8F", "E9C46A", "F4A261", "E76F51", "6B7280", "8AB17D")
Series = tuple[str, Sequence[float | None]]


def rgb(hex_code: str) -> RGBColor:
    """An RGB colour from ``"1F3A5F"``."""
    return RGBColor(int(hex_code[0:2], 16), int(hex_code[2:4], 16), int(hex_code[4:6], 16))  # type: ignore[no-untyped-call]


class _TextOnlyWriter(CategoryWorkbookWriter):
    """The embedded workbook of a chart, with every string written as text (never a formula or a link)."""

    @contextmanager
    def _open_worksheet(self, xlsx_file: io.BytesIO) -> Iterator[tuple[Any, Any]]:
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        workbook = Workbook(xlsx_file, options)
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class SafeChartData(CategoryChartData):
    """:class:`CategoryChartData` whose embedded workbook keeps names as text."""

    @property
    def _workbook_writer(self) -> _TextOnlyWriter:
        writer = self.__dict__.get("_safe_writer")
        if writer is None:
            writer = self.__dict__["_safe_writer"] = _TextOnlyWriter(self)  # type: ignore[no-untyped-call]
        return writer


def _clean(values: Sequence[float | None]) -> list[float | None]:
    """Missing and infinite points are gaps in the chart, never zeros."""
    return [None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v) for v in values]


def chart_data(categories: Sequence[str], series: Sequence[Series], number_format: str = "#,##0") -> SafeChartData:
    data = SafeChartData(number_format=number_format)  # type: ignore[no-untyped-call]
    data.categories = [str(c) for c in categories]
    for name, values in series:
        data.add_series(str(name), _clean(values))  # type: ignore[no-untyped-call]
    return data


Box = tuple[int, int, int, int]


def add_chart(
    shapes: Any,
    kind: str,
    box: Box,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    number_format: str = "#,##0",
    font_pt: int = 10,
) -> Any:
    """A ``line``, ``column`` or ``bar`` chart in ``box`` (EMU: left, top, width, height); returns the chart."""
    chart_type = {
        "line": XL_CHART_TYPE.LINE_MARKERS,
        "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
        "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    }[kind]
    left, top, width, height = (Emu(v) for v in box)
    frame = shapes.add_chart(chart_type, left, top, width, height, chart_data(categories, series, number_format))
    chart = frame.chart
    chart.font.size = Pt(font_pt)
    chart.font.name = "Calibri"
    chart.has_title = True
    chart.chart_title.text_frame.text = title
    chart.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(font_pt + 2)
    chart.chart_title.text_frame.paragraphs[0].runs[0].font.bold = True
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    chart.value_axis.has_major_gridlines = True
    chart.value_axis.major_gridlines.format.line.color.rgb = rgb("D9DDE3")
    chart.value_axis.tick_labels.number_format = number_format
    chart.value_axis.tick_labels.number_format_is_linked = False
    for i, plot_series in enumerate(chart.plots[0].series):
        colour = rgb(PALETTE[i % len(PALETTE)])
        if kind == "line":
            plot_series.format.line.color.rgb = colour
            plot_series.format.line.width = Pt(2)
            plot_series.smooth = False
            plot_series.marker.style = XL_MARKER_STYLE.CIRCLE
            plot_series.marker.size = 4
            plot_series.marker.format.fill.solid()
            plot_series.marker.format.fill.fore_color.rgb = colour
            plot_series.marker.format.line.color.rgb = colour
        else:
            plot_series.format.fill.solid()
            plot_series.format.fill.fore_color.rgb = colour
    return chart

"""How the S&OP workbook prints, and reads in readers that ignore table styles."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from addin import pipeline
from connectors.demo_data import write_export_folder
from tests.addin_support import DEMO_AS_OF
from workbooks import layout
from workbooks.styles import HEADER_FILL, header_lines


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("printing")
    export = write_export_folder(folder / "erp-export", seed=7, as_of=DEMO_AS_OF)
    return pipeline.new_workbook(folder / "SOP.xlsx", source=str(export), force=True)


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

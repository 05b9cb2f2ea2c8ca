"""`sop refresh` and `sop attach` end to end: only owned parts change, the user's never do."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli import app
from connectors.demo_data import write_export_folder
from tests.libreoffice import libreoffice_values, requires_libreoffice
from workbooks import layout
from workbooks.reader import read_forecast, read_table

runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures" / "excel-authored"


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def sheet_part_of(path: Path, table: str) -> str:
    """The worksheet part that holds ``table`` (via the table part's owning sheet rels)."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/_rels/") and name.endswith(".rels"):
                for target in (t for t in z.namelist() if t.startswith("xl/tables/")):
                    if table.encode() in z.read(target) and target.rsplit("/", 1)[1].encode() in z.read(name):
                        return "xl/worksheets/" + name.rsplit("/", 1)[1].removesuffix(".rels")
    raise AssertionError(f"{table} not found")


@pytest.fixture()
def demo(tmp_path: Path) -> tuple[Path, Path]:
    result = runner.invoke(app, ["demo", "--source", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path / "SOP.xlsx", tmp_path / "erp-export"


def test_refresh_rewrites_owned_tables_and_keeps_the_forecast_grid_byte_identical(demo: tuple[Path, Path]) -> None:
    book, export = demo
    stock = pd.read_csv(export / "stock.csv")
    stock["qty"] = 0  # the ERP's stock is gone: the plan must show deeper gaps after the refresh
    stock.to_csv(export / "stock.csv", index=False)
    before = parts(book)
    forecast_before = read_forecast(book)
    plan_before = read_table(book, layout.PLAN)
    inputs_before = [read_table(book, spec) for spec in layout.PLANNING_INPUTS]
    finance_before = read_table(book, layout.FINANCE_TOTALS)

    result = runner.invoke(app, ["refresh", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    assert "refreshed" in result.output and "backup:" in result.output

    after = parts(book)
    forecast_sheet = sheet_part_of(book, layout.FORECAST_TABLE)
    assert after[forecast_sheet] == before[forecast_sheet]
    pd.testing.assert_frame_equal(read_forecast(book), forecast_before)
    owned = [spec.name for spec in (*layout.OWNED_TABLES, *layout.PLANNING_TABLES)] + [layout.SOP_GRID_TABLE]
    owned_sheets = {sheet_part_of(book, name) for name in owned}
    unchanged = {n for n in before if n in after and before[n] == after[n]}
    changed = set(before) - unchanged
    assert changed <= owned_sheets | {n for n in before if n.startswith("xl/tables/")} | {
        "xl/workbook.xml",
        "[Content_Types].xml",
        "xl/_rels/workbook.xml.rels",
        "xl/calcChain.xml",
    }
    plan_after = read_table(book, layout.PLAN)
    assert plan_after["projected_inventory_firm"].sum() < plan_before["projected_inventory_firm"].sum()
    for spec, frame in zip(layout.PLANNING_INPUTS, inputs_before, strict=True):  # user-owned inputs kept
        pd.testing.assert_frame_equal(read_table(book, spec), frame)
    assert not read_table(book, layout.FINANCE_TOTALS).equals(finance_before)  # supply planning refreshed too
    assert list((book.parent / "sopxl-backups").glob("SOP.*.xlsx"))


def test_refresh_refuses_while_the_workbook_is_open(demo: tuple[Path, Path]) -> None:
    book, export = demo
    lock = book.parent / f"~${book.name}"
    lock.write_bytes(b"someone")
    before = book.read_bytes()
    result = runner.invoke(app, ["refresh", str(book), "--source", str(export)])
    assert result.exit_code == 1
    assert "open" in result.output.lower() and "Traceback" not in result.output
    assert book.read_bytes() == before


def test_refresh_with_bad_forecast_entries_names_the_cells_and_writes_nothing(demo: tuple[Path, Path]) -> None:
    import openpyxl

    book, export = demo
    wb = openpyxl.load_workbook(book)  # a person typing text and a negative number (test copy only)
    sheet = wb[layout.FORECAST_SHEET]
    sheet["B5"] = "lots"
    sheet["C6"] = -4
    wb.save(book)
    before = book.read_bytes()
    result = runner.invoke(app, ["refresh", str(book), "--source", str(export)])
    assert result.exit_code == 1
    assert "Forecast!B5" in result.output and "Forecast!C6" in result.output
    assert book.read_bytes() == before


@pytest.mark.parametrize("fixture", ["WithChart.xlsx", "SimpleMacro.xlsm", "ExcelPivotTableSample.xlsx"])
def test_attach_adopts_an_excel_authored_workbook_and_keeps_every_original_part(fixture: str, tmp_path: Path) -> None:
    book = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, book)
    export = write_export_folder(tmp_path / "export")
    before = parts(book)
    result = runner.invoke(app, ["attach", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    after = parts(book)
    edited = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/calcChain.xml"}
    for name, data in before.items():
        if name not in edited:
            assert after[name] == data, name
    assert len(read_table(book, layout.PLAN)) > 0
    again = runner.invoke(app, ["refresh", str(book), "--source", str(export)])
    assert again.exit_code == 0, again.output


@pytest.mark.libreoffice
@requires_libreoffice
def test_refreshed_demo_opens_in_libreoffice(demo: tuple[Path, Path], tmp_path: Path) -> None:
    book, export = demo
    assert runner.invoke(app, ["refresh", str(book), "--source", str(export)]).exit_code == 0
    sheets = libreoffice_values(book, tmp_path)
    plan = read_table(book, layout.PLAN)
    assert [r[0] for r in sheets["Plan"][4 : 4 + len(plan)]] == plan["family"].tolist()
    assert sheets["Plan"][1][0].startswith("ERP data as of ")


def test_an_erp_without_capacity_still_builds_then_uses_the_hours_typed_in(tmp_path: Path) -> None:
    """Tryton holds no work-center capacity: the load shows with unknown hours until the planner types them."""
    import openpyxl

    export = write_export_folder(tmp_path / "export")
    centers = pd.read_csv(export / "work_centers.csv")
    centers["hours_per_month"] = None
    centers.to_csv(export / "work_centers.csv", index=False)
    book = tmp_path / "Plan.xlsx"
    result = runner.invoke(app, ["new", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    load = read_table(book, layout.CAPACITY_LOAD)
    assert load["load_hours_proposed"].sum() > 0 and load["available_hours"].isna().all()

    wb = openpyxl.load_workbook(book)  # the planner types the hours into the user-owned Capacity table
    sheet = wb[layout.CAPACITY_INPUT.sheet]
    table = sheet.tables[layout.CAPACITY_INPUT.name]
    first, last = table.ref.split(":")
    for row in sheet[f"{first}:{last}"][1:]:
        row[1].value = 500
    wb.save(book)
    result = runner.invoke(app, ["refresh", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    load = read_table(book, layout.CAPACITY_LOAD)
    assert load["available_hours"].notna().all()
    assert set(load["available_hours"].round(6)) == {500.0}

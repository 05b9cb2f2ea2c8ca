"""What the Forecast grid leaves the plan without is said, in the CLI and on the Settings sheet: a family no
item belongs to, rows typed below the table, a month without a column, a blank grid. When the as-of month
rolls over, the refresh gives the grid the horizon's new month: cells sopxl adds, never cells it overwrites."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwings as xw
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from addin import pipeline, ribbon
from addin.cli import app
from addin.plan_cache import PlanCache, PlanStore
from connectors.demo_data import write_export_folder
from tests.addin_support import DEMO_AS_OF
from tests.xlwings_memory_engine import book_from_xlsx
from workbooks import layout
from workbooks.reader import read_forecast, read_forecast_grid, read_table, settings_values
from workbooks.xlsx import FileTableWriter, LayoutError

pytestmark = pytest.mark.demo_clock
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo export (as of 25 Nov 2026: horizon 2026-11 .. 2028-04) and its workbook."""
    folder = tmp_path_factory.mktemp("grid-notes")
    export = write_export_folder(folder / "export", seed=7, as_of=DEMO_AS_OF)
    return pipeline.new_workbook(folder / "SOP.xlsx", source=str(export)), export


def copy(built: tuple[Path, Path], tmp_path: Path) -> Path:
    target = tmp_path / "SOP.xlsx"
    shutil.copy(built[0], target)
    return target


def plan_notes(book: Path) -> str:
    return settings_values(read_table(book, layout.SETTINGS))["plan_notes"]


def one_line(text: str) -> str:
    return " ".join(text.split())


def type_below_the_table(book: Path, rows: list[list[object]], gap: int = 1) -> int:
    """What a planner does in Excel: type rows under the Forecast table, leaving ``gap`` empty rows (a test
    copy, via openpyxl). Returns the first typed row."""
    wb = openpyxl.load_workbook(book)
    sheet = wb[layout.FORECAST_SHEET]
    first = sheet.max_row + 1 + gap
    for i, values in enumerate(rows):
        for j, value in enumerate(values, start=1):
            sheet.cell(first + i, j, value)
    wb.save(book)
    return first


def test_a_forecast_row_of_an_unknown_family_is_named_and_not_planned(built: tuple[Path, Path], tmp_path: Path) -> None:
    _book, export = built
    forecast = pd.read_csv(export / "forecast.csv")
    forecast = pd.concat([forecast, pd.DataFrame({"family": ["Unicorns"] * 2, "bucket": ["2027-01", "2027-02"],
                                                  "qty": [70.0, 30.0]})])  # fmt: skip
    book = pipeline.new_workbook(tmp_path / "SOP.xlsx", source=str(export), forecast=forecast)
    assert "Unicorns" in set(read_forecast(book)["family"])  # the grid has the row
    result = runner.invoke(app, ["plan", "-s", str(export), "-w", str(book), "--json"])
    payload = json.loads(result.stdout)
    assert payload["unknown_forecast_families"] == ["Unicorns"]
    assert "Unicorns" not in {f["family"] for f in payload["families"]}
    (note,) = [n for n in payload["notes"] if "Unicorns" in n]
    assert "'Unicorns' (100 units) are not planned: no ERP item is in that family" in note
    text = runner.invoke(app, ["plan", "-s", str(export), "-w", str(book)])
    assert "note: Forecast row(s) 'Unicorns' (100 units) are not planned" in one_line(text.output)
    pipeline.refresh_workbook(book, source=str(export))
    assert "'Unicorns' (100 units) are not planned" in plan_notes(book)  # and on the workbook's Settings


def test_rows_typed_below_the_forecast_table_are_named_not_silently_dropped(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    book, export = copy(built, tmp_path), built[1]
    first = type_below_the_table(book, [["Scooters", 10, 20], ["Bikes", 5]])
    grid = read_forecast_grid(book)
    assert "Scooters" not in set(grid.frame["family"])  # Excel does not count them as the table's: not read
    (note,) = grid.notes
    assert note.startswith(f"Forecast!A{first}:")
    assert "2 row(s) typed below the tblForecast table ('Scooters', 'Bikes') are not read" in note
    assert "extend the table over them" in note
    result = runner.invoke(app, ["refresh", str(book), "-s", str(export)])
    assert result.exit_code == 0, result.output
    assert "row(s) typed below the tblForecast table ('Scooters', 'Bikes') are not read" in one_line(result.output)
    assert "typed below the tblForecast table" in plan_notes(book)


def test_a_blank_forecast_grid_says_so_even_when_nothing_goes_short(tmp_path: Path) -> None:
    """An ERP with stock and no orders and a grid nobody filled in: "no shortages" alone would read as good
    news; the note says the forecast is blank."""
    export = write_export_folder(tmp_path / "export", seed=7, as_of=DEMO_AS_OF)
    for name in ("open_demand.csv", "production.csv"):
        header = (export / name).read_text().splitlines()[0]
        (export / name).write_text(header + "\n")
    (export / "forecast.csv").unlink()
    book = pipeline.new_workbook(tmp_path / "SOP.xlsx", source=str(export))
    result = runner.invoke(app, ["refresh", str(book), "-s", str(export)])
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert "no shortages in the horizon" in text
    assert "note: the Forecast grid of SOP.xlsx is blank: demand is open orders only" in text
    assert "the Forecast grid of SOP.xlsx is blank" in plan_notes(book)
    bare = runner.invoke(app, ["plan", "-s", str(export)])  # no workbook, no forecast.csv
    assert "no sales forecast given (no --workbook, no forecast.csv in the export folder)" in one_line(bare.output)


def forecast_cells(book: Path) -> list[list[object]]:
    with CalamineWorkbook.from_path(book) as wb:
        return wb.get_sheet_by_name(layout.FORECAST_SHEET).to_python(skip_empty_area=False)


def test_after_the_month_rolls_over_the_grid_gains_the_new_month_and_keeps_every_cell(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    book = copy(built, tmp_path)
    later = write_export_folder(tmp_path / "december", seed=7, as_of=DEMO_AS_OF + dt.timedelta(days=30))  # 25 Dec
    before = forecast_cells(book)
    with zipfile.ZipFile(book) as z:
        untouched = {n: z.read(n) for n in z.namelist() if n.startswith("xl/charts/") or n == "xl/styles.xml"}
    result = runner.invoke(app, ["refresh", str(book), "-s", str(later)])
    assert result.exit_code == 0, result.output
    assert "the Forecast grid got a new column for 2028-05 (the horizon moved on)" in one_line(result.output)
    assert "got a new column for 2028-05" in plan_notes(book)

    after = forecast_cells(book)
    header = after[3].index("2028-04")
    assert after[3][header + 1] == "2028-05"
    for r, row in enumerate(before):  # every cell the planner had is as it was
        assert after[r][: len(row)] == row
    assert all(row[header + 1] in ("", None) for row in after[4 : 4 + len(before) - 4])  # the new month is blank
    wb = openpyxl.load_workbook(book)  # an independent reader: the table, its header and the cell styles
    sheet = wb[layout.FORECAST_SHEET]
    table = sheet.tables[layout.FORECAST_TABLE]
    assert [c.name for c in table.tableColumns][-2:] == ["2028-04", "2028-05"]
    assert table.ref.split(":")[1].rstrip("0123456789") == openpyxl.utils.get_column_letter(header + 2)
    for row in range(5, 5 + len(read_forecast(built[0])["family"].unique())):
        typed, added = sheet.cell(row, header + 1), sheet.cell(row, header + 2)
        assert added.value is None and added.fill.fgColor.rgb == typed.fill.fgColor.rgb  # shaded like its neighbour
    with zipfile.ZipFile(book) as z:
        assert {n: z.read(n) for n in untouched} == untouched
    assert sorted(set(read_forecast(book)["bucket"]))[-1] == "2028-05"

    again = runner.invoke(app, ["refresh", str(book), "-s", str(later)])  # the same month: nothing more to add
    assert again.exit_code == 0 and "new column" not in again.output
    assert forecast_cells(book) == after


def test_without_room_the_grid_is_left_alone_and_the_missing_month_is_named(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    book = copy(built, tmp_path)
    wb = openpyxl.load_workbook(book)
    sheet = wb[layout.FORECAST_SHEET]
    last = sheet.tables[layout.FORECAST_TABLE].ref.split(":")[1]
    column = openpyxl.utils.column_index_from_string(last.rstrip("0123456789")) + 1
    sheet.cell(6, column, "ask Anna about March")  # the planner's own note right of the grid
    wb.save(book)
    later = write_export_folder(tmp_path / "december", seed=7, as_of=DEMO_AS_OF + dt.timedelta(days=30))
    result = runner.invoke(app, ["refresh", str(book), "-s", str(later)])
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert "the Forecast grid has no column for 2028-05: planned with no forecast there" in text
    assert "cells right of the tblForecast table are not read as forecast" in text
    assert openpyxl.load_workbook(book)[layout.FORECAST_SHEET].cell(6, column).value == "ask Anna about March"
    assert "2028-05" not in set(read_forecast(book)["bucket"])


def test_the_patcher_never_grows_a_table_over_a_cell_that_holds_data(built: tuple[Path, Path], tmp_path: Path) -> None:
    """The guard in the part writer itself (the refresh checks for room first): nothing is written."""
    book = copy(built, tmp_path)
    wb = openpyxl.load_workbook(book)
    sheet = wb[layout.FORECAST_SHEET]
    last = sheet.tables[layout.FORECAST_TABLE].ref.split(":")[1]
    column = openpyxl.utils.column_index_from_string(last.rstrip("0123456789")) + 1
    sheet.cell(7, column, 42)
    wb.save(book)
    before = book.read_bytes()
    months = list(read_forecast_grid(book).months)
    writer = FileTableWriter(book, backups=0)
    writer.grow_table(layout.forecast_spec(months), ("2028-05",))
    with pytest.raises(LayoutError, match=r"holds data where a table must grow by a column"):
        writer.commit()
    assert book.read_bytes() == before


def test_the_ribbon_says_the_grid_is_blank_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refresh from ERP in Excel: the message ends with the same note as the CLI."""
    export = write_export_folder(tmp_path / "erp-export", seed=7, as_of=DEMO_AS_OF)
    (export / "forecast.csv").unlink()
    path = pipeline.new_workbook(tmp_path / "SOP.xlsx", source=str(export))
    monkeypatch.setattr(ribbon, "CACHE", PlanCache(PlanStore(tmp_path / "plans")))
    book = book_from_xlsx(str(path))
    book.set_mock_caller()
    try:
        message = ribbon.run("refresh")
    finally:
        del xw.Book._mock_caller
    assert message.startswith("Refreshed.")
    assert "\nNote: the Forecast grid is blank: demand is open orders only (type the sales forecast)." in message


def test_the_grid_is_read_without_expanding_the_other_sheets(built: tuple[Path, Path], tmp_path: Path) -> None:
    """Reading the grid looks only at the Forecast sheet's own tables: a refresh of a workbook whose owned
    SKU tables hold 100+ MB of XML must not expand them just to find their corners. Proven by breaking the
    XML of every other sheet holding a table: the grid still reads, the same as before."""
    from workbooks.xlsx import gate
    from workbooks.xlsx.errors import WorkbookError

    book = copy(built, tmp_path)
    expected = read_forecast_grid(book)
    checked = gate.check(book)
    forecast_sheet = checked.table_sheets[layout.FORECAST_TABLE.lower()]
    broken = {checked.sheets[s] for s in checked.table_sheets.values() if s != forecast_sheet}
    assert broken
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in broken:  # the prolog stays (the gate reads it), the sheet's XML is cut short
                data = data[: data.index(b"<sheetData>") + len(b"<sheetData>")] + b'<row r="1"><c r="A1"'
            zout.writestr(info, data)
    with pytest.raises(WorkbookError):  # the damage is real: a table on a broken sheet cannot be read
        read_table(damaged, layout.DEMAND)
    got = read_forecast_grid(damaged)
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    assert (got.months, got.notes, got.room) == (expected.months, expected.notes, expected.room)

"""``sop attach`` gives a team's workbook everything ``sop new`` would: the supply-planning sheets (Capacity,
Finance, Scenarios with their user inputs), the family S&OP grid and the Proposal sheet; attaching again adds
what a workbook attached by an older sopxl lacks; the planner's instructions sit where no refresh writes."""

from __future__ import annotations

import importlib
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from addin.cli import app
from connectors.demo_data import write_export_folder
from sop_functions.buckets import Horizon
from tests.addin_support import DEMO_AS_OF
from workbooks import layout
from workbooks.reader import read_table
from workbooks.xlsx.attach import attach

attach_module = importlib.import_module("workbooks.xlsx.attach")  # the package exports the function

pytestmark = pytest.mark.demo_clock
runner = CliRunner()
FIXTURES = Path(__file__).parent / "fixtures" / "excel-authored"
EVERY_TABLE = {
    *(s.name for s in (*layout.OWNED_TABLES, *layout.PLANNING_TABLES, *layout.PLANNING_INPUTS)),
    layout.FORECAST_TABLE,
    layout.SOP_GRID_TABLE,
}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_export_folder(tmp_path_factory.mktemp("attach") / "exports", seed=7, as_of=DEMO_AS_OF)


def team_workbook(path: Path) -> Path:
    """A team's own workbook, with a sheet called like one of sopxl's."""
    book = openpyxl.Workbook()
    book.active.title = "Capacity"
    book["Capacity"]["A1"] = "our shift plan"
    book["Capacity"]["A2"] = "do not overwrite"
    book.save(path)
    return path


def cells(book: Path, sheet: str) -> list[list[object]]:
    with CalamineWorkbook.from_path(book) as wb:
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def tables(book: Path) -> set[str]:
    with CalamineWorkbook.from_path(book, load_tables=True) as wb:
        return set(wb.table_names or [])


def test_attach_adds_every_sheet_new_would_and_refreshes_them(export: Path, tmp_path: Path) -> None:
    book = team_workbook(tmp_path / "OurPlan.xlsx")
    result = runner.invoke(app, ["attach", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    assert tables(book) == EVERY_TABLE
    with CalamineWorkbook.from_path(book) as wb:
        names = wb.sheet_names
    assert names[0] == "Capacity" and {"Capacity (sopxl)", "Finance", "Scenarios", "S&OP", "Proposal"} <= set(names)
    assert cells(book, "Capacity")[:2] == [["our shift plan"], ["do not overwrite"]]  # the team's sheet as it was
    work_centers = read_table(book, layout.CAPACITY_INPUT)["work_center"].tolist()
    assert work_centers == ["WC01", "WC02", "WC03"]  # prefilled from the ERP, hours blank for the planner
    assert len(read_table(book, layout.FINANCE)) > 0 and len(read_table(book, layout.CAPACITY_LOAD)) > 0
    assert len(read_table(book, layout.PLANNED_ORDERS)) > 0
    grid = cells(book, "S&OP")
    assert grid[3][:3] == ["Family", "Measure", "Note"] and grid[4][0] == "Bikes"  # tblSOP, refreshed
    for sheet, layout_sheet in (("Capacity (sopxl)", "Capacity"), ("Scenarios", "Scenarios"), ("S&OP", "S&OP")):
        rows = cells(book, sheet)
        assert str(rows[1][0]).startswith("ERP data as of 2026-11-25")  # the stamp the refresh wrote, in A2
        assert rows[2][0] == layout.SHEET_NOTES[layout_sheet][1]  # the instructions survive it, in A3


def test_attaching_again_adds_what_an_older_attach_left_out(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workbook attached before the supply-planning sheets and the S&OP grid existed gains them; the
    tables it has keep their rows until the refresh."""
    book = team_workbook(tmp_path / "OurPlan.xlsx")
    with monkeypatch.context() as older:  # what attach added before layout 2 and 3
        older.setattr(attach_module, "PLANNING_TABLES", ())
        older.setattr(attach_module, "PLANNING_INPUTS", ())
        attach(book, Horizon.from_as_of(pd.Timestamp(DEMO_AS_OF.date())).buckets, ["Bikes"])
    assert tables(book) == {*(s.name for s in layout.OWNED_TABLES), layout.FORECAST_TABLE}
    with zipfile.ZipFile(book) as z:
        kept = {n: z.read(n) for n in z.namelist() if n.startswith("xl/tables/")}
    result = runner.invoke(app, ["attach", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "already" not in text
    assert "attached: tblCapacityLoad, tblCapacityPeak, tblMaterialShortages, tblFinance" in text
    assert tables(book) == EVERY_TABLE
    forecast = next(name for name, data in kept.items() if b'name="tblForecast"' in data)
    with zipfile.ZipFile(book) as z:
        assert z.read(forecast) == kept[forecast]  # the user's grid part is untouched (its months fit)
    again = runner.invoke(app, ["attach", str(book), "--source", str(export)])
    assert again.exit_code == 0, again.output
    assert "already has every sopxl table; refreshed them" in " ".join(again.output.split())


def test_attach_to_an_excel_authored_workbook_with_a_table_of_its_own(export: Path, tmp_path: Path) -> None:
    book = tmp_path / "WithTable.xlsx"
    shutil.copy(FIXTURES / "WithTable.xlsx", book)
    result = runner.invoke(app, ["attach", str(book), "--source", str(export)])
    assert result.exit_code == 0, result.output
    assert tables(book) >= EVERY_TABLE
    assert len(read_table(book, layout.SCENARIOS)) > 0  # Base rows, written by the refresh

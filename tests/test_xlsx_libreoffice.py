"""LibreOffice headless as an independent oracle: refreshed files open and user formulas recalculate."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.xlsx_support import build_layout_workbook, copy_fixture, frames, libreoffice_csv, soffice
from workbooks.xlsx import attach, refresh_file

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed"),
]


def _bikes_demand(n: int) -> float:
    frame = frames(n)["tblDemand"]
    return float(frame.loc[frame["family"] == "Bikes", "demand_proposed"].sum())


def test_user_formula_recalculates_over_refreshed_table(tmp_path: Path) -> None:
    book = build_layout_workbook(tmp_path / "plan.xlsx")
    refresh_file(book, frames(40), "ERP as of 2025-03-01", backups=0)
    sheets = libreoffice_csv(book, tmp_path)
    assert float(sheets["My analysis"][0][0]) == _bikes_demand(40)
    assert sheets["My analysis"][0][1] == "=not a formula"
    assert sheets["Demand"][1][0] == "ERP as of 2025-03-01"
    assert len(sheets["Demand"]) == 44


def test_attached_macro_and_pivot_workbooks_open_and_recalculate(tmp_path: Path) -> None:
    for name in ("SimpleMacro.xlsm", "ExcelPivotTableSample.xlsx"):
        path = copy_fixture(name, tmp_path)
        attach(path, ["2025-01", "2025-02"], ["Bikes", "Cars"], backups=0)
        refresh_file(path, frames(8), "stamp", backups=0)
        sheets = libreoffice_csv(path, tmp_path / f"lo-{path.stem}")
        assert sheets["Demand"][3][:3] == ["SKU", "Family", "Bucket"]
        assert sheets["Forecast"][4][0] == "Bikes"
        assert sheets["Demand"][1][0] == "stamp"

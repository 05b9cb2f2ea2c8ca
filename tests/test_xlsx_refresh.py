"""Refreshing a sopxl-layout workbook a user has enriched: owned data changes, nothing else does."""

from __future__ import annotations

import datetime as dt
import os
import struct
import zipfile
from pathlib import Path
from typing import IO

import openpyxl
import pandas as pd
import pytest
import python_calamine

from tests.xlsx_support import ENTRY_PARTS, build_layout_workbook, copy_fixture, frames, part_bytes
from workbooks import layout
from workbooks.xlsx import (
    FileTableWriter,
    LayoutError,
    RefreshInProgressError,
    WorkbookError,
    WorkbookLockedError,
    attach,
    refresh_file,
)
from workbooks.xlsx.safe_save import BACKUP_DIR, refresh_lock


def _sheet(path: Path, name: str) -> list[list[object]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return build_layout_workbook(tmp_path / "plan.xlsx")


def test_refresh_changes_only_owned_parts(book: Path) -> None:
    before = part_bytes(book)
    report = refresh_file(book, frames(50), "ERP as of 2025-03-01", backups=0)
    after = part_bytes(book)
    owned = set(report.changed_parts) - set(ENTRY_PARTS)
    assert all(p.startswith(("xl/worksheets/sheet", "xl/tables/table")) for p in owned)
    for part, data in before.items():
        if part not in report.changed_parts:
            assert after[part] == data, part
    assert report.rows == {s.name: 50 for s in layout.OWNED_TABLES}


def test_values_titles_stamps_and_neighbours(book: Path) -> None:
    refresh_file(book, frames(5), "ERP as of 2025-03-01", backups=0)
    rows = _sheet(book, "Demand")
    assert rows[0][0] == "Demand (title kept by refresh)" and rows[1][0] == "ERP as of 2025-03-01"
    assert rows[0][13] == "my note beside the table" and rows[5][13] == 42.0  # N1 and N6 beside the table
    assert rows[4][:6] == ["sku-0", "Bikes", "bucket-0", 0.5, 0.5, 0.5]
    assert len(rows) == 9
    summary = _sheet(book, "Summary")
    assert summary[3][0] == "Rank" and summary[3][13] == "Family"  # both tables' headers kept on row 4
    assert summary[8][0] == 5.0 and summary[8][13] == "Bikes"
    wb = openpyxl.load_workbook(book)
    assert wb["Summary"].tables["tblFamilyTotals"].ref == "N4:S9"
    assert wb["Summary"].tables["tblTopGaps"].autoFilter.ref == "A4:L9"
    assert wb["Demand"]["J7"].number_format == "#,##0.00"  # the first data row's style reused for new rows


def test_table_shrinks_and_grows_and_keeps_one_empty_row(book: Path) -> None:
    refresh_file(book, frames(30), "s", backups=0)
    refresh_file(book, {"tblPlan": frames(0)["tblPlan"]}, "s", backups=0)
    wb = openpyxl.load_workbook(book)
    assert wb["Plan"].tables["tblPlan"].ref == "A4:U5"
    assert wb["Demand"].tables["tblDemand"].ref == "A4:J34"
    assert all(c.value is None for c in wb["Plan"][5])


def test_user_sheet_formula_chart_comments_are_untouched(book: Path) -> None:
    before = part_bytes(book)
    refresh_file(book, frames(10), "s", backups=0)
    after = part_bytes(book)
    for part in before:
        if "chart" in part or "comments" in part or "vmlDrawing" in part or part.endswith("sheet10.xml"):
            assert after[part] == before[part], part
    wb = openpyxl.load_workbook(book)
    assert wb["My analysis"]["A1"].value.startswith("=SUMIFS(tblDemand[Demand (proposed)]")
    assert wb["My analysis"]["B1"].value == "=not a formula"
    assert b'fullCalcOnLoad="1"' in after["xl/workbook.xml"]


def test_formula_injection_is_always_text(book: Path) -> None:
    evil = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "\x00=1"]
    frame = frames(len(evil))["tblDemand"].assign(sku=evil)
    refresh_file(book, {"tblDemand": frame}, "s", backups=0)
    got = [row[0] for row in _sheet(book, "Demand")[4:]]
    assert got == evil
    wb = openpyxl.load_workbook(book)
    assert all(wb["Demand"].cell(5 + i, 1).data_type == "s" for i in range(len(evil)))
    with zipfile.ZipFile(book) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet5.xml")


def test_dates_honour_date1904(tmp_path: Path) -> None:
    for flag in (False, True):
        path = build_layout_workbook(tmp_path / f"d{flag}.xlsx", enriched=False, date1904=flag)
        frame = pd.DataFrame({"setting": ["as_of", "old"], "value": [dt.datetime(2025, 3, 1, 12), dt.date(1800, 1, 1)]})
        refresh_file(path, {"tblSettings": frame}, "s", backups=0)
        with zipfile.ZipFile(path) as z:
            sheet = z.read("xl/worksheets/sheet9.xml").decode()
        serial = 45717.5 if not flag else 45717.5 - 1462
        assert f"<v>{serial!r}</v>" in sheet
        assert "1800-01-01" in sheet  # before the epoch: ISO text


def test_layout_errors_write_nothing(book: Path) -> None:
    data = part_bytes(book)
    for part, body in data.items():
        if b'name="tblDemand"' in body:
            data[part] = body.replace(b'name="Forecast"', b'name="Need"')
        elif b'name="tblSupply"' in body:
            data[part] = body.replace(b"tblSupply", b"tblMine")
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in data.items():
            z.writestr(name, body)
    original = book.read_bytes()
    with pytest.raises(LayoutError) as err:
        refresh_file(book, frames(3), "s")
    text = str(err.value)
    assert "table tblDemand on sheet 'Demand' has headers" in text and "restore the header names" in text
    assert "table tblSupply (normally on sheet 'Supply') is missing" in text and "sop attach" in text
    assert book.read_bytes() == original
    assert not (book.parent / BACKUP_DIR).exists()


def test_growth_into_user_data_is_refused(book: Path) -> None:
    wb_bytes = part_bytes(book)
    sheet = wb_bytes["xl/worksheets/sheet5.xml"].decode()
    sheet = sheet.replace("</sheetData>", '<row r="20"><c r="B20"><v>7</v></c></row></sheetData>')
    wb_bytes["xl/worksheets/sheet5.xml"] = sheet.encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in wb_bytes.items():
            z.writestr(name, body)
    original = book.read_bytes()
    with pytest.raises(LayoutError, match=r"cell B20 .* holds data where the table must grow"):
        refresh_file(book, frames(30), "s")
    assert book.read_bytes() == original
    refresh_file(book, frames(10), "s", backups=0)  # fits above it: fine
    assert _sheet(book, "Demand")[19][1] == 7.0


def test_refuses_while_open_or_locked(book: Path) -> None:
    for lock in (f"~${book.name}", f".~lock.{book.name}#"):
        (book.parent / lock).write_text("user")
        with pytest.raises(WorkbookLockedError, match="is open in Excel or LibreOffice"):
            refresh_file(book, frames(2), "s")
        (book.parent / lock).unlink()
    with refresh_lock(book), pytest.raises(RefreshInProgressError, match="another sopxl refresh"):
        refresh_file(book, frames(2), "s")
    refresh_file(book, frames(2), "s", backups=0)


def test_backups_keep_last_n_and_mode(book: Path) -> None:
    os.chmod(book, 0o640)
    for i in range(4):
        refresh_file(book, frames(i + 1), f"s{i}", backups=2)
    assert len(list((book.parent / BACKUP_DIR).glob("plan.*.xlsx"))) == 2
    assert os.stat(book).st_mode & 0o777 == 0o640
    assert not list(book.parent.glob(".~sopxl-*"))


def test_writer_interface_and_user_tables(book: Path) -> None:
    writer = FileTableWriter(book, backups=0)
    with pytest.raises(ValueError, match="user-owned"):
        writer.write_table(layout.forecast_spec(["2025-01"]), pd.DataFrame())
    writer.write_table(layout.PLAN, frames(3)["tblPlan"])
    writer.write_stamp(layout.PLAN, "stamp")
    report = writer.commit()
    assert report.rows == {"tblPlan": 3}
    with pytest.raises(KeyError):
        refresh_file(book, {"tblForecast": pd.DataFrame()}, "s")


def test_pivot_cache_fed_by_owned_table_refreshes_on_load(tmp_path: Path) -> None:
    path = copy_fixture("ExcelPivotTableSample.xlsx", tmp_path)
    attach(path, ["2025-01"], ["Bikes"], backups=0)
    data = part_bytes(path)
    cache = "xl/pivotCache/pivotCacheDefinition1.xml"
    data[cache] = data[cache].replace(b'ref="A1:C4" sheet="Tabelle1"', b'name="tblDemand"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in data.items():
            z.writestr(name, body)
    refresh_file(path, frames(3), "s", backups=0)
    after = part_bytes(path)
    assert b'refreshOnLoad="1"' in after[cache]
    assert after["xl/pivotCache/pivotCacheDefinition2.xml"] == data["xl/pivotCache/pivotCacheDefinition2.xml"]


@pytest.mark.parametrize("where", ["rewritten sheet", "untouched part"])
def test_a_part_damaged_on_its_way_to_disk_is_caught_and_the_workbook_kept(
    book: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verification reads every part of the new file back once (the rewritten sheets in the row count,
    the rest on their own): one flipped byte in either is refused before the replace."""
    from workbooks.xlsx import patch, rebuild

    def damaged(pkg: object, plan: rebuild.Plan, fh: IO[bytes]) -> None:
        rebuild.write_package(pkg, plan, fh)  # type: ignore[arg-type]
        with zipfile.ZipFile(fh) as z:
            pick = [i for i in z.infolist() if (i.filename in plan.stream) == (where == "rewritten sheet")]
            info = max(pick, key=lambda i: i.compress_size)
        fh.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", fh.read(4))
        at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
        fh.seek(at)
        byte = fh.read(1)
        fh.seek(at)
        fh.write(bytes([byte[0] ^ 0x5A]))
        fh.seek(0, os.SEEK_END)

    monkeypatch.setattr(patch, "write_package", damaged)
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"verification failed|cannot be decompressed|not well-formed"):
        refresh_file(book, frames(400), "s", backups=0)
    assert book.read_bytes() == before
    assert sorted(p.name for p in book.parent.iterdir() if not p.name.startswith(".~sopxl-lock")) == [book.name]

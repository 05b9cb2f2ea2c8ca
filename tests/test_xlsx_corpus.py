"""The Excel-authored corpus: attached, refreshed twice, every part not sopxl's stays byte-identical."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from tests.xlsx_support import ENTRY_PARTS, FIXTURES, HOSTILE, copy_fixture, frames, part_bytes, xml_entries
from workbooks.xlsx import LayoutError, UnsafeWorkbookError, WorkbookError, attach, refresh_file
from workbooks.xlsx.zipio import ZipLimits, open_package

CORPUS = sorted(p.name for p in FIXTURES.glob("*.xls*") if p.name not in HOSTILE)
OPENPYXL_UNREADABLE = {"SampleSS.strict.xlsx", "picture.xlsx"}
"""openpyxl cannot read these originals either (Strict OOXML; a non-standard styles.xml attribute)."""
BUCKETS = ["2025-01", "2025-02", "2025-03"]


@pytest.mark.parametrize("name", CORPUS)
def test_attach_then_refresh_twice_keeps_every_user_part(name: str, tmp_path: Path) -> None:
    path = copy_fixture(name, tmp_path)
    before = part_bytes(path)
    report = attach(path, BUCKETS, ["Bikes", "Cars"], backups=2)
    assert report.tables_added  # the corpus has no sopxl tables yet
    refresh_file(path, frames(6), "ERP as of 2025-01-31 08:00", backups=2)
    refresh_file(path, frames(3, seed=1), "ERP as of 2025-02-28 08:00", backups=2)
    after = part_bytes(path)
    chain = {n for n in before if n.lower().endswith("calcchain.xml")}
    for part, data in before.items():
        if part in chain:
            assert part not in after  # Excel rebuilds it; a stale one makes Excel "repair" the file
        elif part in ENTRY_PARTS:
            old, new = data.decode(), after[part].decode()
            for entry in xml_entries(old):
                if "calcChain" not in entry:
                    assert entry in new, (part, entry)
        else:
            assert after[part] == data, part
    # readers open the result and see the owned data
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    demand_sheet = next(s for s in book.sheet_names if s.startswith("Demand"))
    rows = book.get_sheet_by_name(demand_sheet).to_python()
    assert rows[0][0] == "Demand" and rows[1][0] == "ERP as of 2025-02-28 08:00"
    assert rows[3][:3] == ["SKU", "Family", "Bucket"] and len(rows) == 4 + 3
    if name not in OPENPYXL_UNREADABLE:
        wb = openpyxl.load_workbook(path, read_only=False)
        assert wb[demand_sheet].tables["tblDemand"].ref == "A4:J7"  # 10 columns, 3 data rows


def test_attach_twice_is_a_no_op(tmp_path: Path) -> None:
    path = copy_fixture("WithTable.xlsx", tmp_path)
    attach(path, BUCKETS, ["Bikes"], backups=0)
    data = path.read_bytes()
    again = attach(path, BUCKETS, ["Bikes"], backups=0)
    assert again.tables_added == () and path.read_bytes() == data


def test_attach_resolves_sheet_name_clashes_without_renaming_user_sheets(tmp_path: Path) -> None:
    path = copy_fixture("SimpleMacro.xlsm", tmp_path)
    import re

    with zipfile.ZipFile(path) as z:
        infos = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:  # the user renamed a sheet to "Plan"
        for info, data in infos:
            if info.filename == "xl/workbook.xml":
                data = re.sub(rb'name="Sheet1"', b'name="Plan"', data)
            z.writestr(info, data)
    report = attach(path, BUCKETS, ["Bikes"], backups=0)
    assert report.sheets["Plan"] == "Plan (sopxl)"
    refresh_file(path, frames(4), "stamp", backups=0)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert "Plan" in book.sheet_names and "Plan (sopxl)" in book.sheet_names
    assert book.get_sheet_by_name("Plan (sopxl)").to_python()[3][0] == "Family"
    assert part_bytes(path)["xl/vbaProject.bin"] == part_bytes(FIXTURES / "SimpleMacro.xlsm")["xl/vbaProject.bin"]


def test_attach_refuses_a_user_table_with_an_owned_name(tmp_path: Path) -> None:
    path = copy_fixture("WithTable.xlsx", tmp_path)
    with zipfile.ZipFile(path) as z:
        infos = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in infos:
            if info.filename == "xl/tables/table1.xml":
                data = data.replace(b'name="Tabella1"', b'name="tblPlan"').replace(
                    b'displayName="Tabella1"', b'displayName="tblPlan"'
                )
            z.writestr(info, data)
    table = part_bytes(path)["xl/tables/table1.xml"]
    if b"tblPlan" not in table:
        pytest.skip("fixture table has another name")
    original = path.read_bytes()
    with pytest.raises(LayoutError, match=r"already has a table 'tblPlan'.*Rename your table"):
        attach(path, BUCKETS, ["Bikes"])
    assert path.read_bytes() == original


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("poc-xmlbomb.xlsx", UnsafeWorkbookError, r"xl/sharedStrings.xml declares a DTD or entities"),
        ("xxe_in_schema.xlsx", UnsafeWorkbookError, r"XML map schema refers to the external location"),
        ("xlsx-corrupted.xlsx", WorkbookError, r"_rels/.rels is not well-formed XML"),
    ],
)
def test_hostile_and_corrupt_files_are_refused(name: str, error: type[Exception], message: str, tmp_path: Path) -> None:
    path = copy_fixture(name, tmp_path)
    original = path.read_bytes()
    with pytest.raises(error, match=message):
        attach(path, BUCKETS, ["Bikes"])
    with pytest.raises(error, match=message):
        refresh_file(path, frames(2), "x")
    assert path.read_bytes() == original


def test_truncated_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.xlsx"
    path.write_bytes((FIXTURES / "WithChart.xlsx").read_bytes()[:4000])
    with pytest.raises(WorkbookError, match=r"not an \.xlsx/\.xlsm package"):
        refresh_file(path, frames(2), "x")


def test_zip_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = b"\0" * (1 << 20)
            for _ in range(64):
                fh.write(block)
    with pytest.raises(UnsafeWorkbookError, match="compression ratio above 200:1"):
        attach(path, BUCKETS, ["Bikes"])
    with pytest.raises(UnsafeWorkbookError, match="limit 1000"):
        open_package(path, ZipLimits(max_part_bytes=1000))


def test_wrong_content_type_is_refused(tmp_path: Path) -> None:
    path = copy_fixture("WithChart.xlsx", tmp_path)
    data = part_bytes(path)
    data["[Content_Types].xml"] = data["[Content_Types].xml"].replace(b"sheet.main+xml", b"wordprocessingml+xml")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in data.items():
            z.writestr(name, body)
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        attach(path, BUCKETS, ["Bikes"])

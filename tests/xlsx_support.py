"""Helpers for the tests/test_xlsx_*.py suites: layout workbooks built with xlsxwriter, frames, zip diffs."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import xlsxwriter

from workbooks import layout

FIXTURES = Path(__file__).parent / "fixtures" / "excel-authored"
HOSTILE = {"poc-xmlbomb.xlsx", "xxe_in_schema.xlsx", "xlsx-corrupted.xlsx"}
USER_FORMULA = '=SUMIFS(tblDemand[Demand (proposed)],tblDemand[Family],"Bikes")'
ENTRY_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml")


def frames(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Deterministic frames for every owned table (Family alternates Bikes/Cars)."""
    out = {}
    for spec in layout.OWNED_TABLES:
        data: dict[str, list[object]] = {}
        for c in spec.columns:
            if c.field == "family":
                data[c.field] = ["Bikes" if j % 2 == 0 else "Cars" for j in range(n)]
            elif c.kind == "text":
                data[c.field] = [f"{c.field}-{(j + seed) % 7}" for j in range(n)]
            elif c.kind == "flag":
                data[c.field] = [j % 3 == 0 for j in range(n)]
            elif c.kind == "int":
                data[c.field] = list(range(1, n + 1))
            else:
                data[c.field] = [float(j + seed) + 0.5 for j in range(n)]
        out[spec.name] = pd.DataFrame(data)
    return out


def build_layout_workbook(path: Path, *, enriched: bool = True, date1904: bool = False) -> Path:
    """A sopxl-layout workbook (as layout.py describes it) plus, if ``enriched``, a user's additions."""
    wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "date_1904": date1904})
    money = wb.add_format({"num_format": "#,##0.00", "bold": True})
    by_sheet: dict[str, list[layout.TableSpec]] = {}
    for spec in (*layout.OWNED_TABLES, layout.forecast_spec(["2025-01", "2025-02"])):
        by_sheet.setdefault(spec.sheet, []).append(spec)
    for sheet in layout.SHEET_ORDER:
        ws = wb.add_worksheet(sheet)
        ws.write_string("A1", f"{sheet} (title kept by refresh)")
        specs = by_sheet.get(sheet, [])
        if any(s.stamp_cell for s in specs):
            ws.write_string("A2", "not refreshed")
        for spec in specs:
            r, c = _rc(spec.anchor)
            rows = [[("Bikes" if k == 0 else 1.0) for k in range(len(spec.columns))] for _ in range(2)]
            ws.add_table(
                r,
                c,
                r + 2,
                c + len(spec.columns) - 1,
                {
                    "name": spec.name,
                    "data": rows,
                    "columns": [
                        {"header": h, "format": money if k == len(spec.columns) - 1 else None}
                        for k, h in enumerate(spec.headers)
                    ],
                },
            )
        if sheet == "Demand":
            ws.write_string("N1", "my note beside the table")
            ws.write_number("N6", 42)
    if enriched:
        ws = wb.add_worksheet("My analysis")
        ws.write_formula("A1", USER_FORMULA, None, 0)
        ws.write_string("B1", "=not a formula")
        ws.write_comment("A1", "Bikes demand, recalculated by Excel")
        ws.data_validation("C1:C10", {"validate": "list", "source": ["yes", "no"]})
        ws.write_number("D1", 5)
        ws.conditional_format("D1:D10", {"type": "cell", "criteria": ">", "value": 3, "format": money})
        chart = wb.add_chart({"type": "column"})
        chart.add_series({"categories": "=Plan!$A$5:$A$6", "values": "=Plan!$C$5:$C$6"})
        ws.insert_chart("F2", chart)
    wb.close()
    return path


def _rc(cell: str) -> tuple[int, int]:
    m = re.match(r"([A-Z]+)(\d+)", cell)
    assert m
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def part_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def xml_entries(text: str) -> list[str]:
    """Every empty-element entry (Relationship, Override, Default, sheet) of a small part, as raw text."""
    return re.findall(r"<(?:[\w.-]+:)?(?:Relationship|Override|Default|sheet)\b[^>]*/>", text)


def copy_fixture(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copyfile(FIXTURES / name, target)
    return target


def soffice() -> str | None:
    return shutil.which("soffice")


def libreoffice_csv(path: Path, work: Path) -> dict[str, list[list[str]]]:
    """Open ``path`` in LibreOffice with recalculation forced and export every sheet as CSV."""
    work.mkdir(parents=True, exist_ok=True)
    profile = work / "lo-profile"
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
        "</oor:items>\n"
    )
    out = work / "csv"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    import csv

    sheets = {}
    for f in out.glob(f"{path.stem}-*.csv"):
        with f.open(newline="", encoding="utf-8") as fh:
            sheets[f.stem[len(path.stem) + 1 :]] = list(csv.reader(fh))
    return sheets

"""The template builder, checked with readers that share no code with it: openpyxl, python-calamine,
the raw zip parts, and LibreOffice headless."""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from tests.libreoffice import libreoffice_values, requires_libreoffice
from workbooks import layout
from workbooks.reader import check_layout, read_forecast, read_table
from workbooks.stamps import WorkbookStamps
from workbooks.template import new_workbook

CMD = "=cmd|' /C calc'!A0"
PLUS = "+SUM(A1)"
FAMILIES = ["Pumps", CMD, PLUS]
BUCKETS = ["PAST_DUE", "2026-11", "2026-12", "2027-01"]
MONTHS = BUCKETS[1:]
AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
STAMPS = WorkbookStamps("files:demo", AS_OF, dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC))
STAMP = "ERP data as of 2026-11-25 08:00 +01:00 (source: files:demo)"


def sku_plan() -> pd.DataFrame:
    rows = []
    for i, (sku, family) in enumerate([("P-100", "Pumps"), ("@V-7", CMD)]):
        for j, bucket in enumerate(BUCKETS):
            rows.append(
                {
                    "sku": sku,
                    "family": family,
                    "bucket": bucket,
                    "forecast": 10.0 * j,
                    "orders": 5.0,
                    "demand": 10.0 * j + 5,
                    "receipts": 2.0,
                    "production": 3.0 + i,
                    "supply": 5.0 + i,
                    "opening_inventory": 100.0,
                    "projected_inventory": 100.0 - j,
                    "safety_stock": 20.0,
                    "below_safety_stock": j == 3,
                    "cover_months": [math.inf, math.nan, 2.5, 0.25][j],
                    "gap_units": 1.0,
                }
            )
    return pd.DataFrame(rows)


def family_plan() -> pd.DataFrame:
    rows = [
        {
            "family": family,
            "bucket": bucket,
            "demand": 100.0 + j,
            "supply": 90.0,
            "projected_inventory": 50.0,
            "shortage_units": 10.0,
            "surplus_units": 0.0,
            "gap_units": [-10.0, 0.0, 5.0, math.nan][j],
            "gap_value": [-1234.5, 0.0, 99.99, -math.inf][j],
            "cover_months": [math.inf, 1.5, math.nan, 0.0][j],
        }
        for family in FAMILIES
        for j, bucket in enumerate(BUCKETS)
    ]
    return pd.DataFrame(rows)


def top_gaps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "family": ["Pumps", CMD, PLUS],
            "bucket": ["2026-11", "PAST_DUE", "2026-12"],
            "gap_units": [-10.0, -4.0, 3.0],
            "gap_value": [-1234.5, -400.0, 300.0],
        }
    )


def family_totals() -> pd.DataFrame:
    return pd.DataFrame(
        {"family": FAMILIES, "demand": [400.0, 30.0, 5.0], "supply": [360.0, 40.0, 5.0], "gap_value": [-40.0, 10, 0]}
    )


def tables() -> dict[str, pd.DataFrame]:
    sku = sku_plan()
    return {
        "tblDemand": sku,
        "tblSupply": sku,
        "tblInventory": sku,
        "tblPlan": family_plan(),
        "tblTopGaps": top_gaps(),
        "tblFamilyTotals": family_totals(),
    }


FORECAST = pd.DataFrame(
    {"family": ["Pumps", "Pumps", "Seals"], "bucket": ["2026-11", "2027-01", "2026-12"], "qty": [120, 80.5, 7]}
)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return new_workbook(tmp_path / "plan.xlsx", BUCKETS, FAMILIES, FORECAST, tables(), STAMPS)


def _ref(spec: layout.TableSpec, rows: int) -> str:
    row, col = openpyxl.utils.cell.coordinate_to_tuple(spec.anchor)
    last = openpyxl.utils.get_column_letter(col + len(spec.columns) - 1)
    return f"{spec.anchor}:{last}{row + rows}"


def test_sheets_tables_headers_and_refs(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert tuple(wb.sheetnames) == layout.SHEET_ORDER
    rows = {"tblSettings": 8, "tblDemand": 8, "tblSupply": 8, "tblInventory": 8, "tblPlan": 12}
    rows |= {"tblTopGaps": layout.TOP_GAP_ROWS, "tblFamilyTotals": 3}
    for spec in layout.OWNED_TABLES:
        ws = wb[spec.sheet]
        table = ws.tables[spec.name]
        assert table.ref == _ref(spec, rows[spec.name])
        assert [c.name for c in table.tableColumns] == list(spec.headers)
        anchor = ws[spec.anchor]
        cells = ws.iter_rows(min_row=anchor.row, max_row=anchor.row, min_col=anchor.column, values_only=True)
        assert list(next(cells))[: len(spec.headers)] == list(spec.headers)
    grid = wb[layout.FORECAST_SHEET].tables[layout.FORECAST_TABLE]
    assert grid.ref == "A4:D8"
    assert [c.name for c in grid.tableColumns] == ["Family", *MONTHS]
    assert check_layout(book) == []


def test_titles_and_as_of_stamp_on_every_owned_sheet(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    owned_sheets = {spec.sheet for spec in layout.OWNED_TABLES}
    assert owned_sheets == set(layout.SHEET_ORDER) - {layout.FORECAST_SHEET}
    for sheet in owned_sheets:
        assert wb[sheet]["A1"].value == layout.SHEET_TITLES[sheet]
        assert wb[sheet]["A2"].value == STAMP
    assert wb[layout.FORECAST_SHEET]["A1"].value == layout.SHEET_TITLES[layout.FORECAST_SHEET]


def test_unrefreshed_template_says_so(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "t.xlsx", BUCKETS, ["Pumps"])
    assert openpyxl.load_workbook(path)["Plan"]["A2"].value.startswith("ERP data: not refreshed yet")


def test_values_round_trip_through_calamine_with_nan_and_inf_blank(book: Path) -> None:
    plan = read_table(book, layout.PLAN)
    expected = family_plan()[[c.field for c in layout.PLAN.columns]].replace([math.inf, -math.inf], math.nan)
    pd.testing.assert_frame_equal(plan, expected, check_dtype=False)
    inventory = read_table(book, layout.INVENTORY)
    assert inventory["below_safety_stock"].tolist() == [False, False, False, True] * 2
    assert inventory["cover_months"].isna().tolist() == [True, True, False, False] * 2
    top = read_table(book, layout.TOP_GAPS)
    assert top["rank"].tolist() == [1, 2, 3]  # the 7 padding rows are blank
    settings = dict(read_table(book, layout.SETTINGS).itertuples(index=False))
    assert settings == {
        "source": "files:demo",
        "erp_as_of": "2026-11-25 08:00:00+01:00",
        "refreshed_at": "2026-11-25 09:30:00+00:00",
        "horizon_start": "2026-11",
        "horizon_periods": "3",
        "grain": "month",
        "sopxl_version": settings["sopxl_version"],
        "layout_version": str(layout.LAYOUT_VERSION),
    }
    # Infinite cover is a blank cell, not an error or a sentinel.
    wb = openpyxl.load_workbook(book)
    assert wb["Plan"]["J5"].value is None and wb["Plan"]["J6"].value == 1.5


def test_number_formats_follow_column_kinds(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Inventory"]
    formats = {c.value: ws.cell(6, c.column).number_format for c in ws[4]}
    assert formats["Opening inventory"] == "#,##0"
    assert formats["Months of cover"] == "0.0"
    assert ws["I8"].data_type == "b" and ws["I8"].value is True
    plan = openpyxl.load_workbook(book)["Plan"]
    assert plan["I5"].number_format == "#,##0.00"
    assert openpyxl.load_workbook(book)["Summary"]["A5"].number_format == "0"


def test_erp_strings_that_look_like_formulas_stay_text(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    cells = [wb["Plan"]["A9"], wb["Plan"]["A13"], wb["Demand"]["A9"], wb["Summary"]["H6"]]
    assert [c.value for c in cells] == [CMD, PLUS, "@V-7", CMD]
    assert {c.data_type for c in cells} == {"s"}
    with zipfile.ZipFile(book) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    with CalamineWorkbook.from_path(book) as cal:
        rows = cal.get_sheet_by_name("Forecast").to_python(skip_empty_area=False)
    assert [r[0] for r in rows[4:8]] == ["Pumps", CMD, PLUS, "Seals"]


def test_forecast_grid_prefill_validation_fill_and_freeze(book: Path) -> None:
    ws = openpyxl.load_workbook(book)[layout.FORECAST_SHEET]
    assert [[c.value for c in row] for row in ws["A5:D8"]] == [
        ["Pumps", 120, None, 80.5],
        [CMD, None, None, None],
        [PLUS, None, None, None],
        ["Seals", None, 7, None],  # a forecast family not in the list gets its own row, never dropped
    ]
    (validation,) = ws.data_validations.dataValidation
    assert str(validation.sqref) == "B5:D8"
    assert (validation.type, validation.operator, validation.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert validation.error == "Forecast must be a number >= 0"
    assert validation.showErrorMessage and validation.errorStyle in (None, "stop")
    assert validation.showInputMessage and validation.prompt
    assert ws["C6"].fill.fgColor.rgb.endswith("FFF2CC")
    assert ws["A6"].fill.fgColor.rgb != ws["C6"].fill.fgColor.rgb
    assert ws.freeze_panes == "B5"
    expected = pd.DataFrame(
        {
            "family": [f for f in [*FAMILIES, "Seals"] for _ in MONTHS],
            "bucket": MONTHS * 4,
            "qty": [120, 0, 80.5] + [0.0] * 6 + [0, 7, 0],
        }
    )
    pd.testing.assert_frame_equal(read_forecast(book), expected, check_dtype=False)


def test_plan_gap_colours_freeze_and_widths(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Plan"]
    rules = {str(cf.sqref): [(r.type, r.operator, r.formula) for r in cf.rules] for cf in ws.conditional_formatting}
    for col in "HI":
        rng = f"{col}5:{col}1048576"
        assert sorted(rules[rng]) == [("cellIs", "greaterThan", ["0"]), ("cellIs", "lessThan", ["0"])]
    assert ws.freeze_panes == "C5"
    assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width >= 8


def test_summary_charts_reference_the_summary_tables(book: Path) -> None:
    with zipfile.ZipFile(book) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 2
        xml = {n: z.read(n).decode() for n in charts}
        workbook_rels = z.read("xl/_rels/workbook.xml.rels").decode()
        summary_part = "xl/worksheets/sheet1.xml"
        assert "worksheets/sheet1.xml" in workbook_rels
        sheet_rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
        (drawing,) = re.findall(r'Target="\.\./drawings/(drawing\d+\.xml)"', sheet_rels)
        assert "<drawing " in z.read(summary_part).decode()
        drawing_rels = z.read(f"xl/drawings/_rels/{drawing}.rels").decode()
    assert sorted(re.findall(r"charts/(chart\d+\.xml)", drawing_rels)) == ["chart1.xml", "chart2.xml"]
    totals = next(x for x in xml.values() if "Demand vs supply per family" in x)
    assert '<c:barDir val="col"/>' in totals
    assert "Summary!$H$5:$H$7" in totals
    assert "Summary!$I$5:$I$7" in totals and "Summary!$J$5:$J$7" in totals
    gaps = next(x for x in xml.values() if "Top 10 gaps (value)" in x)
    assert '<c:barDir val="bar"/>' in gaps
    assert "Summary!$B$5:$C$14" in gaps and "Summary!$E$5:$E$14" in gaps


def test_empty_tables_get_one_blank_row(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "empty.xlsx", ["PAST_DUE", "2026-11"], [])
    wb = openpyxl.load_workbook(path)
    assert wb["Plan"].tables["tblPlan"].ref == "A4:J5"
    assert wb["Summary"].tables["tblFamilyTotals"].ref == "H4:K5"
    assert wb["Forecast"].tables["tblForecast"].ref == "A4:B5"
    assert read_table(path, layout.PLAN).empty
    assert list(read_table(path, layout.PLAN).columns) == [c.field for c in layout.PLAN.columns]
    assert read_forecast(path).empty
    assert check_layout(path) == []


def test_refuses_to_overwrite_and_rejects_bad_input(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "a.xlsx", BUCKETS, FAMILIES)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        new_workbook(path, BUCKETS, FAMILIES)
    assert new_workbook(path, BUCKETS, ["Other"], overwrite=True) == path
    with pytest.raises(ValueError, match=r"not sopxl-owned tables: \['tblNope'\]"):
        new_workbook(tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblNope": pd.DataFrame()})
    with pytest.raises(ValueError, match=r"frame for tblPlan lacks column\(s\) \['gap_value'\]"):
        new_workbook(
            tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblPlan": family_plan().drop(columns="gap_value")}
        )
    with pytest.raises(ValueError, match="tblTopGaps holds at most 10 rows, got 11"):
        new_workbook(
            tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblTopGaps": pd.concat([top_gaps()] * 4).head(11)}
        )
    with pytest.raises(ValueError, match=r"tblPlan row 2, column 'Demand': expected a number, got text 'x'"):
        new_workbook(
            tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblPlan": family_plan().assign(demand=[1, "x"] * 6)}
        )
    with pytest.raises(ValueError, match="bucket labels must be 'PAST_DUE' or YYYY-MM"):
        new_workbook(tmp_path / "b.xlsx", ["2026-13"], FAMILIES)
    bad = pd.DataFrame({"family": ["Pumps", "Pumps"], "bucket": ["PAST_DUE", "2026-11"], "qty": [1, -2]})
    with pytest.raises(ValueError) as err:
        new_workbook(tmp_path / "b.xlsx", BUCKETS, FAMILIES, bad)
    assert str(err.value) == (
        "invalid forecast prefill:\n"
        "  - forecast row 0: bucket 'PAST_DUE' is not a month of the horizon ['2026-11', '2026-12', '2027-01']\n"
        "  - forecast row 1: qty -2 must be a number >= 0"
    )
    with pytest.raises(ValueError, match=r"WorkbookStamps\.erp_as_of must be timezone-aware"):
        WorkbookStamps("x", dt.datetime(2026, 1, 1))
    assert not (tmp_path / "b.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]  # no temp files left behind


# --- LibreOffice headless: an independent application opens the file and exports every sheet's values.


@pytest.mark.libreoffice
@requires_libreoffice
def test_libreoffice_opens_the_workbook_and_reads_the_values(book: Path, tmp_path: Path) -> None:
    sheets = libreoffice_values(book, tmp_path)
    for spec in layout.OWNED_TABLES:
        if spec.stamp_cell:
            assert sheets[spec.sheet][1][0] == STAMP
        row = sheets[spec.sheet][3]
        col = openpyxl.utils.column_index_from_string(spec.anchor[0]) - 1
        assert row[col : col + len(spec.headers)] == list(spec.headers)
    plan = sheets["Plan"]
    assert plan[4] == ["Pumps", "PAST_DUE", "100", "90", "50", "10", "0", "-10", "-1234.5", ""]
    assert plan[8][:2] == [CMD, "PAST_DUE"] and plan[12][0] == PLUS
    assert plan[7][7:9] == ["", ""]  # NaN gap and -inf gap value are blank
    assert sheets["Inventory"][7][8:] == ["TRUE", "0.25"]
    assert sheets["Forecast"][4:8] == [
        ["Pumps", "120", "", "80.5"],
        [CMD, "", "", ""],
        [PLUS, "", "", ""],
        ["Seals", "", "7", ""],
    ]
    assert sheets["Summary"][5][7:] == [CMD, "30", "40", "10"]

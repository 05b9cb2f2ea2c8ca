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


def frame_for(spec: layout.TableSpec, keys: list[tuple[str, str]]) -> pd.DataFrame:
    """A frame with every layout field of ``spec``: one row per (key, bucket), numbers by position."""
    rows = []
    for i, (key, bucket) in enumerate(keys):
        row: dict[str, object] = {}
        for j, c in enumerate(spec.columns):
            if c.field in ("sku", "family"):
                row[c.field] = key
            elif c.field == "bucket":
                row[c.field] = bucket
            elif c.kind == "text":
                row[c.field] = f"{c.field} {i}"
            elif c.kind == "flag":
                row[c.field] = i % 4 == 3
            elif c.kind == "int":
                row[c.field] = i + 1
            else:
                row[c.field] = 10.0 * i + j
        rows.append(row)
    return pd.DataFrame(rows, columns=[c.field for c in spec.columns])


SKUS = [("P-100", b) for b in BUCKETS] + [("@V-7", b) for b in BUCKETS]
FAMILY_ROWS = [(f, b) for f in FAMILIES for b in BUCKETS]


def family_plan() -> pd.DataFrame:
    out = frame_for(layout.PLAN, FAMILY_ROWS)
    out["cover_months_proposed"] = [math.inf, 1.5, math.nan, 0.0] * 3  # infinite cover: a blank cell
    out["value_at_risk_proposed"] = [1234.5, 0.0, 99.99, -math.inf] * 3
    return out


def tables() -> dict[str, pd.DataFrame]:
    sku = frame_for(layout.INVENTORY, SKUS)
    sku["cover_months_proposed"] = [math.inf, math.nan, 2.5, 0.25] * 2
    merged = sku.join(frame_for(layout.DEMAND, SKUS).drop(columns=["sku", "family", "bucket"]), rsuffix="_d")
    merged = merged.join(frame_for(layout.SUPPLY, SKUS).drop(columns=["sku", "family", "bucket"]), rsuffix="_s")
    return {
        "tblDemand": merged,
        "tblSupply": merged,
        "tblInventory": merged,
        "tblPlan": family_plan(),
        "tblTopGaps": frame_for(layout.TOP_GAPS, [("Pumps", ""), (CMD, ""), (PLUS, "")]),
        "tblFamilyTotals": frame_for(layout.FAMILY_TOTALS, [(f, "") for f in FAMILIES]),
        "tblPlannedOrders": frame_for(layout.PLANNED_ORDERS, [("P-100", "2026-12")]),
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
    rows |= {"tblTopGaps": layout.TOP_GAP_ROWS, "tblFamilyTotals": 3, "tblPlannedOrders": 1}
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
    sop = wb[layout.SOP_GRID_SHEET].tables[layout.SOP_GRID_TABLE]  # no plan yet: the months, no families
    assert [c.name for c in sop.tableColumns] == [
        "Family", "Measure", "Note", "2026-08 (actual)", "2026-09 (actual)", "2026-10 (actual)", *BUCKETS
    ]  # fmt: skip
    assert check_layout(book) == []


def test_titles_and_as_of_stamp_on_every_owned_sheet(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    owned_sheets = {spec.sheet for spec in layout.OWNED_TABLES} | {layout.SOP_GRID_SHEET}
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
    assert inventory["below_safety_stock_proposed"].tolist() == [False, False, False, True] * 2
    assert inventory["cover_months_proposed"].isna().tolist() == [True, True, False, False] * 2
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
    cover = _column_letter(layout.PLAN, "cover_months_proposed")
    assert wb["Plan"][f"{cover}5"].value is None and wb["Plan"][f"{cover}6"].value == 1.5


def _column_letter(spec: layout.TableSpec, field: str) -> str:
    _row, col = openpyxl.utils.cell.coordinate_to_tuple(spec.anchor)
    return str(openpyxl.utils.get_column_letter(col + [c.field for c in spec.columns].index(field)))


def test_number_formats_follow_column_kinds(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Inventory"]
    formats = {c.value: ws.cell(6, c.column).number_format for c in ws[4]}
    assert formats["Safety stock"] == "#,##0"
    assert formats["Months of cover (proposed)"] == "0.0"
    assert formats["Value at risk (proposed)"] == "#,##0.00"
    flag = _column_letter(layout.INVENTORY, "below_safety_stock_proposed")
    assert ws[f"{flag}8"].data_type == "b" and ws[f"{flag}8"].value is True
    plan = openpyxl.load_workbook(book)["Plan"]
    assert plan[f"{_column_letter(layout.PLAN, 'load_pct_proposed')}5"].number_format == '0.0"%"'
    assert openpyxl.load_workbook(book)["Summary"]["A5"].number_format == "0"


def test_erp_strings_that_look_like_formulas_stay_text(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    family = _column_letter(layout.FAMILY_TOTALS, "family")
    cells = [wb["Plan"]["A9"], wb["Plan"]["A13"], wb["Demand"]["A9"], wb["Summary"][f"{family}6"]]
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


def test_plan_shortage_and_excess_colours_freeze_and_widths(book: Path) -> None:
    ws = openpyxl.load_workbook(book)["Plan"]
    rules = {str(cf.sqref): [(r.type, r.operator, r.formula) for r in cf.rules] for cf in ws.conditional_formatting}
    for field in ("shortage_units_firm", "value_at_risk_proposed", "excess_units_proposed"):
        col = _column_letter(layout.PLAN, field)
        assert rules[f"{col}5:{col}1048576"] == [("cellIs", "greaterThan", ["0"])]
    assert ws.freeze_panes == "C5"
    assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width >= 8


def test_summary_charts_reference_the_summary_tables(book: Path) -> None:
    with zipfile.ZipFile(book) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        assert len(charts) == 2
        xml = {n: z.read(n).decode() for n in charts}
        workbook_rels = z.read("xl/_rels/workbook.xml.rels").decode()
        summary_part = "xl/worksheets/sheet2.xml"  # S&OP is the first sheet, Summary the second
        assert "worksheets/sheet2.xml" in workbook_rels
        sheet_rels = z.read("xl/worksheets/_rels/sheet2.xml.rels").decode()
        (drawing,) = re.findall(r'Target="\.\./drawings/(drawing\d+\.xml)"', sheet_rels)
        assert "<drawing " in z.read(summary_part).decode()
        drawing_rels = z.read(f"xl/drawings/_rels/{drawing}.rels").decode()
    assert sorted(re.findall(r"charts/(chart\d+\.xml)", drawing_rels)) == ["chart1.xml", "chart2.xml"]
    totals = next(x for x in xml.values() if "Demand vs proposed supply per family" in x)
    assert '<c:barDir val="col"/>' in totals
    assert "Summary!$N$5:$N$7" in totals  # families
    assert "Summary!$O$5:$O$7" in totals and "Summary!$Q$5:$Q$7" in totals  # demand, proposed supply
    gaps = next(x for x in xml.values() if "Value at risk: if nothing changes vs after the proposal" in x)
    assert '<c:barDir val="bar"/>' in gaps
    assert "Summary!$B$5:$B$14" in gaps and "Summary!$H$5:$H$14" in gaps and "Summary!$K$5:$K$14" in gaps


def test_empty_tables_get_one_blank_row(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "empty.xlsx", ["PAST_DUE", "2026-11"], [])
    wb = openpyxl.load_workbook(path)
    assert wb["Plan"].tables["tblPlan"].ref == "A4:U5"
    assert wb["Summary"].tables["tblFamilyTotals"].ref == "N4:S5"
    assert wb["Forecast"].tables["tblForecast"].ref == "A4:B5"
    assert read_table(path, layout.PLAN).empty
    assert list(read_table(path, layout.PLAN).columns) == [c.field for c in layout.PLAN.columns]
    assert read_forecast(path).empty
    assert check_layout(path) == []


def test_refuses_to_overwrite_and_rejects_bad_input(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "a.xlsx", BUCKETS, FAMILIES)
    with pytest.raises(FileExistsError, match="pass --force to replace it"):
        new_workbook(path, BUCKETS, FAMILIES)
    assert new_workbook(path, BUCKETS, ["Other"], overwrite=True) == path
    with pytest.raises(ValueError, match=r"not sopxl-owned tables: \['tblNope'\]"):
        new_workbook(tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblNope": pd.DataFrame()})
    with pytest.raises(ValueError, match=r"frame for tblPlan lacks column\(s\) \['why_short'\]"):
        new_workbook(
            tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblPlan": family_plan().drop(columns="why_short")}
        )
    with pytest.raises(ValueError, match="tblTopGaps holds at most 10 rows, got 11"):
        new_workbook(
            tmp_path / "b.xlsx",
            BUCKETS,
            FAMILIES,
            tables={"tblTopGaps": pd.concat([tables()["tblTopGaps"]] * 4).head(11)},
        )
    with pytest.raises(ValueError, match=r"tblPlan row 2, column 'Forecast': expected a number, got text 'x'"):
        new_workbook(
            tmp_path / "b.xlsx", BUCKETS, FAMILIES, tables={"tblPlan": family_plan().assign(forecast=[1, "x"] * 6)}
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
    expected = family_plan().iloc[0]
    assert plan[4][:4] == ["Pumps", "PAST_DUE", f"{expected['forecast']:g}", f"{expected['orders']:g}"]
    assert plan[8][:2] == [CMD, "PAST_DUE"] and plan[12][0] == PLUS
    risk = [c.field for c in layout.PLAN.columns].index("value_at_risk_proposed")
    cover = [c.field for c in layout.PLAN.columns].index("cover_months_proposed")
    assert plan[7][risk] == "" and plan[4][cover] == ""  # -inf value and infinite cover are blank
    assert sheets["Forecast"][4:8] == [
        ["Pumps", "120", "", "80.5"],
        [CMD, "", "", ""],
        [PLUS, "", "", ""],
        ["Seals", "", "7", ""],
    ]
    family = 13  # tblFamilyTotals starts in column N
    assert sheets["Summary"][5][family] == CMD

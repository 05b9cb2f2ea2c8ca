"""Reading workbooks back: the user's Forecast grid (every bad entry reported with its cell) and the
owned tables, plus the layout check the refresh relies on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from workbooks import layout
from workbooks.reader import ForecastError, LayoutError, check_layout, read_forecast, read_table, require_layout
from workbooks.template import new_workbook

BUCKETS = ["PAST_DUE", "2026-11", "2026-12", "2027-01"]
RULE = "Forecast must be a number >= 0"


def grid(path: Path, header: list[object], rows: list[list[object]], *, table: bool = True) -> Path:
    """A Forecast sheet as a user might leave it: header on row 4, anything in the cells."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Forecast")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_string(0, 0, "Forecast")
    ws.write_string(1, 0, "notes above the grid are ignored")

    def put(r: int, c: int, value: object) -> None:
        if isinstance(value, dt.datetime):
            ws.write_datetime(r, c, value, date)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value)
        elif isinstance(value, str):
            ws.write_string(r, c, value)

    for c, value in enumerate(header):
        put(3, c, value)
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row):
            put(r, c, value)
    if table:
        columns = [{"header": str(h)} for h in header]
        ws.add_table(3, 0, 3 + max(len(rows), 1), len(header) - 1, {"name": layout.FORECAST_TABLE, "columns": columns})
    wb.close()
    return path


def test_blank_cells_are_zero_and_excel_dates_in_headers_are_months(tmp_path: Path) -> None:
    path = grid(
        tmp_path / "f.xlsx",
        ["Family", "2026-11", dt.datetime(2026, 12, 1)],
        [["Pumps", 10, None], [100, 2.5, 0], [None, None, None], ["Seals", " ", 4]],
        table=False,
    )
    # Table headers are always text; a date header (Excel auto-converting a typed 2026-12) needs a plain range
    assert read_forecast(path).to_dict("list") == {
        "family": ["Pumps", "Pumps", "100", "100", "Seals", "Seals"],
        "bucket": ["2026-11", "2026-12"] * 3,
        "qty": [10.0, 0.0, 2.5, 0.0, 0.0, 4.0],
    }


def test_every_bad_entry_is_reported_with_its_cell(tmp_path: Path) -> None:
    path = grid(
        tmp_path / "bad.xlsx",
        ["Family", "2026-11", "2026-12", "Notes", "2026-11"],
        [
            ["Pumps", "ten", 5, "ok", 1],
            ["Valves", 1, -5, None, None],
            ["Pumps", 1, 1, None, None],
            [None, 3, None, None, None],
            ["Seals", True, dt.datetime(2026, 1, 5), None, None],
        ],
        table=False,  # Excel itself refuses duplicate table headers; a plain range can have them
    )
    with pytest.raises(ForecastError) as err:
        read_forecast(path)
    assert str(err.value) == (
        "8 invalid entries in the Forecast grid of bad.xlsx:\n"
        "  - Forecast!D4: column header 'Notes' is not a month; month columns must be headed YYYY-MM (e.g. 2026-11)\n"
        "  - Forecast!E4 (month 2026-11): month appears twice (first in B4)\n"
        f"  - Forecast!B5 (family 'Pumps', month 2026-11): text 'ten' is not a number; {RULE}\n"
        f"  - Forecast!C6 (family 'Valves', month 2026-12): -5 is negative; {RULE}\n"
        "  - Forecast!A7 (family 'Pumps'): family appears twice (first in row 5); give each family one row\n"
        "  - Forecast!A8: forecast numbers in a row without a family; type the family name or clear the row\n"
        f"  - Forecast!B9 (family 'Seals', month 2026-11): TRUE is not a number; {RULE}\n"
        f"  - Forecast!C9 (family 'Seals', month 2026-12): a date/time (2026-01-05) is not a number; {RULE}"
    )
    assert [i.cell for i in err.value.issues][:3] == ["D4", "E4", "B5"]
    assert isinstance(err.value, ValueError)


def test_planner_edits_in_a_template_are_caught(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "plan.xlsx", BUCKETS, ["Pumps", "Valves", "=1+1"])
    wb = openpyxl.load_workbook(path)  # stands in for Excel: a planner types into the grid
    ws = wb["Forecast"]
    ws["B5"], ws["C6"], ws["D7"], ws["B7"] = 12, "ten", -5, 3
    wb.save(path)
    with pytest.raises(ForecastError) as err:
        read_forecast(path)
    assert str(err.value).splitlines()[1:] == [
        f"  - Forecast!C6 (family 'Valves', month 2026-12): text 'ten' is not a number; {RULE}",
        f"  - Forecast!D7 (family '=1+1', month 2027-01): -5 is negative; {RULE}",
    ]
    ws["C6"], ws["D7"] = None, 4.5
    wb.save(path)
    forecast = read_forecast(path)
    assert forecast[forecast.qty > 0].values.tolist() == [
        ["Pumps", "2026-11", 12.0],
        ["=1+1", "2026-11", 3.0],
        ["=1+1", "2027-01", 4.5],
    ]


def test_grid_extent_comes_from_the_table_else_the_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Pumps", 1], ["Valves", 2]]
    with_table = grid(tmp_path / "t.xlsx", ["Family", "2026-11"], rows)
    wb = openpyxl.load_workbook(with_table)
    wb["Forecast"]["A10"], wb["Forecast"]["B10"], wb["Forecast"]["D4"] = "Total", 3, "scratch"
    wb.save(with_table)  # a total row below the table and a note beside it are not forecast
    assert read_forecast(with_table)["family"].tolist() == ["Pumps", "Valves"]
    plain = grid(tmp_path / "p.xlsx", ["Family", "2026-11", None, "x"], [*rows, [None], ["Seals", 5]], table=False)
    assert read_forecast(plain)["family"].tolist() == ["Pumps", "Valves", "Seals"]


def test_forecast_layout_problems(tmp_path: Path) -> None:
    no_header = grid(tmp_path / "h.xlsx", ["Product", "2026-11"], [["Pumps", 1]], table=False)
    with pytest.raises(LayoutError, match="sheet 'Forecast' has no header row starting with 'Family'"):
        read_forecast(no_header)
    forecast = pd.DataFrame({"family": ["Pumps"], "bucket": ["2026-12"], "qty": [7.0]})
    path = new_workbook(tmp_path / "plan.xlsx", BUCKETS, ["Pumps"], forecast)
    wb = openpyxl.load_workbook(path)
    wb["Forecast"].title = "My forecast"  # the grid is found by its table name, on any sheet
    wb.save(path)
    assert read_forecast(path).query("qty > 0").to_dict("list") == {
        "family": ["Pumps"],
        "bucket": ["2026-12"],
        "qty": [7.0],
    }
    del wb["My forecast"].tables["tblForecast"]
    wb.save(path)
    with pytest.raises(LayoutError) as err:
        read_forecast(path)
    assert str(err.value) == (
        "the workbook does not match the sopxl layout:\n"
        "  - sheet 'Forecast' is missing (renamed or deleted?); the workbook has 'S&OP', 'Summary', 'Plan', "
        "'My forecast', 'Demand', 'Supply', 'Inventory', 'Proposal', 'Settings'"
    )


def test_read_table_types(tmp_path: Path) -> None:
    inventory = pd.DataFrame({c.field: [0.0, 0.0] for c in layout.INVENTORY.columns})
    inventory = inventory.assign(
        sku=["001", "A-2"],
        family="Pumps",
        bucket=["2026-11", "2026-12"],
        why_short=["", "lead time"],
        below_safety_stock_proposed=[True, False],
        cover_months_proposed=[float("inf"), 0.5],
        projected_inventory_proposed=[0.0, -1.0],
    )
    gaps = pd.DataFrame({c.field: [0.0] for c in layout.TOP_GAPS.columns}).assign(
        rank=[1], family=["Pumps"], first_short_bucket_firm="2026-12", first_short_bucket_proposed="",
        worst_bucket_firm="2026-12", why_short="", value_at_risk_window_firm=[9.5]
    )  # fmt: skip
    path = new_workbook(tmp_path / "p.xlsx", BUCKETS, ["Pumps"], tables={"tblInventory": inventory, "tblTopGaps": gaps})
    back = read_table(path, layout.INVENTORY)
    assert back["sku"].tolist() == ["001", "A-2"]  # text stays text, leading zero kept
    assert str(back["below_safety_stock_proposed"].dtype) == "boolean"
    assert back["cover_months_proposed"].isna().tolist() == [True, False]
    assert back["projected_inventory_proposed"].tolist() == [0.0, -1.0]
    assert back["why_short"].tolist() == ["", "lead time"]
    top = read_table(path, layout.TOP_GAPS)
    assert str(top["rank"].dtype) == "Int64" and top.to_dict("list")["value_at_risk_window_firm"] == [9.5]


def test_check_layout_names_what_changed(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "plan.xlsx", BUCKETS, ["Pumps"])
    require_layout(path)
    wb = openpyxl.load_workbook(path)
    wb["Demand"].title = "Demand (old)"
    plan = wb["Plan"].tables["tblPlan"]
    plan.tableColumns[14].name = "Risk EUR"
    wb["Plan"]["O4"] = "Risk EUR"
    del wb["Supply"].tables["tblSupply"]
    wb["Forecast"]["A4"] = "Product"
    wb.save(path)
    assert check_layout(path) == [  # the renamed Demand sheet is fine: tables are found by name
        f"table tblSupply (sheet 'Supply', headers {', '.join(layout.SUPPLY.headers)}) is missing: it was deleted, "
        "renamed or converted to a plain range",
        "table tblPlan on sheet 'Plan': missing column(s) 'Value at risk (proposed)'; unexpected column(s) "
        f"'Risk EUR' (expected {', '.join(layout.PLAN.headers)})",
        "the Forecast sheet has no header row starting with 'Family': the forecast grid cannot be read",
    ]
    assert read_table(path, layout.DEMAND).empty
    with pytest.raises(LayoutError, match=r"table tblSupply .* is missing"):
        read_table(path, layout.SUPPLY)
    with pytest.raises(LayoutError, match="missing column"):
        read_table(path, layout.PLAN)
    with pytest.raises(LayoutError, match=r"table tblSupply .* is missing"):
        require_layout(path)

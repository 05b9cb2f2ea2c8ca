"""The file connector: ERP export folders (CSV / xlsx) into snapshots, with every error placed exactly."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlsxwriter

from connectors.files import FileDataError, read_export_folder

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ITEMS = (
    "sku,description,family,unit_cost,unit_price,lead_time_days\n"
    "A1,City Bike,Bikes,400,800,10\nA2,Helmet,Helmets,30,60,20\n"
)
DEMAND = "order_id,sku,qty,requested_date,customer\nSO1,A1,3,2026-12-01,Velo\nSO2,A2,10,2027-01-15,\n"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def folder_with(tmp_path: Path, files: dict[str, str], as_of: str | None = AS_OF.isoformat()) -> Path:
    folder = tmp_path / "erp_export"
    folder.mkdir()
    for name, text in files.items():
        write(folder, name, text)
    if as_of is not None:
        write(folder, "as_of.txt", as_of + "\n")
    return folder


def problems(folder: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(FileDataError) as info:
        read_export_folder(folder, **kwargs)
    assert str(info.value).startswith(f"{len(info.value.issues)} problem(s) in export folder ")
    return [str(issue) for issue in info.value.issues]


def test_documented_format_reads_into_a_snapshot(tmp_path: Path) -> None:
    stock = "sku,warehouse,qty\nA1,MAIN,5\nA2,MAIN,-2\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": DEMAND, "stock.csv": stock})
    write(folder, "forecast.csv", "family,bucket,qty\nBikes,2026-12,5\n")  # not an entity: ignored
    snap = read_export_folder(folder)
    assert snap.source == "files:erp_export"
    assert snap.as_of == AS_OF
    assert list(snap.items["sku"]) == ["A1", "A2"]
    assert snap.items["lead_time_days"].dtype == "int64"
    assert list(snap.open_demand["requested_date"]) == [pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-15")]
    assert list(snap.stock["qty"]) == [5.0, -2.0]
    assert snap.receipts.empty and snap.bom.empty  # optional entities absent = empty


def test_missing_items_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"open_demand.csv": DEMAND})
    assert problems(folder) == ["items.csv: file not found; items.csv or items.xlsx is required"]


def test_missing_column_names_file_column_and_the_columns_found(tmp_path: Path) -> None:
    demand = "order_id,sku,requested_date\nSO1,A1,2026-12-01\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": demand})
    assert problems(folder) == ["open_demand.csv: missing column 'qty' (columns found: order_id, sku, requested_date)"]


def test_bad_date_names_file_row_and_column(tmp_path: Path) -> None:
    demand = DEMAND + "SO3,A1,2,2027-13-01,Velo\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": demand})
    assert problems(folder) == ["open_demand.csv row 4, column requested_date: not a date: '2027-13-01'"]


def test_non_iso_date_hints_at_the_date_format_option(tmp_path: Path) -> None:
    demand = "order_id,sku,qty,requested_date\nSO1,A1,3,01/12/2026\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": demand})
    assert problems(folder) == [
        "open_demand.csv row 2, column requested_date: not a date: '01/12/2026' "
        "(expected YYYY-MM-DD, or set date_format in mapping.toml)"
    ]


def test_bad_number_names_file_row_and_column(tmp_path: Path) -> None:
    items = ITEMS + "A3,Lock,Locks,abc,20,5\n"
    folder = folder_with(tmp_path, {"items.csv": items})
    assert problems(folder) == ["items.csv row 4, column unit_cost: not a number: 'abc'"]


def test_unknown_sku_is_placed_by_file_and_row(tmp_path: Path) -> None:
    stock = "sku,warehouse,qty\nA1,MAIN,5\nZZZ,MAIN,1\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "stock.csv": stock})
    assert problems(folder) == ["stock.csv row 3, column sku: unknown item 'ZZZ' (not in items)"]


def test_several_errors_in_several_files_are_all_reported_in_file_and_row_order(tmp_path: Path) -> None:
    demand = (
        "order_id,sku,qty,requested_date,customer\n"
        "SO1,A1,-3,2026-12-01,Velo\n"  # row 2: qty must be > 0
        "SO2,A9,x,2026-12-32,\n"  # row 3: unknown sku, bad number, bad date
        "SO3,A2,1,,\n"  # row 4: date missing
    )
    items = ITEMS + "A1,Duplicate,Bikes,1,2,3\n"
    folder = folder_with(tmp_path, {"items.csv": items, "open_demand.csv": demand})
    assert problems(folder) == [
        "items.csv row 4, column sku: duplicate sku 'A1'",
        "open_demand.csv row 2, column qty: must be > 0, got -3.0",
        "open_demand.csv row 3, column sku: unknown item 'A9' (not in items)",
        "open_demand.csv row 3, column qty: not a number: 'x'",
        "open_demand.csv row 3, column requested_date: not a date: '2026-12-32'",
        "open_demand.csv row 4, column requested_date: missing (required)",
    ]


def test_row_numbers_count_blank_lines_as_a_spreadsheet_does(tmp_path: Path) -> None:
    demand = "order_id,sku,qty,requested_date\nSO1,A1,3,2026-12-01\n\nSO2,A1,oops,2026-12-01\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": demand})
    assert problems(folder) == ["open_demand.csv row 4, column qty: not a number: 'oops'"]


def test_mapping_toml_renames_headers_and_sets_date_format_and_as_of(tmp_path: Path) -> None:
    demand = "Order,Item,Open Qty,Req. Date\nSO1,A1,3,01.12.2026\nSO2,A2,many,15.01.2027\n"
    mapping = (
        '[snapshot]\nas_of = "2026-11-30T17:00:00+01:00"\n\n'
        '[open_demand]\norder_id = "Order"\nsku = "Item"\nqty = "Open Qty"\nrequested_date = "Req. Date"\n'
        'date_format = "%d.%m.%Y"\n'
    )
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": demand, "mapping.toml": mapping})
    assert problems(folder) == ["open_demand.csv row 3, column Open Qty (qty): not a number: 'many'"]
    write(folder, "open_demand.csv", demand.replace("many", "7"))
    snap = read_export_folder(folder)
    assert snap.as_of == dt.datetime(2026, 11, 30, 17, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # beats as_of.txt
    assert list(snap.open_demand["qty"]) == [3.0, 7.0]
    assert snap.open_demand["requested_date"].iloc[1] == pd.Timestamp("2027-01-15")


def test_mapping_dict_argument_and_a_missing_mapped_column(tmp_path: Path) -> None:
    demand = "order_id,sku,Qty open,requested_date\nSO1,A1,3,2026-12-01\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "open_demand.csv": demand})
    mapping = {"open_demand": {"qty": "Open Qty"}}
    assert problems(folder, mapping=mapping) == [
        "open_demand.csv: unknown column 'Qty open' (expected: order_id, sku, qty, requested_date, customer; "
        "map it or list it in ignore_columns in mapping.toml)",
        "open_demand.csv: missing column 'Open Qty' (mapped to qty; columns found: order_id, sku, Qty open, "
        "requested_date)",
    ]
    snap = read_export_folder(folder, mapping={"open_demand": {"qty": "Qty open"}})
    assert snap.open_demand["qty"].tolist() == [3.0]


def test_ignore_columns_skips_extra_erp_columns(tmp_path: Path) -> None:
    stock = "sku,warehouse,qty,Bin,Last count\nA1,MAIN,5,B-01,2026-10-01\n"
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "stock.csv": stock})
    mapping = {"stock": {"ignore_columns": ["Bin", "Last count"]}}
    assert read_export_folder(folder, mapping=mapping).stock.columns.tolist() == ["sku", "warehouse", "qty"]


def test_mapping_mistakes_are_reported_together(tmp_path: Path) -> None:
    mapping = '[snapshot]\ndecimal = ";"\n\n[open_demand]\nquantity = "Qty"\n\n[orders]\nqty = "Qty"\n'
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "mapping.toml": mapping})
    assert problems(folder) == [
        "mapping.toml: unknown section [orders] (sections: snapshot, items, stock, open_demand, shipments, "
        "receipts, production, work_centers, routings, bom)",
        'mapping.toml: [snapshot] decimal must be "." or ",", got \';\'',
        "mapping.toml: [open_demand] unknown field 'quantity' (fields: order_id, sku, qty, requested_date, customer)",
    ]


def test_decimal_comma_with_semicolons_and_thousands_dots(tmp_path: Path) -> None:
    items = (
        "sku;description;family;unit_cost;unit_price\nA1;City Bike;Bikes;1.234,50;2.000\nA2;Helmet;Helmets;30,25;60\n"
    )
    mapping = '[snapshot]\ndecimal = ","\nthousands = "."\n'
    folder = folder_with(tmp_path, {"items.csv": items, "mapping.toml": mapping})
    snap = read_export_folder(folder)
    assert snap.items["unit_cost"].tolist() == [1234.5, 30.25]
    assert snap.items["unit_price"].tolist() == [2000.0, 60.0]


def test_decimal_comma_without_the_option_hints_at_it(tmp_path: Path) -> None:
    items = "sku;family;unit_cost;unit_price\nA1;Bikes;12,5;20\n"
    folder = folder_with(tmp_path, {"items.csv": items})
    assert problems(folder) == [
        "items.csv row 2, column unit_cost: not a number: '12,5' "
        '(for decimal commas set decimal = "," in mapping.toml)'
    ]


def test_encodings_utf8_bom_and_cp1252(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {})
    write(folder, "items.csv", "sku,description,family,unit_cost,unit_price\nA1,Café racer,Bikes,1,2\n", "utf-8-sig")
    write(folder, "stock.csv", "sku,warehouse,qty\nA1,Lager Süd,5\n", "cp1252")
    snap = read_export_folder(folder)
    assert snap.items["description"].tolist() == ["Café racer"]
    assert snap.stock["warehouse"].tolist() == ["Lager Süd"]


def test_empty_unreadable_and_ragged_files(tmp_path: Path) -> None:
    ragged = "order_id,sku,qty,requested_date\nSO1,A1,3,2026-12-01\nSO2,A1,3,2026-12-01,extra\n"
    folder = folder_with(tmp_path, {"items.csv": "", "stock.csv": "", "open_demand.csv": ragged})
    (folder / "receipts.xlsx").write_bytes(b"this is not a spreadsheet")
    found = problems(folder)
    assert found[:2] == [  # an empty optional file reads as no rows (tests/test_export_frictions.py)
        "items.csv: empty file (expected a header row)",
        "open_demand.csv row 3: 5 values but the header has 4 columns",
    ]
    assert found[2].startswith("receipts.xlsx: cannot read the spreadsheet: ")
    assert len(found) == 3


def test_values_that_look_like_formulas_stay_text(tmp_path: Path) -> None:
    items = 'sku,description,family,unit_cost,unit_price\nA1,"=HYPERLINK(""http://x"")",Bikes,1,2\n'
    folder = folder_with(tmp_path, {"items.csv": items})
    assert read_export_folder(folder).items["description"].tolist() == ['=HYPERLINK("http://x")']


def test_as_of_defaults_to_newest_file_time_in_local_time_zone(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "stock.csv": "sku,warehouse,qty\n"}, as_of=None)
    stamp = dt.datetime(2026, 3, 1, 12, 0).astimezone()
    os.utime(folder / "items.csv", (stamp.timestamp() - 3600, stamp.timestamp() - 3600))
    os.utime(folder / "stock.csv", (stamp.timestamp(), stamp.timestamp()))
    snap = read_export_folder(folder)
    assert snap.as_of == stamp and snap.as_of.utcoffset() is not None
    assert read_export_folder(folder, as_of=AS_OF).as_of == AS_OF


def _xlsx(path: Path, sheet: str, rows: list[list[object]], first_sheet: str | None = None) -> None:
    book = xlsxwriter.Workbook(str(path))
    if first_sheet:
        book.add_worksheet(first_sheet).write_string(0, 0, "notes, not data")
    sheet_ = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                sheet_.write_string(r, c, value)
            elif isinstance(value, int | float):
                sheet_.write_number(r, c, value)
    book.close()


def test_xlsx_export_is_read_with_calamine(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {})
    header = ["sku", "description", "family", "unit_cost", "unit_price", "lead_time_days"]
    _xlsx(folder / "items.xlsx", "items", [header, [1001, "City Bike", "Bikes", 400.5, 800, 10]], first_sheet="Info")
    rows: list[list[object]] = [["Order", "sku", "qty", "requested_date"], ["SO1", "1001", 3, "2026-12-01"]]
    _xlsx(folder / "open_demand.xlsx", "Orders", rows)
    snap = read_export_folder(folder, mapping={"open_demand": {"order_id": "Order"}})
    assert snap.items["sku"].tolist() == ["1001"]  # a numeric cell is the item code as displayed
    assert snap.items["unit_cost"].tolist() == [400.5]
    assert snap.open_demand["requested_date"].tolist() == [pd.Timestamp("2026-12-01")]


def test_xlsx_date_cells_and_bad_values_name_the_sheet_row(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"items.csv": ITEMS})
    book = xlsxwriter.Workbook(str(folder / "open_demand.xlsx"))
    sheet = book.add_worksheet("open_demand")
    for c, name in enumerate(["order_id", "sku", "qty", "requested_date"]):
        sheet.write_string(0, c, name)
    sheet.write_row(1, 0, ["SO1", "A1", 3])
    sheet.write_datetime(1, 3, dt.datetime(2026, 12, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_row(2, 0, ["SO2", "A1"])
    sheet.write_string(2, 2, "n/a")
    sheet.write_number(2, 3, 46000)
    book.close()
    assert problems(folder) == [
        "open_demand.xlsx row 3, column qty: not a number: 'n/a'",
        "open_demand.xlsx row 3, column requested_date: not a date: 46000 (expected YYYY-MM-DD, or set "
        "date_format in mapping.toml)",
    ]
    sheet_ok = pd.Timestamp("2026-12-01")
    book = xlsxwriter.Workbook(str(folder / "open_demand.xlsx"))
    sheet = book.add_worksheet("open_demand")
    sheet.write_row(0, 0, ["order_id", "sku", "qty", "requested_date"])
    sheet.write_row(1, 0, ["SO1", "A1", 3])
    sheet.write_datetime(1, 3, sheet_ok.to_pydatetime(), book.add_format({"num_format": "dd.mm.yyyy"}))
    book.close()
    assert read_export_folder(folder).open_demand["requested_date"].tolist() == [sheet_ok]


def test_both_csv_and_xlsx_for_one_entity_is_ambiguous(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"items.csv": ITEMS, "stock.csv": "sku,warehouse,qty\n"})
    _xlsx(folder / "stock.xlsx", "stock", [["sku", "warehouse", "qty"]])
    assert problems(folder) == ["stock.csv: ambiguous: stock.csv and stock.xlsx both exist"]


def test_file_and_sheet_options_and_headers_matched_case_insensitively(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"items.csv": ITEMS.replace("sku,", "SKU,", 1)})
    rows: list[list[object]] = [["Order_ID", "SKU", "Qty", "Requested_Date"], ["SO1", "A1", 3, "2026-12-01"]]
    _xlsx(folder / "Sales Export.xlsx", "Lines", rows, first_sheet="Cover")
    mapping = {"open_demand": {"file": "sales export.xlsx", "sheet": "Lines"}, "receipts": {"file": "po.csv"}}
    assert problems(folder, mapping=mapping) == ["po.csv: file not found (named for receipts in mapping.toml)"]
    del mapping["receipts"]
    snap = read_export_folder(folder, mapping=mapping)
    assert snap.open_demand[["order_id", "sku", "qty"]].to_numpy().tolist() == [["SO1", "A1", 3.0]]

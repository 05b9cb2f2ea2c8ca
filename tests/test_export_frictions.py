"""Export folders the way ERPs really write them: an empty file, a semicolon forecast.csv, a trailing
delimiter, thousands separators, the same stock row twice. Each is read or refused with one clear message,
and what is read with a fallback is said in the import summary the CLI prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin import pipeline
from addin.cli import app
from connectors.files import FileDataError, read_export_folder
from connectors.notices import DataWarning
from tests.addin_support import DEMO_AS_OF

pytestmark = pytest.mark.demo_clock
runner = CliRunner()
ITEMS = (
    "sku,description,family,unit_cost,unit_price,lead_time_days\n"
    "A1,City Bike,Bikes,400,800,10\nA2,Helmet,Helmets,30,60,20\n"
)
DEMAND_HEADER = "order_id,sku,qty,requested_date,customer\n"
COMMAS = '[snapshot]\ndecimal = ","\n'
"""mapping.toml of an export with decimal commas."""


def export(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir(parents=True)
    (folder / "as_of.txt").write_text(DEMO_AS_OF.isoformat())
    for name, text in files.items():
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(FileDataError) as info:
        read_export_folder(folder)
    return [str(i) for i in info.value.issues]


def test_an_empty_optional_file_reads_like_a_header_only_one_and_says_so(tmp_path: Path) -> None:
    empty = export(tmp_path / "a", {"items.csv": ITEMS, "open_demand.csv": b""})
    header = export(tmp_path / "b", {"items.csv": ITEMS, "open_demand.csv": DEMAND_HEADER})
    warnings: list[DataWarning] = []
    from_empty = read_export_folder(empty, warnings=warnings)
    from_header: list[DataWarning] = []
    assert from_empty.open_demand.empty and read_export_folder(header, warnings=from_header).open_demand.empty
    assert from_empty.open_demand.dtypes.to_dict() == read_export_folder(header).open_demand.dtypes.to_dict()
    assert [str(w) for w in warnings] == [
        "open_demand: open_demand.csv (whole file): empty file: read as no open_demand rows"
    ]
    assert from_header == []  # a header line says "nothing open": no warning
    result = runner.invoke(app, ["plan", "-s", str(empty)])
    assert result.exit_code == 0, result.output
    assert "warning: open_demand: open_demand.csv (whole file): empty file" in " ".join(result.output.split())


def test_an_empty_items_file_is_still_an_error(tmp_path: Path) -> None:
    assert problems(export(tmp_path, {"items.csv": b""})) == ["items.csv: empty file (expected a header row)"]


def test_a_semicolon_forecast_csv_with_decimal_commas_is_read(tmp_path: Path) -> None:
    forecast = "Family;Bucket;Qty\nBikes;2026-12;12,5\nHelmets;2027-01;\n"
    folder = export(tmp_path, {"items.csv": ITEMS, "forecast.csv": forecast, "mapping.toml": COMMAS})
    plan = pipeline.plan_from_source(str(folder))
    by = plan.family_plan.astype({"bucket": str}).set_index(["family", "bucket"])["forecast"]
    assert by[("Bikes", "2026-12")] == pytest.approx(12.5)
    assert by[("Helmets", "2027-01")] == 0  # blank = no forecast
    (folder / "forecast.csv").write_text("family;bucket;qty\nBikes;2026-12;lots\n")
    with pytest.raises(FileDataError, match=r"forecast.csv row 2, column qty: not a number: 'lots'"):
        pipeline.plan_from_source(str(folder))


def test_trailing_empty_columns_are_ignored_but_values_without_a_header_are_not(tmp_path: Path) -> None:
    trailing = "sku,warehouse,qty,,\nA1,MAIN,5,,\nA2,MAIN,3,,\n"  # an ERP that ends every line with delimiters
    folder = export(tmp_path / "a", {"items.csv": ITEMS, "stock.csv": trailing})
    assert read_export_folder(folder).stock["qty"].tolist() == [5.0, 3.0]
    unnamed = "sku,warehouse,qty,\nA1,MAIN,5,\nA2,MAIN,3,x\n"
    folder = export(tmp_path / "b", {"items.csv": ITEMS, "stock.csv": unnamed})
    assert problems(folder) == ["stock.csv row 3: column 4 has values but no header; name it or delete it"]


def test_a_number_with_a_thousands_separator_gets_the_thousands_hint(tmp_path: Path) -> None:
    stock = 'sku,warehouse,qty\nA1,MAIN,"1,034"\nA2,MAIN,"2,5"\n'
    found = problems(export(tmp_path, {"items.csv": ITEMS, "stock.csv": stock}))
    assert found == [
        "stock.csv row 2, column qty: not a number: '1,034' (for a thousands separator set thousands = \",\" "
        "in mapping.toml)",
        "stock.csv row 3, column qty: not a number: '2,5' (for decimal commas set decimal = \",\" in mapping.toml)",
    ]
    grouped = "sku,warehouse,qty\nA1,MAIN,1.034\n"  # with decimal commas, '1.034' is a thousand and 34
    folder = export(tmp_path / "de", {"items.csv": ITEMS, "stock.csv": grouped, "mapping.toml": COMMAS})
    assert problems(folder) == [
        "stock.csv row 2, column qty: not a number: '1.034' (for a thousands separator set thousands = \".\" "
        "in mapping.toml)"
    ]


def test_duplicate_stock_rows_are_summed_and_the_import_summary_says_so(tmp_path: Path) -> None:
    stock = "sku,warehouse,qty\nA1,MAIN,5\nA2,MAIN,1\nA1,MAIN,2\nA1,EAST,4\n"
    folder = export(tmp_path, {"items.csv": ITEMS, "stock.csv": stock})
    warnings: list[DataWarning] = []
    read_export_folder(folder, warnings=warnings)
    assert [str(w) for w in warnings] == [
        "stock: stock.csv rows 2, 4: item A1 at warehouse MAIN appears 2 times: quantities summed (5 + 2 = 7)"
    ]
    plan = pipeline.plan_from_source(str(folder))
    opening = plan.sku_plan.set_index(["sku", plan.sku_plan["bucket"].astype(str)])["opening_inventory_firm"]
    assert opening[("A1", "PAST_DUE")] == 11  # 5 + 2 at MAIN, 4 at EAST: what the plan starts from


def test_the_cli_prints_the_first_20_warnings_then_how_many_more(tmp_path: Path) -> None:
    skus = [f"S{i:02d}" for i in range(25)]
    items = "sku,description,family,unit_cost,unit_price\n" + "".join(f"{s},Part,Parts,1,2\n" for s in skus)
    stock = "sku,warehouse,qty\n" + "".join(f"{s},MAIN,1\n{s},MAIN,1\n" for s in skus)
    folder = export(tmp_path, {"items.csv": items, "stock.csv": stock})
    result = runner.invoke(app, ["plan", "-s", str(folder)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(lines) == 21
    assert lines[0].startswith("warning: stock: stock.csv rows 2, 3: item S00 at warehouse MAIN appears 2 times")
    assert lines[-1].startswith("warning: ... and 5 more record warning(s)")
    as_json = runner.invoke(app, ["plan", "-s", str(folder), "--json"])
    assert len(json.loads(as_json.stdout)["warnings"]) == 25  # scripts get every one

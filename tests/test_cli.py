"""The `sop` command end to end: demo, new, plan, and its error behaviour."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from addin.cli import app
from addin.pipeline import load_snapshot, plan_from_source
from tests.libreoffice import libreoffice_values, requires_libreoffice
from workbooks import layout
from workbooks.reader import read_forecast, read_table

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--source", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Top 10 shortages" in result.output
    return out


def test_demo_builds_a_filled_workbook_whose_plan_matches_the_engine(demo_dir: Path) -> None:
    book = demo_dir / "SOP.xlsx"
    plan = plan_from_source(str(demo_dir / "erp-export"), workbook=book)
    written = read_table(book, layout.PLAN)
    assert len(written) == len(plan.family_plan) > 0
    expected = plan.family_plan.astype({"bucket": str}).reset_index(drop=True)
    assert written["family"].tolist() == expected["family"].tolist()
    assert written["bucket"].tolist() == expected["bucket"].tolist()
    fields = ("demand_proposed", "supply_proposed", "projected_inventory_proposed", "shortage_units_firm")
    for field in (*fields, "shortage_units_proposed", "value_at_risk_proposed", "excess_units_proposed"):
        assert written[field].astype(float).round(6).tolist() == expected[field].round(6).tolist(), field
    forecast = read_forecast(book)
    assert forecast["qty"].sum() > 0  # the demo sales forecast went into the user-owned grid


def test_demo_prints_the_top_gaps_of_the_plan(demo_dir: Path) -> None:
    result = runner.invoke(app, ["plan", "--source", str(demo_dir / "erp-export"), "--json", "--top", "3"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["window_months"] == 6 and payload["supply_method"] == "lp"
    top = payload["top"]
    assert [g["rank"] for g in top] == [1, 2, 3]
    assert all(g["firm"]["value_at_risk_window"] > 0 or g["proposed"]["value_at_risk_window"] > 0 for g in top)
    keys = [(g["proposed"]["value_at_risk_window"], g["firm"]["value_at_risk_window"]) for g in top]
    assert keys == sorted(keys, reverse=True)  # what stays short after the proposal first
    assert len({g["family"] for g in top}) == 3
    firsts = {f["family"]: f["firm"]["first_short_bucket"] for f in payload["families"]}
    assert all(g["firm"]["first_short_bucket"] == firsts[g["family"]] for g in top)


def test_plan_reads_the_forecast_typed_in_the_workbook(demo_dir: Path, tmp_path: Path) -> None:
    """A number a planner types into the Forecast grid drives the plan: the grid is the source of truth."""
    export = demo_dir / "erp-export"
    edited = tmp_path / "edited.xlsx"
    shutil.copy(demo_dir / "SOP.xlsx", edited)
    book = openpyxl.load_workbook(edited)  # stands in for a person typing in Excel (test copy only)
    sheet = book[layout.FORECAST_SHEET]
    header = [c.value for c in sheet[4]]
    row = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "Helmets")
    month = header[3]
    row[3].value = 123456
    book.save(edited)
    before = plan_from_source(str(export), workbook=demo_dir / "SOP.xlsx").family_plan.set_index(["family", "bucket"])
    after = plan_from_source(str(export), workbook=edited).family_plan.set_index(["family", "bucket"])
    assert before.loc[("Helmets", month), "forecast"] != 123456
    assert after.loc[("Helmets", month), "forecast"] == pytest.approx(123456)
    assert after.loc[("Helmets", month), "demand_proposed"] >= 123456
    # other families' demand and firm layer are untouched (their proposal may move: they share capacity)
    firm = [c for c in after.columns if c.endswith("_firm") or c in ("forecast", "orders", "independent_demand")]
    untouched = after.drop(index="Helmets", level="family")[firm]
    pd.testing.assert_frame_equal(untouched, before.drop(index="Helmets", level="family")[firm])


def test_workbook_opens_in_calamine_with_stamps_on_every_owned_sheet(demo_dir: Path) -> None:
    book = CalamineWorkbook.from_path(str(demo_dir / "SOP.xlsx"))
    as_of = load_snapshot(str(demo_dir / "erp-export")).as_of  # the demo ERP's clock: this hour, any day
    assert book.sheet_names == [*layout.SHEET_ORDER, *layout.PLANNING_SHEET_ORDER]
    for spec in layout.OWNED_TABLES:
        if spec.stamp_cell:
            stamp = book.get_sheet_by_name(spec.sheet).to_python()[1][0]
            assert str(stamp).startswith(f"ERP data as of {as_of:%Y-%m-%d %H:%M}"), spec.sheet
            assert "(source: files:erp-export)" in str(stamp)


@pytest.mark.libreoffice
@requires_libreoffice
def test_libreoffice_reads_the_demo_plan(demo_dir: Path, tmp_path: Path) -> None:
    sheets = libreoffice_values(demo_dir / "SOP.xlsx", tmp_path)
    plan = read_table(demo_dir / "SOP.xlsx", layout.PLAN)
    lo_rows = sheets["Plan"][4 : 4 + len(plan)]
    assert [r[0] for r in lo_rows] == plan["family"].tolist()
    col = [c.field for c in layout.PLAN.columns].index("shortage_units_proposed")
    assert [round(float(r[col]), 3) for r in lo_rows] == plan["shortage_units_proposed"].astype(float).round(3).tolist()


def test_new_without_source_makes_an_empty_template(tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", str(tmp_path / "Plan.xlsx"), "--months", "6"])
    assert result.exit_code == 0, result.output
    assert read_forecast(tmp_path / "Plan.xlsx").empty
    again = runner.invoke(app, ["new", str(tmp_path / "Plan.xlsx")])
    assert again.exit_code == 1
    assert "exists" in again.output and "Traceback" not in again.output


def test_errors_are_one_clear_message_and_exit_code_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--source", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "unknown source" in result.output and "nowhere" in result.output
    assert "Traceback" not in result.output


def test_bad_export_data_names_file_row_and_column(tmp_path: Path) -> None:
    (tmp_path / "items.csv").write_text(
        "sku,family,unit_cost,unit_price\nB-1,Bikes,10,20\nB-2,Bikes,ten,20\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["plan", "--source", str(tmp_path)])
    assert result.exit_code == 1
    assert "items.csv row 3" in result.output and "unit_cost" in result.output


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--debug", "plan", "--source", str(tmp_path / "nowhere")])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)

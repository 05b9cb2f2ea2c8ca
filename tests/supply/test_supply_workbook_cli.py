"""The supply-planning sheets of a new workbook, and the supply commands of the CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from typer.testing import CliRunner

from addin.cli import app
from connectors.demo_data import write_export_folder
from sop_functions.buckets import Horizon
from sop_functions.capacity import available_capacity
from sop_functions.scenarios import Change, Scenario, run_scenarios
from workbooks import layout
from workbooks.planning_tables import planning_tables, read_capacity_input, read_scenario_inputs
from workbooks.reader import check_layout, read_table
from workbooks.tables import plan_stamps, plan_tables
from workbooks.template import new_workbook

from .support import AS_OF, tiny_snapshot


def test_new_workbook_with_planning_sheets(tmp_path: Path) -> None:
    snapshot, forecast = tiny_snapshot()
    horizon = Horizon.from_as_of(AS_OF.date(), periods=2)
    boom = Scenario("Boom", (Change("demand", "Made", 100),))
    results = run_scenarios(snapshot, forecast, available_capacity(snapshot.work_centers), [boom], horizon)
    inputs = pd.DataFrame({"scenario": ["Boom"], "change": ["Demand"], "applies_to": ["Made"], "change_pct": [100.0]})
    frames = planning_tables(results, snapshot, scenario_inputs=inputs)
    assert set(frames) == {s.name for s in (*layout.PLANNING_TABLES, *layout.PLANNING_INPUTS)}
    plan = results[0].plan
    stamps = plan_stamps(plan)
    path = new_workbook(
        tmp_path / "SOP.xlsx", horizon.labels, ["Bought", "Made"], forecast=forecast,
        tables=plan_tables(plan, stamps), stamps=stamps, planning=frames,
    )  # fmt: skip
    wb = openpyxl.load_workbook(path)
    assert tuple(wb.sheetnames) == (*layout.SHEET_ORDER, *layout.PLANNING_SHEET_ORDER)
    for spec in (*layout.PLANNING_TABLES, *layout.PLANNING_INPUTS):
        table = wb[spec.sheet].tables[spec.name]
        assert table.ref.split(":")[0] == spec.anchor
        assert [c.name for c in table.tableColumns] == list(spec.headers)
    assert check_layout(path) == []  # the core layout is untouched
    load = read_table(path, layout.CAPACITY_LOAD)
    assert load["load_hours_firm"].tolist() == [0.0, 0.0]  # no production orders in the ERP
    assert load["load_hours_proposed"].tolist() == [10.0, 10.0]  # 5 pre-built in November for December
    assert load["load_pct_proposed"].tolist() == [100.0, 100.0]
    scen = read_table(path, layout.SCENARIOS).set_index(["scenario", "family"])
    assert scen.loc[("Boom", "Made"), "value_at_risk_window_proposed"] == 2000.0
    assert read_capacity_input(path)["work_center"].tolist() == ["WC1"]  # prefilled from the ERP
    assert read_scenario_inputs(path)["change_pct"].tolist() == [100.0]
    with zipfile.ZipFile(path) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 4  # 2 core + capacity + finance


def test_supply_commands(tmp_path: Path) -> None:
    export = write_export_folder(tmp_path / "erp")
    runner = CliRunner()
    out = runner.invoke(app, ["capacity", "-s", str(export), "--json", "--overtime", "0.1"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {"overloads", "material_shortages", "unmet", "supply_method"} <= set(data)
    assert data["supply_method"] == "lp"
    out = runner.invoke(app, ["scenario", "-s", str(export), "--demand", "Bikes=20", "--json"])
    assert out.exit_code == 0, out.output
    assert {r["scenario"] for r in json.loads(out.stdout)["scenarios"]} == {"Base", "What-if"}
    book = tmp_path / "SOP.xlsx"
    assert runner.invoke(app, ["new", str(book), "-s", str(export)]).exit_code == 0
    for note in ("first", "first"):
        out = runner.invoke(app, ["publish", "-s", str(export), "-w", str(book), "--note", note])
        assert out.exit_code == 0, out.output
    assert "was already published" in out.output
    out = runner.invoke(app, ["versions", "-w", str(book)])
    assert out.exit_code == 0 and "first" in out.output
    out = runner.invoke(app, ["compare", "1", "1", "-w", str(book), "-s", str(export), "--json"])
    assert out.exit_code == 0, out.output
    assert all(r["demand_change"] == 0 for r in json.loads(out.stdout))
    out = runner.invoke(app, ["compare", "1", "5", "-w", str(book)])
    assert out.exit_code == 1 and "no version 5" in out.output

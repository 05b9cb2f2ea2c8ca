"""What the ``sop`` commands say: the profile's name, the flag to pass, what a bad option value means, how
long a refresh took, what collect wrote, and what a table leaves out (never a silent cut)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from addin import cli, connect_commands, pipeline
from addin.cli import app
from addin.publish import publish_plan
from tests.addin_support import Demo, make_demo
from workbooks import template
from workbooks.forecast_files import write_forecast_file
from workbooks.reader import read_forecast

pytestmark = pytest.mark.demo_clock
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("messages"))


@pytest.fixture()
def wide(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A console wide enough that no table cell wraps (the text is checked as a planner reads it)."""
    monkeypatch.setattr(cli.console, "width", 400)
    yield


def test_connect_and_check_connection_name_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOP_ODOO_API_KEY", raising=False)
    monkeypatch.setattr(connect_commands.console, "width", 400)
    config = tmp_path / "sop.toml"
    settings = ["url=https://erp.example.com", "database=prod", "username=sync@example.com"]
    made = runner.invoke(app, ["connect", "odoo", "-c", str(config), *(a for s in settings for a in ("--set", s))])
    assert made.exit_code == 0, made.output
    wrote = " ".join(made.output.split())
    assert f"wrote [odoo] (Odoo 17-19) to {config}" in wrote and "then: sop check-connection odoo" in wrote
    checked = runner.invoke(app, ["check-connection", "-c", str(config)])
    assert checked.exit_code == 1
    assert checked.output.lstrip().startswith("[odoo]")  # the table's title
    assert "profile [odoo] needs the secret API_KEY: set SOP_ODOO_API_KEY" in checked.output


def test_new_on_an_existing_file_names_the_flag_before_reading_anything(tmp_path: Path) -> None:
    book = tmp_path / "Plan.xlsx"
    assert runner.invoke(app, ["new", str(book), "--months", "3"]).exit_code == 0
    before = book.read_bytes()
    again = runner.invoke(app, ["new", str(book), "--source", str(tmp_path / "no-such-export")])
    assert again.exit_code == 1
    assert "Plan.xlsx already exists; pass --force to replace it" in again.output
    assert "overwrite" not in again.output and "unknown source" not in again.output  # refused before the source
    assert book.read_bytes() == before


def test_bad_scenario_options_say_what_is_wrong_and_what_would_be_right(demo: Demo) -> None:
    source = str(demo.export)
    cases = {
        ("--demand", "Bikes=lots"): "--demand 'Bikes=lots': 'lots' is not a change in percent",
        ("--demand", "lots"): "--demand 'lots': expected NAME=PCT, e.g. --demand Bikes=20",
        ("--capacity", "WC01=-150"): "--capacity 'WC01=-150': '-150' is not a change in percent (a number >= -100",
        ("--demand", "Bikez=10"): "no family 'Bikez' (families: Bikes, Components, E-Bikes,",
        ("--lost-supplier", "Acme Parts"): "no open receipts from supplier 'Acme Parts' (suppliers with open receipts:",
    }
    for option, message in cases.items():
        result = runner.invoke(app, ["scenario", "-s", source, *option])
        assert result.exit_code == 1, result.output
        assert message in " ".join(result.output.split()), result.output
        assert "could not convert" not in result.output and "Traceback" not in result.output


def test_refresh_reports_the_time_of_the_whole_refresh(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seconds printed span reading the ERP, planning and writing, not the zip write alone."""
    book = tmp_path / "SOP.xlsx"
    shutil.copy(demo.workbook, book)
    events: list[str] = []
    ticks = iter([100.0, 104.5])

    class Clock:
        @staticmethod
        def monotonic() -> float:
            events.append("clock")
            return next(ticks)

    load = pipeline.load_snapshot

    def loading(*args: object, **kwargs: object) -> object:
        events.append("read the ERP")
        return load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "time", Clock)
    monkeypatch.setattr(pipeline, "load_snapshot", loading)
    result = runner.invoke(app, ["refresh", str(book), "--source", str(demo.export)])
    assert result.exit_code == 0, result.output
    assert events == ["clock", "read the ERP", "clock"]
    assert f"refreshed {book} in 4.5 s:" in " ".join(result.output.split())


def _master_with_blanks(folder: Path) -> Path:
    """A master whose Bikes row has numbers and whose Locks row is blank."""
    months = ["2026-11", "2026-12", "2027-01"]
    forecast = pd.DataFrame([("Bikes", m, 100.0) for m in months], columns=["family", "bucket", "qty"])
    return template.new_workbook(folder / "SOP.xlsx", ["PAST_DUE", *months], ["Bikes", "Locks"], forecast=forecast)


def test_collect_says_it_wrote_the_master_and_leaves_untouched_blanks_blank(tmp_path: Path) -> None:
    master = _master_with_blanks(tmp_path)
    reps = tmp_path / "forecasts"
    reps.mkdir()
    grid = read_forecast(master, blank=float("nan"))
    rep = write_forecast_file(
        reps / "anna.xlsx", "Anna", ["Bikes"], ["2026-11", "2026-12", "2027-01"], prefill=grid, master=master.name
    )
    book = openpyxl.load_workbook(rep)  # what Anna types in Excel (her own file)
    book["Forecast"]["C5"] = 150  # Bikes, 2026-12
    book.save(rep)
    result = runner.invoke(app, ["collect", str(reps), "--workbook", str(master), "--as-of", "2026-11-25"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"wrote the consolidated grid into the Forecast grid of {master} (1 change(s)" in text
    assert "sopxl-backups/" in text and "not modified" not in text
    assert list((tmp_path / "sopxl-backups").iterdir())  # the master before the write is kept
    after = read_forecast(master, blank=float("nan")).set_index(["family", "bucket"])["qty"]
    assert after[("Bikes", "2026-12")] == 150 and after[("Bikes", "2026-11")] == 100
    assert after.loc["Locks"].isna().all()  # nobody touched Locks: its cells stay blank, not 0
    with CalamineWorkbook.from_path(master) as wb:
        rows = wb.get_sheet_by_name("Forecast").to_python()
    locks = next(r for r in rows if r and r[0] == "Locks")
    assert all(v in (None, "") for v in locks[1:4])

    written = master.read_bytes()
    again = runner.invoke(app, ["collect", str(reps), "--workbook", str(master), "--as-of", "2026-11-25"])
    assert again.exit_code == 0, again.output
    text = " ".join(again.output.split())
    assert f"no change to apply: the Forecast grid of {master} is unchanged" in text  # Anna's 150 is in already
    assert "wrote the consolidated grid" not in text and master.read_bytes() == written


def test_capacity_tables_use_the_sheet_headers_and_say_what_is_left_out(demo: Demo, wide: None) -> None:
    as_json = runner.invoke(app, ["capacity", "-s", str(demo.export), "-w", str(demo.workbook), "--json"])
    payload = json.loads(as_json.stdout)
    unmet = len(payload["unmet"])
    assert unmet > 20  # the demo's capacity leaves more SKU-months short than one screen shows
    result = runner.invoke(app, ["capacity", "-s", str(demo.export), "-w", str(demo.workbook)])
    assert result.exit_code == 0, result.output
    for header in ("Work center", "Load % (proposed)", "Available hours", "Shortage units (proposed)", "Why short"):
        assert header in result.output, header
    assert "shortage_units_proposed" not in result.output and "available_hours" not in result.output
    assert f"20 of {unmet} rows shown; {unmet - 20} more: `sop capacity --json` lists them all" in result.output
    overloads = len(payload["overloads"])
    if overloads > 20:
        assert f"20 of {overloads} rows shown" in result.output


def test_compare_lists_every_changed_row_and_says_how_many(demo: Demo, tmp_path: Path, wide: None) -> None:
    """Not only the rows whose demand moved: a supply or gap change is a change too."""
    book = tmp_path / "SOP.xlsx"
    shutil.copy(demo.workbook, book)
    store = f"sqlite:///{tmp_path / 'SOP.plans.sqlite'}"
    publish_plan(book, source=str(demo.export), store_url=store, note="v1")
    edited = openpyxl.load_workbook(book)  # next month's forecast for Bikes (a test copy)
    row = next(r for r in edited["Forecast"].iter_rows(min_row=5) if r[0].value == "Bikes")
    row[3].value = 5000
    edited.save(book)
    publish_plan(book, source=str(demo.export), store_url=store, note="v2")
    rows = json.loads(runner.invoke(app, ["compare", "1", "2", "-w", str(book), "--json"]).stdout)
    changed = [r for r in rows if any(abs(v) > 1e-9 for k, v in r.items() if k.endswith("_change"))]
    by_demand = [r for r in changed if abs(r["demand_change"]) > 1e-9]
    assert len(changed) > len(by_demand) >= 1
    result = runner.invoke(app, ["compare", "1", "2", "-w", str(book)])
    assert result.exit_code == 0, result.output
    assert f"{len(changed)} of {len(rows)} rows changed" in result.output
    shown = min(len(changed), 50)
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    assert len(lines) == shown
    quiet = next(r for r in changed[:shown] if abs(r["demand_change"]) <= 1e-9)  # supply or gap only
    assert any(quiet["item"] in line and quiet["bucket"] in line for line in lines)
    if len(changed) > 50:
        assert f"50 of {len(changed)} rows shown; {len(changed) - 50} more" in result.output

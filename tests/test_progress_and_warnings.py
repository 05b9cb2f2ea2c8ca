"""Long commands show their phases with counts in one display, and print the source's record warnings.

The phases (read or sync, plan, write) each end as a line saying what they did; the demo ERP's first-run
seeding reports into the same display instead of opening a second one on the same line. The connectors'
per-record warnings are printed by the commands that sync: one line each, the first 20, then a count.
"""

from __future__ import annotations

import io
import shutil
import stat
from pathlib import Path

import pytest
import rich.progress
from rich.console import Console
from typer.testing import CliRunner

from addin import pipeline
from addin.cli import app
from addin.progress import Phases
from connectors.profiles import write_profile
from connectors.tryton import seed
from tests.addin_support import Demo, make_demo
from tests.fakes.odoo import FakeOdoo

pytestmark = pytest.mark.demo_clock
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("phases"))


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, no_color=True, width=1000), out


def test_a_refresh_shows_each_phase_with_what_it_did(demo: Demo, tmp_path: Path) -> None:
    book = tmp_path / "SOP.xlsx"
    shutil.copy(demo.workbook, book)
    console, out = terminal()
    with Phases(console) as phases:
        outcome = pipeline.refresh_workbook(book, source=str(demo.export), progress=phases)
    read, planned, wrote = phases.lines
    assert read.startswith(f"read {demo.export}: 40 items, ") and "open order lines" in read
    assert planned.startswith("planned 40 SKUs in 7 families x 19 buckets (within capacity, LP)")
    rows = sum(outcome.report.rows.values())
    assert wrote.startswith(f"wrote SOP.xlsx: {rows:,} rows in {len(outcome.report.rows)} tables")
    assert all(line.endswith(" s)") for line in phases.lines)  # each with its own time
    shown = out.getvalue()
    for line in phases.lines:
        assert f"✓ {line}" in shown


def test_phases_stay_silent_when_stderr_is_not_a_terminal(demo: Demo, tmp_path: Path) -> None:
    book = tmp_path / "SOP.xlsx"
    shutil.copy(demo.workbook, book)
    out = io.StringIO()
    with Phases(Console(file=out, force_terminal=False)) as phases:
        pipeline.refresh_workbook(book, source=str(demo.export), progress=phases)
    assert out.getvalue() == "" and len(phases.lines) == 3  # scripts and cron logs get the command's output only


def fake_seed_venv(folder: Path) -> Path:
    """A "venv" whose python is a script printing the seed script's progress protocol."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(
        "#!/bin/sh\nprintf 'PROGRESS 1 3 products\\nnoise\\nPROGRESS 2 3 sales orders\\nPROGRESS 3 3 done\\n'\n"
    )
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    return folder


def test_the_first_tryton_seed_reports_into_the_commands_own_display(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = fake_seed_venv(tmp_path / "venv")
    conf = tmp_path / "db" / "trytond.conf"
    conf.parent.mkdir()
    seen: list[tuple[str, int | None, int | None]] = []
    console, _out = terminal()
    with Phases(console) as phases:
        phases.phase("starting the demo Tryton ERP")

        def update(text: str, done: int | None, total: int | None) -> None:
            seen.append((text, done, total))
            phases.update(text, done, total)

        class SecondDisplay(rich.progress.Progress):
            def __init__(self, *args: object, **kwargs: object) -> None:
                raise AssertionError("the seed opened a second progress display")

        monkeypatch.setattr(rich.progress, "Progress", SecondDisplay)
        seed._run_seed(venv, conf, tmp_path / "manifest.json", True, update)
    assert seen == [
        ("Seeding the demo Tryton ERP: products", 1, 3),
        ("Seeding the demo Tryton ERP: sales orders", 2, 3),
        ("Seeding the demo Tryton ERP: done", 3, 3),
    ]


def test_sync_erp_and_plan_print_the_record_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOdoo(version=19) as fake:
        line = next(r for r in fake.tables["sale.order.line"] if r["order_id"][1] == "10006")
        line["product_uom_id"] = fake.uoms["kg"]  # a unit with no conversion to the item's: left out, warned
        config = tmp_path / "sop.toml"
        profile = {"kind": "odoo", "url": fake.url, "database": fake.db, "username": fake.login}
        write_profile(config, "odoo", {**profile, "protocol": "json2", "version": 19, "page_size": 2})
        monkeypatch.setenv("SOP_ODOO_API_KEY", fake.api_key)
        synced = runner.invoke(app, ["sync-erp", "odoo", "-c", str(config)])
        monkeypatch.chdir(tmp_path)
        planned = runner.invoke(app, ["plan", "-s", "odoo"])
    for result in (synced, planned):
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        assert f"warning: open_demand: sale.order.line id={line['id']}" in text and "left out" in text
        assert text.count("left out") == 1  # printed once

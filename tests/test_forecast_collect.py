"""Sales forecast files: writing them, every bad entry with its exact message, 12 reps with conflicts, audit."""

from __future__ import annotations

import datetime as dt
import json
import math
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli import app
from workbooks import template
from workbooks.forecast_audit import AuditStore, audit_path
from workbooks.forecast_collect import collect, consolidate, output_path
from workbooks.forecast_files import META_SHEET, read_forecast_file, write_forecast_file
from workbooks.reader import read_forecast

MONTHS = ["2026-10", "2026-11", "2026-12", "2027-01"]
AS_OF = dt.date(2026, 11, 25)  # 2026-10 is past
FAMILIES = ["Bikes", "E-Bikes", "Helmets", "Locks"]


def _master(folder: Path, families: list[str] = FAMILIES) -> Path:
    rows = [(f, m, 100.0 + 10 * i) for i, f in enumerate(families) for m in MONTHS]
    forecast = pd.DataFrame(rows, columns=["family", "bucket", "qty"])
    return template.new_workbook(folder / "SOP.xlsx", ["PAST_DUE", *MONTHS], families, forecast=forecast)


def _rep(folder: Path, master: Path, owner: str, families: list[str], name: str | None = None) -> Path:
    grid = read_forecast(master)
    path = folder / f"{name or owner.lower()}.xlsx"
    return write_forecast_file(
        path,
        owner,
        families,
        MONTHS,
        locked=["2026-10"],
        prefill=grid[grid["family"].isin(families)],
        master=master.name,
    )


def _edit(path: Path, values: dict[str, object], sheet: str = "Forecast") -> None:
    """What a rep does in Excel (tests only: openpyxl on the rep's own small file, never on the master)."""
    book = openpyxl.load_workbook(path)
    for ref, value in values.items():
        book[sheet][ref] = value
    book.save(path)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    master = _master(tmp_path)
    reps = tmp_path / "reps"
    reps.mkdir()
    return master, reps


def test_forecast_file_is_protected_validated_prefilled_and_stamped(setup: tuple[Path, Path]) -> None:
    master, reps = setup
    path = _rep(reps, master, "Alice", ["Bikes", "Helmets"])
    book = openpyxl.load_workbook(path)
    sheet = book["Forecast"]
    assert sheet.protection.sheet
    assert [c.value for c in sheet[4]] == ["Family", *MONTHS, "Comment"]
    assert sheet["B5"].value == 100 and sheet["B6"].value == 120  # prefilled from the master
    assert sheet["B5"].protection.locked  # 2026-10 locked
    assert not sheet["C5"].protection.locked and not sheet["F5"].protection.locked  # inputs + comment
    ranges = {str(dv.sqref): (dv.type, dv.operator, dv.formula1) for dv in sheet.data_validations.dataValidation}
    assert ranges == {f"{c}5:{c}6": ("decimal", "greaterThanOrEqual", "0") for c in "CDE"}
    assert "Owner: Alice · template sopxl-forecast-1" in sheet["A2"].value
    assert book[META_SHEET].sheet_state == "veryHidden"
    assert book["Baseline"].protection.sheet
    unchanged = read_forecast_file(path)
    assert unchanged.owner == "Alice" and unchanged.entries == () and unchanged.issues == ()


def test_each_bad_entry_gets_its_exact_message_and_the_rest_consolidates(setup: tuple[Path, Path]) -> None:
    master, reps = setup
    alice = _rep(reps, master, "Alice", ["Bikes", "E-Bikes"])
    bob = _rep(reps, master, "Bob", ["E-Bikes", "Helmets"])
    carol = _rep(reps, master, "Carol", ["Locks"])
    _edit(alice, {"C5": "lots", "D5": -5, "B6": 999, "E5": 130, "F5": "promo in January"})
    _edit(alice, {"A7": "Bikez", "C7": 50})  # a row the rep added for an unknown family
    _edit(alice, {"C6": 111})  # E-Bikes 2026-11: also changed by Bob -> conflict
    _edit(bob, {"C5": 222, "D6": 140})
    _edit(carol, {"C5": 77})
    old = reps / "old.xlsx"
    _rep(reps, master, "Dave", ["Locks"], name="old")
    _edit(old, {"B1": "sopxl-forecast-0"}, sheet=META_SHEET)

    result = collect(reps, master, as_of=AS_OF)
    messages = sorted(str(i) for i in result.consolidation.issues)
    assert messages == sorted(
        [
            "alice.xlsx, Forecast!C5 (family 'Bikes', month 2026-11): text 'lots' is not a number "
            "(rule: a forecast is a number >= 0 (or blank))",
            "alice.xlsx, Forecast!D5 (family 'Bikes', month 2026-12): -5 is negative "
            "(rule: a forecast is a number >= 0 (or blank))",
            "alice.xlsx, Forecast!B6 (family 'E-Bikes', month 2026-10): month 2026-10 is locked in this file; "
            "the change to 999 is not taken (rule: locked (past or frozen) months cannot be changed)",
            "alice.xlsx, Forecast!C7 (family 'Bikez', month 2026-11): family 'Bikez' is not in the master's "
            "Forecast grid (rule: families must be rows of the master's Forecast grid)",
            "alice.xlsx, Forecast!C6 (family 'E-Bikes', month 2026-11): entered in 2 files "
            "(alice.xlsx Forecast!C6 (Alice: 111); bob.xlsx Forecast!C5 (Bob: 222)); not applied, the master "
            "keeps 110 (rule: a family/month may be changed in one file only; conflicting cells are not applied)",
            "bob.xlsx, Forecast!C5 (family 'E-Bikes', month 2026-11): entered in 2 files "
            "(alice.xlsx Forecast!C6 (Alice: 111); bob.xlsx Forecast!C5 (Bob: 222)); not applied, the master "
            "keeps 110 (rule: a family/month may be changed in one file only; conflicting cells are not applied)",
            "old.xlsx: template version 'sopxl-forecast-0' is not 'sopxl-forecast-1'; the whole file is not taken "
            "(rule: forecast files must be made by `sop forecast-sheet` (template sopxl-forecast-1))",
        ]
    )
    grid = read_forecast(result.output).set_index(["family", "bucket"])["qty"]
    assert grid[("Bikes", "2027-01")] == 130  # alice's valid cell
    assert grid[("Bikes", "2026-11")] == 100  # text: not taken, master value stays
    assert grid[("E-Bikes", "2026-11")] == 110  # conflict: master value stays
    assert grid[("Helmets", "2026-12")] == 140  # bob's valid cell
    assert grid[("Locks", "2026-11")] == 77  # carol
    assert grid[("E-Bikes", "2026-10")] == 110  # locked
    changes = result.consolidation.changes
    assert changes[["owner", "family", "month", "old", "new"]].values.tolist() == [
        [
            "Alice",
            "Bikes",
            "2027-01",
            100.0,
            130.0,
        ],
        ["Bob", "Helmets", "2026-12", 120.0, 140.0],
        ["Carol", "Locks", "2026-11", 130.0, 77.0],
    ]
    assert changes["comment"].tolist()[0] == "promo in January"
    report = openpyxl.load_workbook(result.output)
    assert report["Issues"].max_row == 3 + 7
    assert report["Forecast"]["C6"].comment is not None  # E-Bikes 2026-11 flagged in the sheet
    assert "old.xlsx" not in result.skipped and master.name not in result.skipped


def test_month_outside_the_open_horizon_and_cleared_cells(setup: tuple[Path, Path]) -> None:
    master, reps = setup
    path = write_forecast_file(reps / "eve.xlsx", "Eve", ["Bikes"], [*MONTHS, "2027-02"])
    _edit(path, {"F5": 10, "C5": None})  # 2027-02 is not in the master; C5 has no prefill -> unchanged blank
    parsed = [read_forecast_file(path)]
    result = consolidate(parsed, read_forecast(master), open_months=MONTHS[1:])
    assert [str(i) for i in result.issues] == [
        "eve.xlsx, Forecast!F5 (family 'Bikes', month 2027-02): month 2027-02 is outside the open horizon "
        "2026-11 .. 2027-01 (rule: months must be open months of the master's Forecast grid (not past, within "
        "the horizon))"
    ]
    alice = _rep(reps, master, "Alice", ["Bikes"])
    _edit(alice, {"D5": None})  # cleared: blank = no forecast, an explicit change
    result = consolidate([read_forecast_file(alice)], read_forecast(master), open_months=MONTHS[1:])
    assert result.changes[["family", "month", "old"]].values.tolist() == [["Bikes", "2026-12", 100.0]]
    assert math.isnan(result.changes["new"].iloc[0])
    assert math.isnan(result.grid.set_index("family").loc["Bikes", "2026-12"])


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_twelve_reps_with_conflicts_consolidate_and_audit(tmp_path: Path) -> None:
    families = [f"F{i:02d}" for i in range(24)]
    master = _master(tmp_path, families)
    reps = tmp_path / "reps"
    reps.mkdir()
    expected: dict[tuple[str, str], float] = {}
    for r in range(12):
        mine = families[2 * r : 2 * r + 2]
        path = _rep(reps, master, f"Rep{r:02d}", mine)
        _edit(path, {"C5": 1000 + r, "D6": 2000 + r, "F5": f"note {r}", "F6": f"note {r}"})
        expected[(mine[0], "2026-11")] = 1000 + r
        expected[(mine[1], "2026-12")] = 2000 + r
    # two reps also claim F00: Rep00's F00 2026-11 now conflicts
    for extra in ("Rep12", "Rep13"):
        _edit(_rep(reps, master, extra, ["F00"]), {"C5": 5 if extra == "Rep12" else 6})
    before = _parts(master)
    result = collect(reps, master, as_of=AS_OF)
    c = result.consolidation
    assert c.files == 14 and c.entries == 26
    conflicts = [i for i in c.issues if "entered in 3 files" in i.message]
    assert {i.file for i in conflicts} == {"rep00.xlsx", "rep12.xlsx", "rep13.xlsx"}
    assert all(i.family == "F00" and i.month == "2026-11" for i in conflicts)
    assert len(c.issues) == 3 and len(c.changes) == 23
    grid = read_forecast(result.output).set_index(["family", "bucket"])["qty"]
    del expected[("F00", "2026-11")]
    for key, value in expected.items():
        assert grid[key] == value
    assert grid[("F00", "2026-11")] == 100.0
    # ... and the same numbers are now in the master's own Forecast grid, written at the part level:
    in_master = read_forecast(master).set_index(["family", "bucket"])["qty"]
    pd.testing.assert_series_equal(in_master, grid)
    after = _parts(master)
    changed = {n for n in before if before[n] != after.get(n)}
    assert len([n for n in changed if n.startswith("xl/worksheets/")]) == 1  # only the Forecast sheet
    assert changed <= {n for n in changed if n.startswith("xl/worksheets/") or n.startswith("xl/tables/")} | {
        "xl/workbook.xml",
        "[Content_Types].xml",
        "xl/_rels/workbook.xml.rels",
        "xl/calcChain.xml",
    }

    store = AuditStore(audit_path(master))
    trail = store.changes(family="F03")
    assert trail[["owner", "month", "old_value", "new_value", "comment"]].values.tolist() == [
        ["Rep01", "2026-12", 130.0, 2001.0, "note 1"]
    ]
    assert len(store.changes()) == 23 and len(store.runs()) == 1
    assert output_path(master).name == "SOP.forecast.xlsx"

    runner = CliRunner()
    shown = runner.invoke(app, ["audit", "--workbook", str(master), "--family", "F03"])
    assert shown.exit_code == 0, shown.output
    as_json = runner.invoke(app, ["audit", "--workbook", str(master), "--owner", "Rep01", "--json"])
    rows = json.loads(as_json.output)
    assert [(r["family"], r["old_value"], r["new_value"], r["comment"]) for r in rows] == [
        ("F03", 130.0, 2001.0, "note 1"),
        ("F02", 120.0, 1001.0, "note 1"),
    ]


def test_cli_forecast_sheet_and_collect(setup: tuple[Path, Path]) -> None:
    master, reps = setup
    runner = CliRunner()
    out = reps / "zoe.xlsx"
    made = runner.invoke(
        app,
        [
            "forecast-sheet",
            "--owner",
            "Zoe",
            "--families",
            "Bikes,Locks",
            "--out",
            str(out),
            "-w",
            str(master),
            "--as-of",
            "2026-11-25",
        ],
    )
    assert made.exit_code == 0, made.output
    unknown = runner.invoke(
        app,
        ["forecast-sheet", "--owner", "Zoe", "--families", "Trikes", "--out", str(reps / "x.xlsx"), "-w", str(master)],
    )
    assert unknown.exit_code == 1 and "unknown family 'Trikes'" in unknown.output
    _edit(out, {"E6": 12})
    done = runner.invoke(app, ["collect", str(reps), "--workbook", str(master), "--json", "--as-of", "2026-11-25"])
    assert done.exit_code == 0, done.output
    assert '"applied": 1' in done.output and '"new": 12.0' in done.output

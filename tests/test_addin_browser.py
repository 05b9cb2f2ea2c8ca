"""The Office.js add-in where users see it: its task pane and ribbon in a real browser (headless Chromium).

``sop addin serve`` runs as a real process; Chromium loads its task pane, so xlwings Server's own
JavaScript builds the workbook payload, posts it, and applies the returned actions, and sopxl's ribbon.js
and the served custom-functions code run as in Excel. Excel itself is stood in for by
``tests/officejs_shim/excel-host.js`` (see :mod:`tests.officejs_browser`): the tests click the S&OP buttons,
type formulas into cells, and read back what Excel would show, checked against the engine's plan.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from addin import ribbon, udfs
from workbooks import layout

from .addin_support import make_demo
from .officejs_browser import Browser, Pane, chromium, launch, workbook_spec
from .officejs_client import ClientWorkbook, overlaps
from .test_addin_officejs import Server, serving

pytest.importorskip("xlwings_server", reason="the Office.js path is the opt-in extra sopxl[server]")

pytestmark = [
    pytest.mark.demo_clock,
    pytest.mark.browser,
    pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (make system-deps)"),
]

Box = tuple[int, int, int, int]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    with serving(folder, make_demo(folder), "browser") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as running:
        yield running


@pytest.fixture
def open_pane(server: Server, browser: Browser) -> Iterator[Callable[..., Pane]]:
    """Task panes on fresh copies of the demo workbook (``workbook_spec`` options); each must end without a
    script error and without the page having tried to reach anything but the server."""
    opened: list[Pane] = []

    def open_one(**spec: Any) -> Pane:
        opened.append(browser.open(server.url, workbook_spec(server.demo.workbook, **spec)))
        return opened[-1]

    yield open_one
    for pane in opened:
        pane.page.close()
        assert pane.errors == [], pane.errors
        assert pane.outside == [], pane.outside


@pytest.fixture
def pane(open_pane: Callable[..., Pane]) -> Pane:
    return open_pane()


def _prompts(pane: Pane) -> list[str]:
    return [str(d["prompt"]) for d in pane.log()["dialogs"]]


def _fields(spec: layout.TableSpec) -> list[str]:
    return [c.field for c in spec.columns]


def _rows(book: ClientWorkbook, spec: layout.TableSpec) -> list[dict[str, Any]]:
    return [dict(zip(_fields(spec), row, strict=True)) for row in book.table_rows(spec.name)]


def _box(address: str) -> Box:
    from openpyxl.utils.cell import range_boundaries

    left, top, right, bottom = range_boundaries(address if ":" in address else f"{address}:{address}")
    assert left is not None and top is not None and right is not None and bottom is not None
    return top - 1, left - 1, bottom - 1, right - 1


OWNED = (*layout.OWNED_TABLES, *layout.PLANNING_TABLES)
USER_OWNED = (*layout.PLANNING_INPUTS,)


def _assert_writes_owned_only(before: ClientWorkbook, after: ClientWorkbook, log: dict[str, Any]) -> None:
    """Every range the add-in wrote lies in an owned table (as it was, or as resized) or is an owned stamp
    cell; none touches a user-owned table (the Forecast grid, the planning inputs)."""
    user = [layout.FORECAST_TABLE, *(s.name for s in USER_OWNED)]
    for write in log["writes"]:
        box = _box(write["address"])
        owned_here = [
            book.table_box(spec.name)
            for spec in OWNED
            for book in (before, after)
            if _has_table(book, spec.name) and book.table(spec.name)[0]["name"] == write["sheet"]
        ]
        owned_here += [
            book.table_box(layout.SOP_GRID_TABLE)
            for book in (before, after)
            if _has_table(book, layout.SOP_GRID_TABLE) and write["sheet"] == layout.SOP_GRID_SHEET
        ]
        stamp = any(s.stamp_cell and s.sheet == write["sheet"] and _box(s.stamp_cell) == box for s in OWNED) or (
            write["sheet"] == layout.SOP_GRID_SHEET and box == _box("A2")
        )
        inside = any(b[0] <= box[0] and b[1] <= box[1] and box[2] <= b[2] and box[3] <= b[3] for b in owned_here)
        assert inside or stamp, write
        for name in user:
            for book in (before, after):
                if _has_table(book, name) and book.table(name)[0]["name"] == write["sheet"]:
                    assert not overlaps(box, book.table_box(name)), (name, write)


def _has_table(book: ClientWorkbook, name: str) -> bool:
    try:
        book.table(name)
    except KeyError:
        return False
    return True


EMPTIED = tuple(spec.name for spec in layout.OWNED_TABLES if spec is not layout.SETTINGS)
"""The tables a refresh fills (Settings stays: it names the ERP source)."""


def test_refresh_button_writes_the_engine_plan_into_owned_tables_only(
    server: Server, open_pane: Callable[..., Pane]
) -> None:
    pane = open_pane(emptied=EMPTIED)
    before = pane.workbook()
    assert before.table_rows(layout.PLAN.name) == [[None] * len(layout.PLAN.columns)]  # nothing to find yet
    pane.type(layout.PLAN.sheet, layout.PLAN.stamp_cell or "", "")
    pane.click("Refresh from ERP")
    after = pane.workbook()
    log = pane.log()
    assert [d["title"] for d in log["dialogs"]] == ["sopxl"]
    assert log["dialogs"][0]["prompt"].startswith("Refreshed. ERP data as of"), log["dialogs"]
    # The Plan table is the engine's plan, month labels still text (Excel would have made "2026-11" a date).
    expected = server.demo.plan.family_plan
    plan = _rows(after, layout.PLAN)
    assert [(r["family"], r["bucket"]) for r in plan] == list(
        zip(expected["family"], expected["bucket"].astype(str), strict=True)
    )
    compared = [f for f in _fields(layout.PLAN) if f in expected.columns and expected[f].dtype.kind == "f"]
    assert len(compared) >= 5, compared  # the plan's quantities, whatever the layout calls them
    for field in compared:  # a NaN or infinite number is a blank cell (live_writer.cell_value)
        assert [r[field] for r in plan] == pytest.approx([v if math.isfinite(v) else None for v in expected[field]]), (
            field
        )
    assert after.table_box(layout.PLAN.name)[2] - after.table_box(layout.PLAN.name)[0] == len(expected)
    _assert_writes_owned_only(before, after, log)
    assert after.table_rows(layout.FORECAST_TABLE) == before.table_rows(layout.FORECAST_TABLE)
    # Excel quiet during the writes, the user's mode back, then one full recalculation of the SOP_ formulas.
    assert log["calculationModes"] == ["Manual", "Automatic"]
    assert log["calculations"] == ["Full"]
    assert pane.dump()["book"]["calculation"] == "Automatic"
    settings = {r["setting"]: r["value"] for r in _rows(after, layout.SETTINGS)}
    assert isinstance(settings["refreshed_at"], str) and "T" not in settings["refreshed_at"]
    stamp = after.sheet(layout.PLAN.sheet)["values"][1][0]
    assert isinstance(stamp, str) and stamp.startswith("ERP data as of ")
    assert not pane.page.locator("#global-error-alert").is_visible()
    # Every table the refresh filled holds the engine's rows (grown from one blank row by Table.resize).
    for spec in (layout.DEMAND, layout.SUPPLY, layout.INVENTORY):
        assert len(after.table_rows(spec.name)) == len(server.demo.plan.sku_plan), spec.name
    assert len(after.table_rows(layout.TOP_GAPS.name)) > 1


def _setting_cell(book: ClientWorkbook, setting: str) -> str:
    """The sheet-qualified address of a setting's value cell in the Settings table."""
    from openpyxl.utils.cell import get_column_letter

    top, left, _bottom, _right = book.table_box(layout.SETTINGS.name)
    row = next(i for i, r in enumerate(book.table_rows(layout.SETTINGS.name)) if r[0] == setting)
    return f"{layout.SETTINGS.sheet}!{get_column_letter(left + 2)}{top + 2 + row}"


def _plain(value: Any) -> Any:
    """A custom-function result element as the cell shows it (dates are FormattedNumber: the serial)."""
    if isinstance(value, dict):
        return value.get("basicValue")
    return value


STAMP_REF = "{stamp}"


def _call(udf: Any, family: str, month: str, stamp: str | None = None) -> tuple[list[Any], list[str]]:
    """The arguments of one SOP_ call and the same as formula text: family, month and work center given, a
    stamp as a reference to its cell (:data:`STAMP_REF`), every other argument left out."""
    values: list[Any] = []
    texts: list[str] = []
    for name in inspect.signature(udf).parameters:
        value = {"family": family, "month": month, "work_center": "WC01"}.get(name)
        if name == "stamp" and stamp is not None:
            values.append(stamp)
            texts.append(STAMP_REF)
        else:
            values.append(value)
            texts.append("" if value is None else f'"{value}"')
    while values and values[-1] is None:
        values.pop()
        texts.pop()
    return values, texts


def test_every_sop_function_answers_in_cells_through_the_custom_functions_js(server: Server, pane: Pane) -> None:
    pane.click("Refresh from ERP")
    book = pane.workbook()
    plan = _rows(book, layout.PLAN)
    family, month = "Bikes", next(r["bucket"] for r in plan if r["bucket"] != layout.PAST_DUE)
    stamp_cell = _setting_cell(book, "refreshed_at")
    stamp = {r["setting"]: r["value"] for r in _rows(book, layout.SETTINGS)}["refreshed_at"]
    pane.add_sheet("Report")
    # Every function, as a user types it (and pinned to the refresh's stamp cell where it takes one), in
    # columns B and AF, rows 60 apart so spilling results have room; each against the same call made
    # without the browser (argument shaping and result rendering are the JavaScript's).
    cells: dict[str, tuple[str, list[Any]]] = {}
    for i, udf in enumerate(udfs.UDFS):
        for j, pinned in enumerate((False, True)):
            if pinned and "stamp" not in inspect.signature(udf).parameters:
                continue
            values, texts = _call(udf, family, month, stamp if pinned else None)
            formula = f"=SOPXL.{udf.__name__}({','.join(texts)})".replace(STAMP_REF, stamp_cell)
            address = f"{('B', 'AF')[j]}{1 + 60 * i}"
            pane.type("Report", address, formula)
            cells[address] = (udf.__name__, values)
    formulas = pane.formulas("Report")
    assert {f["message"] for f in formulas.values()} == {None}, formulas  # no #VALUE!/#NAME?/#SPILL! anywhere
    for address, (name, values) in cells.items():
        expected = [[_plain(v) for v in row] for row in server.function(name, *values)]
        assert pane.spill("Report", address) == expected, (address, formulas[address]["formula"])
    # Anchors in the plan the refresh wrote into the owned tables (checked against the engine above).
    by_name = {name: address for address, (name, values) in cells.items() if address.startswith("B")}
    shown = next(r for r in plan if r["family"] == family and r["bucket"] == month)
    assert pane.value("Report", by_name["SOP_DEMAND"]) == pytest.approx(shown["demand_proposed"])
    assert pane.value("Report", by_name["SOP_ASOF"]) == book.sheet(layout.PLAN.sheet)["values"][1][0]
    grid = pane.spill("Report", by_name["SOP_PLAN"])  # one formula spills the family x month grid
    assert grid[0][1:] == list(dict.fromkeys(r["bucket"] for r in plan))
    assert {line[0] for line in grid[1:]} == {r["family"] for r in plan}
    # An ERP time comes back as a date cell; a typo as the short text, never a traceback.
    pane.type("Report", "Z1", '=SOPXL.SOP_ASOF("erp")')
    as_of = server.demo.plan.as_of.replace(tzinfo=None)  # Excel dates carry no time zone
    assert pane.value("Report", "Z1") == pytest.approx((as_of - dt.datetime(1899, 12, 30)).total_seconds() / 86400)
    report = next(s for s in pane.dump()["sheets"] if s["name"] == "Report")
    assert report["number_formats"]["Z1"] == "M/d/yyyy"
    pane.type("Report", "Z2", f'=SOPXL.SOP_DEMAND("{family}x","{month}")')
    assert str(pane.value("Report", "Z2")).startswith("#SOP! unknown family"), pane.value("Report", "Z2")


def test_each_workbook_sees_its_own_plan_in_its_cells(open_pane: Callable[..., Pane]) -> None:
    """Office.js names the calling workbook with every formula: two workbooks on one server keep their plans."""
    mine, theirs, never = open_pane(), open_pane(name="Other.xlsx"), open_pane(name="Never.xlsx")
    _sheet, table = mine.workbook().table(layout.FORECAST_TABLE)
    month = table["columns"][-3]
    theirs.type(layout.FORECAST_SHEET, _forecast_cell(theirs.workbook(), "Bikes", month), 9000)
    mine.click("Refresh from ERP")
    theirs.click("Refresh from ERP")  # the newest plan on the server is now Other.xlsx's
    for pane in (mine, theirs, never):
        pane.add_sheet("Report")
        pane.type("Report", "B2", f'=SOPXL.SOP_DEMAND("Bikes","{month}")')
    assert theirs.value("Report", "B2") >= 9000 > mine.value("Report", "B2")
    assert str(never.value("Report", "B2")).startswith("#SOP! this workbook has not been refreshed yet")


def _forecast_cell(book: ClientWorkbook, family: str, month: str) -> str:
    from openpyxl.utils.cell import get_column_letter

    _sheet, table = book.table(layout.FORECAST_TABLE)
    top, left, _bottom, _right = book.table_box(layout.FORECAST_TABLE)
    r = next(i for i, line in enumerate(book.table_rows(layout.FORECAST_TABLE)) if line[0] == family)
    return f"{get_column_letter(left + 1 + table['columns'].index(month))}{top + 2 + r}"


def test_formulas_show_the_new_plan_after_a_forecast_edit_and_recompute(server: Server, pane: Pane) -> None:
    """The staleness rule in the browser: formulas follow Recompute (the full recalculation it asks for)."""
    pane.click("Refresh from ERP")
    book = pane.workbook()
    _sheet, table = book.table(layout.FORECAST_TABLE)
    month = table["columns"][-3]
    pane.add_sheet("Report")
    pane.type("Report", "B2", f'=SOPXL.SOP_DEMAND("Bikes","{month}")')
    _values, texts = _call(udfs.SOP_DEMAND, "Bikes", month, stamp="pinned")
    pinned = f"=SOPXL.SOP_DEMAND({','.join(texts)})".replace(STAMP_REF, _setting_cell(book, "refreshed_at"))
    pane.type("Report", "B3", pinned)
    before = pane.value("Report", "B2")
    assert pane.value("Report", "B3") == before < 5000
    cell = _forecast_cell(book, "Bikes", month)
    pane.type(layout.FORECAST_SHEET, cell, 5000)  # the planner types a new forecast
    assert pane.value("Report", "B2") == before  # no new plan yet: the formulas keep the plan the tables show
    pane.reset_log()
    assert pane.press_ribbon("Recompute plan") == "sop-recompute"
    assert _prompts(pane)[-1].startswith("Recomputed."), _prompts(pane)
    after = pane.workbook()
    new = server.function("SOP_DEMAND", "Bikes", month)[0][0]  # the plan the server now holds
    assert new >= 5000 > before
    assert pane.value("Report", "B2") == pytest.approx(new)
    assert pane.value("Report", "B3") == pytest.approx(new)  # the stamp changed: recalculated too
    assert _rows(after, layout.PLAN) != _rows(book, layout.PLAN)  # and the tables show that plan
    assert pane.value(layout.FORECAST_SHEET, cell) == 5000  # the typed number stays
    formulas = pane.formulas("Report")
    assert formulas["B2"]["runs"] >= 2 and formulas["B3"]["runs"] >= 2


EXPECTED_MESSAGE = {
    "refresh": "Refreshed. ERP data as of",
    "recompute": "Recomputed. ",
    "collect": "Collect forecasts failed: no forecasts folder",
    "publish": "Published: plan ",
    "scenario": "Scenarios computed side by side with the base plan",
    "freshness": "ERP data as of ",
}
"""What each button's alert starts with, on a workbook refreshed once (no forecasts folder on the server)."""
ORDER = ("freshness", "refresh", "recompute", "publish", "scenario", "collect")


def test_each_ribbon_button_runs_its_own_action(pane: Pane) -> None:
    ribbon_tab = pane.shim("await shim.ribbon()")
    assert ribbon_tab["tab"] == "S&OP" and ribbon_tab["namespace"] == "SOPXL"
    commands = {c["label"]: c for c in ribbon_tab["controls"] if c["kind"] == "ExecuteFunction"}
    assert set(commands) == {a.label for a in ribbon.ACTIONS.values()}
    assert [c["label"] for c in ribbon_tab["controls"] if c["kind"] == "ShowTaskpane"] == ["S&OP pane"]
    for tag in ORDER:
        label = ribbon.ACTIONS[tag].label
        pane.reset_log()
        assert pane.press_ribbon(label) == commands[label]["functionName"] == f"sop-{tag}"
        prompts = _prompts(pane)
        assert len(prompts) == 1 and prompts[0].startswith(EXPECTED_MESSAGE[tag]), (tag, prompts)
        if tag in ("freshness", "publish", "collect"):
            assert pane.log()["writes"] == [], tag  # nothing of the workbook changes


def test_each_task_pane_button_runs_its_own_action(server: Server, pane: Pane) -> None:
    labels = [b.inner_text().strip() for b in pane.page.locator("button[xw-click]").all()]
    assert sorted(labels) == sorted(a.label for a in ribbon.ACTIONS.values())
    for tag in ORDER:
        pane.reset_log()
        if tag == "scenario":  # the planner types a what-if into the Scenarios input table first
            book = pane.workbook()
            top, left, _bottom, _right = book.table_box(layout.SCENARIO_INPUTS.name)
            from openpyxl.utils.cell import get_column_letter

            for j, value in enumerate(["Boom", "Demand", "*", 50]):
                pane.type(layout.SCENARIO_INPUTS.sheet, f"{get_column_letter(left + 1 + j)}{top + 2}", value)
        pane.click(ribbon.ACTIONS[tag].label)
        prompts = _prompts(pane)
        assert len(prompts) == 1 and prompts[0].startswith(EXPECTED_MESSAGE[tag]), (tag, prompts)
        assert not pane.page.locator("#global-error-alert").is_visible(), tag
        if tag == "scenario":
            assert prompts[0] == "Scenarios computed side by side with the base plan: Boom.", prompts
            scenarios = _rows(pane.workbook(), layout.SCENARIOS)
            assert {r["scenario"] for r in scenarios} == {"Base", "Boom"}
    # Publishing the same plan again keeps one version.
    pane.reset_log()
    pane.click(ribbon.ACTIONS["publish"].label)
    assert "version 1 was already published" in _prompts(pane)[0], _prompts(pane)


def _collect_annas_file(server: Server, pane: Pane) -> tuple[ClientWorkbook, ClientWorkbook, str]:
    """A rep's forecast file with one changed entry in the server's forecasts/ folder; Collect forecasts
    clicked in the pane. Returns the workbook before and after, and the cell the rep's entry belongs in."""
    import openpyxl

    from workbooks.forecast_files import write_forecast_file
    from workbooks.reader import read_forecast

    grid = read_forecast(server.demo.workbook)
    months = sorted(grid["bucket"].unique())
    family = sorted(grid["family"].unique())[0]
    folder = server.demo.workbook.with_name(ribbon.FORECAST_FOLDER)
    folder.mkdir()
    try:
        rep = write_forecast_file(
            folder / "anna.xlsx", "Anna", [family], months, prefill=grid[grid["family"] == family], master="SOP.xlsx"
        )
        typed = openpyxl.load_workbook(rep)
        typed["Forecast"]["C5"] = 4242  # what Anna types in her own file (her family, the second month)
        typed.save(rep)
        before = pane.workbook()
        pane.click("Collect forecasts")
        prompts = _prompts(pane)
        assert prompts[0].startswith("Collected 1 forecast file(s): 1 change(s) applied, 0 issue(s)"), prompts
        return before, pane.workbook(), _forecast_cell(before, family, months[1])
    finally:
        shutil.rmtree(folder)


def _grid_changes(before: ClientWorkbook, after: ClientWorkbook) -> dict[tuple[int, int], tuple[Any, Any]]:
    old_rows, new_rows = before.table_rows(layout.FORECAST_TABLE), after.table_rows(layout.FORECAST_TABLE)
    return {
        (i, j): (a, b)
        for i, (old, new) in enumerate(zip(old_rows, new_rows, strict=True))
        for j, (a, b) in enumerate(zip(old, new, strict=True))
        if a != b
    }


def test_collect_forecasts_brings_a_reps_file_into_the_forecast_grid(server: Server, pane: Pane) -> None:
    before, after, cell = _collect_annas_file(server, pane)
    assert pane.value(layout.FORECAST_SHEET, cell) == 4242
    changes = _grid_changes(before, after)
    assert [new for old, new in changes.values() if old is not None] == [4242]  # no other entry of the grid
    assert {w["sheet"] for w in pane.log()["writes"]} == {layout.FORECAST_SHEET}


@pytest.mark.xfail(
    strict=True,
    reason="sopxl bug: Collect forecasts rewrites the whole live Forecast grid from a frame in which blank "
    "cells are 0 (ribbon.collect_forecasts -> LiveTableWriter), so the planner's blank cells become 0",
)
def test_collect_forecasts_leaves_the_planners_blank_cells_blank(server: Server, pane: Pane) -> None:
    before, after, _cell = _collect_annas_file(server, pane)
    assert [(at, new) for at, (old, new) in _grid_changes(before, after).items() if old is None] == []


def test_a_failing_action_changes_nothing_in_the_browser(pane: Pane, tmp_path: Path) -> None:
    sheet, cell = _setting_cell(pane.workbook(), "source").split("!")
    pane.type(sheet, cell, str(tmp_path))
    pane.reset_log()
    pane.click("Refresh from ERP")
    log = pane.log()
    assert len(log["dialogs"]) == 1
    assert log["dialogs"][0]["prompt"].startswith("Refresh from ERP failed: the workbook's ERP source")
    assert log["writes"] == [] and log["resizes"] == [] and log["calculations"] == []


def test_the_alert_dialog_the_pane_opens_is_served(server: Server, pane: Pane) -> None:
    pane.click("Show data freshness")
    dialog = pane.log()["dialogs"][0]
    assert dialog["options"]["displayInIframe"] is True
    page = requests.get(dialog["url"], timeout=60)
    assert page.status_code == 200 and "ERP data as of" in page.text

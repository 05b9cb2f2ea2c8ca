"""The Office.js path: a real xlwings Server process (``sop addin serve``) driven as Excel on the web drives it.

xlwings Server needs a licence key; this open-source project's own CI is noncommercial use, so the server
process (and only it: the key changes which xlwings engines load) runs with
``XLWINGS_LICENSE_KEY=noncommercial``. The test plays the Office.js client with :mod:`tests.officejs_client`:
it posts the workbook payload built from a real .xlsx, applies the returned actions, and checks them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from typer.testing import CliRunner

from addin import ribbon, udfs
from addin.addin_commands import MANIFEST_ID
from addin.cli import app
from connectors.demo_data import write_export_folder
from workbooks import layout

from .addin_support import Demo, make_demo
from .officejs_client import ClientWorkbook, book_payload, function_call, overlaps

pytest.importorskip("xlwings_server", reason="the Office.js path is the opt-in extra sopxl[server]")
pytestmark = pytest.mark.demo_clock


@dataclass(frozen=True)
class Server:
    url: str
    demo: Demo
    arity: dict[str, int]
    """Declared parameters per function: Excel passes them all, omitted optional ones as null."""

    def script(self, name: str, client: ClientWorkbook) -> None:
        response = requests.post(f"{self.url}/xlwings/custom-scripts-call/{name}", json=client.payload, timeout=120)
        assert response.status_code == 200, response.text
        client.apply(response.json())

    def function(self, name: str, *args: Any, book: str = "SOP.xlsx") -> Any:
        padded = [*args, *[None] * (self.arity[name] - len(args))]
        body = function_call(name, *padded, book=book)
        response = requests.post(f"{self.url}/xlwings/custom-functions-call", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["result"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(folder: Path, demo: Demo, name: str) -> Iterator[Server]:
    """``sop addin serve`` for ``folder`` as a real process (plans stored in ``folder/plans``)."""
    port = _free_port()
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "SOPXL_PLAN_DIR": str(folder / "plans")}
    env.pop("SOPXL_SOURCE", None)
    sop = str(Path(sys.executable).with_name("sop"))  # the installed console script, as a user runs it
    command = [sop, "addin", "serve", "--folder", str(folder), "--port", str(port)]
    log_path = folder / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/xlwings/custom-scripts-meta", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("xlwings Server did not start:\n" + log_path.read_text())
            time.sleep(0.3)
        meta = requests.get(f"{url}/xlwings/custom-functions-meta", timeout=30).json()["functions"]
        yield Server(url, demo, {f["name"]: len(f["parameters"]) for f in meta})
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("officejs")
    with serving(folder, make_demo(folder), "server") as running:
        yield running


@pytest.fixture
def client(server: Server) -> ClientWorkbook:
    return ClientWorkbook(book_payload(server.demo.workbook))


def _settings(client: ClientWorkbook) -> dict[str, str]:
    return {str(r[0]): "" if r[1] is None else str(r[1]) for r in client.table_rows(layout.SETTINGS.name)}


def _refresh(server: Server, client: ClientWorkbook) -> None:
    server.script("sop_refresh", client)
    assert client.alerts and client.alerts[-1].startswith("Refreshed. ERP data as of"), client.alerts


def test_refresh_writes_the_plan_into_owned_tables_only(server: Server, client: ClientWorkbook) -> None:
    user_boxes = {
        spec.name: client.table_box(spec.name)
        for spec in (layout.forecast_spec([]), layout.CAPACITY_INPUT, layout.SCENARIO_INPUTS)
    }
    forecast_before = client.table_rows(layout.FORECAST_TABLE)
    _refresh(server, client)
    plan = client.table_rows(layout.PLAN.name)
    expected = server.demo.plan.family_plan
    fields = [c.field for c in layout.PLAN.columns]
    assert len(plan) == len(expected)
    assert [r[fields.index("bucket")] for r in plan] == expected["bucket"].astype(str).tolist()  # text, not dates
    short = [r[fields.index("shortage_units_proposed")] for r in plan]
    assert short == pytest.approx(expected["shortage_units_proposed"].tolist())
    # Every write lands in an owned table (as resized) or its stamp cell; no user-owned range is touched.
    owned = {spec.name for spec in (*layout.OWNED_TABLES, *layout.PLANNING_TABLES)} | {layout.SOP_GRID_TABLE}
    table_box = client.table_box
    for write in client.writes:
        inside = [n for n in owned if client.table(n)[0]["name"] == write.sheet and overlaps(write.box, table_box(n))]
        stamp = any(
            spec.stamp_cell and spec.sheet == write.sheet and _cell_box(spec.stamp_cell) == write.box
            for spec in (*layout.OWNED_TABLES, *layout.PLANNING_TABLES)
        ) or (write.sheet == layout.SOP_GRID_SHEET and write.box == _cell_box("A2"))
        assert inside or stamp, write
        for name, box in user_boxes.items():
            assert not (client.table(name)[0]["name"] == write.sheet and overlaps(write.box, box)), (name, write)
    assert client.table_rows(layout.FORECAST_TABLE) == forecast_before
    assert client.calculation_modes == ["Manual", "Automatic"]  # quiet during the writes, the user's mode back
    assert client.full_recalculations == 1  # every SOP_ formula is evaluated again
    # Settings times are ISO with a space: the Office.js engine would choke on "...T08:00:00+01:00" texts.
    settings = _settings(client)
    assert " " in settings["refreshed_at"] and "T" not in settings["refreshed_at"]


def _cell_box(cell: str) -> tuple[int, int, int, int]:
    from openpyxl.utils.cell import coordinate_to_tuple

    row, column = coordinate_to_tuple(cell)
    return row - 1, column - 1, row - 1, column - 1


def test_sop_functions_answer_from_the_plan_the_workbook_shows(server: Server, client: ClientWorkbook) -> None:
    _refresh(server, client)
    fields = [c.field for c in layout.PLAN.columns]
    short = fields.index("shortage_units_proposed")
    row = next(r for r in client.table_rows(layout.PLAN.name) if r[short] not in (None, 0))
    family, month = row[fields.index("family")], row[fields.index("bucket")]
    assert server.function("SOP_GAP", family, month) == [[pytest.approx(-row[short])]]  # short: minus the shortage
    assert server.function("SOP_DEMAND", family, month) == [[pytest.approx(row[fields.index("demand_proposed")])]]
    # Pinned to this workbook's refresh by its Settings stamp, and refused for a stamp no plan has.
    stamp = _settings(client)["refreshed_at"]
    assert client.sheet("Settings")["values"][6][:2] == ["refreshed_at", stamp]  # Settings!B7, as docs/excel.md says
    assert server.function("SOP_GAP", family, month, None, None, stamp) == [[pytest.approx(-row[short])]]
    # a workbook pinned before the layer argument existed passes the stamp fourth: still honoured
    assert server.function("SOP_GAP", family, month, None, stamp) == [[pytest.approx(-row[short])]]
    unknown = server.function("SOP_GAP", family, month, None, None, "1999-01-01 00:00:00+00:00")
    assert unknown[0][0].startswith("#SOP!"), unknown
    # Bad arguments: a short error text in the cell, never a traceback.
    typo = server.function("SOP_GAP", family + "x", month)
    assert typo[0][0].startswith("#SOP! unknown family"), typo
    outside = server.function("SOP_GAP", family, "2040-01")
    assert outside[0][0].startswith(("#SOP!", "#N/A")), outside
    # One spilling formula for the whole family x month grid.
    grid = server.function("SOP_PLAN", "shortage")
    assert grid[0][1:] == list(dict.fromkeys(r[fields.index("bucket")] for r in client.table_rows(layout.PLAN.name)))
    assert {r[0] for r in grid[1:]} == {r[fields.index("family")] for r in client.table_rows(layout.PLAN.name)}


def test_each_workbook_gets_its_own_plan_from_one_server(server: Server, client: ClientWorkbook) -> None:
    _refresh(server, client)
    other = ClientWorkbook(book_payload(server.demo.workbook))
    other.payload["book"]["name"] = "Other.xlsx"
    sheet, table = other.table(layout.FORECAST_TABLE)
    month = table["columns"][-3]
    r = next(i for i, row in enumerate(other.table_rows(layout.FORECAST_TABLE)) if row[0] == "Bikes")
    top, left, _bottom, _right = other.table_box(layout.FORECAST_TABLE)
    other.set_cell(sheet["name"], top + 1 + r, left + table["columns"].index(month), 9000.0)
    _refresh(server, other)  # the newest plan on the server is now Other.xlsx's
    mine = server.function("SOP_DEMAND", "Bikes", month, book="SOP.xlsx")[0][0]
    theirs = server.function("SOP_DEMAND", "Bikes", month, book="Other.xlsx")[0][0]
    assert theirs >= 9000 > mine
    never = server.function("SOP_DEMAND", "Bikes", month, book="Never.xlsx")[0][0]
    assert never.startswith("#SOP! this workbook has not been refreshed yet"), never


def test_a_restarted_server_answers_from_the_stored_plan(server: Server, client: ClientWorkbook) -> None:
    _refresh(server, client)
    expected = server.function("SOP_GAP", "Bikes", "2026-12")
    folder = server.demo.workbook.parent
    with serving(folder, server.demo, "restarted") as restarted:  # a fresh process: nothing in memory
        assert restarted.function("SOP_GAP", "Bikes", "2026-12") == expected
        never = restarted.function("SOP_GAP", "Bikes", "2026-12", book="Never.xlsx")[0][0]
        assert never.startswith("#SOP! this workbook has not been refreshed yet"), never


def test_recompute_after_a_forecast_edit_reaches_tables_and_functions(server: Server, client: ClientWorkbook) -> None:
    _refresh(server, client)
    sheet, table = client.table(layout.FORECAST_TABLE)
    header = table["columns"]
    rows = client.table_rows(layout.FORECAST_TABLE)
    r = next(i for i, row in enumerate(rows) if row[0] == "Bikes")
    month = header[-3]
    top, left, _bottom, _right = client.table_box(layout.FORECAST_TABLE)
    client.set_cell(sheet["name"], top + 1 + r, left + header.index(month), 5000.0)  # the planner types
    before = server.function("SOP_DEMAND", "Bikes", month)[0][0]
    server.script("sop_recompute", client)
    assert client.alerts[-1].startswith("Recomputed."), client.alerts
    fields = [c.field for c in layout.PLAN.columns]
    family, bucket = fields.index("family"), fields.index("bucket")
    shown = next(x for x in client.table_rows(layout.PLAN.name) if x[family] == "Bikes" and x[bucket] == month)
    demand = fields.index("demand_proposed")
    assert shown[demand] >= 5000 > before
    assert server.function("SOP_DEMAND", "Bikes", month) == [[pytest.approx(shown[demand])]]
    assert client.table_rows(layout.FORECAST_TABLE)[r][header.index(month)] == 5000.0  # the typed number stays


def test_freshness_and_a_failing_action_report_in_an_alert(server: Server, client: ClientWorkbook) -> None:
    server.script("sop_freshness", client)
    assert client.alerts[-1].startswith("ERP data as of"), client.alerts
    # No forecasts/ folder beside the workbook on the server: one clear message, nothing written.
    server.script("sop_collect", client)
    assert client.alerts[-1].startswith("Collect forecasts failed: no forecasts folder"), client.alerts
    assert client.writes == []


def test_a_client_cannot_point_the_server_at_another_folder(
    server: Server, client: ClientWorkbook, tmp_path: Path
) -> None:
    """The Settings source comes from the caller: only export folders inside the server's folder are read."""
    elsewhere = write_export_folder(tmp_path / "someone-elses-export", seed=3)
    sheet, _table = client.table(layout.SETTINGS.name)
    top, left, _bottom, _right = client.table_box(layout.SETTINGS.name)
    row = next(i for i, r in enumerate(client.table_rows(layout.SETTINGS.name)) if r[0] == "source")
    client.set_cell(sheet["name"], top + 1 + row, left + 1, str(elsewhere))
    server.script("sop_refresh", client)
    assert client.alerts[-1].startswith("Refresh from ERP failed: the workbook's ERP source"), client.alerts
    assert "outside the server's folder" in client.alerts[-1]
    assert client.writes == []


class _Buttons(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs).get("xw-click")
        if tag == "button" and found:
            self.scripts.append(found)


def test_served_metadata_matches_the_classic_declarations(server: Server) -> None:
    functions = requests.get(f"{server.url}/xlwings/custom-functions-meta", timeout=30).json()["functions"]
    assert {f["name"] for f in functions} == {u.__name__ for u in udfs.UDFS}
    by_name = {f["name"]: f for f in functions}
    assert by_name["SOP_GAP"]["description"] == udfs.SOP_GAP.__doc__
    assert [p["name"] for p in by_name["SOP_GAP"]["parameters"]] == ["family", "month", "unit", "layer", "stamp"]
    assert by_name["SOP_GAP"]["parameters"][0]["description"] == udfs.FAMILY_DOC
    assert [p.get("optional", False) for p in by_name["SOP_GAP"]["parameters"]] == [False, False, True, True, True]
    scripts = requests.get(f"{server.url}/xlwings/custom-scripts-meta", timeout=30).json()
    assert {s["function_name"]: s["name"] for s in scripts} == {f"sop_{t}": a.label for t, a in ribbon.ACTIONS.items()}
    pane = _Buttons()
    pane.feed(requests.get(f"{server.url}/taskpane", timeout=30).text)
    assert sorted(pane.scripts) == sorted(f"sop_{t}" for t in ribbon.ACTIONS)  # one button per ribbon action


OFFICE = "{http://schemas.microsoft.com/office/taskpaneappversionoverrides}"
BASIC = "{http://schemas.microsoft.com/office/officeappbasictypes/1.0}"


def test_the_office_ribbon_has_the_classic_buttons_and_each_runs_its_script(server: Server) -> None:
    manifest = ElementTree.fromstring(requests.get(f"{server.url}/manifest", timeout=30).content)
    assert manifest.findtext("{http://schemas.microsoft.com/office/appforoffice/1.1}Id") == MANIFEST_ID
    strings = {s.get("id"): s.get("DefaultValue") for s in manifest.iter(f"{BASIC}String")}
    buttons = {
        control.findtext(f"{OFFICE}Action/{OFFICE}FunctionName"): strings[control.find(f"{OFFICE}Label").get("resid")]
        for control in manifest.iter(f"{OFFICE}Control")
        if control.find(f"{OFFICE}Action").get("{http://www.w3.org/2001/XMLSchema-instance}type") == "ExecuteFunction"
    }
    assert buttons == {f"sop-{t}": a.label for t, a in ribbon.ACTIONS.items()}
    # ribbon.js associates each of those function names with the script of the same action.
    js = requests.get(f"{server.url}/static/js/ribbon.js", timeout=30).text
    listed = re.search(r"SOP_BUTTONS = \[([^\]]*)\]", js)
    assert listed is not None and re.findall(r'"(\w+)"', listed.group(1)) == list(ribbon.ACTIONS)
    assert "Office.actions.associate(`sop-${tag}`" in js and "scriptName: `sop_${tag}`" in js
    assert "hello" not in js and "hello" not in ElementTree.tostring(manifest, encoding="unicode")


def test_serve_refuses_without_a_licence_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLWINGS_LICENSE_KEY", raising=False)
    result = CliRunner().invoke(app, ["addin", "serve", "--folder", str(tmp_path)])
    assert result.exit_code != 0
    assert "XLWINGS_LICENSE_KEY" in result.output and "classic" in result.output


FAILING_AFTER_A_WRITE = """
import asyncio, json, sys
import xlwings as xw
from addin import officejs, ribbon

def write_then_fail(book):
    book.sheets["Plan"]["A5"].value = "half of a refresh"
    raise RuntimeError("the ERP connection dropped")

ribbon.ACTIONS["refresh"] = ribbon.Action("Refresh from ERP", write_then_fail)
book = xw.Book(json=json.load(open(sys.argv[1])))
asyncio.run(officejs.SCRIPTS["sop_refresh"](None, book))
print(json.dumps(book.json()))
"""


def test_a_failing_action_sends_no_writes_only_its_message(server: Server, tmp_path: Path) -> None:
    """Office.js applies a script's actions after it returns: a write queued before a failure must not go."""
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps(book_payload(server.demo.workbook)))
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "SOPXL_PLAN_DIR": str(tmp_path / "plans")}
    done = subprocess.run(
        [sys.executable, "-c", FAILING_AFTER_A_WRITE, str(payload)], env=env, capture_output=True, text=True, check=True
    )
    client = ClientWorkbook(book_payload(server.demo.workbook))
    client.apply(json.loads(done.stdout.strip().splitlines()[-1]))
    assert client.writes == []
    assert client.alerts == ["Refresh from ERP failed: the ERP connection dropped"]

"""The task pane in a real browser: headless Chromium runs xlwings Server's own JavaScript against a workbook.

Excel cannot run here, so the page ``sop addin serve`` serves gets :file:`officejs_shim/excel-host.js` in
place of ``office.js``: the Excel side of the Office.js object model (load/sync, ranges, tables, custom
functions, ribbon commands, dialogs) over an in-memory workbook built from a real .xlsx by
:func:`workbook_spec`. Every other script (xlwings' ``custom-scripts``, ``custom-functions-code.js``,
sopxl's ``ribbon.js``) is the server's own. The browser may reach only the server on loopback: any other
request is refused and reported.

Chromium is Debian's (``make system-deps``), driven by Playwright's Python client; the flags are the ones
that keep it off the network here (no background networking, updates or sync) and a fresh profile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openpyxl
from openpyxl.utils.cell import get_column_letter, range_boundaries
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Playwright, Route, sync_playwright

from .officejs_client import ClientWorkbook

SHIM = Path(__file__).with_name("officejs_shim") / "excel-host.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 240_000
"""Every wait on the page: generous, a refresh on a busy 2-core machine can take a while (no timing is asserted)."""
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _serial(value: dt.datetime | dt.date) -> float:
    moment = value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
    return (moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400


def workbook_spec(path: Path, name: str | None = None, emptied: Collection[str] = ()) -> dict[str, Any]:
    """The workbook at ``path`` as the stand-in's Excel holds it: cell values (dates as serials with their
    number format, as Excel stores them), sheet states and tables. Tables named in ``emptied`` are cut
    to their header and one blank row (a workbook whose tables a refresh has yet to fill)."""
    book = openpyxl.load_workbook(path, data_only=True)
    for ws in book.worksheets:
        for table in list(ws.tables.values()):
            if table.name in emptied:
                left, top, right, bottom = range_boundaries(table.ref)
                assert left is not None and top is not None and right is not None and bottom is not None
                for row in ws.iter_rows(min_row=top + 1, max_row=bottom, min_col=left, max_col=right):
                    for cell in row:
                        cell.value = None
                table.ref = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{top + 1}"
    sheets = []
    for ws in book.worksheets:
        values: list[list[Any]] = []
        formats: dict[str, str] = {}
        for row in ws.iter_rows():
            line = []
            for cell in row:
                value = cell.value
                if isinstance(value, dt.datetime | dt.date):
                    formats[f"{get_column_letter(cell.column)}{cell.row}"] = cell.number_format
                    value = _serial(value)
                elif isinstance(value, dt.time):
                    raise ValueError(f"{ws.title}!{cell.coordinate}: a time of day is not in the stand-in")
                line.append("" if value is None else value)
            values.append(line)
        tables = [
            {
                "name": table.name,
                "range_address": table.ref,
                "show_headers": table.headerRowCount is None or bool(table.headerRowCount),
                "show_totals": bool(table.totalsRowCount),
                "table_style": table.tableStyleInfo.name if table.tableStyleInfo else None,
            }
            for table in ws.tables.values()
        ]
        visibility = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}[ws.sheet_state]
        sheets.append(
            {"name": ws.title, "visibility": visibility, "values": values, "number_formats": formats, "tables": tables}
        )
    return {"name": name or path.name, "sheets": sheets, "calculation": "Automatic"}


@dataclass
class Pane:
    """One task pane (a browser tab) on one workbook: the user's hands and what Excel would show."""

    page: Page
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def shim(self, expression: str, *args: Any) -> Any:
        """Evaluate ``expression`` in the page, with ``shim`` (the stand-in's test API) and ``args`` in scope."""
        return self.page.evaluate(
            f"async ([args]) => {{ const shim = globalThis.__sopxlShim; return {expression}; }}", [args]
        )

    def settled(self) -> None:
        self.page.evaluate("() => globalThis.__sopxlShim.settled()")

    def click(self, label: str) -> None:
        """Click a task pane button and wait until xlwings' handler gives it back (spinner gone)."""
        button = self.page.get_by_role("button", name=label, exact=True)
        button.click(timeout=WAIT_MS)
        self.page.wait_for_function(
            "b => !b.hasAttribute('disabled') && !b.querySelector('.spinner-border')",
            arg=button.element_handle(timeout=WAIT_MS),
            timeout=WAIT_MS,
        )
        self.settled()

    def press_ribbon(self, label: str) -> str:
        """Press a button of the S&OP ribbon tab (found in the served manifest); returns its FunctionName."""
        return str(self.shim("await shim.pressRibbonButton(args[0])", label))

    def type(self, sheet: str, address: str, entry: Any) -> None:
        """The user types ``entry`` (a value, or a formula starting with '=') into one cell."""
        self.shim("await shim.type(args[0], args[1], args[2])", sheet, address, entry)

    def add_sheet(self, name: str) -> None:
        self.shim("shim.addSheet(args[0])", name)

    def reset_log(self) -> None:
        self.shim("shim.resetLog()")

    def dump(self) -> dict[str, Any]:
        """Everything Excel would show (every sheet's values and tables) and the host's log."""
        self.settled()
        return dict(self.shim("shim.dump()"))

    def log(self) -> dict[str, Any]:
        """What the add-in did to the workbook: writes, resizes, calculation, dialogs."""
        self.settled()
        return dict(self.shim("shim.log()"))

    def workbook(self) -> ClientWorkbook:
        """The workbook as the user sees it now, readable with the Office.js client helpers."""
        return ClientWorkbook({"sheets": self.dump()["sheets"]})

    def values(self, sheet: str, address: str) -> list[list[Any]]:
        self.settled()
        return list(self.shim("shim.values(args[0], args[1])", sheet, address))

    def value(self, sheet: str, address: str) -> Any:
        return self.values(sheet, address)[0][0]

    def formulas(self, sheet: str) -> dict[str, dict[str, Any]]:
        """The sheet's formulas: text, spill range, the message of an error result, and how often each ran."""
        self.settled()
        return dict(self.shim("shim.formulas(args[0])", sheet))

    def spill(self, sheet: str, address: str) -> list[list[Any]]:
        """The values a formula at ``address`` spilled (its whole result)."""
        return self.values(sheet, self.formulas(sheet)[address]["spill"])


@dataclass
class Browser:
    context: BrowserContext

    def open(self, server_url: str, workbook: dict[str, Any], path: str = "/taskpane") -> Pane:
        """A new tab with the task pane of ``server_url`` on ``workbook``, Office ready."""
        page = self.context.new_page()
        page.set_default_timeout(WAIT_MS)
        pane = Pane(page)
        config = {"workbook": workbook, "manifestUrl": f"{server_url}/manifest", "waitMs": WAIT_MS}
        page.add_init_script(f"globalThis.__SOPXL_SHIM_CONFIG__ = {json.dumps(config)};")
        page.on("pageerror", lambda error: pane.errors.append(f"page error: {error}"))
        page.on("console", lambda message: _console(pane, message))
        page.route("**/*", lambda route: _route(pane, route))
        page.goto(f"{server_url}{path}", wait_until="load", timeout=WAIT_MS)
        # xlwings' init() has registered the buttons once the script metadata is in (xw-click-initialized).
        page.wait_for_function(
            "() => globalThis.xlwings && document.querySelector('[xw-click-initialized]')", timeout=WAIT_MS
        )
        return pane


SOCKETIO_NOISE = "socket.io"
"""xlwings Server's socket.io client (streaming functions, which sopxl has none of) is refused by the server
(no CORS origin configured) and says so in the console: that is not the page failing."""


def _console(pane: Pane, message: ConsoleMessage) -> None:
    if message.type == "error" and SOCKETIO_NOISE not in message.text:
        pane.errors.append(f"console error: {message.text}")


def _route(pane: Pane, route: Route) -> None:
    url = route.request.url
    parts = urlsplit(url)
    if parts.path.endswith("/office.js"):
        route.fulfill(status=200, content_type="text/javascript", body=SHIM.read_text())
    elif parts.scheme in ("data", "blob") or parts.hostname in LOOPBACK:
        route.continue_()
    else:
        pane.outside.append(url)
        route.abort()


@contextlib.contextmanager
def launch() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, with a fresh profile that is removed afterwards."""
    executable = chromium()
    assert executable, "Chromium is not installed (make system-deps)"
    with tempfile.TemporaryDirectory(prefix="sopxl-chromium-") as profile, sync_playwright() as playwright:
        context = _context(playwright, executable, profile)
        try:
            yield Browser(context)
        finally:
            context.close()


def _context(playwright: Playwright, executable: str, profile: str) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=WAIT_MS
    )

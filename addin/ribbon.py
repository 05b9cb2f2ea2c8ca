"""The S&OP ribbon's actions: each a function of an xlwings ``Book``, shared by classic Excel and Office.js.

Classic Excel: the add-in's VBA dispatcher runs ``import addin.ribbon as r; r.run('<button tag>')`` through
RunPython, and :func:`run` finds the calling workbook with ``xw.Book.caller()``. xlwings Server (Office.js)
hands the same functions a ``Book`` built from the request (see docs/excel.md).

Every action returns the message it shows; failures become one clear message, never a traceback.
Refresh and Recompute write only sopxl's owned tables (:mod:`addin.live_writer`), hand the new plan to
the SOP_ functions (:mod:`addin.plan_cache`) and end with a full recalculation, so no SOP_ formula keeps
showing the previous plan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import xlwings as xw

from connectors.tryton import load_settings
from sop_functions import clock
from sop_functions.buckets import Horizon
from sop_functions.plan import Plan
from sop_functions.scenarios import scenarios_from_table
from sop_functions.snapshot import Snapshot
from workbooks.forecast_collect import Consolidation, collect
from workbooks.layout import FORECAST_KEY, PLANNING_TABLES, SOP_GRID_TABLE, forecast_spec, table_spec
from workbooks.stamps import same_time, settings_time, stamp_text
from workbooks.tables import plan_stamps

from . import live_reader, publish
from .live_writer import LiveTableWriter
from .pipeline import WorkbookInputs, load_snapshot, plan_for, supply_planning, workbook_tables
from .plan_cache import SOURCE_ENV, PlanCache, PlanKey, resolve_source

log = logging.getLogger(__name__)
TITLE = "sopxl"
CACHE = PlanCache()
"""Plans this (RunPython) process computed; ``publish`` hands them to the UDF server through the store."""
SERVER_DIR_ENV = "SOPXL_SERVER_DIR"


def _served(book: xw.Book) -> bool:
    """Whether the workbook came from Office.js through xlwings Server (a name, not a path on this machine)."""
    return not Path(book.fullname).is_absolute()


def _server_root() -> Path:
    return Path(os.environ.get(SERVER_DIR_ENV) or Path.cwd())


def erp_source(book: xw.Book, source: str) -> str:
    """The ERP source a workbook's Settings name, for :func:`pipeline.load_snapshot`.

    On xlwings Server the Settings text comes from whoever calls the server, so it may only name an export
    folder inside the server's folder, ``tryton`` (the server's own sop.toml) or the administrator's
    ``$SOPXL_SOURCE``: never another folder on the server.
    """
    if not source or source == "template":
        raise ValueError("Settings has no ERP source yet: build the workbook with `sop new --source ...` first")
    resolved = resolve_source(str(workbook_path(book)), source)
    if _served(book) and resolved not in ("tryton", os.environ.get(SOURCE_ENV, "").strip()):
        root = _server_root().resolve()
        if not Path(resolved).resolve().is_relative_to(root):
            raise ValueError(f"the workbook's ERP source {source!r} is outside the server's folder {root}")
    return resolved


def workbook_path(book: xw.Book) -> Path:
    """The workbook's file, whose folder holds its export files, ``forecasts/`` and ``sop.toml``.

    Desktop Excel gives the full path. Office.js gives only the name, so on xlwings Server the workbook's
    folder is the server's data folder (``$SOPXL_SERVER_DIR``, default: the working directory); the name
    is reduced to a bare file name so a client cannot point outside that folder.
    """
    if not _served(book):
        return Path(book.fullname)
    name = PureWindowsPath(book.name).name  # splits on "/" and on backslashes
    if name in ("", ".", ".."):
        raise ValueError(f"cannot use the workbook name {book.name!r}: save the workbook under a file name")
    return _server_root() / name


def _status(app: xw.App, text: str | bool) -> None:
    """Excel's status bar message; Office.js has no status bar (xlwings raises NotImplementedError)."""
    with contextlib.suppress(AttributeError, NotImplementedError):
        app.status_bar = text


def _plan_for(book: xw.Book, snapshot: Snapshot, settings: dict[str, str]) -> tuple[Plan, WorkbookInputs, list[str]]:
    """Plan the snapshot with the live workbook's inputs (Forecast grid, capacity, agreed supply); notes about
    grid months that are missing."""
    periods = int(settings.get("horizon_periods") or 18)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=periods)
    inputs = live_reader.read_inputs(book, horizon)
    missing = [m for m in horizon.buckets if m not in set(inputs.forecast["bucket"])]
    notes = [f"the Forecast grid has no column for {', '.join(missing)} (planned with no forecast)"] if missing else []
    return plan_for(snapshot, horizon, inputs), inputs, notes


def _recalculate(app: xw.App) -> None:
    """A full recalculation, so every SOP_ formula is evaluated again against the new plan."""
    try:
        app.api.CalculateFull()
    except (AttributeError, NotImplementedError):  # no COM object: xlwings Server sends calculate(full)
        app.calculate()


def _publish(book: xw.Book, plan: Plan, snapshot: Snapshot, inputs: WorkbookInputs) -> str:
    """Write every owned table (the S&OP grid and the supply-planning tables where the workbook has them)
    and the stamps, hand the plan to the SOP_ functions, recalculate everything."""
    stamps = plan_stamps(plan)
    names = {table.name for sheet in book.sheets for table in sheet.tables}
    planning = all(spec.name in names for spec in PLANNING_TABLES)
    tables = workbook_tables(plan, snapshot, inputs, stamps, planning=planning, grid=SOP_GRID_TABLE in names)
    writer = LiveTableWriter(book)
    text = stamp_text(stamps)
    for name, frame in tables.items():
        spec = table_spec(name, frame)
        writer.write_table(spec, frame)
        if spec.stamp_cell:
            writer.write_stamp(spec, text)
    report = writer.commit()
    CACHE.publish(PlanKey(book.fullname, settings_time(stamps.refreshed_at)), plan, snapshot)
    _recalculate(book.app)
    return f"{text}; {sum(report.rows.values()):,} table rows written; {headline(plan)}."


def headline(plan: Plan) -> str:
    """The first shortage, in words: what goes short first, when, and what it is worth."""
    if not len(plan.top_gaps):
        return "no shortages in the horizon"
    top = plan.top_gaps.iloc[0]
    first = top["first_short_bucket_firm"] or top["first_short_bucket_proposed"]
    after = float(top["value_at_risk_window_proposed"])
    text = f"first shortage: {top['family']} from {first} ({float(top['value_at_risk_window_firm']):,.0f} at risk"
    return text + (f", {after:,.0f} still after the proposal)" if after else ", covered by the proposal)")


def refresh_from_erp(book: xw.Book) -> str:
    """Load the ERP source named in Settings, plan with the live Forecast grid, write the owned tables."""
    settings = live_reader.read_settings(book)
    snapshot = load_snapshot(erp_source(book, settings.get("source", "")))
    plan, inputs, notes = _plan_for(book, snapshot, settings)
    notes += list(plan.notes)
    return "Refreshed. " + _publish(book, plan, snapshot, inputs) + "".join(f"\nNote: {n}." for n in notes)


def recompute_plan(book: xw.Book) -> str:
    """Re-plan the last refresh's ERP data with the Forecast grid as it is now (after forecast edits)."""
    settings = live_reader.read_settings(book)
    stored = CACHE.store.load(PlanKey(book.fullname, settings.get("refreshed_at", "")))
    notes: list[str] = []
    if stored is not None:
        snapshot = stored[1]
    else:
        source = settings.get("source", "")
        if not source or source == "template":
            raise ValueError("nothing to recompute yet: click Refresh from ERP first")
        snapshot = load_snapshot(erp_source(book, source))
        if not same_time(settings.get("erp_as_of", ""), snapshot.as_of):
            notes.append("the last refresh's ERP data was not kept, so the current ERP data was used")
    plan, inputs, grid_notes = _plan_for(book, snapshot, settings)
    notes += grid_notes + list(plan.notes)
    return "Recomputed. " + _publish(book, plan, snapshot, inputs) + "".join(f"\nNote: {n}." for n in notes)


FORECAST_FOLDER = "forecasts"
"""The sales reps' forecast files live in this folder beside the workbook (``sop forecast-sheet`` output)."""


def collect_forecasts(book: xw.Book) -> str:
    """Consolidate the reps' forecast files of ``forecasts/`` into the live Forecast grid, with the audit trail.

    The one write of the user-owned grid, because the planner clicked for it; conflicting or bad entries
    are not applied and are listed in ``<workbook>.forecast.xlsx``.
    """
    master = workbook_path(book)
    folder = master.with_name(FORECAST_FOLDER)
    if not folder.is_dir():
        raise ValueError(f"no {FORECAST_FOLDER} folder beside {master.name}: put the reps' forecast files in {folder}")

    def apply_live(result: Consolidation) -> None:
        months = [c for c in result.grid.columns if c != FORECAST_KEY.field]
        writer = LiveTableWriter(book)
        writer.write_table(forecast_spec(months), result.grid, user_action=True)
        writer.commit()

    done = collect(folder, master, grid=live_reader.read_forecast(book), apply=apply_live)
    c = done.consolidation
    return (
        f"Collected {c.files} forecast file(s): {len(c.changes)} change(s) applied, {len(c.issues)} issue(s) "
        f"not applied (see {done.output.name}); audit trail in {done.audit.name}. Click Recompute to plan with them."
    )


def _current(book: xw.Book) -> tuple[Plan, Snapshot, dict[str, str]]:
    """The plan and ERP data behind the workbook's last Refresh or Recompute (never a re-pull)."""
    settings = live_reader.read_settings(book)
    stored = CACHE.store.load(PlanKey(book.fullname, settings.get("refreshed_at", "")))
    if stored is None:
        raise ValueError("no plan of this workbook's last refresh is kept here: click Refresh from ERP first")
    return stored[0], stored[1], settings


def publish_plan(book: xw.Book) -> str:
    """Freeze the plan the workbook shows as a numbered version; with a Tryton source, write it to the ERP too."""
    from .pack.jobs import CurrentPlan, freeze_published

    plan, snapshot, settings = _current(book)
    config = workbook_path(book).with_name("sop.toml")
    erp = load_settings(config) if settings.get("source", "").startswith("tryton") and config.is_file() else None
    result = publish.publish_plan(workbook_path(book), plan=plan, erp=erp)
    current = CurrentPlan(plan, snapshot, live_reader.read_inputs(book, plan.horizon), settings)
    kept = freeze_published(workbook_path(book), result.version.version, current)
    return f"Published: {result.message}; {kept}."


def new_scenario(book: xw.Book) -> str:
    """Compute the what-ifs typed into the Scenarios input table side by side with the base plan."""
    plan, snapshot, _settings = _current(book)
    inputs = live_reader.read_inputs(book, plan.horizon)
    tables = supply_planning(plan, snapshot, inputs)
    writer = LiveTableWriter(book)
    for spec in PLANNING_TABLES:
        writer.write_table(spec, tables[spec.name])
    writer.commit()
    _recalculate(book.app)
    scenarios = scenarios_from_table(inputs.scenarios) if inputs.scenarios is not None else []
    names = ", ".join(s.name for s in scenarios) or "none (add rows to the scenario inputs table)"
    return f"Scenarios computed side by side with the base plan: {names}."


def show_freshness(book: xw.Book) -> str:
    """How old the ERP data and the plan are, in words."""
    settings = live_reader.read_settings(book)
    erp, refreshed = settings.get("erp_as_of", ""), settings.get("refreshed_at", "")
    if not erp:
        return "This workbook has not been refreshed from the ERP yet: click Refresh from ERP."
    now = clock.now(dt.UTC)
    lines = [f"ERP data as of {erp} ({_age(now, erp)}), source {settings.get('source', '?')}."]
    if refreshed:
        lines.append(f"Plan computed {refreshed} ({_age(now, refreshed)}).")
    lines.append("Edited the Forecast since? Click Recompute: tables and SOP_ formulas then show the new plan.")
    return "\n".join(lines)


def _age(now: dt.datetime, iso: str) -> str:
    try:
        then = dt.datetime.fromisoformat(iso)
    except ValueError:
        return "unknown age"
    if then.tzinfo is None:
        then = then.astimezone()
    hours = (now - then).total_seconds() / 3600
    return f"{hours:.0f} hours ago" if hours < 48 else f"{hours / 24:.0f} days ago"


def meeting_pack(book: xw.Book) -> str:
    """Write the S&OP meeting deck (.pptx and PDF) of the plan the workbook shows, beside the workbook."""
    from .pack.build import build_pack
    from .pack.jobs import default_name, write_pack

    plan, snapshot, settings = _current(book)
    path = workbook_path(book)
    inputs = live_reader.read_inputs(book, plan.horizon)
    pack = build_pack(plan, snapshot, inputs, path, settings)
    files = write_pack(pack, path.with_name(default_name(pack)))
    return f"Meeting pack written: {files.pptx.name}" + (f" and {files.pdf.name}" if files.pdf else f" ({files.note})")


@dataclass(frozen=True)
class Action:
    label: str
    run: Callable[[xw.Book], str]


ACTIONS: dict[str, Action] = {
    "refresh": Action("Refresh from ERP", refresh_from_erp),
    "recompute": Action("Recompute plan", recompute_plan),
    "collect": Action("Collect forecasts", collect_forecasts),
    "publish": Action("Publish plan", publish_plan),
    "scenario": Action("New scenario", new_scenario),
    "freshness": Action("Show data freshness", show_freshness),
    "pack": Action("Meeting pack", meeting_pack),
}
"""Ribbon button tag -> action. The tags are the ``tag`` attributes in addin/xlam/customUI14.xml."""


@dataclass(frozen=True)
class Outcome:
    message: str
    ok: bool


def perform(tag: str, book: xw.Book) -> Outcome:
    """Run the action of a ribbon button on ``book``; a failure becomes one clear message (traceback: log)."""
    action = ACTIONS.get(tag)
    if action is None:
        return Outcome(f"Unknown S&OP button {tag!r}: reinstall the add-in (`sop addin install`).", False)
    _status(book.app, f"sopxl: {action.label}...")
    try:
        return Outcome(action.run(book), True)
    except Exception as exc:  # shown to a planner: one clear line, the traceback goes to the log
        log.exception("ribbon action %s failed", tag)
        return Outcome(f"{action.label} failed: {str(exc) or type(exc).__name__}", False)
    finally:
        _status(book.app, False)


def run(tag: str, book: xw.Book | None = None) -> str:
    """Run the action of a ribbon button (``book`` defaults to ``xw.Book.caller()``) and show its message."""
    target = book if book is not None else xw.Book.caller()
    outcome = perform(tag, target)
    target.app.alert(outcome.message, title=TITLE)
    return outcome.message

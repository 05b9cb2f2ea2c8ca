"""The jobs behind the CLI and the ribbon: source -> snapshot -> plan -> workbook.

Kept apart from :mod:`addin.cli` so that commands stay thin and every job is callable from Python.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from connectors.files import read_export_folder
from connectors.files.forecast import FORECAST_FILE, read_forecast_csv
from connectors.notices import DataWarning
from connectors.registry import snapshot_from_profile, warnings_from_profile
from connectors.tryton import TrytonConnector, load_settings
from sop_functions import clock
from sop_functions.buckets import Horizon
from sop_functions.capacity import available_capacity
from sop_functions.families import share_window
from sop_functions.plan import Plan, build_plan
from sop_functions.scenarios import run_scenarios, scenarios_from_table
from sop_functions.snapshot import Snapshot
from sop_functions.supply_lp import Costs, reuse_answers
from workbooks import layout, sku_detail, template
from workbooks.layout import PLANNING_TABLES
from workbooks.lp_cache import LpAnswerFiles, lp_cache_dir
from workbooks.planning_tables import capacity_input_frame, planning_tables, read_capacity_input, read_scenario_inputs
from workbooks.reader import ForecastGrid, read_forecast_grid, require_layout, table_names
from workbooks.sop_grid import actuals_since, grid_columns, read_agreed, sop_grid
from workbooks.stamps import WorkbookStamps, stamp_text
from workbooks.tables import plan_stamps, plan_tables
from workbooks.xlsx import AttachReport, RefreshReport, attach, refresh_file
from workbooks.xlsx.txn import holding

from . import memory
from .progress import Progress, counts

log = logging.getLogger(__name__)


Source = str | Snapshot
"""``--source``: an export folder, ``tryton`` (the sop.toml profile), or an already pulled snapshot."""
CONFIG_FILE = Path("sop.toml")


def load_snapshot(source: Source, *, full: bool = False, progress: Progress | None = None) -> Snapshot:
    """Resolve a source to a validated snapshot (``full`` forces a full ERP resync instead of incremental).

    ``tryton`` reads sop.toml's ``[tryton]``; any other non-folder name is an ERP profile written by
    ``sop connect`` (Odoo, Business Central, Exact Online, SAP Business One, SQL); a folder is an export.
    ``progress`` hears the phase and gets the source's record warnings (what it left out or read with a
    fallback).
    """
    progress = progress or Progress()
    if isinstance(source, Snapshot):
        return source
    path = Path(source).expanduser()
    if path.is_dir():
        progress.phase(f"reading {source}")
        warnings: list[DataWarning] = []
        snapshot = read_export_folder(path, warnings=warnings)
    elif not CONFIG_FILE.is_file():
        raise ValueError(
            f"unknown source {source!r}: expected an ERP export folder (it does not exist or is not a folder), "
            "or an ERP profile in a sop.toml here (`sop connect KIND`, docs/connectors.md)"
        )
    elif source == "tryton":
        progress.phase("syncing Tryton")
        connector = TrytonConnector(load_settings(CONFIG_FILE))
        snapshot = connector.snapshot(full=full)
        warnings = list(connector.last_report.warnings) if connector.last_report is not None else []
    else:
        progress.phase(f"syncing {source}")
        snapshot = snapshot_from_profile(source, CONFIG_FILE, full=full)
        warnings = warnings_from_profile(source, CONFIG_FILE)
    progress.warn(warnings)
    progress.done(f"{'read' if path.is_dir() else 'synced'} {source}: {snapshot_counts(snapshot)}")
    return snapshot


def snapshot_counts(snapshot: Snapshot) -> str:
    """``40 items, 120 open order lines, ... as of 2026-11-25 08:00 +01:00``."""
    return f"{counts(snapshot.frames.items())}, as of {snapshot.as_of.isoformat(sep=' ', timespec='minutes')}"


def forecast_for(source: Source, workbook: Path | None) -> pd.DataFrame:
    """The sales forecast: the workbook's Forecast grid, else an export folder's forecast.csv, else none."""
    if workbook is not None:
        return read_forecast_grid(workbook).frame
    if isinstance(source, str) and Path(source).is_dir():
        found = read_forecast_csv(source)
        if found is not None:
            return found
    return pd.DataFrame(columns=["family", "bucket", "qty"])


def forecast_origin(source: Source, workbook: Path | None) -> str:
    """Where :func:`forecast_for` takes the forecast from, in words ("" when there is none)."""
    if workbook is not None:
        return f"the Forecast grid of {workbook.name}"
    if isinstance(source, str) and (Path(source) / FORECAST_FILE).is_file():
        return str(Path(source) / FORECAST_FILE)
    return ""


def in_horizon(forecast: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """Drop forecast months that have rolled out of the horizon (last cycle's months are history now)."""
    return forecast[forecast["bucket"].astype(str).isin(horizon.buckets)]


@dataclass(frozen=True)
class WorkbookInputs:
    """What the planner owns in a workbook and the plan reads: forecast, capacity hours, scenarios, the
    agreed supply typed in the S&OP grid, and the last published plan (for the grid's "last plan" row)."""

    forecast: pd.DataFrame
    capacity: pd.DataFrame | None = None
    scenarios: pd.DataFrame | None = None
    agreed: pd.DataFrame | None = None
    last_plan: pd.DataFrame | None = None
    forecast_from: str = ""
    """Where the forecast comes from, for notes ("the Forecast grid of Plan.xlsx"; "" = no forecast)."""
    grid: ForecastGrid | None = None
    """The Forecast grid as read (its months, what it leaves out), when the forecast comes from one."""
    notes: tuple[str, ...] = ()
    """What else the planner must hear about these inputs (a month column the grid gained)."""


def plan_for(snapshot: Snapshot, horizon: Horizon, inputs: WorkbookInputs, *, costs: Costs | None = None) -> Plan:
    """The one plan of a workbook: both layers, with the workbook's capacity hours and agreed supply, and
    notes on the forecast it was planned with (in the CLI, the ribbon and Settings' ``plan_notes``)."""
    capacity = available_capacity(snapshot.work_centers, inputs.capacity)
    forecast = in_horizon(inputs.forecast, horizon)
    plan = build_plan(snapshot, forecast, horizon, agreed=inputs.agreed, capacity=capacity, costs=costs)
    notes = (*(inputs.grid.notes if inputs.grid else ()), *inputs.notes, *forecast_notes(plan, snapshot, inputs))
    return dataclasses.replace(plan, notes=(*notes, *plan.notes)) if notes else plan


def forecast_notes(plan: Plan, snapshot: Snapshot, inputs: WorkbookInputs) -> list[str]:
    """What the forecast leaves the plan without: unknown families, families or months with no grid cell,
    a blank forecast. Each in words a planner can act on."""
    notes: list[str] = []
    forecast = in_horizon(inputs.forecast, plan.horizon)
    unknown = plan.unknown_forecast_families
    if len(unknown):
        totals = unknown.groupby("family", sort=True)["qty"].sum()
        listed = ", ".join(f"{family!r} ({qty:,.0f} units)" for family, qty in totals.items())
        notes.append(
            f"Forecast row(s) {listed} are not planned: no ERP item is in that family "
            "(check the spelling, or the items' family in the ERP)"
        )
    families = set(snapshot.items["family"].astype(str))
    if inputs.grid is not None:
        missing = [m for m in plan.horizon.buckets if m not in inputs.grid.months]
        if missing:
            notes.append(
                f"the Forecast grid has no column for {', '.join(missing)}: "
                "planned with no forecast there (open orders only)"
            )
        absent = sorted(families - set(inputs.forecast["family"].astype(str)) - set(inputs.grid.outside_families))
        if absent:
            notes.append(
                f"no Forecast row for {', '.join(absent)}: their demand is open orders only "
                "(add their rows to the Forecast grid)"
            )
    known = forecast[forecast["family"].astype(str).isin(families)]
    if families and float(pd.to_numeric(known["qty"]).sum()) == 0.0:
        if inputs.forecast_from:
            notes.append(f"{inputs.forecast_from} is blank: demand is open orders only (type the sales forecast)")
        else:
            notes.append(
                "no sales forecast given (no --workbook, no forecast.csv in the export folder): "
                "demand is open orders only"
            )
    return notes


def workbook_tables(
    plan: Plan, snapshot: Snapshot, inputs: WorkbookInputs, stamps: WorkbookStamps, *, planning: bool, grid: bool
) -> dict[str, pd.DataFrame]:
    """Every owned table's frame for ``plan``: core tables, the supply-planning ones (``planning``; with the
    scenarios side by side, Base being ``plan`` itself) and the family S&OP grid (``grid``)."""
    tables = plan_tables(plan, stamps)
    if planning:
        tables |= supply_planning(plan, snapshot, inputs)
    if grid:
        tables[layout.SOP_GRID_TABLE] = sop_grid(
            plan, snapshot.shipments, snapshot.items, inputs.agreed, inputs.last_plan
        )
    return tables


def plan_from_source(
    source: Source, *, workbook: Path | None = None, months: int = 18, progress: Progress | None = None
) -> Plan:
    """The plan ``sop plan`` shows: the source's ERP data with the workbook's own inputs when given."""
    progress = progress or Progress()
    snapshot = load_snapshot(source, progress=progress)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    inputs = inputs_for(source, workbook, horizon)
    progress.phase("planning")
    with reuse_answers(lp_answers(workbook)):
        plan = plan_for(snapshot, horizon, inputs)
    progress.done(planned(plan))
    return plan


def lp_answers(workbook: Path | None) -> LpAnswerFiles | None:
    """Where the supply LP's answers are kept for ``workbook`` (beside it); None without a workbook."""
    return None if workbook is None else LpAnswerFiles(lp_cache_dir(workbook))


def planned(plan: Plan) -> str:
    """``planned 40 SKUs in 7 families x 19 buckets (within capacity, LP)``: the planning phase's summary."""
    skus = plan.sku_plan["sku"].nunique()
    families = plan.family_plan["family"].nunique()
    method = "within capacity, LP" if plan.supply_method == "lp" else "netting, infinite capacity"
    return f"planned {skus:,} SKUs in {families:,} families x {len(plan.horizon.labels)} buckets ({method})"


def inputs_for(source: Source, workbook: Path | None, horizon: Horizon) -> WorkbookInputs:
    """The planner's inputs from a workbook file (or an export folder's forecast.csv without one)."""
    if workbook is None:
        return WorkbookInputs(forecast_for(source, None), forecast_from=forecast_origin(source, None))
    grid = read_forecast_grid(workbook)
    return WorkbookInputs(
        forecast=grid.frame,
        capacity=read_capacity_input(workbook),
        scenarios=read_scenario_inputs(workbook),
        agreed=read_agreed(workbook, horizon),
        last_plan=last_published(workbook),
        forecast_from=forecast_origin(source, workbook),
        grid=grid,
    )


def last_published(workbook: Path) -> pd.DataFrame | None:
    """``family, bucket, demand`` of the workbook's last published plan version (None before the first)."""
    from workbooks.plan_store import default_store_url, open_store

    url = default_store_url(workbook)
    if not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    with open_store(url) as store:
        version = store.latest(workbook.stem)
        if version is None:
            return None
        lines = store.lines(workbook.stem, version.version)
    family = lines[lines["level"] == "family"]
    return pd.DataFrame({"family": family["item"], "bucket": family["bucket"], "demand": family["demand"]})


def families_of(snapshot: Snapshot) -> list[str]:
    return sorted(snapshot.items["family"].unique().tolist())


def new_workbook(
    path: Path,
    *,
    source: Source | None,
    months: int = 18,
    force: bool = False,
    forecast: pd.DataFrame | None = None,
    progress: Progress | None = None,
    excel_rows: int | None = None,
) -> Path:
    """``sop new``: an empty template, or one filled from a source (its forecast.csv prefills the grid).

    SKU tables longer than a sheet (``excel_rows``, default Excel's) go to Parquet beside the workbook
    (:mod:`workbooks.sku_detail`).
    """
    progress = progress or Progress()
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ValueError(f"{path}: a workbook path must end in .xlsx")
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists; pass --force to replace it")
    if source is None:
        horizon = Horizon.from_as_of(pd.Timestamp(clock.today()), periods=months)
        stale = sku_detail.place_sku_detail({}, path) if force else None  # an empty plan fits
        return template.new_workbook(path, horizon.labels, [], overwrite=force, pending=sku_detail.pending(stale))
    snapshot = load_snapshot(source, progress=progress)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    origin = forecast_origin(source, None) if forecast is None else ""
    forecast = in_horizon(forecast_for(source, None) if forecast is None else forecast, horizon)
    inputs = WorkbookInputs(forecast, forecast_from=origin or f"the Forecast grid of {path.name}")
    progress.phase("planning")
    with reuse_answers(lp_answers(path)):
        plan = plan_for(snapshot, horizon, inputs)
    progress.done(planned(plan))
    progress.phase(f"writing {path.name}")
    stamps = plan_stamps(plan)
    tables = workbook_tables(plan, snapshot, inputs, stamps, planning=True, grid=True)
    detail = sku_detail.apply(tables, path, excel_rows or sku_detail.EXCEL_ROWS)  # before anything is written
    planning = {name: tables.pop(name) for name in list(tables) if name in PLANNING_NAMES}
    planning |= input_tables(snapshot, inputs)
    try:
        written = template.new_workbook(
            path,
            horizon.labels,
            families_of(snapshot),
            forecast=forecast,
            tables=tables,
            stamps=stamps,
            overwrite=force,
            planning=planning,
            pending=sku_detail.pending(detail),
        )
    finally:
        if detail is not None:
            detail.discard()  # the staged files when the workbook was not written (else already moved)
    rows = sum(len(frame) for frame in (*tables.values(), *planning.values()))
    progress.done(f"wrote {path.name}: {rows:,} rows in {len(tables) + len(planning) + 1} tables")
    return written


PLANNING_NAMES = {spec.name for spec in PLANNING_TABLES}


def supply_planning(plan: Plan, snapshot: Snapshot, inputs: WorkbookInputs) -> dict[str, pd.DataFrame]:
    """The owned supply-planning tables: capacity, materials, finance, and the scenarios beside the plan."""
    capacity = available_capacity(snapshot.work_centers, inputs.capacity)
    scenarios = scenarios_from_table(inputs.scenarios) if inputs.scenarios is not None else []
    forecast = in_horizon(inputs.forecast, plan.horizon)
    results = run_scenarios(snapshot, forecast, capacity, scenarios, plan.horizon, agreed=inputs.agreed, base=plan)
    frames = planning_tables(results, snapshot, inputs.capacity, inputs.scenarios)
    return {name: frame for name, frame in frames.items() if name in PLANNING_NAMES}


def input_tables(snapshot: Snapshot, inputs: WorkbookInputs) -> dict[str, pd.DataFrame]:
    """The user-owned planning inputs a new workbook starts with (work centers prefilled)."""
    scenarios = inputs.scenarios
    if scenarios is None:
        scenarios = pd.DataFrame(columns=[c.field for c in layout.SCENARIO_INPUTS.columns])
    return {
        layout.CAPACITY_INPUT.name: capacity_input_frame(snapshot, inputs.capacity),
        layout.SCENARIO_INPUTS.name: scenarios,
    }


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did, for the CLI and the ribbon to report."""

    plan: Plan
    report: RefreshReport
    seconds: float = 0.0
    """The whole refresh: reading the source, planning and writing (``report.seconds`` is the write alone)."""
    months_added: tuple[str, ...] = ()
    """Month columns the Forecast grid gained (the horizon moved on since it was made)."""
    sku_detail: sku_detail.SkuDetail | None = None
    """Where the SKU tables went when they did not fit in a sheet (None: they are in the workbook)."""


@holding("refresh")
def refresh_workbook(
    path: Path,
    *,
    source: Source,
    months: int = 18,
    backups: int = 5,
    progress: Progress | None = None,
    excel_rows: int | None = None,
) -> RefreshOutcome:
    """``sop refresh``: pull the source, plan with the workbook's own inputs, rewrite owned tables only.

    The Forecast grid and the other user inputs are read, never written, except that the grid gains the
    horizon's new months as blank columns when the months have moved on (cells sopxl adds, never cells it
    overwrites); the S&OP grid's agreed-supply numbers are carried over; everything else in the file stays
    byte-identical. The workbook is held (lock, journal recovery, optimistic check) from the first read to
    the replace, so no other sopxl command can change the grid between the plan and the write
    (workbooks.xlsx.txn).
    """
    started = time.monotonic()
    progress = progress or Progress()
    if not path.is_file():
        raise ValueError(f"{path}: no such workbook (create one with `sop new` or adopt yours with `sop attach`)")
    require_layout(path)
    memory.keep_large_arrays_mapped()  # what each phase frees is returned before the next one's peak
    snapshot = load_snapshot(source, progress=progress)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    snapshot = snapshot.shipped_since(history_start(snapshot, horizon))  # the rest of the history is not read
    memory.release_cycles()  # the export's parsed columns, before planning adds its own peak
    before = inputs_for(source, path, horizon)
    inputs, grow = new_forecast_months(before, horizon)
    names = table_names(path)
    planning = all(name in names for name in PLANNING_NAMES)
    progress.phase("planning")
    with reuse_answers(lp_answers(path)):  # an LP whose inputs did not change since the last run is not solved
        plan = plan_for(snapshot, horizon, inputs)
    memory.release_cycles()  # the planner's leftovers, before the tables are built beside the plan
    progress.done(planned(plan))
    progress.phase(f"writing {path.name}")
    stamps = plan_stamps(plan)
    tables = workbook_tables(plan, snapshot, inputs, stamps, planning=planning, grid=layout.SOP_GRID_TABLE in names)
    del snapshot  # its 1.4 M history lines are not written: freed before the writer runs
    detail = sku_detail.apply(tables, path, excel_rows or sku_detail.EXCEL_ROWS)  # before anything is written
    outside = detail if detail is not None and detail.rows else None
    if outside is not None:
        log.warning("%s: %s", path.name, outside.message)
    grown = {layout.forecast_spec(list(before.grid.months)): grow} if grow and before.grid else None
    try:
        report = refresh_file(
            path, tables, stamp_text(stamps), backups=backups, grow=grown, pending=sku_detail.pending(detail)
        )
    finally:
        if detail is not None:
            detail.discard()  # the staged files when the workbook was not replaced (else already moved)
    progress.done(f"wrote {path.name}: {sum(report.rows.values()):,} rows in {len(report.rows)} tables")
    return RefreshOutcome(plan, report, time.monotonic() - started, grow, outside)


def history_start(snapshot: Snapshot, horizon: Horizon) -> pd.Timestamp:
    """The first shipment date a refresh reads: the SKU shares' window (the plan's and every scenario's)
    and the S&OP grid's actual months, whichever starts first."""
    starts = [share_window(snapshot.as_of_date)[0], actuals_since(horizon)]
    return min(start for start in starts if start is not None)


def new_forecast_months(inputs: WorkbookInputs, horizon: Horizon) -> tuple[WorkbookInputs, tuple[str, ...]]:
    """The horizon's months after the Forecast grid's last column, when the grid has the room to gain them
    (empty cells right of tblForecast): the inputs as they will be (those months blank) and the months.

    A month rolls in at the end every time the as-of month rolls over; without its column the month would
    be planned with no forecast and nobody told. Without room the grid stays as it is and the plan's notes
    name the months it has no column for.
    """
    grid = inputs.grid
    if grid is None or not grid.months:
        return inputs, ()
    new = tuple(m for m in horizon.buckets if m > max(grid.months))
    if not new or grid.room < len(new):
        return inputs, ()
    note = (
        f"the Forecast grid got a new column for {', '.join(new)} (the horizon moved on): it is blank, so "
        "it is planned from open orders only; type its forecast and refresh"
    )
    grown = dataclasses.replace(grid, months=(*grid.months, *new))
    return dataclasses.replace(inputs, grid=grown, notes=(*inputs.notes, note)), new


def has_planning_sheets(path: Path) -> bool:
    """Whether the workbook has the supply-planning tables (layout 2; `sop new` adds them)."""
    return table_names(path) >= PLANNING_NAMES


def attach_workbook(
    path: Path, *, source: Source, months: int = 18, backups: int = 5, progress: Progress | None = None
) -> AttachReport:
    """``sop attach``: add sopxl's sheets and tables to a team's existing workbook, touching nothing of theirs."""
    if not path.is_file():
        raise ValueError(f"{path}: no such workbook")
    snapshot = load_snapshot(source, progress=progress)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    return attach(
        path,
        horizon.buckets,
        families_of(snapshot),
        backups=backups,
        work_centers=snapshot.work_centers["code"].astype(str).tolist(),
        grid=layout.sop_grid_spec(grid_columns(horizon)),
    )

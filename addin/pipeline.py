"""The jobs behind the CLI and the ribbon: source -> snapshot -> plan -> workbook.

Kept apart from :mod:`addin.cli` so that commands stay thin and every job is callable from Python.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from connectors.files import read_export_folder
from connectors.registry import snapshot_from_profile
from connectors.tryton import TrytonConnector, load_settings
from sop_functions import clock
from sop_functions.buckets import Horizon
from sop_functions.capacity import available_capacity
from sop_functions.plan import Plan, build_plan
from sop_functions.scenarios import run_scenarios, scenarios_from_table
from sop_functions.snapshot import Snapshot
from sop_functions.supply_lp import reuse_answers
from workbooks import layout, sku_detail, template
from workbooks.layout import PLANNING_TABLES
from workbooks.lp_cache import LpAnswerFiles, lp_cache_dir
from workbooks.planning_tables import capacity_input_frame, planning_tables, read_capacity_input, read_scenario_inputs
from workbooks.reader import read_forecast, require_layout, table_names
from workbooks.sop_grid import read_agreed, sop_grid
from workbooks.stamps import WorkbookStamps, stamp_text
from workbooks.tables import plan_stamps, plan_tables
from workbooks.xlsx import AttachReport, RefreshReport, attach, refresh_file
from workbooks.xlsx.txn import holding

FORECAST_FILE = "forecast.csv"
log = logging.getLogger(__name__)


Source = str | Snapshot
"""``--source``: an export folder, ``tryton`` (the sop.toml profile), or an already pulled snapshot."""
CONFIG_FILE = Path("sop.toml")


def load_snapshot(source: Source, *, full: bool = False) -> Snapshot:
    """Resolve a source to a validated snapshot (``full`` forces a full ERP resync instead of incremental).

    ``tryton`` reads sop.toml's ``[tryton]``; any other non-folder name is an ERP profile written by
    ``sop connect`` (Odoo, Business Central, Exact Online, SAP Business One, SQL); a folder is an export.
    """
    if isinstance(source, Snapshot):
        return source
    path = Path(source).expanduser()
    if path.is_dir():
        return read_export_folder(path)
    if not CONFIG_FILE.is_file():
        raise ValueError(
            f"unknown source {source!r}: expected an ERP export folder (it does not exist or is not a folder), "
            "or an ERP profile in a sop.toml here (`sop connect KIND`, docs/connectors.md)"
        )
    if source == "tryton":
        return TrytonConnector(load_settings(CONFIG_FILE)).snapshot(full=full)
    return snapshot_from_profile(source, CONFIG_FILE, full=full)


def read_forecast_csv(path: Path) -> pd.DataFrame:
    """A family x month forecast file (columns ``family, bucket, qty``), as the demo export writes it."""
    frame = pd.read_csv(path, dtype={"family": str, "bucket": str}, keep_default_na=False)
    missing = {"family", "bucket", "qty"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: forecast file lacks column(s) {', '.join(sorted(missing))}")
    return frame[["family", "bucket", "qty"]]


def forecast_for(source: Source, workbook: Path | None) -> pd.DataFrame:
    """The sales forecast: the workbook's Forecast grid, else an export folder's forecast.csv, else none."""
    if workbook is not None:
        return read_forecast(workbook)
    if isinstance(source, str) and (candidate := Path(source) / FORECAST_FILE).is_file():
        return read_forecast_csv(candidate)
    return pd.DataFrame(columns=["family", "bucket", "qty"])


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


def plan_for(snapshot: Snapshot, horizon: Horizon, inputs: WorkbookInputs) -> Plan:
    """The one plan of a workbook: both layers, with the workbook's capacity hours and agreed supply."""
    capacity = available_capacity(snapshot.work_centers, inputs.capacity)
    return build_plan(snapshot, in_horizon(inputs.forecast, horizon), horizon, agreed=inputs.agreed, capacity=capacity)


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


def plan_from_source(source: Source, *, workbook: Path | None = None, months: int = 18) -> Plan:
    """The plan ``sop plan`` shows: the source's ERP data with the workbook's own inputs when given."""
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    with reuse_answers(lp_answers(workbook)):
        return plan_for(snapshot, horizon, inputs_for(source, workbook, horizon))


def lp_answers(workbook: Path | None) -> LpAnswerFiles | None:
    """Where the supply LP's answers are kept for ``workbook`` (beside it); None without a workbook."""
    return None if workbook is None else LpAnswerFiles(lp_cache_dir(workbook))


def inputs_for(source: Source, workbook: Path | None, horizon: Horizon) -> WorkbookInputs:
    """The planner's inputs from a workbook file (or an export folder's forecast.csv without one)."""
    if workbook is None:
        return WorkbookInputs(forecast_for(source, None))
    return WorkbookInputs(
        forecast=read_forecast(workbook),
        capacity=read_capacity_input(workbook),
        scenarios=read_scenario_inputs(workbook),
        agreed=read_agreed(workbook, horizon),
        last_plan=last_published(workbook),
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
    excel_rows: int | None = None,
) -> Path:
    """``sop new``: an empty template, or one filled from a source (its forecast.csv prefills the grid).

    SKU tables longer than a sheet (``excel_rows``, default Excel's) go to Parquet beside the workbook
    (:mod:`workbooks.sku_detail`).
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ValueError(f"{path}: a workbook path must end in .xlsx")
    if source is None:
        horizon = Horizon.from_as_of(pd.Timestamp(clock.today()), periods=months)
        stale = sku_detail.place_sku_detail({}, path) if force else None  # an empty plan fits
        return template.new_workbook(path, horizon.labels, [], overwrite=force, pending=sku_detail.pending(stale))
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    forecast = in_horizon(forecast_for(source, None) if forecast is None else forecast, horizon)
    inputs = WorkbookInputs(forecast)
    with reuse_answers(lp_answers(path)):
        plan = plan_for(snapshot, horizon, inputs)
        stamps = plan_stamps(plan)
        tables = workbook_tables(plan, snapshot, inputs, stamps, planning=True, grid=True)
    if path.exists() and not force:  # before the SKU detail is staged
        raise FileExistsError(f"{path} already exists; pass --force to replace it")
    detail = sku_detail.apply(tables, path, excel_rows or sku_detail.EXCEL_ROWS)  # before anything is written
    planning = {name: tables.pop(name) for name in list(tables) if name in PLANNING_NAMES}
    planning |= input_tables(snapshot, inputs)
    try:
        return template.new_workbook(
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
    families_without_forecast: list[str]
    sku_detail: sku_detail.SkuDetail | None = None
    """Where the SKU tables went when they did not fit in a sheet (None: they are in the workbook)."""


@holding("refresh")
def refresh_workbook(
    path: Path, *, source: Source, months: int = 18, backups: int = 5, excel_rows: int | None = None
) -> RefreshOutcome:
    """``sop refresh``: pull the source, plan with the workbook's own inputs, rewrite owned tables only.

    The Forecast grid and the other user inputs are read, never written; the S&OP grid's agreed-supply
    numbers are carried over; everything else in the file stays byte-identical. The workbook is held (lock,
    journal recovery, optimistic check) from the first read to the replace, so no other sopxl command can
    change the grid between the plan and the write (workbooks.xlsx.txn).
    """
    if not path.is_file():
        raise ValueError(f"{path}: no such workbook (create one with `sop new` or adopt yours with `sop attach`)")
    require_layout(path)
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    inputs = inputs_for(source, path, horizon)
    names = table_names(path)
    planning = all(name in names for name in PLANNING_NAMES)
    with reuse_answers(lp_answers(path)):  # an LP whose inputs did not change since the last run is not solved
        plan = plan_for(snapshot, horizon, inputs)
        stamps = plan_stamps(plan)
        tables = workbook_tables(plan, snapshot, inputs, stamps, planning=planning, grid=layout.SOP_GRID_TABLE in names)
    detail = sku_detail.apply(tables, path, excel_rows or sku_detail.EXCEL_ROWS)  # before anything is written
    outside = detail if detail is not None and detail.rows else None
    if outside is not None:
        log.warning("%s: %s", path.name, outside.message)
    try:
        report = refresh_file(path, tables, stamp_text(stamps), backups=backups, pending=sku_detail.pending(detail))
    finally:
        if detail is not None:
            detail.discard()  # the staged files when the workbook was not replaced (else already moved)
    missing = sorted(set(families_of(snapshot)) - set(inputs.forecast["family"]))
    return RefreshOutcome(plan, report, missing, outside)


def has_planning_sheets(path: Path) -> bool:
    """Whether the workbook has the supply-planning tables (layout 2; `sop new` adds them)."""
    return table_names(path) >= PLANNING_NAMES


def attach_workbook(path: Path, *, source: Source, months: int = 18, backups: int = 5) -> AttachReport:
    """``sop attach``: add sopxl's sheets and tables to a team's existing workbook, touching nothing of theirs."""
    if not path.is_file():
        raise ValueError(f"{path}: no such workbook")
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    return attach(path, horizon.buckets, families_of(snapshot), backups=backups)

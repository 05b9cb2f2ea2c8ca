"""The jobs behind the CLI and the ribbon: source -> snapshot -> plan -> workbook.

Kept apart from :mod:`addin.cli` so that commands stay thin and every job is callable from Python.
"""

from __future__ import annotations

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
from workbooks import template
from workbooks.layout import PLANNING_TABLES
from workbooks.planning_tables import planning_tables, read_capacity_input, read_scenario_inputs
from workbooks.reader import read_forecast, require_layout, table_names
from workbooks.stamps import stamp_text
from workbooks.tables import plan_stamps, plan_tables
from workbooks.xlsx import AttachReport, RefreshReport, attach, refresh_file
from workbooks.xlsx.txn import holding

FORECAST_FILE = "forecast.csv"


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


def plan_from_source(source: Source, *, workbook: Path | None = None, months: int = 18) -> Plan:
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    return build_plan(snapshot, in_horizon(forecast_for(source, workbook), horizon), horizon)


def families_of(snapshot: Snapshot) -> list[str]:
    return sorted(snapshot.items["family"].unique().tolist())


def new_workbook(
    path: Path,
    *,
    source: Source | None,
    months: int = 18,
    force: bool = False,
    forecast: pd.DataFrame | None = None,
) -> Path:
    """``sop new``: an empty template, or one filled from a source (its forecast.csv prefills the grid)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ValueError(f"{path}: a workbook path must end in .xlsx")
    if source is None:
        horizon = Horizon.from_as_of(pd.Timestamp(clock.today()), periods=months)
        return template.new_workbook(path, horizon.labels, [], overwrite=force)
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    forecast = in_horizon(forecast_for(source, None) if forecast is None else forecast, horizon)
    plan = build_plan(snapshot, forecast, horizon)
    stamps = plan_stamps(plan)
    return template.new_workbook(
        path,
        horizon.labels,
        families_of(snapshot),
        forecast=forecast,
        tables=plan_tables(plan, stamps),
        stamps=stamps,
        overwrite=force,
        planning=supply_planning(snapshot, forecast, horizon),
    )


def supply_planning(
    snapshot: Snapshot, forecast: pd.DataFrame, horizon: Horizon, workbook: Path | None = None
) -> dict[str, pd.DataFrame]:
    """Capacity, materials, finance and scenario tables, with the workbook's own capacity and scenarios."""
    capacity_input = read_capacity_input(workbook) if workbook is not None else None
    scenario_input = read_scenario_inputs(workbook) if workbook is not None else None
    capacity = available_capacity(snapshot.work_centers, capacity_input)
    scenarios = scenarios_from_table(scenario_input) if scenario_input is not None else []
    # Without hours for every loaded work center (Tryton holds none) there is no constrained plan yet: the
    # Capacity sheet then shows the load with unknown availability until the planner types the hours in.
    known = capacity_known(capacity, snapshot.routings)
    results = run_scenarios(snapshot, forecast, capacity, scenarios, horizon, constrained=known)
    return planning_tables(results, snapshot, capacity_input, scenario_input)


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did, for the CLI and the ribbon to report."""

    plan: Plan
    report: RefreshReport
    families_without_forecast: list[str]


@holding("refresh")
def refresh_workbook(path: Path, *, source: Source, months: int = 18, backups: int = 5) -> RefreshOutcome:
    """``sop refresh``: pull the source, plan with the workbook's own Forecast grid, rewrite owned tables only.

    The Forecast grid (user-owned) is read, never written; everything else in the file stays byte-identical.
    The workbook is held (lock, journal recovery, optimistic check) from the first read to the replace, so
    no other sopxl command can change the grid between the plan and the write (workbooks.xlsx.txn).
    """
    if not path.is_file():
        raise ValueError(f"{path}: no such workbook (create one with `sop new` or adopt yours with `sop attach`)")
    require_layout(path)
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    forecast = in_horizon(read_forecast(path), horizon)
    plan = build_plan(snapshot, forecast, horizon)
    stamps = plan_stamps(plan)
    tables = plan_tables(plan, stamps)
    if has_planning_sheets(path):
        planning = supply_planning(snapshot, forecast, horizon, workbook=path)
        tables |= {spec.name: planning[spec.name] for spec in PLANNING_TABLES}  # owned ones, never the inputs
    report = refresh_file(path, tables, stamp_text(stamps), backups=backups)
    missing = sorted(set(families_of(snapshot)) - set(forecast["family"]))
    return RefreshOutcome(plan, report, missing)


def capacity_known(capacity: pd.DataFrame, routings: pd.DataFrame) -> bool:
    """Whether every work center that routings load has hours per month (from the ERP or the workbook)."""
    used = set(routings["work_center"].astype(str))
    hours = capacity.set_index("work_center")["hours_per_month"]
    return bool(hours.reindex(sorted(used)).notna().all())


def has_planning_sheets(path: Path) -> bool:
    """Whether the workbook has the supply-planning tables (layout 2; `sop new` adds them)."""
    names = table_names(path)
    return all(spec.name in names for spec in PLANNING_TABLES)


def attach_workbook(path: Path, *, source: Source, months: int = 18, backups: int = 5) -> AttachReport:
    """``sop attach``: add sopxl's sheets and tables to a team's existing workbook, touching nothing of theirs."""
    if not path.is_file():
        raise ValueError(f"{path}: no such workbook")
    snapshot = load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    return attach(path, horizon.buckets, families_of(snapshot), backups=backups)

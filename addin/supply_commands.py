"""``sop capacity``, ``sop scenario``, ``sop publish``, ``sop versions``, ``sop compare``: supply planning.

Registered on the main app by one line at the bottom of :mod:`addin.cli`. Each command is thin: the work is
in :mod:`sop_functions` (capacity, materials, supply_lp, scenarios, finance) and :mod:`addin.publish`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from sop_functions.capacity import available_capacity, capacity_load, overloads, planned_production
from sop_functions.materials import material_check, material_shortages
from sop_functions.scenarios import Change, Scenario, compare, compare_capacity, run_scenarios, scenarios_from_table
from sop_functions.supply_lp import Costs, solve_supply_plan

Workbook = Annotated[Path | None, typer.Option("--workbook", "-w", help="The S&OP workbook (forecast, capacity).")]
Source = Annotated[str, typer.Option("--source", "-s", help="An ERP export folder.")]
Months = Annotated[int, typer.Option("--months", min=1, max=60, help="Horizon length in months.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Store = Annotated[str | None, typer.Option("--store", help="Plan store URL (default: SQLite beside the workbook).")]
PlanName = Annotated[str | None, typer.Option("--plan", help="Plan history name (default: the workbook's name).")]
Overtime = Annotated[float, typer.Option("--overtime", min=0, help="Overtime per month as a share of hours (0.1).")]


def _table(frame: pd.DataFrame, title: str, rows: int = 20) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for row in frame.head(rows).itertuples(index=False):
        table.add_row(*(f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row))
    return table


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows: NaN and infinities become null."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def _inputs(source: str, workbook: Path | None, months: int) -> tuple[Any, Any, pd.DataFrame, pd.DataFrame]:
    from addin import pipeline
    from sop_functions.buckets import Horizon
    from workbooks.planning_tables import read_capacity_input

    snapshot = pipeline.load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    forecast = pipeline.in_horizon(pipeline.forecast_for(source, workbook), horizon)
    user = read_capacity_input(workbook) if workbook is not None else None
    return snapshot, horizon, forecast, available_capacity(snapshot.work_centers, user)


def register(app: typer.Typer) -> None:
    """Add the supply-planning commands to ``app``."""
    from .cli import console, guarded, step

    @app.command()
    def capacity(
        source: Source,
        workbook: Workbook = None,
        months: Months = 18,
        level: Annotated[str, typer.Option("--level", help="LP level: sku or family.")] = "sku",
        overtime: Overtime = 0.0,
        as_json: AsJson = False,
    ) -> None:
        """Rough-cut capacity, material check and the constrained supply plan (what stays unmet and why)."""

        def run() -> None:
            from sop_functions.plan import build_plan

            with step("planning and checking capacity"):
                snapshot, horizon, forecast, cap = _inputs(source, workbook, months)
                plan = build_plan(snapshot, forecast, horizon)
                production = planned_production(plan.sku_plan, snapshot.routings)
                load = capacity_load(production, snapshot.routings, cap, horizon.buckets, horizon.months_per_bucket)
                check = material_check(
                    plan.sku_plan, production, snapshot.bom, snapshot.items, horizon, snapshot.as_of_date
                )
                short = material_shortages(check, snapshot.bom)
                if level not in ("sku", "family"):
                    raise ValueError("--level must be sku or family")
                lp = solve_supply_plan(
                    plan.sku_plan,
                    snapshot.items,
                    snapshot.routings,
                    cap,
                    Costs(overtime_share=overtime),
                    level="sku" if level == "sku" else "family",
                )
            over = overloads(load)
            if as_json:
                out = {
                    "overloads": _records(over),
                    "material_shortages": _records(short),
                    "unmet": _records(lp.unmet),
                    "objective": lp.objective,
                }
                sys.stdout.write(json.dumps(out, indent=2) + "\n")
                return
            console.print(_table(over.assign(overload_pct=over["overload_pct"] * 100), "Overloaded work centers (%)"))
            console.print(_table(short, "Components short (within lead time first)"))
            console.print(_table(lp.unmet, f"Constrained plan: unmet demand and why (solved in {lp.seconds:.2f}s)"))

        guarded(run)

    @app.command()
    def scenario(
        source: Source,
        workbook: Workbook = None,
        months: Months = 18,
        name: Annotated[str, typer.Option("--name", help="Name of an ad-hoc scenario.")] = "What-if",
        demand: Annotated[list[str] | None, typer.Option("--demand", help="FAMILY=PCT (or *=PCT).")] = None,
        capacity_change: Annotated[list[str] | None, typer.Option("--capacity", help="WORKCENTER=PCT.")] = None,
        lost_supplier: Annotated[list[str] | None, typer.Option("--lost-supplier", help="Supplier name.")] = None,
        as_json: AsJson = False,
    ) -> None:
        """Compare the base plan with what-ifs: the workbook's Scenarios sheet, or one given by options."""

        def run() -> None:
            from workbooks.planning_tables import read_scenario_inputs

            changes = [_change("demand", d) for d in demand or []]
            changes += [_change("capacity", c) for c in capacity_change or []]
            changes += [Change("lost_supplier", s, 0.0) for s in lost_supplier or []]
            with step("computing scenarios"):
                snapshot, horizon, forecast, cap = _inputs(source, workbook, months)
                defined = scenarios_from_table(read_scenario_inputs(workbook)) if workbook is not None else []
                if changes:
                    defined.append(Scenario(name, tuple(changes)))
                results = run_scenarios(snapshot, forecast, cap, defined, horizon)
            table, peaks = compare(results), compare_capacity(results)
            if as_json:
                sys.stdout.write(json.dumps({"scenarios": _records(table), "capacity": _records(peaks)}, indent=2))
                sys.stdout.write("\n")
                return
            totals = table.groupby("scenario", sort=False)[["revenue", "gross_margin", "gap_value"]].sum()
            console.print(_table(totals.reset_index(), "Scenarios: horizon totals"))
            console.print(_table(peaks.sort_values("peak_overload_pct", ascending=False), "Peak overload %"))

        guarded(run)

    @app.command()
    def publish(
        source: Source,
        workbook: Workbook = None,
        store: Store = None,
        plan: PlanName = None,
        note: Annotated[str, typer.Option("--note", help="Why this plan (shown in sop versions).")] = "",
        erp: Annotated[str, typer.Option("--erp", help="'tryton' (sop.toml profile) or 'none'.")] = "none",
        warehouse: Annotated[str | None, typer.Option("--warehouse", help="Tryton warehouse code.")] = None,
        months: Months = 18,
    ) -> None:
        """Freeze the agreed plan as the next numbered version (and write its demand to the ERP)."""

        def run() -> None:
            from .publish import publish_plan

            settings = None
            if erp == "tryton":
                from connectors.tryton.settings import load_settings

                settings = load_settings()
            elif erp != "none":
                raise ValueError("--erp must be 'tryton' or 'none'")
            with step("publishing the plan"):
                result = publish_plan(
                    workbook,
                    source=source,
                    store_url=store,
                    plan_name=plan,
                    note=note,
                    erp=settings,
                    warehouse=warehouse,
                    months=months,
                )
            console.print(result.message)

        guarded(run)

    @app.command()
    def versions(workbook: Workbook = None, store: Store = None, plan: PlanName = None) -> None:
        """List the published versions of the plan: number, when, who, ERP as-of, ERP status."""

        def run() -> None:
            from workbooks.plan_store import default_store_url

            from .publish import list_versions, plan_name_for

            url = store or (default_store_url(workbook) if workbook else None)
            if url is None:
                raise ValueError("give --workbook or --store")
            rows = [
                (v.version, v.published_at.isoformat(timespec="minutes"), v.published_by,
                 v.as_of.isoformat(timespec="minutes"), v.erp_status or "-", v.note)
                for v in list_versions(url, plan or plan_name_for(workbook))
            ]  # fmt: skip
            frame = pd.DataFrame(rows, columns=["version", "published", "by", "ERP as of", "ERP", "note"])
            console.print(_table(frame, "Plan versions", rows=1000))

        guarded(run)

    @app.command(name="compare")
    def compare_command(
        old: Annotated[int, typer.Argument(help="Older version number.")],
        new: Annotated[int, typer.Argument(help="Newer version number.")],
        workbook: Workbook = None,
        store: Store = None,
        plan: PlanName = None,
        source: Annotated[str | None, typer.Option("--source", "-s", help="Add actual shipments.")] = None,
        level: Annotated[str, typer.Option("--level", help="family or sku.")] = "family",
        as_json: AsJson = False,
    ) -> None:
        """Compare two plan versions per family and month (and the actual shipments, with --source)."""

        def run() -> None:
            from workbooks.plan_store import default_store_url

            from .publish import compare_versions, plan_name_for

            url = store or (default_store_url(workbook) if workbook else None)
            if url is None:
                raise ValueError("give --workbook or --store")
            shipments = items = None
            if source is not None:
                from addin import pipeline

                snapshot = pipeline.load_snapshot(source)
                shipments, items = snapshot.shipments, snapshot.items
            frame = compare_versions(
                url, plan or plan_name_for(workbook), old, new, level=level, shipments=shipments, items=items
            )
            if as_json:
                sys.stdout.write(json.dumps(_records(frame), indent=2) + "\n")
                return
            changed = frame[frame["demand_change"].abs() > 1e-9]
            console.print(_table(changed, f"Demand changes v{old} -> v{new}", rows=50))

        guarded(run)


def _change(kind: str, text: str) -> Change:
    target, _, pct = text.rpartition("=")
    if not target:
        raise ValueError(f"expected NAME=PCT (e.g. Bikes=10), got {text!r}")
    return Change("demand" if kind == "demand" else "capacity", target.strip(), float(pct))

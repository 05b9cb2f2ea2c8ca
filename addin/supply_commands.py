"""``sop capacity``, ``sop scenario``, ``sop publish``, ``sop versions``, ``sop compare``: supply planning.

Registered on the main app by one line at the bottom of :mod:`addin.cli`. Each command is thin: the work is
in :mod:`sop_functions` (capacity, materials, supply_lp, scenarios, finance) and :mod:`addin.publish`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

if TYPE_CHECKING:  # imported by the commands that run them: `sop --help` loads neither pandas nor the engine
    import pandas as pd

    from sop_functions.scenarios import Change

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


def _inputs(source: str, workbook: Path | None, months: int) -> tuple[Any, Any, Any]:
    from addin import pipeline
    from sop_functions.buckets import Horizon

    snapshot = pipeline.load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    return snapshot, horizon, pipeline.inputs_for(source, workbook, horizon)


def register(app: typer.Typer) -> None:
    """Add the supply-planning commands to ``app``."""
    from .cli import console, guarded, step

    @app.command()
    def capacity(
        source: Source,
        workbook: Workbook = None,
        months: Months = 18,
        overtime: Overtime = 0.0,
        as_json: AsJson = False,
    ) -> None:
        """Rough-cut capacity after the proposed supply, components that go short, and what stays short and why."""

        def run() -> None:
            from sop_functions.capacity import available_capacity, overloads
            from sop_functions.materials import material_shortages
            from sop_functions.plan import build_plan
            from sop_functions.supply_lp import Costs

            with step("planning and checking capacity"):
                snapshot, horizon, inputs = _inputs(source, workbook, months)
                cap = available_capacity(snapshot.work_centers, inputs.capacity)
                plan = build_plan(
                    snapshot,
                    inputs.forecast,
                    horizon,
                    agreed=inputs.agreed,
                    capacity=cap,
                    costs=Costs(overtime_share=overtime),
                )
                short = material_shortages(plan, snapshot)
            over = overloads(plan.capacity_load)
            still = plan.sku_plan[plan.sku_plan["why_short"] != ""]
            unmet = still[["sku", "family", "bucket", "shortage_units_proposed", "why_short"]].astype({"bucket": str})
            if as_json:
                out = {
                    "supply_method": plan.supply_method,
                    "overloads": _records(over),
                    "material_shortages": _records(short),
                    "unmet": _records(unmet),
                    "notes": list(plan.notes),
                }
                sys.stdout.write(json.dumps(out, indent=2) + "\n")
                return
            console.print(_table(over, "Work centers loaded above 100 % (proposed layer)"))
            console.print(_table(short, "Components that go short (within lead time first)"))
            method = "capacity-constrained LP" if plan.supply_method == "lp" else "netting, infinite capacity"
            console.print(_table(unmet, f"Still short after the proposal ({method}) and why"))
            for note in plan.notes:
                console.print(f"[yellow]note:[/] {note}")

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
            from sop_functions.scenarios import (
                Change,
                Scenario,
                compare,
                compare_capacity,
                run_scenarios,
                scenarios_from_table,
            )
            from workbooks.planning_tables import read_scenario_inputs

            changes = [_change("demand", d) for d in demand or []]
            changes += [_change("capacity", c) for c in capacity_change or []]
            changes += [Change("lost_supplier", s, 0.0) for s in lost_supplier or []]
            from sop_functions.capacity import available_capacity

            with step("computing scenarios"):
                snapshot, horizon, inputs = _inputs(source, workbook, months)
                cap = available_capacity(snapshot.work_centers, inputs.capacity)
                defined = scenarios_from_table(read_scenario_inputs(workbook)) if workbook is not None else []
                if changes:
                    defined.append(Scenario(name, tuple(changes)))
                results = run_scenarios(snapshot, inputs.forecast, cap, defined, horizon, agreed=inputs.agreed)
            table, peaks = compare(results), compare_capacity(results)
            if as_json:
                sys.stdout.write(json.dumps({"scenarios": _records(table), "capacity": _records(peaks)}, indent=2))
                sys.stdout.write("\n")
                return
            sums = ["revenue", "gross_margin", "value_at_risk_window_proposed", "inventory_value_end"]
            totals = table.groupby("scenario", sort=False)[sums].sum()
            console.print(_table(totals.reset_index(), "Scenarios (Base = the plan, proposed layer): horizon totals"))
            console.print(_table(peaks.sort_values("peak_load_pct", ascending=False), "Peak load % (proposed)"))

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
            current = None
            if workbook is not None:  # the plan and its inputs once, for the version and its meeting pack
                from .pack.jobs import plan_to_publish

                with step("planning"):
                    current = plan_to_publish(source, workbook, months)
            with step("publishing the plan"):
                result = publish_plan(
                    workbook,
                    source=source,
                    plan=current.plan if current is not None else None,
                    store_url=store,
                    plan_name=plan,
                    note=note,
                    erp=settings,
                    warehouse=warehouse,
                    months=months,
                )
            console.print(result.message)
            if current is not None and workbook is not None:
                from .pack.jobs import freeze_published

                with step("keeping the meeting pack with the version"):
                    kept = freeze_published(workbook, result.version.version, current, store_url=store, plan_name=plan)
                console.print(kept)

        guarded(run)

    @app.command()
    def versions(workbook: Workbook = None, store: Store = None, plan: PlanName = None) -> None:
        """List the published versions of the plan: number, when, who, ERP as-of, ERP status."""

        def run() -> None:
            import pandas as pd

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
    from sop_functions.scenarios import Change

    target, _, pct = text.rpartition("=")
    if not target:
        raise ValueError(f"expected NAME=PCT (e.g. Bikes=10), got {text!r}")
    return Change("demand" if kind == "demand" else "capacity", target.strip(), float(pct))

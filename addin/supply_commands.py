"""``sop capacity``, ``sop scenario``, ``sop publish``, ``sop versions``, ``sop compare``: supply planning.

Registered on the main app by one line at the bottom of :mod:`addin.cli`. Each command is thin: the work is
in :mod:`sop_functions` (capacity, materials, supply_lp, scenarios, finance) and :mod:`addin.publish`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from workbooks import layout

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
CHANGED = 1e-9
"""A compared value moved when it differs by more than this (float noise is not a change)."""


SHOWN_ROWS = 20
"""Rows a CLI table shows; the caption says how many more there are and how to see them all."""


def _headers(*specs: layout.TableSpec) -> dict[str, str]:
    """Field -> the header the workbook shows for it (the first spec that has the field wins)."""
    out: dict[str, str] = {}
    for spec in specs:
        for column in spec.columns:
            out.setdefault(column.field, column.header)
    return out


def _table(
    frame: pd.DataFrame,
    title: str,
    rows: int = SHOWN_ROWS,
    *,
    headers: dict[str, str] | None = None,
    rest: str = "`--json` lists them all",
) -> Table:
    """A rich table of ``frame``'s first ``rows`` rows under the workbook's headers; a caption says what is
    left out and how to see it (never a silent cut)."""
    table = Table(title=title)
    names = headers or {}
    for column in frame.columns:
        justify = "left" if frame[column].dtype == object else "right"
        header = names.get(str(column)) or str(column).replace("_", " ").capitalize()
        table.add_column(escape(header), justify=justify)  # type: ignore[arg-type]
    for row in frame.head(rows).itertuples(index=False):
        table.add_row(*(escape(_cell(v)) for v in row))
    if len(frame) > rows:
        table.caption = f"{rows:,} of {len(frame):,} rows shown; {len(frame) - rows:,} more: {rest}"
    elif frame.empty:
        table.caption = "none"
    return table


def _cell(value: object) -> str:
    """A value as the table shows it: numbers with one decimal, missing numbers blank."""
    if isinstance(value, float):
        return f"{value:,.1f}" if math.isfinite(value) else ""
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows: NaN and infinities become null."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def _inputs(source: str, workbook: Path | None, months: int) -> tuple[Any, Any, Any]:
    from addin import pipeline
    from sop_functions.buckets import Horizon

    snapshot = pipeline.load_snapshot(source)
    horizon = Horizon.from_as_of(snapshot.as_of_date, periods=months)
    inputs = pipeline.inputs_for(source, workbook, horizon)
    # months that rolled out of the horizon are history now, as in `sop plan`
    return snapshot, horizon, dataclasses.replace(inputs, forecast=pipeline.in_horizon(inputs.forecast, horizon))


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
            from addin import pipeline
            from sop_functions.capacity import overloads
            from sop_functions.materials import material_shortages
            from sop_functions.supply_lp import Costs

            with step("planning and checking capacity"):
                snapshot, horizon, inputs = _inputs(source, workbook, months)
                plan = pipeline.plan_for(snapshot, horizon, inputs, costs=Costs(overtime_share=overtime))
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
            more = "`sop capacity --json` lists them all, the Capacity sheet too"
            names = _headers(layout.CAPACITY_LOAD, layout.MATERIAL_SHORTAGES, layout.INVENTORY)
            console.print(_table(over, "Work centers loaded above 100 % (proposed layer)", headers=names, rest=more))
            short_title = "Components that go short (within lead time first)"
            console.print(_table(short, short_title, headers=names, rest=more))
            method = "capacity-constrained LP" if plan.supply_method == "lp" else "netting, infinite capacity"
            unmet_title = f"Still short after the proposal ({method}) and why"
            console.print(_table(unmet, unmet_title, headers=names, rest="`sop capacity --json` lists them all"))
            for note in plan.notes:
                console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)

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
            names = _headers(layout.SCENARIOS, layout.SCENARIO_CAPACITY)
            title = "Scenarios (Base = the plan, proposed layer): horizon totals"
            console.print(_table(totals.reset_index(), title, headers=names))
            peak = peaks.sort_values("peak_load_pct", ascending=False)
            console.print(_table(peak, "Peak load % (proposed)", headers=names))

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
            changes = [c for c in frame.columns if c.endswith("_change")]
            changed = frame[(frame[changes].abs() > CHANGED).any(axis=1)]
            what = ", ".join(c.removesuffix("_change").replace("_", " ") for c in changes)
            title = f"Changes v{old} -> v{new} ({what}): {len(changed):,} of {len(frame):,} rows changed"
            rest = "`sop compare --json` lists every row"
            console.print(_table(changed, title, rows=50, rest=rest))

        guarded(run)


def _change(kind: str, text: str) -> Change:
    from sop_functions.scenarios import Change

    """``--demand Bikes=20`` / ``--capacity WC03=-10``: a target and a change in percent points."""
    option = f"--{kind}"
    target, sep, pct = text.rpartition("=")
    example = "Bikes=20" if kind == "demand" else "WC03=-10"
    if not sep or not target.strip():
        raise ValueError(f"{option} {text!r}: expected NAME=PCT, e.g. {option} {example} (PCT in percent points)")
    try:
        value = float(pct)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < -100:
        raise ValueError(
            f"{option} {text!r}: {pct.strip()!r} is not a change in percent (a number >= -100, "
            f"e.g. {option} {target.strip()}=20 for +20 %)"
        )
    return Change("demand" if kind == "demand" else "capacity", target.strip(), value)

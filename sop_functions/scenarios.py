"""Scenarios: named what-ifs computed side by side with the base plan.

A scenario is a list of changes to the plan's inputs, then the same planning chain as the base:

- ``demand``: the family forecast of ``target`` (a family, or ``*`` for all) x (1 + pct / 100). Open
  orders are booked and do not move, so demand = max(changed forecast, orders) as always.
- ``capacity``: the hours per month of ``target`` (a work center, or ``*``) x (1 + pct / 100).
- ``lost_supplier``: every open purchase receipt of supplier ``target`` is dropped (pct ignored).

Each scenario (and the base) goes through: plan (:func:`.plan.build_plan`) -> planned production and
rough-cut load (:mod:`.capacity`) -> optionally the constrained supply plan (:mod:`.supply_lp`, whose
production is added to the plan) -> finance (:mod:`.finance`). Unknown families, work centers or
suppliers are errors: a typo must not silently give a scenario equal to the base.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .buckets import Horizon
from .capacity import capacity_load, planned_production
from .finance import family_finance, finance_totals
from .gaps import sku_gaps
from .plan import Plan, build_plan
from .snapshot import Snapshot
from .supply_lp import Costs, SupplyPlan, constrained_sku_plan, solve_supply_plan

ChangeKind = Literal["demand", "capacity", "lost_supplier"]
BASE = "Base"
ALL = "*"
_KINDS: dict[str, ChangeKind] = {
    "demand": "demand",
    "capacity": "capacity",
    "lost supplier": "lost_supplier",
    "lost_supplier": "lost_supplier",
}


class ScenarioError(ValueError):
    """A scenario definition that cannot be applied, naming the scenario and the bad entry."""


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    target: str = ALL
    pct: float = 0.0


@dataclass(frozen=True)
class Scenario:
    name: str
    changes: tuple[Change, ...]


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """One column of the side-by-side comparison."""

    name: str
    plan: Plan = field(repr=False)
    sku_plan: pd.DataFrame = field(repr=False)
    """The SKU plan the finance is computed on: the plan's, with the constrained production added if solved."""
    load: pd.DataFrame = field(repr=False)
    supply: SupplyPlan | None = field(repr=False)
    finance: pd.DataFrame = field(repr=False)


def scenarios_from_table(frame: pd.DataFrame) -> list[Scenario]:
    """Scenarios from the workbook's tblScenarioInputs rows (``scenario, change, applies_to, change_pct``).

    Blank rows are skipped; rows with the same name form one scenario, in order of first appearance.
    """
    out: dict[str, list[Change]] = {}
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        name = str(row.scenario or "").strip()
        kind_text = str(row.change or "").strip().lower()
        if not name and not kind_text:
            continue
        if not name:
            raise ScenarioError(f"scenario row {i}: the Scenario name is blank")
        if name == BASE:
            raise ScenarioError(f"scenario row {i}: {BASE!r} is the plan itself; pick another name")
        kind = _KINDS.get(kind_text)
        if kind is None:
            raise ScenarioError(f"scenario {name!r} row {i}: Change must be Demand, Capacity or Lost supplier")
        target = str(row.applies_to or "").strip() or ALL
        raw = row.change_pct
        pct = 0.0 if raw is None or pd.isna(raw) else float(str(raw))
        if kind != "lost_supplier" and (not np.isfinite(pct) or pct < -100):
            raise ScenarioError(f"scenario {name!r} row {i}: Change % must be a number >= -100, got {pct}")
        if kind == "lost_supplier" and target == ALL:
            raise ScenarioError(f"scenario {name!r} row {i}: Lost supplier needs the supplier's name in Applies to")
        out.setdefault(name, []).append(Change(kind, target, pct))
    return [Scenario(name, tuple(changes)) for name, changes in out.items()]


def apply_changes(
    scenario: Scenario, snapshot: Snapshot, forecast: pd.DataFrame, capacity: pd.DataFrame
) -> tuple[Snapshot, pd.DataFrame, pd.DataFrame]:
    """The scenario's snapshot, forecast and capacity (inputs are not modified)."""
    forecast, capacity = forecast.copy(), capacity.copy()
    forecast["qty"] = pd.to_numeric(forecast["qty"]).astype(float)
    capacity["hours_per_month"] = capacity["hours_per_month"].astype(float)
    receipts = snapshot.receipts
    families = set(snapshot.items["family"].astype(str))
    centers = set(capacity["work_center"].astype(str))
    suppliers = set(receipts["supplier"].astype(str))
    for change in scenario.changes:
        factor = 1.0 + change.pct / 100.0
        where = f"scenario {scenario.name!r}"
        if change.kind == "demand":
            if change.target != ALL and change.target not in families:
                raise ScenarioError(f"{where}: no family {change.target!r}")
            rows = forecast["family"].astype(str) == change.target if change.target != ALL else slice(None)
            forecast.loc[rows, "qty"] = pd.to_numeric(forecast.loc[rows, "qty"]) * factor
        elif change.kind == "capacity":
            if change.target != ALL and change.target not in centers:
                raise ScenarioError(f"{where}: no work center {change.target!r}")
            rows = capacity["work_center"].astype(str) == change.target if change.target != ALL else slice(None)
            capacity.loc[rows, "hours_per_month"] = capacity.loc[rows, "hours_per_month"] * factor
        else:
            if change.target not in suppliers:
                raise ScenarioError(f"{where}: no open receipts from supplier {change.target!r}")
            receipts = receipts[receipts["supplier"].astype(str) != change.target]
    frames = {**snapshot.frames, "receipts": receipts}
    return dataclasses.replace(snapshot, frames=frames), forecast, capacity


def evaluate(
    name: str,
    snapshot: Snapshot,
    forecast: pd.DataFrame,
    capacity: pd.DataFrame,
    horizon: Horizon,
    costs: Costs | None = None,
    *,
    constrained: bool = True,
) -> ScenarioResult:
    """Plan, load, (constrained supply plan) and finance for one set of inputs."""
    plan = build_plan(snapshot, forecast, horizon)
    production = planned_production(plan.sku_plan, snapshot.routings)
    load = capacity_load(
        production, snapshot.routings, capacity, horizon.buckets, horizon.months_per_bucket, require_hours=constrained
    )
    supply = None
    sku_plan = plan.sku_plan
    if constrained and not snapshot.routings.empty:
        supply = solve_supply_plan(
            plan.sku_plan,
            snapshot.items,
            snapshot.routings,
            capacity,
            costs,
            months_per_bucket=horizon.months_per_bucket,
        )
        sku_plan = sku_gaps(constrained_sku_plan(plan.sku_plan, supply.production), snapshot.items)
    return ScenarioResult(name, plan, sku_plan, load, supply, family_finance(sku_plan, snapshot.items))


def run_scenarios(
    snapshot: Snapshot,
    forecast: pd.DataFrame,
    capacity: pd.DataFrame,
    scenarios: Sequence[Scenario],
    horizon: Horizon | None = None,
    costs: Costs | None = None,
    *,
    constrained: bool = True,
) -> list[ScenarioResult]:
    """The base (first, named :data:`BASE`) and each scenario, evaluated the same way."""
    horizon = horizon or Horizon.from_as_of(snapshot.as_of_date)
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"scenario name(s) used twice: {', '.join(dupes)}")
    results = [evaluate(BASE, snapshot, forecast, capacity, horizon, costs, constrained=constrained)]
    for scenario in scenarios:
        inputs = apply_changes(scenario, snapshot, forecast, capacity)
        results.append(evaluate(scenario.name, *inputs, horizon, costs, constrained=constrained))
    return results


def compare(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """tblScenarios: per scenario x family over the horizon; ``gap_value_vs_base`` = gap value - base's.

    Columns: ``scenario, family, demand, served_units, revenue, gross_margin, shortage_units, gap_value,
    inventory_value, gap_value_vs_base`` (shortage, gap and inventory at the horizon end).
    """
    frames = []
    for result in results:
        totals = finance_totals(result.finance)
        by = result.sku_plan.groupby("family", sort=True)
        end = result.sku_plan.groupby(["family", "bucket"], observed=True, sort=True)["shortage_units"].sum()
        totals["demand"] = totals["family"].map(by["demand"].sum())
        totals["shortage_units"] = totals["family"].map(end.groupby(level="family").last())
        totals.insert(0, "scenario", result.name)
        frames.append(totals)
    out = pd.concat(frames, ignore_index=True)
    base = out[out["scenario"] == results[0].name].set_index("family")["gap_value"]
    out["gap_value_vs_base"] = out["gap_value"] - out["family"].map(base).fillna(0.0)
    columns = ["scenario", "family", "demand", "served_units", "revenue", "gross_margin", "shortage_units"]
    return out[[*columns, "gap_value", "inventory_value", "gap_value_vs_base"]]


def capacity_peaks(load: pd.DataFrame) -> pd.DataFrame:
    """Per work center: ``peak_load_hours``, ``available_hours`` and ``peak_overload_pct`` of its worst
    month (percent points) and how many months are overloaded."""
    ordered = load.sort_values(["work_center", "overload_pct", "bucket"], ascending=[True, False, True])
    worst = ordered.drop_duplicates("work_center")
    over = load[load["overload_pct"] > 0].groupby("work_center").size()
    return pd.DataFrame(
        {
            "work_center": worst["work_center"].to_numpy(),
            "peak_load_hours": worst["load_hours"].to_numpy(),
            "available_hours": worst["available_hours"].to_numpy(),
            "peak_overload_pct": worst["overload_pct"].to_numpy() * 100.0,
            "overloaded_months": worst["work_center"].map(over).fillna(0).astype("int64").to_numpy(),
        }
    )


def compare_capacity(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """tblScenarioCapacity: :func:`capacity_peaks` of each scenario's unconstrained load."""
    frames = [capacity_peaks(r.load).drop(columns="available_hours").assign(scenario=r.name) for r in results]
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", "work_center", "peak_load_hours", "peak_overload_pct", "overloaded_months"]]

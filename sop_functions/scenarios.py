"""Scenarios: named what-ifs computed side by side with the base plan.

A scenario is a list of changes to the plan's inputs, then the same planning chain as the base:

- ``demand``: the family forecast of ``target`` (a family, or ``*`` for all) x (1 + pct / 100). Open
  orders are booked and do not move, so demand = max(changed forecast, orders) as always.
- ``capacity``: the hours per month of ``target`` (a work center, or ``*``) x (1 + pct / 100).
- ``lost_supplier``: every open purchase receipt of supplier ``target`` is dropped (pct ignored).

Each scenario (and the base) is the same plan (:func:`.plan.build_plan`: firm and proposed layers, the
capacity-constrained proposal where hours are known) on the changed inputs, then finance
(:mod:`.finance`) on its proposed layer. So the ``Base`` column *is* the plan: the same numbers as the
Plan, Summary and Finance sheets. Unknown families, work centers or suppliers are errors: a typo must not
silently give a scenario equal to the base.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .buckets import Horizon
from .capacity import capacity_peaks
from .finance import family_finance, finance_totals
from .plan import Plan, build_plan
from .snapshot import Snapshot
from .supply_lp import Costs

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
    finance: pd.DataFrame = field(repr=False)
    """:func:`.finance.family_finance` of the plan's proposed layer."""


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


MONEY_DECIMALS = 2
"""Money differences between two plans are shown to the cent: two LP solves of the same family differ in the
last digits (2.41e-07), which is noise, not an impact."""


def _known(what: str, names: set[str], shown: int = 10) -> str:
    """``families: Bikes, E-Bikes`` (the first ``shown``, sorted): what a typo could have meant."""
    listed = sorted(n for n in names if n)
    more = f", ... ({len(listed) - shown} more)" if len(listed) > shown else ""
    return f"{what}: {', '.join(listed[:shown])}{more}" if listed else f"no {what}"


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
                raise ScenarioError(f"{where}: no family {change.target!r} ({_known('families', families)})")
            rows = forecast["family"].astype(str) == change.target if change.target != ALL else slice(None)
            forecast.loc[rows, "qty"] = pd.to_numeric(forecast.loc[rows, "qty"]) * factor
        elif change.kind == "capacity":
            if change.target != ALL and change.target not in centers:
                raise ScenarioError(f"{where}: no work center {change.target!r} ({_known('work centers', centers)})")
            rows = capacity["work_center"].astype(str) == change.target if change.target != ALL else slice(None)
            capacity.loc[rows, "hours_per_month"] = capacity.loc[rows, "hours_per_month"] * factor
        else:
            if change.target not in suppliers:
                raise ScenarioError(
                    f"{where}: no open receipts from supplier {change.target!r} "
                    f"({_known('suppliers with open receipts', suppliers)})"
                )
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
    agreed: pd.DataFrame | None = None,
) -> ScenarioResult:
    """The plan and its finance for one set of inputs."""
    plan = build_plan(snapshot, forecast, horizon, agreed=agreed, capacity=capacity, costs=costs)
    return ScenarioResult(name, plan, family_finance(plan.sku_plan, snapshot.items))


def run_scenarios(
    snapshot: Snapshot,
    forecast: pd.DataFrame,
    capacity: pd.DataFrame,
    scenarios: Sequence[Scenario],
    horizon: Horizon | None = None,
    costs: Costs | None = None,
    *,
    agreed: pd.DataFrame | None = None,
    base: Plan | None = None,
) -> list[ScenarioResult]:
    """The base (first, named :data:`BASE`) and each scenario, evaluated the same way.

    ``base`` reuses an already built plan of the same inputs as the base (it is not planned twice).
    """
    horizon = horizon or Horizon.from_as_of(snapshot.as_of_date)
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"scenario name(s) used twice: {', '.join(dupes)}")
    if base is not None:
        results = [ScenarioResult(BASE, base, family_finance(base.sku_plan, snapshot.items))]
    else:
        results = [evaluate(BASE, snapshot, forecast, capacity, horizon, costs, agreed=agreed)]
    for scenario in scenarios:
        inputs = apply_changes(scenario, snapshot, forecast, capacity)
        results.append(evaluate(scenario.name, *inputs, horizon, costs, agreed=agreed))
    return results


SCENARIO_COLUMNS = (
    "scenario",
    "family",
    "demand_proposed",
    "served_units",
    "revenue",
    "gross_margin",
    "first_short_bucket_proposed",
    "value_at_risk_window_proposed",
    "inventory_value_end",
    "cash_tied_up_end",
    "value_at_risk_vs_base",
)


def compare(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """tblScenarios: per scenario x family (:data:`SCENARIO_COLUMNS`), the proposed layer of each plan.

    ``value_at_risk_vs_base`` = the scenario's value at risk within the decision window minus the base's
    (positive: the scenario puts more revenue at risk).
    """
    frames = []
    for result in results:
        totals = finance_totals(result.finance)
        timing = result.plan.family_timing.set_index("family")
        demand = result.plan.family_plan.groupby("family")["demand_proposed"].sum()
        totals["demand_proposed"] = totals["family"].map(demand)
        for column in ("first_short_bucket_proposed", "value_at_risk_window_proposed"):
            totals[column] = totals["family"].map(timing[column])
        totals.insert(0, "scenario", result.name)
        frames.append(totals)
    out = pd.concat(frames, ignore_index=True)
    base = out[out["scenario"] == results[0].name].set_index("family")["value_at_risk_window_proposed"]
    difference = out["value_at_risk_window_proposed"] - out["family"].map(base).fillna(0.0)
    out["value_at_risk_vs_base"] = difference.round(MONEY_DECIMALS) + 0.0  # cents: finer is LP noise
    return out[list(SCENARIO_COLUMNS)]


def compare_capacity(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """tblScenarioCapacity: :func:`.capacity.capacity_peaks` of each scenario's proposed load."""
    frames = [
        capacity_peaks(r.plan.capacity_load).drop(columns="available_hours").assign(scenario=r.name) for r in results
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", "work_center", "peak_load_hours", "peak_load_pct", "overloaded_months"]]

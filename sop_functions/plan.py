"""The plan: one set of numbers in two layers, per SKU and family, for every bucket of the horizon.

- **firm** — what the ERP already has: on-hand stock, open purchase receipts and production orders, and
  the components those production orders still need. "If nothing changes."
- **proposed** — the firm layer plus the planned supply sopxl proposes (:mod:`.proposal`: lot-sized
  production and purchases that respect lead times and aim at the safety stock; within work-center
  capacity and material availability where every loaded work center has hours, :mod:`.supply_lp`), with
  the planner's agreed supply where typed. What the meeting decides on.

Stages: bucket (:mod:`.buckets`) -> split the forecast (:mod:`.families`) -> consume it with orders
(:mod:`.demand`) -> firm supply (:mod:`.supply`) and its dependent demand (:mod:`.bom`) -> propose supply
level by level (:mod:`.proposal`, :mod:`.supply_lp`) -> project both layers (:mod:`.inventory`) ->
shortage and excess, never netted, and when they start (:mod:`.gaps`) -> capacity load (:mod:`.capacity`).
Definitions: docs/definitions.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .bom import bom_arrays, low_level_codes, made_items
from .buckets import Horizon, count_beyond, sku_grid
from .capacity import available_capacity, capacity_known, layer_load
from .demand import build_demand, validate_forecast
from .families import disaggregate, history_shares, unknown_families
from .family_view import FLOW_SUMS, family_frame, family_totals
from .gaps import LAYERS, WINDOW, shortage_and_excess, signed_gap, timing_both, top_gaps
from .inventory import DECIMALS, cover_months, forward_demand, on_hand, project
from .lead_times import earliest_receipt, label_position, release_positions
from .lots import LotRules
from .proposal import SupplyInputs, hold_back_for_materials, propose
from .snapshot import Snapshot
from .supply import build_supply
from .supply_lp import CapacityPlan, Costs, solve_capacity_plan
from .why_short import family_reasons, sku_reasons

LAYER_MEASURES = (
    "opening_inventory",
    "projected_inventory",
    "shortage_units",
    "value_at_risk",
    "excess_units",
    "cash_tied_up",
    "gap_units",
    "gap_value",
    "below_safety_stock",
    "cover_months",
)
SKU_PLAN_COLUMNS = (
    "sku",
    "family",
    "bucket",
    *FLOW_SUMS,
    "planned_by",
    *(f"{m}_{layer}" for layer in LAYERS for m in LAYER_MEASURES),
    "why_short",
)
PLANNED_ORDER_COLUMNS = ("sku", "family", "kind", "bucket", "release_bucket", "qty", "planned_by", "note")


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything a refresh writes to the workbook, for one snapshot, forecast, agreed supply and horizon."""

    horizon: Horizon
    as_of: dt.datetime
    source: str
    window: int
    """Months (after ``PAST_DUE``) over which value at risk is measured: the decision window."""
    supply_method: str
    """``"lp"`` (capacity-constrained, :mod:`.supply_lp`) or ``"netting"`` (infinite capacity)."""
    sku_plan: pd.DataFrame = field(repr=False)
    """One row per SKU x bucket (``PAST_DUE`` first): :data:`SKU_PLAN_COLUMNS`."""
    family_plan: pd.DataFrame = field(repr=False)
    """One row per family x bucket: :data:`FAMILY_PLAN_COLUMNS`; flows, shortages and excesses are SKU sums."""
    family_timing: pd.DataFrame = field(repr=False)
    """Per family: when it goes short, in both layers (:data:`.gaps.TIMING_COLUMNS` + ``_firm``/``_proposed``)."""
    sku_timing: pd.DataFrame = field(repr=False)
    """The same per SKU (with its family)."""
    top_gaps: pd.DataFrame = field(repr=False)
    """The families that go short, most urgent first (:func:`.gaps.top_gaps`)."""
    family_totals: pd.DataFrame = field(repr=False)
    """``family, demand_proposed, supply_firm, supply_proposed, worst_value_at_risk_proposed,
    cash_tied_up_end``: flows over every bucket, the worst backlog value, excess at the horizon end."""
    planned_orders: pd.DataFrame = field(repr=False)
    """The proposal as orders: :data:`PLANNED_ORDER_COLUMNS`, one per SKU and bucket with a receipt."""
    capacity_load: pd.DataFrame = field(repr=False)
    """Per work center and dated bucket, both layers (:func:`.capacity.layer_load`)."""
    beyond_horizon: pd.DataFrame = field(repr=False)
    """``entity, count, qty`` of open orders, receipts and production orders dated after the horizon."""
    unknown_forecast_families: pd.DataFrame = field(repr=False)
    """Forecast rows (``family, bucket, qty``) whose family has no items: reported, not planned."""
    capacity_plan: CapacityPlan | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    """What the planner should know about how this plan was made (e.g. capacity not respected)."""


@dataclass(frozen=True)
class _Grid:
    """The SKU grid as arrays: SKUs (rows, family then SKU order) x label positions (columns)."""

    frame: pd.DataFrame
    skus: pd.Index
    width: int

    def array(self, values: pd.Series | np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=float).reshape(len(self.skus), self.width)

    def flat(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values).reshape(-1)


def beyond_horizon(snapshot: Snapshot, horizon: Horizon) -> pd.DataFrame:
    """What the horizon leaves out: count and quantity of dated demand and supply after its end."""
    dated = (("open_demand", "requested_date"), ("receipts", "expected_date"), ("production", "due_date"))
    rows = [(e, *count_beyond(snapshot.frames[e], d, horizon, snapshot.as_of_date)) for e, d in dated]
    return pd.DataFrame(rows, columns=["entity", "count", "qty"])


def firm_dependent_demand(
    snapshot: Snapshot, skus: pd.Index, lead_days: np.ndarray, horizon: Horizon, bom: tuple[np.ndarray, ...]
) -> np.ndarray:
    """Components the ERP's production orders still need, at their start (planned start, else due date
    minus lead time; before today: ``PAST_DUE``). Running orders have consumed theirs already."""
    width = len(horizon.labels)
    out = np.zeros((len(skus), width))
    orders = snapshot.production[snapshot.production["state"] != "running"]
    if orders.empty or len(bom[0]) == 0:
        return out
    row = skus.get_indexer(pd.Index(orders["sku"].astype(str)))
    due = orders["due_date"].to_numpy(dtype="datetime64[D]")
    start = orders["start_date"].to_numpy(dtype="datetime64[D]")
    lead = lead_days[row].astype("timedelta64[D]")
    when = np.where(np.isnat(start), due - lead, start)
    position = label_position(when, horizon, snapshot.as_of_date)
    keep = (row >= 0) & (position < width)
    parent, child, qty_per = bom
    production = np.zeros((len(skus), width))
    np.add.at(production, (row[keep], position[keep]), orders["qty"].to_numpy(dtype=float)[keep])
    np.add.at(
        out,
        (np.repeat(child, width), np.tile(np.arange(width), len(child))),
        (production[parent] * qty_per[:, None]).ravel(),
    )
    return out


def agreed_supply(
    agreed: pd.DataFrame | None, shares: pd.DataFrame, grid: _Grid, horizon: Horizon
) -> tuple[np.ndarray, pd.DataFrame]:
    """The planner's agreed supply per family and month, split to SKUs by history share (like the forecast):
    ``(fixed, unknown)`` where ``fixed`` is NaN where nothing was agreed and ``unknown`` lists families
    without items."""
    fixed = np.full((len(grid.skus), grid.width), np.nan)
    empty = pd.DataFrame(columns=["family", "bucket", "qty"])
    if agreed is None or agreed.empty:
        return fixed, empty
    typed = agreed[agreed["qty"].notna() & (agreed["qty"].astype(str).str.strip() != "")]  # blank: follow
    if typed.empty:
        return fixed, empty
    given = validate_forecast(typed, horizon)
    per_sku = disaggregate(given, shares)
    row = grid.skus.get_indexer(pd.Index(per_sku["sku"].astype(str)))
    position = pd.Index(horizon.labels).get_indexer(pd.Index(per_sku["bucket"].astype(str)))
    keep = (row >= 0) & (position > 0)
    fixed[row[keep], position[keep]] = per_sku["qty"].to_numpy(dtype=float)[keep]
    return fixed, unknown_families(given, shares)


def build_plan(
    snapshot: Snapshot,
    forecast: pd.DataFrame,
    horizon: Horizon | None = None,
    *,
    agreed: pd.DataFrame | None = None,
    capacity: pd.DataFrame | None = None,
    costs: Costs | None = None,
    window: int = WINDOW,
) -> Plan:
    """Chain the planning stages for a snapshot, a family forecast (``family, bucket, qty``) and optionally
    the planner's agreed supply (``family, bucket, qty``; blank = follow the proposal).

    ``capacity`` is :func:`.capacity.available_capacity`'s frame (default: the ERP's work centers only).
    The horizon defaults to 18 months from the snapshot's as-of month. Raises ValueError for an invalid
    forecast or agreed supply, :class:`~.supply_lp.SupplyPlanError` for LP inputs that cannot be solved.
    """
    as_of = snapshot.as_of_date
    horizon = horizon or Horizon.from_as_of(as_of)
    clean = validate_forecast(forecast, horizon)
    items = snapshot.items
    grid_frame = sku_grid(items, horizon)
    width = len(horizon.labels)
    skus = pd.Index(grid_frame["sku"].to_numpy()[::width].astype(str)) if len(grid_frame) else pd.Index([], dtype=str)
    grid = _Grid(grid_frame, skus, width)
    shares = history_shares(snapshot.shipments, items, as_of)
    demand = build_demand(grid_frame, clean, snapshot.open_demand, shares, horizon, as_of)
    supply = build_supply(grid_frame, snapshot.receipts, snapshot.production, horizon, as_of)
    by_sku = items.set_index("sku").reindex(skus)
    price = by_sku["unit_price"].fillna(0.0).to_numpy(dtype=float)
    cost = by_sku["unit_cost"].fillna(0.0).to_numpy(dtype=float)
    safety = by_sku["safety_stock"].fillna(0.0).to_numpy(dtype=float)
    lead_days = by_sku["lead_time_days"].fillna(0).to_numpy(dtype=np.int64)
    bom = bom_arrays(skus, snapshot.bom)
    made = skus.isin(made_items(snapshot.bom, snapshot.routings, snapshot.production))
    fixed, unknown_agreed = agreed_supply(agreed, shares, grid, horizon)
    inputs = SupplyInputs(
        skus=skus,
        independent=grid.array(demand["demand"]),
        firm_supply=grid.array(supply["supply"]),
        dependent_firm=firm_dependent_demand(snapshot, skus, lead_days, horizon, bom),
        on_hand=skus.to_series().map(on_hand(snapshot.stock)).fillna(0.0).to_numpy(dtype=float),
        target=safety,
        earliest=earliest_receipt(lead_days, horizon, as_of),
        release=release_positions(lead_days, horizon, as_of),
        lots=LotRules.of(items, skus),
        levels=low_level_codes(skus, snapshot.bom),
        made=made,
        bom=bom,
        fixed=fixed,
        floor=np.full((len(skus), width), np.nan),
    )
    capacity = available_capacity(snapshot.work_centers) if capacity is None else capacity
    notes: list[str] = []
    capacity_plan = None
    routings = snapshot.routings
    if not routings.empty and capacity_known(capacity, routings):
        centers = pd.Index(capacity["work_center"].astype(str))
        hours_per_unit = np.zeros((len(centers), len(skus)))
        r_wc = centers.get_indexer(pd.Index(routings["work_center"].astype(str)))
        r_sku = skus.get_indexer(pd.Index(routings["sku"].astype(str)))
        ok = (r_wc >= 0) & (r_sku >= 0)
        np.add.at(hours_per_unit, (r_wc[ok], r_sku[ok]), routings["hours_per_unit"].to_numpy(dtype=float)[ok])
        capacity_plan = solve_capacity_plan(
            inputs,
            price=price,
            cost=cost,
            hours_per_unit=hours_per_unit,
            firm_production=grid.array(supply["production"]),
            work_centers=centers,
            hours_per_month=capacity["hours_per_month"].to_numpy(dtype=float),
            labels=horizon.labels,
            costs=costs,
            months_per_bucket=horizon.months_per_bucket,
        )
        lp_made = capacity_plan.in_lp & made
        floor = np.cumsum(capacity_plan.receipts + np.nan_to_num(fixed), axis=1)
        inputs = _with_floor(inputs, np.where(lp_made[:, None], floor, np.nan))
    elif not routings.empty:
        missing = sorted(set(routings["work_center"].astype(str)) - set(_with_hours(capacity)))
        notes.append(
            "capacity is not respected by the proposal: no hours per month for work center(s) "
            f"{', '.join(missing)} (enter them on the Capacity sheet); the load it causes is shown"
        )
    proposal = propose(inputs)
    inputs, proposal, held = hold_back_for_materials(inputs, proposal)
    sku_plan = _sku_frame(
        grid,
        demand,
        supply,
        inputs,
        proposal.planned,
        proposal.dependent_planned,
        price,
        cost,
        horizon.months_per_bucket,
    )
    sku_plan["planned_by"] = grid.flat(proposal.source)
    sku_plan["why_short"] = sku_reasons(
        sku_plan, grid, inputs, proposal.planned, capacity_plan, routings, capacity, held
    )
    sku_plan = sku_plan[list(SKU_PLAN_COLUMNS)]
    load = layer_load(sku_plan, routings, capacity, horizon)
    family_plan = family_frame(sku_plan, horizon, load, routings)
    family_timing = timing_both(family_plan, "family", window)
    sku_timing = timing_both(sku_plan, "sku", window)
    sku_timing.insert(1, "family", sku_timing["sku"].map(items.set_index("sku")["family"]))
    family_reason = family_reasons(sku_plan, window)
    if not unknown_agreed.empty:
        notes.append(
            f"agreed supply for unknown famil(ies) ignored: {', '.join(sorted(set(unknown_agreed['family'])))}"
        )
    return Plan(
        horizon=horizon,
        as_of=snapshot.as_of,
        source=snapshot.source,
        window=window,
        supply_method="lp" if capacity_plan is not None else "netting",
        sku_plan=sku_plan,
        family_plan=family_plan,
        family_timing=family_timing,
        sku_timing=sku_timing,
        top_gaps=top_gaps(family_timing, family_reason),
        family_totals=family_totals(family_plan),
        planned_orders=planned_orders(sku_plan, inputs, made, proposal.planned, horizon),
        capacity_load=load,
        beyond_horizon=beyond_horizon(snapshot, horizon),
        unknown_forecast_families=unknown_families(clean, items),
        capacity_plan=capacity_plan,
        notes=tuple(notes),
    )


def _with_hours(capacity: pd.DataFrame) -> list[str]:
    return capacity.loc[capacity["hours_per_month"].notna(), "work_center"].astype(str).tolist()


def _with_floor(inputs: SupplyInputs, floor: np.ndarray) -> SupplyInputs:
    from dataclasses import replace

    return replace(inputs, floor=floor)


def _sku_frame(
    grid: _Grid,
    demand: pd.DataFrame,
    supply: pd.DataFrame,
    inputs: SupplyInputs,
    planned: np.ndarray,
    dependent_planned: np.ndarray,
    price: np.ndarray,
    cost: np.ndarray,
    months_per_bucket: float,
) -> pd.DataFrame:
    """The long SKU plan: both layers' flows, projections, shortages and excesses."""
    out = grid.frame[["sku", "family", "bucket"]].copy()
    out["forecast"] = demand["forecast"].to_numpy()
    out["orders"] = demand["orders"].to_numpy()
    out["independent_demand"] = demand["demand"].to_numpy()
    dep_firm = inputs.dependent_firm
    dep_proposed = dep_firm + dependent_planned
    made = inputs.made[:, None]
    flows = {
        "dependent_demand_firm": dep_firm,
        "dependent_demand_proposed": dep_proposed,
        "demand_firm": inputs.independent + dep_firm,
        "demand_proposed": inputs.independent + dep_proposed,
        "planned_purchases": np.where(made, 0.0, planned),
        "planned_production": np.where(made, planned, 0.0),
    }
    for name, values in flows.items():
        out[name] = np.round(grid.flat(values), DECIMALS) + 0.0
    out["receipts"] = supply["receipts"].to_numpy()
    out["production"] = supply["production"].to_numpy()
    out["supply_firm"] = supply["supply"].to_numpy()
    out["supply_proposed"] = np.round(grid.flat(inputs.firm_supply + planned), DECIMALS) + 0.0
    out["safety_stock"] = np.repeat(inputs.target, grid.width)
    for layer, flow_supply, flow_demand in (
        ("firm", inputs.firm_supply, flows["demand_firm"]),
        ("proposed", inputs.firm_supply + planned, flows["demand_proposed"]),
    ):
        opening, projected = project(inputs.on_hand, flow_supply, flow_demand)
        measures = shortage_and_excess(projected, inputs.target, price, cost)
        stock = np.maximum(projected, 0.0)
        values = {
            "opening_inventory": opening,
            "projected_inventory": projected,
            **measures,
            "gap_units": signed_gap(measures["shortage_units"], measures["excess_units"]),
            "gap_value": signed_gap(measures["value_at_risk"], measures["cash_tied_up"]),
            "cover_months": cover_months(stock, forward_demand(flow_demand), months_per_bucket),
        }
        for name, array in values.items():
            out[f"{name}_{layer}"] = grid.flat(array)
        out[f"below_safety_stock_{layer}"] = grid.flat(projected < inputs.target[:, None])
    return out


def planned_orders(
    sku_plan: pd.DataFrame, inputs: SupplyInputs, made: np.ndarray, planned: np.ndarray, horizon: Horizon
) -> pd.DataFrame:
    """The proposal as one planned order per SKU and bucket: production or purchase, with its release."""
    rows, positions = np.nonzero(planned > 0)
    labels = np.asarray(horizon.labels, dtype=object)
    family = sku_plan["family"].to_numpy()[:: len(horizon.labels)]
    source = sku_plan["planned_by"].to_numpy().reshape(planned.shape)
    short = sku_plan["shortage_units_proposed"].to_numpy(dtype=float).reshape(planned.shape) > 0
    parent, child, _ = inputs.bom
    note = np.full(len(rows), "", dtype=object)
    for n, (i, k) in enumerate(zip(rows, positions, strict=True)):
        if made[i]:
            r = inputs.release[i, k]
            missing = [inputs.skus[c] for c in child[parent == i] if short[c, : r + 1].any()]
            if missing:
                note[n] = "material short at release: " + ", ".join(sorted(missing))
    return pd.DataFrame(
        {
            "sku": inputs.skus[rows].to_numpy(),
            "family": family[rows],
            "kind": np.where(made[rows], "production", "purchase"),
            "bucket": labels[positions],
            "release_bucket": labels[inputs.release[rows, positions]],
            "qty": planned[rows, positions],
            "planned_by": source[rows, positions],
            "note": note,
        },
        columns=list(PLANNED_ORDER_COLUMNS),
    )

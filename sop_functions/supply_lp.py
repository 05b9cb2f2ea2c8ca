"""Constrained supply plan: how much to make of each item (or family) each month within work-center capacity.

A linear program solved with HiGHS. For every product ``p`` (a made SKU, or a family of made SKUs) and
dated month ``t`` (``PAST_DUE`` is the starting position), and every work center ``w``:

Variables (all >= 0)
    ``make[p,t]``   units produced (on top of the production orders already in the ERP)
    ``stock[p,t]``  units in stock at the end of the month
    ``short[p,t]``  units of demand not yet served at the end of the month (cumulative backlog)
    ``ot[w,t]``     overtime hours, at most ``overtime_hours[w]`` per month

Constraints
    balance   ``stock[p,t-1] - short[p,t-1] + make[p,t] + supply[p,t] - demand[p,t] = stock[p,t] - short[p,t]``
              (month 0 starts from the plan's ``PAST_DUE`` projected inventory; ``supply`` = receipts and
              production orders already in the ERP)
    capacity  ``sum_p hours_per_unit[w,p] * make[p,t] <= free_hours[w,t] + ot[w,t]``
              (``free_hours`` = hours per month - load of the existing production orders, at least 0)

Objective (minimise, money per month)
    ``sum short[p,t] * unit_price[p]``           revenue at risk for every month a unit is late
    ``+ sum stock[p,t] * unit_cost[p] * holding_rate``   cost of carrying pre-built stock
    ``+ sum ot[w,t] * overtime_cost``

So the model pre-builds in slack months when a later month would overload, uses overtime when it is
cheaper than being short, and leaves demand unmet only when capacity (with overtime) cannot make it. Why
demand stays unmet is read off the capacity rows: a work center whose row is tight (no slack) and whose
shadow price (the row dual: money saved by one more hour) is positive binds the plan that month.

The model is built in one go from numpy arrays (column-wise sparse matrix, ``Highs.passModel``); an
SME-L company (5,000 SKUs, 18 months, 15 work centers) solves at SKU level in a few seconds (measured
in docs/supply.md). ``level="family"`` aggregates made SKUs per family (hours per unit weighted by
demand) and disaggregates the family's production to its SKUs by their chase requirement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np
import pandas as pd

from .buckets import PAST_DUE
from .capacity import CapacityError, available_capacity, check_routings, made_skus

Level = Literal["sku", "family"]
INF = highspy.kHighsInf
TIGHT = 1e-6


class SupplyPlanError(ValueError):
    """Inputs the LP cannot be built from, or a solve that did not reach an optimum, with the reason."""


@dataclass(frozen=True)
class Costs:
    """Money per unit of each term of the objective (see the module docstring)."""

    holding_rate: float = 0.02
    """Share of unit cost per month that carrying a unit in stock costs (2 % a month ~ 24 % a year)."""
    overtime_cost: float = 60.0
    """Money per overtime hour, every work center."""
    overtime_share: float = 0.0
    """Overtime available per month as a share of each work center's regular hours (0.1 = 10 %)."""

    def check(self) -> None:
        for name in ("holding_rate", "overtime_cost", "overtime_share"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise SupplyPlanError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True, eq=False)
class SupplyPlan:
    """The LP's answer."""

    level: Level
    status: str
    objective: float
    production: pd.DataFrame = field(repr=False)
    """``sku, family, bucket, qty``: the extra production per made SKU and month (family level: disaggregated)."""
    products: pd.DataFrame = field(repr=False)
    """``product, bucket, demand, make, stock, short``: per LP product (SKU or family) and month."""
    work_centers: pd.DataFrame = field(repr=False)
    """``work_center, bucket, free_hours, load_hours, overtime_hours, overtime_limit, slack_hours,
    value_per_hour, binding``: the capacity rows (``value_per_hour`` = shadow price of one more hour)."""
    unmet: pd.DataFrame = field(repr=False)
    """``product, bucket, short, binding_work_centers``: months with demand left unserved and why."""
    seconds: float = 0.0
    """Wall time of the solve (building the model excluded)."""


def _product_frame(sku_plan: pd.DataFrame, routings: pd.DataFrame, level: Level) -> tuple[pd.DataFrame, pd.Series]:
    """Made SKUs' rows of the plan, and the LP product key per SKU."""
    made = sku_plan[sku_plan["sku"].isin(made_skus(routings))]
    first = made.drop_duplicates("sku")
    values = first["family" if level == "family" else "sku"].astype(str).to_numpy()
    return made, pd.Series(values, index=first["sku"].to_numpy())


def validate_inputs(
    sku_plan: pd.DataFrame, routings: pd.DataFrame, capacity: pd.DataFrame, items: pd.DataFrame
) -> None:
    """Clear errors before solving: negative capacity, routings to unknown work centers, produced items
    without a routing, missing hours, bad numbers. Raises :class:`SupplyPlanError`."""
    try:
        check_routings(routings, capacity)
    except CapacityError as exc:
        raise SupplyPlanError(str(exc)) from None
    hours = capacity["hours_per_month"].to_numpy(dtype=float)
    negative = capacity.loc[hours < 0, "work_center"].tolist()
    if negative:
        raise SupplyPlanError(f"negative capacity for work center(s) {', '.join(map(str, negative))}")
    used = set(routings["work_center"].astype(str))
    missing = capacity.loc[np.isnan(hours) & capacity["work_center"].astype(str).isin(used), "work_center"]
    if len(missing):
        raise SupplyPlanError(
            f"no hours per month for work center(s) {', '.join(map(str, missing))}: "
            "enter them on the workbook's Capacity sheet"
        )
    produced = sku_plan.loc[sku_plan["production"] > 0, "sku"].unique()
    no_routing = sorted(set(map(str, produced)) - set(map(str, made_skus(routings))))
    if no_routing:
        shown = ", ".join(no_routing[:20]) + (" ..." if len(no_routing) > 20 else "")
        raise SupplyPlanError(
            f"{len(no_routing)} item(s) have production orders but no routing, so their load is unknown: {shown}"
        )
    for column in ("demand", "supply", "projected_inventory"):
        values = sku_plan[column].to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise SupplyPlanError(f"the plan's {column} holds missing or infinite values")
    prices = items[["unit_price", "unit_cost"]].to_numpy(dtype=float)
    if not np.isfinite(prices).all() or (prices < 0).any():
        raise SupplyPlanError("unit prices and costs must be finite numbers >= 0")


def _csc(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise sparse arrays (start, index, value) from coordinates."""
    order = np.lexsort((rows, cols))
    start = np.zeros(n_cols + 1, dtype=np.int32)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=start[1:])
    return start, rows[order].astype(np.int32), vals[order].astype(np.float64)


def solve_supply_plan(
    sku_plan: pd.DataFrame,
    items: pd.DataFrame,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    costs: Costs | None = None,
    *,
    level: Level = "sku",
    months_per_bucket: float = 1.0,
    time_limit: float = 120.0,
) -> SupplyPlan:
    """Solve the constrained supply plan for a plan's SKU frame (see the module docstring).

    ``capacity`` is :func:`.capacity.available_capacity`'s frame (``work_center, hours_per_month``).
    Raises :class:`SupplyPlanError` for invalid inputs (before solving) and for a solve that ends
    infeasible, unbounded or without an optimum.
    """
    costs = costs or Costs()
    costs.check()
    validate_inputs(sku_plan, routings, capacity, items)
    made, key = _product_frame(sku_plan, routings, level)
    labels = [str(b) for b in pd.unique(sku_plan["bucket"].astype(str)) if b != PAST_DUE]
    products = pd.Index(sorted(key.unique()))
    centers = pd.Index(capacity["work_center"].astype(str))
    P, T, W = len(products), len(labels), len(centers)

    # per SKU x bucket arrays, then summed to product x month
    sku_index = pd.Index(key.index)
    s = sku_index.get_indexer(pd.Index(made["sku"]))
    bucket = made["bucket"].astype(str).to_numpy()
    t = pd.Index(labels).get_indexer(pd.Index(bucket))
    n_s = len(sku_index)
    prod_of_sku = products.get_indexer(pd.Index(key.to_numpy()))

    def grid(values: np.ndarray) -> np.ndarray:
        keep = t >= 0
        out = np.bincount(s[keep] * T + t[keep], weights=values[keep], minlength=n_s * T).reshape(n_s, T)
        return out

    demand_s = grid(made["demand"].to_numpy(dtype=float))
    supply_s = grid(made["supply"].to_numpy(dtype=float))
    past = bucket == PAST_DUE
    start_s = np.zeros(n_s)
    start_s[s[past]] = made["projected_inventory"].to_numpy(dtype=float)[past]

    def to_p(values: np.ndarray) -> np.ndarray:
        """Sum SKU rows (first axis) into their LP product."""
        out = np.zeros((P, *values.shape[1:]))
        np.add.at(out, prod_of_sku, values)
        return out

    demand, supply, start = to_p(demand_s), to_p(supply_s), to_p(start_s)

    price_s = items.set_index("sku")["unit_price"].reindex(sku_index).fillna(0.0).to_numpy(dtype=float)
    cost_s = items.set_index("sku")["unit_cost"].reindex(sku_index).fillna(0.0).to_numpy(dtype=float)
    weight = demand_s.sum(axis=1) + 1e-9  # demand-weighted family averages
    wsum = to_p(weight)
    price, unit_cost = to_p(price_s * weight) / wsum, to_p(cost_s * weight) / wsum

    # hours per unit, work center x product (family: demand-weighted over its made SKUs)
    r = routings[routings["sku"].isin(sku_index)]
    rs, rw = sku_index.get_indexer(pd.Index(r["sku"])), centers.get_indexer(pd.Index(r["work_center"].astype(str)))
    hpu_s = np.zeros((W, n_s))
    np.add.at(hpu_s, (rw, rs), r["hours_per_unit"].to_numpy(dtype=float))
    hpu = to_p((hpu_s * weight).T).T / wsum

    per_month = capacity["hours_per_month"].fillna(0.0).to_numpy(dtype=float) * months_per_bucket
    existing = hpu_s @ grid(made["production"].to_numpy(dtype=float))  # W x T hours of ERP production orders
    existing[:, 0] += hpu_s @ (np.bincount(s[past], made["production"].to_numpy(dtype=float)[past], n_s))
    free = np.maximum(per_month[:, None] - existing, 0.0)
    ot_limit = np.broadcast_to(per_month[:, None] * costs.overtime_share, (W, T))

    # variables: make | stock | short (P*T each, index p*T+t) | ot (W*T)
    PT = P * T
    n_cols, n_rows = 3 * PT + W * T, PT + W * T
    pt = np.arange(PT)
    later = pt[(pt % T) > 0]
    bal_rows = [pt, pt, pt, later, later]
    bal_cols = [pt, PT + pt, 2 * PT + pt, PT + later - 1, 2 * PT + later - 1]
    bal_vals = [np.ones(PT), -np.ones(PT), np.ones(PT), np.ones(len(later)), -np.ones(len(later))]
    wi, pi = np.nonzero(hpu)
    cap_rows = (PT + wi[:, None] * T + np.arange(T)[None, :]).ravel()
    cap_cols = (pi[:, None] * T + np.arange(T)[None, :]).ravel()
    cap_vals = np.repeat(hpu[wi, pi], T)
    wt = np.arange(W * T)
    rows = np.concatenate([*bal_rows, cap_rows, PT + wt])
    cols = np.concatenate([*bal_cols, cap_cols, 3 * PT + wt])
    vals = np.concatenate([*bal_vals, cap_vals, -np.ones(W * T)])
    start_idx, index, value = _csc(rows.astype(np.int64), cols.astype(np.int64), vals, n_cols)

    rhs = (demand - supply).copy()
    rhs[:, 0] -= start
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.concatenate(
        [
            np.zeros(PT),
            np.repeat(unit_cost * costs.holding_rate, T),
            np.repeat(price, T),
            np.full(W * T, costs.overtime_cost),
        ]
    )
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.concatenate([np.full(3 * PT, INF), ot_limit.ravel()])
    lp.row_lower_ = np.concatenate([rhs.ravel(), np.full(W * T, -INF)])
    lp.row_upper_ = np.concatenate([rhs.ravel(), free.ravel()])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start_idx, index, value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    status_text = h.modelStatusToString(status)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SupplyPlanError(_diagnose(status, status_text))
    solution = h.getSolution()
    x = np.asarray(solution.col_value)
    duals = np.asarray(solution.row_dual)[PT:].reshape(W, T)
    seconds = float(h.getRunTime())
    make, stock, short = (x[k * PT : (k + 1) * PT].reshape(P, T) for k in range(3))
    ot = x[3 * PT :].reshape(W, T)
    make, stock, short = (np.round(a, 6) + 0.0 for a in (make, stock, short))

    load = hpu @ make
    slack = free + ot_limit - load
    value_per_hour = np.maximum(-duals, 0.0)
    binding = (slack <= TIGHT * np.maximum(1.0, free + ot_limit)) & (value_per_hour > TIGHT)
    wc = pd.DataFrame(
        {
            "work_center": np.repeat(centers.to_numpy(), T),
            "bucket": np.tile(labels, W),
            "free_hours": free.ravel(),
            "load_hours": np.round(load.ravel(), 6),
            "overtime_hours": np.round(ot.ravel(), 6),
            "overtime_limit": ot_limit.ravel(),
            "slack_hours": np.round(slack.ravel(), 6),
            "value_per_hour": np.round(value_per_hour.ravel(), 6),
            "binding": binding.ravel(),
        }
    )
    prod = pd.DataFrame(
        {
            "product": np.repeat(products.to_numpy(), T),
            "bucket": np.tile(labels, P),
            "demand": demand.ravel(),
            "make": make.ravel(),
            "stock": stock.ravel(),
            "short": short.ravel(),
        }
    )
    return SupplyPlan(
        level=level,
        status=status_text,
        objective=float(h.getInfo().objective_function_value),
        production=_disaggregate(make, made, key, sku_index, prod_of_sku, labels, level),
        products=prod,
        work_centers=wc,
        unmet=_unmet(short, hpu, binding, products, centers, labels),
        seconds=seconds,
    )


def _diagnose(status: highspy.HighsModelStatus, text: str) -> str:
    if status == highspy.HighsModelStatus.kInfeasible:
        return (
            "the supply plan has no solution (infeasible): check for negative demand or supply in the plan "
            "and negative capacity or overtime limits"
        )
    if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return "the supply plan is unbounded: a cost is negative or missing (costs must be >= 0)"
    if status == highspy.HighsModelStatus.kTimeLimit:
        return "the supply plan did not finish within the time limit: solve at family level (level='family')"
    return f"the supply plan solve ended without an optimum: {text}"


def _disaggregate(
    make: np.ndarray,
    made: pd.DataFrame,
    key: pd.Series,
    sku_index: pd.Index,
    prod_of_sku: np.ndarray,
    labels: list[str],
    level: Level,
) -> pd.DataFrame:
    """``sku, family, bucket, qty``: at SKU level as solved; at family level split by each SKU's share of
    its family's demand in that month (equal shares in a month without demand)."""
    T = len(labels)
    family = made.drop_duplicates("sku").set_index("sku")["family"].reindex(sku_index).to_numpy()
    if level == "sku":
        qty = make[prod_of_sku]
    else:
        s = sku_index.get_indexer(pd.Index(made["sku"]))
        t = pd.Index(labels).get_indexer(pd.Index(made["bucket"].astype(str)))
        keep = t >= 0
        dem = np.bincount(s[keep] * T + t[keep], made["demand"].to_numpy(dtype=float)[keep], len(sku_index) * T)
        dem = dem.reshape(len(sku_index), T)
        fam_dem = np.zeros((make.shape[0], T))
        np.add.at(fam_dem, prod_of_sku, dem)
        count = np.bincount(prod_of_sku, minlength=make.shape[0]).astype(float)
        share = np.where(fam_dem[prod_of_sku] > 0, dem / np.where(fam_dem > 0, fam_dem, 1.0)[prod_of_sku], 0.0)
        share = np.where(fam_dem[prod_of_sku] > 0, share, 1.0 / count[prod_of_sku][:, None])
        qty = make[prod_of_sku] * share
    return pd.DataFrame(
        {
            "sku": np.repeat(sku_index.to_numpy(), T),
            "family": np.repeat(family, T),
            "bucket": np.tile(labels, len(sku_index)),
            "qty": np.round(qty.ravel(), 6) + 0.0,
        }
    )


def _unmet(
    short: np.ndarray, hpu: np.ndarray, binding: np.ndarray, products: pd.Index, centers: pd.Index, labels: list[str]
) -> pd.DataFrame:
    """Months with unmet demand and the work centers the product uses that bind in that month or before."""
    p, t = np.nonzero(short > TIGHT)
    reasons = []
    bound_by_now = np.cumsum(binding, axis=1) > 0  # pre-build could have used any earlier month
    for pi, ti in zip(p, t, strict=True):
        used = (hpu[:, pi] > 0) & bound_by_now[:, ti]
        names = centers[used].tolist()
        reasons.append(", ".join(names) if names else "no capacity binds: existing stock and supply fall short")
    return pd.DataFrame(
        {
            "product": products.to_numpy()[p],
            "bucket": np.asarray(labels, dtype=object)[t],
            "short": short[p, t],
            "binding_work_centers": reasons,
        }
    )


def capacity_for_lp(work_centers: pd.DataFrame, workbook_capacity: pd.DataFrame | None) -> pd.DataFrame:
    """Convenience: :func:`.capacity.available_capacity` (ERP first, then the workbook's hours)."""
    return available_capacity(work_centers, workbook_capacity)


def constrained_sku_plan(sku_plan: pd.DataFrame, production: pd.DataFrame) -> pd.DataFrame:
    """The plan's SKU frame with the LP's extra production added: ``production``, ``supply`` and the
    projection updated (gap columns must be recomputed by the caller with :func:`.gaps.sku_gaps`)."""
    extra = production.set_index(["sku", "bucket"])["qty"]
    keys = pd.MultiIndex.from_arrays([sku_plan["sku"], sku_plan["bucket"].astype(str)])
    add = extra.reindex(keys).fillna(0.0).to_numpy(dtype=float)
    out = sku_plan.copy()
    out["production"] = out["production"].to_numpy(dtype=float) + add
    out["supply"] = out["supply"].to_numpy(dtype=float) + add
    cumulative = pd.Series(add, index=out.index).groupby(out["sku"], sort=False).cumsum().to_numpy()
    out["projected_inventory"] = np.round(out["projected_inventory"].to_numpy(dtype=float) + cumulative, 9) + 0.0
    out["opening_inventory"] = out["opening_inventory"].to_numpy(dtype=float) + cumulative - add
    out["below_safety_stock"] = out["projected_inventory"] < out["safety_stock"]
    return out

"""The capacity-constrained proposal: how much to make (and buy) when, within the work centers' hours.

A linear program solved with HiGHS over the made items, for every dated bucket ``t`` and work center ``w``:

Variables (all >= 0)
    ``rcv[i,t]``    planned production of a made item
    ``stock[i,t]``, ``short[i,t]``   projected stock or backlog at the end of the bucket
    ``below[i,t]``  how far the stock is under the item's safety stock
    ``ot[w,t]``     overtime hours, at most ``overtime_share`` x the regular hours

Constraints
    balance   ``stock[t-1] - short[t-1] + rcv[t] - dependent[t] - stock[t] + short[t] = demand[t] - firm[t]``:
              the firm layer's demand (independent + dependent of ERP production orders) and supply (ERP
              receipts, production orders, the planner's agreed supply) are constants; ``dependent[t]``
              sums ``qty_per x rcv[parent, t']`` over the parents whose output in ``t'`` is released in ``t``
              (lead-time offset, :mod:`.lead_times`: a made sub-assembly's demand follows its made parents).
              Bucket 0 starts from the ``PAST_DUE`` projection.
    safety    ``stock[t] + below[t] >= safety stock``
    capacity  ``sum_i hours_per_unit[w,i] x rcv[i,t] - ot[w,t] <= free[w,t]`` (free = hours minus the
              load of the ERP's production orders and of the agreed supply, at least 0)
    lead time ``rcv[i,t] = 0`` before the item's earliest receipt bucket; ``rcv[i,t] <= lot_max``

Objective (minimise, money): backlog x shortage cost (the unit price; a made component's is above its
parents' price per component unit) + below-safety-stock x a fifth of that + stock x unit cost x holding
rate + overtime hours x its cost.

So it pre-builds in slack months, uses overtime where cheaper than being short, and leaves demand unmet
only where capacity or lead times leave no way. A work center binds a month when its row has no slack and
a positive shadow price (money saved by one more hour). Bought components are not in the model (they
made it ~35x slower at SME-L): :mod:`.proposal` plans them from the LP's production, lot-sizes everything
(cumulative receipts follow the LP's) and holds back planned production whose components cannot arrive
in time. The model is built in one go from numpy arrays (column-wise sparse matrix, ``Highs.passModel``).

**Reusing an answer.** Inside :func:`reuse_answers` the LP's answer is looked up by a hash of every number
HiGHS would be given (costs, bounds, the matrix, the dimensions, the HiGHS version): when nothing the LP
reads has changed, HiGHS is not run and the plan is built from the stored answer, so it is the same plan to
the last bit; any change to an input is a different key and a fresh solve. (A solve warm-started from the
last basis was measured ~20x faster after 1 % of the demand changed, but where several plans cost the same
it may return another of them than a cold solve: the plan would depend on the history of refreshes, so it
is not used.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import highspy
import numpy as np
import pandas as pd

from .proposal import SupplyInputs

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
class CapacityPlan:
    """The LP's answer, in the arrays of :class:`~.proposal.SupplyInputs` (rows = SKUs, columns = labels)."""

    status: str
    objective: float
    receipts: np.ndarray = field(repr=False)
    """Planned receipts of the LP's items (0 for items outside it and in ``PAST_DUE``)."""
    in_lp: np.ndarray = field(repr=False)
    """Per SKU: whether the LP planned it (the made items)."""
    binding: np.ndarray = field(repr=False)
    """``(work centers, labels)``: capacity binds there (column 0, ``PAST_DUE``, never)."""
    work_centers: pd.DataFrame = field(repr=False)
    """``work_center, bucket, free_hours, load_hours, overtime_hours, overtime_limit, slack_hours,
    value_per_hour, binding`` per work center and dated bucket."""
    seconds: float = 0.0
    reused: bool = False
    """The answer came from :func:`reuse_answers`' store (same inputs as a previous solve), not from HiGHS."""


@dataclass(frozen=True, eq=False)
class LpAnswer:
    """What HiGHS answered for one LP: enough to build the :class:`CapacityPlan` again without solving."""

    status: str
    objective: float
    col_value: np.ndarray = field(repr=False)
    capacity_dual: np.ndarray = field(repr=False)
    """Row duals of the capacity rows (work centers x dated buckets, row-major)."""
    seconds: float


class AnswerStore(Protocol):
    """Where answers are kept between runs (:class:`workbooks.lp_cache.LpAnswerFiles`: beside the workbook)."""

    def get(self, key: str, n_cols: int, n_capacity: int) -> LpAnswer | None: ...

    def put(self, key: str, answer: LpAnswer) -> None: ...


_STORE: ContextVar[AnswerStore | None] = ContextVar("sopxl_lp_answers", default=None)
KEY_VERSION = b"sopxl-lp-1"


@contextmanager
def reuse_answers(store: AnswerStore | None) -> Iterator[None]:
    """Within the block, every LP whose inputs equal a stored one's takes the stored answer (see module doc)."""
    token = _STORE.set(store)
    try:
        yield
    finally:
        _STORE.reset(token)


@cache
def _highs_version() -> str:
    version: str = highspy.Highs().version()  # type: ignore[no-untyped-call]
    return version


def model_key(lp: highspy.HighsLp, *dims: int) -> str:
    """Hex digest of everything the LP's answer depends on: each array's type, shape and bytes, the
    dimensions and the HiGHS version (another version may pick another of several equal optima)."""
    digest = hashlib.blake2b(KEY_VERSION, digest_size=20)
    digest.update(repr((_highs_version(), dims)).encode())
    for values in (
        lp.col_cost_,
        lp.col_lower_,
        lp.col_upper_,
        lp.row_lower_,
        lp.row_upper_,
        lp.a_matrix_.start_,
        lp.a_matrix_.index_,
        lp.a_matrix_.value_,
    ):
        array = np.ascontiguousarray(values)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _solve(lp: highspy.HighsLp, dims: tuple[int, int, int], time_limit: float) -> tuple[LpAnswer, bool]:
    """The LP's answer (stored, else from HiGHS) and whether it was reused; raises for a non-optimum."""
    store = _STORE.get()
    MT, W, T = dims
    key = model_key(lp, *dims) if store is not None else ""
    if store is not None:
        found = store.get(key, int(lp.num_col_), W * T)
        if found is not None:
            return found, True
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.passModel(lp)
    _empty(lp)  # HiGHS has its own copy now: the model's ~8 MiB (SME-L) are not held through the solve
    h.run()
    status = h.getModelStatus()
    status_text = h.modelStatusToString(status)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SupplyPlanError(_diagnose(status, status_text))
    solution = h.getSolution()
    answer = LpAnswer(
        status=status_text,
        objective=float(h.getInfo().objective_function_value),
        col_value=np.asarray(solution.col_value, dtype=np.float64),
        capacity_dual=np.asarray(solution.row_dual, dtype=np.float64)[2 * MT :].copy(),
        seconds=float(h.getRunTime()),
    )
    if store is not None:
        store.put(key, answer)
    return answer, False


def _empty(lp: highspy.HighsLp) -> None:
    """Drop the arrays of a model that has been passed to HiGHS (it is only read before: for the key)."""
    none = np.empty(0)
    lp.col_cost_, lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_ = none, none, none, none, none
    lp.a_matrix_.start_, lp.a_matrix_.index_ = np.zeros(1, dtype=np.int32), np.empty(0, dtype=np.int32)
    lp.a_matrix_.value_ = none


def shortage_costs(inputs: SupplyInputs, price: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Per SKU: the price of being short one unit, a component's above its parents' per component unit."""
    parent, child, qty = inputs.bom
    short = np.maximum(np.maximum(price, cost), 1.0)
    for level in np.unique(inputs.levels)[1:]:
        lines = inputs.levels[child] == level
        if lines.any():
            need = np.zeros_like(short)
            np.maximum.at(need, child[lines], short[parent[lines]] / qty[lines] * 1.05)
            short = np.maximum(short, need)
    out: np.ndarray = short
    return out


def solve_capacity_plan(
    inputs: SupplyInputs,
    *,
    price: np.ndarray,
    cost: np.ndarray,
    hours_per_unit: np.ndarray,
    firm_production: np.ndarray,
    work_centers: pd.Index,
    hours_per_month: np.ndarray,
    labels: list[str],
    costs: Costs | None = None,
    months_per_bucket: float = 1.0,
    time_limit: float = 120.0,
) -> CapacityPlan:
    """Solve the LP (see the module docstring). ``hours_per_unit`` is ``(work centers, SKUs)``.

    Raises :class:`SupplyPlanError` for invalid inputs and for a solve without an optimum.
    """
    costs = costs or Costs()
    costs.check()
    if (hours_per_month < 0).any() or np.isnan(hours_per_month).any():
        raise SupplyPlanError("every work center the plan loads needs hours per month >= 0")
    if not (np.isfinite(price).all() and np.isfinite(cost).all()) or (price < 0).any() or (cost < 0).any():
        raise SupplyPlanError("unit prices and costs must be finite numbers >= 0")
    n, width = inputs.independent.shape
    T, W = width - 1, len(work_centers)
    inside = inputs.made.copy()
    rows = np.nonzero(inside)[0]
    m = len(rows)
    at = np.full(n, -1)
    at[rows] = np.arange(m)
    fixed = np.nan_to_num(inputs.fixed)
    demand = (inputs.independent + inputs.dependent_firm)[rows]
    supply = (inputs.firm_supply + fixed)[rows]
    start = inputs.on_hand[rows] + supply[:, 0] - demand[:, 0]
    rhs = (demand - supply)[:, 1:].copy()
    rhs[:, 0] -= start
    hpu = hours_per_unit[:, rows]

    per_month = hours_per_month * months_per_bucket
    existing = hours_per_unit @ (firm_production + np.where(inputs.made[:, None], fixed, 0.0))
    existing[:, 1] += existing[:, 0]  # overdue work loads the first month
    free = np.maximum(per_month[:, None] - existing[:, 1:], 0.0)
    ot_limit = np.broadcast_to(per_month[:, None] * costs.overtime_share, (W, T))

    MT = m * T
    jt = np.arange(MT)
    t = jt % T
    later = jt[t > 0]
    r_parts = [jt, jt, jt, later, later, MT + jt, MT + jt]
    c_parts = [jt, MT + jt, 2 * MT + jt, MT + later - 1, 2 * MT + later - 1, MT + jt, 3 * MT + jt]
    v_parts = [np.ones(MT), -np.ones(MT), np.ones(MT), np.ones(len(later)), -np.ones(len(later))]
    v_parts += [np.ones(MT), np.ones(MT)]
    parent, child, qty = inputs.bom
    lines = inside[parent] & inside[child] & inputs.made[parent]
    if lines.any():
        lp_parent, lp_child, lp_qty = at[parent[lines]], at[child[lines]], qty[lines]
        release = inputs.release[parent[lines]][:, 1:] - 1  # lines x T, dated positions
        r_parts.append((lp_child[:, None] * T + release).ravel())
        c_parts.append((lp_parent[:, None] * T + np.arange(T)[None, :]).ravel())
        v_parts.append(np.repeat(-lp_qty, T))
    wi, pi = np.nonzero(hpu)
    r_parts.append((2 * MT + wi[:, None] * T + np.arange(T)[None, :]).ravel())
    c_parts.append((pi[:, None] * T + np.arange(T)[None, :]).ravel())
    v_parts.append(np.repeat(hpu[wi, pi], T))
    wt = np.arange(W * T)
    r_parts.append(2 * MT + wt)
    c_parts.append(4 * MT + wt)
    v_parts.append(-np.ones(W * T))
    n_cols, n_rows = 4 * MT + W * T, 2 * MT + W * T
    start_idx, index, value = _csc(np.concatenate(r_parts), np.concatenate(c_parts), np.concatenate(v_parts), n_cols)
    del r_parts, c_parts, v_parts  # the coordinates: not held through the solve

    short_cost = shortage_costs(inputs, price, cost)[rows]
    holding = cost[rows] * costs.holding_rate * months_per_bucket
    closed = (np.arange(T)[None, :] + 1 < inputs.earliest[rows][:, None]) | ~np.isnan(inputs.fixed[rows][:, 1:])
    rcv_upper = np.where(closed, 0.0, np.broadcast_to(inputs.lots.maximum[rows][:, None], (m, T)))
    rcv_upper = np.where(np.isinf(rcv_upper), INF, rcv_upper)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.concatenate(
        [
            np.repeat(short_cost * 1e-6, T),
            np.repeat(holding, T),
            np.repeat(short_cost, T),
            np.repeat(short_cost * 0.2, T),
            np.full(W * T, costs.overtime_cost),
        ]
    )
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.concatenate([rcv_upper.ravel(), np.full(3 * MT, INF), ot_limit.ravel()])
    target = np.repeat(inputs.target[rows], T)
    lp.row_lower_ = np.concatenate([rhs.ravel(), target, np.full(W * T, -INF)])
    lp.row_upper_ = np.concatenate([rhs.ravel(), np.full(MT, INF), free.ravel()])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start_idx, index, value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    del start_idx, index, value  # the model holds its own copy

    answer, reused = _solve(lp, (MT, W, T), time_limit)
    x = answer.col_value
    duals = answer.capacity_dual.reshape(W, T)
    rcv = np.round(x[:MT].reshape(m, T), 6) + 0.0
    ot = x[4 * MT :].reshape(W, T)
    load = hpu @ rcv
    slack = free + ot_limit - load
    value_per_hour = np.maximum(-duals, 0.0)
    binding = (slack <= TIGHT * np.maximum(1.0, free + ot_limit)) & (value_per_hour > TIGHT)
    receipts = np.zeros((n, width))
    receipts[rows, 1:] = rcv
    wc = pd.DataFrame(
        {
            "work_center": np.repeat(work_centers.to_numpy(), T),
            "bucket": np.tile(labels[1:], W),
            "free_hours": free.ravel(),
            "load_hours": np.round(load.ravel(), 6),
            "overtime_hours": np.round(ot.ravel(), 6),
            "overtime_limit": ot_limit.ravel(),
            "slack_hours": np.round(slack.ravel(), 6),
            "value_per_hour": np.round(value_per_hour.ravel(), 6),
            "binding": binding.ravel(),
        }
    )
    return CapacityPlan(
        status=answer.status,
        objective=answer.objective,
        receipts=receipts,
        in_lp=inside,
        binding=np.hstack([np.zeros((W, 1), dtype=bool), binding]),
        work_centers=wc,
        seconds=0.0 if reused else answer.seconds,
        reused=reused,
    )


def _csc(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise sparse arrays (start, index, value) from coordinates (duplicates summed)."""
    order = np.lexsort((rows, cols))
    rows, cols, vals = rows[order].astype(np.int64), cols[order].astype(np.int64), vals[order].astype(np.float64)
    if len(rows) > 1:
        same = np.r_[False, (rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1])]
        if same.any():
            group = np.cumsum(~same) - 1
            vals = np.bincount(group, weights=vals)
            keep = ~same
            rows, cols = rows[keep], cols[keep]
    start = np.zeros(n_cols + 1, dtype=np.int32)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=start[1:])
    return start, rows.astype(np.int32), vals


def _diagnose(status: highspy.HighsModelStatus, text: str) -> str:
    if status == highspy.HighsModelStatus.kInfeasible:
        return (
            "the supply plan has no solution (infeasible): check for negative demand or supply in the plan "
            "and negative capacity or overtime limits"
        )
    if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return "the supply plan is unbounded: a cost is negative or missing (costs must be >= 0)"
    if status == highspy.HighsModelStatus.kTimeLimit:
        return "the supply plan did not finish within the time limit: shorten the horizon or plan fewer items"
    return f"the supply plan solve ended without an optimum: {text}"

"""The proposed supply: planned production and purchases on top of what the ERP already has (firm).

Classic MRP netting, level by level through the BOMs (:mod:`.bom`), vectorised over the items of a level
and stepping through the buckets:

    projected = previous + firm supply + planned - (independent + dependent demand)

In each dated bucket from the item's earliest receipt bucket (:mod:`.lead_times`) on, an item whose
projection would fall below its **target** (the safety stock) gets a planned receipt for the difference,
lot-sized (:mod:`.lots`). Before the earliest receipt bucket nothing new can arrive, so a shortage there
stays (reason *lead time*). Made items' planned receipts are planned production: exploded through their
BOM at the release bucket (receipt bucket minus lead time) into the components' dependent demand, which
the next level nets in turn. Bought items' planned receipts are planned purchases.

Two things replace the target rule for a bucket:

- **fixed** quantities (the planner's agreed plan): received as typed, whatever the netting says;
- a **floor** (the capacity-constrained LP's plan, :mod:`.supply_lp`): cumulative planned receipts keep up
  with the LP's cumulative production, lot-sized, so the LP decides *when* and lot sizing *how much*.

**Materials.** A component whose planned need cannot be covered in time (the backlog grows before its
earliest receipt bucket) holds its parents back: their planned production released in that bucket is cut
by what the component lacks (shared among the parents by their use of it, rounded down to the lot
multiple), fixed there, and the netting runs again, so the rest is planned when the parts can be there
(:func:`hold_back_for_materials`; a made component held back holds its own parents back in turn). The parent's
remaining shortage then says ``material: <component>``.

Infinite capacity: this heuristic never looks at work centers. Capacity is respected where the LP runs
(hours known for every loaded work center); elsewhere the load it causes is reported (``load_pct``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .bom import explode
from .lots import WHOLE_UNIT, LotRules

Source = str
"""How a bucket's planned receipt came about: ``""`` (none), ``"netting"``, ``"lp"``, ``"agreed"``."""


@dataclass(frozen=True, eq=False)
class SupplyInputs:
    """Everything the netting needs, as arrays over the plan's SKUs (rows) and label positions (columns)."""

    skus: pd.Index
    independent: np.ndarray
    """Independent demand (consumed forecast and open orders)."""
    firm_supply: np.ndarray
    """Open receipts and production orders from the ERP."""
    dependent_firm: np.ndarray
    """Dependent demand of the ERP's production orders (not yet consumed)."""
    on_hand: np.ndarray
    target: np.ndarray
    """Per item: the projection the netting aims at (safety stock)."""
    earliest: np.ndarray
    """Per item: first label position a new order can arrive in."""
    release: np.ndarray
    lots: LotRules
    levels: np.ndarray
    made: np.ndarray
    bom: tuple[np.ndarray, np.ndarray, np.ndarray]
    fixed: np.ndarray = field(repr=False)
    """Agreed receipts (NaN: not fixed)."""
    floor: np.ndarray = field(repr=False)
    """Cumulative receipts required by the LP (NaN: target rule)."""


@dataclass(frozen=True, eq=False)
class Proposal:
    """The netting's answer, arrays like :class:`SupplyInputs`."""

    planned: np.ndarray
    """Planned receipts (production for made items, purchases for bought ones)."""
    dependent_planned: np.ndarray
    """Dependent demand caused by the planned production."""
    source: np.ndarray
    """:data:`Source` per item and position."""


def net(
    gross: np.ndarray,
    firm: np.ndarray,
    on_hand: np.ndarray,
    target: np.ndarray,
    earliest: np.ndarray,
    lots: LotRules,
    fixed: np.ndarray,
    floor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Planned receipts ``(items, labels)`` and their source for one level of items (see the module doc)."""
    n, width = gross.shape
    planned = np.zeros((n, width))
    source = np.full((n, width), "", dtype=object)
    projected = on_hand + firm[:, 0] - gross[:, 0]  # PAST_DUE: nothing new arrives in the past
    cumulative = np.zeros(n)
    for k in range(1, width):
        projected = projected + firm[:, k] - gross[:, k]
        fix = fixed[:, k]
        is_fixed = ~np.isnan(fix)
        bound = floor[:, k]
        by_floor = ~np.isnan(bound)
        need = np.where(by_floor, np.nan_to_num(bound) - cumulative, target - projected)
        need = np.where((k >= earliest) & ~is_fixed, need, 0.0)
        qty = np.where(is_fixed, np.nan_to_num(fix), lots.size(need))
        planned[:, k] = qty
        source[:, k] = np.where(is_fixed, "agreed", np.where(qty > 0, np.where(by_floor, "lp", "netting"), ""))
        projected = projected + qty
        cumulative = cumulative + qty
    return planned, source


def propose(inputs: SupplyInputs) -> Proposal:
    """Net every level in low-level-code order; explode each level's planned production to the next."""
    n, width = inputs.independent.shape
    planned = np.zeros((n, width))
    dependent = np.zeros((n, width))
    source = np.full((n, width), "", dtype=object)
    parent, child, qty_per = inputs.bom
    for level in np.unique(inputs.levels):
        rows = np.nonzero(inputs.levels == level)[0]
        gross = inputs.independent[rows] + inputs.dependent_firm[rows] + dependent[rows]
        planned[rows], source[rows] = net(
            gross,
            inputs.firm_supply[rows],
            inputs.on_hand[rows],
            inputs.target[rows],
            inputs.earliest[rows],
            inputs.lots.take(rows),
            inputs.fixed[rows],
            inputs.floor[rows],
        )
        production = np.zeros((n, width))
        made_rows = rows[inputs.made[rows]]
        production[made_rows] = planned[made_rows]
        dependent += explode(production, inputs.release, parent, child, qty_per)
    return Proposal(planned, dependent, source)


MATERIAL_PASSES = 8
"""Hold-back rounds: one per BOM level is enough in practice; the loop stops as soon as nothing changes."""


def projected(inputs: SupplyInputs, proposal: Proposal) -> np.ndarray:
    """The proposed layer's projection per item and position."""
    supply = inputs.firm_supply + proposal.planned
    demand = inputs.independent + inputs.dependent_firm + proposal.dependent_planned
    out: np.ndarray = inputs.on_hand[:, None] + np.cumsum(supply - demand, axis=1)
    return out


def hold_back_for_materials(
    inputs: SupplyInputs, proposal: Proposal
) -> tuple[SupplyInputs, Proposal, dict[tuple[int, int], set[int]]]:
    """Cut planned production whose components cannot arrive in time (see the module docstring).

    Returns the inputs with the cuts fixed, the new proposal, and per (parent row, position) the rows of
    the components that held it back.
    """
    parent, child, qty_per = inputs.bom
    held: dict[tuple[int, int], set[int]] = {}
    if len(parent) == 0:
        return inputs, proposal, held
    width = inputs.independent.shape[1]
    position = np.arange(width)[None, :]
    for _ in range(MATERIAL_PASSES):
        backlog = np.maximum(0.0, -projected(inputs, proposal))
        growth = np.diff(backlog, axis=1, prepend=0.0)
        blocked = position < inputs.earliest[:, None]  # nothing new arrives yet
        for p, t in held:  # a held-back made component cannot be made then either
            blocked[p, t] = True
        bound = blocked & (growth > 1e-6) & (proposal.dependent_planned > 1e-6)
        cells = list(zip(*np.nonzero(bound), strict=True))
        if not cells:
            break
        fixed = inputs.fixed.copy()
        planned = proposal.planned
        changed = False
        for c, k in cells:
            lines = np.nonzero(child == c)[0]
            uses = []
            for line in lines:
                p = parent[line]
                for t in np.nonzero((inputs.release[p] == k) & (planned[p] > 0) & inputs.made[p])[0]:
                    uses.append((p, t, qty_per[line], qty_per[line] * planned[p, t]))
            total = sum(u[3] for u in uses)
            if total <= 0:
                continue
            lacking = min(growth[c, k], proposal.dependent_planned[c, k])
            for p, t, per, use in uses:
                keep = max(0.0, planned[p, t] - lacking * use / total / per)
                step = inputs.lots.multiple[p] or WHOLE_UNIT
                keep = np.floor(keep / step + 1e-9) * step  # what the parts allow, in whole lots
                if keep < planned[p, t] - 1e-9:
                    fixed[p, t] = keep
                    held.setdefault((int(p), int(t)), set()).add(int(c))
                    changed = True
        if not changed:
            break
        inputs = replace(inputs, fixed=fixed)
        proposal = propose(inputs)
    for p, t in held:
        proposal.source[p, t] = "held back"
    return inputs, proposal, held

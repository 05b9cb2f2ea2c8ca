"""Why a SKU or family stays short after the proposal: the reason the meeting has to decide on.

In order of precedence per SKU and bucket: ``lead time`` (nothing new can arrive yet: expedite or change
the plan), ``capacity: WC01`` (the LP found a work center the item uses full then or before), ``material:
X`` (its planned production was held back for a component), ``lot max`` (the per-bucket cap was reached),
``agreed supply`` (the planner's number is below the need). A family's reason counts its SKUs per kind.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from .proposal import SupplyInputs
from .supply_lp import CapacityPlan


class Grid(Protocol):
    """The SKU grid the plan is laid out on (rows: SKUs, columns: label positions)."""

    @property
    def skus(self) -> pd.Index: ...

    def array(self, values: pd.Series | np.ndarray) -> np.ndarray: ...

    def flat(self, values: np.ndarray) -> np.ndarray: ...


def sku_reasons(
    sku_plan: pd.DataFrame,
    grid: Grid,
    inputs: SupplyInputs,
    planned: np.ndarray,
    capacity_plan: CapacityPlan | None,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    held: dict[tuple[int, int], set[int]],
) -> np.ndarray:
    """Why each SKU x bucket stays short after the proposal (empty where it is not short).

    In order of precedence: lead time (nothing can arrive yet), capacity (the LP found a work center the
    item uses full then or before), material (its production was held back for a component), lot max
    (the per-bucket cap was reached), agreed supply (the planner's number is below the need).
    """
    short = grid.array(sku_plan["shortage_units_proposed"]) > 0
    n, width = short.shape
    out = np.full((n, width), "", dtype=object)
    position = np.arange(width)[None, :]
    lead = short & (position < inputs.earliest[:, None])
    cap = inputs.lots.maximum[:, None]
    capped = np.maximum.accumulate(np.isfinite(cap) & (planned >= cap - 1e-9), axis=1)
    agreed = np.maximum.accumulate(~np.isnan(inputs.fixed), axis=1)
    out[short & agreed] = "agreed supply"
    out[short & capped] = "lot max"
    held_by: dict[int, list[tuple[int, set[int]]]] = {}
    for (p, t), components in held.items():
        held_by.setdefault(p, []).append((t, components))
    for i, k in zip(*np.nonzero(short & ~lead), strict=True):
        names = {grid.skus[c] for t, components in held_by.get(int(i), []) if t <= k for c in components}
        if names:
            out[i, k] = "material: " + ", ".join(sorted(names))
    if capacity_plan is not None:
        centers = pd.Index(capacity["work_center"].astype(str))
        bound = np.maximum.accumulate(capacity_plan.binding, axis=1)  # pre-building could have used any earlier month
        uses = {s: centers.get_indexer(pd.Index(g["work_center"].astype(str))) for s, g in routings.groupby("sku")}
        for i, k in zip(*np.nonzero(short & ~lead & capacity_plan.in_lp[:, None]), strict=True):
            used = [w for w in uses.get(grid.skus[i], []) if w >= 0 and bound[w, k]]
            if used:
                out[i, k] = "capacity: " + ", ".join(str(centers[int(w)]) for w in used)
    out[lead] = "lead time"
    return grid.flat(out)


def family_reasons(sku_plan: pd.DataFrame, window: int) -> pd.Series:
    """Per family: why its SKUs stay short within the window, by kind (``capacity: WC01, WC02 (3 SKUs)``)."""
    within = sku_plan[(sku_plan["why_short"] != "") & (sku_plan["bucket"].cat.codes <= window)]
    out = {}
    for family, rows in within.groupby("family", observed=True):
        kinds: dict[str, tuple[set[str], set[str]]] = {}
        for sku, why in rows[["sku", "why_short"]].drop_duplicates().itertuples(index=False):
            kind, _, names = str(why).partition(": ")
            names_seen, skus = kinds.setdefault(kind, (set(), set()))
            names_seen.update(n for n in names.split(", ") if n)
            skus.add(str(sku))
        parts = []
        for kind, (names_seen, skus) in sorted(kinds.items(), key=lambda kv: -len(kv[1][1])):
            label = f"{kind}: {', '.join(sorted(names_seen))}" if names_seen else kind
            parts.append(f"{label} ({len(skus)} SKU{'s' if len(skus) > 1 else ''})")
        out[family] = "; ".join(parts)
    return pd.Series(out, dtype=object)

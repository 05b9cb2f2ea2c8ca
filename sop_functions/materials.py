"""Material check: can the components the plan consumes be there in time?

The planned production of each made item (:func:`.capacity.planned_production`, or a constrained plan's)
is exploded through the bills of materials: component need = parent production x ``qty_per``, level by
level (a made component's need becomes its own production and is exploded again; one vectorised step per
BOM level). Each component's projection is then its plan row (opening stock + receipts + production -
its own independent demand) minus the cumulated dependent need:

    projected = plan projected inventory - cumulative dependent need

A component is **short within its lead time** when that projection is negative in a bucket that starts
before ``as-of date + lead time``: a purchase placed today cannot arrive in time, so the plan must change
(or an expedite is needed). Shortfalls after the lead time are reported as ``order_needed``: there is
still time to order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import PAST_DUE, Horizon

MAX_LEVELS = 30
MATERIAL_COLUMNS = (
    "component",
    "bucket",
    "dependent_need",
    "projected_available",
    "short_units",
    "within_lead_time",
)


class BomError(ValueError):
    """The bills of materials cannot be exploded (a cycle)."""


def explode(production: pd.DataFrame, bom: pd.DataFrame) -> pd.DataFrame:
    """``component, bucket, qty``: dependent need of every BOM level for ``production`` (``sku, bucket, qty``).

    Raises :class:`BomError` when the BOM has a cycle (a component that contains itself).
    """
    links = bom[["parent_sku", "component_sku", "qty_per"]]
    level = production[["sku", "bucket", "qty"]].copy()
    level["bucket"] = level["bucket"].astype(str)
    needs = []
    for _ in range(MAX_LEVELS):
        step = level.merge(links, left_on="sku", right_on="parent_sku")
        if step.empty:
            break
        step = pd.DataFrame(
            {
                "sku": step["component_sku"].to_numpy(),
                "bucket": step["bucket"].to_numpy(),
                "qty": step["qty"].to_numpy(dtype=float) * step["qty_per"].to_numpy(dtype=float),
            }
        )
        level = step.groupby(["sku", "bucket"], sort=False)["qty"].sum().reset_index()
        needs.append(level)
    else:
        raise BomError(f"the bills of materials go deeper than {MAX_LEVELS} levels: is a component its own parent?")
    if not needs:
        return pd.DataFrame({"component": pd.Series(dtype=object), "bucket": pd.Series(dtype=object), "qty": []})
    total = pd.concat(needs).groupby(["sku", "bucket"], sort=True)["qty"].sum().reset_index()
    return total.rename(columns={"sku": "component"})


def bucket_starts(horizon: Horizon, as_of_date: pd.Timestamp) -> pd.Series:
    """First day of each plan bucket (``PAST_DUE``: the as-of date, since it is owed now)."""
    starts = [as_of_date] + [(horizon.start + k).start_time for k in range(horizon.periods)]
    starts[1] = as_of_date  # the as-of bucket has already begun
    return pd.Series(starts, index=horizon.labels)


def material_check(
    sku_plan: pd.DataFrame,
    production: pd.DataFrame,
    bom: pd.DataFrame,
    items: pd.DataFrame,
    horizon: Horizon,
    as_of_date: pd.Timestamp,
) -> pd.DataFrame:
    """:data:`MATERIAL_COLUMNS` plus ``lead_time_days`` per component x bucket that has any dependent need.

    ``sku_plan`` is the plan's SKU frame (components included), ``production`` the planned production of
    made items (``sku, bucket, qty``). Rows of components never needed are left out.
    """
    need = explode(production, bom)
    components = pd.Index(sorted(need["component"].unique()))
    labels = horizon.labels
    rows = sku_plan[sku_plan["sku"].isin(components)][["sku", "bucket", "projected_inventory"]]
    grid = pd.MultiIndex.from_product([components, labels], names=["component", "bucket"])
    keys = pd.MultiIndex.from_arrays([rows["sku"].astype(str), rows["bucket"].astype(str)])
    projected = pd.Series(rows["projected_inventory"].to_numpy(dtype=float), index=keys)
    base = projected.reindex(grid).fillna(0.0).to_numpy(dtype=float)
    dep = need.set_index(["component", "bucket"])["qty"].reindex(grid).fillna(0.0).to_numpy(dtype=float)
    cumulative = dep.reshape(len(components), len(labels)).cumsum(axis=1).ravel()
    available = np.round(base - cumulative, 9) + 0.0
    lead = items.set_index("sku")["lead_time_days"].reindex(components).fillna(0).to_numpy(dtype=int)
    starts = bucket_starts(horizon, as_of_date).to_numpy(dtype="datetime64[ns]")
    arrive = as_of_date.to_datetime64().astype("datetime64[ns]") + lead.astype("timedelta64[D]")
    within = starts[None, :] < arrive[:, None]
    out = grid.to_frame(index=False)
    out["dependent_need"] = dep
    out["projected_available"] = available
    out["short_units"] = np.maximum(0.0, -available) + 0.0
    out["within_lead_time"] = within.ravel()
    out["lead_time_days"] = np.repeat(lead, len(labels))
    out["bucket"] = pd.Categorical(out["bucket"], categories=labels, ordered=True)
    return out


def material_shortages(check: pd.DataFrame, bom: pd.DataFrame) -> pd.DataFrame:
    """One row per component short within its lead time: the first such bucket, the worst shortfall there
    and the parents that use it; ``order_needed`` is true for components short only after their lead time.

    Columns: ``component, first_short_bucket, short_units, lead_time_days, within_lead_time, parents``.
    """
    short = check[check["short_units"] > 0]
    if short.empty:
        return pd.DataFrame(
            columns=["component", "first_short_bucket", "short_units", "lead_time_days", "within_lead_time", "parents"]
        )
    first = short.sort_values(["component", "bucket"]).groupby("component", sort=True).first()
    worst_within = short[short["within_lead_time"]].groupby("component")["short_units"].max()
    worst_after = short.groupby("component")["short_units"].max()
    parents = bom.groupby("component_sku")["parent_sku"].apply(lambda s: ", ".join(sorted(map(str, s))))
    out = pd.DataFrame(
        {
            "component": first.index,
            "first_short_bucket": first["bucket"].astype(str).to_numpy(),
            "short_units": worst_within.reindex(first.index).fillna(worst_after).to_numpy(dtype=float),
            "lead_time_days": first["lead_time_days"].to_numpy(),
            "within_lead_time": first.index.isin(worst_within.index),
            "parents": parents.reindex(first.index).fillna("").to_numpy(),
        }
    )
    return out.sort_values(["within_lead_time", "short_units"], ascending=[False, False]).reset_index(drop=True)


__all__ = ["PAST_DUE", "BomError", "explode", "material_check", "material_shortages"]

"""The family view of the plan: SKU sums that never net one SKU's surplus against another's shortage.

Flows (demand, supply) are summed; shortage, value at risk, excess and cash tied up are sums of the SKUs'
own numbers; a family's projected inventory is its SKUs' *stock* (a SKU's backlog is its shortage, not
negative stock that another SKU could fill); cover is that stock over the family's demand ahead. The
capacity load % of a family is the highest of the work centers its SKUs are routed through.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import Horizon
from .gaps import LAYERS, family_sums, signed_gap
from .inventory import DECIMALS, cover_months, forward_demand

FLOW_SUMS = (
    "forecast",
    "orders",
    "independent_demand",
    "dependent_demand_firm",
    "dependent_demand_proposed",
    "demand_firm",
    "demand_proposed",
    "receipts",
    "production",
    "supply_firm",
    "planned_purchases",
    "planned_production",
    "supply_proposed",
    "safety_stock",
)
FAMILY_LAYER_MEASURES = (
    "projected_inventory",
    "shortage_units",
    "value_at_risk",
    "excess_units",
    "cash_tied_up",
    "gap_units",
    "gap_value",
    "skus_short",
    "skus_below_safety_stock",
    "cover_months",
)
FAMILY_PLAN_COLUMNS = (
    "family",
    "bucket",
    *FLOW_SUMS,
    *(f"{m}_{layer}" for layer in LAYERS for m in FAMILY_LAYER_MEASURES),
    "why_short",
    "load_pct_proposed",
)


def family_frame(sku_plan: pd.DataFrame, horizon: Horizon, load: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    """The family view: SKU sums, never netted; stock is the SKUs' stock (a backlog is a shortage, not
    negative stock of the family); cover from the family's stock and demand."""
    summed = [*FLOW_SUMS]  # as they are; the per-SKU flags and stock below are derived first
    summed += [f"{m}_{layer}" for layer in LAYERS for m in ("shortage_units", "value_at_risk", "excess_units")]
    summed += [f"cash_tied_up_{layer}" for layer in LAYERS]
    derived_from = [f"{m}_{layer}" for layer in LAYERS for m in ("projected_inventory", "below_safety_stock")]
    frame = sku_plan[["family", "bucket", *summed, *derived_from]].copy()  # not all ~40 columns of every SKU row
    for layer in LAYERS:
        frame[f"stock_{layer}"] = frame[f"projected_inventory_{layer}"].clip(lower=0.0)
        frame[f"skus_short_{layer}"] = (frame[f"shortage_units_{layer}"] > 0).astype("int64")
        frame[f"skus_below_safety_stock_{layer}"] = frame[f"below_safety_stock_{layer}"].astype("int64")
    derived = [f"{m}_{layer}" for layer in LAYERS for m in ("stock", "skus_short", "skus_below_safety_stock")]
    out = family_sums(frame, [*summed, *derived])
    width = len(horizon.labels)
    for layer in LAYERS:
        out = out.rename(columns={f"stock_{layer}": f"projected_inventory_{layer}"})
        out[f"gap_units_{layer}"] = signed_gap(
            out[f"shortage_units_{layer}"].to_numpy(), out[f"excess_units_{layer}"].to_numpy()
        )
        out[f"gap_value_{layer}"] = signed_gap(
            out[f"value_at_risk_{layer}"].to_numpy(), out[f"cash_tied_up_{layer}"].to_numpy()
        )
        stock = out[f"projected_inventory_{layer}"].to_numpy(dtype=float).reshape(-1, width)
        flow = out[f"demand_{layer}"].to_numpy(dtype=float).reshape(-1, width)
        out[f"cover_months_{layer}"] = cover_months(stock, forward_demand(flow), horizon.months_per_bucket).ravel()
        out[f"skus_short_{layer}"] = out[f"skus_short_{layer}"].astype("int64")
        out[f"skus_below_safety_stock_{layer}"] = out[f"skus_below_safety_stock_{layer}"].astype("int64")
    reasons = sku_plan[sku_plan["why_short"] != ""].groupby(["family", "bucket"], observed=True)["why_short"]
    joined = reasons.agg(lambda s: "; ".join(sorted(set(s))))
    keys = pd.MultiIndex.from_arrays([out["family"], out["bucket"]])
    out["why_short"] = joined.reindex(keys).fillna("").to_numpy()
    out["load_pct_proposed"] = family_load(out, sku_plan, load, routings)
    return out[list(FAMILY_PLAN_COLUMNS)]


def family_load(
    family_plan: pd.DataFrame, sku_plan: pd.DataFrame, load: pd.DataFrame, routings: pd.DataFrame
) -> np.ndarray:
    """Per family row: the highest proposed load % among the work centers its SKUs are routed through."""
    out = np.full(len(family_plan), np.nan)
    if load.empty or routings.empty:
        return out
    family_of = sku_plan.drop_duplicates("sku").set_index("sku")["family"]
    used = routings.assign(family=routings["sku"].map(family_of))[["family", "work_center"]].drop_duplicates()
    per = load[["work_center", "bucket", "load_pct_proposed"]].merge(used, on="work_center")
    peak = per.groupby(["family", "bucket"])["load_pct_proposed"].max()
    keys = pd.MultiIndex.from_arrays([family_plan["family"], family_plan["bucket"].astype(str)])
    return peak.reindex(keys).to_numpy(dtype=float)


def family_totals(family_plan: pd.DataFrame) -> pd.DataFrame:
    """Horizon totals per family: flows summed over every bucket, the worst value at risk, excess at the end."""
    by = family_plan.groupby("family", sort=True)
    out = by[["demand_proposed", "supply_firm", "supply_proposed"]].sum().round(DECIMALS)
    out["worst_value_at_risk_proposed"] = by["value_at_risk_proposed"].max()
    out["cash_tied_up_end"] = by["cash_tied_up_proposed"].last()  # rows are in bucket order
    return out.reset_index()

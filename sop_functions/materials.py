"""Material check: which components go short, when, and whether there is still time to order.

A view of the plan, not a second calculation: the components' rows of the SKU plan already carry their
dependent demand (the BOM explosion of firm and proposed production, offset by lead time) and their own
shortage in both layers. This module picks the components (items used in some BOM) that go short and says:

- when they go short first, in the firm layer ("if nothing changes") and after the proposal;
- **within lead time**: the first short bucket after the proposal lies before ``as-of + lead time``, so a
  purchase placed today cannot arrive in time: the plan must change (or an expedite is needed). Shortfalls
  only after the lead time are covered by the proposal's planned purchases (release them in time).
"""

from __future__ import annotations

import pandas as pd

from .lead_times import earliest_receipt
from .plan import Plan
from .snapshot import Snapshot

MATERIAL_COLUMNS = (
    "component",
    "family",
    "first_short_bucket_firm",
    "worst_shortage_units_firm",
    "first_short_bucket_proposed",
    "worst_shortage_units_proposed",
    "value_at_risk_window_proposed",
    "within_lead_time",
    "lead_time_days",
    "parents",
)


def material_shortages(plan: Plan, snapshot: Snapshot) -> pd.DataFrame:
    """:data:`MATERIAL_COLUMNS` per component short in either layer; within lead time first, then by value."""
    bom = snapshot.bom
    components = set(bom["component_sku"].astype(str))
    timing = plan.sku_timing[plan.sku_timing["sku"].isin(components)]
    short = timing[(timing["months_short_firm"] > 0) | (timing["months_short_proposed"] > 0)]
    if short.empty:
        return pd.DataFrame(columns=list(MATERIAL_COLUMNS))
    lead = snapshot.items.set_index("sku")["lead_time_days"]
    first = short["first_short_bucket_proposed"]
    labels = pd.Index(plan.horizon.labels)
    earliest = pd.Series(
        earliest_receipt(short["sku"].map(lead).fillna(0).to_numpy(dtype="int64"), plan.horizon, snapshot.as_of_date),
        index=short.index,
    )
    within = (first != "") & (labels.get_indexer(pd.Index(first)) < earliest)
    parents = bom.groupby("component_sku")["parent_sku"].apply(lambda s: ", ".join(sorted(map(str, s))))
    out = pd.DataFrame(
        {
            "component": short["sku"].to_numpy(),
            "family": short["family"].to_numpy(),
            "first_short_bucket_firm": short["first_short_bucket_firm"].to_numpy(),
            "worst_shortage_units_firm": short["worst_shortage_units_firm"].to_numpy(),
            "first_short_bucket_proposed": first.to_numpy(),
            "worst_shortage_units_proposed": short["worst_shortage_units_proposed"].to_numpy(),
            "value_at_risk_window_proposed": short["value_at_risk_window_proposed"].to_numpy(),
            "within_lead_time": within.to_numpy(),
            "lead_time_days": short["sku"].map(lead).fillna(0).astype("int64").to_numpy(),
            "parents": short["sku"].map(parents).fillna("").to_numpy(),
        }
    )
    return out.sort_values(
        ["within_lead_time", "value_at_risk_window_proposed", "component"], ascending=[False, False, True]
    ).reset_index(drop=True)

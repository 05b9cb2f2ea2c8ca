"""Property: a family shows a shortage whenever any of its SKUs is short, in every output.

Random families of SKUs (stock, orders, receipts, forecasts drawn by hypothesis); for every family, month
and layer, the SKU plan's shortages are compared with what each output says about the family: the Plan
table's frame (tblPlan), Summary (tblTopGaps and the family timing), `sop plan --json`, and the worksheet
functions (SOP_GAP, SOP_SHORTAGE, SOP_FIRST_SHORT through the add-in's own module).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin import udfs
from addin.plan_index import build_index
from addin.report import gaps_json
from sop_functions.buckets import Horizon
from sop_functions.plan import Plan, build_plan
from sop_functions.snapshot import Snapshot, build_snapshot
from workbooks.stamps import WorkbookStamps
from workbooks.tables import plan_tables

AS_OF = dt.datetime(2027, 3, 10, 9, tzinfo=dt.UTC)
HORIZON = Horizon.from_as_of(AS_OF.date(), periods=4)
MONTHS = HORIZON.buckets


@st.composite
def companies(draw: st.DrawFn) -> tuple[Snapshot, pd.DataFrame]:
    n_families = draw(st.integers(1, 3))
    skus, families = [], []
    for f in range(n_families):
        for s in range(draw(st.integers(1, 4))):
            skus.append(f"F{f}S{s}")
            families.append(f"F{f}")
    n = len(skus)
    qty = st.integers(0, 40)
    items = pd.DataFrame(
        {
            "sku": skus,
            "family": families,
            "unit_cost": draw(st.lists(st.integers(1, 50), min_size=n, max_size=n)),
            "unit_price": draw(st.lists(st.integers(1, 90), min_size=n, max_size=n)),
            "safety_stock": draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)),
            "lead_time_days": draw(st.lists(st.sampled_from([0, 20, 45, 90]), min_size=n, max_size=n)),
        }
    )
    stock = pd.DataFrame({"sku": skus, "warehouse": "WH", "qty": draw(st.lists(qty, min_size=n, max_size=n))})
    day = st.integers(-20, 110).map(lambda d: pd.Timestamp("2027-03-10") + pd.Timedelta(days=d))
    n_orders = draw(st.integers(0, 12))
    orders = pd.DataFrame(
        {
            "order_id": [f"SO{k}" for k in range(n_orders)],
            "sku": draw(st.lists(st.sampled_from(skus), min_size=n_orders, max_size=n_orders)),
            "qty": draw(st.lists(st.integers(1, 60), min_size=n_orders, max_size=n_orders)),
            "requested_date": draw(st.lists(day, min_size=n_orders, max_size=n_orders)),
        }
    )
    n_po = draw(st.integers(0, 5))
    receipts = pd.DataFrame(
        {
            "order_id": [f"PO{k}" for k in range(n_po)],
            "sku": draw(st.lists(st.sampled_from(skus), min_size=n_po, max_size=n_po)),
            "qty": draw(st.lists(st.integers(1, 60), min_size=n_po, max_size=n_po)),
            "expected_date": draw(st.lists(day, min_size=n_po, max_size=n_po)),
        }
    )
    snapshot = build_snapshot(
        "random", AS_OF, {"items": items, "stock": stock, "open_demand": orders, "receipts": receipts}
    )
    forecast = pd.DataFrame(
        [(f, m, float(draw(qty))) for f in sorted(set(families)) for m in MONTHS], columns=["family", "bucket", "qty"]
    )
    return snapshot, forecast


def _sku_short(plan: Plan, layer: str) -> pd.Series:
    """Per (family, bucket): whether any SKU is short, from the SKU rows alone."""
    sku = plan.sku_plan.assign(bucket=plan.sku_plan["bucket"].astype(str))
    return (sku[f"shortage_units_{layer}"] > 0).groupby([sku["family"], sku["bucket"]]).any()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies())
def test_a_family_is_short_whenever_any_of_its_skus_is(company: tuple[Snapshot, pd.DataFrame]) -> None:
    snapshot, forecast = company
    plan = build_plan(snapshot, forecast, HORIZON)
    tables = plan_tables(plan, WorkbookStamps(source="random", erp_as_of=AS_OF))
    shown = tables["tblPlan"].set_index(["family", "bucket"])
    report = {f["family"]: f for f in gaps_json(plan, 10)["families"]}
    index = build_index(plan, snapshot)
    udfs.CACHE = SimpleNamespace(get=lambda stamp: index)  # the UDFs' own code, on this plan
    top = set(plan.top_gaps["family"])
    for layer in ("firm", "proposed"):
        short = _sku_short(plan, layer)
        for (family, bucket), any_short in short.items():
            units = shown.loc[(family, bucket), f"shortage_units_{layer}"]
            assert (units > 0) == any_short, (layer, family, bucket)
            gap = udfs.SOP_GAP(family, bucket, "units", layer)
            assert (gap < 0) == any_short, (layer, family, bucket, gap)
            assert (udfs.SOP_GAP(family, bucket, "value", layer) < 0) == (
                any_short and shown.loc[(family, bucket), f"value_at_risk_{layer}"] > 0
            )
            assert udfs.SOP_SHORTAGE(family, bucket, "units", layer) == np.float64(units)
        for family, rows in short.groupby(level=0):
            ever = bool(rows.any())
            assert (report[family][layer]["first_short_bucket"] != "") == ever
            assert (udfs.SOP_FIRST_SHORT(family, layer) != "none") == ever
            if ever:
                first = rows[rows].index.get_level_values(1)
                order = {label: i for i, label in enumerate(HORIZON.labels)}
                assert report[family][layer]["first_short_bucket"] == min(first, key=order.__getitem__)
                assert family in top  # at most 3 families: every short one is listed

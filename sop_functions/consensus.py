"""Consensus demand: the statistical baseline, adjusted by the sales team's overrides, consumed by booked orders.

Per family and month::

    consensus = baseline                      no override
              = value                         override_kind "absolute" (units)
              = baseline x (1 + value / 100)  override_kind "percent"
    demand    = max(consensus, orders)        forecast consumption (sop_functions.demand.consume)

Every row keeps the numbers it was made from (``baseline, override_kind, override_value, consensus,
orders, demand``) and ``source`` names the one that set the demand: ``baseline``, ``override`` or
``orders``. ``PAST_DUE`` holds overdue orders only (the past has no forecast), as in the plan.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .buckets import PAST_DUE, Horizon, sku_grid
from .demand import consume, open_orders

OVERRIDE_KINDS = ("absolute", "percent")
CONSENSUS_COLUMNS = (
    "family",
    "bucket",
    "baseline",
    "override_kind",
    "override_value",
    "consensus",
    "orders",
    "demand",
    "source",
)


def validate_overrides(overrides: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """Overrides as clean ``family, bucket, kind, value`` rows; ValueError naming every bad one.

    ``kind`` is ``absolute`` (units, >= 0) or ``percent`` (change of the baseline, >= -100). A month
    outside the horizon, a missing family, a non-number and a family/month given twice are errors.
    """
    missing = [c for c in ("family", "bucket", "kind", "value") if c not in overrides.columns]
    if missing:
        raise ValueError(f"overrides lack column(s) {', '.join(missing)}; expected family, bucket, kind, value")
    problems: list[str] = []
    rows: list[tuple[str, str, str, float]] = []
    seen: set[tuple[str, str]] = set()
    for family, bucket, kind, value in overrides[["family", "bucket", "kind", "value"]].itertuples(index=False):
        name = "" if family is None or (isinstance(family, float) and math.isnan(family)) else str(family).strip()
        where = f"family {name or '?'}, month {bucket}: "
        try:
            month = horizon.parse(bucket)
        except ValueError as exc:
            problems.append(where + str(exc))
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        kind_text = str(kind).strip().lower()
        if not name:
            problems.append(where + "family name missing")
        elif kind_text not in OVERRIDE_KINDS:
            problems.append(where + f"override kind {kind!r} is not 'absolute' or 'percent'")
        elif not math.isfinite(number):
            problems.append(where + f"override value {value!r} is not a number")
        elif kind_text == "absolute" and number < 0:
            problems.append(where + f"absolute override {number:g} is negative")
        elif kind_text == "percent" and number < -100:
            problems.append(where + f"percent override {number:g} would make demand negative (below -100 %)")
        elif (name, month) in seen:
            problems.append(where + "overridden more than once")
        else:
            seen.add((name, month))
            rows.append((name, month, kind_text, number))
    if problems:
        raise ValueError("invalid overrides:\n" + "\n".join(f"  - {p}" for p in problems))
    return pd.DataFrame(rows, columns=["family", "bucket", "kind", "value"])


def family_orders(
    open_demand: pd.DataFrame, items: pd.DataFrame, horizon: Horizon, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Open sales orders per ``family, bucket`` (``PAST_DUE`` first), bucketed as the plan buckets them."""
    grid = sku_grid(items, horizon)
    grid["orders"] = open_orders(grid, open_demand, horizon, as_of)
    out = grid.groupby(["family", "bucket"], observed=False, sort=True)["orders"].sum().reset_index()
    out["bucket"] = out["bucket"].astype(str)
    return out


def consensus_demand(
    baseline: pd.DataFrame,
    overrides: pd.DataFrame,
    orders: pd.DataFrame,
    horizon: Horizon,
) -> pd.DataFrame:
    """:data:`CONSENSUS_COLUMNS` for every family x bucket (``PAST_DUE`` then the horizon's months).

    ``baseline`` is ``family, bucket, qty`` (e.g. :meth:`Baseline.qty`), ``overrides`` as in
    :func:`validate_overrides` (validated here), ``orders`` is ``family, bucket, orders`` (e.g.
    :func:`family_orders`). Families of any of the three appear; missing numbers are 0.
    """
    clean = validate_overrides(overrides, horizon)
    base = baseline.rename(columns={"qty": "baseline"})[["family", "bucket", "baseline"]]
    families = sorted(set(base["family"]) | set(clean["family"]) | set(orders["family"]))
    labels = horizon.labels
    out = pd.DataFrame(
        {"family": np.repeat(np.array(families, dtype=object), len(labels)), "bucket": np.tile(labels, len(families))}
    )
    out = out.merge(base, on=["family", "bucket"], how="left")
    out = out.merge(
        clean.rename(columns={"kind": "override_kind", "value": "override_value"}), on=["family", "bucket"], how="left"
    )
    out = out.merge(orders[["family", "bucket", "orders"]], on=["family", "bucket"], how="left")
    out["baseline"] = out["baseline"].fillna(0.0).astype("float64")
    out["orders"] = out["orders"].fillna(0.0).astype("float64")
    out.loc[out["bucket"] == PAST_DUE, "baseline"] = 0.0
    kind = out["override_kind"]
    value = out["override_value"].astype("float64")
    consensus = np.where(
        kind == "absolute",
        value,
        np.where(kind == "percent", out["baseline"] * (1.0 + value / 100.0), out["baseline"]),
    )
    out["consensus"] = np.asarray(consensus, dtype="float64")
    out["demand"] = consume(out["consensus"].to_numpy(), out["orders"].to_numpy())
    overridden = kind.notna().to_numpy()
    out["source"] = np.where(
        out["orders"].to_numpy() > out["consensus"].to_numpy(), "orders", np.where(overridden, "override", "baseline")
    )
    out["override_kind"] = kind.fillna("")
    out["bucket"] = out["bucket"].astype(horizon.dtype)
    return out[list(CONSENSUS_COLUMNS)].sort_values(["family", "bucket"], kind="stable").reset_index(drop=True)

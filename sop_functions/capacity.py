"""Rough-cut capacity: the hours each work center needs per bucket for each layer, against the hours it has.

- ``load_hours_firm`` = the ERP's production orders x the routing's ``hours_per_unit``;
  ``load_hours_proposed`` = the same plus the proposal's planned production (:mod:`.proposal`). A bucket's
  production loads that bucket; overdue work (``PAST_DUE``) loads the first month, because it must be made
  now. Items without a routing load no work center.
- ``available_hours`` = the work center's hours per month (from the ERP when it holds capacity, else from
  the workbook's Capacity sheet) x months per bucket; unknown (NaN) when neither has them.
- ``load_pct`` = load / available x 100: 100 = full, above = overloaded. A work center with no hours but
  some load is infinitely loaded (``+inf``); no hours and no load is 0; unknown hours give NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import PAST_DUE, Horizon

LOAD_COLUMNS = (
    "work_center",
    "name",
    "bucket",
    "load_hours_firm",
    "load_hours_proposed",
    "available_hours",
    "load_pct_firm",
    "load_pct_proposed",
)


class CapacityError(ValueError):
    """The capacity data cannot be used (missing or negative hours, unknown work centers)."""


def available_capacity(work_centers: pd.DataFrame, workbook_capacity: pd.DataFrame | None = None) -> pd.DataFrame:
    """``work_center, name, hours_per_month, source``: ERP hours where the ERP has them, else the workbook's.

    ``work_centers`` is the snapshot entity (``code, name, hours_per_month`` with NaN where the ERP holds
    none); ``workbook_capacity`` the user's Capacity table (``work_center, hours_per_month``). Work
    centers only in the workbook are added. Negative or duplicate workbook entries are a
    :class:`CapacityError`; work centers without hours keep NaN (checked where they carry load).
    """
    erp = pd.DataFrame(
        {
            "work_center": work_centers["code"].astype(str).to_numpy(),
            "name": work_centers["name"].fillna("").astype(str).to_numpy(),
            "hours_per_month": pd.to_numeric(work_centers["hours_per_month"], errors="coerce").to_numpy(dtype=float),
        }
    )
    erp["source"] = np.where(erp["hours_per_month"].notna(), "erp", "")
    if workbook_capacity is None or workbook_capacity.empty:
        return erp
    user = workbook_capacity[["work_center", "hours_per_month"]].copy()
    user["work_center"] = user["work_center"].astype(str).str.strip()
    user = user[user["work_center"] != ""]
    hours = pd.to_numeric(user["hours_per_month"], errors="coerce")
    bad = user[hours.isna() & user["hours_per_month"].notna() | (hours < 0)]
    if not bad.empty:
        raise CapacityError(
            "Capacity sheet: hours per month must be a number >= 0: "
            + ", ".join(f"{w} ({v!r})" for w, v in zip(bad["work_center"], bad["hours_per_month"], strict=True))
        )
    dupes = sorted(user.loc[user["work_center"].duplicated(), "work_center"].unique())
    if dupes:
        raise CapacityError(f"Capacity sheet lists work center(s) more than once: {', '.join(dupes)}")
    user_hours = pd.Series(hours.to_numpy(dtype=float), index=user["work_center"].to_numpy())
    out = erp.set_index("work_center")
    new = user_hours.index.difference(out.index)
    out = pd.concat([out, pd.DataFrame({"name": "", "hours_per_month": np.nan, "source": ""}, index=new)])
    fill = out["hours_per_month"].isna() & out.index.isin(user_hours.dropna().index)
    out.loc[fill, "hours_per_month"] = user_hours.reindex(out.index[fill]).to_numpy()
    out.loc[fill, "source"] = "workbook"
    return out.rename_axis("work_center").reset_index()[["work_center", "name", "hours_per_month", "source"]]


def capacity_known(capacity: pd.DataFrame, routings: pd.DataFrame) -> bool:
    """Whether every work center that routings load has hours per month (from the ERP or the workbook)."""
    check_routings(routings, capacity)
    used = sorted(set(routings["work_center"].astype(str)))
    hours = capacity.set_index(capacity["work_center"].astype(str))["hours_per_month"]
    return bool(hours.reindex(used).notna().all())


def check_routings(routings: pd.DataFrame, capacity: pd.DataFrame) -> None:
    """Routings must name known work centers with hours >= 0."""
    unknown = sorted(set(routings["work_center"].astype(str)) - set(capacity["work_center"].astype(str)))
    if unknown:
        raise CapacityError(f"routings name unknown work center(s): {', '.join(unknown)}")
    negative = capacity.loc[capacity["hours_per_month"].to_numpy(dtype=float) < 0, "work_center"].tolist()
    if negative:
        raise CapacityError(f"negative capacity for work center(s) {', '.join(map(str, negative))}")
    bad = routings[routings["hours_per_unit"] < 0]
    if not bad.empty:
        raise CapacityError(f"negative hours per unit in routings of {', '.join(bad['sku'].astype(str))}")


def load_hours(production: pd.DataFrame, routings: pd.DataFrame, centers: list[str], buckets: list[str]) -> np.ndarray:
    """``(work centers, buckets)`` hours of ``production`` (``sku, bucket, qty``; ``PAST_DUE`` in the first)."""
    labels = production["bucket"].astype(str).replace(PAST_DUE, buckets[0])
    b = pd.Index(buckets).get_indexer(pd.Index(labels))
    steps = production.assign(_b=b)[b >= 0].merge(routings[["sku", "work_center", "hours_per_unit"]], on="sku")
    w = pd.Index(centers).get_indexer(pd.Index(steps["work_center"].astype(str)))
    hours = steps["qty"].to_numpy(dtype=float) * steps["hours_per_unit"].to_numpy(dtype=float)
    keep = w >= 0
    flat = w[keep] * len(buckets) + steps["_b"].to_numpy()[keep]
    load = np.bincount(flat, weights=hours[keep], minlength=len(centers) * len(buckets))
    return np.round(load.reshape(len(centers), len(buckets)), 9)


def load_pct(load: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Load as a percentage of the available hours (NaN where the hours are unknown)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(available > 0, load / available * 100.0, np.where(load > 0, np.inf, 0.0))
    return np.where(np.isnan(available), np.nan, pct)


def layer_load(
    sku_plan: pd.DataFrame, routings: pd.DataFrame, capacity: pd.DataFrame, horizon: Horizon
) -> pd.DataFrame:
    """:data:`LOAD_COLUMNS` per work center and dated bucket, for the firm and the proposed layer."""
    check_routings(routings, capacity)
    centers = capacity["work_center"].astype(str).tolist()
    buckets = horizon.buckets
    keys = sku_plan[["sku", "bucket"]]
    firm = load_hours(keys.assign(qty=sku_plan["production"]), routings, centers, buckets)
    proposed = load_hours(
        keys.assign(qty=sku_plan["production"] + sku_plan["planned_production"]), routings, centers, buckets
    )
    hours = capacity["hours_per_month"].to_numpy(dtype=float) * horizon.months_per_bucket
    available = np.repeat(hours, len(buckets)).reshape(len(centers), len(buckets))
    return pd.DataFrame(
        {
            "work_center": np.repeat(centers, len(buckets)),
            "name": np.repeat(capacity["name"].astype(str).to_numpy(), len(buckets)),
            "bucket": np.tile(buckets, len(centers)),
            "load_hours_firm": firm.ravel(),
            "load_hours_proposed": proposed.ravel(),
            "available_hours": available.ravel(),
            "load_pct_firm": load_pct(firm, available).ravel(),
            "load_pct_proposed": load_pct(proposed, available).ravel(),
        },
        columns=list(LOAD_COLUMNS),
    )


def overloads(load: pd.DataFrame, layer: str = "proposed", threshold: float = 100.0) -> pd.DataFrame:
    """The work center x bucket rows loaded above ``threshold`` % in ``layer``, worst first."""
    column = f"load_pct_{layer}"
    over = load[load[column] > threshold]
    return over.sort_values([column, "work_center", "bucket"], ascending=[False, True, True]).reset_index(drop=True)


def capacity_peaks(load: pd.DataFrame, layer: str = "proposed") -> pd.DataFrame:
    """Per work center: its worst month in ``layer``: ``peak_load_hours, available_hours, peak_load_pct,
    overloaded_months`` (months above 100 %)."""
    column = f"load_pct_{layer}"
    ordered = load.sort_values(["work_center", column, "bucket"], ascending=[True, False, True], na_position="last")
    worst = ordered.drop_duplicates("work_center")
    over = load[load[column] > 100.0].groupby("work_center").size()
    return pd.DataFrame(
        {
            "work_center": worst["work_center"].to_numpy(),
            "peak_load_hours": worst[f"load_hours_{layer}"].to_numpy(),
            "available_hours": worst["available_hours"].to_numpy(),
            "peak_load_pct": worst[column].to_numpy(),
            "overloaded_months": worst["work_center"].map(over).fillna(0).astype("int64").to_numpy(),
        }
    )

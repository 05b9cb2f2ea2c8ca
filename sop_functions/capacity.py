"""Rough-cut capacity: the hours each work center needs per month for the plan, against the hours it has.

Which quantity drives the load: the **planned production** of made items (items with a routing), i.e.
the production orders already in the ERP **plus** the extra production the plan still needs so that the
item is not short (:func:`planned_production`, a chase plan: the extra in a month is the growth of the
item's backlog that month, so what is made just covers demand after stock and existing supply). Demand of
an item that stock or purchase receipts already cover loads no work center; overdue work (``PAST_DUE``)
loads the first month, because it must be made now. A constrained plan (:mod:`.supply_lp`) produces a
``sku, bucket, qty`` frame of its own that :func:`capacity_load` accepts too.

- ``load_hours`` = sum over SKUs of planned production x ``hours_per_unit`` of the SKU's routing line
  on that work center.
- ``available_hours`` = the work center's hours per month (from the ERP when it holds capacity, else from
  the workbook's Capacity sheet) x months per bucket.
- ``overload_pct`` = load / available - 1: positive = overloaded by that share, negative = spare. A work
  center with no hours but some load is infinitely overloaded (``+inf``); no hours and no load is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import PAST_DUE

CAPACITY_COLUMNS = ("work_center", "name", "bucket", "load_hours", "available_hours", "overload_pct")


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


def made_skus(routings: pd.DataFrame) -> pd.Index:
    """SKUs made in house: those with at least one routing line."""
    return pd.Index(routings["sku"].unique())


def planned_production(sku_plan: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    """``sku, family, bucket, production_orders, extra, qty`` of made items (see the module docstring).

    ``sku_plan`` is a plan's SKU frame (every bucket of each SKU, in order). ``extra`` is the backlog's
    growth: ``max(0, running max of shortage_units - its previous value)``, so production covers demand
    after stock and existing supply, once; ``PAST_DUE`` extra and orders move to the first month.
    """
    made = sku_plan[sku_plan["sku"].isin(made_skus(routings))].reset_index(drop=True)
    if made.empty:
        return pd.DataFrame(columns=["sku", "family", "bucket", "production_orders", "extra", "qty"])
    peak = made.groupby("sku", sort=False)["shortage_units"].cummax()
    extra = (peak - peak.groupby(made["sku"], sort=False).shift(1).fillna(0.0)).clip(lower=0.0)
    out = made[["sku", "family", "bucket"]].copy()
    out["production_orders"] = made["production"].to_numpy(dtype=float)
    out["extra"] = extra.to_numpy(dtype=float)
    return fold_past_due(out, ("production_orders", "extra")).assign(qty=lambda f: f["production_orders"] + f["extra"])


def fold_past_due(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Move the ``PAST_DUE`` quantities of ``columns`` onto each SKU's first dated bucket; drop ``PAST_DUE``."""
    labels = frame["bucket"].astype(str)
    past = frame[labels == PAST_DUE].set_index("sku")[list(columns)]
    out = frame[labels != PAST_DUE].copy()
    if not past.empty:
        first = ~out["sku"].duplicated()
        for column in columns:
            add = out.loc[first, "sku"].map(past[column]).fillna(0.0).to_numpy()
            out.loc[first, column] = out.loc[first, column].to_numpy(dtype=float) + add
    if isinstance(out["bucket"].dtype, pd.CategoricalDtype):
        out["bucket"] = out["bucket"].cat.remove_categories([PAST_DUE])
    return out.reset_index(drop=True)


def check_routings(routings: pd.DataFrame, capacity: pd.DataFrame) -> None:
    """Routings must name known work centers with hours >= 0."""
    unknown = sorted(set(routings["work_center"].astype(str)) - set(capacity["work_center"].astype(str)))
    if unknown:
        raise CapacityError(f"routings name unknown work center(s): {', '.join(unknown)}")
    negative = routings[routings["hours_per_unit"] < 0]
    if not negative.empty:
        raise CapacityError(f"negative hours per unit in routings of {', '.join(negative['sku'].astype(str))}")


def capacity_load(
    production: pd.DataFrame,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    buckets: list[str],
    months_per_bucket: float = 1.0,
    *,
    require_hours: bool = True,
) -> pd.DataFrame:
    """Load vs available hours per work center x bucket: :data:`CAPACITY_COLUMNS`, work centers in order.

    ``production`` has ``sku, bucket, qty`` (quantities in ``PAST_DUE`` count in the first bucket);
    ``capacity`` is :func:`available_capacity`'s frame; ``buckets`` the dated buckets to report. Raises
    :class:`CapacityError` when a loaded work center has no hours per month (neither ERP nor workbook),
    unless ``require_hours`` is false: then its available hours and overload are NaN (unknown), so a
    new workbook can still show the load and ask for the hours.
    """
    check_routings(routings, capacity)
    centers = capacity["work_center"].astype(str).tolist()
    n_b = len(buckets)
    labels = production["bucket"].astype(str).replace(PAST_DUE, buckets[0])
    b = pd.Index(buckets).get_indexer(pd.Index(labels))
    steps = production.assign(_b=b)[b >= 0].merge(routings[["sku", "work_center", "hours_per_unit"]], on="sku")
    w = pd.Index(centers).get_indexer(pd.Index(steps["work_center"].astype(str)))
    hours = steps["qty"].to_numpy(dtype=float) * steps["hours_per_unit"].to_numpy(dtype=float)
    load = np.bincount(w * n_b + steps["_b"].to_numpy(), weights=hours, minlength=len(centers) * n_b)
    per_month = capacity["hours_per_month"].to_numpy(dtype=float)
    loaded = load.reshape(len(centers), n_b).sum(axis=1) > 0
    missing = [c for c, m, used in zip(centers, np.isnan(per_month), loaded, strict=True) if m and used]
    if missing and require_hours:
        raise CapacityError(
            f"no hours per month for work center(s) {', '.join(missing)}: the ERP holds none, "
            "so enter them on the workbook's Capacity sheet"
        )
    unknown = np.isnan(per_month) & loaded  # only when hours are not required: shown as unknown (NaN)
    available = np.repeat(np.where(unknown, np.nan, np.nan_to_num(per_month, nan=0.0)) * months_per_bucket, n_b)
    load = np.round(load, 9)
    with np.errstate(divide="ignore", invalid="ignore"):
        overload = np.where(available > 0, load / available - 1.0, np.where(load > 0, np.inf, 0.0))
    overload = np.where(np.isnan(available), np.nan, overload)
    return pd.DataFrame(
        {
            "work_center": np.repeat(centers, n_b),
            "name": np.repeat(capacity["name"].astype(str).to_numpy(), n_b),
            "bucket": np.tile(buckets, len(centers)),
            "load_hours": load,
            "available_hours": available,
            "overload_pct": overload,
        }
    )


def overloads(load: pd.DataFrame, threshold: float = 0.0) -> pd.DataFrame:
    """The overloaded work center x bucket rows (``overload_pct > threshold``), worst first."""
    over = load[load["overload_pct"] > threshold]
    return over.sort_values(["overload_pct", "work_center", "bucket"], ascending=[False, True, True]).reset_index(
        drop=True
    )

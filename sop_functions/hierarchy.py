"""Family and SKU baselines that add up: bottom-up, top-down by history share, or WLS reconciliation.

S&OP decides per family, supply plans per SKU: the two must agree. Three ways to make them agree, judged by
their accuracy at the family level, because the family is where the plan is decided:

- ``bottom_up``: family = sum of its SKUs' forecasts (keeps SKU detail; noisy SKUs add their noise up);
- ``top_down``: the family forecast split over its SKUs by their share of the family's last 12 months;
- ``wls``: the reconciliation of Wickramasuriya, Athanasopoulos & Hyndman (2019, "MinT") for one
  aggregation level with a diagonal error covariance (each forecast's variance from its 80 % interval):
  the gap between the family forecast and its SKUs' sum is shared out in proportion to the variances, so
  the least certain numbers move most. (Nixtla's hierarchicalforecast does the same and more, but would
  bring scikit-learn, matplotlib and a QP solver into a planning tool for these few lines.)

``coherent_baseline`` uses ``wls`` unless told otherwise: on bench/forecast_hierarchy.py's families (M1 and
Tourism monthly, full length and 36 months) it has the lowest family WAPE or is within 0.12 points of it on all
four, while ``auto`` (the method with the lowest family WAPE on a 12-month backtest, one for the run) never
beat it (it picked wls three times, bottom_up on Tourism 36 months: 11.66 vs 11.30 %) and costs a second pair
of baselines; choosing per family lost to wls on three of four. ``method="auto"`` stays available.

Pure: frames in, frames out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .baseline import Baseline, BaselineConfig, baseline
from .buckets import Horizon

Method = Literal["bottom_up", "top_down", "wls"]
METHODS: tuple[Method, ...] = ("bottom_up", "top_down", "wls")
Z80 = 1.2816


@dataclass(frozen=True, eq=False)
class Coherent:
    """SKU and family forecasts (``<level>, bucket, qty``) that add up, and how they were made."""

    method: Method
    sku: pd.DataFrame
    family: pd.DataFrame
    backtest_wape: dict[str, float]
    """Family-level WAPE of each method on the backtest (empty when the method was given)."""


def reconcile(sku: Baseline, family: Baseline, items: pd.DataFrame, method: Method, history: pd.DataFrame) -> Coherent:
    """Make ``sku`` and ``family`` baselines add up with ``method``; ``history`` = ``sku, month, qty``."""
    fam_of = pd.Series(items["family"].astype(str).to_numpy(), index=items["sku"].astype(str).to_numpy())
    s = sku.forecast[["sku", "bucket", "baseline", "lo_80", "hi_80"]].copy()
    s["family"] = fam_of.reindex(s["sku"]).to_numpy()
    s = s[s["family"].notna()]
    f = family.forecast.set_index(["family", "bucket"])
    f_point = f["baseline"].reindex(pd.MultiIndex.from_frame(s[["family", "bucket"]])).fillna(0.0).to_numpy()
    if method == "bottom_up":
        qty = s["baseline"].to_numpy()
    elif method == "top_down":
        qty = f_point * _shares(s, history, fam_of)
    else:
        var_s = ((s["hi_80"] - s["lo_80"]) / (2 * Z80)).to_numpy() ** 2
        f_var = ((f["hi_80"] - f["lo_80"]) / (2 * Z80)) ** 2
        var_f = f_var.reindex(pd.MultiIndex.from_frame(s[["family", "bucket"]])).fillna(0.0).to_numpy()
        keys = [s["family"].to_numpy(), s["bucket"].to_numpy()]
        sum_s = s.groupby(["family", "bucket"])["baseline"].transform("sum").to_numpy()
        sum_var = pd.Series(var_s).groupby(keys).transform("sum").to_numpy()
        total = var_f + sum_var
        gap = f_point - sum_s
        weight = np.where(total > 0, var_s / np.where(total > 0, total, 1.0), 0.0)
        qty = np.maximum(s["baseline"].to_numpy() + weight * gap, 0.0)
    sku_out = pd.DataFrame({"sku": s["sku"].to_numpy(), "bucket": s["bucket"].to_numpy(), "qty": qty})
    fam_out = sku_out.assign(family=s["family"].to_numpy()).groupby(["family", "bucket"], as_index=False)[["qty"]].sum()
    return Coherent(method, sku_out, fam_out, {})


def _shares(s: pd.DataFrame, history: pd.DataFrame, fam_of: pd.Series) -> np.ndarray:
    """Each SKU's share of its family's shipments over the last 12 months (equal shares if none)."""
    recent = history[history["month"] >= sorted(history["month"].unique())[-min(12, history["month"].nunique())]]
    by_sku = recent.groupby("sku")["qty"].sum()
    qty = by_sku.reindex(s["sku"]).fillna(0.0).clip(lower=0.0).to_numpy()
    per_row = pd.Series(qty).groupby([s["family"].to_numpy(), s["bucket"].to_numpy()])
    total = per_row.transform("sum").to_numpy()
    count = per_row.transform("size").to_numpy()
    share: np.ndarray = np.where(total > 0, qty / np.where(total > 0, total, 1.0), 1.0 / count)
    return share


def monthly_history(shipments: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """``sku, month, qty`` of the complete months before the horizon."""
    month = pd.to_datetime(shipments["ship_date"]).dt.to_period("M")
    past = month < horizon.start
    frame = pd.DataFrame(
        {"sku": shipments["sku"].astype(str)[past], "month": month[past], "qty": shipments["qty"][past]}
    )
    return frame.groupby(["sku", "month"], as_index=False)[["qty"]].sum()


def coherent_baseline(
    shipments: pd.DataFrame,
    horizon: Horizon,
    items: pd.DataFrame,
    *,
    method: Method | Literal["auto"] = "wls",
    backtest_months: int = 12,
    config: BaselineConfig | None = None,
    engine: Any = None,
) -> Coherent:
    """SKU and family baselines that add up, by ``method`` (default ``wls``: the most accurate at family level on
    the development sets, see the module docstring). ``method="auto"`` picks the method with the lowest
    family-level WAPE on a backtest instead: the same baselines made ``backtest_months`` earlier, scored on the
    months since (it costs a second pair of baselines)."""
    now = baseline_pair(shipments, horizon, items, config, engine)
    history = monthly_history(shipments, horizon)
    if method != "auto":
        return reconcile(*now, items, method, history)
    errors = family_backtest(shipments, horizon, items, backtest_months=backtest_months, config=config, engine=engine)
    actual = errors["actual"].sum()
    scores: dict[str, float] = {m: float(errors[m].sum() / actual) if actual > 0 else float("nan") for m in METHODS}
    best = min(METHODS, key=lambda m: (scores[m] if np.isfinite(scores[m]) else np.inf, METHODS.index(m)))
    chosen = reconcile(*now, items, best, history)
    return Coherent(best, chosen.sku, chosen.family, scores)


def family_backtest(
    shipments: pd.DataFrame,
    horizon: Horizon,
    items: pd.DataFrame,
    *,
    backtest_months: int = 12,
    config: BaselineConfig | None = None,
    engine: Any = None,
) -> pd.DataFrame:
    """Per family: the summed absolute error of each method (columns ``bottom_up, top_down, wls``) and the
    shipments (``actual``) over the ``backtest_months`` before the horizon, from baselines made before them."""
    past_h = Horizon(start=horizon.start - backtest_months, periods=backtest_months)
    before = shipments[pd.to_datetime(shipments["ship_date"]).dt.to_period("M") < past_h.start]
    past = baseline_pair(before, past_h, items, config, engine)
    history = monthly_history(shipments, horizon)
    actual = history.assign(family=history["sku"].map(items.set_index("sku")["family"].astype(str)))
    actual["bucket"] = actual["month"].dt.strftime("%Y-%m")
    truth = actual[actual["bucket"].isin(past_h.buckets)].groupby(["family", "bucket"])["qty"].sum()
    columns: dict[str, pd.Series] = {}
    for m in METHODS:
        fam = reconcile(*past, items, m, monthly_history(before, past_h)).family.set_index(["family", "bucket"])["qty"]
        idx = fam.index.union(truth.index)
        err = (fam.reindex(idx).fillna(0.0) - truth.reindex(idx).fillna(0.0)).abs()
        columns[m] = err.groupby(level="family").sum()
    columns["actual"] = truth.groupby(level="family").sum()
    return pd.DataFrame(columns).fillna(0.0).rename_axis("family")


def baseline_pair(
    shipments: pd.DataFrame, horizon: Horizon, items: pd.DataFrame, config: BaselineConfig | None, engine: Any
) -> tuple[Baseline, Baseline]:
    """The SKU and the family baseline of the same shipments (the inputs of ``reconcile``)."""
    sku = baseline(shipments, horizon, items=items, level="sku", config=config, engine=engine)
    family = baseline(shipments, horizon, items=items, level="family", config=config, engine=engine)
    return sku, family

"""Forecast accuracy: published plan versions against what was shipped afterwards, by family and month.

Definitions (per group of rows, ``e = forecast - actual``; positive = over-forecast):

- **WAPE** = sum |e| / sum actual x 100 (%; volume-weighted, safe with zero months);
- **MAPE** = mean of |e| / actual x 100 over rows with actual > 0 (rows with actual 0 are left out and
  counted in ``mape_excluded``);
- **bias** = sum e / sum actual x 100 (%; > 0 over-forecast, < 0 under-forecast);
- **FVA** (forecast value added of the sales override) = WAPE of the baseline - WAPE of the consensus, in
  percentage points: > 0 the override made the forecast better, < 0 worse.

A group whose actuals sum to 0 has no WAPE or bias (NaN), never a division by zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

VERSION_COLUMNS = ("version", "family", "bucket", "baseline", "consensus")
FORECASTS = ("baseline", "consensus")


@dataclass(frozen=True, eq=False)
class Accuracy:
    detail: pd.DataFrame = field(repr=False)
    """``version, family, bucket, baseline, consensus, actual, error_baseline, error_consensus``."""
    by_family: pd.DataFrame = field(repr=False)
    by_month: pd.DataFrame = field(repr=False)
    by_version: pd.DataFrame = field(repr=False)
    total: pd.DataFrame = field(repr=False)
    """Each summary: its key column(s) then ``rows, actual, wape_baseline, wape_consensus, mape_baseline,
    mape_consensus, mape_excluded, bias_baseline, bias_consensus, fva``."""
    unmatched: int = 0
    """Version rows without an actual (month not over yet, or family never shipped): left out."""


def family_actuals(shipments: pd.DataFrame, items: pd.DataFrame, first_month: str, last_month: str) -> pd.DataFrame:
    """Shipped units per ``family, bucket`` for every family and every month ``first_month..last_month``
    (``YYYY-MM``, both complete months); months without shipments are 0. Returns are netted."""
    months = pd.period_range(pd.Period(first_month, "M"), pd.Period(last_month, "M"), freq="M")
    family = shipments["sku"].map(pd.Series(items["family"].to_numpy(), index=items["sku"].to_numpy()))
    month = pd.to_datetime(shipments["ship_date"]).dt.to_period("M")
    frame = pd.DataFrame({"family": family, "bucket": month, "qty": shipments["qty"].to_numpy(dtype="float64")})
    frame = frame[frame["bucket"].isin(months) & frame["family"].notna()]
    sums = frame.groupby(["family", "bucket"])["qty"].sum()
    families = sorted(items["family"].unique())
    index = pd.MultiIndex.from_product([families, months], names=["family", "bucket"])
    out = sums.reindex(index, fill_value=0.0).rename("actual").reset_index()
    out["bucket"] = out["bucket"].dt.strftime("%Y-%m")
    return out


def accuracy(versions: pd.DataFrame, actuals: pd.DataFrame) -> Accuracy:
    """Compare every published version (``version, family, bucket, baseline, consensus``) with the actuals
    (``family, bucket, actual``, e.g. :func:`family_actuals`)."""
    missing = [c for c in VERSION_COLUMNS if c not in versions.columns]
    if missing:
        raise ValueError(f"plan versions lack column(s) {', '.join(missing)}; expected {', '.join(VERSION_COLUMNS)}")
    data = versions[list(VERSION_COLUMNS)].astype({"bucket": str, "family": str})
    acts = actuals[["family", "bucket", "actual"]].astype({"bucket": str, "family": str})
    merged = data.merge(acts, on=["family", "bucket"], how="left")
    unmatched = int(merged["actual"].isna().sum())
    detail = merged[merged["actual"].notna()].reset_index(drop=True)
    for name in FORECASTS:
        detail[f"error_{name}"] = detail[name].astype("float64") - detail["actual"].astype("float64")
    return Accuracy(
        detail=detail,
        by_family=_summary(detail, ["family"]),
        by_month=_summary(detail, ["bucket"]),
        by_version=_summary(detail, ["version"]),
        total=_summary(detail.assign(all="all"), ["all"]),
        unmatched=unmatched,
    )


def _summary(detail: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = detail[keys].copy()
    frame["actual"] = detail["actual"]
    positive = detail["actual"] > 0
    for name in FORECASTS:
        error = detail[f"error_{name}"]
        frame[f"abs_{name}"] = error.abs()
        frame[f"err_{name}"] = error
        frame[f"ape_{name}"] = (error.abs() / detail["actual"]).where(positive)
    frame["excluded"] = (~positive).astype("int64")
    grouped = frame.groupby(keys, sort=True)
    sums = grouped.sum(numeric_only=True)
    out = pd.DataFrame(index=sums.index)
    out["rows"] = grouped.size()
    out["actual"] = sums["actual"]
    total = sums["actual"].where(sums["actual"] > 0)
    for name in FORECASTS:
        out[f"wape_{name}"] = 100 * sums[f"abs_{name}"] / total
    for name in FORECASTS:
        out[f"mape_{name}"] = 100 * grouped[f"ape_{name}"].mean()
    out["mape_excluded"] = sums["excluded"]
    for name in FORECASTS:
        out[f"bias_{name}"] = 100 * sums[f"err_{name}"] / total
    out["fva"] = out["wape_baseline"] - out["wape_consensus"]
    return out.reset_index().astype({c: "float64" for c in out.columns if c not in ("rows", "mape_excluded")})


def lag_months(version: pd.Series, bucket: pd.Series) -> pd.Series:
    """Months between a version labelled ``YYYY-MM`` (the month it was published) and the month it forecast."""
    v = pd.PeriodIndex(version.astype(str), freq="M")
    b = pd.PeriodIndex(bucket.astype(str), freq="M")
    return pd.Series(np.asarray((b - v).map(lambda d: d.n)), index=version.index, dtype="int64")

"""The S&OP meeting's numbers: what needs a decision, what changed, how good the forecast was, how fresh.

Pure frame functions over the plan (:mod:`.plan`), the plan store's frozen lines (``level, item, family,
bucket, demand, supply, production, projected_inventory, gap_value``) and shipments; the deck that shows
them is rendered outside the engine (``addin.pack``). Nothing here computes a planning number anew: a
number the workbook shows is taken as it is, so the deck and the workbook cannot disagree.

- **Decisions**: the families still short after the proposal (the workbook's top gaps), with the kind of
  authority the cause needs (:data:`DECISIONS`), and the work centers loaded above their hours.
- **Changes**: per family, this plan against the last published version over the months both plan.
- **Accuracy**: per family, the demand of the plan in force when each month began against what shipped,
  over the last 3 and 12 complete months (WAPE and bias as in :mod:`.accuracy`), and the forecast value
  added of the sales input (FVA = WAPE of the statistical baseline - WAPE of the sales forecast).
- **Freshness**: how old every input is, flagged beyond its limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .buckets import PAST_DUE

DECISIONS: tuple[tuple[str, str], ...] = (
    ("capacity", "Capacity or overtime"),
    ("lead time", "Demand shaping or expedite (inside lead time)"),
    ("material", "Expedite components or shape demand"),
    ("lot max", "Inventory build (raise the lot maximum)"),
    ("agreed supply", "Agree more supply or shape demand"),
)
"""Cause (the start of a *Why short* text) -> the authority the meeting must give."""
LATER = "Plan supply for it (short after the decision window)"

DECISION_COLUMNS = (
    "family",
    "first_short_bucket_proposed",
    "shortage_units_window_proposed",
    "value_at_risk_window_proposed",
    "why_short",
    "decision",
)


def decision_for(why: str) -> str:
    """The authority a family's *Why short* text asks for (several causes: each, in the text's order)."""
    found: list[str] = []
    for part in (p.strip() for p in why.split(";")):
        for cause, decision in DECISIONS:
            if part.startswith(cause) and decision not in found:
                found.append(decision)
    return "; ".join(found) or LATER


def decisions(top_gaps: pd.DataFrame) -> pd.DataFrame:
    """:data:`DECISION_COLUMNS`: the top gaps still short after the proposal, in the workbook's rank order."""
    short = top_gaps[top_gaps["first_short_bucket_proposed"].astype(str) != ""]
    out = short.loc[:, [c for c in DECISION_COLUMNS if c != "decision"]].copy()
    out["decision"] = [decision_for(str(w)) for w in out["why_short"]]
    return out.reset_index(drop=True)


def overloaded(peaks: pd.DataFrame, load: pd.DataFrame) -> pd.DataFrame:
    """Work centers with overloaded months after the proposal (tblCapacityPeak rows) and the first of them."""
    over = peaks[peaks["overloaded_months"] > 0].copy()
    hot = load[load["load_pct_proposed"] > 100.0]
    first = hot.groupby("work_center")["bucket"].min() if len(hot) else pd.Series(dtype=object)
    over["first_overloaded_bucket"] = over["work_center"].map(first).fillna("").astype(str)
    return over.sort_values(["peak_load_pct", "work_center"], ascending=[False, True]).reset_index(drop=True)


def family_order(finance_totals: pd.DataFrame, families: Sequence[str]) -> list[str]:
    """Families largest first: by revenue over the horizon (the Finance sheet), then by name."""
    revenue = finance_totals.set_index("family")["revenue"] if len(finance_totals) else pd.Series(dtype=float)
    return sorted(families, key=lambda f: (-float(revenue.get(f, 0.0)), f))


CHANGE_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("demand", "Independent demand", "sum"),
    ("supply", "Proposed supply", "sum"),
    ("projected_inventory", "Projected inventory (proposed)", "last"),
)
"""(plan-store line value, the workbook's label, how the months are summarised: their sum or the last one)."""
CHANGE_COLUMNS = ("family", "measure", "first_bucket", "last_bucket", "last_plan", "this_plan", "change")


def changes(this: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
    """Per family and measure (:data:`CHANGE_MEASURES`), this plan's family lines against the last version's,
    over the dated months both plan (``PAST_DUE`` and months only one of them has are left out)."""
    rows: list[tuple[object, ...]] = []
    for family, mine in this.groupby("family", sort=True):
        theirs = last[last["family"] == family]
        common = sorted(set(mine["bucket"]) & set(theirs["bucket"]) - {PAST_DUE})
        if not common:
            continue
        a = theirs.set_index("bucket").loc[common]
        b = mine.set_index("bucket").loc[common]
        for value, label, how in CHANGE_MEASURES:
            old = float(a[value].sum() if how == "sum" else a[value].iloc[-1])
            new = float(b[value].sum() if how == "sum" else b[value].iloc[-1])
            rows.append((family, label, common[0], common[-1], old, new, new - old))
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def largest_change(this: pd.DataFrame, last: pd.DataFrame, family: str, value: str = "demand") -> tuple[str, float]:
    """The month whose ``value`` changed most (by size) for ``family`` between the versions, and by how much."""
    a = last[(last["family"] == family) & (last["bucket"] != PAST_DUE)].set_index("bucket")[value]
    b = this[(this["family"] == family) & (this["bucket"] != PAST_DUE)].set_index("bucket")[value]
    diff = (b - a).dropna()
    if diff.empty or float(diff.abs().max()) == 0.0:
        return "", 0.0
    month = str(diff.abs().idxmax())
    return month, float(diff[month])


def in_force(history: pd.DataFrame, versions: pd.DataFrame) -> pd.DataFrame:
    """For every family and month, the row of the last version published *before that month began*.

    ``history``: ``version, family, bucket`` + values (every version's dated family lines); ``versions``:
    ``version, as_of`` (timezone-aware). A version counts for a month when its ERP as-of date lies before the
    month's first day: the plan the month was run on, not one made while it went by.
    """
    dated = history[history["bucket"] != PAST_DUE].merge(versions[["version", "as_of"]], on="version")
    start = pd.PeriodIndex(dated["bucket"].astype(str), freq="M").start_time
    as_of_day = pd.to_datetime([pd.Timestamp(t).date() for t in dated["as_of"]])
    before = dated[np.asarray(as_of_day < start)]
    latest = before.sort_values("version").groupby(["family", "bucket"], sort=True).tail(1)
    return latest.drop(columns=["as_of"]).sort_values(["family", "bucket"]).reset_index(drop=True)


ACCURACY_COLUMNS = ("family", "months", "actual", "wape", "bias", "fva_months", "fva")


def recent_accuracy(forecasts: pd.DataFrame, actuals: pd.DataFrame, last_month: str, months: int) -> pd.DataFrame:
    """:data:`ACCURACY_COLUMNS` per family (and ``All families``) over ``months`` complete months to ``last_month``.

    ``forecasts``: ``family, bucket, demand`` and optionally ``forecast, baseline`` (the plan in force, see
    :func:`in_force`); ``actuals``: ``family, bucket, actual``. With ``e = demand - actual``: WAPE = sum |e| /
    sum actual x 100, bias = sum e / sum actual x 100 (> 0: over-forecast). FVA = WAPE(baseline) -
    WAPE(forecast) in points over the months holding both (> 0: the sales input made the forecast better).
    Families or totals without actual sales have no WAPE (NaN), never a division by zero.
    """
    end = pd.Period(last_month, "M")
    window = {str(end - k) for k in range(months)}
    data = forecasts[forecasts["bucket"].astype(str).isin(window)].merge(actuals, on=["family", "bucket"])
    for column in ("forecast", "baseline"):
        if column not in data:
            data[column] = np.nan
    rows = [_accuracy_row(str(f), g) for f, g in data.groupby("family", sort=True)]
    rows.append(_accuracy_row("All families", data))
    return pd.DataFrame(rows, columns=list(ACCURACY_COLUMNS))


def _wape(error: pd.Series, actual: pd.Series) -> float:
    total = float(actual.sum())
    return float(100 * error.abs().sum() / total) if total > 0 else float("nan")


def _accuracy_row(family: str, g: pd.DataFrame) -> tuple[object, ...]:
    actual = g["actual"].astype(float)
    error = g["demand"].astype(float) - actual
    total = float(actual.sum())
    bias = float(100 * error.sum() / total) if total > 0 else float("nan")
    both = g.dropna(subset=["forecast", "baseline"])
    fva = float("nan")
    if len(both):
        a = both["actual"].astype(float)
        fva = _wape(both["baseline"].astype(float) - a, a) - _wape(both["forecast"].astype(float) - a, a)
    return (family, int(g["bucket"].nunique()), total, _wape(error, actual), bias, int(both["bucket"].nunique()), fva)


FRESHNESS_COLUMNS = ("input", "detail", "as_of", "age_days", "limit_days", "stale")


def freshness(inputs: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """:data:`FRESHNESS_COLUMNS`: each input's age in days at ``now`` and whether it is older than its limit.

    ``inputs``: ``input, detail, as_of`` (ISO text with offset; empty = never) and ``limit_days``. An input
    that never happened is stale; an as-of time without an offset is read in ``now``'s zone.
    """
    ages: list[float] = []
    for text in inputs["as_of"].astype(str):
        try:
            then = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            ages.append(float("nan"))
            continue
        if then.utcoffset() is None:
            then = then.replace(tzinfo=now.tzinfo)
        ages.append(round((now - then).total_seconds() / 86400, 2))
    out = inputs.loc[:, ["input", "detail", "as_of", "limit_days"]].copy()
    out.insert(3, "age_days", ages)
    age = out["age_days"].astype(float)
    out["stale"] = (age.isna() | (age > out["limit_days"].astype(float))).to_numpy()
    return out.loc[:, list(FRESHNESS_COLUMNS)].reset_index(drop=True)

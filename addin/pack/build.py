"""Gather a meeting pack's numbers from the plan, the workbook's inputs, the plan store and the audit trail.

Every frame is one the workbook already shows, or a view of it (:mod:`sop_functions.meeting`): the
S&OP grid (tblSOP) for the family charts, tblTopGaps for the decisions, tblScenarios, tblFinance and
tblFinanceTotals, tblCapacityPeak. So a number on a slide equals the workbook's under the same label.

Frames of a :class:`~.content.Pack` (``pack.frames``):

``freshness``       input, detail, as_of, age_days, limit_days, stale (:func:`sop_functions.meeting.freshness`)
``decisions``       the families still short after the proposal, the cause and the authority it needs
``overloads``       work centers above their hours (tblCapacityPeak rows + first overloaded month)
``grid``            tblSOP: per family the actual sales, last plan, demand, supply, inventory, cover rows
``timing``          per family: first short month and value at risk (next 6 months), both layers; why short
``changes``         per family: this plan vs the last published version (:func:`sop_functions.meeting.changes`)
``largest``         per family: the month whose independent demand changed most, and by how much
``scenarios``       tblScenarios (Base and every what-if per family)
``finance``         tblFinance; ``finance_totals``: tblFinanceTotals; ``last_finance*``: the last version's
``accuracy_3``, ``accuracy_12``  WAPE, bias and FVA per family over the last 3 and 12 complete months
``forecasts``       family, bucket, forecast, baseline: the sales input and the statistical baseline, kept
                    with a published version so later packs can measure FVA (only when freezing)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sop_functions import clock, meeting
from sop_functions.accuracy import family_actuals
from sop_functions.plan import Plan
from sop_functions.snapshot import Snapshot
from workbooks import layout
from workbooks.forecast_audit import AuditStore, audit_path
from workbooks.plan_store import PlanStore, PlanVersion, default_store_url, fingerprint, open_store, plan_lines
from workbooks.sop_grid import sop_grid
from workbooks.stamps import WorkbookStamps, stamp_text

from ..pipeline import WorkbookInputs, supply_planning
from .content import Pack
from .store import load_pack


@dataclass(frozen=True)
class Limits:
    """How old an input may be before the cover flags it (days)."""

    erp_days: float = 2.0
    forecast_days: float = 31.0


CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


def redact(text: str) -> str:
    """A source or store text without the user:password part of a URL: no secret goes into the deck."""
    return CREDENTIALS.sub(lambda m: m.group("scheme") + "***@", text)


def _iso(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def freshness_inputs(settings: dict[str, str], workbook: Path, limits: Limits) -> pd.DataFrame:
    """The inputs whose age the cover shows: ERP sync, plan computation, forecast collection, each rep's file."""
    rows: list[tuple[str, str, str, float]] = [
        ("ERP data", redact(settings.get("source", "")), settings.get("erp_as_of", ""), limits.erp_days),
        ("Plan computed", "last Refresh or Recompute", settings.get("refreshed_at", ""), limits.erp_days),
    ]
    path = audit_path(workbook)
    if not path.is_file():
        rows.append(("Forecast collection", "no collection recorded (sop collect)", "", limits.forecast_days))
    else:
        store = AuditStore(path)
        runs = store.runs()
        last = runs.iloc[-1] if len(runs) else None
        detail = f"{int(last['files'])} file(s), {int(last['applied'])} change(s)" if last is not None else "none"
        rows.append(
            ("Forecast collection", detail, "" if last is None else str(last["collected_at"]), limits.forecast_days)
        )
        changes = store.changes()
        if len(changes):
            latest = changes.sort_values("entered_at").groupby(["owner", "file"], sort=True).tail(1)
            for owner, file, entered in latest[["owner", "file", "entered_at"]].itertuples(index=False):
                rows.append((f"Forecast file: {Path(str(file)).name}", str(owner), str(entered), limits.forecast_days))
    return pd.DataFrame(rows, columns=["input", "detail", "as_of", "limit_days"])


def _family_lines(lines: pd.DataFrame) -> pd.DataFrame:
    return lines[lines["level"] == "family"].reset_index(drop=True)


@dataclass(frozen=True)
class History:
    """What the plan store says about this plan: its version (if published), the one before, every version."""

    this: PlanVersion | None
    previous: PlanVersion | None
    previous_lines: pd.DataFrame | None
    previous_pack: Pack | None
    accuracy_lines: pd.DataFrame
    """``version, family, bucket, demand, forecast, baseline`` of every version (forecast/baseline: frozen ones)."""
    versions: pd.DataFrame


def plan_history(store_url: str | None, name: str, lines: pd.DataFrame, plan: Plan, version: int | None) -> History:
    """Find this plan's version (``version``, or the latest when its lines are the current plan's) and the
    version before it, with every version's family demand for accuracy."""
    empty = pd.DataFrame(columns=["version", "family", "bucket", "demand", "forecast", "baseline"])
    none = History(None, None, None, None, empty, pd.DataFrame(columns=["version", "as_of"]))
    if store_url is None:
        return none
    if store_url.startswith("sqlite:///") and not Path(store_url.removeprefix("sqlite:///")).is_file():
        return none
    with open_store(store_url) as store:
        versions = store.versions(name)
        this = None
        if version is not None:
            this = store.version(name, version)
        elif versions and versions[-1].fingerprint == fingerprint(lines):
            this = versions[-1]
        earlier = [v for v in versions if this is None or v.version < this.version]
        previous = earlier[-1] if earlier else None
        previous_lines = _family_lines_of(store, name, previous)
        history = _accuracy_lines(store, store_url, name, [v for v in versions if this is None or v in earlier])
    frozen = load_pack(store_url, name, previous.version) if previous is not None else None
    table = pd.DataFrame({"version": [v.version for v in versions], "as_of": [v.as_of for v in versions]})
    return History(this, previous, previous_lines, frozen, history, table)


def _family_lines_of(store: PlanStore, name: str, version: PlanVersion | None) -> pd.DataFrame | None:
    return None if version is None else store.lines(name, version.version, "family")


def _accuracy_lines(store: PlanStore, url: str, name: str, versions: list[PlanVersion]) -> pd.DataFrame:
    frames = []
    for v in versions:
        lines = store.lines(name, v.version, "family")[["family", "bucket", "demand"]].assign(version=v.version)
        frozen = load_pack(url, name, v.version)
        kept = frozen.frame("forecasts") if frozen is not None else pd.DataFrame()
        if len(kept):
            lines = lines.merge(kept[["family", "bucket", "forecast", "baseline"]], on=["family", "bucket"], how="left")
        frames.append(lines)
    if not frames:
        return pd.DataFrame(columns=["version", "family", "bucket", "demand", "forecast", "baseline"])
    out = pd.concat(frames, ignore_index=True)
    for column in ("forecast", "baseline"):
        if column not in out:
            out[column] = float("nan")
    return out[["version", "family", "bucket", "demand", "forecast", "baseline"]]


def accuracy_frames(history: History, snapshot: Snapshot, plan: Plan) -> dict[str, pd.DataFrame]:
    """WAPE, bias and FVA per family over the last 3 and 12 complete months before the as-of month."""
    last = str(pd.Period(plan.horizon.buckets[0], "M") - 1)
    first = str(pd.Period(last, "M") - 11)
    actuals = family_actuals(snapshot.shipments, snapshot.items, first, last)
    forecasts = meeting.in_force(history.accuracy_lines, history.versions) if len(history.accuracy_lines) else None
    out = {}
    for months in (3, 12):
        if forecasts is None or forecasts.empty:
            out[f"accuracy_{months}"] = pd.DataFrame(columns=list(meeting.ACCURACY_COLUMNS))
        else:
            out[f"accuracy_{months}"] = meeting.recent_accuracy(forecasts, actuals, last, months)
    return out


def frozen_forecasts(plan: Plan, snapshot: Snapshot, inputs: WorkbookInputs) -> pd.DataFrame:
    """``family, bucket, forecast, baseline``: the sales input as planned and the statistical baseline of the
    same months, kept with a published version (the baseline is what FVA measures the sales input against)."""
    from sop_functions.baseline import baseline

    months = plan.horizon.buckets
    fp = plan.family_plan.assign(bucket=plan.family_plan["bucket"].astype(str))
    fp = fp[fp["bucket"].isin(months)]
    base = baseline(snapshot.shipments, plan.horizon, items=snapshot.items, level="family").qty()
    base = base.assign(bucket=base["bucket"].astype(str)).rename(columns={"qty": "baseline"})
    out = fp[["family", "bucket", "forecast"]].merge(base, on=["family", "bucket"], how="left")
    return out.fillna({"baseline": 0.0}).reset_index(drop=True)


def build_pack(
    plan: Plan,
    snapshot: Snapshot,
    inputs: WorkbookInputs,
    workbook: Path,
    settings: dict[str, str],
    *,
    store_url: str | None = None,
    plan_name: str | None = None,
    version: int | None = None,
    limits: Limits | None = None,
    now: dt.datetime | None = None,
    keep_forecasts: bool = False,
) -> Pack:
    """The meeting pack of ``plan`` (the workbook's current plan, or the one published as ``version``)."""
    limits = limits or Limits()
    now = now or clock.now(dt.UTC).replace(microsecond=0)
    name = plan_name or workbook.stem
    url = store_url or default_store_url(workbook)
    lines = plan_lines(plan.sku_plan, plan.family_plan)
    history = plan_history(url, name, lines, plan, version)
    last_plan = None
    if history.previous_lines is not None:
        lp = history.previous_lines
        last_plan = pd.DataFrame({"family": lp["item"], "bucket": lp["bucket"], "demand": lp["demand"]})
    tables = supply_planning(plan, snapshot, inputs)
    grid = sop_grid(plan, snapshot.shipments, snapshot.items, inputs.agreed, last_plan)
    finance_totals = tables[layout.FINANCE_TOTALS.name]
    families = sorted(plan.family_plan["family"].astype(str).unique())
    this_lines = _family_lines(lines)
    frames: dict[str, pd.DataFrame] = {
        "freshness": meeting.freshness(freshness_inputs(settings, workbook, limits), now),
        "decisions": meeting.decisions(plan.top_gaps),
        "overloads": meeting.overloaded(tables[layout.CAPACITY_PEAK.name], tables[layout.CAPACITY_LOAD.name]),
        "grid": grid,
        "timing": _timing(plan),
        "scenarios": tables[layout.SCENARIOS.name],
        "finance": tables[layout.FINANCE.name],
        "finance_totals": finance_totals,
        **accuracy_frames(history, snapshot, plan),
    }
    if history.previous_lines is not None:
        previous = history.previous_lines
        frames["changes"] = meeting.changes(this_lines, previous)
        frames["largest"] = pd.DataFrame(
            [(f, *meeting.largest_change(this_lines, previous, f)) for f in families],
            columns=["family", "bucket", "change"],
        )
    if history.previous_pack is not None:
        frames["last_finance"] = history.previous_pack.frame("finance")
        frames["last_finance_totals"] = history.previous_pack.frame("finance_totals")
    if keep_forecasts:
        frames["forecasts"] = frozen_forecasts(plan, snapshot, inputs)
    meta = _meta(plan, settings, name, history, now, limits)
    meta["families"] = meeting.family_order(finance_totals, families)
    return Pack(meta, frames)


def _timing(plan: Plan) -> pd.DataFrame:
    t = plan.family_timing
    columns = [
        "family",
        "first_short_bucket_firm",
        "value_at_risk_window_firm",
        "first_short_bucket_proposed",
        "value_at_risk_window_proposed",
    ]
    out = t.loc[:, columns].copy()
    reasons = plan.top_gaps.set_index("family")["why_short"] if len(plan.top_gaps) else pd.Series(dtype=object)
    out["why_short"] = out["family"].map(reasons).fillna("").astype(str)
    return out.reset_index(drop=True)


def _meta(
    plan: Plan, settings: dict[str, str], name: str, history: History, now: dt.datetime, limits: Limits
) -> dict[str, object]:
    stamp = stamp_text(WorkbookStamps(source=redact(plan.source), erp_as_of=plan.as_of))

    def version(v: PlanVersion | None) -> dict[str, object] | None:
        if v is None:
            return None
        return {
            "version": v.version,
            "published_at": _iso(v.published_at),
            "published_by": v.published_by,
            "as_of": _iso(v.as_of),
            "note": v.note,
        }

    return {
        "plan": name,
        "month": plan.horizon.buckets[0],
        "stamp": stamp,
        "erp_as_of": _iso(plan.as_of),
        "source": redact(plan.source),
        "refreshed_at": settings.get("refreshed_at", ""),
        "built_at": _iso(now),
        "horizon": plan.horizon.labels,
        "supply_method": plan.supply_method,
        "notes": list(plan.notes),
        "this_version": version(history.this),
        "previous_version": version(history.previous),
        "limits": {"erp_days": limits.erp_days, "forecast_days": limits.forecast_days},
    }

"""Publish the agreed plan: freeze it as a numbered version in the plan store, write its demand to the ERP.

``publish_plan`` is what ``sop publish`` and the ribbon's Publish button call. Order of work:

1. plan from the source and the workbook's Forecast grid (or a given :class:`Plan`);
2. store it as the next version (SQLite beside the workbook unless ``store_url`` says otherwise); the
   same plan content published twice returns the existing version (the ERP's as-of time is not part of
   the key: a live ERP's changes on every call);
3. if ERP settings are given, write the demand plan to Tryton's ``stock.forecast`` (idempotent per
   version; all or nothing) and record the outcome on the version (``erp_status``). A failed ERP write
   leaves the version stored with ``erp_status = failed: ...`` and raises, so publishing again retries
   the ERP part only.

Crash safety: the workbook is held (workbooks.xlsx.txn, without replacing it) for the whole publish, so
no refresh or collect changes the grid it plans from and two publishes of one workbook do not interleave.
The version's ``erp_status`` is ``writing`` while Tryton is written: a publish killed there is finished
by the next publish of the same plan (Tryton's side is resumable, connectors.tryton_publish), and a
newer version first adopts what an interrupted older one left, then supersedes it, so every version has
at most one set of forecasts in Tryton.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from connectors.tryton_publish import ForecastPublication, PublishError, Rpc, publish_forecast
from sop_functions.plan import Plan
from sop_functions.versions import actual_shipments, compare_lines, with_actuals
from workbooks.plan_store import PlanStore, PlanVersion, default_store_url, open_store, plan_lines
from workbooks.xlsx.safe_save import checkpoint
from workbooks.xlsx.txn import writing

if TYPE_CHECKING:
    from connectors.tryton.settings import TrytonSettings


@dataclass(frozen=True)
class PublishResult:
    version: PlanVersion
    created: bool
    """False when the store already held this exact plan as its latest version."""
    erp: ForecastPublication | None
    store_url: str

    @property
    def message(self) -> str:
        v = self.version
        text = f"plan {v.plan!r} version {v.version}" + (" published" if self.created else " was already published")
        text += f" (as of {v.as_of.isoformat(timespec='minutes')}, by {v.published_by})"
        if self.erp is not None:
            if self.erp.created:
                text += f"; Tryton: {len(self.erp.forecast_ids)} forecast(s), {self.erp.lines} line(s) written"
            else:
                text += "; Tryton already held this version (nothing written)"
        return text


def plan_name_for(workbook: str | os.PathLike[str] | None) -> str:
    return Path(workbook).stem if workbook is not None else "sop"


def demand_plan(plan: Plan) -> pd.DataFrame:
    """``sku, bucket, qty``: the agreed independent demand per SKU and dated month (what the ERP's forecast gets:
    its MRP derives the components' dependent demand itself)."""
    frame = plan.sku_plan[plan.sku_plan["bucket"].astype(str) != "PAST_DUE"]
    return pd.DataFrame(
        {
            "sku": frame["sku"].astype(str).to_numpy(),
            "bucket": frame["bucket"].astype(str).to_numpy(),
            "qty": frame["independent_demand"].to_numpy(dtype=float),
        }
    )


def publish_plan(
    workbook_path: str | os.PathLike[str] | None,
    *,
    source: str | None = None,
    plan: Plan | None = None,
    store_url: str | None = None,
    plan_name: str | None = None,
    who: str | None = None,
    note: str = "",
    erp: TrytonSettings | None = None,
    warehouse: str | None = None,
    confirm: bool = True,
    months: int = 18,
) -> PublishResult:
    """Freeze the agreed plan as a version and (optionally) write it to Tryton. See the module docstring."""
    with _held(workbook_path):
        return _publish(workbook_path, source, plan, store_url, plan_name, who, note, erp, warehouse, confirm, months)


@contextlib.contextmanager
def _held(workbook_path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Hold the workbook the plan is read from (never replaced: a read-only or open workbook is fine)."""
    if workbook_path is None or not Path(workbook_path).is_file():
        yield
        return
    with writing(workbook_path, "publish", replaces=False):
        yield


def _publish(
    workbook_path: str | os.PathLike[str] | None,
    source: str | None,
    plan: Plan | None,
    store_url: str | None,
    plan_name: str | None,
    who: str | None,
    note: str,
    erp: TrytonSettings | None,
    warehouse: str | None,
    confirm: bool,
    months: int,
) -> PublishResult:
    if plan is None:
        if source is None:
            raise ValueError("publish needs a source (the ERP export or profile) or a computed plan")
        from addin import pipeline

        book = Path(workbook_path) if workbook_path is not None else None
        plan = pipeline.plan_from_source(source, workbook=book, months=months)
    if store_url is None:
        if workbook_path is None:
            raise ValueError("publish needs a workbook (the store goes beside it) or a --store URL")
        store_url = default_store_url(workbook_path)
    name = plan_name or plan_name_for(workbook_path)
    with open_store(store_url) as store:
        version, created = store.publish(
            plan_lines(plan.sku_plan, plan.family_plan),
            plan=name,
            published_by=who or getpass.getuser(),
            source=plan.source,
            as_of=plan.as_of,
            note=note,
        )
        checkpoint("stored")
        publication = None
        if erp is not None:
            publication = _publish_to_tryton(store, version, plan, erp, warehouse, confirm)
            version = store.version(name, version.version)
    return PublishResult(version, created, publication, store_url)


def _publish_to_tryton(
    store: PlanStore, version: PlanVersion, plan: Plan, erp: TrytonSettings, warehouse: str | None, confirm: bool
) -> ForecastPublication:
    from connectors.tryton.connector import TrytonConnector

    transport = TrytonConnector(erp).transport()
    try:
        _finish_interrupted(store, version, transport, warehouse)
        store.set_erp_status(version.plan, version.version, WRITING)  # the journal of the ERP write
        checkpoint("erp-writing")
        publication = publish_forecast(
            transport,
            demand_plan(plan),
            plan=version.plan,
            version=version.version,
            warehouse=warehouse,
            confirm=confirm,
        )
    except PublishError as exc:
        store.set_erp_status(version.plan, version.version, f"failed: {exc}"[:2000])
        raise
    finally:
        transport.close()
    store.set_erp_status(version.plan, version.version, "published", publication.reference)
    return publication


WRITING = "writing"
"""``erp_status`` while Tryton is being written: left so by a killed publish, finished by the next one."""


def _finish_interrupted(store: PlanStore, current: PlanVersion, transport: Rpc, warehouse: str | None) -> None:
    """Adopt (note, leave unconfirmed) what killed publishes of OTHER versions left in Tryton, so the
    current version's supersede step cancels it instead of leaving unnoted forecasts behind."""
    for earlier in store.versions(current.plan):
        if earlier.version == current.version or earlier.erp_status != WRITING:
            continue
        lines = store.lines(earlier.plan, earlier.version, "sku")
        demand = pd.DataFrame(
            {"sku": lines["item"], "bucket": lines["bucket"].astype(str), "qty": lines["demand"].astype(float)}
        )
        demand = demand[demand["bucket"] != "PAST_DUE"]
        try:
            found = publish_forecast(
                transport, demand, plan=earlier.plan, version=earlier.version, warehouse=warehouse, confirm=False,
                create=False,
            )  # fmt: skip
        except PublishError as exc:  # never let an old version's leftovers block publishing the current one
            store.set_erp_status(earlier.plan, earlier.version, f"interrupted; cleanup failed: {exc}"[:2000])
            continue
        status = "interrupted; superseded" if found.forecast_ids else "interrupted; nothing reached Tryton"
        store.set_erp_status(earlier.plan, earlier.version, status, found.reference if found.forecast_ids else "")


def list_versions(store_url: str, plan_name: str) -> list[PlanVersion]:
    with open_store(store_url) as store:
        return store.versions(plan_name)


def compare_versions(
    store_url: str,
    plan_name: str,
    old: int,
    new: int,
    *,
    level: str = "family",
    shipments: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Version ``old`` vs ``new`` per item and month; with ``shipments`` and ``items`` also the actuals."""
    with open_store(store_url) as store:
        a, b = store.lines(plan_name, old, level), store.lines(plan_name, new, level)
    out = compare_lines(a, b, f"v{old}", f"v{new}")
    if shipments is not None and items is not None:
        out = with_actuals(out, actual_shipments(shipments, items, level))
    return out

"""``sop demo``: a demo manufacturer end to end, from a real ERP (embedded Tryton) or from export files.

The Tryton path is the product's real loop: pull over JSON-RPC, build the workbook, then refresh it in
place from the ERP again (incrementally) and show the top gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from connectors.demo_data import write_export_folder
from connectors.tryton import TrytonConnector
from connectors.tryton.server import demo_server
from sop_functions.buckets import Horizon
from sop_functions.plan import Plan
from sop_functions.snapshot import Snapshot

from . import pipeline


@dataclass(frozen=True)
class DemoResult:
    workbook: Path
    plan: Plan
    source: str
    pack: Path | None = None
    """The meeting deck of the demo plan (``SOP-pack.pptx`` beside the workbook)."""


PACK_NAME = "SOP-pack.pptx"


def demo_pack(book: Path, plan: Plan, snapshot: Snapshot) -> Path:
    """The demo's S&OP meeting deck, from the plan just written to ``book`` (no PDF: the demo stays quick)."""
    from .pack.build import build_pack
    from .pack.jobs import workbook_settings, write_pack

    inputs = pipeline.inputs_for(snapshot, book, plan.horizon)
    pack = build_pack(plan, snapshot, inputs, book, workbook_settings(book))
    return write_pack(pack, book.with_name(PACK_NAME), pdf=False).pptx


def last_year_forecast(snapshot: Snapshot, horizon: Horizon, growth: float = 1.2) -> pd.DataFrame:
    """The sales team's starting point in the demo: last year's shipments of the same month, plus growth.

    Months further out than the history repeat the last twelve months' seasonal pattern.
    """
    history = snapshot.shipments.merge(snapshot.items[["sku", "family"]], on="sku")
    month = history["ship_date"].dt.to_period("M")
    totals = history.groupby(["family", month])["qty"].sum().clip(lower=0)
    start = pd.Period(horizon.buckets[0], "M")
    rows = []
    for bucket in horizon.buckets:
        period = pd.Period(bucket, "M")
        same_month = start - 12 + (period - start).n % 12
        for family in sorted(snapshot.items["family"].unique()):
            rows.append((family, bucket, float(round(growth * totals.get((family, same_month), 0.0)))))
    return pd.DataFrame(rows, columns=["family", "bucket", "qty"])


def demo_from_files(out: Path, seed: int) -> DemoResult:
    """Generate the export folder, build the workbook, plan from the workbook's own Forecast grid."""
    export = write_export_folder(out / "erp-export", seed=seed)
    book = out / "SOP.xlsx"
    pipeline.new_workbook(book, source=str(export), force=True)
    snapshot = pipeline.load_snapshot(str(export))
    plan = pipeline.plan_from_source(snapshot, workbook=book)
    return DemoResult(book, plan, "csv", demo_pack(book, plan, snapshot))


def demo_from_tryton(out: Path, *, show_progress: bool | None = None) -> DemoResult:
    """Start the embedded Tryton (seeded once, cached), build the workbook from it, refresh it in place."""
    book = out / "SOP.xlsx"
    out.mkdir(parents=True, exist_ok=True)
    with demo_server(show_progress=show_progress, cache_dir=out / ".sop-cache") as server:
        connector = TrytonConnector(server.settings)
        snapshot = connector.snapshot(full=True)
        horizon = Horizon.from_as_of(snapshot.as_of_date)
        forecast = last_year_forecast(snapshot, horizon)
        pipeline.new_workbook(book, source=snapshot, forecast=forecast, force=True)
        latest = connector.snapshot()
        outcome = pipeline.refresh_workbook(book, source=latest)
    return DemoResult(book, outcome.plan, "tryton", demo_pack(book, outcome.plan, latest))

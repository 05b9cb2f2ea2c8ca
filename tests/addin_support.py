"""Shared set-up of the add-in tests: a demo ERP export and the S&OP workbook built from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from addin import pipeline
from connectors.demo_data import write_export_folder
from sop_functions.plan import Plan
from sop_functions.snapshot import Snapshot


@dataclass(frozen=True)
class Demo:
    export: Path
    workbook: Path
    snapshot: Snapshot
    plan: Plan


DEMO_AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
"""The demo ERP's clock in the add-in tests: set explicitly, so the months the tests name (horizon
2026-11 .. 2028-04) hold on any day they run."""


def make_demo(folder: Path) -> Demo:
    export = write_export_folder(folder / "erp-export", seed=7, as_of=DEMO_AS_OF)
    workbook = pipeline.new_workbook(folder / "SOP.xlsx", source=str(export), force=True)
    return Demo(export, workbook, pipeline.load_snapshot(str(export)), pipeline.plan_from_source(str(export)))

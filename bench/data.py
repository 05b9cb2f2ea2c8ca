"""Benchmark workloads from the demo generator: SME-L (5,000 SKUs) and SME-S (a tenth), fixed seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import pandas as pd

from connectors.demo_data import SMALL, SME_L, SME_S, DemoSize, generate
from sop_functions.buckets import Horizon
from sop_functions.plan import Plan, build_plan
from sop_functions.snapshot import Snapshot, build_snapshot

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
SIZES: dict[str, DemoSize] = {"SME-L": SME_L, "SME-S": SME_S, "SMALL": SMALL}


@dataclass(frozen=True)
class Workload:
    snapshot: Snapshot
    forecast: pd.DataFrame
    horizon: Horizon


@cache
def workload(size: str) -> Workload:
    frames = generate(SIZES[size], 7, AS_OF)
    forecast = frames.pop("forecast")
    snapshot = build_snapshot(f"bench:{size}", AS_OF, frames)
    return Workload(snapshot, forecast, Horizon.from_as_of(snapshot.as_of_date))


def plan_of(size: str) -> Plan:
    w = workload(size)
    return build_plan(w.snapshot, w.forecast, w.horizon)

"""Benchmark workloads from the demo generator: SME-L (5,000 SKUs), SME-S (a tenth) and SMALL, fixed seed."""

from __future__ import annotations

import datetime as dt

from connectors.demo_data import SMALL, SME_L, SME_S, DemoSize

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
SIZES: dict[str, DemoSize] = {"SME-L": SME_L, "SME-S": SME_S, "SMALL": SMALL}

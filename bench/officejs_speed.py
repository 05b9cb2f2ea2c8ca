"""Per-call Python cost of a SOP_ function on xlwings Server (``python -m bench.officejs_speed``).

Needs ``XLWINGS_LICENSE_KEY`` (xlwings Server is not BSD: ``noncommercial`` for noncommercial use). Runs
3,600 ``SOP_GAP`` evaluations through ``xlwings.server.custom_functions_call`` (what xlwings Server's
``/xlwings/custom-functions-call`` route runs: argument conversion on the ``officejs`` engine, the
``Caller`` injection that picks the calling workbook's plan, result conversion) against the bare lookup in
the same run. Excel's HTTP round trip per recalculation batch comes on top and is not measured here.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from bench.harness import best_time

CELLS = 3600
BOOK = "SOP.xlsx"


def _body(family: str, month: str, version: str) -> dict[str, Any]:
    return {
        "client": "Office.js",
        "func_name": "SOP_GAP",
        "args": [[[family]], [[month]], None, None],
        "caller_address": f"[{BOOK}]Report!B2",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
        "version": version,
        "runtime": "1.4",
    }


def main() -> dict[str, float]:
    if not os.environ.get("XLWINGS_LICENSE_KEY"):
        sys.exit("set XLWINGS_LICENSE_KEY (xlwings Server's licence; 'noncommercial' for noncommercial use)")
    import xlwings as xw
    import xlwings.server as xlserver

    from addin import officejs, pipeline, udfs
    from addin.plan_cache import PlanKey
    from connectors.demo_data import write_export_folder

    with tempfile.TemporaryDirectory() as tmp:
        export = write_export_folder(Path(tmp) / "erp", seed=7)
        index = udfs.CACHE.put(
            PlanKey(BOOK, "2026-11-25 14:00:00+01:00"),
            pipeline.plan_from_source(str(export)),
            pipeline.load_snapshot(str(export)),
        )
    module = types.ModuleType("custom_functions")
    module.__dict__.update(officejs.FUNCTIONS)
    caller = xlserver.caller_from_address(f"[{BOOK}]Report!B2")
    families, months = list(index.families), list(index.buckets[1:])
    cells = [(families[i % len(families)], months[i % len(months)]) for i in range(CELLS)]
    bodies = [_body(family, month, xw.__version__) for family, month in cells]

    async def served() -> list[Any]:
        call = xlserver.custom_functions_call
        return [await call(b, module, typehint_to_value={xlserver.Caller: caller}) for b in bodies]

    def bare() -> None:
        for family, month in cells:
            index.value("gap", family, month)

    results = asyncio.run(served())  # warm-up, and the answers must be numbers
    if not all(isinstance(r[0][0], float) for r in results):
        sys.exit(f"unexpected results: {results[:3]}")
    best_served = best_time(lambda: asyncio.run(served()))
    stub = sys.modules.pop("pyodide", None)  # xlwings as shipped: a failing pyodide import per argument
    try:
        best_plain = best_time(lambda: asyncio.run(served()), repeat=3)
    finally:
        sys.modules["pyodide"] = stub  # type: ignore[assignment]
    best_bare = best_time(bare)
    per_call, per_plain, per_bare = (t / CELLS * 1e6 for t in (best_served, best_plain, best_bare))
    print(f"SOP_GAP via xlwings Server's custom_functions_call: {per_call:8.1f} us per call ({CELLS} calls)")
    print(f"  the same without sopxl's pyodide fast-fail        : {per_plain:8.1f} us per call")
    print(f"bare lookup (PlanIndex.value)                     : {per_bare:8.1f} us per call")
    print(f"ratios: served / bare = {per_call / per_bare:.0f}x", end="; ")
    print(f"with fast-fail / xlwings as shipped = {per_call / per_plain:.2f}x")
    return {"served_us": per_call, "plain_us": per_plain, "bare_us": per_bare}


if __name__ == "__main__":
    main()

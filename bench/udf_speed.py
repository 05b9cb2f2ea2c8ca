"""Per-call Python cost of the SOP_ worksheet functions (``python -m bench.udf_speed``).

Measures, on the plan of a demo company with 200 families (:data:`UDF_SIZE`):

- 3,600 single-cell ``SOP_GAP`` calls the way xlwings' COM server runs them (real ``__xlfunc__`` options,
  every argument through ``xlwings.conversion.read``, the result through ``conversion.write``), with the
  add-in's hidden refresh-stamp argument, i.e. a 200 family x 18 month sheet of formulas;
- the bare lookup (:meth:`PlanIndex.value`) without xlwings' conversion;
- one spilling ``SOP_PLAN()`` (the whole family x month grid in one formula);
- a vectorised pandas lookup of the same 3,600 cells (``reindex`` on a MultiIndex), and a naive
  per-cell ``DataFrame.loc``.

Excel's own COM round trip per formula cell (not measured here: no Excel on Linux) comes on top of the
Python side and usually dominates; hence spilling forms. Goal: <= 20 us per SOP_GAP on the Python side.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from addin import pipeline
from addin.plan_cache import PlanCache, PlanKey, PlanStore
from bench.harness import best_time
from connectors.demo_data import DemoSize, write_export_folder

# The test harness (real xlwings decorators + conversion on Linux) is test code: loaded untyped.
harness: Any = importlib.import_module("tests.xlwings_udf_harness")
MISSING, call_udf, excel_engine, load_real_udfs = (
    harness.MISSING,
    harness.call_udf,
    harness.excel_engine,
    harness.load_real_udfs,
)

UDF_SIZE = DemoSize(1_000, 200, 2, 5, 36, 3_000, 800, 300, 100_000, 60)
"""200 families (+ Components): the 200 family x 18 month sheet of formulas the docstring describes."""
FAMILIES, MONTHS = 200, 18
CELLS = FAMILIES * MONTHS
GOAL_US = 20.0
STAMP = "C:\\plans\\SOP.xlsx|2026-11-25T14:00:00+01:00"


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        export = write_export_folder(Path(tmp) / "erp", UDF_SIZE, seed=7)
        snapshot = pipeline.load_snapshot(str(export))
        plan = pipeline.plan_from_source(str(export))
        udfs = load_real_udfs()
        udfs.CACHE = PlanCache(PlanStore(Path(tmp) / "plans"))
        index = udfs.CACHE.put(PlanKey.parse(STAMP), plan, snapshot)
    families = [f for f in index.families if f != "Components"][:FAMILIES]
    months = list(index.buckets[1:])[:MONTHS]
    if len(families) < FAMILIES or len(months) < MONTHS:
        raise RuntimeError(f"the demo plan has {len(families)} families x {len(months)} months, not 200 x 18")
    cells = [(family, month) for family in families for month in months]
    frame = plan.family_plan.assign(bucket=plan.family_plan["bucket"].astype(str)).set_index(["family", "bucket"])
    gap = frame["gap_units_proposed"]

    with excel_engine():

        def through_xlwings() -> None:
            for family, month in cells:
                call_udf(udfs.SOP_GAP, family, month, MISSING, MISSING, STAMP)

        def bare() -> None:
            value = index.value
            for family, month in cells:
                value("gap", family, month)

        def spill() -> None:
            call_udf(udfs.SOP_PLAN, MISSING, MISSING, STAMP)

        def vectorised() -> None:
            gap.reindex(pd.MultiIndex.from_tuples(cells)).to_numpy()

        def naive_loc() -> None:
            for family, month in cells[:360]:
                frame.loc[(family, month), "gap_units_proposed"]

        results = {
            "sop_gap_xlwings_us": best_time(through_xlwings) / CELLS * 1e6,
            "sop_gap_bare_us": best_time(bare) / CELLS * 1e6,
            "sop_plan_spill_ms": best_time(spill) * 1e3,
            "pandas_vectorised_us": best_time(vectorised) / CELLS * 1e6,
            "pandas_loc_us": best_time(naive_loc) / 360 * 1e6,
        }
    grid = len(families) * len(index.buckets)
    print(f"plan: {len(families)} families x {len(index.buckets)} buckets ({grid} cells); {CELLS} formula cells")
    print(f"SOP_GAP via xlwings conversion : {results['sop_gap_xlwings_us']:8.2f} us/call  (goal <= {GOAL_US:.0f} us)")
    print(f"SOP_GAP bare index lookup      : {results['sop_gap_bare_us']:8.2f} us/call")
    print(f"pandas vectorised reindex      : {results['pandas_vectorised_us']:8.2f} us/cell")
    print(f"pandas .loc per cell           : {results['pandas_loc_us']:8.2f} us/cell")
    print(f"SOP_PLAN() one spill           : {results['sop_plan_spill_ms']:8.2f} ms for the whole grid")
    print(
        f"ratios: xlwings-path / vectorised = {results['sop_gap_xlwings_us'] / results['pandas_vectorised_us']:.1f}x; "
        f"bare / vectorised = {results['sop_gap_bare_us'] / results['pandas_vectorised_us']:.1f}x; "
        f".loc / bare = {results['pandas_loc_us'] / results['sop_gap_bare_us']:.0f}x; "
        f"{CELLS} SOP_GAP / one SOP_PLAN = "
        f"{results['sop_gap_xlwings_us'] * CELLS / 1e3 / results['sop_plan_spill_ms']:.0f}x"
    )
    verdict = "OK" if results["sop_gap_xlwings_us"] <= GOAL_US else "OVER GOAL"
    print(f"verdict: {verdict}")
    return results


if __name__ == "__main__":
    main()

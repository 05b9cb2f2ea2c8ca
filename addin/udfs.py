"""The SOP_ worksheet functions (xlwings UDFs, BSD: no licence key): ``=SOP_GAP("Bikes","2027-03")``.

Single-cell forms look up one family (or SKU) and month; ``SOP_PLAN()`` and ``SOP_EXPLAIN()`` spill whole
tables, which is what to use for grids: every formula cell is one VBA -> COM -> Python round trip.

A bad argument never shows a traceback: the cell gets a short text such as
``#SOP! unknown family or SKU 'Bykes' (did you mean 'Bikes'?)``. Classic UDFs cannot return a real
``#N/A`` error (xlwings issue #776), so errors are texts starting with ``#SOP!`` or ``#N/A``; ``ISTEXT()``
tells them from numbers.

Freshness: every function has a hidden last argument filled by the add-in's VBA (``SopStamp()``) with the
calling workbook and its refresh stamp; results come from the plan of that stamp (see
:mod:`addin.plan_cache` for the full rule). Called without it (Office.js, Python), the latest plan of this
process is used.

Declared with :mod:`addin.udf_spec`: xlwings' classic ``xw.func/arg/ret`` (on Windows they record the
``__xlfunc__`` options that "Import Functions" turns into VBA wrappers and that ``call_udf`` feeds to
``xlwings.conversion``; on Linux they are no-ops), plus a portable record of the same options that
:mod:`addin.officejs` declares to xlwings Server.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from workbooks.stamps import WorkbookStamps, stamp_text

from . import udf_spec as udf
from .plan_cache import PlanCache
from .plan_index import LookupProblem

CATEGORY = "sopxl"
STAMP_VBA = "SopStamp()"
"""VBA expression (a function of ``Dispatcher.bas``) the UDF wrappers pass as the hidden ``stamp``."""
FAMILY_DOC = "Family name (e.g. Bikes) or a SKU code"
MONTH_DOC = "Month as text YYYY-MM (e.g. 2027-03), a date in that month, or PAST_DUE"
STAMP_DOC = "Filled in by the sopxl add-in: the workbook and its refresh stamp"
MAX_TEXT = 255
RAW = "raw"
"""xlwings' raw converter for scalar arguments and single-cell results: COM already delivers and accepts
plain scalars, and skipping the default 2-D conversion pipeline halves xlwings' per-call cost."""

CACHE = PlanCache()
"""The plans this process serves; replaced in tests."""


def _answer(compute: Callable[[], Any]) -> Any:
    """Run a lookup; any failure becomes the short text the cell shows, never a traceback."""
    try:
        value = compute()
    except LookupProblem as exc:
        return str(exc)[:MAX_TEXT]
    except Exception as exc:  # a UDF must never raise into Excel
        return f"#SOP! {type(exc).__name__}: {exc}"[:MAX_TEXT]
    if isinstance(value, float) and not math.isfinite(value):
        return "no demand ahead" if value > 0 else "#SOP! not a number"
    return value


def _measure(measure: str, family: Any, month: Any, stamp: Any) -> Any:
    return _answer(lambda: CACHE.get(stamp).value(measure, family, month))


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("unit", RAW, doc='"units" (default) or "value" (money: shortage at price, surplus at cost)')
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_GAP(family: Any, month: Any, unit: Any = "units", stamp: Any = "") -> Any:
    """Projected gap of a family or SKU at the end of a month: negative = short, positive = surplus."""
    if unit is None or unit == "units":
        return _measure("gap_units", family, month, stamp)
    if isinstance(unit, str) and unit.strip().lower() in ("value", "money"):
        return _measure("gap_value", family, month, stamp)
    return f"#SOP! unit must be 'units' or 'value', got {unit!r}"[:MAX_TEXT]


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_DEMAND(family: Any, month: Any, stamp: Any = "") -> Any:
    """Demand in a month: the forecast, or the open orders where they exceed it (units)."""
    return _measure("demand", family, month, stamp)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_SUPPLY(family: Any, month: Any, stamp: Any = "") -> Any:
    """Supply due in a month: open purchase receipts plus production orders (units)."""
    return _measure("supply", family, month, stamp)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_INVENTORY(family: Any, month: Any, stamp: Any = "") -> Any:
    """Projected inventory at the end of a month (units; negative = backlog)."""
    return _measure("projected_inventory", family, month, stamp)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_COVER(family: Any, month: Any, stamp: Any = "") -> Any:
    """Months of cover at the end of a month: projected inventory / average demand of the next 3 months."""
    return _measure("cover_months", family, month, stamp)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_FORECAST(family: Any, month: Any, stamp: Any = "") -> Any:
    """The sales forecast the plan used for a month (units; a SKU gets its history share)."""
    return _measure("forecast", family, month, stamp)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg(
    "measure", RAW, doc="demand, forecast, orders, supply, receipts, production, inventory, cover, gap, gap_value, ..."
)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_VALUE(family: Any, month: Any, measure: Any = "gap", stamp: Any = "") -> Any:
    """Any measure of the plan for a family or SKU and month (the Plan and Inventory table columns)."""
    return _answer(lambda: CACHE.get(stamp).checked_value(measure, family, month))


@udf.func(category=CATEGORY)
@udf.arg("work_center", RAW, doc="Work center code or name (e.g. WC01)")
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("measure", RAW, doc='"load" (default: hours needed / hours available), "hours" or "capacity"')
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_CAPACITY_LOAD(work_center: Any, month: Any, measure: Any = "load", stamp: Any = "") -> Any:
    """Capacity load of a work center in a month: demand x routing hours per unit / hours per month."""
    return _answer(lambda: CACHE.get(stamp).capacity_load(work_center, month, measure or "load"))


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_ACCURACY(family: Any, month: Any, stamp: Any = "") -> Any:
    """Forecast accuracy of a family and month (available once the plan carries accuracy)."""

    def accuracy() -> Any:
        index = CACHE.get(stamp)
        frame = getattr(index.plan, "accuracy", None)
        if frame is None:
            raise LookupProblem("#N/A forecast accuracy is not in this plan yet")
        name, label = index.key(family), index.bucket(month)
        rows = frame[(frame["family"] == name) & (frame["bucket"].astype(str) == label)]
        if rows.empty:
            raise LookupProblem(f"#N/A no accuracy for {name} in {label}")
        return float(rows.iloc[0]["accuracy"])

    return _answer(accuracy)


@udf.func(category=CATEGORY)
@udf.arg("part", RAW, doc='"text" (default: the as-of stamp sentence), "erp" (ERP as-of time) or "refreshed"')
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_ASOF(part: Any = "text", stamp: Any = "") -> Any:
    """How old the numbers are: the ERP as-of time of the data behind every SOP_ result."""

    def asof() -> Any:
        index = CACHE.get(stamp)
        kind = (part or "text").strip().lower() if isinstance(part, str | type(None)) else ""
        if kind == "text":
            return stamp_text(WorkbookStamps(source=index.plan.source, erp_as_of=index.plan.as_of))
        if kind == "erp":
            return index.plan.as_of.replace(tzinfo=None)  # Excel dates carry no time zone
        if kind == "refreshed":
            return index.stamp.rpartition("|")[2] or "not refreshed from a workbook"
        raise LookupProblem(f"#SOP! part must be 'text', 'erp' or 'refreshed', got {part!r}")

    return _answer(asof)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(index=False, header=True)
def SOP_EXPLAIN(family: Any, month: Any, stamp: Any = "") -> Any:
    """Spills the sales orders, purchase receipts and production orders behind a family's month."""

    def explain() -> Any:
        frame = CACHE.get(stamp).explain(family, month)
        if frame.empty:
            return "no orders, receipts or production orders in this month"
        return frame

    return _answer(explain)


@udf.func(category=CATEGORY)
@udf.arg("measure", RAW, doc="gap (default), gap_value, demand, supply, inventory, cover, forecast, ...")
@udf.arg("by", RAW, doc='"family" (default) or "sku"')
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(index=True, header=True)
def SOP_PLAN(measure: Any = "gap", by: Any = "family", stamp: Any = "") -> Any:
    """Spills a whole family (or SKU) x month grid of one measure: one formula instead of hundreds."""
    return _answer(lambda: CACHE.get(stamp).grid(measure or "gap", by or "family"))


UDFS = (
    SOP_GAP,
    SOP_DEMAND,
    SOP_SUPPLY,
    SOP_INVENTORY,
    SOP_COVER,
    SOP_FORECAST,
    SOP_VALUE,
    SOP_CAPACITY_LOAD,
    SOP_ACCURACY,
    SOP_ASOF,
    SOP_EXPLAIN,
    SOP_PLAN,
)

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
import re
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


LAYER_DOC = '"proposed" (default: with the planned supply) or "firm" (what the ERP already has)'


_STAMP_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}|\|")


def _layer_and_stamp(layer: Any, stamp: Any) -> tuple[Any, Any]:
    """A workbook written before the layer argument existed passes its pinned stamp where ``layer`` is now
    (``=SOPXL.SOP_GAP("Bikes","2027-03",,Settings!B7)``): a refresh stamp there is the stamp, not a layer."""
    if isinstance(layer, str) and _STAMP_LIKE.search(layer):
        return None, layer
    return layer, stamp


def _measure(measure: str, family: Any, month: Any, stamp: Any, layer: Any = None) -> Any:
    layer, stamp = _layer_and_stamp(layer, stamp)

    def lookup() -> Any:
        index = CACHE.get(stamp)
        name = measure if layer is None else index.layered(measure, layer)
        return index.value(name, family, month)

    return _answer(lookup)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("unit", RAW, doc='"units" (default) or "value" (money: value at risk, or cash tied up in excess)')
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_GAP(family: Any, month: Any, unit: Any = "units", layer: Any = None, stamp: Any = "") -> Any:
    """Gap of a family or SKU at the end of a month that never hides a shortage: minus the shortage if
    any of its SKUs is short (units, or value at risk), else plus the excess (units, or cash tied up)."""
    if unit is None or unit == "units":
        return _measure("gap", family, month, stamp, layer)
    if isinstance(unit, str) and unit.strip().lower() in ("value", "money"):
        return _measure("gap_value", family, month, stamp, layer)
    return f"#SOP! unit must be 'units' or 'value', got {unit!r}"[:MAX_TEXT]


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("unit", RAW, doc='"units" (default) or "value" (value at risk: shortage x unit price)')
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_SHORTAGE(family: Any, month: Any, unit: Any = "units", layer: Any = None, stamp: Any = "") -> Any:
    """Shortage at the end of a month: demand to date not covered, summed over the SKUs (never netted)."""
    if unit is None or unit == "units":
        return _measure("shortage", family, month, stamp, layer)
    if isinstance(unit, str) and unit.strip().lower() in ("value", "money"):
        return _measure("value_at_risk", family, month, stamp, layer)
    return f"#SOP! unit must be 'units' or 'value', got {unit!r}"[:MAX_TEXT]


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_FIRST_SHORT(family: Any, layer: Any = None, stamp: Any = "") -> Any:
    """The first month a family or SKU goes short (YYYY-MM, PAST_DUE if already), or "none"."""
    return _answer(lambda: CACHE.get(stamp).first_short(family, layer))


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_DEMAND(family: Any, month: Any, layer: Any = None, stamp: Any = "") -> Any:
    """Demand in a month: forecast consumed by open orders, plus parents' needs for a component (units)."""
    return _measure("demand", family, month, stamp, layer)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_SUPPLY(family: Any, month: Any, layer: Any = None, stamp: Any = "") -> Any:
    """Supply due in a month: receipts and production orders (firm), plus the planned supply (proposed)."""
    return _measure("supply", family, month, stamp, layer)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_INVENTORY(family: Any, month: Any, layer: Any = None, stamp: Any = "") -> Any:
    """Projected stock at the end of a month (units; a family: its SKUs' stock, shortages apart)."""
    return _measure("inventory", family, month, stamp, layer)


@udf.func(category=CATEGORY)
@udf.arg("family", RAW, doc=FAMILY_DOC)
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_COVER(family: Any, month: Any, layer: Any = None, stamp: Any = "") -> Any:
    """Months of cover at the end of a month: stock / average demand of the next 3 months."""
    return _measure("cover", family, month, stamp, layer)


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
@udf.arg("measure", RAW, doc="demand, supply, inventory, shortage, value_at_risk, excess, cover, gap, ... (+ _firm)")
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_VALUE(family: Any, month: Any, measure: Any = "gap", stamp: Any = "") -> Any:
    """Any measure of the plan for a family or SKU and month (the Plan and Inventory table columns)."""
    return _answer(lambda: CACHE.get(stamp).checked_value(measure, family, month))


@udf.func(category=CATEGORY)
@udf.arg("work_center", RAW, doc="Work center code or name (e.g. WC01)")
@udf.arg("month", RAW, doc=MONTH_DOC)
@udf.arg("measure", RAW, doc='"load" (default: hours needed / hours available), "hours" or "capacity"')
@udf.arg("layer", RAW, doc=LAYER_DOC)
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(RAW)
def SOP_CAPACITY_LOAD(work_center: Any, month: Any, measure: Any = "load", layer: Any = None, stamp: Any = "") -> Any:
    """Capacity load of a work center in a month: production (and planned production) x routing hours / hours."""
    return _answer(lambda: CACHE.get(stamp).capacity_load(work_center, month, measure or "load", layer))


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
@udf.arg("measure", RAW, doc="shortage (default), value_at_risk, demand, supply, inventory, cover, gap, ...")
@udf.arg("by", RAW, doc='"family" (default) or "sku"')
@udf.arg("stamp", RAW, vba=STAMP_VBA, doc=STAMP_DOC)
@udf.ret(index=True, header=True)
def SOP_PLAN(measure: Any = "shortage", by: Any = "family", stamp: Any = "") -> Any:
    """Spills a whole family (or SKU) x month grid of one measure: one formula instead of hundreds."""
    return _answer(lambda: CACHE.get(stamp).grid(measure or "shortage", by or "family"))


UDFS = (
    SOP_GAP,
    SOP_SHORTAGE,
    SOP_FIRST_SHORT,
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

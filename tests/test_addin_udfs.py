"""SOP_ worksheet functions, run through xlwings' real decorators and conversion pipeline (as call_udf does)."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pandas as pd
import pytest

from addin.plan_cache import PlanCache, PlanKey, PlanStore
from addin.plan_index import build_index

from .addin_support import Demo, make_demo
from .xlwings_udf_harness import MISSING, call_cell, call_udf, excel_engine, load_real_udfs, real_xlwings_udfs

pytestmark = pytest.mark.demo_clock

STAMP = "/plans/SOP.xlsx|2026-11-25T14:00:00+01:00"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("udf-demo"))


@pytest.fixture(scope="module")
def xl_udfs() -> ModuleType:
    return real_xlwings_udfs()


@pytest.fixture
def udfs(demo: Demo, xl_udfs: ModuleType, tmp_path: Path) -> Iterator[ModuleType]:
    module = load_real_udfs(xl_udfs)
    module.CACHE = PlanCache(PlanStore(tmp_path / "plans"), loader=_no_workbook)
    module.CACHE.put(PlanKey.parse(STAMP), demo.plan, demo.snapshot)
    with excel_engine():
        yield module


def _no_workbook(key: PlanKey) -> tuple[object, object]:
    raise AssertionError(f"unexpected load of {key}")


def _family(demo: Demo, family: str, bucket: str) -> pd.Series:
    rows = demo.plan.family_plan
    return rows[(rows["family"] == family) & (rows["bucket"].astype(str) == bucket)].iloc[0]


def test_every_udf_has_real_xlfunc_options(udfs: ModuleType) -> None:
    for func in udfs.UDFS:
        info = func.__xlfunc__
        assert info["category"] == "sopxl"
        assert info["ret"]["doc"] and "Python function" not in info["ret"]["doc"]
        stamp = info["argmap"]["stamp"]
        assert stamp["vba"] == "SopStamp()" and stamp["optional"] == ""
        assert all(arg["options"]["convert"] == "raw" for arg in info["args"])  # cheapest xlwings path
        if func.__name__ not in ("SOP_PLAN", "SOP_EXPLAIN"):
            assert info["ret"]["options"]["convert"] == "raw"
        for arg in info["args"]:
            assert not arg["doc"].startswith("Positional argument"), (func.__name__, arg["name"])


def test_single_cell_values_match_the_plan(udfs: ModuleType, demo: Demo) -> None:
    row = _family(demo, "Bikes", "2026-12")
    gap = call_cell(udfs.SOP_GAP, "Bikes", "2026-12", MISSING, MISSING, STAMP)
    assert gap == pytest.approx(row["gap_units_proposed"])
    short = row["shortage_units_proposed"]
    assert gap == pytest.approx(-short if short > 0 else row["excess_units_proposed"])  # never netted
    firm = call_cell(udfs.SOP_GAP, "Bikes", "2026-12", "value", "firm", STAMP)
    assert firm == pytest.approx(row["gap_value_firm"])
    assert call_cell(udfs.SOP_SHORTAGE, "Bikes", "2026-12", "value", "firm", STAMP) == pytest.approx(
        row["value_at_risk_firm"]
    )
    assert call_cell(udfs.SOP_DEMAND, "Bikes", "2026-12", MISSING, STAMP) == pytest.approx(row["demand_proposed"])
    assert call_cell(udfs.SOP_SUPPLY, "Bikes", "2026-12", "firm", STAMP) == pytest.approx(row["supply_firm"])
    assert call_cell(udfs.SOP_SUPPLY, "Bikes", "2026-12", MISSING, STAMP) == pytest.approx(row["supply_proposed"])
    inventory = call_cell(udfs.SOP_INVENTORY, "Bikes", "2026-12", MISSING, STAMP)
    assert inventory == pytest.approx(row["projected_inventory_proposed"])
    assert call_cell(udfs.SOP_COVER, "Bikes", "2026-12", "firm", STAMP) == pytest.approx(row["cover_months_firm"])
    assert call_cell(udfs.SOP_FORECAST, "Bikes", "2026-12", STAMP) == pytest.approx(row["forecast"])
    assert call_cell(udfs.SOP_VALUE, "Bikes", "2026-12", "orders", STAMP) == pytest.approx(row["orders"])
    assert call_cell(udfs.SOP_VALUE, "Bikes", "2026-12", "excess_firm", STAMP) == pytest.approx(
        row["excess_units_firm"]
    )
    first = demo.plan.family_timing.set_index("family").loc["Bikes", "first_short_bucket_firm"] or "none"
    assert call_cell(udfs.SOP_FIRST_SHORT, "Bikes", "firm", STAMP) == first
    assert call_cell(udfs.SOP_GAP, "Bikes", "2026-12", MISSING, "later", STAMP).startswith("#SOP! layer must be")


def test_sku_and_date_arguments(udfs: ModuleType, demo: Demo) -> None:
    sku = demo.plan.sku_plan.iloc[2]
    # a month header Excel made a date
    got = call_cell(udfs.SOP_DEMAND, sku["sku"], dt.datetime(2026, 12, 1), MISSING, STAMP)
    assert got == pytest.approx(sku["demand_proposed"]) and str(sku["bucket"]) == "2026-12"
    lower = call_cell(udfs.SOP_GAP, "bikes", "2026-12", MISSING, MISSING, STAMP)
    assert lower == call_cell(udfs.SOP_GAP, "Bikes", "2026-12")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("Bykes", "2026-12"), "#SOP! unknown family or SKU 'Bykes' (did you mean 'Bikes'?)"),
        (("Bikes", "2031-01"), "#SOP! month 2031-01 is outside the horizon 2026-11 .. 2028-04"),
        (("Bikes", 3.5), "#SOP! month must be text like 2028-04, got 3.5"),
        (("Bikes", "March"), "#SOP! month 'March' is not a month like 2028-04"),
        ((None, "2026-12"), "#SOP! family or SKU must be text, got an empty cell"),
        ((True, "2026-12"), "#SOP! family or SKU must be text, got TRUE"),
    ],
)
def test_bad_arguments_are_short_texts(udfs: ModuleType, args: tuple[object, ...], expected: str) -> None:
    assert call_cell(udfs.SOP_DEMAND, *args, MISSING, STAMP) == expected


def test_no_traceback_even_on_internal_errors(udfs: ModuleType) -> None:
    udfs.CACHE = SimpleNamespace(get=lambda stamp: 1 / 0)
    assert call_cell(udfs.SOP_GAP, "Bikes", "2026-12") == "#SOP! ZeroDivisionError: division by zero"


def test_plan_spills_the_family_by_month_grid(udfs: ModuleType, demo: Demo) -> None:
    out = call_udf(udfs.SOP_PLAN, MISSING, MISSING, STAMP)
    families = sorted(demo.plan.family_plan["family"].unique())
    assert out[0] == ["Family", *demo.plan.horizon.labels]
    assert [r[0] for r in out[1:]] == families
    assert out[1][2] == pytest.approx(_family(demo, families[0], "2026-11")["shortage_units_proposed"])
    skus = call_udf(udfs.SOP_PLAN, "demand", "sku", STAMP)
    assert skus[0][0] == "SKU" and len(skus) == 1 + demo.plan.sku_plan["sku"].nunique()


def test_explain_spills_the_records_behind_a_month(udfs: ModuleType, demo: Demo) -> None:
    out = call_udf(udfs.SOP_EXPLAIN, "Bikes", "2026-12", STAMP)
    assert out[0] == ["Kind", "Order", "SKU", "Date", "Qty", "Effect on inventory"]
    row = _family(demo, "Bikes", "2026-12")
    kinds = {r[0] for r in out[1:]}
    assert kinds <= {"Sales order", "Purchase receipt", "Production order"}
    supply = sum(r[4] for r in out[1:] if r[0] != "Sales order")
    assert supply == pytest.approx(row["supply_firm"])  # the ERP's own records: the firm layer
    assert all(isinstance(r[3], dt.datetime) for r in out[1:])
    assert call_cell(udfs.SOP_EXPLAIN, "Bikes", "2031-01", STAMP).startswith("#SOP! month 2031-01")


def test_capacity_load_accuracy_and_asof(udfs: ModuleType, demo: Demo) -> None:
    load = call_cell(udfs.SOP_CAPACITY_LOAD, "WC01", "2026-12", MISSING, MISSING, STAMP)
    hours = call_cell(udfs.SOP_CAPACITY_LOAD, "Bike assembly", "2026-12", "hours", MISSING, STAMP)
    firm = call_cell(udfs.SOP_CAPACITY_LOAD, "WC01", "2026-12", "hours", "firm", STAMP)
    capacity = call_cell(udfs.SOP_CAPACITY_LOAD, "WC01", "2026-12", "capacity", MISSING, STAMP)
    rows = demo.plan.sku_plan[demo.plan.sku_plan["bucket"].astype(str) == "2026-12"]
    routings = demo.snapshot.routings.merge(rows, on="sku")
    made = routings["production"] + routings["planned_production"]
    expected = float((made * routings["hours_per_unit"])[routings["work_center"] == "WC01"].sum())
    assert hours == pytest.approx(expected) and load == pytest.approx(hours / capacity)
    on_wc01 = routings["work_center"] == "WC01"
    assert firm == pytest.approx(float((routings["production"] * routings["hours_per_unit"])[on_wc01].sum()))
    unknown = call_cell(udfs.SOP_CAPACITY_LOAD, "WC99", "2026-12", MISSING, MISSING, STAMP)
    assert unknown.startswith("#SOP! unknown work center")
    assert call_cell(udfs.SOP_ACCURACY, "Bikes", "2026-12", STAMP) == "#N/A forecast accuracy is not in this plan yet"
    assert call_cell(udfs.SOP_ASOF, MISSING, STAMP).startswith("ERP data as of ")
    assert call_cell(udfs.SOP_ASOF, "erp", STAMP) == demo.plan.as_of.replace(tzinfo=None)
    assert call_cell(udfs.SOP_ASOF, "refreshed", STAMP) == STAMP.rpartition("|")[2]


def test_infinite_cover_is_a_word_not_a_number(udfs: ModuleType, demo: Demo) -> None:
    index = build_index(demo.plan, demo.snapshot)
    index.by_family["cover_months_proposed"].rows["Bikes"][3] = math.inf
    udfs.CACHE.get = lambda stamp: index
    assert call_cell(udfs.SOP_COVER, "Bikes", demo.plan.horizon.labels[3], MISSING, STAMP) == "no demand ahead"


def test_a_new_stamp_loads_its_own_plan_and_old_stamps_keep_theirs(
    udfs: ModuleType, demo: Demo, tmp_path: Path
) -> None:
    """The staleness rule: results always come from the plan of the stamp the workbook shows."""
    doubled = demo.plan.family_plan.copy()
    doubled["gap_units_proposed"] = doubled["gap_units_proposed"] * 2
    other = type(demo.plan)(**{**demo.plan.__dict__, "family_plan": doubled})
    new_stamp = "/plans/SOP.xlsx|2026-11-26T09:00:00+01:00"
    PlanStore(tmp_path / "plans").save(PlanKey.parse(new_stamp), other, demo.snapshot)  # the ribbon's process
    old = call_cell(udfs.SOP_GAP, "Bikes", "2026-12", MISSING, MISSING, STAMP)
    new = call_cell(udfs.SOP_GAP, "Bikes", "2026-12", MISSING, MISSING, new_stamp)
    assert old != 0 and new == pytest.approx(2 * old)
    assert call_cell(udfs.SOP_GAP, "Bikes", "2026-12", MISSING, MISSING, STAMP) == old
    assert udfs.CACHE.loads == 2
    unknown = call_cell(udfs.SOP_GAP, "Bikes", "2026-12", MISSING, MISSING, "/plans/SOP.xlsx|")
    assert unknown == "#SOP! this workbook has not been refreshed yet: click Refresh from ERP"


def test_a_missing_plan_is_recomputed_from_the_saved_workbook_or_refused(demo: Demo, tmp_path: Path) -> None:
    from workbooks import layout, reader

    settings = reader.read_table(demo.workbook, layout.SETTINGS)
    stamp = dict(zip(settings["setting"], settings["value"], strict=True))["refreshed_at"]
    cache = PlanCache(PlanStore(tmp_path / "empty"))
    index = cache.get(f"{demo.workbook}|{stamp}")
    assert index.value("gap", "Bikes", "2026-12") == pytest.approx(
        _family(demo, "Bikes", "2026-12")["gap_units_proposed"]
    )
    with pytest.raises(ValueError, match="holds another plan"):
        cache.get(f"{demo.workbook}|2020-01-01T00:00:00+00:00")


def test_a_bare_refresh_stamp_finds_the_plan_of_that_refresh(demo: Demo, tmp_path: Path) -> None:
    """xlwings Server formulas pass the Settings refreshed_at cell alone (no workbook path)."""
    cache = PlanCache(PlanStore(tmp_path / "plans"))
    held = cache.put(PlanKey("SOP.xlsx", "2026-11-26 09:00:00+01:00"), demo.plan, demo.snapshot)
    cache.put(PlanKey("Other.xlsx", "2026-11-26 10:00:00+01:00"), demo.plan, demo.snapshot)
    assert cache.get("2026-11-26 09:00:00+01:00") is held
    with pytest.raises(ValueError, match="plan not found"):
        cache.get("2026-11-20 09:00:00+01:00")


def test_the_newest_plan_of_a_workbook_survives_a_restart(demo: Demo, tmp_path: Path) -> None:
    """xlwings Server after a restart: formulas without a stamp find the workbook's newest stored plan."""
    before = PlanCache(PlanStore(tmp_path / "plans"))
    before.publish(PlanKey("SOP.xlsx", "2026-11-26 09:00:00+01:00"), demo.plan, demo.snapshot)
    newest = before.publish(PlanKey("SOP.xlsx", "2026-11-26 10:00:00+01:00"), demo.plan, demo.snapshot)
    before.publish(PlanKey("Other.xlsx", "2026-11-26 11:00:00+01:00"), demo.plan, demo.snapshot)
    restarted = PlanCache(PlanStore(tmp_path / "plans"))
    assert restarted.latest_stamp("SOP.xlsx") == newest.stamp == "SOP.xlsx|2026-11-26 10:00:00+01:00"
    assert restarted.latest_stamp("sop.xlsx") == newest.stamp  # Excel names are case-insensitive
    assert restarted.latest_stamp("Never.xlsx") == ""


def test_import_functions_generates_wrappers_with_the_hidden_stamp(udfs: ModuleType, xl_udfs: ModuleType) -> None:
    """What Excel's "Import Functions" writes into the add-in, from xlwings' own generator."""
    out = io.StringIO()
    xl_udfs.generate_vba_wrapper("addin.udfs", udfs, out, SimpleNamespace(Name="sopxl.xlam"))
    vba = out.getvalue()
    assert "Function SOP_GAP(family, month, Optional unit, Optional layer)" in vba
    assert (
        'SOP_GAP = XLPy.CallUDF("addin.udfs", "SOP_GAP", Array(family, month, unit, layer, SopStamp()), '
        "ActiveWorkbook" in vba
    )
    assert "Function SOP_PLAN(Optional measure, Optional by)" in vba

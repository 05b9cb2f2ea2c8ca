"""The family S&OP grid: what it shows, the agreed-supply rows the planner types, and a horizon that rolls."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from addin import pipeline
from connectors.demo_data import write_export_folder
from workbooks import layout
from workbooks.sop_grid import LABELS, AgreedSupplyError, monthly_actuals

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
AGREED = LABELS["agreed"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("grid")
    export = write_export_folder(folder / "export", seed=7, as_of=AS_OF)
    book = pipeline.new_workbook(folder / "SOP.xlsx", source=str(export), force=True)
    return book, export


def grid(book: Path) -> pd.DataFrame:
    with CalamineWorkbook.from_path(book, load_tables=True) as wb:
        table = wb.get_table_by_name(layout.SOP_GRID_TABLE)
        return pd.DataFrame(table.to_python(), columns=[str(c) for c in table.columns])


def copy(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    book, export = built
    target = tmp_path / "SOP.xlsx"
    shutil.copy(book, target)
    return target, export


def type_agreed(book: Path, family: str, month: str, value: object) -> str:
    """What a planner does in Excel: type into the family's agreed-supply row (a test copy, via openpyxl)."""
    wb = openpyxl.load_workbook(book)
    ws = wb[layout.SOP_GRID_SHEET]
    header = [c.value for c in ws[4]]
    row = next(r for r in ws.iter_rows(min_row=5) if r[0].value == family and r[1].value == AGREED)
    cell = row[header.index(month)]
    cell.value = value
    wb.save(book)
    return str(cell.coordinate)


def test_the_grid_shows_each_family_block_from_the_plan(built: tuple[Path, Path]) -> None:
    book, export = built
    shown = grid(book)
    plan = pipeline.plan_from_source(str(export), workbook=book)
    families = sorted(plan.family_plan["family"].unique())
    assert shown["Family"].drop_duplicates().tolist() == families
    assert shown[shown["Family"] == families[0]]["Measure"].tolist() == list(LABELS.values())
    assert list(shown.columns[3:6]) == ["2026-08 (actual)", "2026-09 (actual)", "2026-10 (actual)"]
    assert list(shown.columns[6:]) == plan.horizon.labels
    fp = plan.family_plan.assign(bucket=plan.family_plan["bucket"].astype(str)).set_index(["family", "bucket"])
    for label, field in (
        ("Demand (proposed)", "demand_proposed"),
        ("Proposed supply", "supply_proposed"),
        ("Shortage units (firm)", "shortage_units_firm"),
        ("Value at risk (proposed)", "value_at_risk_proposed"),
    ):
        row = shown[(shown["Family"] == "Bikes") & (shown["Measure"] == label)].iloc[0]
        for month in plan.horizon.labels:
            assert float(row[month] or 0.0) == pytest.approx(fp.loc[("Bikes", month), field]), (label, month)
    actual = shown[(shown["Family"] == "Bikes") & (shown["Measure"] == "Actual sales")].iloc[0]
    shipped = pipeline.load_snapshot(str(export)).shipments
    bikes = shipped[shipped["sku"].isin(plan.sku_plan.loc[plan.sku_plan["family"] == "Bikes", "sku"])]
    october = bikes[bikes["ship_date"].dt.strftime("%Y-%m") == "2026-10"]["qty"].sum()
    assert actual["2026-10 (actual)"] == pytest.approx(october)
    first = plan.family_timing.set_index("family").loc["Bikes", "first_short_bucket_firm"]
    note = shown[(shown["Family"] == "Bikes") & (shown["Measure"] == "Shortage units (firm)")]["Note"].iloc[0]
    assert note == (f"first short {first}" if first else "")


def test_typed_agreed_supply_is_kept_and_planned_with(built: tuple[Path, Path], tmp_path: Path) -> None:
    book, export = copy(built, tmp_path)
    type_agreed(book, "Helmets", "2027-01", 777)
    outcome = pipeline.refresh_workbook(book, source=str(export))
    shown = grid(book)
    agreed = shown[(shown["Family"] == "Helmets") & (shown["Measure"] == AGREED)].iloc[0]
    assert agreed["2027-01"] == 777 and all(agreed[m] in (None, "") for m in outcome.plan.horizon.buckets[1:2])
    sku = outcome.plan.sku_plan
    helmets = sku[(sku["family"] == "Helmets") & (sku["bucket"].astype(str) == "2027-01")]
    planned = helmets["planned_production"] + helmets["planned_purchases"]
    assert planned.sum() == pytest.approx(777) and set(helmets["planned_by"]) == {"agreed"}
    family = outcome.plan.family_plan.set_index(["family", outcome.plan.family_plan["bucket"].astype(str)])
    assert family.loc[("Helmets", "2027-01"), "supply_proposed"] == pytest.approx(
        family.loc[("Helmets", "2027-01"), "supply_firm"] + 777
    )
    again = pipeline.refresh_workbook(book, source=str(export))  # and the next refresh keeps it too
    assert grid(book).loc[lambda f: (f["Family"] == "Helmets") & (f["Measure"] == AGREED), "2027-01"].item() == 777
    assert again.plan.family_plan.equals(outcome.plan.family_plan)


@pytest.mark.parametrize(("value", "message"), [("lots", "'lots' is not a number"), (-5, "-5 must be a number >= 0")])
def test_bad_agreed_entries_are_named_and_nothing_is_written(
    built: tuple[Path, Path], tmp_path: Path, value: object, message: str
) -> None:
    book, export = copy(built, tmp_path)
    cell = type_agreed(book, "Bikes", "2027-02", value)
    before = book.read_bytes()
    with pytest.raises(AgreedSupplyError) as err:
        pipeline.refresh_workbook(book, source=str(export))
    assert f"S&OP!{cell} (family 'Bikes', month 2027-02): {message}" in str(err.value)
    assert book.read_bytes() == before


def test_a_formula_in_an_agreed_cell_is_refused_not_lost(built: tuple[Path, Path], tmp_path: Path) -> None:
    book, export = copy(built, tmp_path)
    cell = type_agreed(book, "Bikes", "2027-02", "=100*2")
    before = book.read_bytes()
    with pytest.raises(AgreedSupplyError, match=rf"S&OP!{cell} .*holds a formula; type a number"):
        pipeline.refresh_workbook(book, source=str(export))
    assert book.read_bytes() == before


def test_when_the_month_rolls_the_grid_moves_and_agreed_numbers_follow_their_month(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    book, _export = copy(built, tmp_path)
    type_agreed(book, "Locks", "2026-11", 11)  # this month: it passes with the roll
    type_agreed(book, "Locks", "2027-03", 33)
    later = write_export_folder(tmp_path / "december", seed=7, as_of=AS_OF + dt.timedelta(days=10))  # 5 Dec
    outcome = pipeline.refresh_workbook(book, source=str(later))
    shown = grid(book)
    assert list(shown.columns[3:6]) == ["2026-09 (actual)", "2026-10 (actual)", "2026-11 (actual)"]
    assert list(shown.columns[6:]) == outcome.plan.horizon.labels and shown.columns[7] == "2026-12"
    locks = shown[(shown["Family"] == "Locks") & (shown["Measure"] == AGREED)].iloc[0]
    assert locks["2027-03"] == 33 and "2026-11" not in shown.columns


def test_the_table_part_carries_the_new_month_names(built: tuple[Path, Path], tmp_path: Path) -> None:
    book, _export = copy(built, tmp_path)
    later = write_export_folder(tmp_path / "january", seed=7, as_of=AS_OF + dt.timedelta(days=40))
    pipeline.refresh_workbook(book, source=str(later))
    table = openpyxl.load_workbook(book)[layout.SOP_GRID_SHEET].tables[layout.SOP_GRID_TABLE]
    names = [c.name for c in table.tableColumns]
    assert names[:3] == ["Family", "Measure", "Note"] and names[6] == "PAST_DUE" and names[7] == "2027-01"
    header = [c.value for c in openpyxl.load_workbook(book)[layout.SOP_GRID_SHEET][4]][: len(names)]
    assert header == names  # header cells and the table's column names agree (Excel would "repair" otherwise)


def test_the_actuals_of_the_shown_months_are_those_of_the_whole_history(built: tuple[Path, Path]) -> None:
    """The grid groups only the months it shows (3 of 36): each one's sum is exactly what grouping the whole
    history gives for it, and a month outside the history is simply absent."""
    snapshot = pipeline.load_snapshot(str(built[1]))
    months = ["2026-08", "2026-09", "2026-10", "1999-01"]
    whole = monthly_actuals(snapshot.shipments, snapshot.items)
    shown = monthly_actuals(snapshot.shipments, snapshot.items, months)
    expected = whole[whole["month"].isin(months)].reset_index(drop=True)
    assert len(expected) == 3 * whole["family"].nunique()
    pd.testing.assert_frame_equal(shown, expected, check_exact=True)
    assert monthly_actuals(snapshot.shipments, snapshot.items, []).empty


def test_a_refresh_plans_from_the_history_it_keeps_exactly_as_from_the_whole_history(built: tuple[Path, Path]) -> None:
    """A refresh keeps only the shipments it reads (the SKU shares' year, the grid's actual months): the
    plan and every owned table are the same to the last bit as planned from the whole history."""
    from sop_functions.buckets import Horizon
    from workbooks.tables import plan_stamps

    book, export = built
    whole = pipeline.load_snapshot(str(export))
    horizon = Horizon.from_as_of(whole.as_of_date, periods=18)
    kept = whole.shipped_since(pipeline.history_start(whole, horizon))
    assert 0 < len(kept.shipments) < len(whole.shipments)
    inputs = pipeline.inputs_for(str(export), book, horizon)
    plans = [pipeline.plan_for(snapshot, horizon, inputs) for snapshot in (whole, kept)]
    stamps = plan_stamps(plans[0])
    tables = [
        pipeline.workbook_tables(plan, snapshot, inputs, stamps, planning=True, grid=True)
        for plan, snapshot in zip(plans, (whole, kept), strict=True)
    ]
    assert set(tables[0]) == set(tables[1]) and layout.SOP_GRID_TABLE in tables[0]
    for name, frame in tables[0].items():
        pd.testing.assert_frame_equal(tables[1][name], frame, check_exact=True)
    assert plans[1].notes == plans[0].notes

"""What a cell shows when there is stock but no demand ahead, and that solver noise never shows as a number:
months of cover read "no demand ahead" on every sheet (not a blank), and an excess of 1e-6 units from the LP
is no excess (not 2.41e-07 of cash tied up on Scenarios)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from sop_functions.gaps import EPSILON, shortage_and_excess
from tests.addin_support import Demo, make_demo
from workbooks import layout
from workbooks.reader import read_table

pytestmark = pytest.mark.demo_clock


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("cover"))


def raw(book: object, table: str) -> pd.DataFrame:
    with CalamineWorkbook.from_path(str(book), load_tables=True) as wb:
        t = wb.get_table_by_name(table)
        return pd.DataFrame(t.to_python(), columns=[str(c) for c in t.columns])


def test_cover_with_no_demand_ahead_reads_no_demand_ahead_on_every_sheet(demo: Demo) -> None:
    plan = demo.plan.family_plan.reset_index(drop=True)
    infinite = np.isposinf(plan["cover_months_proposed"].to_numpy(dtype=float))
    assert infinite.any() and not infinite.all()  # the demo has such family-months, and others
    shown = raw(demo.workbook, layout.PLAN.name)["Months of cover (proposed)"]
    assert (shown[infinite] == layout.NO_DEMAND).all()
    assert not shown[~infinite].isin([layout.NO_DEMAND, ""]).any()  # a finite cover is a number
    back = read_table(demo.workbook, layout.PLAN)["cover_months_proposed"]  # and it reads back as +inf
    assert np.isposinf(back[infinite]).all() and np.isfinite(back[~infinite]).all()
    sku = raw(demo.workbook, layout.INVENTORY.name)["Months of cover (proposed)"]
    assert (sku == layout.NO_DEMAND).sum() == np.isposinf(demo.plan.sku_plan["cover_months_proposed"]).sum()
    grid = raw(demo.workbook, layout.SOP_GRID_TABLE)
    cover = grid[grid["Measure"] == "Months of cover (proposed)"]
    assert (cover == layout.NO_DEMAND).to_numpy().sum() == infinite.sum()


def test_lp_noise_is_no_excess_and_money_differences_are_to_the_cent(demo: Demo) -> None:
    units = ("Excess units (proposed)", "Shortage units (proposed)")
    money = ("Cash tied up (proposed)", "Value at risk (proposed)", "Cash tied up at end (proposed)")
    checked = 0
    for table in (layout.PLAN, layout.INVENTORY, layout.FINANCE, layout.FINANCE_TOTALS, layout.SCENARIOS):
        frame = raw(demo.workbook, table.name)
        for column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce").abs()
            if column in units:
                assert not ((values > 0) & (values < EPSILON)).any(), (table.name, column)
                checked += 1
            if column in money or column == "Value at risk vs base":
                assert not ((values > 0) & (values < 0.005)).any(), (table.name, column)
                checked += 1
    assert checked >= 6
    versus = pd.to_numeric(raw(demo.workbook, layout.SCENARIOS.name)["Value at risk vs base"])
    assert (versus == versus.round(2)).all()


def test_a_surplus_below_a_ten_thousandth_of_a_unit_is_noise_a_real_one_is_not() -> None:
    projected = np.array([[69.0000014, 69.001, 68.9999986, -0.00000099]])
    gaps = shortage_and_excess(projected, np.array([69.0]), np.array([10.0]), np.array([4.0]))
    assert gaps["excess_units"].tolist() == [[0.0, pytest.approx(0.001), 0.0, 0.0]]
    assert gaps["cash_tied_up"][0, 1] == pytest.approx(0.004) and gaps["cash_tied_up"][0, 0] == 0
    assert gaps["shortage_units"].tolist() == [[0.0, 0.0, 0.0, 0.0]]

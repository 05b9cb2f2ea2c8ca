"""Ribbon actions on a real xlwings Book backed by the in-memory engine (xlwings.base_classes)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import xlwings as xw

from addin import ribbon
from addin.live_writer import LiveTableWriter, cell_value
from addin.plan_cache import PlanCache, PlanKey, PlanStore
from workbooks import layout
from workbooks.xlsx.errors import LayoutError

from .addin_support import Demo, make_demo
from .xlwings_memory_engine import MemoryBook, MemoryRange, MemorySheet, add_table, book_from_xlsx, new_book

pytestmark = pytest.mark.demo_clock


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("ribbon-demo"))


@pytest.fixture
def book(demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[xw.Book]:
    monkeypatch.setattr(ribbon, "CACHE", PlanCache(PlanStore(tmp_path / "plans")))
    wb = book_from_xlsx(str(demo.workbook))
    wb.set_mock_caller()
    yield wb
    del xw.Book._mock_caller


def _sheet(book: xw.Book, name: str) -> MemorySheet:
    impl: MemoryBook = book.impl
    return impl.sheets(name)


def _table_frame(book: xw.Book, spec: layout.TableSpec) -> pd.DataFrame:
    table = book.sheets[spec.sheet].tables[spec.name]
    return table.range.options(pd.DataFrame, index=False).value


def _forecast_cells(book: xw.Book) -> dict[tuple[int, int], Any]:
    return dict(_sheet(book, layout.FORECAST_SHEET).cells_)


def test_refresh_writes_owned_tables_only_with_excel_quiet(book: xw.Book, demo: Demo) -> None:
    app = book.app.impl
    forecast_before = _forecast_cells(book)
    message = ribbon.run("refresh")
    assert message.startswith("Refreshed. ERP data as of"), message
    assert app.alerts[-1] == ("sopxl", message)
    plan = _table_frame(book, layout.PLAN)
    assert list(plan.columns) == list(layout.PLAN.headers)
    assert len(plan) == len(demo.plan.family_plan)
    expected = demo.plan.family_plan
    column = "Shortage units (proposed)"
    assert plan[column].tolist() == pytest.approx(expected["shortage_units_proposed"].tolist())
    assert plan["Bucket"].tolist() == expected["bucket"].astype(str).tolist()  # text, never dates
    assert _forecast_cells(book) == forecast_before  # user-owned: untouched
    assert app.writes and all(not w.screen_updating and w.calculation == "manual" for w in app.writes)
    owned = {s.sheet for s in (*layout.OWNED_TABLES, *layout.PLANNING_TABLES)} | {layout.SOP_GRID_SHEET}
    assert {w.sheet for w in app.writes} <= owned
    assert layout.SOP_GRID_SHEET in {w.sheet for w in app.writes}  # the family S&OP grid is refreshed too
    assert app.screen_updating is True and app.calculation == "automatic" and app.enable_events is True
    assert app.calculations == ["full"]
    assert app.status_bar is False
    assert _sheet(book, "Plan").cells_[(2, 1)].startswith("ERP data as of")


def test_recompute_after_a_forecast_edit_updates_tables_and_udfs(book: xw.Book, demo: Demo, tmp_path: Path) -> None:
    ribbon.run("refresh")
    forecast = book.sheets[layout.FORECAST_SHEET].tables[layout.FORECAST_TABLE]
    header = forecast.header_row_range.value
    rows = forecast.data_body_range.value
    r = next(i for i, row in enumerate(rows) if row[0] == "Bikes")
    c = header.index("2026-12")
    cell = forecast.data_body_range[r, c]
    cell.value = 5000
    message = ribbon.run("recompute")
    assert message.startswith("Recomputed."), message
    plan = _table_frame(book, layout.PLAN)
    bikes = plan[(plan["Family"] == "Bikes") & (plan["Bucket"] == "2026-12")].iloc[0]
    assert bikes["Demand (proposed)"] >= 5000
    settings = dict(book.sheets["Settings"].tables["tblSettings"].data_body_range.value)
    stamp = f"{book.fullname}|{settings['refreshed_at']}"
    udf_process = PlanCache(PlanStore(tmp_path / "plans"))  # another process: only the store is shared
    assert udf_process.get(stamp).value("demand", "Bikes", "2026-12") == pytest.approx(bikes["Demand (proposed)"])
    assert cell.value == 5000  # the planner's number stays


def test_an_error_mid_write_still_restores_excel(book: xw.Book, monkeypatch: pytest.MonkeyPatch) -> None:
    original = MemoryRange.raw_value.fset
    assert original is not None

    def failing(self: MemoryRange, data: Any) -> None:
        if self.sheet.name == "Inventory":
            raise OSError("Excel is busy")
        original(self, data)

    monkeypatch.setattr(MemoryRange, "raw_value", property(MemoryRange.raw_value.fget, failing))
    app = book.app.impl
    message = ribbon.run("refresh")
    assert message == "Refresh from ERP failed: Excel is busy"
    assert app.screen_updating is True and app.calculation == "automatic" and app.enable_events is True
    assert app.status_bar is False


def test_a_missing_table_stops_before_any_write(book: xw.Book) -> None:
    _sheet(book, "Supply").tables._tables.clear()
    app = book.app.impl
    message = ribbon.run("refresh")
    assert "tblSupply" in message and "nothing was written" in message
    assert app.writes == []


def test_publish_freezes_the_shown_plan_once_per_version(book: xw.Book, demo: Demo) -> None:
    assert "Refresh from ERP first" in ribbon.run("publish")  # nothing refreshed in this process yet
    assert ribbon.run("refresh").startswith("Refreshed.")
    first = ribbon.run("publish")
    assert first.startswith("Published: plan ") and "version 1 published" in first, first
    again = ribbon.run("publish")
    assert "version 1 was already published" in again, again
    assert (demo.workbook.parent / "SOP.plans.sqlite").is_file()  # the plan store beside the workbook


def test_new_scenario_computes_the_typed_what_if_beside_the_base(book: xw.Book) -> None:
    assert ribbon.run("refresh").startswith("Refreshed.")
    inputs = book.sheets[layout.SCENARIO_INPUTS.sheet].tables[layout.SCENARIO_INPUTS.name]
    inputs.data_body_range.value = [["Boom", "Demand", "*", 50]]
    message = ribbon.run("scenario")
    assert message == "Scenarios computed side by side with the base plan: Boom.", message
    table = _table_frame(book, layout.SCENARIOS)
    by = table.groupby(table.columns[0])[table.columns[2]].sum()  # scenario -> demand over the horizon
    assert by["Boom"] == pytest.approx(by["Base"] * 1.5, rel=0.2)
    assert by["Boom"] > by["Base"]


def test_collect_puts_the_reps_entries_into_the_live_forecast_grid(book: xw.Book, demo: Demo) -> None:
    import openpyxl

    from workbooks.forecast_files import write_forecast_file
    from workbooks.reader import read_forecast

    assert "no forecasts folder" in ribbon.run("collect")
    grid = read_forecast(demo.workbook)
    months = sorted(grid["bucket"].unique())
    family = sorted(grid["family"].unique())[0]
    folder = demo.workbook.with_name(ribbon.FORECAST_FOLDER)
    folder.mkdir()
    rep = write_forecast_file(
        folder / "anna.xlsx", "Anna", [family], months, prefill=grid[grid["family"] == family], master="SOP.xlsx"
    )
    typed = openpyxl.load_workbook(rep)  # what the rep does in Excel (her own small file)
    typed["Forecast"]["C5"] = 4242
    typed.save(rep)
    message = ribbon.run("collect")
    assert message.startswith("Collected 1 forecast file(s): 1 change(s) applied, 0 issue(s)"), message
    live = _table_frame(book, layout.forecast_spec(months)).set_index("Family")
    assert live.loc[family, months[1]] == 4242
    assert (demo.workbook.with_name("SOP.audit.sqlite")).is_file()
    assert read_forecast(demo.workbook).equals(grid)  # the file on disk is Excel's to save, not ours


def test_placeholders_freshness_and_unknown_tags(book: xw.Book) -> None:
    freshness = ribbon.run("freshness")
    assert freshness.startswith("ERP data as of ") and "Recompute" in freshness
    assert ribbon.run("nope").startswith("Unknown S&OP button 'nope'")


def test_writer_refuses_user_owned_tables_and_growth_into_others() -> None:
    wb = new_book()
    forecast = layout.forecast_spec(["2026-11"])
    with pytest.raises(ValueError, match="user-owned"):
        LiveTableWriter(wb).write_table(forecast, pd.DataFrame({"family": [], "2026-11": []}))
    spec = layout.FAMILY_TOTALS
    add_table(wb, spec.sheet, spec.name, spec.anchor, [list(spec.headers), ["Bikes", 1, 2, 3, 4, 5]])
    add_table(wb, spec.sheet, "tblMine", "N8", [["Mine"], ["keep"]])
    frame = pd.DataFrame({c.field: [1.0] * 5 for c in spec.columns}).assign(family=["A", "B", "C", "D", "E"])
    wb.app.impl.writes.clear()
    writer = LiveTableWriter(wb)
    writer.write_table(spec, frame)
    with pytest.raises(LayoutError, match="would overlap tblMine"):
        writer.commit()
    assert wb.app.impl.writes == []


def test_writer_shrinks_tables_and_writes_text_as_text() -> None:
    wb = new_book()
    spec = layout.FAMILY_TOTALS
    add_table(wb, spec.sheet, spec.name, spec.anchor, [list(spec.headers), *[["x", 1, 1, 1, 1, 1]] * 5])
    sheet = _sheet(wb, spec.sheet)
    writer = LiveTableWriter(wb)
    writer.write_table(
        spec,
        pd.DataFrame(
            {
                "family": ["=cmd|' /C calc'!A0", "2026-11"],
                "demand_proposed": [1.0, None],
                "supply_firm": [float("inf"), 2.0],
                "supply_proposed": [3, 4],
                "worst_value_at_risk_proposed": [5, 6],
                "cash_tied_up_end": [7, 8],
            }
        ),
    )
    report = writer.commit()
    assert report.ranges == {spec.name: "Summary!N4:S6"}
    assert sheet.values("N5:S6") == [
        ["=cmd|' /C calc'!A0", 1.0, None, 3.0, 5.0, 7.0],
        ["2026-11", None, 2.0, 4.0, 6.0, 8.0],
    ]
    assert sheet.values("N7:S9") == [[None] * 6] * 3
    assert cell_value("=1+1", "text") == "'=1+1"  # Excel's text prefix: stored as text, never a formula


def test_book_from_caller_is_what_run_uses(book: xw.Book) -> None:
    other = copy.copy(book)
    assert xw.Book.caller().fullname == other.fullname
    assert PlanKey.parse(f"{book.fullname}|x").book == book.fullname


def test_workbook_path_keeps_office_js_names_inside_the_server_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Named:
        def __init__(self, name: str) -> None:
            self.name = self.fullname = name

    monkeypatch.setenv(ribbon.SERVER_DIR_ENV, str(tmp_path))
    desktop = tmp_path / "plans" / "SOP.xlsx"
    assert ribbon.workbook_path(Named(str(desktop))) == desktop  # type: ignore[arg-type]
    assert ribbon.workbook_path(Named("SOP.xlsx")) == tmp_path / "SOP.xlsx"  # type: ignore[arg-type]
    assert ribbon.workbook_path(Named("../../etc/SOP.xlsx")) == tmp_path / "SOP.xlsx"  # type: ignore[arg-type]
    assert ribbon.workbook_path(Named("..\\x\\SOP.xlsx")) == tmp_path / "SOP.xlsx"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="file name"):
        ribbon.workbook_path(Named(".."))  # type: ignore[arg-type]


def test_live_forecast_follows_the_file_readers_rules(book: xw.Book, demo: Demo) -> None:
    from addin import live_reader
    from workbooks.reader import read_forecast

    pd.testing.assert_frame_equal(live_reader.read_forecast(book), read_forecast(demo.workbook))
    forecast = book.sheets[layout.FORECAST_SHEET].tables[layout.FORECAST_TABLE]
    header = forecast.header_row_range.value
    r = next(i for i, row in enumerate(forecast.data_body_range.value) if row[0] == "Bikes")
    negative = forecast.data_body_range[r, header.index("2026-12")]
    text = forecast.data_body_range[r, header.index("2027-01")]
    negative.value, text.value = -5, "lots"
    writes = len(book.app.impl.writes)
    message = ribbon.run("recompute")
    assert message.startswith("Recompute plan failed: 2 invalid entries in the Forecast grid of SOP.xlsx"), message
    assert f"Forecast!{negative.address.replace('$', '')} (family 'Bikes', month 2026-12): -5 is negative" in message
    assert f"Forecast!{text.address.replace('$', '')} (family 'Bikes', month 2027-01): text 'lots' is not a number" in (
        message
    )
    assert len(book.app.impl.writes) == writes  # nothing written

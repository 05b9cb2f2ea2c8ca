"""The meeting pack: every number on a slide is the workbook's, under the workbook's label.

The deck is opened with python-pptx (an independent reader of the written file), the workbook with
calamine (``workbooks.reader``); the plan store with plain sqlite3. The PDF is rendered by poppler.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pptx import Presentation
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from addin import pipeline
from addin.cli import app
from addin.pack.build import build_pack, redact
from addin.pack.content import Pack
from addin.pack.jobs import current_plan, write_pack
from addin.pack.slides import DECISION_HEADERS, render
from connectors.demo_data import write_export_folder
from sop_functions import meeting
from sop_functions.buckets import PAST_DUE
from workbooks import layout
from workbooks.plan_store import open_store, plan_lines
from workbooks.reader import read_table

from .addin_support import DEMO_AS_OF

pytestmark = pytest.mark.demo_clock
runner = CliRunner()


def _make(folder: Path) -> Path:
    export = write_export_folder(folder / "erp-export", seed=7, as_of=DEMO_AS_OF)
    return pipeline.new_workbook(folder / "SOP.xlsx", source=str(export), force=True)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="module")
def deck(workbook: Path) -> Any:
    out = workbook.with_name("deck.pptx")
    result = runner.invoke(app, ["pack", str(workbook), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert "meeting pack written" in result.output
    return Presentation(str(out))


def _tables(slide: Any) -> list[list[list[str]]]:
    out = []
    for shape in slide.shapes:
        if shape.has_table:
            out.append([[cell.text for cell in row.cells] for row in shape.table.rows])
    return out


def _charts(slide: Any) -> dict[str, Any]:
    return {s.chart.chart_title.text_frame.text: s.chart for s in slide.shapes if s.has_chart}


def _texts(slide: Any) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def _num(text: str) -> float:
    return float("nan") if text == "–" else float(text.replace(",", ""))


def _same(a: object, b: object, tol: float = 0.5) -> bool:
    x = float("nan") if a is None or pd.isna(a) else float(a)  # type: ignore[arg-type]
    y = float("nan") if b is None or pd.isna(b) else float(b)  # type: ignore[arg-type]
    return (math.isnan(x) and math.isnan(y)) or abs(x - y) <= tol


def _sop_grid(workbook: Path) -> pd.DataFrame:
    with CalamineWorkbook.from_path(workbook, load_tables=True) as book:
        table = book.get_table_by_name(layout.SOP_GRID_TABLE)
        return pd.DataFrame(table.to_python(), columns=list(table.columns))


def test_the_deck_has_its_slides_in_meeting_order(deck: Any, workbook: Path) -> None:
    families = read_table(workbook, layout.FINANCE_TOTALS).sort_values(["revenue", "family"], ascending=[False, True])
    titles = [s.shapes.title.text_frame.text for s in deck.slides]
    assert titles[0].startswith("S&OP meeting 2026-11")
    assert titles[1] == "Decisions needed"
    assert titles[2 : 2 + len(families)] == families["family"].tolist()  # largest (revenue) first
    assert titles[-3:] == ["Scenarios side by side", "Financial view", "Forecast accuracy and bias"]


def test_cover_shows_the_workbooks_as_of_stamp_and_flags_old_inputs(deck: Any, workbook: Path) -> None:
    with CalamineWorkbook.from_path(workbook) as book:
        stamp = book.get_sheet_by_name("Plan").to_python()[1][0]
    assert stamp.startswith("ERP data as of ")
    cover = deck.slides[0]
    assert stamp in _texts(cover)
    rows = {r[0]: r for r in _tables(cover)[0][1:]}
    assert rows["ERP data"][-1] == "ok"  # the demo clock is 6 hours after the ERP's as-of time
    assert rows["ERP data"][3] == "0.2"
    assert rows["Forecast collection"][-1] == "STALE"  # never collected: flagged, not hidden


def test_decisions_are_the_top_gaps_left_after_the_proposal(deck: Any, workbook: Path) -> None:
    gaps = read_table(workbook, layout.TOP_GAPS)
    left = gaps[gaps["first_short_bucket_proposed"] != ""]
    assert len(left) > 0
    table = _tables(deck.slides[1])[0]
    assert tuple(table[0]) == DECISION_HEADERS
    assert DECISION_HEADERS[1:5] == tuple(layout.TOP_GAPS.headers[i] for i in (8, 9, 10, 11))  # workbook labels
    assert [r[0] for r in table[1:]] == left["family"].tolist()[: len(table) - 1]
    for row, (_, gap) in zip(table[1:], left.iterrows(), strict=False):
        assert row[1] == gap["first_short_bucket_proposed"]
        assert _same(_num(row[2]), gap["shortage_units_window_proposed"])
        assert _same(_num(row[3]), gap["value_at_risk_window_proposed"])
        assert row[4] == gap["why_short"]
        assert row[5] == meeting.decision_for(gap["why_short"]) and row[5] != meeting.LATER


def test_capacity_overloads_are_the_workbooks_peaks(deck: Any, workbook: Path) -> None:
    peaks = read_table(workbook, layout.CAPACITY_PEAK)
    over = peaks[peaks["overloaded_months"] > 0].sort_values("peak_load_pct", ascending=False)
    tables = _tables(deck.slides[1])
    if over.empty:
        assert len(tables) == 1
        return
    rows = tables[-1]
    assert rows[0][1] == "Peak load % (proposed)" and rows[0][2] == "Overloaded months (proposed)"
    for row, (_, peak) in zip(rows[1:], over.iterrows(), strict=False):
        assert row[0] == peak["work_center"]
        assert _same(_num(row[1]), peak["peak_load_pct"], 0.05)
        assert _same(_num(row[2]), peak["overloaded_months"])


def test_family_charts_are_the_sop_grid_rows(deck: Any, workbook: Path) -> None:
    grid = _sop_grid(workbook)
    months = [c for c in grid.columns if c not in ("Family", "Measure", "Note")]
    families = grid["Family"].unique().tolist()
    seen = 0
    for slide in deck.slides:
        name = slide.shapes.title.text_frame.text
        if name not in families:
            continue
        block = grid[grid["Family"] == name].set_index("Measure")
        for chart in _charts(slide).values():
            plot = chart.plots[0]
            assert list(plot.categories) == months
            for series in plot.series:
                assert series.name in block.index  # the S&OP grid's own row label
                expected = block.loc[series.name, months].tolist()
                got = list(series.values)
                assert all(_same(g, e if e != "" else None, 1e-6) for g, e in zip(got, expected, strict=True)), (
                    name,
                    series.name,
                )
                seen += 1
    assert seen >= 3 * len(families)


def test_scenario_and_finance_slides_sum_the_workbooks_tables(deck: Any, workbook: Path) -> None:
    scenarios = read_table(workbook, layout.SCENARIOS)
    slide = next(s for s in deck.slides if s.shapes.title.text_frame.text == "Scenarios side by side")
    table = _tables(slide)[0]
    assert table[0] == ["Scenario", "Base"]
    headers = {c.header: c.field for c in layout.SCENARIOS.columns}
    for label, value in table[1:]:
        assert label in headers, label
        assert _same(_num(value), scenarios[headers[label]].sum(), 0.51)
    totals = read_table(workbook, layout.FINANCE_TOTALS).set_index("family")
    slide = next(s for s in deck.slides if s.shapes.title.text_frame.text == "Financial view")
    table = _tables(slide)[0]
    assert table[0] == ["Family", "Revenue", "Gross margin", "Inventory value (end)"]
    for row in table[1:]:
        if row[0] == "Total":
            assert _same(_num(row[1]), totals["revenue"].sum())
            continue
        assert _same(_num(row[1]), totals.at[row[0], "revenue"])
        assert _same(_num(row[2]), totals.at[row[0], "gross_margin"])
        assert _same(_num(row[3]), totals.at[row[0], "inventory_value_end"])
    monthly = read_table(workbook, layout.FINANCE).groupby("bucket")["revenue"].sum()
    chart = next(iter(_charts(slide).values()))
    revenue = next(s for s in chart.plots[0].series if s.name == "Revenue")
    for month, value in zip(chart.plots[0].categories, revenue.values, strict=True):
        assert _same(value, monthly[month], 1e-6)


def test_accuracy_slide_says_when_there_is_no_history(deck: Any) -> None:
    assert "No published plan covers the last 12 months yet" in _texts(deck.slides[-1])


def _deck_numbers(prs: Any) -> list[object]:
    """Every table cell and chart point of the slides after the cover (the cover tells the version)."""
    out: list[object] = []
    for slide in list(prs.slides)[1:]:
        out += [cell for table in _tables(slide) for row in table for cell in row]
        for title, chart in sorted(_charts(slide).items()):
            out += [title, *[(s.name, tuple(s.values)) for s in chart.plots[0].series]]
    return out


def test_a_published_version_keeps_its_pack_and_rebuilds_the_same_deck(tmp_path: Path) -> None:
    book = _make(tmp_path)
    published = runner.invoke(app, ["publish", "-s", str(tmp_path / "erp-export"), "-w", str(book), "--note", "Nov"])
    assert published.exit_code == 0, published.output
    assert "meeting pack kept with the version" in published.output
    with sqlite3.connect(tmp_path / "SOP.plans.sqlite") as db:
        rows = db.execute("SELECT plan, version FROM sop_plan_pack").fetchall()
        lines = db.execute("SELECT COUNT(*) FROM sop_plan_line WHERE version = 1").fetchone()[0]
    assert rows == [("SOP", 1)] and lines > 0  # one row per version beside the plan store's own tables
    current, frozen = tmp_path / "now.pptx", tmp_path / "v1.pptx"
    assert runner.invoke(app, ["pack", str(book), "-o", str(current), "--no-pdf"]).exit_code == 0
    result = runner.invoke(app, ["pack", str(book), "--version", "1", "-o", str(frozen), "--no-pdf"])
    assert result.exit_code == 0, result.output
    a, b = Presentation(str(current)), Presentation(str(frozen))
    assert "Plan version 1, published" in _texts(b.slides[0]) and ": Nov" in _texts(b.slides[0])
    assert "Plan version 1, published" in _texts(a.slides[0])  # the current plan is version 1
    assert _deck_numbers(a) == _deck_numbers(b)
    missing = runner.invoke(app, ["pack", str(book), "--version", "2", "--no-pdf"])
    assert missing.exit_code == 1 and "has no version 2" in missing.output


def test_changes_since_the_last_version_are_this_plan_minus_that_one(tmp_path: Path) -> None:
    book = _make(tmp_path)
    current = current_plan(book)
    lines = plan_lines(current.plan.sku_plan, current.plan.family_plan)
    family = current.plan.top_gaps["family"].iloc[0]
    month = current.plan.horizon.buckets[2]
    bumped = (lines["item"] == family) & (lines["bucket"] == month) & (lines["level"] == "family")
    lines.loc[bumped, "demand"] += 40.0  # the last version planned 40 more of it in that month
    with open_store(f"sqlite:///{tmp_path / 'SOP.plans.sqlite'}") as store:
        store.publish(lines, plan="SOP", published_by="anna", source="test", as_of=current.plan.as_of)
    pack = build_pack(current.plan, current.snapshot, current.inputs, book, current.settings)
    out = write_pack(pack, tmp_path / "deck.pptx", pdf=False).pptx
    slide = next(s for s in Presentation(str(out)).slides if s.shapes.title.text_frame.text == family)
    text = _texts(slide)
    assert "Changes since version 1" in text
    this = current.plan.family_plan
    total = this[(this["family"] == family) & (this["bucket"].astype(str) != PAST_DUE)]["independent_demand"].sum()
    line = next(t for t in text.splitlines() if t.startswith("Independent demand"))
    assert f"{total + 40:,.0f} → {total:,.0f} (-40)" in line
    assert f"Largest change of Independent demand: {month} (-40)" in text


def test_accuracy_uses_the_plan_in_force_when_each_month_began() -> None:
    tz = DEMO_AS_OF.tzinfo
    versions = pd.DataFrame(
        {"version": [1, 2], "as_of": [pd.Timestamp("2026-08-20", tz=tz), pd.Timestamp("2026-09-15", tz=tz)]}
    )
    history = pd.DataFrame(
        {
            "version": [1, 1, 2, 2],
            "family": ["Bikes"] * 4,
            "bucket": ["2026-09", "2026-10", "2026-09", "2026-10"],
            "demand": [100.0, 500.0, 999.0, 100.0],
            "forecast": [110.0, 400.0, 1.0, 90.0],
            "baseline": [100.0, 300.0, 1.0, 100.0],
        }
    )
    forced = meeting.in_force(history, versions)
    assert forced[["bucket", "version"]].values.tolist() == [["2026-09", 1], ["2026-10", 2]]  # v2 came mid-September
    actuals = pd.DataFrame({"family": ["Bikes", "Bikes"], "bucket": ["2026-09", "2026-10"], "actual": [120.0, 80.0]})
    acc = meeting.recent_accuracy(forced, actuals, "2026-10", 3).set_index("family")
    assert acc.at["Bikes", "wape"] == pytest.approx(20.0)  # |100-120| + |100-80| over 200
    assert acc.at["Bikes", "bias"] == pytest.approx(0.0)
    assert acc.at["Bikes", "fva"] == pytest.approx(10.0)  # baseline 20 % - sales forecast 10 % (docs example)
    one = meeting.recent_accuracy(forced, actuals, "2026-10", 1).set_index("family")
    assert one.at["Bikes", "months"] == 1 and one.at["Bikes", "wape"] == pytest.approx(25.0)


def test_accuracy_slide_measures_published_demand_against_shipments(tmp_path: Path) -> None:
    book = _make(tmp_path)
    current = current_plan(book)
    snapshot = current.snapshot
    shipped = snapshot.shipments.merge(snapshot.items[["sku", "family"]], on="sku")
    shipped["bucket"] = pd.to_datetime(shipped["ship_date"]).dt.strftime("%Y-%m")
    actual = shipped.groupby(["family", "bucket"])["qty"].sum()
    months = ["2026-08", "2026-09", "2026-10"]
    family = "Bikes"
    rows = [("family", family, family, m, actual[(family, m)] + 10.0, 0.0, 0.0, 0.0, 0.0) for m in months]
    lines = pd.DataFrame(
        rows,
        columns=[
            "level",
            "item",
            "family",
            "bucket",
            "demand",
            "supply",
            "production",
            "projected_inventory",
            "gap_value",
        ],
    )
    with open_store(f"sqlite:///{tmp_path / 'SOP.plans.sqlite'}") as store:  # a plan published in July
        store.publish(lines, plan="SOP", published_by="anna", source="test", as_of=DEMO_AS_OF.replace(month=7))
    pack = build_pack(current.plan, current.snapshot, current.inputs, book, current.settings)
    out = write_pack(pack, tmp_path / "deck.pptx", pdf=False).pptx
    table = _tables(Presentation(str(out)).slides[-1])[0]
    assert table[0][:3] == ["Family", "WAPE % (last 3 months)", "Bias % (last 3 months)"]
    row = next(r for r in table[1:] if r[0] == family)
    expected = 100 * 30.0 / sum(actual[(family, m)] for m in months)
    assert _num(row[1]) == pytest.approx(expected, abs=0.05)
    assert _num(row[2]) == pytest.approx(expected, abs=0.05)  # always over: bias = WAPE


def _renamed(pack: Pack, old: str, new: str) -> Pack:
    frames = {}
    for name, frame in pack.frames.items():
        frame = frame.copy()
        for column in ("family", "scenario"):
            if column in frame:
                frame[column] = frame[column].replace(old, new)
        frames[name] = frame
    meta = dict(pack.meta, families=[new if f == old else f for f in pack.meta["families"]])
    return Pack(meta, frames)


def test_erp_names_stay_text_in_slides_and_chart_workbooks(workbook: Path, tmp_path: Path) -> None:
    import openpyxl

    current = current_plan(workbook)
    pack = build_pack(current.plan, current.snapshot, current.inputs, workbook, current.settings)
    evil = '=HYPERLINK("http://x","y")<b>&'
    renamed = _renamed(_renamed(Pack.from_json(pack.to_json()), "Bikes", evil), "Base", evil)  # family, scenario
    out = render(renamed, tmp_path / "evil.pptx")
    titles = [s.shapes.title.text_frame.text for s in Presentation(str(out)).slides]
    assert evil in titles
    found = 0
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("ppt/embeddings/") and name.endswith(".xlsx"):
                (tmp_path / "chart.xlsx").write_bytes(z.read(name))
                with zipfile.ZipFile(tmp_path / "chart.xlsx") as inner:
                    sheet = inner.read("xl/worksheets/sheet1.xml").decode()
                assert "<f>" not in sheet  # no formula in any chart's data
                cells = [c for row in openpyxl.load_workbook(tmp_path / "chart.xlsx").active.iter_rows() for c in row]
                hits = [c for c in cells if c.value == evil]
                assert all(c.data_type == "s" for c in hits)
                found += len(hits)
    assert found > 0  # the scenario chart names the scenario as a category


def test_no_secret_reaches_the_deck(workbook: Path, tmp_path: Path) -> None:
    assert redact("sql:postgresql://planner:s3cret@db:5432/erp") == "sql:postgresql://***@db:5432/erp"
    current = current_plan(workbook)
    settings = dict(current.settings, source="postgresql://planner:s3cret@db/erp")
    pack = build_pack(current.plan, current.snapshot, current.inputs, workbook, settings)
    out = render(pack, tmp_path / "deck.pptx")
    with zipfile.ZipFile(out) as z:
        assert not any(b"s3cret" in z.read(n) for n in z.namelist())
        assert any(b"postgresql://***@db/erp" in z.read(n) for n in z.namelist() if n.startswith("ppt/slides/"))


def test_a_company_template_keeps_its_size_and_layouts(workbook: Path, tmp_path: Path) -> None:
    from pptx.util import Inches

    template = Presentation()  # 4:3, with a sample slide the pack must drop
    template.slides.add_slide(template.slide_layouts[0]).shapes.title.text = "Sample slide"
    template.save(str(tmp_path / "company.pptx"))
    with zipfile.ZipFile(tmp_path / "company.pptx") as src, zipfile.ZipFile(tmp_path / "company.potx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"presentation.main+xml", b"template.main+xml")
            dst.writestr(item, data)
    for name in ("company.pptx", "company.potx"):
        out = tmp_path / f"from-{name}.pptx"
        result = runner.invoke(
            app, ["pack", str(workbook), "-o", str(out), "--template", str(tmp_path / name), "--no-pdf"]
        )
        assert result.exit_code == 0, result.output
        prs = Presentation(str(out))
        assert prs.slide_width == Inches(10) and prs.slide_height == Inches(7.5)
        assert "Sample slide" not in [s.shapes.title.text_frame.text for s in prs.slides]
        assert prs.slides[0].slide_layout.name == "Title Slide"
        assert {s.slide_layout.name for s in list(prs.slides)[1:]} == {"Title Only"}


def test_the_deck_refuses_a_plan_the_workbook_does_not_show(workbook: Path, tmp_path: Path) -> None:
    later = write_export_folder(tmp_path / "later", seed=7, as_of=DEMO_AS_OF.replace(day=28))
    result = runner.invoke(app, ["pack", str(workbook), "--source", str(later), "--no-pdf"])
    assert result.exit_code == 1
    assert "the ERP data moved on since SOP.xlsx was refreshed" in result.output


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None, reason="LibreOffice/poppler")
def test_the_pdf_has_every_slide_and_renders(workbook: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "S&OP.pptx"
    result = runner.invoke(app, ["pack", str(workbook), "-o", str(out)])
    assert result.exit_code == 0, result.output
    pdf = out.with_suffix(".pdf")
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(Presentation(str(out)).slides)
    colours = Image.open(pages[2]).convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 20  # a family slide: text and charts drawn, not a blank page


def test_the_ribbon_button_writes_the_deck_of_the_shown_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlwings as xw

    from addin import ribbon
    from addin.plan_cache import PlanCache, PlanStore

    from .xlwings_memory_engine import book_from_xlsx

    book_path = _make(tmp_path)
    monkeypatch.setattr(ribbon, "CACHE", PlanCache(PlanStore(tmp_path / "plans")))
    book = book_from_xlsx(str(book_path))
    book.set_mock_caller()
    try:
        assert "Refresh from ERP first" in ribbon.run("pack")  # nothing refreshed in this process yet
        assert ribbon.run("refresh").startswith("Refreshed.")
        message = ribbon.run("pack")
        assert message.startswith("Meeting pack written: S&OP-2026-11.pptx"), message
        deck = Presentation(str(tmp_path / "S&OP-2026-11.pptx"))
        assert deck.slides[1].shapes.title.text_frame.text == "Decisions needed"
        published = ribbon.run("publish")
        assert "version 1 published" in published and "meeting pack kept with the version" in published, published
    finally:
        del xw.Book._mock_caller

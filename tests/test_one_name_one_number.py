"""One name, one number: every sheet, the S&OP grid, the CLI and the worksheet functions that show a measure
under the same label show the same number for the same family and month.

The workbook is the csv demo after a refresh (capacity known: the LP runs), read back with python-calamine;
labels are the tables' own headers (and the S&OP grid's Measure cells), so a new column that reuses a label
is checked without touching this test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from addin import pipeline, udfs
from addin.cli import app
from addin.plan_index import build_index
from connectors.demo_data import write_export_folder
from workbooks import layout

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, pd.DataFrame]]:
    folder = tmp_path_factory.mktemp("one-name")
    export = write_export_folder(folder / "export", seed=7, as_of=AS_OF)
    book = pipeline.new_workbook(folder / "SOP.xlsx", source=str(export), force=True)
    pipeline.refresh_workbook(book, source=str(export))
    tables: dict[str, pd.DataFrame] = {}
    with CalamineWorkbook.from_path(book, load_tables=True) as wb:
        for name in wb.table_names or []:
            table = wb.get_table_by_name(name)
            frame = pd.DataFrame(table.to_python(), columns=[str(c) for c in table.columns])
            tables[name] = frame[frame.apply(lambda r: any(v not in (None, "") for v in r), axis=1)]
    return book, export, tables


def by_family_month(tables: dict[str, pd.DataFrame]) -> dict[str, dict[tuple[str, str], object]]:
    """label -> {(family, month): value} from every table keyed by Family and Bucket, and the S&OP grid."""
    out: dict[str, dict[tuple[str, str], object]] = {}
    for name, frame in tables.items():
        if name == layout.SOP_GRID_TABLE or not {"Family", "Bucket"} <= set(frame.columns) or "SKU" in frame.columns:
            continue
        if "Scenario" in frame.columns or "Work center" in frame.columns:
            continue
        for label in frame.columns:
            if label in ("Family", "Bucket"):
                continue
            values = out.setdefault(label, {})
            for family, month, value in zip(frame["Family"], frame["Bucket"], frame[label], strict=True):
                values.setdefault((family, month), []).append((name, value))  # type: ignore[attr-defined]
    grid = tables[layout.SOP_GRID_TABLE]
    months = [c for c in grid.columns[3:] if "(actual)" not in c]
    for row in grid.to_dict("records"):
        values = out.setdefault(str(row["Measure"]), {})
        for month in months:
            values.setdefault((row["Family"], month), []).append(("tblSOP", row[month]))  # type: ignore[attr-defined]
    return out


def _number(value: object) -> float:
    if value == layout.NO_DEMAND:  # months of cover with stock and no demand ahead: the same text everywhere
        return math.inf
    return 0.0 if value in (None, "") else float(value)  # type: ignore[arg-type]


def test_a_label_is_one_number_wherever_it_is_shown(demo: tuple[Path, Path, dict[str, pd.DataFrame]]) -> None:
    _book, _export, tables = demo
    shared = 0
    for label, cells in by_family_month(tables).items():
        for (family, month), shown in cells.items():
            if len({name for name, _ in shown}) < 2:
                continue
            shared += 1
            first = _number(shown[0][1])
            for _name, value in shown[1:]:
                assert _number(value) == pytest.approx(first, abs=1e-6), (label, family, month, shown)
    assert shared > 500  # Plan, Finance and the S&OP grid share many labels: the check is not vacuous


def test_horizon_labels_agree_across_summary_scenarios_and_finance(
    demo: tuple[Path, Path, dict[str, pd.DataFrame]],
) -> None:
    _book, _export, tables = demo
    base = tables[layout.SCENARIOS.name]
    base = base[base["Scenario"] == "Base"].set_index("Family")
    top = tables[layout.TOP_GAPS.name].set_index("Family")
    totals = tables[layout.FAMILY_TOTALS.name].set_index("Family")
    finance = tables[layout.FINANCE_TOTALS.name].set_index("Family")
    compared = 0
    for label in base.columns:
        for other in (top, totals, finance):
            if label not in other.columns:
                continue
            for family in other.index:
                mine, theirs = base.loc[family, label], other.loc[family, label]
                if isinstance(mine, str) or isinstance(theirs, str):
                    assert (mine or "") == (theirs or ""), (label, family)
                else:
                    assert _number(mine) == pytest.approx(_number(theirs), abs=1e-6), (label, family)
                compared += 1
    assert compared >= 3 * len(totals)


def test_the_cli_and_the_functions_say_what_the_sheets_say(demo: tuple[Path, Path, dict[str, pd.DataFrame]]) -> None:
    book, export, tables = demo
    result = CliRunner().invoke(app, ["plan", "-s", str(export), "-w", str(book), "--json", "--top", "50"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    top = tables[layout.TOP_GAPS.name].set_index("Family")
    for row in report["top"]:
        shown = top.loc[row["family"]]
        assert row["firm"]["first_short_bucket"] == (shown["First short month (firm)"] or "")
        assert row["proposed"]["value_at_risk_window"] == pytest.approx(
            _number(shown["Value at risk (proposed, next 6 months)"])
        )
    plan = pipeline.plan_from_source(str(export), workbook=book)
    index = build_index(plan, pipeline.load_snapshot(str(export)))
    udfs.CACHE = SimpleNamespace(get=lambda stamp: index)
    sheet = tables[layout.PLAN.name]
    for row in sheet.head(60).to_dict("records"):
        family, month = row["Family"], row["Bucket"]
        assert udfs.SOP_SHORTAGE(family, month) == pytest.approx(_number(row["Shortage units (proposed)"]))
        assert udfs.SOP_SHORTAGE(family, month, "value", "firm") == pytest.approx(_number(row["Value at risk (firm)"]))
        assert udfs.SOP_SUPPLY(family, month, "firm") == pytest.approx(_number(row["Firm supply"]))
        assert udfs.SOP_DEMAND(family, month) == pytest.approx(_number(row["Demand (proposed)"]))

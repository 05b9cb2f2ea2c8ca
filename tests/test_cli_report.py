"""The CLI's top-shortages table: each layer under its own heading, and readable on an 80-column terminal."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from addin.cli import app
from addin.pipeline import plan_from_source
from addin.report import gap_table
from sop_functions.gaps import TOP_GAP_COLUMNS
from sop_functions.plan import Plan


def _render(plan: Plan, width: int, top: int = 10) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(gap_table(plan, top))
    return console.export_text().splitlines()


def _cells(lines: list[str], family: str) -> list[str]:
    """The cells of the table row that starts with ``family``."""
    row = next(line for line in lines if line.startswith("│") and line.split("│")[1].strip() == family)
    return [cell.strip() for cell in row.split("│")[1:-1]]


def _plan(rows: list[dict[str, object]]) -> Plan:
    """Only what the table reads of a plan: its ranked shortages, their families' timing, the window."""
    top = pd.DataFrame(rows)[list(TOP_GAP_COLUMNS)]
    timing = pd.DataFrame(
        {
            "family": top["family"],
            "months_short_firm": top["months_short_firm"],
            "months_short_proposed": (top["first_short_bucket_proposed"] != "").astype(int),
        }
    )
    return cast(Plan, SimpleNamespace(top_gaps=top, family_timing=timing, window=6))


def _row(
    family: str, rank: int, firm: str, proposed: str, *, units: float, firm_risk: float, risk: float, why: str
) -> dict[str, object]:
    return {
        "rank": rank,
        "family": family,
        "first_short_bucket_firm": firm,
        "first_shortage_units_firm": units,
        "months_short_firm": 1 if firm else 0,
        "worst_bucket_firm": firm,
        "worst_shortage_units_firm": units,
        "value_at_risk_window_firm": firm_risk,
        "first_short_bucket_proposed": proposed,
        "shortage_units_window_proposed": 24.0 if proposed else 0.0,
        "value_at_risk_window_proposed": risk,
        "why_short": why,
    }


TWO_LAYERS = [
    _row("Components", 1, "", "2027-01", units=0.0, firm_risk=0.0, risk=8205.0, why="lead time (1 SKU)"),
    _row("Bikes", 2, "2026-12", "", units=7.0, firm_risk=2471712.0, risk=0.0, why=""),
    _row("E-Bikes", 3, "2026-12", "2027-02", units=5.0, firm_risk=1065119.0, risk=0.0, why=""),
]


@pytest.mark.parametrize("width", [80, 160])
def test_a_family_short_only_after_the_proposal_shows_nothing_under_the_firm_headings(width: int) -> None:
    lines = _render(_plan(TWO_LAYERS), width)
    components = _cells(lines, "Components")
    assert components[1:6] == ["-", "-", "-", "2027-01", "8,205"]
    bikes = _cells(lines, "Bikes")
    assert bikes[1:6] == ["2026-12", "7", "2,471,712", "-", "0"]
    e_bikes = _cells(lines, "E-Bikes")
    assert e_bikes[1] == "2026-12" and e_bikes[4] == "2027-02"  # each layer its own first month


def test_why_is_a_column_on_a_wide_terminal_and_a_list_under_the_table_on_a_narrow_one() -> None:
    reason = "capacity: WC02 and lead time (3 SKUs)"
    rows = [_row("Pumps", 1, "2026-12", "2026-12", units=4.0, firm_risk=900.0, risk=300.0, why=reason)]
    wide = _render(_plan(rows), 160)
    assert _cells(wide, "Pumps")[-1] == reason
    assert max(len(line) for line in wide) <= 160
    narrow = _render(_plan(rows), 80)
    assert max(len(line) for line in narrow) <= 80
    assert len(_cells(narrow, "Pumps")) == 6  # no squeezed Why column
    below = narrow[narrow.index("Why short after the proposal:") + 1 :]
    assert f"  Pumps: {reason}" in below


def test_the_demo_table_fits_80_columns_and_says_every_reason_whole(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--source", "csv", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    plan = plan_from_source(str(tmp_path / "erp-export"), workbook=tmp_path / "SOP.xlsx")
    lines = _render(plan, 80)
    assert max(len(line) for line in lines) <= 80
    for row in plan.top_gaps.head(10).to_dict("records"):
        cells = _cells(lines, str(row["family"]))
        assert cells[1] == (row["first_short_bucket_firm"] or "-")
        assert cells[4] == (row["first_short_bucket_proposed"] or "-")
        if row["why_short"]:
            assert f"  {row['family']}: {row['why_short']}" in lines

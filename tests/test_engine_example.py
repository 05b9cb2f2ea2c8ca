"""The worked example of docs/definitions.md, checked number by number.

The example's inputs and expected results are the Markdown tables of that page (each after an
``<!-- example:NAME -->`` marker): the page is the single copy of the numbers, so it cannot drift.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from sop_functions.buckets import Horizon
from sop_functions.plan import Plan, build_plan
from sop_functions.snapshot import build_snapshot

DOC = Path(__file__).resolve().parents[1] / "docs" / "definitions.md"
AS_OF = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
INPUTS = ("items", "stock", "shipments", "open_demand", "receipts", "production")


def doc_tables() -> dict[str, pd.DataFrame]:
    """Every example table of the page, as text cells."""
    tables: dict[str, pd.DataFrame] = {}
    lines = DOC.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        marker = re.fullmatch(r"<!-- example:(\w+) -->", line.strip())
        if marker is None:
            continue
        rows: list[list[str]] = []
        for row in lines[i + 1 :]:
            if not row.startswith("|"):
                break
            rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
        tables[marker[1]] = pd.DataFrame(rows[2:], columns=rows[0])  # rows[1] is the |---| line
    return tables


def as_numbers(table: pd.DataFrame, text_columns: tuple[str, ...]) -> pd.DataFrame:
    out = table.copy()
    for column in out.columns:
        if column in text_columns:
            continue
        if set(out[column]) <= {"yes", "no"}:
            out[column] = out[column] == "yes"
        else:
            out[column] = out[column].astype(float)
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return doc_tables()


@pytest.fixture(scope="module")
def plan(tables: dict[str, pd.DataFrame]) -> Plan:
    snapshot = build_snapshot("doc", AS_OF, {name: tables[name] for name in INPUTS})
    return build_plan(snapshot, tables["forecast"], Horizon.from_as_of(AS_OF.date(), periods=3))


def compare(actual: pd.DataFrame, expected: pd.DataFrame, keys: tuple[str, ...]) -> None:
    """Every expected cell equals the engine's (to the 2 decimals the page shows)."""
    actual = actual.assign(**{k: actual[k].astype(str) for k in keys}).set_index(list(keys))
    expected = expected.set_index(list(keys))
    assert sorted(actual.index) == sorted(expected.index)
    actual = actual.loc[expected.index]
    for column in expected.columns:
        got = actual[column]
        want = expected[column]
        if want.dtype == bool:
            assert list(got) == list(want), column
        else:
            assert got.to_numpy() == pytest.approx(want.to_numpy(), abs=0.005), column


def test_example_tables_are_all_present(tables: dict[str, pd.DataFrame]) -> None:
    expected = {*INPUTS, "forecast", "sku_plan", "sku_gaps", "family_plan", "top_gaps", "family_totals"}
    assert expected | {"beyond_horizon"} == set(tables)


def test_example_sku_plan(plan: Plan, tables: dict[str, pd.DataFrame]) -> None:
    compare(plan.sku_plan, as_numbers(tables["sku_plan"], ("sku", "bucket")), ("sku", "bucket"))


def test_example_sku_gaps(plan: Plan, tables: dict[str, pd.DataFrame]) -> None:
    compare(plan.sku_plan, as_numbers(tables["sku_gaps"], ("sku", "bucket")), ("sku", "bucket"))


def test_example_family_plan(plan: Plan, tables: dict[str, pd.DataFrame]) -> None:
    compare(plan.family_plan, as_numbers(tables["family_plan"], ("family", "bucket")), ("family", "bucket"))


def test_example_top_gaps_and_totals(plan: Plan, tables: dict[str, pd.DataFrame]) -> None:
    compare(plan.top_gaps, as_numbers(tables["top_gaps"], ("family", "bucket")), ("family", "bucket"))
    compare(plan.family_totals, as_numbers(tables["family_totals"], ("family",)), ("family",))
    compare(plan.beyond_horizon, as_numbers(tables["beyond_horizon"], ("entity",)), ("entity",))
    assert plan.unknown_forecast_families.empty


def test_example_spot_checks(plan: Plan) -> None:
    """Hand-typed spot checks, independent of the table parser."""
    red = plan.sku_plan[plan.sku_plan["sku"] == "RED"].set_index("bucket")
    assert red.loc["2026-11", "demand"] == 35.0
    assert red.loc["2027-01", "shortage_value"] == 11250.0
    assert red.loc["PAST_DUE", "cover_months"] == pytest.approx(45 / (140 / 3))

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
INPUTS = ("items", "bom", "stock", "shipments", "open_demand", "receipts", "production")


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


TEXT = ("sku", "family", "bucket", "kind", "release_bucket", "why_short", "entity")


def as_numbers(table: pd.DataFrame, text_columns: tuple[str, ...] = TEXT) -> pd.DataFrame:
    out = table.copy()
    for column in out.columns:
        if column in text_columns or column.endswith("_bucket_firm") or column.endswith("_bucket_proposed"):
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
        if want.dtype == bool or want.dtype == object:
            assert list(got) == list(want), column
        else:
            assert got.to_numpy() == pytest.approx(want.to_numpy(), abs=0.005), column


def test_example_tables_are_all_present(tables: dict[str, pd.DataFrame]) -> None:
    expected = {*INPUTS, "forecast", "sku_flows", "sku_firm", "sku_proposed", "family_plan", "top_gaps"}
    assert expected | {"family_totals", "planned_orders", "beyond_horizon"} == set(tables)


@pytest.mark.parametrize("name", ["sku_flows", "sku_firm", "sku_proposed"])
def test_example_sku_plan(plan: Plan, tables: dict[str, pd.DataFrame], name: str) -> None:
    compare(plan.sku_plan, as_numbers(tables[name]), ("sku", "bucket"))


def test_example_family_plan(plan: Plan, tables: dict[str, pd.DataFrame]) -> None:
    compare(plan.family_plan, as_numbers(tables["family_plan"]), ("family", "bucket"))


def test_example_top_gaps_totals_and_orders(plan: Plan, tables: dict[str, pd.DataFrame]) -> None:
    compare(plan.top_gaps, as_numbers(tables["top_gaps"]), ("family",))
    compare(plan.family_totals, as_numbers(tables["family_totals"]), ("family",))
    compare(plan.planned_orders, as_numbers(tables["planned_orders"]), ("sku", "bucket"))
    compare(plan.beyond_horizon, as_numbers(tables["beyond_horizon"]), ("entity",))
    assert plan.unknown_forecast_families.empty


def test_example_spot_checks(plan: Plan) -> None:
    """Hand-typed spot checks, independent of the table parser."""
    sku = plan.sku_plan.set_index(["sku", "bucket"])
    assert sku.loc[("RED", "2026-11"), "independent_demand"] == 35.0
    assert sku.loc[("RED", "2026-12"), "value_at_risk_firm"] == 50 * 250
    assert sku.loc[("RED", "2026-12"), "why_short"] == "lead time"
    assert sku.loc[("RED", "2027-01"), "planned_production"] == 75.0  # 55 needed, lots of 25
    assert sku.loc[("FRAME", "2026-11"), "dependent_demand_proposed"] == 75.0
    assert sku.loc[("FRAME", "2026-11"), "planned_purchases"] == 55.0
    assert sku.loc[("RED", "PAST_DUE"), "cover_months_firm"] == pytest.approx(45 / (140 / 3))
    family = plan.family_plan.set_index(["family", "bucket"])
    assert family.loc[("Bikes", "2026-12"), ["shortage_units_firm", "excess_units_firm"]].tolist() == [50.0, 3.0]

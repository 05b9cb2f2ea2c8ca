"""The demo data generator: deterministic, sized as asked, realistic enough to show gaps, and readable back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connectors.demo_data import SMALL, SME_L, SME_S, DemoSize, generate, write_export_folder
from connectors.files import read_export_folder
from sop_functions.snapshot import COLUMNS, build_snapshot

AS_OF = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TINY = DemoSize(
    skus=10, families=2, warehouses=1, work_centers=1, history_months=13, open_sales_lines=7,
    purchase_lines=5, production_orders=3, shipment_lines=60, customers=2,
)  # fmt: skip


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate(SMALL, seed=7, as_of=AS_OF)


def monthly_by_family(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Shipped quantity per family (rows) and calendar month 1-12 (columns), full months only."""
    lines = frames["shipments"].merge(frames["items"][["sku", "family"]], on="sku")
    lines = lines[lines["ship_date"] < pd.Timestamp("2026-11-01")]
    return lines.groupby(["family", lines["ship_date"].dt.month])["qty"].sum().unstack()


def test_same_seed_same_frames_other_seed_other_frames(small: dict[str, pd.DataFrame]) -> None:
    again = generate(SMALL, seed=7, as_of=AS_OF)
    assert again.keys() == small.keys()
    for name, frame in small.items():
        pd.testing.assert_frame_equal(frame, again[name])
    other = generate(SMALL, seed=8, as_of=AS_OF)
    assert not other["shipments"].equals(small["shipments"])
    assert not other["stock"].equals(small["stock"])


def test_small_preset_is_respected(small: dict[str, pd.DataFrame]) -> None:
    items = small["items"]
    assert len(items) == SMALL.skus == 40
    families = ["Bikes", "E-Bikes", "Helmets", "Locks", "Lights", "Tyres"]
    assert sorted(items["family"].unique()) == sorted([*families, "Components"])
    assert small["stock"]["warehouse"].nunique() == SMALL.warehouses
    assert len(small["work_centers"]) == SMALL.work_centers
    assert small["work_centers"]["hours_per_month"].gt(0).all()
    assert len(small["open_demand"]) == SMALL.open_sales_lines
    assert len(small["receipts"]) == SMALL.purchase_lines
    assert len(small["production"]) == SMALL.production_orders
    first = small["shipments"]["ship_date"].min()
    assert first >= pd.Timestamp("2023-11-01") and first < pd.Timestamp("2023-12-01")  # 36 months back
    assert small["shipments"]["ship_date"].max() < pd.Timestamp("2026-11-25")
    assert 0.8 * SMALL.shipment_lines <= len(small["shipments"]) <= 1.1 * SMALL.shipment_lines
    forecast = small["forecast"]
    assert forecast.columns.tolist() == ["family", "bucket", "qty"]
    assert sorted(forecast["family"].unique()) == sorted(families)
    assert forecast["bucket"].unique().tolist()[:2] == ["2026-11", "2026-12"] and forecast["bucket"].nunique() == 18
    for entity, frame in small.items():
        if entity != "forecast":
            assert frame.columns.tolist() == COLUMNS[entity]


def test_presets_scale_as_documented() -> None:
    assert (SME_L.skus, SME_L.families, SME_L.warehouses, SME_L.work_centers) == (5_000, 120, 3, 15)
    assert (SME_L.open_sales_lines, SME_L.purchase_lines, SME_L.production_orders) == (20_000, 5_000, 2_000)
    assert SME_L.shipment_lines == 1_400_000 and SME_L.history_months == 36
    assert SME_S.skus == SME_L.skus // 10 and SME_S.shipment_lines == SME_L.shipment_lines // 10
    with pytest.raises(ValueError, match="families"):
        dataclasses.replace(TINY, skus=3)


def test_tiny_custom_size_is_respected_and_valid() -> None:
    frames = generate(TINY, seed=1, as_of=AS_OF)
    assert len(frames["items"]) == 10
    assert frames["items"]["family"].nunique() == 3  # two families and Components
    assert frames["stock"]["warehouse"].unique().tolist() == ["MAIN"]
    assert frames["work_centers"]["code"].tolist() == ["WC01"]
    assert (len(frames["open_demand"]), len(frames["receipts"]), len(frames["production"])) == (7, 5, 3)
    assert frames["shipments"]["ship_date"].min() >= pd.Timestamp("2025-10-01")  # 13 months back
    assert len(frames["forecast"]) == 2 * 18
    snapshot = build_snapshot("demo", AS_OF, {k: v for k, v in frames.items() if k != "forecast"})
    assert len(snapshot.items) == 10


def test_families_have_different_seasonal_peaks(small: dict[str, pd.DataFrame]) -> None:
    by_month = monthly_by_family(small)
    peak = by_month.idxmax(axis=1)
    assert peak["Bikes"] in (4, 5, 6)  # spring
    assert peak["Lights"] in (10, 11, 12, 1)  # dark months
    assert by_month.loc["Lights"].max() > 1.5 * by_month.loc["Lights"].min()


def test_some_skus_sell_intermittently(small: dict[str, pd.DataFrame]) -> None:
    finished = small["items"].loc[small["items"]["family"] != "Components", "sku"]
    months = small["shipments"].assign(month=small["shipments"]["ship_date"].dt.to_period("M"))
    active = months.groupby("sku")["month"].nunique().reindex(finished, fill_value=0)
    intermittent = active < 0.6 * 37
    assert 1 <= intermittent.sum() <= 0.35 * len(finished)


def test_orders_have_past_due_lines_and_all_production_states(small: dict[str, pd.DataFrame]) -> None:
    today = pd.Timestamp("2026-11-25")
    assert (small["open_demand"]["requested_date"] < today).any()
    assert (small["receipts"]["expected_date"] < today).any()
    assert (small["production"]["due_date"] < today).any()
    assert set(small["production"]["state"]) == {"planned", "firm", "running"}
    made = set(small["routings"]["sku"])
    assert set(small["production"]["sku"]) <= made and set(small["bom"]["parent_sku"]) <= made
    components = set(small["items"].loc[small["items"]["family"] == "Components", "sku"])
    assert set(small["bom"]["component_sku"]) <= components
    items = small["items"]
    assert (items["unit_price"] > items["unit_cost"]).all()


def test_some_families_run_short_and_others_do_not(small: dict[str, pd.DataFrame]) -> None:
    """Stock plus open supply against the sales forecast over the next two months, per family."""
    family = small["items"].set_index("sku")["family"]
    horizon = pd.Timestamp("2027-01-01")
    supply = pd.concat(
        [
            small["stock"]["sku"].to_frame().assign(qty=small["stock"]["qty"]),
            small["receipts"].loc[small["receipts"]["expected_date"] < horizon, ["sku", "qty"]],
            small["production"].loc[small["production"]["due_date"] < horizon, ["sku", "qty"]],
        ]
    )
    available = supply.groupby(supply["sku"].map(family))["qty"].sum()
    forecast = small["forecast"]
    needed = forecast[forecast["bucket"] < "2027-01"].groupby("family")["qty"].sum()
    short = (available.reindex(needed.index, fill_value=0) < needed).to_numpy()
    assert short.any() and not short.all()


def test_written_folder_reads_back_through_the_file_connector(tmp_path: Path, small: dict[str, pd.DataFrame]) -> None:
    folder = write_export_folder(tmp_path / "demo", SMALL, seed=7, as_of=AS_OF)
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([*(f"{e}.csv" for e in COLUMNS), "forecast.csv", "mapping.toml"])
    assert tomllib.loads((folder / "mapping.toml").read_text())["snapshot"]["as_of"] == AS_OF.isoformat()
    snapshot = read_export_folder(folder)
    assert snapshot.as_of == AS_OF and snapshot.source == "files:demo"
    for entity in COLUMNS:
        assert len(snapshot.frames[entity]) == len(small[entity]), entity
    assert np.isclose(snapshot.shipments["qty"].sum(), small["shipments"]["qty"].sum())
    assert snapshot.items["unit_cost"].tolist() == small["items"]["unit_cost"].tolist()
    forecast = pd.read_csv(folder / "forecast.csv", dtype={"bucket": str})
    pd.testing.assert_frame_equal(forecast, small["forecast"], check_dtype=False)

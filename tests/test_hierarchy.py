"""Family and SKU baselines that add up: each reconciliation method on numbers whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_functions.baseline import Baseline
from sop_functions.buckets import Horizon
from sop_functions.hierarchy import METHODS, coherent_baseline, reconcile

HORIZON = Horizon(start=pd.Period("2026-11", "M"), periods=2)
ITEMS = pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"]})


def _baseline(level: str, rows: list[tuple[str, str, float, float]]) -> Baseline:
    """``(key, bucket, point, half-width of the 80 % interval)`` rows as a Baseline."""
    frame = pd.DataFrame(rows, columns=[level, "bucket", "baseline", "half"])
    frame["lo_80"] = frame["baseline"] - frame["half"]
    frame["hi_80"] = frame["baseline"] + frame["half"]
    return Baseline(level, HORIZON, frame.drop(columns="half"), pd.DataFrame(), pd.DataFrame())  # type: ignore[arg-type]


SKU = _baseline(
    "sku", [("A", "2026-11", 60, 10), ("B", "2026-11", 20, 30), ("A", "2026-12", 60, 10), ("B", "2026-12", 20, 30)]
)
FAMILY = _baseline("family", [("F", "2026-11", 100, 0.0), ("F", "2026-12", 80, 20)])
HISTORY = pd.DataFrame({"sku": ["A", "B"], "month": pd.PeriodIndex(["2026-10", "2026-10"], freq="M"), "qty": [75, 25]})


def test_each_method_adds_up_and_moves_the_right_numbers() -> None:
    for method in METHODS:
        out = reconcile(SKU, FAMILY, ITEMS, method, HISTORY)
        sums = out.sku.groupby("bucket")["qty"].sum()
        assert out.family.set_index("bucket")["qty"].to_dict() == pytest.approx(sums.to_dict())
    bottom = reconcile(SKU, FAMILY, ITEMS, "bottom_up", HISTORY).family["qty"].tolist()
    assert bottom == [80, 80]
    top = reconcile(SKU, FAMILY, ITEMS, "top_down", HISTORY).sku.set_index(["sku", "bucket"])["qty"]
    assert top[("A", "2026-11")] == pytest.approx(75) and top[("B", "2026-11")] == pytest.approx(25)
    wls = reconcile(SKU, FAMILY, ITEMS, "wls", HISTORY).sku.set_index(["sku", "bucket"])["qty"]
    # November: the family number is certain (no interval), so the sum lands on 100; the uncertain B moves 9x
    # as much as A (variance 30² vs 10²)
    assert wls[("A", "2026-11")] + wls[("B", "2026-11")] == pytest.approx(100)
    assert (wls[("B", "2026-11")] - 20) == pytest.approx(9 * (wls[("A", "2026-11")] - 60))
    # December: the family (variance 20²) moves too: the result lies between 80 (SKUs) and 80 (family) -> 80
    assert wls[("A", "2026-12")] + wls[("B", "2026-12")] == pytest.approx(80)


def test_auto_picks_the_method_best_at_family_level_on_the_backtest() -> None:
    rng = np.random.default_rng(4)
    months = pd.period_range("2023-11", "2026-10", freq="M")
    season = 1 + 0.4 * np.sin(2 * np.pi * np.arange(len(months)) / 12)
    rows = []
    for sku, scale in (("A", 80.0), ("B", 40.0), ("C", 5.0)):
        qty = np.maximum(scale * season + rng.normal(0, scale * 0.15, len(months)), 0).round()
        rows += [(sku, float(q), m.to_timestamp() + pd.Timedelta(days=10)) for q, m in zip(qty, months, strict=True)]
    shipments = pd.DataFrame(rows, columns=["sku", "qty", "ship_date"])
    items = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F", "F", "G"]})
    out = coherent_baseline(shipments, Horizon(start=pd.Period("2026-11", "M"), periods=6), items)
    assert set(out.backtest_wape) == set(METHODS)
    assert out.backtest_wape[out.method] == min(out.backtest_wape.values())
    sums = out.sku.merge(items, on="sku").groupby(["family", "bucket"])["qty"].sum()
    assert out.family.set_index(["family", "bucket"])["qty"].to_numpy() == pytest.approx(sums.to_numpy())

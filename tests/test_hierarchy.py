"""Family and SKU baselines that add up: each reconciliation method on numbers whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_functions.baseline import Baseline
from sop_functions.buckets import Horizon
from sop_functions.hierarchy import METHODS, coherent_baseline, family_backtest, reconcile

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
    out = coherent_baseline(shipments, Horizon(start=pd.Period("2026-11", "M"), periods=6), items, method="auto")
    assert set(out.backtest_wape) == set(METHODS)
    assert out.backtest_wape[out.method] == min(out.backtest_wape.values())
    sums = out.sku.merge(items, on="sku").groupby(["family", "bucket"])["qty"].sum()
    assert out.family.set_index(["family", "bucket"])["qty"].to_numpy() == pytest.approx(sums.to_numpy())


def _flat_shipments(levels: dict[str, list[float]], months: pd.PeriodIndex) -> pd.DataFrame:
    rows = [
        (sku, float(q), m.to_timestamp() + pd.Timedelta(days=10))
        for sku, qty in levels.items()
        for q, m in zip(qty, months, strict=True)
    ]
    return pd.DataFrame(rows, columns=["sku", "qty", "ship_date"])


def test_family_backtest_forecasts_from_before_the_backtest_months_only() -> None:
    """Flat at 10 a month for 3 years, then 100 a month in the 12 backtest months: baselines made before them
    cannot know, so every method's family error is the jump (90 x 12 x 2 SKUs), and ``actual`` is the
    shipments of those months."""
    months = pd.period_range("2022-11", "2026-10", freq="M")
    qty = [10.0] * 36 + [100.0] * 12
    shipments = _flat_shipments({"A": qty, "B": qty}, months)
    items = pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"]})
    errors = family_backtest(shipments, Horizon(start=pd.Period("2026-11", "M"), periods=6), items)
    assert list(errors.index) == ["F"]
    assert errors.loc["F", "actual"] == pytest.approx(2 * 12 * 100)
    for method in METHODS:
        assert errors.loc["F", method] == pytest.approx(2 * 12 * 90, rel=0.02)


def test_auto_rule_is_the_lowest_total_family_wape_ties_to_bottom_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule: one method for the run, the lowest WAPE summed over all families (sum |e| / sum actual), not
    the method that wins most families; on a tie the first of bottom_up, top_down, wls."""
    import sop_functions.hierarchy as hierarchy

    months = pd.period_range("2024-11", "2026-10", freq="M")
    shipments = _flat_shipments({"A": [30.0] * 24, "B": [10.0] * 24, "C": [5.0] * 24}, months)
    items = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F", "F", "G"]})
    horizon = Horizon(start=pd.Period("2026-11", "M"), periods=3)
    # wls wins 2 of 3 families by a little, top_down wins the large one by a lot: top_down has the lowest total
    made_up = pd.DataFrame(
        {"bottom_up": [50.0, 10.0, 10.0], "top_down": [20.0, 12.0, 12.0], "wls": [60.0, 9.0, 9.0]},
        index=pd.Index(["F", "G", "H"], name="family"),
    ).assign(actual=[500.0, 100.0, 100.0])
    monkeypatch.setattr(hierarchy, "family_backtest", lambda *args, **kwargs: made_up)
    out = coherent_baseline(shipments, horizon, items, method="auto")
    assert out.method == "top_down"
    assert out.backtest_wape == pytest.approx({"bottom_up": 70 / 700, "top_down": 44 / 700, "wls": 78 / 700})
    direct = coherent_baseline(shipments, horizon, items, method="top_down")
    assert out.family.equals(direct.family) and out.sku.equals(direct.sku)
    tie = made_up.assign(top_down=made_up["bottom_up"], wls=made_up["bottom_up"])
    monkeypatch.setattr(hierarchy, "family_backtest", lambda *args, **kwargs: tie)
    assert coherent_baseline(shipments, horizon, items, method="auto").method == "bottom_up"


def test_every_method_adds_up_per_family_and_bucket_on_real_baselines() -> None:
    """Two families, SKUs of different sizes and shapes: for each method the family numbers are the sums of their
    SKUs' numbers in every bucket, nothing negative, every SKU x bucket present once."""
    rng = np.random.default_rng(9)
    months = pd.period_range("2023-11", "2026-10", freq="M")
    t = np.arange(len(months))
    levels = {
        "A": 50 + 0.8 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 4, len(t)),
        "B": np.where(rng.random(len(t)) < 0.4, rng.integers(1, 8, len(t)), 0),
        "C": 20 + rng.normal(0, 6, len(t)),
        "D": 200 - 2.0 * t + rng.normal(0, 10, len(t)),
    }
    shipments = _flat_shipments({k: list(np.maximum(v, 0).astype(float)) for k, v in levels.items()}, months)
    items = pd.DataFrame({"sku": ["A", "B", "C", "D"], "family": ["F", "F", "G", "G"]})
    horizon = Horizon(start=pd.Period("2026-11", "M"), periods=6)
    for method in METHODS:
        out = coherent_baseline(shipments, horizon, items, method=method)
        assert len(out.sku) == 4 * 6 and not out.sku.duplicated(["sku", "bucket"]).any()
        assert (out.sku["qty"] >= 0).all()
        sums = out.sku.merge(items, on="sku").groupby(["family", "bucket"])["qty"].sum()
        fam = out.family.set_index(["family", "bucket"])["qty"].sort_index()
        assert fam.index.equals(sums.index) and fam.to_numpy() == pytest.approx(sums.to_numpy())


def test_default_is_wls_without_a_backtest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default follows the development sets' family-level numbers (docs/forecasting.md): WLS, and no second
    pair of baselines for a backtest."""
    import sop_functions.hierarchy as hierarchy

    def no_backtest(*args: object, **kwargs: object) -> pd.DataFrame:
        raise AssertionError("the default must not run the backtest")

    months = pd.period_range("2024-11", "2026-10", freq="M")
    shipments = _flat_shipments({"A": [30.0] * 24, "B": [10.0] * 24}, months)
    items = pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"]})
    monkeypatch.setattr(hierarchy, "family_backtest", no_backtest)
    out = coherent_baseline(shipments, Horizon(start=pd.Period("2026-11", "M"), periods=3), items)
    assert out.method == "wls" and out.backtest_wape == {}

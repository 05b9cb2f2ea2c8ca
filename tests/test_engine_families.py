"""Families: history shares over the last 12 full months, equal split without history, disaggregation."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_functions.families import disaggregate, history_shares, unknown_families

AS_OF = pd.Timestamp("2026-11-16")
ITEMS = pd.DataFrame(
    {
        "sku": ["A", "B", "C", "D", "E", "H"],
        "family": ["F", "F", "F", "G", "G", "K"],
    }
)
SHIPMENTS = pd.DataFrame(
    {
        "sku": ["A", "A", "B", "B", "C", "C", "H"],
        "qty": [1000.0, 60.0, 20.0, 500.0, 4.0, -9.0, -3.0],
        "ship_date": pd.to_datetime(
            ["2025-10-31", "2025-11-01", "2026-10-31", "2026-11-01", "2026-01-10", "2026-02-10", "2026-05-05"]
        ),
    }
)


def shares_of(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["sku"], frame["share"], strict=True))


def test_history_shares_window_clip_and_equal_split() -> None:
    # Window 2025-11-01 .. 2026-10-31: A 60 (its 1000 on 2025-10-31 is before), B 20 (its 500 is in the
    # as-of month), C 4 - 9 = -5 clipped to 0. G has no history: equal split. K's only SKU has net
    # returns: no positive history, so the equal split gives it 1.
    got = shares_of(history_shares(SHIPMENTS, ITEMS, AS_OF))
    assert got == pytest.approx({"A": 0.75, "B": 0.25, "C": 0.0, "D": 0.5, "E": 0.5, "H": 1.0})


def test_history_shares_window_length() -> None:
    # One month: only 2026-10 counts, where only B shipped.
    got = shares_of(history_shares(SHIPMENTS, ITEMS, AS_OF, months=1))
    assert got == pytest.approx({"A": 0.0, "B": 1.0, "C": 0.0, "D": 0.5, "E": 0.5, "H": 1.0})


def test_history_shares_without_any_shipments() -> None:
    got = shares_of(history_shares(SHIPMENTS.iloc[0:0], ITEMS, AS_OF))
    assert got == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3, "D": 0.5, "E": 0.5, "H": 1.0})


def test_disaggregate_splits_in_proportion_and_drops_unknown_families() -> None:
    shares = history_shares(SHIPMENTS, ITEMS, AS_OF)
    family_qty = pd.DataFrame(
        {"family": ["F", "G", "X"], "bucket": ["2026-12", "2026-12", "2026-12"], "qty": [100.0, 9.0, 5.0]}
    )
    got = disaggregate(family_qty, shares).set_index("sku")
    assert dict(got["qty"]) == pytest.approx({"A": 75.0, "B": 25.0, "C": 0.0, "D": 4.5, "E": 4.5})
    assert set(got["bucket"]) == {"2026-12"}
    assert list(unknown_families(family_qty, ITEMS)["family"]) == ["X"]

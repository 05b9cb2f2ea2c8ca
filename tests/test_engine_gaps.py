"""Shortage and excess apart (never netted), the gap that cannot hide a shortage, and when shortages start."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_functions.gaps import shortage_and_excess, signed_gap, timing, top_gaps

PRICE = np.array([250.0, 300.0])
COST = np.array([100.0, 120.0])
SAFETY = np.array([3.0, 5.0])
PROJECTED = np.array([[-5.0, 2.0, 0.0], [10.0, 15.0, 3.0]])  # R, B over three buckets


def test_shortage_and_excess_per_sku_and_money() -> None:
    got = shortage_and_excess(PROJECTED, SAFETY, PRICE, COST)
    assert got["shortage_units"].tolist() == [[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert got["excess_units"].tolist() == [[0.0, 0.0, 0.0], [5.0, 10.0, 0.0]]  # 2 and 3 are below safety stock
    assert got["value_at_risk"].tolist() == [[1250.0, 0.0, 0.0], [0.0, 0.0, 0.0]]  # 5 x price 250
    assert got["cash_tied_up"].tolist() == [[0.0, 0.0, 0.0], [600.0, 1200.0, 0.0]]  # 5 and 10 x cost 120
    assert not np.signbit(got["shortage_units"]).any()  # no -0.0 shown as "-0" in Excel


def test_float_noise_is_not_a_shortage() -> None:
    got = shortage_and_excess(np.array([[-1e-9, -2e-7]]), np.array([0.0]), np.array([10.0]), np.array([1.0]))
    assert got["shortage_units"].tolist() == [[0.0, 0.0]]


def test_signed_gap_never_hides_a_shortage() -> None:
    # a family 5 short with 5 (or 500) in excess elsewhere is -5, not 0
    assert signed_gap(np.array([5.0, 5.0, 0.0]), np.array([5.0, 500.0, 7.0])).tolist() == [-5.0, -5.0, 7.0]


def _long(rows: dict[str, list[float]], price: float) -> pd.DataFrame:
    labels = ["PAST_DUE", "m1", "m2", "m3"]
    frame = pd.DataFrame(
        [(k, b, u) for k, units in rows.items() for b, u in zip(labels, units, strict=True)],
        columns=["family", "bucket", "shortage_units_firm"],
    )
    frame["bucket"] = pd.Categorical(frame["bucket"], categories=labels, ordered=True)
    frame["value_at_risk_firm"] = frame["shortage_units_firm"] * price
    return frame


def test_timing_first_worst_months_and_window() -> None:
    frame = _long({"A": [0, 2, 7, 3], "B": [0, 0, 0, 0], "C": [4, 0, 0, 9]}, price=10.0)
    got = timing(frame, "family", "firm", window=2).set_index("family")
    assert got.loc["A", ["first_short_bucket", "first_shortage_units", "months_short"]].tolist() == ["m1", 2.0, 3]
    assert got.loc["A", ["worst_bucket", "worst_shortage_units", "worst_value_at_risk"]].tolist() == ["m2", 7.0, 70.0]
    assert got.loc["A", "value_at_risk_window"] == 70.0  # PAST_DUE, m1, m2
    assert got.loc["B", ["first_short_bucket", "months_short", "worst_bucket"]].tolist() == ["", 0, ""]
    assert got.loc["C", ["first_short_bucket", "worst_bucket"]].tolist() == ["PAST_DUE", "m3"]
    assert got.loc["C", ["shortage_units_window", "value_at_risk_window"]].tolist() == [4.0, 40.0]  # m3 is outside


def test_top_gaps_rank_what_stays_short_after_the_proposal_first() -> None:
    t = pd.DataFrame(
        {
            "family": ["A", "B", "C", "D"],
            "first_short_bucket_firm": ["2026-12", "PAST_DUE", "2027-03", ""],
            "first_shortage_units_firm": [1.0, 2.0, 3.0, 0.0],
            "months_short_firm": [3, 1, 2, 0],
            "worst_bucket_firm": ["2027-02", "PAST_DUE", "2027-03", ""],
            "worst_shortage_units_firm": [9.0, 2.0, 3.0, 0.0],
            "value_at_risk_window_firm": [900.0, 200.0, 0.0, 0.0],
            "first_short_bucket_proposed": ["", "PAST_DUE", "2027-03", ""],
            "shortage_units_window_proposed": [0.0, 2.0, 0.0, 0.0],
            "value_at_risk_window_proposed": [0.0, 200.0, 0.0, 0.0],
            "months_short_proposed": [0, 1, 1, 0],
        }
    )
    got = top_gaps(t, pd.Series({"B": "lead time (1 SKU)"}))
    assert got["family"].tolist() == ["B", "A", "C"]  # still short after the proposal, then by risk, then date
    assert got["rank"].tolist() == [1, 2, 3]
    assert got["why_short"].tolist() == ["lead time (1 SKU)", "", ""]
    assert top_gaps(t, pd.Series(dtype=object), n=1)["family"].tolist() == ["B"]

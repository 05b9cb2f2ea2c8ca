"""Shortage and excess: where demand goes unserved, and where stock ties up cash. Never netted.

Per SKU, bucket and layer (``firm``: what the ERP already has; ``proposed``: with the planned supply):

- ``shortage_units = max(0, -projected)``: demand to date not covered by stock plus supply to date (a
  backlog: it stays until supply catches up); ``value_at_risk = shortage_units x unit price``;
- ``excess_units = max(0, projected - safety stock)``: stock above what the plan needs;
  ``cash_tied_up = excess_units x unit cost``.

A family's shortage is the **sum of its SKUs' shortages** and its excess the sum of their excesses: a red
bike cannot fill an order for a blue one, so one SKU's surplus never offsets another's shortage. A
single signed **gap** exists only in the form that cannot hide a shortage: ``-shortage`` whenever anything
is short, else ``+excess`` (``SOP_GAP``; units, or money: ``-value at risk`` / ``+cash tied up``).

**When**, per family or SKU and layer (:func:`timing`): the first short bucket and the shortage there, how
many buckets are short, the worst bucket, and the value at risk within the next ``window`` months (the
largest backlog value in ``PAST_DUE`` and the first ``window`` months): what goes short first, how badly,
and what it is worth while there is still time to act.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .inventory import DECIMALS

LAYERS = ("firm", "proposed")
EPSILON = 1e-4
"""Units. A backlog or a surplus below a ten-thousandth of a unit is float or LP-solver noise (the LP's
stock lands within ~1e-6 of its target: 69.0000014 against a safety stock of 69), not a shortage or an
excess; ERPs keep quantities to 2-4 decimals."""
WINDOW = 6
"""Default decision window in months: value at risk is measured over ``PAST_DUE`` + the next 6 months."""
TIMING_COLUMNS = (
    "first_short_bucket",
    "first_shortage_units",
    "months_short",
    "worst_bucket",
    "worst_shortage_units",
    "worst_value_at_risk",
    "shortage_units_window",
    "value_at_risk_window",
)


def shortage_and_excess(
    projected: np.ndarray, safety: np.ndarray, price: np.ndarray, cost: np.ndarray
) -> dict[str, np.ndarray]:
    """``shortage_units, value_at_risk, excess_units, cash_tied_up`` for ``(rows, buckets)`` projections."""
    shortage = np.maximum(0.0, -projected) + 0.0
    shortage = np.where(shortage < EPSILON, 0.0, shortage)
    excess = np.maximum(0.0, projected - safety[:, None]) + 0.0
    excess = np.where(excess < EPSILON, 0.0, excess)
    return {
        "shortage_units": shortage,
        "value_at_risk": shortage * price[:, None],
        "excess_units": excess,
        "cash_tied_up": excess * cost[:, None],
    }


def signed_gap(shortage: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """The gap that cannot hide a shortage: ``-shortage`` where anything is short, else ``+excess``."""
    return np.where(shortage > 0, -shortage, excess) + 0.0


def timing(frame: pd.DataFrame, key: str, layer: str, window: int = WINDOW) -> pd.DataFrame:
    """Per ``key`` (family or sku): :data:`TIMING_COLUMNS` of one layer, from a long plan frame.

    ``frame`` has ``key, bucket`` (an ordered categorical starting with ``PAST_DUE``) and the layer's
    ``shortage_units_<layer>`` and ``value_at_risk_<layer>``, every bucket of each key in order. Keys that
    are never short get empty first/worst buckets and zeros.
    """
    units = frame[f"shortage_units_{layer}"].to_numpy(dtype=float)
    value = frame[f"value_at_risk_{layer}"].to_numpy(dtype=float)
    keys = frame[key].to_numpy()
    labels = frame["bucket"].astype(str).to_numpy()
    position = frame["bucket"].cat.codes.to_numpy()
    order = pd.Index(pd.unique(keys))
    group = order.get_indexer(pd.Index(keys))
    n = len(order)
    short = units > 0
    months = np.bincount(group, weights=short.astype(float), minlength=n).astype(np.int64)
    first_row = np.full(n, -1)
    rows = np.nonzero(short)[0][::-1]  # reversed: the earliest row of each group is written last
    first_row[group[rows]] = rows
    worst_row = np.full(n, -1)
    idx = np.nonzero(short)[0]
    if len(idx):  # per group the largest value at risk, then the most units, then the earliest bucket
        ordered = idx[np.lexsort((idx, -units[idx], -value[idx], group[idx]))]
        lead = np.r_[True, group[ordered][1:] != group[ordered][:-1]]
        worst_row[group[ordered][lead]] = ordered[lead]
    in_window = position <= window
    units_window = np.zeros(n)
    value_window = np.zeros(n)
    np.maximum.at(units_window, group[in_window], units[in_window])
    np.maximum.at(value_window, group[in_window], value[in_window])

    def pick(values: np.ndarray, where: np.ndarray, empty: object) -> np.ndarray:
        out = np.full(n, empty, dtype=object if isinstance(empty, str) else float)
        found = where >= 0
        out[found] = values[where[found]]
        return out

    return pd.DataFrame(
        {
            key: order.to_numpy(),
            "first_short_bucket": pick(labels, first_row, ""),
            "first_shortage_units": pick(units, first_row, 0.0),
            "months_short": months,
            "worst_bucket": pick(labels, worst_row, ""),
            "worst_shortage_units": pick(units, worst_row, 0.0),
            "worst_value_at_risk": pick(value, worst_row, 0.0),
            "shortage_units_window": np.round(units_window, DECIMALS),
            "value_at_risk_window": np.round(value_window, DECIMALS),
        }
    )


def timing_both(frame: pd.DataFrame, key: str, window: int = WINDOW) -> pd.DataFrame:
    """:func:`timing` of both layers side by side, columns suffixed ``_firm`` and ``_proposed``."""
    out: pd.DataFrame | None = None
    for layer in LAYERS:
        part = timing(frame, key, layer, window).rename(columns={c: f"{c}_{layer}" for c in TIMING_COLUMNS})
        out = part if out is None else out.merge(part, on=key, how="outer")
    assert out is not None
    return out


TOP_GAP_COLUMNS = (
    "rank",
    "family",
    "first_short_bucket_firm",
    "first_shortage_units_firm",
    "months_short_firm",
    "worst_bucket_firm",
    "worst_shortage_units_firm",
    "value_at_risk_window_firm",
    "first_short_bucket_proposed",
    "shortage_units_window_proposed",
    "value_at_risk_window_proposed",
    "why_short",
)


def top_gaps(family_timing: pd.DataFrame, reasons: pd.Series, n: int = 10) -> pd.DataFrame:
    """The families that go short, most urgent first: :data:`TOP_GAP_COLUMNS`.

    Ranked by what is still at risk after the proposed plan within the window (what the meeting must
    decide), then by what is at risk if nothing changes (what the proposal must fix), then by the first
    short month. A family with no shortage in either layer is not listed. ``reasons`` maps a family to
    why it stays short after the proposal (empty when the proposal covers it).
    """
    t = family_timing
    short = t[(t["months_short_firm"] > 0) | (t["months_short_proposed"] > 0)].copy()
    first = short["first_short_bucket_firm"].where(
        short["first_short_bucket_firm"] != "", short["first_short_bucket_proposed"]
    )
    short["_first"] = first.map(lambda b: "0000" if b == "PAST_DUE" else b)
    ranked = short.sort_values(
        ["value_at_risk_window_proposed", "value_at_risk_window_firm", "_first", "family"],
        ascending=[False, False, True, True],
        kind="stable",
    ).head(n)
    ranked["why_short"] = ranked["family"].map(reasons).fillna("")
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype="int64"))
    return ranked[list(TOP_GAP_COLUMNS)].reset_index(drop=True)


def family_sums(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``family, bucket`` and ``columns`` summed over each family's SKUs."""
    grouped = frame.groupby(["family", "bucket"], observed=True, sort=True)
    return grouped[list(columns)].sum().round(DECIMALS).reset_index()

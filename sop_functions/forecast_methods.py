"""The pieces the statistical baseline is made of: monthly history, demand classes, outliers, model groups.

Every function works on a whole panel at once (one row per series, one column per month, NaN before a
series starts), so preparing 5,000 series costs a few numpy passes, not 5,000 Python loops.

Demand classes follow Syntetos & Boylan (2005): ADI (average interval between months with demand) and
CV² (squared coefficient of variation of the non-zero quantities) split series into *smooth*, *erratic*,
*intermittent* and *lumpy*; the last two get Croston-family models.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from statsforecast.models import ADIDA, IMAPA, TSB, CrostonSBA, HistoricAverage

from .buckets import Horizon
from .combination import Combination

Level = Literal["sku", "family"]
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
HAMPEL_HALF_WINDOW = 3
"""Hampel filter: a month is compared with the 7 months centred on it."""
HAMPEL_K = 5.0
"""...and is an outlier beyond 5 robust standard deviations (1.4826 x MAD of the series' residuals
around that rolling median) from it."""
RATIO_K = 1.0
"""...and is also more than double (or less than half) that median: a planner's obvious one-off, not a bump
that only looks far because the series is smooth."""
IQR_K = 3.0
"""Intermittent series: a non-zero quantity above Q3 + 3 x IQR of the non-zero quantities is an outlier."""
MAD_SCALE = 1.4826
CLIP_DIPS = False
"""Continuous series: clip only spikes, not dips. Raising isolated dips to the Hampel bound cost accuracy on
5 of the 6 development cases (M1 and Tourism monthly, full / 36 / 24 months) on both sMAPE and MASE; leaving
them alone gained 0.0065 sMAPE and 0.0015 MASE on average (Tourism full: 0.015 / 0.0057), lost 0.012 /
0.0011 on M1 24 months. bench/RESULTS.md, issue #17."""

INTERMITTENT_METHODS = ("CrostonSBA", "ADIDA", "IMAPA", "TSB")
"""Candidates for intermittent/lumpy series. SBA (Syntetos-Boylan, Croston debiased) replaced CrostonOptimized:
on bench/forecast_intermittent.py's simulated set (3 seeds, 36 and 60 months) the choice with SBA had 1-2 %
lower MASE and 0.3-0.9 % lower RMSSE every time, for a slightly larger under-forecast (mean sME -0.09 vs -0.06)."""
COMBINATIONS = ("ETS+Theta", "Theta")
"""The continuous-demand models (sop_functions.combination): with AutoETS, and DOTM alone (the cheap one)."""
SEASONAL_METHODS = ("SeasonalNaive", *COMBINATIONS)


@dataclass(frozen=True)
class Panel:
    """Monthly history of many series ending with the month before the horizon starts."""

    keys: np.ndarray
    """Series names (SKU codes or family names), sorted."""
    months: pd.PeriodIndex
    """The panel's columns, oldest first; the last is the month before the as-of month."""
    values: np.ndarray
    """keys x months, float64; NaN before a series' first month with a shipment."""

    @property
    def lengths(self) -> np.ndarray:
        lengths: np.ndarray = np.isfinite(self.values).sum(axis=1)
        return lengths


def monthly_panel(
    shipments: pd.DataFrame,
    horizon: Horizon,
    *,
    items: pd.DataFrame | None = None,
    level: Level = "sku",
    max_months: int | None = None,
) -> Panel:
    """Shipments summed per series and month, up to the month before the horizon (the as-of month is partial).

    A series starts with its first month holding a shipment; later months without one are 0. Net monthly
    quantities below 0 (more returned than shipped) count as 0: demand is never negative. ``level="family"``
    needs ``items`` (``sku``, ``family``); shipments of SKUs without an item raise ValueError.
    """
    if horizon.grain != "month":
        raise ValueError("the statistical baseline works on month buckets; the horizon is in weeks")
    if level == "family":
        if items is None:
            raise ValueError("a family baseline needs the items (sku -> family)")
        family = pd.Series(items["family"].to_numpy(), index=items["sku"].to_numpy())
        keys = shipments["sku"].map(family)
        unknown = shipments["sku"][keys.isna()].unique()
        if len(unknown):
            raise ValueError(f"shipments of SKU(s) without an item: {', '.join(map(str, unknown[:10]))}")
    elif level == "sku":
        keys = shipments["sku"]
    else:
        raise ValueError(f"level must be 'sku' or 'family', got {level!r}")
    dates = pd.to_datetime(shipments["ship_date"])
    offset = ((dates.dt.year - horizon.start.year) * 12 + (dates.dt.month - horizon.start.month)).to_numpy()
    past = offset < 0
    codes, names = pd.factorize(keys.to_numpy()[past], sort=True)
    offset = offset[past]
    width = int(-offset.min()) if len(offset) else 1
    if max_months is not None:
        width = min(width, max_months)
    keep = offset >= -width
    cols = offset[keep] + width
    flat = codes[keep].astype("int64") * width + cols
    qty = shipments["qty"].to_numpy(dtype="float64")[past][keep]
    totals = np.bincount(flat, weights=qty, minlength=len(names) * width).reshape(len(names), width)
    lines = np.bincount(flat, minlength=len(names) * width).reshape(len(names), width)
    started = np.maximum.accumulate(lines > 0, axis=1)
    values = np.where(started, np.clip(totals, 0.0, None), np.nan)
    months = pd.period_range(end=horizon.start - 1, periods=width, freq="M")
    return Panel(np.asarray(names, dtype=object), months, values)


def demand_classes(values: np.ndarray, min_history: int) -> pd.DataFrame:
    """``history_months, nonzero_months, adi, cv2, demand_class`` per panel row.

    Classes: ``no_demand`` (nothing but zeros), ``short`` (fewer than ``min_history`` months), then the
    Syntetos-Boylan classes ``smooth``, ``erratic``, ``intermittent``, ``lumpy``.
    """
    valid = np.isfinite(values)
    n = valid.sum(axis=1)
    positive = valid & (np.nan_to_num(values) > 0)
    k = positive.sum(axis=1)
    sizes = np.where(positive, values, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(sizes, axis=1)
        cv2 = (np.nanstd(sizes, axis=1) / mean) ** 2
        adi = n / k
    cv2 = np.where(k > 0, cv2, np.nan)
    adi = np.where(k > 0, adi, np.nan)
    sparse = adi >= ADI_CUTOFF
    variable = cv2 >= CV2_CUTOFF
    cls = np.where(sparse, np.where(variable, "lumpy", "intermittent"), np.where(variable, "erratic", "smooth"))
    cls = np.where(n < min_history, "short", cls)
    cls = np.where(k == 0, "no_demand", cls)
    return pd.DataFrame({"history_months": n, "nonzero_months": k, "adi": adi, "cv2": cv2, "demand_class": cls})


def clip_outliers(
    values: np.ndarray, intermittent: np.ndarray, season_length: int, *, dips: bool = CLIP_DIPS
) -> tuple[np.ndarray, np.ndarray]:
    """The panel with outliers clipped, and a boolean mask of the clipped cells.

    Continuous series: Hampel filter, spikes only (a month beyond ``HAMPEL_K`` robust standard deviations
    above the median of the 7 months around it, and more than double that median, is clipped down to the
    bound), only if its neighbours are not far up too (a run of such months is an event), with a seasonal
    guard: the same calendar month must exist in another year and *not* be far up there too, so a peak that
    recurs every year is seasonality, not an outlier, even when it grows year on year. With a single year of
    a calendar month nothing is clipped in it (a one-off cannot be told from a season). Dips are left alone
    (``dips=False``, ``CLIP_DIPS``): a month of shipments far below its neighbours is mostly volume that shipped a month
    early or late, or really lost; raising it adds volume that never was demand.
    Intermittent series (``intermittent`` rows): only non-zero quantities above
    Q3 + ``IQR_K`` x IQR of the series' non-zero quantities are clipped; zeros are their normal state.
    """
    width = values.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        half = HAMPEL_HALF_WINDOW
        padded = np.pad(values, ((0, 0), (half, half)), constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=1)
        median = np.nanmedian(windows, axis=2)
        # robust spread of the residuals around the rolling median, one per series: a 7-month window's own
        # MAD is too noisy (often 0 or 1 on integer data) to judge a month by
        residual = values - median
        spread = np.nanmedian(np.abs(residual - np.nanmedian(residual, axis=1, keepdims=True)), axis=1, keepdims=True)
        scale = np.broadcast_to(MAD_SCALE * spread, values.shape)
        bound = HAMPEL_K * scale
        finite = np.isfinite(values) & (scale > 0)
        ratio = 1.0 + RATIO_K
        up = finite & (values > median + bound) & (values > ratio * median)
        down = finite & (values < median - bound) & (values * ratio < median) & dips
        up, down = _isolated(up), _isolated(down)  # two months in a row far the same way: an event, not a one-off
        one_off = np.zeros_like(up)
        for phase in range(min(season_length, width)):
            cols = slice(phase, None, season_length)
            years = np.isfinite(values[:, cols]).sum(axis=1, keepdims=True)
            ups = up[:, cols].sum(axis=1, keepdims=True)
            downs = down[:, cols].sum(axis=1, keepdims=True)
            # an outlier only if another year of the same month exists and is not far the same way
            one_off[:, cols] = (years >= 2) & ((up[:, cols] & (ups == 1)) | (down[:, cols] & (downs == 1)))
        hampel = one_off & ~intermittent[:, None]
        clipped = np.where(hampel, np.clip(values, median - bound, median + bound), values)

        nonzero = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        q1, q3 = np.nanpercentile(nonzero, [25, 75], axis=1)
        enough = (np.isfinite(nonzero).sum(axis=1) >= 4) & intermittent
        upper = np.where(enough, q3 + IQR_K * (q3 - q1), np.inf)
        spikes = (nonzero > upper[:, None]) & intermittent[:, None]
    clipped = np.where(spikes, upper[:, None], clipped)
    return clipped, hampel | spikes


def _isolated(mask: np.ndarray) -> np.ndarray:
    """Cells of ``mask`` whose left and right neighbours are not in it."""
    left = np.pad(mask[:, :-1], ((0, 0), (1, 0)), constant_values=False)
    right = np.pad(mask[:, 1:], ((0, 0), (0, 1)), constant_values=False)
    out: np.ndarray = mask & ~left & ~right
    return out


def volume_rank_share(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per row, the share of total volume held by the rows ranked above it (0 for the biggest): ABC ranking.

    ``weights`` (e.g. unit price) turns units into value so a bolt and a bike compare.
    """
    volume = np.nansum(values, axis=1) * (1.0 if weights is None else weights)
    order = np.argsort(-volume, kind="stable")
    total = volume.sum()
    before: np.ndarray = np.empty_like(volume)
    before[order] = np.concatenate([[0.0], np.cumsum(volume[order])[:-1]]) / (total if total > 0 else 1.0)
    return before


def combination_model(season_length: int, ets: bool) -> Combination:
    """Smooth/erratic demand: mean of AutoETS and DOTM (``ets=False``: DOTM alone), cheap challengers inside."""
    return Combination(season_length, ets)


def intermittent_models() -> list[Any]:
    return [CrostonSBA(), ADIDA(), IMAPA(), TSB(alpha_d=0.2, alpha_p=0.2)]


def short_model() -> Any:
    """Less than ``min_history`` months: the mean of what there is (flagged ``short_history``)."""
    return HistoricAverage()


def model_name(model: Any) -> str:
    return str(getattr(model, "alias", None) or repr(model))

"""The forecast of continuous demand: the mean of AutoETS and the dynamic optimised Theta method (DOTM), or
of AutoETS and AutoTheta from ``LONG_HISTORY`` months of history on.

Why a combination: on the forecasting competitions' monthly sets an equal-weight mean of two different good
models beats each of them and beats choosing one per series (docs/forecasting.md has the numbers). ETS and
DOTM err differently (ETS picks a trend and season shape by AICc, DOTM extrapolates a damped drift of the
deseasonalised level), so their mean is steadier than either.

Why a cheap challenger: on two years of history ETS and Theta often cannot estimate a season that seasonal
naive simply repeats. Each series therefore checks, on 3 rolling origins of its own history, the
combination against seasonal naive and naive, the members' parameters fixed from the one fit (statsforecast's
``forward``: no refit, so this costs a few per cent of the fit). A challenger replaces the combination only
when its error over those origins is more than ``MARGIN`` below the combination's: with thin evidence the
combination stays (shrinkage toward the combination).

Backtest: asked for ``fitted`` values, the model returns the chosen method's forecast from the last rolling
origin (the ``he`` months before the end, forecast from ``he`` months back) at those months, NaN elsewhere:
the planner's "holdout" error of the method actually used, without a second fit.

Intervals: the envelope of the members' intervals (lowest lower, highest upper bound), its half-widths
scaled per level by ``WIDTH``, calibrated on M1 and Tourism monthly, the development sets: model intervals
alone ignore the uncertainty of the model itself and cover too little.

The class follows statsforecast's model interface (``forecast``, ``new``, ``alias``), so one
``StatsForecast.forecast`` call runs it on all series, on local processes or a Dask cluster. Pure: no I/O.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import ets as _ets_module
from statsforecast import theta as _theta_module

ETS: Any = _ets_module  # statsforecast's per-series kernels are untyped
THETA: Any = _theta_module

LONG_HISTORY = 120
"""From 10 years of history on, the Theta member is statsforecast's AutoTheta (STM, OTM, DSTM or DOTM by
in-sample MSE) instead of DOTM: with that much data the choice among the four pays (Tourism monthly, full
length: 18.81 vs 18.99 sMAPE, MASE 1.527 vs 1.543; M1 full 14.24 vs 14.25, 1.049 either way); on shorter
histories DOTM alone is better (M1 36 months: ETS+DOTM 15.33 vs ETS+AutoTheta 16.26). bench/forecast_members.py."""
MARGIN = 0.3
"""A challenger must beat the combination's rolling-origin error by more than 30 % to replace it."""
ORIGINS = 3
WIDTH_LEVELS = (0.0, 80.0, 95.0, 100.0)
WIDTH = (1.0, 1.0, 1.25, 1.25)
"""Half-width factors of the members' interval envelope at 80 and 95 % (others interpolated)."""
CHALLENGERS = ("SeasonalNaive", "Naive")


def width_factor(level: float) -> float:
    return float(np.interp(level, WIDTH_LEVELS, WIDTH))


class Combination:
    """statsforecast model: mean of AutoETS and DOTM (AutoTheta on ``LONG_HISTORY`` months or more; ``ets=False``:
    DOTM alone, the cheap variant)."""

    uses_exog = False

    def __init__(self, season_length: int = 12, ets: bool = True, alias: str | None = None) -> None:
        self.season_length = season_length
        self.ets = ets
        self.alias = alias or ("ETS+Theta" if ets else "Theta")

    def __repr__(self) -> str:
        return self.alias

    def new(self) -> Combination:
        return Combination(self.season_length, self.ets, self.alias)

    def forecast(
        self,
        y: np.ndarray,
        h: int,
        X: Any = None,
        X_future: Any = None,
        level: Sequence[int] | None = None,
        fitted: bool = False,
    ) -> dict[str, np.ndarray]:
        return combine(np.asarray(y, dtype="float64"), h, self.season_length, self.ets, level, fitted)


def combine(
    y: np.ndarray, h: int, m: int, use_ets: bool, level: Sequence[int] | None, fitted: bool = False
) -> dict[str, np.ndarray]:
    """Point forecast and intervals of one series (see the module docstring for the rule); with ``fitted``
    also the chosen method's last-origin backtest (``fitted``, NaN outside those months; no bounds)."""
    levels = sorted(level or [])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        members = _fit(y, m, use_ets)
        if not members:  # nothing could be fitted (e.g. 3 points): the last value
            return _with_backtest(_flat(y, h, levels), np.full(len(y), np.nan), levels, fitted)
        outs = [fc(h, levels) for _, fc in members]
        point = np.mean([np.maximum(o["mean"], 0.0) for o in outs], axis=0)
        choice, backtest = _challenger(y, h, m, members)
    centre = cheap_forecast(choice, y, h, m) if choice is not None else point
    res = {"mean": centre}
    for lv in levels:
        w = width_factor(lv)
        lo = np.min([o[f"lo-{lv}"] for o in outs], axis=0)
        hi = np.max([o[f"hi-{lv}"] for o in outs], axis=0)
        res[f"lo-{lv}"] = centre - w * np.maximum(point - lo, 0.0)
        res[f"hi-{lv}"] = centre + w * np.maximum(hi - point, 0.0)
    return _with_backtest(res, backtest, levels, fitted)


def _with_backtest(
    res: dict[str, np.ndarray], backtest: np.ndarray, levels: Sequence[int], fitted: bool
) -> dict[str, np.ndarray]:
    """statsforecast's ``fitted`` slot holds as many columns as the forecast: the backtest, no bounds (NaN)."""
    if fitted:
        res["fitted"] = backtest
        for lv in levels:
            res[f"fitted-lo-{lv}"] = np.full(len(backtest), np.nan)
            res[f"fitted-hi-{lv}"] = np.full(len(backtest), np.nan)
    return res


# -- members ------------------------------------------------------------------------------------------------

_Forecaster = Any  # (h, levels) -> dict of mean / lo-L / hi-L
_Forward = Any  # (y_head, h) -> point forecast


def _fit(y: np.ndarray, m: int, use_ets: bool) -> list[tuple[_Forward, _Forecaster]]:
    """The fitted members as (forward on a shorter history, forecast of the horizon) pairs."""
    members: list[tuple[_Forward, _Forecaster]] = []
    if use_ets:
        try:
            ets = ETS.ets_f(y, m=m)
            members.append(
                (
                    lambda head, k, ets=ets: ETS.forecast_ets(ETS.forward_ets(ets, head), k)["mean"],
                    lambda k, lv, ets=ets: ETS.forecast_ets(ets, k, level=lv or None),
                )
            )
        except Exception:  # a member that cannot be fitted leaves the other
            pass
    try:
        theta = THETA.auto_theta(y, m=m, model=None if use_ets and len(y) >= LONG_HISTORY else "DOTM")
        members.append(
            (
                lambda head, k, theta=theta: THETA.forecast_theta(THETA.forward_theta(theta, head), k)["mean"],
                lambda k, lv, theta=theta: THETA.forecast_theta(theta, k, level=lv or None),
            )
        )
    except Exception:  # likewise
        pass
    return members


def cheap_forecast(name: str, y: np.ndarray, h: int, m: int) -> np.ndarray:
    """Seasonal naive (last season repeated; naive under one season of history) or naive (last value)."""
    if name == "SeasonalNaive" and len(y) >= m:
        return np.resize(y[-m:], h).astype("float64")
    return np.full(h, float(y[-1]))


def _flat(y: np.ndarray, h: int, levels: Sequence[int]) -> dict[str, np.ndarray]:
    point = np.full(h, float(y[-1]) if len(y) else 0.0)
    spread = float(np.std(y)) if len(y) > 1 else 0.0
    res = {"mean": point}
    for lv in levels:
        res[f"lo-{lv}"] = point - 2 * spread
        res[f"hi-{lv}"] = point + 2 * spread
    return res


def origins(n: int, h: int) -> tuple[int, list[int]]:
    """The rolling-origin check: lead times ``he`` and the origins (history lengths) it forecasts from.

    ``he`` = the horizon, at most a quarter of the history (at least 3); origins ``he // 3`` apart, the last
    one ``he`` months before the end, so every origin is scored on ``he`` known months.
    """
    he = min(h, max(3, n // 4))
    step = max(1, he // 3)
    return he, [n - he - j * step for j in range(ORIGINS) if n - he - j * step >= 3]


def _challenger(
    y: np.ndarray, h: int, m: int, members: list[tuple[_Forward, _Forecaster]]
) -> tuple[str | None, np.ndarray]:
    """The cheap method that beats the combination on the rolling origins by more than ``MARGIN`` (None: the
    combination stays), and the chosen method's forecast from the last origin at its months (NaN elsewhere)."""
    he, starts = origins(len(y), h)
    backtest = np.full(len(y), np.nan)
    errors = {"combination": 0.0, **{c: 0.0 for c in CHALLENGERS}}
    last: dict[str, np.ndarray] = {}
    for o in starts:
        head, actual = y[:o], y[o : o + he]
        try:
            combo = np.mean([np.maximum(fwd(head, he), 0.0) for fwd, _ in members], axis=0)
        except Exception:
            return None, backtest  # the combination cannot be checked here: keep it
        if not np.all(np.isfinite(combo)):
            return None, backtest
        errors["combination"] += float(np.abs(combo - actual).sum())
        forecasts = {"combination": combo, **{c: cheap_forecast(c, head, he, m) for c in CHALLENGERS}}
        for name in CHALLENGERS:
            errors[name] += float(np.abs(forecasts[name] - actual).sum())
        last = last or forecasts  # starts[0] is the last origin
    if not starts:
        return None, backtest
    best = min(CHALLENGERS, key=lambda c: errors[c])
    choice = best if errors[best] < (1 - MARGIN) * errors["combination"] else None
    backtest[starts[0] : starts[0] + he] = last[choice or "combination"]
    return choice, backtest


def rolling_checks(values: np.ndarray, rows: np.ndarray, h: int, m: int) -> pd.DataFrame:
    """Per panel row (``rows`` only, NaN elsewhere): ``holdout_months`` (the lead times of the rolling-origin
    check) and ``seasonal_naive_wape`` on the last origin's months (where the combination reports the chosen
    method's backtest), for the planner's view of the check."""
    months = np.full(len(values), np.nan)
    wape = np.full(len(values), np.nan)
    for i in np.flatnonzero(rows):
        y = values[i][np.isfinite(values[i])]
        he, starts = origins(len(y), h)
        if not starts:
            continue
        actual = y[starts[0] : starts[0] + he]
        err = float(np.abs(cheap_forecast("SeasonalNaive", y[: starts[0]], he, m) - actual).sum())
        months[i] = he
        wape[i] = err / float(actual.sum()) if actual.sum() > 0 else np.nan
    return pd.DataFrame({"holdout_months": months, "seasonal_naive_wape": wape})

"""The statistical baseline: a forecast per SKU or family from shipment history, method chosen per series.

Steps (docs/forecasting.md has the why):

1. monthly history per series up to the month before the as-of month; negative net months count as 0;
2. classify each series: ``no_demand``, ``short`` (< ``min_history`` months), else smooth / erratic /
   intermittent / lumpy by ADI and CV²;
3. clip outliers of the history: only isolated, obvious one-offs (Hampel filter at 5 robust sd that also
   doubles or halves the local median, with a seasonal guard; IQR for intermittent series), flagged;
4. smooth and erratic series: the mean of AutoETS and DOTM (sop_functions.combination), replaced by seasonal
   naive or naive only where one beats it by more than 30 % on 3 rolling origins of the series' history
   (``holdout_mae/holdout_wape``: the chosen method on the last of them);
   intermittent and lumpy series: Croston / ADIDA / IMAPA / TSB, lowest RMSE on 3 rolling origins; short
   series get the mean, flagged;
5. 80/95 % prediction intervals: the calibrated envelope of the members' intervals, or from the rolling-origin
   errors for the Croston family; nothing below 0.

Cost: one ``StatsForecast.forecast`` call per model group (plus one ``cross_validation`` for the Croston
family), whatever the number of series; all preparation is vectorised. Pass ``engine`` (a Dask ``Client``,
a fugue engine or its name) to run those calls on a cluster through statsforecast's fugue backend. Pure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast

from .buckets import Horizon
from .combination import CHALLENGERS, ORIGINS, cheap_forecast, rolling_checks
from .forecast_methods import (
    COMBINATIONS,
    Level,
    Panel,
    clip_outliers,
    combination_model,
    demand_classes,
    intermittent_models,
    model_name,
    monthly_panel,
    short_model,
    volume_rank_share,
)

FREQ = "MS"
LONG_HOLDOUT, SHORT_HOLDOUT = 12, 6


@dataclass(frozen=True)
class BaselineConfig:
    season_length: int = 12
    min_history: int = 12
    """Series with fewer months than this get the mean of their history, flagged ``short_history``."""
    levels: tuple[int, ...] = (80, 95)
    ets_share: float = 1.0
    """AutoETS joins the combination for the series making up this share of total volume (1.0: all; the rest
    get DOTM alone, ~10x cheaper). Leaving ETS out of 20 % of M3's volume cost more accuracy than it saved."""
    clip_outliers: bool = True
    n_jobs: int | None = None
    """statsforecast processes; None: all cores for groups of 300+ series, else 1 (pool start-up costs more)."""
    max_history_months: int | None = None


@dataclass(frozen=True, eq=False)
class Baseline:
    """The baseline forecast and how each number was made."""

    level: Level
    horizon: Horizon
    forecast: pd.DataFrame = field(repr=False)
    """``<level>, bucket, baseline, lo_80, hi_80, lo_95, hi_95, method`` per series x horizon month."""
    methods: pd.DataFrame = field(repr=False)
    """Per series: ``<level>, history_months, nonzero_months, adi, cv2, demand_class, candidates, method,
    holdout_months, holdout_mae, holdout_wape, seasonal_naive_wape, outliers, interval_method, flags``."""
    outliers: pd.DataFrame = field(repr=False)
    """Clipped history cells: ``<level>, month, shipped, clipped_to``."""

    def qty(self) -> pd.DataFrame:
        """The point forecast as ``<level>, bucket, qty`` (for the plan, consensus, forecast sheets)."""
        return self.forecast[[self.level, "bucket", "baseline"]].rename(columns={"baseline": "qty"})


def baseline(
    shipments: pd.DataFrame,
    horizon: Horizon,
    *,
    items: pd.DataFrame | None = None,
    level: Level = "family",
    config: BaselineConfig | None = None,
    engine: Any = None,
) -> Baseline:
    """Statistical baseline per family (default) or SKU for the horizon's months, from the shipments.

    ``items`` (``sku, family`` and optionally ``unit_price``) maps SKUs to families and weights the volume
    ranking by value; with ``level="sku"`` items without any shipment appear with a 0 forecast, flagged
    ``no_history``.
    """
    cfg = config or BaselineConfig()
    panel = monthly_panel(shipments, horizon, items=items, level=level, max_months=cfg.max_history_months)
    weights = _weights(panel, items, level)
    return baseline_from_panel(panel, horizon, level, cfg, weights=weights, engine=engine, items=items)


def baseline_from_panel(
    panel: Panel,
    horizon: Horizon,
    level: Level,
    cfg: BaselineConfig,
    *,
    weights: np.ndarray | None = None,
    engine: Any = None,
    items: pd.DataFrame | None = None,
) -> Baseline:
    classes = demand_classes(panel.values, cfg.min_history)
    cls = classes["demand_class"].to_numpy()
    n = classes["history_months"].to_numpy()
    intermittent = np.isin(cls, ["intermittent", "lumpy"])
    values, clipped = panel.values, np.zeros(panel.values.shape, dtype=bool)
    if cfg.clip_outliers and panel.values.size:
        values, clipped = clip_outliers(panel.values, intermittent, cfg.season_length)
    long = _long(panel.keys, panel.months, values)
    modelled = ~np.isin(cls, ["no_demand", "short"])
    continuous = modelled & ~intermittent
    with_ets = continuous & (volume_rank_share(np.where(np.isfinite(values), values, 0.0), weights) < cfg.ets_share)
    holdout = np.where(n >= 2 * cfg.season_length, LONG_HOLDOUT, SHORT_HOLDOUT)
    sparse_groups = [(modelled & intermittent & (holdout == h), h) for h in (LONG_HOLDOUT, SHORT_HOLDOUT)]
    dense_groups = [(with_ets, combination_model(cfg.season_length, True))]
    dense_groups.append((continuous & ~with_ets, combination_model(cfg.season_length, False)))

    candidates = np.full(len(panel.keys), "", dtype=object)
    for mask, model in dense_groups:
        candidates[mask] = ",".join([model_name(model), *CHALLENGERS])
    for mask, _h in sparse_groups:
        candidates[mask] = ",".join(model_name(m) for m in intermittent_models())
    candidates[cls == "short"] = model_name(short_model())
    h_total = horizon.periods
    levels = list(cfg.levels)
    with _engine(engine):
        # 1. intermittent series: rolling-origin errors of the Croston family (one cross_validation per group)
        errors: list[pd.DataFrame] = []
        abs_errors: list[pd.DataFrame] = []
        for mask, h in sparse_groups:
            if mask.any():
                table, absolute = _holdout_errors(long, panel.keys[mask], intermittent_models(), h, cfg)
                errors.append(table)
                abs_errors.append(absolute)
        choice = _choose(errors, panel.keys, intermittent)
        # 2. forecast the horizon: one call per group; the combination checks its cheap challengers itself
        forecasts: list[tuple[pd.DataFrame, bool]] = []
        backtests: list[pd.DataFrame] = []
        for mask, model in dense_groups:
            if mask.any():
                frame, fitted = _forecast_with_backtest(long, panel.keys[mask], model, h_total, levels, cfg)
                forecasts.append((frame, True))
                backtests.append(_backtest_errors(fitted, model_name(model)))
        for mask, _h in sparse_groups:
            if mask.any():
                forecasts.append(
                    (_forecast(long, panel.keys[mask], intermittent_models(), h_total, levels, cfg, False), False)
                )
        short = cls == "short"
        if short.any():
            forecasts.append((_forecast(long, panel.keys[short], [short_model()], h_total, levels, cfg, True), True))
    dense = rolling_checks(values, continuous, h_total, cfg.season_length)
    if backtests:
        errors_of = pd.concat(backtests).reindex(panel.keys.astype(str))
        dense["holdout_mae"] = errors_of["holdout_mae"].to_numpy()
        dense["holdout_wape"] = errors_of["holdout_wape"].to_numpy()
    quantiles = _holdout_quantiles(choice, abs_errors, cfg.levels)
    classes["candidates"] = candidates
    return _assemble(panel, horizon, level, cfg, classes, choice, dense, forecasts, quantiles, values, clipped, items)


# -- statsforecast calls ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _engine(engine: Any) -> Iterator[None]:
    if engine is None:
        yield
        return
    from fugue.execution.api import engine_context

    with engine_context(engine):
        yield


def _n_jobs(cfg: BaselineConfig, series: int) -> int:
    if cfg.n_jobs is not None:
        return cfg.n_jobs
    return -1 if series >= 300 else 1


def _subset(long: pd.DataFrame, keys: np.ndarray) -> pd.DataFrame:
    return long[long["unique_id"].isin(keys)]


def _native(frame: Any) -> pd.DataFrame:
    """statsforecast output (pandas, or a lazy arrow-typed frame from a cluster) as plain float64 pandas."""
    if hasattr(frame, "compute"):  # Dask: bring the (small) result back
        frame = frame.compute()
    elif hasattr(frame, "as_pandas"):  # a fugue DataFrame (e.g. from Ray or Spark engines)
        frame = frame.as_pandas()
    out = pd.DataFrame(frame)
    out["unique_id"] = out["unique_id"].astype(str).astype(object)
    for column in ("ds", "cutoff"):
        if column in out.columns:
            out[column] = pd.to_datetime(out[column].astype("datetime64[ns]"))
    numeric = [c for c in out.columns if c not in ("unique_id", "ds", "cutoff")]
    out[numeric] = out[numeric].astype("float64")
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def _holdout_errors(
    long: pd.DataFrame, keys: np.ndarray, models: list[Any], h: int, cfg: BaselineConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per series and candidate: MAE, RMSE, WAPE and absolute errors of ``ORIGINS`` rolling origins, each
    forecasting ``h`` months (``h // ORIGINS`` apart, refit at each: these models cost microseconds)."""
    sf = StatsForecast(models=models, freq=FREQ, n_jobs=_n_jobs(cfg, len(keys)))
    step = max(1, h // ORIGINS)
    cv = _native(sf.cross_validation(df=_subset(long, keys), h=h, n_windows=ORIGINS, step_size=step))
    rows = []
    for model in models:
        name = model_name(model)
        err = cv[name] - cv["y"]
        frame = pd.DataFrame({"unique_id": cv["unique_id"], "abs": err.abs(), "sq": err**2, "y": cv["y"]})
        agg = frame.groupby("unique_id", sort=False).agg(
            mae=("abs", "mean"), mse=("sq", "mean"), sae=("abs", "sum"), y=("y", "sum")
        )
        agg["method"] = name
        agg["holdout_months"] = h
        rows.append(agg)
    out = pd.concat(rows)
    out["rmse"] = np.sqrt(out["mse"])
    out["wape"] = np.where(out["y"] > 0, out["sae"] / out["y"], np.nan)
    abs_errors = pd.DataFrame({f"abs:{model_name(m)}": (cv[model_name(m)] - cv["y"]).abs() for m in models})
    abs_errors.insert(0, "unique_id", cv["unique_id"])
    return out.reset_index(), abs_errors


def _choose(errors: Sequence[pd.DataFrame], keys: np.ndarray, intermittent: np.ndarray) -> pd.DataFrame:
    """The candidate with the lowest holdout error per series: MAE, or RMSE for intermittent series (MAE
    rewards forecasting zero). Ties go to the candidate listed first (the cheaper one)."""
    if not errors:
        return pd.DataFrame(columns=["method", "holdout_months", "holdout_mae", "holdout_wape", "seasonal_naive_wape"])
    table = pd.concat(errors, ignore_index=True)
    sparse = pd.Series(intermittent, index=keys)
    table["score"] = np.where(sparse.reindex(table["unique_id"]).to_numpy(), table["rmse"], table["mae"])
    table["order"] = np.arange(len(table))
    best = table.sort_values(["unique_id", "score", "order"], kind="stable").drop_duplicates("unique_id")
    best = best.set_index("unique_id")
    out = best[["method", "holdout_months"]].copy()
    out["holdout_mae"] = best["mae"]
    out["holdout_wape"] = best["wape"]
    snaive = table[table["method"] == "SeasonalNaive"].set_index("unique_id")["wape"]
    out["seasonal_naive_wape"] = snaive.reindex(out.index)
    return out


def _forecast(
    long: pd.DataFrame,
    keys: np.ndarray,
    models: list[Any],
    h: int,
    levels: list[int],
    cfg: BaselineConfig,
    native: bool,
) -> pd.DataFrame:
    sf = StatsForecast(models=models, freq=FREQ, n_jobs=_n_jobs(cfg, len(keys)))
    return _native(sf.forecast(df=_subset(long, keys), h=h, level=levels if native else None))


def _forecast_with_backtest(
    long: pd.DataFrame, keys: np.ndarray, model: Any, h: int, levels: list[int], cfg: BaselineConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The combination's forecast and its ``fitted`` values: the chosen method's last-origin backtest."""
    sf = StatsForecast(models=[model], freq=FREQ, n_jobs=_n_jobs(cfg, len(keys)))
    frame = _native(sf.forecast(df=_subset(long, keys), h=h, level=levels, fitted=True))
    return frame, _native(sf.forecast_fitted_values())  # type: ignore[no-untyped-call]


def _backtest_errors(fitted: pd.DataFrame, alias: str) -> pd.DataFrame:
    """Per series: MAE and WAPE of the chosen method's backtest (the months where it is not NaN)."""
    known = fitted[fitted[alias].notna()]
    err = (known[alias] - known["y"]).abs()
    agg = pd.DataFrame({"unique_id": known["unique_id"], "abs": err, "y": known["y"]}).groupby("unique_id").sum()
    counts = known.groupby("unique_id").size()
    out = pd.DataFrame(index=agg.index)
    out["holdout_mae"] = agg["abs"] / counts
    out["holdout_wape"] = np.where(agg["y"] > 0, agg["abs"] / agg["y"].where(agg["y"] > 0, 1.0), np.nan)
    return out


# -- assembling the result ------------------------------------------------------------------------------------


def _long(keys: np.ndarray, months: pd.PeriodIndex, values: np.ndarray) -> pd.DataFrame:
    """The statsforecast input: ``unique_id, ds, y`` of every finite panel cell."""
    rows, cols = np.nonzero(np.isfinite(values))
    starts = months.to_timestamp(how="start")
    return pd.DataFrame(
        {"unique_id": keys[rows].astype(str), "ds": starts[cols].to_numpy(), "y": values[rows, cols].astype("float64")}
    )


def _weights(panel: Panel, items: pd.DataFrame | None, level: Level) -> np.ndarray | None:
    if level != "sku" or items is None or "unit_price" not in items.columns:
        return None
    price = pd.Series(items["unit_price"].to_numpy(dtype="float64"), index=items["sku"].to_numpy())
    weights: np.ndarray = price.reindex(panel.keys).fillna(1.0).clip(lower=0.0).to_numpy()
    return weights


def _assemble(
    panel: Panel,
    horizon: Horizon,
    level: Level,
    cfg: BaselineConfig,
    classes: pd.DataFrame,
    choice: pd.DataFrame,
    dense: pd.DataFrame,
    forecasts: list[tuple[pd.DataFrame, bool]],
    holdout_q: dict[int, pd.Series],
    values: np.ndarray,
    clipped: np.ndarray,
    items: pd.DataFrame | None,
) -> Baseline:
    keys = panel.keys.astype(str)
    methods = classes.copy()
    methods.insert(0, level, keys)
    methods["method"] = choice["method"].reindex(keys).to_numpy()
    methods.loc[methods["demand_class"] == "short", "method"] = "HistoricAverage"
    methods.loc[methods["demand_class"] == "no_demand", "method"] = "Zero"
    for column in ("holdout_months", "holdout_mae", "holdout_wape", "seasonal_naive_wape"):
        methods[column] = choice[column].reindex(keys).to_numpy() if column in choice else np.nan
    checked = dense["holdout_months"].notna().to_numpy()
    for column in ("holdout_months", "holdout_mae", "holdout_wape", "seasonal_naive_wape"):
        if column in dense:
            methods.loc[checked, column] = dense.loc[checked, column].to_numpy()
    methods["outliers"] = clipped.sum(axis=1)

    point_parts, chosen = [], methods.set_index(level)["method"]
    lo_hi = [f"{side}_{lv}" for lv in cfg.levels for side in ("lo", "hi")]
    for frame, native in forecasts:
        combined = [c for c in frame.columns if c in COMBINATIONS]
        if combined:  # the combination's own choice: itself or the cheap challenger whose numbers it returned
            labels = _challenger_labels(frame, combined[0], panel, values, cfg.season_length)
            chosen = pd.Series(labels.to_numpy(), index=labels.index).combine_first(chosen)
            method = labels.reindex(frame["unique_id"]).to_numpy()
            method_cols = np.full(len(frame), combined[0], dtype=object)
        else:
            method = chosen.reindex(frame["unique_id"]).to_numpy()
            method_cols = method
        part = pd.DataFrame({level: frame["unique_id"].to_numpy(), "ds": frame["ds"].to_numpy(), "method": method})
        keep = np.array([m in frame.columns for m in method_cols])
        part, frame, method_cols = part[keep], frame[keep], method_cols[keep]
        part["baseline"] = _pick(frame, method_cols, "")
        for lv in cfg.levels:
            if native:
                part[f"lo_{lv}"] = _pick(frame, method_cols, f"-lo-{lv}")
                part[f"hi_{lv}"] = _pick(frame, method_cols, f"-hi-{lv}")
            else:
                q = holdout_q[lv].reindex(part[level]).to_numpy()
                part[f"lo_{lv}"] = part["baseline"] - q
                part[f"hi_{lv}"] = part["baseline"] + q
        part["interval_method"] = "model" if native else "holdout errors"
        point_parts.append(part)
    methods["method"] = chosen.reindex(keys).to_numpy()
    zero_keys = keys[(methods["method"] == "Zero").to_numpy()]
    extra_keys = _no_history(items, level, keys)
    for names in (zero_keys, extra_keys):
        if len(names):
            point_parts.append(_zeros(names, horizon, level, cfg))
    fc = pd.concat(point_parts, ignore_index=True) if point_parts else _zeros(np.array([]), horizon, level, cfg)
    numbers = ["baseline", *lo_hi]
    fc[numbers] = fc[numbers].clip(lower=0.0)
    fc["bucket"] = pd.to_datetime(fc["ds"]).dt.strftime("%Y-%m")
    fc = fc[fc["bucket"].isin(horizon.buckets)].sort_values([level, "bucket"], kind="stable")
    interval_method = fc.drop_duplicates(level).set_index(level)["interval_method"]
    forecast = fc[[level, "bucket", "baseline", *lo_hi, "method"]].reset_index(drop=True)

    if len(extra_keys):
        extra = pd.DataFrame({level: extra_keys, "demand_class": "no_demand", "method": "Zero"})
        extra[["history_months", "nonzero_months", "outliers"]] = 0
        methods = pd.concat([methods, extra], ignore_index=True)
    methods["interval_method"] = interval_method.reindex(methods[level]).to_numpy()
    methods["flags"] = _flags(methods, set(extra_keys))
    methods = methods.sort_values(level, kind="stable").reset_index(drop=True)
    return Baseline(level, horizon, forecast, methods, _outlier_frame(panel, values, clipped, level))


def _challenger_labels(frame: pd.DataFrame, alias: str, panel: Panel, values: np.ndarray, m: int) -> pd.Series:
    """Per series of a combination's output (``h`` rows each, sorted): ``alias``, or the cheap challenger
    (seasonal naive, naive) whose forecast it returned; the model interface has no other channel for it."""
    ids = frame["unique_id"].to_numpy()[:: len(frame["ds"].unique())]
    point = frame[alias].to_numpy(dtype="float64").reshape(len(ids), -1)
    rows = pd.Index(panel.keys.astype(str)).get_indexer(pd.Index(ids))
    labels = np.full(len(ids), alias, dtype=object)
    for i, row in enumerate(rows):
        y = values[row][np.isfinite(values[row])]
        for name in CHALLENGERS:
            if np.allclose(point[i], cheap_forecast(name, y, point.shape[1], m), rtol=1e-5, atol=1e-6):
                labels[i] = name
                break
    return pd.Series(labels, index=ids)


def _pick(frame: pd.DataFrame, method: np.ndarray, suffix: str) -> np.ndarray:
    """Per row, the column ``<method><suffix>``: one numpy gather over the candidate columns."""
    names = list(dict.fromkeys(method.tolist()))
    matrix = frame[[f"{m}{suffix}" for m in names]].to_numpy(dtype="float64")
    index = pd.Index(names).get_indexer(method)
    picked: np.ndarray = matrix[np.arange(len(frame)), index]
    return picked


def _holdout_quantiles(
    choice: pd.DataFrame, abs_errors: Sequence[pd.DataFrame], levels: Sequence[int]
) -> dict[int, pd.Series]:
    """Per series, quantiles of the chosen method's absolute holdout errors (intervals for Croston & co)."""
    parts = []
    for frame in abs_errors:
        for column in frame.columns[1:]:
            method = column.split(":", 1)[1]
            winners = choice.index[choice["method"] == method]
            sel = frame[frame["unique_id"].isin(winners)]
            parts.append(pd.DataFrame({"unique_id": sel["unique_id"], "abs": sel[column]}))
    if not parts:
        return {lv: pd.Series(dtype="float64") for lv in levels}
    errors = pd.concat(parts).groupby("unique_id")["abs"]
    return {lv: errors.quantile(lv / 100) for lv in levels}


def _zeros(keys: np.ndarray, horizon: Horizon, level: Level, cfg: BaselineConfig) -> pd.DataFrame:
    ds = pd.period_range(horizon.start, periods=horizon.periods, freq="M").to_timestamp(how="start")
    frame = pd.DataFrame({level: np.repeat(keys.astype(str), len(ds)), "ds": np.tile(ds.to_numpy(), len(keys))})
    frame["method"] = "Zero"
    frame["baseline"] = 0.0
    for lv in cfg.levels:
        frame[f"lo_{lv}"] = 0.0
        frame[f"hi_{lv}"] = 0.0
    frame["interval_method"] = "none"
    return frame


def _no_history(items: pd.DataFrame | None, level: Level, keys: np.ndarray) -> np.ndarray:
    if items is None:
        return np.array([], dtype=object)
    names = np.asarray(items[level].astype(str).unique(), dtype=object)
    missing: np.ndarray = np.setdiff1d(names, keys)
    return missing


def _flags(methods: pd.DataFrame, no_history: set[str]) -> list[str]:
    flags = []
    key = methods.columns[0]
    for name, cls, outliers, interval in zip(
        methods[key], methods["demand_class"], methods["outliers"], methods["interval_method"], strict=True
    ):
        parts = []
        if name in no_history:
            parts.append("no_history")
        elif cls == "no_demand":
            parts.append("no_demand")
        if cls == "short":
            parts.append("short_history")
        if outliers:
            parts.append(f"outliers_clipped:{int(outliers)}")
        if interval == "holdout errors":
            parts.append("interval_from_holdout")
        flags.append(",".join(parts))
    return flags


def _outlier_frame(panel: Panel, values: np.ndarray, clipped: np.ndarray, level: Level) -> pd.DataFrame:
    rows, cols = np.nonzero(clipped)
    return pd.DataFrame(
        {
            level: panel.keys[rows].astype(str),
            "month": panel.months[cols].strftime("%Y-%m"),
            "shipped": panel.values[rows, cols],
            "clipped_to": values[rows, cols],
        }
    )

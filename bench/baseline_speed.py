"""Statistical baseline for 5,000 SKUs x 36 months vs bare statsforecast calls on the same data.

``python -m bench.baseline_speed [--size SME-L] [--runs 3]`` prints the median wall time of:

- ``sopxl baseline``: :func:`sop_functions.baseline.baseline` from the raw shipment lines (monthly history,
  classes, outliers, holdout choice, forecast, intervals);
- ``bare, same calls``: the same statsforecast ``cross_validation`` + ``forecast`` calls on the same series
  and model groups, given a ready monthly frame: the floor of what the baseline asks statsforecast to do.
  The ratio to it is the baseline's overhead (goal: at most 1.1);
- ``bare AutoETS``: one ``StatsForecast([AutoETS]).forecast`` with intervals on every series with history:
  the cost of the usual practice (the baseline's goal: at most 1.5x, bench/forecast_competitions.py).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

from bench.data import AS_OF, SIZES
from connectors.demo_data import generate
from sop_functions.baseline import FREQ, BaselineConfig, baseline
from sop_functions.buckets import Horizon
from sop_functions.forecast_methods import (
    COMBINATIONS,
    combination_model,
    intermittent_models,
    monthly_panel,
    short_model,
)

GOAL = 1.1


def _long(shipments: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    panel = monthly_panel(shipments, horizon)
    rows, cols = np.nonzero(np.isfinite(panel.values))
    ds = panel.months.to_timestamp(how="start")
    return pd.DataFrame({"unique_id": panel.keys[rows].astype(str), "ds": ds[cols], "y": panel.values[rows, cols]})


def _bare_same_calls(long: pd.DataFrame, methods: pd.DataFrame, h: int, n_jobs: int) -> int:
    """The statsforecast calls the baseline makes, on the same series subsets, and nothing else."""
    calls = 0

    def ids(mask: pd.Series) -> pd.DataFrame:
        return long[long["unique_id"].isin(methods[mask].iloc[:, 0].astype(str))]

    def jobs(frame: pd.DataFrame) -> int:
        return n_jobs if frame["unique_id"].nunique() >= 300 else 1

    for name, ets in zip(COMBINATIONS, (True, False), strict=True):
        data = ids(methods["candidates"].str.startswith(name + ",", na=False))
        if len(data):
            StatsForecast(models=[combination_model(12, ets)], freq=FREQ, n_jobs=jobs(data)).forecast(
                df=data, h=h, level=[80, 95]
            )
            calls += 1
    for holdout in (12, 6):
        data = ids(
            methods["candidates"].str.startswith("CrostonOptimized", na=False) & (methods["holdout_months"] == holdout)
        )
        if len(data):
            sf = StatsForecast(models=intermittent_models(), freq=FREQ, n_jobs=jobs(data))
            sf.cross_validation(df=data, h=holdout, n_windows=3, step_size=holdout // 3)
            sf.forecast(df=data, h=h)
            calls += 2
    data = ids(methods["demand_class"] == "short")
    if len(data):
        StatsForecast(models=[short_model()], freq=FREQ, n_jobs=1).forecast(df=data, h=h, level=[80, 95])
        calls += 1
    return calls


def _bare_ets(long: pd.DataFrame, h: int) -> int:
    StatsForecast(models=[AutoETS(season_length=12)], freq=FREQ, n_jobs=-1).forecast(df=long, h=h, level=[80, 95])
    return 1


def _interleaved(cases: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """Run the cases in turn, ``runs`` rounds, so a busy machine slows them all alike."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="SME-L", choices=sorted(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    frames = generate(SIZES[args.size], 7, AS_OF)
    shipments, items = frames["shipments"], frames["items"]
    horizon = Horizon.from_as_of(AS_OF.date())
    long = _long(shipments, horizon)
    cfg = BaselineConfig()
    result = baseline(shipments, horizon, items=items, level="sku", config=cfg)
    methods = result.methods[result.methods["history_months"] > 0]
    print(
        f"{args.size}: {methods.shape[0]} series with history (+{len(result.methods) - len(methods)} items without), "
        f"{int(methods['history_months'].max())} months; methods "
        + ", ".join(f"{k} {v}" for k, v in methods["method"].value_counts().items())
    )
    times = _interleaved(
        {
            "sopxl baseline": lambda: baseline(shipments, horizon, items=items, level="sku", config=cfg),
            "bare, same calls": lambda: _bare_same_calls(long, methods, horizon.periods, -1),
            "bare AutoETS (all series)": lambda: _bare_ets(long, horizon.periods),
        },
        args.runs,
    )
    ours, same, one = (statistics.median(t) for t in times.values())
    print(f"{'case':<28}{'median s':>10}   runs")
    for name, runs in times.items():
        print(f"{name:<28}{statistics.median(runs):>10.2f}   {', '.join(f'{t:.2f}' for t in runs)}")
    print(f"ratio vs bare same calls: {ours / same:.2f} (goal <= {GOAL})")
    print(f"ratio vs bare AutoETS:    {ours / one:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()

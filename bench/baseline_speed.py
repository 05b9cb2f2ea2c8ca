"""Statistical baseline for 5,000 SKUs x 36 months vs bare statsforecast calls on the same data.

``python -m bench.baseline_speed [--size SME-L] [--runs 3]`` prints the median wall time of:

- ``sopxl baseline``: :func:`sop_functions.baseline.baseline` from the raw shipment lines (monthly history,
  classes, outliers, holdout choice, forecast, intervals);
- ``bare, same calls``: the same statsforecast ``cross_validation`` + ``forecast`` calls on the same series
  and model groups, given a ready monthly frame: the floor of what the baseline asks statsforecast to do.
  The ratio to it is the baseline's overhead (goal: at most 1.1);
- ``bare, one call``: one ``StatsForecast(all candidate models).forecast`` on every series (no choice, no
  intervals): what calling statsforecast once with the same model set costs.
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

from bench.data import AS_OF, SIZES
from connectors.demo_data import generate
from sop_functions.baseline import FREQ, BaselineConfig, baseline
from sop_functions.buckets import Horizon
from sop_functions.forecast_methods import (
    continuous_models,
    ets_models,
    intermittent_models,
    model_name,
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
    models_by_name = {model_name(m): m for m in [*continuous_models(12, True), *intermittent_models()]}
    models_by_name.update({model_name(m): m for m in [*ets_models(12), short_model()]})
    calls = 0
    for (candidates, holdout), group in methods.groupby(["candidates", "holdout_months"], dropna=False):
        names = [c for c in str(candidates).split(",") if c]
        if not names or names == [model_name(short_model())]:
            continue
        cheap = [models_by_name[n] for n in names if n != "AutoETS"]
        ids = group.iloc[:, 0].astype(str)
        data = long[long["unique_id"].isin(ids)]
        jobs = n_jobs if len(ids) >= 300 else 1
        StatsForecast(models=cheap, freq=FREQ, n_jobs=jobs).cross_validation(
            df=data, h=int(float(str(holdout))), n_windows=1
        )
        level = None if "TSB" in names else [80, 95]
        StatsForecast(models=cheap, freq=FREQ, n_jobs=jobs).forecast(df=data, h=h, level=level)
        calls += 2
    ets = methods[methods["candidates"].str.contains("AutoETS", na=False)].iloc[:, 0].astype(str)
    won = methods[methods["method"] == "AutoETS"].iloc[:, 0].astype(str)
    if len(ets):
        jobs = n_jobs if len(ets) >= 300 else 1
        sf = StatsForecast(models=ets_models(12), freq=FREQ, n_jobs=jobs)
        sf.cross_validation(df=long[long["unique_id"].isin(ets)], h=12, n_windows=1)
        calls += 1
    if len(won):
        jobs = n_jobs if len(won) >= 300 else 1
        sf = StatsForecast(models=ets_models(12), freq=FREQ, n_jobs=jobs)
        sf.forecast(df=long[long["unique_id"].isin(won)], h=h, level=[80, 95])
        calls += 1
    short = methods[methods["demand_class"] == "short"].iloc[:, 0].astype(str)
    if len(short):
        sf = StatsForecast(models=[short_model()], freq=FREQ, n_jobs=1)
        sf.forecast(df=long[long["unique_id"].isin(short)], h=h, level=[80, 95])
        calls += 1
    return calls


def _bare_one_call(long: pd.DataFrame, h: int) -> int:
    models = [*continuous_models(12, True), *intermittent_models(), *ets_models(12)]
    StatsForecast(models=models, freq=FREQ, n_jobs=-1).forecast(df=long, h=h)
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
        f"{int(methods['history_months'].max())} months; AutoETS tried on "
        f"{int(methods['candidates'].str.contains('AutoETS').sum())}, "
        f"chosen for {int((methods['method'] == 'AutoETS').sum())}"
    )
    times = _interleaved(
        {
            "sopxl baseline": lambda: baseline(shipments, horizon, items=items, level="sku", config=cfg),
            "bare, same calls": lambda: _bare_same_calls(long, methods, horizon.periods, -1),
            "bare, one call (all models)": lambda: _bare_one_call(long, horizon.periods),
        },
        args.runs,
    )
    ours, same, one = (statistics.median(t) for t in times.values())
    print(f"{'case':<28}{'median s':>10}   runs")
    for name, runs in times.items():
        print(f"{name:<28}{statistics.median(runs):>10.2f}   {', '.join(f'{t:.2f}' for t in runs)}")
    print(f"ratio vs bare same calls: {ours / same:.2f} (goal <= {GOAL})")
    print(f"ratio vs bare one call:   {ours / one:.2f}")


if __name__ == "__main__":
    main()

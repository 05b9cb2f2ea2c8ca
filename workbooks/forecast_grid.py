"""Long forecast (family, bucket, qty) -> the wide Forecast grid a planner types into.

The grid is user-owned after creation, so the prefill is checked strictly here: a value the planner
never sees in the grid would be a forecast silently lost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from .layout import FORECAST_KEY

FORECAST_FIELDS = ("family", "bucket", "qty")


def forecast_grid_frame(months: Sequence[str], families: Sequence[str], forecast: pd.DataFrame | None) -> pd.DataFrame:
    """One row per family (given order, then any extra family of ``forecast``), one column per month.

    Cells without a forecast are NaN (written blank). Raises ``ValueError`` for a forecast outside the
    months, a duplicate (family, month), a negative/non-numeric quantity or a blank family.
    """
    rows = list(dict.fromkeys(_family(f) for f in families))
    values: dict[tuple[str, str], float] = {}
    if forecast is not None:
        missing = [c for c in FORECAST_FIELDS if c not in forecast.columns]
        if missing:
            raise ValueError(f"forecast frame lacks column(s) {missing} (needs {list(FORECAST_FIELDS)})")
        problems: list[str] = []
        for i, (family, bucket, qty) in enumerate(
            zip(forecast["family"].tolist(), forecast["bucket"].tolist(), forecast["qty"].tolist(), strict=True)
        ):
            where = f"forecast row {i}"
            try:
                key = (_family(family), str(bucket))
                number = float(qty)
            except (TypeError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
                continue
            if key[1] not in months:
                problems.append(f"{where}: bucket {key[1]!r} is not a month of the horizon {list(months)}")
            elif not math.isfinite(number) or number < 0:
                problems.append(f"{where}: qty {qty!r} must be a number >= 0")
            elif key in values:
                problems.append(f"{where}: duplicate forecast for family {key[0]!r}, month {key[1]}")
            else:
                values[key] = number
                if key[0] not in rows:
                    rows.append(key[0])
        if problems:
            raise ValueError("invalid forecast prefill:\n  - " + "\n  - ".join(problems))
    grid: dict[str, list[str] | list[float]] = {FORECAST_KEY.field: rows}
    for month in months:
        grid[month] = [values.get((family, month), math.nan) for family in rows]
    return pd.DataFrame(grid)


def _family(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"family must be a non-blank text, got {value!r}")
    return value

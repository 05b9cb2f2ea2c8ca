"""Time buckets: the planning horizon and which bucket a dated order, receipt or production order falls in.

The horizon starts with the as-of month (or ISO week) and runs ``periods`` buckets. Two extra labels keep
dated quantities from being lost: ``PAST_DUE`` (dated strictly before the as-of date; still owed, so it is
the first bucket of every plan) and ``BEYOND`` (after the horizon end; counted as a diagnostic, not planned).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import pandas as pd

Grain = Literal["month", "week"]

PAST_DUE = "PAST_DUE"
BEYOND = "BEYOND"

_FREQ: dict[Grain, str] = {"month": "M", "week": "W-SUN"}  # W-SUN: weeks ending Sunday = ISO weeks
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
MONTHS_PER_BUCKET: dict[Grain, float] = {"month": 1.0, "week": 7 / (365.2425 / 12)}
"""Length of one bucket in (average Gregorian) months, to express cover in months whatever the grain."""


def _categorical(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    return pd.Categorical.from_codes(cast(Sequence[int], codes), dtype=dtype)


def bucket_label(period: pd.Period, grain: Grain) -> str:
    """The label of a month (``2027-03``) or ISO week (``2027-W09``) period."""
    return _label(period, grain)


def _label(period: pd.Period, grain: Grain) -> str:
    if grain == "month":
        return period.strftime("%Y-%m")
    iso = period.start_time.isocalendar()
    return f"{iso[0]}-W{iso[1]:02d}"


@dataclass(frozen=True)
class Horizon:
    """The planning horizon: ``periods`` month (or ISO week) buckets from the as-of month (week)."""

    start: pd.Period
    periods: int = 18
    grain: Grain = "month"

    def __post_init__(self) -> None:
        if self.grain not in _FREQ:
            raise ValueError(f"grain must be 'month' or 'week', got {self.grain!r}")
        if self.periods < 1:
            raise ValueError(f"a horizon needs at least one bucket, got periods={self.periods}")
        if self.start.freqstr != _FREQ[self.grain]:
            raise ValueError(f"start {self.start} is not a {self.grain} period")

    @classmethod
    def from_as_of(cls, as_of_date: pd.Timestamp | dt.date, periods: int = 18, grain: Grain = "month") -> Horizon:
        """The horizon starting with the bucket that contains the as-of date."""
        if grain not in _FREQ:
            raise ValueError(f"grain must be 'month' or 'week', got {grain!r}")
        return cls(pd.Period(pd.Timestamp(as_of_date), freq=_FREQ[grain]), periods, grain)

    @property
    def buckets(self) -> list[str]:
        """The dated bucket labels (``YYYY-MM`` or ``YYYY-Www``), without ``PAST_DUE``: what a forecast covers."""
        return [_label(self.start + k, self.grain) for k in range(self.periods)]

    @property
    def labels(self) -> list[str]:
        """Every bucket of a plan, in order: ``PAST_DUE`` then the dated buckets."""
        return [PAST_DUE, *self.buckets]

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """Ordered categorical of :attr:`labels`: the dtype of every plan's ``bucket`` column."""
        return pd.CategoricalDtype(self.labels, ordered=True)

    @property
    def end(self) -> pd.Timestamp:
        """The last calendar day of the horizon (midnight)."""
        return (self.start + (self.periods - 1)).end_time.normalize()

    @property
    def months_per_bucket(self) -> float:
        return MONTHS_PER_BUCKET[self.grain]

    def assign(self, dates: pd.Series, as_of_date: pd.Timestamp | dt.date) -> pd.Series:
        """Bucket label of each date: ``PAST_DUE`` before the as-of date, ``BEYOND`` after the horizon end.

        Returns an ordered categorical whose categories are :attr:`labels` then ``BEYOND``.
        """
        as_of = pd.Timestamp(as_of_date).normalize()
        if pd.Period(as_of, freq=self.start.freqstr) != self.start:
            raise ValueError(f"as-of date {as_of.date()} is not in the horizon's first bucket {self.start}")
        values = pd.to_datetime(dates)
        if values.isna().any():
            raise ValueError(f"{int(values.isna().sum())} missing date(s) cannot be bucketed")
        if self.grain == "month":
            offset = (values.dt.year - self.start.year) * 12 + (values.dt.month - self.start.month)
        else:
            offset = (values - self.start.start_time).dt.days // 7
        codes = np.where(
            (values < as_of).to_numpy(),
            0,
            np.where(offset.to_numpy() >= self.periods, self.periods + 1, offset.to_numpy() + 1),
        )
        dtype = pd.CategoricalDtype([*self.labels, BEYOND], ordered=True)
        return pd.Series(_categorical(codes, dtype), index=dates.index, name=dates.name)

    def parse(self, label: object) -> str:
        """The bucket a user's label names (``"2027-03"``, ``"2027-3"``, a date; ``"2026-W48"`` for weeks).

        Raises ValueError for text that is not a bucket label and for buckets outside the horizon.
        """
        unit = self.grain
        if isinstance(label, dt.date | np.datetime64):  # Excel may turn a month header into a date
            period = pd.Period(pd.Timestamp(label), freq=self.start.freqstr)
        else:
            text = str(label).strip()
            match = (_MONTH if unit == "month" else _WEEK).match(text)
            example = "2027-03" if unit == "month" else "2026-W48"
            if match is None:
                raise ValueError(f"{label!r} is not a {unit} label like {example}")
            year, number = int(match[1]), int(match[2])
            try:
                day = dt.date(year, number, 1) if unit == "month" else dt.date.fromisocalendar(year, number, 1)
            except ValueError:
                raise ValueError(f"{label!r} is not a valid {unit} (expected a label like {example})") from None
            period = pd.Period(pd.Timestamp(day), freq=self.start.freqstr)
        offset = period.ordinal - self.start.ordinal
        if not 0 <= offset < self.periods:
            first, last = self.buckets[0], self.buckets[-1]
            raise ValueError(f"{unit} {_label(period, unit)} is outside the horizon {first} .. {last}")
        return _label(period, unit)


def sku_grid(items: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """Every SKU x every bucket (``PAST_DUE`` included): the rows of the SKU plan.

    Rows are grouped by SKU (sorted by family then SKU), buckets in order within each SKU.
    """
    skus = items[["sku", "family"]].sort_values(["family", "sku"], kind="stable")
    n = len(horizon.labels)
    return pd.DataFrame(
        {
            "sku": np.repeat(skus["sku"].to_numpy(dtype=object), n),
            "family": np.repeat(skus["family"].to_numpy(dtype=object), n),
            "bucket": _categorical(np.tile(np.arange(n), len(skus)), horizon.dtype),
        }
    )


def sum_to_grid(
    grid: pd.DataFrame,
    frame: pd.DataFrame,
    date_column: str,
    horizon: Horizon,
    as_of_date: pd.Timestamp,
    qty_column: str = "qty",
) -> np.ndarray:
    """Quantities of ``frame`` summed per SKU and bucket, aligned with the rows of ``grid``.

    ``grid`` must be a :func:`sku_grid`. Quantities dated beyond the horizon are left out (see
    :func:`count_beyond`); those of SKUs not in the grid too (the snapshot guarantees there are none).
    """
    n = len(horizon.labels)
    skus = pd.Index(grid["sku"].to_numpy()[::n])
    position = skus.get_indexer(pd.Index(frame["sku"]))
    codes = horizon.assign(frame[date_column], as_of_date).cat.codes.to_numpy()
    keep = (position >= 0) & (codes < n)
    flat = position[keep] * n + codes[keep]
    weights = frame[qty_column].to_numpy(dtype="float64")[keep]
    return np.bincount(flat, weights=weights, minlength=len(skus) * n).astype("float64")


def count_beyond(
    frame: pd.DataFrame, date_column: str, horizon: Horizon, as_of_date: pd.Timestamp, qty_column: str = "qty"
) -> tuple[int, float]:
    """How many rows of ``frame``, and how much quantity, are dated after the horizon end."""
    beyond = (horizon.assign(frame[date_column], as_of_date) == BEYOND).to_numpy()
    return int(beyond.sum()), float(frame[qty_column].to_numpy(dtype="float64")[beyond].sum())

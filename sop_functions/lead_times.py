"""Lead times in buckets: when a new order can arrive at the earliest, and when an order must be released.

A planned receipt in a bucket is due at the bucket's start (the as-of date for the as-of bucket): the demand
of a month happens through the month, so supply must be there when it begins. Hence:

- **earliest receipt bucket** of an item = the bucket holding ``as-of date + lead time``: an order placed
  today arrives then at the earliest. Before it, nothing new can arrive: a shortage there is a *lead time*
  shortage (expedite, or change the plan).
- **release bucket** of a receipt due in bucket ``t`` = the bucket holding ``start(t) - lead time``, never
  before the as-of bucket (an order cannot be released in the past). A made item's components are needed
  at its release, so dependent demand is offset by the parent's lead time.

Bucket positions here are *label* positions of a plan: 0 is ``PAST_DUE``, 1 the as-of bucket, and so on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .buckets import Horizon


def bucket_starts(horizon: Horizon, as_of_date: pd.Timestamp) -> np.ndarray:
    """``datetime64[D]`` start of each label position; ``PAST_DUE`` and the as-of bucket start at the as-of date."""
    starts = [np.datetime64(pd.Timestamp(as_of_date).normalize().date(), "D")]
    starts += [np.datetime64((horizon.start + k).start_time.date(), "D") for k in range(horizon.periods)]
    starts[1] = starts[0]
    return np.array(starts, dtype="datetime64[D]")


def label_position(dates: np.ndarray, horizon: Horizon, as_of_date: pd.Timestamp) -> np.ndarray:
    """Label position of each ``datetime64`` date: 0 before the as-of date, ``len(labels)`` after the horizon."""
    series = pd.Series(pd.to_datetime(dates))
    return horizon.assign(series, as_of_date).cat.codes.to_numpy().astype(np.int64)


def earliest_receipt(lead_days: np.ndarray, horizon: Horizon, as_of_date: pd.Timestamp) -> np.ndarray:
    """Per item, the first label position a new order can arrive in (``len(labels)``: not within the horizon)."""
    arrive = np.datetime64(pd.Timestamp(as_of_date).date(), "D") + lead_days.astype("timedelta64[D]")
    return label_position(arrive, horizon, as_of_date)


def release_positions(lead_days: np.ndarray, horizon: Horizon, as_of_date: pd.Timestamp) -> np.ndarray:
    """``(items, labels)``: the label position at which a receipt due in each position must be released.

    Column 0 (``PAST_DUE``) maps to 0; every dated position maps to a dated position (>= 1).
    """
    starts = bucket_starts(horizon, as_of_date)
    release = starts[None, :] - lead_days.astype("timedelta64[D]")[:, None]
    floor = np.datetime64(pd.Timestamp(as_of_date).date(), "D")
    release = np.maximum(release, floor)
    positions = label_position(release.ravel(), horizon, as_of_date).reshape(release.shape)
    positions[:, 0] = 0
    return positions

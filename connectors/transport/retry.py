"""Retry with exponential backoff and full jitter, honouring ``Retry-After``, within bounded attempts and time.

The clock, the sleep and the random source are injected so tests run in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses worth retrying: rate limited, and the server or a proxy failing for now."""


@dataclass(frozen=True)
class Clock:
    """Wall clock (for HTTP dates and token expiry), monotonic clock (for budgets) and sleep."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``max_attempts`` tries and ``max_total`` seconds in all (sleeps included)."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 300.0
    max_retry_after: float = 120.0
    """A ``Retry-After`` longer than this is not waited out: the sync fails fast and says when to retry."""
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**attempt)] (attempt counts from 0)."""
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * (2.0**attempt)))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date; ``None`` if absent/bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)

"""Client-side rate limiting: a sliding window of calls per minute plus a daily budget.

The limiter is fed by the server's own headers when it sends them (Exact Online:
``X-RateLimit-Minutely-Remaining/Reset`` and ``X-RateLimit-Remaining/Reset``, resets in epoch
milliseconds; many others: ``X-RateLimit-Remaining/Reset`` in epoch seconds or seconds from now). A
call that would exceed the minute waits; one that would exceed the day fails fast with
:class:`RateLimitedError` naming the reset time (waiting hours inside a sync helps nobody).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Mapping

from .errors import RateLimitedError
from .retry import Clock


def _reset_seconds(value: str | None, now: float) -> float | None:
    """A reset header as seconds from now: epoch ms, epoch s, or a delta in seconds."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number > 1e11:  # epoch milliseconds
        return max(0.0, number / 1000.0 - now)
    if number > 1e8:  # epoch seconds
        return max(0.0, number - now)
    return max(0.0, number)


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


class RateLimiter:
    """At most ``per_minute`` calls in any 60 s and ``per_day`` calls a day (either may be ``None``)."""

    def __init__(self, per_minute: int | None = None, per_day: int | None = None, clock: Clock | None = None) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock or Clock()
        self._calls: deque[float] = deque()
        self._day_used = 0
        self._day_remaining: int | None = None
        self._day_reset_at: float | None = None
        self._minute_remaining: int | None = None
        self._minute_reset_at: float | None = None
        self._lock = threading.Lock()

    @property
    def day_remaining(self) -> int | None:
        if self._day_remaining is not None:
            return self._day_remaining
        return None if self.per_day is None else self.per_day - self._day_used

    def acquire(self) -> None:
        """Block until one more call fits the minute window; raise if the daily budget is spent."""
        with self._lock:
            now_wall = self.clock.wall()
            if self._day_reset_at is not None and now_wall >= self._day_reset_at:
                self._day_remaining, self._day_reset_at = None, None
            remaining = self.day_remaining
            if remaining is not None and remaining <= 0:
                when = self._day_reset_at
                stamp = dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="minutes") if when else "tomorrow"
                raise RateLimitedError(f"daily API call limit reached; it resets at {stamp}", when)
            wait = 0.0
            if self._minute_remaining is not None and self._minute_remaining <= 0 and self._minute_reset_at:
                wait = max(wait, self._minute_reset_at - now_wall)
            if self.per_minute is not None:
                now = self.clock.monotonic()
                while self._calls and now - self._calls[0] >= 60.0:
                    self._calls.popleft()
                if len(self._calls) >= self.per_minute:
                    wait = max(wait, 60.0 - (now - self._calls[0]))
            if wait > 0:
                self.clock.sleep(wait)
                self._minute_remaining = None
            self._calls.append(self.clock.monotonic())
            self._day_used += 1
            if self._day_remaining is not None:
                self._day_remaining -= 1
            if self._minute_remaining is not None:
                self._minute_remaining -= 1

    def update(self, headers: Mapping[str, str]) -> None:
        """Adopt the server's view of what is left (headers are case-insensitive in requests)."""
        now = self.clock.wall()
        with self._lock:
            minute = _int(headers.get("X-RateLimit-Minutely-Remaining"))
            if minute is not None:
                self._minute_remaining = minute
                reset = _reset_seconds(headers.get("X-RateLimit-Minutely-Reset"), now)
                self._minute_reset_at = now + (reset if reset is not None else 60.0)
            day = _int(headers.get("X-RateLimit-Remaining"))
            if day is not None:
                self._day_remaining = day
                reset = _reset_seconds(headers.get("X-RateLimit-Reset"), now)
                self._day_reset_at = now + reset if reset is not None else None

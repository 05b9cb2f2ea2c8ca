"""The shared transport toolkit in isolation: retry timing, Retry-After, rate limiting, redaction, token
files, atomic snapshot swaps."""

from __future__ import annotations

import email.utils
import json
import os
import random
import stat
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.sync import SnapshotStore, SyncResult
from connectors.transport import Clock, FileTokenStore, HttpClient, RateLimitedError, RateLimiter, RetryPolicy
from connectors.transport.http import make_session
from connectors.transport.redact import redact_headers, redact_json, redact_text, redact_url
from connectors.transport.retry import parse_retry_after
from tests.fakes import dataset as ds
from tests.fakes.base import FakeERP, Reply, Req


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0
        self.slept: list[float] = []

    def wall(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    def clock(self) -> Clock:
        return Clock(wall=self.wall, monotonic=self.wall, sleep=self.sleep)


class Echo(FakeERP):
    def handle(self, req: Req) -> Reply:
        return Reply(200, {"ok": True})


def test_retry_after_seconds_and_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(30.0)
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_full_jitter_is_bounded_and_grows() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0, rng=random.Random(3))
    for attempt in range(10):
        cap = min(8.0, 0.5 * 2**attempt)
        assert all(0.0 <= policy.backoff(attempt) <= cap for _ in range(50))


def test_client_honours_retry_after_exactly_then_succeeds() -> None:
    clock = FakeClock()
    with Echo() as fake:
        fake.fault("/x", status=429, count=2, headers={"Retry-After": "3"})
        fake.fault("/x", status=503, count=1)
        client = HttpClient("Test", fake.url, clock=clock.clock(), retry=RetryPolicy(rng=random.Random(1)))
        assert client.json("GET", "/x") == {"ok": True}
    assert clock.slept[:2] == [3.0, 3.0]
    assert 0.0 <= clock.slept[2] <= 0.5 * 2**2


def test_client_gives_up_within_total_time() -> None:
    clock = FakeClock()
    with Echo() as fake:
        fake.fault("/x", status=503, count=100)
        client = HttpClient("Test", fake.url, clock=clock.clock(), retry=RetryPolicy(max_attempts=50, max_total=20.0))
        with pytest.raises(Exception, match="failed after"):
            client.json("GET", "/x")
    assert sum(clock.slept) <= 20.0


def test_tls_verification_cannot_be_turned_off() -> None:
    assert make_session().verify is True
    session = requests.Session()
    session.verify = False
    with pytest.raises(ValueError, match="cannot be turned off"):
        HttpClient("Test", "https://erp.example.com", session=session)


def test_rate_limiter_sliding_minute_and_daily_budget() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, per_day=5, clock=clock.clock())
    for _ in range(3):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept == [60.0]
    limiter.acquire()
    with pytest.raises(RateLimitedError, match="daily"):
        limiter.acquire()


def test_rate_limiter_follows_exact_headers() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, clock=clock.clock())
    reset_ms = str(int((clock.t + 12) * 1000))
    limiter.update(
        {
            "X-RateLimit-Minutely-Remaining": "0",
            "X-RateLimit-Minutely-Reset": reset_ms,
            "X-RateLimit-Remaining": "100",
            "X-RateLimit-Reset": str(int((clock.t + 3600) * 1000)),
        }
    )
    limiter.acquire()
    assert clock.slept == [pytest.approx(12.0, abs=0.01)]
    limiter.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int((clock.t + 3600) * 1000))})
    with pytest.raises(RateLimitedError) as info:
        limiter.acquire()
    assert info.value.reset_at == pytest.approx(clock.t + 3600, abs=1)


def test_redaction() -> None:
    headers = redact_headers({"Authorization": "Bearer abc", "Cookie": "B1SESSION=x", "Accept": "json"})
    assert headers == {"Authorization": "***", "Cookie": "***", "Accept": "json"}
    assert "s3cret" not in redact_url("https://u:s3cret@h/p?access_token=s3cret&$top=1")
    assert redact_json({"Password": "p", "refresh_token": "r", "nested": [{"client_secret": "c", "n": 1}]}) == {
        "Password": "***",
        "refresh_token": "***",
        "nested": [{"client_secret": "***", "n": 1}],
    }
    assert redact_text("sent Bearer eyJabc.def and key abcd1234", ("abcd1234",)) == "sent Bearer *** and key ***"


def test_token_file_is_private_and_atomic(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "deep" / "t.json")
    store.save({"refresh_token": "r1"})
    store.save({"refresh_token": "r2"})
    assert store.load() == {"refresh_token": "r2"}
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    os.chmod(store.path, 0o644)
    store.load()
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["t.json"]


def test_snapshot_store_swaps_atomically_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SnapshotStore(tmp_path)
    snap = ds.expected_snapshot()
    first = store.commit(SyncResult(snap, {"watermarks": {"a": 1}}))
    assert store.current() == first
    real_replace = os.replace

    def broken(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        store.commit(SyncResult(snap, {"watermarks": {"a": 2}}))
    monkeypatch.setattr(os, "replace", real_replace)
    assert store.current() == first
    assert store.load_state() == {"watermarks": {"a": 1}}
    assert [p for p in (tmp_path / "versions").iterdir()] == [first]
    second = store.commit(SyncResult(snap, {"watermarks": {"a": 3}}))
    third = store.commit(SyncResult(snap, {}))
    assert sorted((tmp_path / "versions").iterdir()) == sorted([second, third])
    assert json.loads((third / "state.json").read_text()) == {}

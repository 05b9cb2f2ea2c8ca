"""Transport unit tests against a tiny scripted JSON-RPC server on 127.0.0.1 (no Tryton needed)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.tryton.errors import (
    TrytonApplicationError,
    TrytonLoginError,
    TrytonRateLimitedError,
    TrytonUnavailableError,
)
from connectors.tryton.transport import RetryPolicy, TrytonTransport

pytestmark = pytest.mark.tryton

Reply = tuple[int, Any]
Handler = Callable[[dict[str, Any], dict[str, str]], Reply]


class FakeTryton:
    """Answers each request with ``handler(payload, headers)``; records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[dict[str, Any], dict[str, str]]] = []
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = dict(self.headers.items())
                fake.requests.append((body, headers))
                status, reply = fake.handler(body, headers)
                data = json.dumps(reply).encode() if not isinstance(reply, bytes) else reply
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def methods(self) -> list[str]:
        return [body["method"] for body, _ in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ok(payload: dict[str, Any], result: Any) -> Reply:
    return 200, {"id": payload["id"], "result": result}


def standard(payload: dict[str, Any], headers: dict[str, str]) -> Reply | None:
    if payload["method"] == "common.db.login":
        return ok(payload, [1, "token", None])
    if payload["method"] == "model.res.user.get_preferences":
        return ok(payload, {"company": 1, "language": "en", "locale": {"date": "%Y"}})
    return None


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], FakeTryton]]:
    servers: list[FakeTryton] = []

    def start(handler: Handler) -> FakeTryton:
        server = FakeTryton(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def transport(url: str, **kwargs: Any) -> TrytonTransport:
    kwargs.setdefault("retry", RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002))
    return TrytonTransport(url, "db", "admin", "s3cret-pw", timeout=5, **kwargs)


def test_5xx_is_retried_then_succeeds(serve: Callable[[Handler], FakeTryton]) -> None:
    failures = {"left": 2}

    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        reply = standard(payload, headers)
        if reply:
            return reply
        if failures["left"]:
            failures["left"] -= 1
            return 503, {"error": "busy"}
        return ok(payload, [{"id": 1, "code": "A"}])

    server = serve(handler)
    t = transport(server.url)
    assert list(t.search_read("product.product", [], ["code"])) == [{"id": 1, "code": "A"}]
    assert server.methods().count("model.product.product.search_read") == 3
    login = server.requests[0]
    assert login[0]["params"][0] == "admin"
    session = server.requests[-1][1]["Authorization"]
    assert session.startswith("Session ")


def test_retries_are_bounded(serve: Callable[[Handler], FakeTryton]) -> None:
    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        return standard(payload, headers) or (500, {"error": "boom"})

    server = serve(handler)
    t = transport(server.url)
    with pytest.raises(TrytonUnavailableError, match="HTTP 500"):
        t.model("product.product", "search", [], 0, 10, None)
    assert server.methods().count("model.product.product.search") == 4


def test_http_200_error_envelope_is_a_typed_error(serve: Callable[[Handler], FakeTryton]) -> None:
    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        return standard(payload, headers) or (
            200,
            {"id": payload["id"], "error": ["UserError", ["You are not allowed to read stock.move.", ""]]},
        )

    server = serve(handler)
    t = transport(server.url)
    with pytest.raises(TrytonApplicationError) as info:
        t.model("stock.move", "search_read", [], 0, 10, None, ["id"])
    assert info.value.kind == "UserError"
    assert "not allowed to read stock.move" in str(info.value)
    assert server.methods().count("model.stock.move.search_read") == 1  # application errors are not retried


def test_413_halves_the_page_size(serve: Callable[[Handler], FakeTryton]) -> None:
    records = [{"id": i} for i in range(1, 251)]
    limit = 100

    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        reply = standard(payload, headers)
        if reply:
            return reply
        domain, _offset, page, *_ = payload["params"]
        if page > limit:
            return 413, {"error": "too large"}
        after = domain[-1][2]
        return ok(payload, [r for r in records if r["id"] > after][:page])

    server = serve(handler)
    t = transport(server.url, page_size=400)
    assert [r["id"] for r in t.search_read("stock.move", [], ["id"])] == list(range(1, 251))
    assert t.page_size == 100
    sizes = [body["params"][2] for body, _ in server.requests if body["method"].endswith("search_read")]
    assert sizes[:3] == [400, 200, 100]


def test_decodes_tagged_values(serve: Callable[[Handler], FakeTryton]) -> None:
    row = {
        "id": 7,
        "cost_price": {"__class__": "Decimal", "decimal": "12.3400"},
        "planned_date": {"__class__": "date", "year": 2026, "month": 2, "day": 28},
        "write_date": {
            "__class__": "datetime",
            "year": 2026,
            "month": 3,
            "day": 1,
            "hour": 13,
            "minute": 5,
            "second": 26,
            "microsecond": 22166,
        },
        "lead_time": {"__class__": "timedelta", "seconds": 86400 * 3},
        "nested.": {"when": {"__class__": "date", "year": 2025, "month": 1, "day": 2}},
    }

    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        return standard(payload, headers) or ok(payload, [row])

    server = serve(handler)
    t = transport(server.url)
    (got,) = list(t.search_read("product.product", [("write_date", ">", dt.datetime(2026, 1, 1))], ["cost_price"]))
    assert got["cost_price"] == Decimal("12.3400")
    assert got["planned_date"] == dt.date(2026, 2, 28)
    assert got["write_date"] == dt.datetime(2026, 3, 1, 13, 5, 26, 22166)
    assert got["lead_time"] == dt.timedelta(days=3)
    assert got["nested."]["when"] == dt.date(2025, 1, 2)
    sent_domain = server.requests[-1][0]["params"][0]
    assert sent_domain[0][0][2] == {
        "__class__": "datetime",
        "year": 2026,
        "month": 1,
        "day": 1,
        "hour": 0,
        "minute": 0,
        "second": 0,
        "microsecond": 0,
    }
    assert t.server_time is not None and t.server_time.tzinfo is not None


def test_wrong_password_one_request_and_no_secret_in_message(serve: Callable[[Handler], FakeTryton]) -> None:
    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        return 401, {"error": "unauthorized"}

    server = serve(handler)
    t = transport(server.url)
    with pytest.raises(TrytonLoginError) as info:
        t.model("product.product", "search", [], 0, 10, None)
    assert len(server.requests) == 1
    assert "s3cret-pw" not in str(info.value) and "s3cret-pw" not in repr(t)
    assert "wrong user name or password" in str(info.value)


def test_locked_user_is_reported(serve: Callable[[Handler], FakeTryton]) -> None:
    server = serve(lambda payload, headers: (429, {"error": "too many"}))
    with pytest.raises(TrytonRateLimitedError, match="too many failed attempts"):
        transport(server.url).login()
    assert len(server.requests) == 1


def test_expired_session_logs_in_again(serve: Callable[[Handler], FakeTryton]) -> None:
    state = {"expired": True}

    def handler(payload: dict[str, Any], headers: dict[str, str]) -> Reply:
        reply = standard(payload, headers)
        if reply:
            return reply
        if state["expired"]:
            state["expired"] = False
            return 401, {"error": "expired"}
        return ok(payload, [3])

    server = serve(handler)
    t = transport(server.url)
    assert t.model("stock.move", "search", [], 0, 10, None) == [3]
    assert server.methods().count("common.db.login") == 2


def test_refused_connection_is_reported_at_once_not_retried() -> None:
    t = transport("http://127.0.0.1:9")  # discard port: connection refused, nothing will ever listen
    t._auth = "Session x"  # skip login: login itself is never retried
    t._context = {}
    with pytest.raises(TrytonUnavailableError, match=r"cannot reach Tryton at .*connection refused"):
        t.call("model.product.product.search", [], 0, 1, None, {})
    assert t.requests_sent == 1

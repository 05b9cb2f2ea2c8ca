"""A threaded HTTP server on 127.0.0.1 with fault injection, the base of every ERP fake.

A subclass implements :meth:`FakeERP.handle`. Faults are queued with :meth:`FakeERP.fault`: match on
method and path substring, let ``skip`` matching requests through first (for "mid-sync" faults), then
apply to ``count`` requests: answer ``status`` with the ERP's own error body, and/or ``delay`` first
(longer than the client's read timeout = a timeout).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def header(self, name: str) -> str:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return ""


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class Fault:
    path: str = ""
    method: str | None = None
    status: int | None = 429
    count: int = 1
    skip: int = 0
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    hits: int = 0
    action: Any = None


class FakeERP:
    """Start with ``with Fake(...) as fake:``; ``fake.url`` is the base URL."""

    page_size = 2

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.log: list[Req] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Req(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    dict(self.headers.items()),
                    self.rfile.read(length) if length else b"",
                )
                reply = fake._dispatch(req)
                raw = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                    for k, v in headers.items():
                        for one in v if isinstance(v, list) else [v]:
                            self.send_header(k, one)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeERP:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fault(
        self,
        path: str = "",
        *,
        status: int | None = 429,
        count: int = 1,
        skip: int = 0,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        body: Any = None,
        method: str | None = None,
        action: Any = None,
    ) -> Fault:
        f = Fault(path, method, status, count, skip, delay, dict(headers or {}), body, action=action)
        with self.lock:
            self.faults.append(f)
        return f

    def error_body(self, status: int) -> Any:
        return {"error": f"HTTP {status}"}

    def _dispatch(self, req: Req) -> Reply:
        with self.lock:
            self.log.append(req)
            hit = None
            for f in self.faults:
                if (
                    f.count <= 0
                    or (f.method and f.method != req.method)
                    or f.path not in req.path + "?" + str(req.query)
                ):
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.count -= 1
                f.hits += 1
                hit = f
                break
        if hit is not None:
            if hit.action is not None:
                hit.action()
            if hit.delay:
                time.sleep(hit.delay)
            if hit.status is not None:
                body = hit.body if hit.body is not None else self.error_body(hit.status)
                raw = body.encode() if isinstance(body, str) else None
                return Reply(hit.status, body, dict(hit.headers), raw)
        try:
            return self.handle(req)
        except Exception as exc:  # a bug in the fake shows as a 500 with its message
            return Reply(500, {"fake_error": repr(exc)})

    def handle(self, req: Req) -> Reply:
        raise NotImplementedError

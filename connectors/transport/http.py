"""The HTTP client every API connector shares: session, auth, timeouts, retries, rate limit, logging.

TLS certificates are always verified (a private CA bundle may be named, verification cannot be turned
off). Each request: wait for the rate limiter, add auth headers, send with (connect, read) timeouts;
on 401 (or what the connector's ``expired`` hook recognises) refresh the credentials once and resend;
on 429/5xx/timeouts back off (``Retry-After`` first, else exponential with full jitter) within the
policy's attempts and total time; other 4xx become the connector's :class:`ApiError`.

Failing fast: a refused connection, an unknown host or no route is not transient (nothing listens there),
so it raises :class:`UnreachableError` after one attempt, and once a client found its server unreachable
(or ran out of retries connecting) every later request of that client fails at once with the same
message: a dead URL costs one line and seconds, not a retry storm per entity.

No credentials in clear text: plain ``http://`` to another host is refused (:mod:`.security`) unless the
session names that host as allowed (``allow_insecure_http = true`` in the profile).
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urljoin

import requests

from .errors import (
    ApiError,
    AuthError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    UnavailableError,
    UnreachableError,
)
from .ratelimit import RateLimiter
from .redact import excerpt, log_event, redact_text, redact_url
from .retry import RETRY_STATUSES, Clock, RetryPolicy, parse_retry_after
from .security import check_url

USER_AGENT = "sopxl-connector/0.1"
DEFAULT_TIMEOUT = (10.0, 120.0)
log = logging.getLogger("sopxl.transport")


class Session(requests.Session):
    """A requests session that also carries which hosts its profile allows plain http to."""

    insecure_hosts: frozenset[str] = frozenset()


def make_session(
    ca_bundle: str | None = None, user_agent: str = USER_AGENT, insecure_hosts: Iterable[str] = ()
) -> requests.Session:
    """A pooled session with certificate verification on (``ca_bundle``: a private CA file, else system);
    ``insecure_hosts``: hosts this session may reach over plain http (the profile said so by name)."""
    session = Session()
    session.insecure_hosts = frozenset(h.lower() for h in insecure_hosts)
    session.verify = ca_bundle or True
    session.trust_env = True  # proxies and REQUESTS_CA_BUNDLE from the environment, never verify=False
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


class Auth(Protocol):
    """Credentials a client applies to each request and can renew once when the server says they expired."""

    def apply(self, headers: dict[str, str], session: requests.Session) -> None: ...

    def refresh(self, session: requests.Session) -> None: ...

    def secrets(self) -> tuple[str, ...]: ...


ErrorParser = Callable[[requests.Response], ApiError]
"""Turns an ERP's error response into an :class:`ApiError` with the ERP's own message."""


def default_error(erp: str) -> ErrorParser:
    def parse(resp: requests.Response) -> ApiError:
        cls = NotFoundError if resp.status_code in (404, 410) else ApiError
        return cls(erp, resp.status_code, excerpt(resp.text) or resp.reason or "")

    return parse


class HttpClient:
    """Requests against one ERP's base URL with the shared retry, rate-limit, auth and logging behaviour."""

    def __init__(
        self,
        erp: str,
        base_url: str,
        *,
        session: requests.Session | None = None,
        auth: Auth | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Clock | None = None,
        error_parser: ErrorParser | None = None,
        expired: Callable[[requests.Response], bool] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.erp = erp
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.session = session or make_session()
        if self.session.verify is False:
            raise ValueError("TLS certificate verification cannot be turned off")
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.limiter = limiter
        self.timeout = timeout
        self.clock = clock or Clock()
        self.error_parser = error_parser or default_error(erp)
        self.expired = expired or (lambda resp: resp.status_code == 401)
        self.headers = dict(headers or {})
        self.calls = 0
        self.down: UnavailableError | None = None
        """Set once the server proved unreachable: later requests fail at once with it."""
        check_url(self.base_url, erp, self._insecure_hosts())

    def _insecure_hosts(self) -> frozenset[str]:
        hosts: object = getattr(self.session, "insecure_hosts", frozenset())
        return frozenset(str(h) for h in hosts) if isinstance(hosts, frozenset) else frozenset()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            check_url(path, self.erp, self._insecure_hosts())  # a next link or token URL of its own
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def _secrets(self) -> tuple[str, ...]:
        return self.auth.secrets() if self.auth else ()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        use_auth: bool = True,
        retry_timeouts: bool = True,
    ) -> requests.Response:
        """Send with retries; return the 2xx/3xx response or raise a :class:`ConnectorError`.

        ``retry_timeouts=False`` for non-idempotent calls (a token refresh the server may have applied).
        """
        url = self.url(path)
        shown = redact_url(url)
        if self.down is not None:
            raise type(self.down)(str(self.down))
        started = self.clock.monotonic()
        attempt = 0
        refreshed = False
        while True:
            if self.limiter is not None:
                self.limiter.acquire()
            sent = {**self.headers, **(headers or {})}
            if use_auth and self.auth is not None:
                self.auth.apply(sent, self.session)
            self.calls += 1
            try:
                resp = self.session.request(
                    method, url, params=params, json=json, data=data, headers=sent, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                read_timeout = isinstance(exc, requests.ReadTimeout)
                reason = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
                if read_timeout and not retry_timeouts:
                    raise UnavailableError(f"{self.erp}: {method} {shown}: {reason} (not retried)") from exc
                cause = unreachable_cause(exc)
                if cause is not None:
                    self.down = UnreachableError(
                        f"{self.erp}: cannot connect to {redact_url(self.base_url)}: {cause}; check the url in "
                        "sop.toml and that the server is running"
                    )
                    raise self.down from None
                delay = self.retry.backoff(attempt)
                status: int | None = None
                detail = redact_text(str(exc), self._secrets())
                never_connected = not read_timeout
            else:
                never_connected = False
                if self.limiter is not None:
                    self.limiter.update(resp.headers)
                log_event(log, logging.DEBUG, "http", erp=self.erp, method=method, url=shown, status=resp.status_code)
                if use_auth and self.auth is not None and self.expired(resp):
                    if refreshed:
                        raise AuthError(f"{self.erp}: credentials refused after renewing them ({method} {shown})")
                    refreshed = True
                    log_event(log, logging.INFO, "auth.renew", erp=self.erp, url=shown)
                    self.auth.refresh(self.session)
                    continue
                if resp.status_code not in RETRY_STATUSES:
                    if resp.status_code >= 400:
                        raise self.error_parser(resp)
                    return resp
                status = resp.status_code
                reason = f"HTTP {status}"
                detail = excerpt(redact_text(resp.text, self._secrets()), 200)
                wait = parse_retry_after(resp.headers.get("Retry-After"), self.clock.wall())
                if wait is not None and wait > self.retry.max_retry_after:
                    raise RateLimitedError(
                        f"{self.erp}: server asks to wait {wait:.0f} s before retrying ({method} {shown})",
                        self.clock.wall() + wait,
                    )
                delay = wait if wait is not None else self.retry.backoff(attempt)
            attempt += 1
            elapsed = self.clock.monotonic() - started
            if attempt >= self.retry.max_attempts or elapsed + delay > self.retry.max_total:
                cls = RateLimitedError if status == 429 else UnavailableError
                error = cls(
                    f"{self.erp}: {method} {shown} failed after {attempt} attempt(s) in {elapsed:.1f} s; "
                    f"last: {reason}" + (f": {detail}" if detail else "")
                )
                if never_connected:
                    self.down = error  # no connection at all: the next entity would wait just as long
                raise error
            log_event(log, logging.WARNING, "http.retry", erp=self.erp, url=shown, reason=reason, wait=round(delay, 3))
            self.clock.sleep(delay)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request` and decode the JSON body (a non-JSON answer is a :class:`ProtocolError`)."""
        resp = self.request(method, path, **kwargs)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            kind = resp.headers.get("Content-Type", "?")
            raise ProtocolError(
                f"{self.erp}: {method} {redact_url(resp.url)} did not return JSON ({kind}): {excerpt(resp.text, 120)}"
            ) from exc


_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}


def unreachable_cause(exc: BaseException) -> str | None:
    """Why nothing can answer at the address (refused, unknown host, no route), or None when the failure
    may pass (a timeout, a dropped connection). Walks the exception chain requests and urllib3 build."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, socket.gaierror):
            return "unknown host name"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused (nothing listens on that port)"
        if isinstance(item, OSError) and item.errno in _UNREACHABLE_ERRNOS:
            return f"no route to the host ({item.strerror})"
        if type(item).__name__ == "NameResolutionError":
            return "unknown host name"
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return None

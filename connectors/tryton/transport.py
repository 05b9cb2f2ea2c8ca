"""JSON-RPC over HTTP to a Tryton server: session login, retries, paging. Knows nothing of S&OP.

Safety rules this module keeps:

- a failed login is never retried (six bad passwords lock the user): wrong credentials raise
  :class:`TrytonLoginError` after exactly one request;
- the password is kept only to log in again when the server drops the session (HTTP 401/403); it never
  appears in a log line, an exception or ``repr``;
- the session may be kept between runs in a :class:`~connectors.transport.oauth.TokenStore` (the system
  keyring, else a 0600 file, like the OAuth tokens): a run then starts without a login (~0.2-0.4 s on the
  demo server, the slowest request of a sync); the session key never appears in a log line or ``repr``, a
  stored session the server no longer accepts is replaced by one fresh login;
- TLS certificates are always verified (a private CA can be given as a bundle path, never "off");
- plain ``http://`` to another host is refused (the password and session would cross the network in clear
  text) unless ``allow_insecure_http`` names it; loopback is fine (connectors.transport.security);
- retries (timeouts, dropped connections, 5xx) are bounded, with exponential backoff and jitter, and only
  for idempotent calls; a refused connection or an unknown host is not transient: one attempt, one error.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from connectors.transport.http import unreachable_cause
from connectors.transport.security import check_url, host_of

from .codec import encode, loads
from .errors import (
    TrytonApplicationError,
    TrytonError,
    TrytonLoginError,
    TrytonProtocolError,
    TrytonRateLimitedError,
    TrytonRequestTooLargeError,
    TrytonUnavailableError,
)

if TYPE_CHECKING:
    from connectors.transport.oauth import TokenStore

log = logging.getLogger(__name__)

Domain = list[Any]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class _SessionExpired(Exception):
    pass


class _Session:
    """The session a transport and its forks share: one login serves every thread."""

    def __init__(self) -> None:
        self.auth: str | None = None
        self.logins = 0
        self.lock = threading.Lock()


class TrytonTransport:
    """One authenticated JSON-RPC session with one database of one Tryton server."""

    def __init__(
        self,
        url: str,
        database: str,
        user: str,
        password: str,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        page_size: int = 1000,
        ca_bundle: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session_store: TokenStore | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        check_url(url, "Tryton", {host_of(url)} if allow_insecure_http else ())
        self._allow_insecure_http = allow_insecure_http
        self.url = url.rstrip("/")
        self.database = database
        self.user = user
        self.__password = password
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self._sleep = sleep
        self._rng = random.Random()
        self._http = requests.Session()
        self._http.verify = ca_bundle if ca_bundle else True
        self._session = _Session()
        self._context: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self.requests_sent = 0
        self.server_time: dt.datetime | None = None
        """The server's clock (HTTP ``Date`` header of the last reply), timezone-aware UTC."""
        self._ca_bundle = ca_bundle
        self._store = session_store
        self._restore_session()

    @property
    def _auth(self) -> str | None:
        return self._session.auth

    @_auth.setter
    def _auth(self, value: str | None) -> None:
        self._session.auth = value

    @property
    def logins(self) -> int:
        """Logins this transport (and its forks) made: 0 when a stored session served."""
        return self._session.logins

    def __repr__(self) -> str:
        return f"TrytonTransport(url={self.url!r}, database={self.database!r}, user={self.user!r})"

    @property
    def rpc_url(self) -> str:
        return f"{self.url}/{self.database}/rpc/"

    # --- low level ----------------------------------------------------------------------------------
    def _post(self, method: str, params: Sequence[Any]) -> requests.Response:
        payload = {"id": next(self._ids), "method": method, "params": encode(list(params))}
        headers = {"Authorization": self._auth} if self._auth and method != "common.db.login" else {}
        self.requests_sent += 1
        response = self._http.post(self.rpc_url, json=payload, headers=headers, timeout=self.timeout)
        stamp = response.headers.get("Date")
        if stamp:
            try:
                parsed = email.utils.parsedate_to_datetime(stamp)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                self.server_time = parsed.astimezone(dt.UTC)
        return response

    def _result(self, method: str, response: requests.Response) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise _SessionExpired()
        if status == 413:
            raise TrytonRequestTooLargeError(f"Tryton {method}: request larger than the server's records_limit")
        if status == 429:
            raise TrytonRateLimitedError(f"Tryton {method}: too many requests (HTTP 429)")
        if status >= 500:
            raise TrytonUnavailableError(f"Tryton {method}: server error HTTP {status}")
        if status != 200:
            raise TrytonProtocolError(f"Tryton {method}: unexpected HTTP {status} from {self.rpc_url}")
        try:
            body = loads(response.content)
        except ValueError as exc:
            raise TrytonProtocolError(f"Tryton {method}: reply is not JSON (is {self.url} a Tryton server?)") from exc
        if not isinstance(body, dict):
            raise TrytonProtocolError(f"Tryton {method}: reply is not a JSON-RPC object")
        if body.get("error") is not None:
            error = body["error"]
            if isinstance(error, list) and error:
                kind = str(error[0])
                detail = error[1] if len(error) > 1 else ""
                if isinstance(detail, list):
                    detail = " ".join(str(d) for d in detail if d)
                raise TrytonApplicationError(method, kind, str(detail).strip())
            raise TrytonApplicationError(method, "", str(error))
        if "result" not in body:
            raise TrytonProtocolError(f"Tryton {method}: reply has neither result nor error")
        return body["result"]

    # --- session ------------------------------------------------------------------------------------
    def _identity(self) -> dict[str, str]:
        return {"url": self.url, "database": self.database, "user": self.user}

    def _restore_session(self) -> None:
        """Start from the stored session of this server, database and user, if there is one."""
        if self._store is None:
            return
        try:
            data = self._store.load()
        except Exception:  # an unreadable store only costs a login (the reason is not logged: it may quote it)
            log.info("stored Tryton session unreadable; logging in")
            return
        if data and all(data.get(k) == v for k, v in self._identity().items()) and isinstance(data.get("auth"), str):
            self._auth = data["auth"]

    def _save_session(self) -> None:
        if self._store is None or self._auth is None:
            return
        try:
            self._store.save({**self._identity(), "auth": self._auth})
        except Exception:  # not storing it only costs the next run a login
            log.info("could not store the Tryton session; the next run logs in again")

    def fork(self) -> TrytonTransport:
        """Another transport on the same session (one per thread: a requests session is not shared)."""
        other = TrytonTransport(
            self.url,
            self.database,
            self.user,
            self.__password,
            timeout=self.timeout,
            retry=self.retry,
            page_size=self.page_size,
            ca_bundle=self._ca_bundle,
            sleep=self._sleep,
            allow_insecure_http=self._allow_insecure_http,
        )
        other._session, other._context = self._session, self._context
        return other

    def login(self) -> None:
        """Open a session. Exactly one request: a refused login is reported, never retried."""
        self._auth = None
        self._session.logins += 1
        try:
            response = self._post("common.db.login", [self.user, {"password": self.__password}, "en"])
        except requests.RequestException as exc:
            cause = unreachable_cause(exc) or type(exc).__name__
            raise TrytonUnavailableError(f"cannot reach Tryton at {self.url}: {cause}") from None
        if response.status_code in (401, 403):
            raise TrytonLoginError(
                f"Tryton refused the login of user {self.user!r} on database {self.database!r} at {self.url}: "
                "wrong user name or password (not retried: repeated failures lock the user)"
            )
        if response.status_code == 429:
            raise TrytonRateLimitedError(
                f"Tryton refuses logins of user {self.user!r} for now after too many failed attempts; "
                "wait for the server's lock to expire before trying again"
            )
        if response.status_code == 404:
            raise TrytonProtocolError(f"Tryton at {self.url} has no database {self.database!r}")
        try:
            result = self._result("common.db.login", response)
        except _SessionExpired:  # pragma: no cover - handled above
            raise TrytonLoginError(f"Tryton refused the login of user {self.user!r}") from None
        if not isinstance(result, list) or len(result) < 2:
            raise TrytonProtocolError("Tryton common.db.login: unexpected reply")
        user_id, session = result[0], result[1]
        token = base64.b64encode(f"{self.user}:{user_id}:{session}".encode()).decode("ascii")
        self._auth = f"Session {token}"
        self._save_session()
        log.debug("logged in to %s as %s", self.url, self.user)

    @property
    def context(self) -> dict[str, Any]:
        """The user's context (language, company, ...) from ``res.user.get_preferences``."""
        if self._context is None:
            prefs = self.call("model.res.user.get_preferences", True, {})
            self._context = {k: v for k, v in prefs.items() if not isinstance(v, dict) and "." not in k}
        return dict(self._context)

    def close(self) -> None:
        self._http.close()

    # --- calls --------------------------------------------------------------------------------------
    def call(self, method: str, *params: Any, idempotent: bool = True) -> Any:
        """Call ``method``; log in first if needed, log in again once if the session expired."""
        with self._session.lock:
            if self._auth is None:
                self.login()
        relogged = False
        while True:
            used = self._auth
            try:
                return self._call_with_retries(method, params, idempotent)
            except _SessionExpired:
                if relogged:
                    raise TrytonLoginError(f"Tryton rejected a fresh session for {method}") from None
                relogged = True
                with self._session.lock:
                    if self._auth == used:  # not renewed by another thread meanwhile
                        log.info("Tryton session expired; logging in again")
                        self.login()

    def _call_with_retries(self, method: str, params: Sequence[Any], idempotent: bool) -> Any:
        attempts = self.retry.attempts if idempotent else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._post(method, params)
            except (requests.ConnectionError, requests.Timeout) as exc:
                cause = unreachable_cause(exc)
                if cause is not None:
                    raise TrytonUnavailableError(f"cannot reach Tryton at {self.url}: {cause}") from None
                if last:
                    raise TrytonUnavailableError(
                        f"cannot reach Tryton at {self.url} for {method} after {attempts} attempt(s): "
                        f"{type(exc).__name__}"
                    ) from None
            else:
                if response.status_code < 500:
                    return self._result(method, response)
                if last:
                    return self._result(method, response)
            delay = self.retry.delay(attempt, self._rng)
            log.info("Tryton %s failed (attempt %d of %d); retrying in %.1fs", method, attempt + 1, attempts, delay)
            self._sleep(delay)
        raise TrytonError("unreachable")  # pragma: no cover

    def model(
        self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None, idempotent: bool = True
    ) -> Any:
        """``model.<model>.<method>(*args, context)`` with the user's context (plus ``context``)."""
        ctx = self.context
        if context:
            ctx.update(context)
        return self.call(f"model.{model}.{method}", *args, ctx, idempotent=idempotent)

    def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        context: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, page by page by ascending id (keyset paging: stable while data changes).

        A page refused with HTTP 413 (the server's ``records_limit``) is asked again at half the size, and
        the smaller size is kept for the rest of the session.
        """
        last_id = 0
        columns = list(dict.fromkeys(["id", *fields]))
        while True:
            page_domain = [domain, ("id", ">", last_id)] if domain else [("id", ">", last_id)]
            try:
                rows = self.model(
                    model, "search_read", page_domain, 0, self.page_size, [["id", "ASC"]], columns, context=context
                )
            except TrytonRequestTooLargeError:
                if self.page_size <= 1:
                    raise
                self.page_size = max(1, self.page_size // 2)
                log.info("Tryton records_limit hit; page size now %d", self.page_size)
                continue
            yield from rows
            if len(rows) < self.page_size:
                return
            last_id = rows[-1]["id"]

    def search_count(self, model: str, domain: Domain, *, context: dict[str, Any] | None = None) -> int:
        """How many records match (one request whatever the number: the deletion check of a sync)."""
        return int(self.model(model, "search_count", domain, context=context))

    def search_ids(self, model: str, domain: Domain, *, context: dict[str, Any] | None = None) -> list[int]:
        """Ids only (cheap): used to detect deleted records."""
        ids: list[int] = []
        last_id = 0
        while True:
            page_domain = [domain, ("id", ">", last_id)] if domain else [("id", ">", last_id)]
            try:
                page = self.model(model, "search", page_domain, 0, self.page_size, [["id", "ASC"]], context=context)
            except TrytonRequestTooLargeError:
                if self.page_size <= 1:
                    raise
                self.page_size = max(1, self.page_size // 2)
                continue
            ids += page
            if len(page) < self.page_size:
                return ids
            last_id = page[-1]

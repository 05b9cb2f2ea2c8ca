"""OAuth2 for the API connectors: client credentials (Business Central) and refresh tokens (Exact Online).

Access tokens are renewed shortly before they expire and once more when the API answers 401. Rotated
refresh tokens (Exact issues a new one at every refresh and the old one stops working) are persisted
*before* the new access token is used, so a crash can never lose the only valid refresh token. They are
kept in the system keyring when the ``keyring`` package is installed and working, else in a file only
its owner can read (mode 0600, written to a temporary file, fsynced and renamed over the old one).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from .errors import ApiError, AuthError, ProtocolError
from .http import HttpClient
from .redact import log_event
from .retry import Clock, RetryPolicy

log = logging.getLogger("sopxl.transport.oauth")
EXPIRY_SKEW = 60.0
"""Renew an access token this many seconds before it expires (clocks drift, requests take time)."""


class TokenStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...

    def save(self, data: dict[str, Any]) -> None: ...

    def describe(self) -> str: ...


def write_private(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``, readable by its owner only (0600; folder 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class FileTokenStore:
    """Tokens as JSON in a 0600 file; a file others can read is tightened to 0600 before use."""

    path: Path

    def load(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        if self.path.stat().st_mode & 0o077:
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AuthError(f"token file {self.path} is unreadable: {type(exc).__name__}") from exc
        return data if isinstance(data, dict) else None

    def save(self, data: dict[str, Any]) -> None:
        write_private(self.path, json.dumps(data))

    def describe(self) -> str:
        return f"file {self.path} (mode 0600)"


@dataclass(frozen=True)
class KeyringTokenStore:
    """Tokens in the system keyring (service ``sopxl``, one entry per profile)."""

    name: str
    service: str = "sopxl"

    def load(self) -> dict[str, Any] | None:
        import keyring  # type: ignore[import-not-found,unused-ignore]

        raw = keyring.get_password(self.service, self.name)
        if not raw:
            return None
        data = json.loads(raw)
        return data if isinstance(data, dict) else None

    def save(self, data: dict[str, Any]) -> None:
        import keyring  # type: ignore[import-not-found,unused-ignore]

        keyring.set_password(self.service, self.name, json.dumps(data))

    def describe(self) -> str:
        return f"system keyring ({self.service}/{self.name})"


def token_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "sopxl" / "tokens"


def default_token_store(name: str, directory: Path | None = None) -> TokenStore:
    """The keyring when ``keyring`` is installed with a usable backend, else a 0600 file."""
    if directory is None:
        try:
            import keyring  # type: ignore[import-not-found,unused-ignore]
            from keyring.backends import fail  # type: ignore[import-not-found,unused-ignore]

            if not isinstance(keyring.get_keyring(), fail.Keyring):
                return KeyringTokenStore(name)
        except Exception:  # no keyring or a broken backend: fall back to the file
            pass
    return FileTokenStore((directory or token_dir()) / f"{name}.json")


def _token_error(erp: str) -> Any:
    def parse(resp: requests.Response) -> ApiError:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        code = str(body.get("error", "")) if isinstance(body, dict) else ""
        text = str(body.get("error_description", "")) if isinstance(body, dict) else ""
        return ApiError(f"{erp} token endpoint", resp.status_code, text or resp.reason or "", code)

    return parse


class _OAuthBase:
    def __init__(
        self,
        erp: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        clock: Clock | None,
        retry: RetryPolicy | None,
        timeout: tuple[float, float],
    ) -> None:
        self.erp = erp
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock or Clock()
        self.retry = retry
        self.timeout = timeout
        self.access_token: str | None = None
        self.expires_at = 0.0

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.client_secret, self.access_token) if s)

    def _post(self, session: requests.Session, form: dict[str, str]) -> dict[str, Any]:
        client = HttpClient(
            f"{self.erp} token endpoint",
            self.token_url,
            session=session,
            retry=self.retry,
            clock=self.clock,
            timeout=self.timeout,
            error_parser=_token_error(self.erp),
        )
        try:
            body = client.json("POST", self.token_url, data=form, retry_timeouts=False)
        except ApiError as exc:
            if exc.status in (400, 401):
                raise AuthError(f"{self.erp}: token request refused: {exc.code or exc.status} {exc.message}") from exc
            raise
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ProtocolError(f"{self.erp}: token endpoint answered without an access_token")
        self.access_token = body["access_token"]
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 600.0
        self.expires_at = self.clock.wall() + lifetime
        log_event(log, logging.INFO, "oauth.token", erp=self.erp, expires_in=lifetime)
        return body

    def _valid(self) -> bool:
        return self.access_token is not None and self.clock.wall() < self.expires_at - EXPIRY_SKEW

    def refresh(self, session: requests.Session) -> None:
        """Get a new access token (each grant type its own way)."""
        raise NotImplementedError

    def apply(self, headers: dict[str, str], session: requests.Session) -> None:
        if not self._valid():
            self.refresh(session)
        headers["Authorization"] = f"Bearer {self.access_token}"


class ClientCredentials(_OAuthBase):
    """OAuth2 client-credentials grant (service-to-service; Business Central via Microsoft Entra ID)."""

    def __init__(
        self,
        erp: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
    ) -> None:
        super().__init__(erp, token_url, client_id, client_secret, clock, retry, timeout)
        self.scope = scope

    def refresh(self, session: requests.Session) -> None:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        if self.scope:
            form["scope"] = self.scope
        self._post(session, form)


class RefreshToken(_OAuthBase):
    """OAuth2 authorization-code grant with rotating refresh tokens, persisted in a :class:`TokenStore`."""

    def __init__(
        self,
        erp: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
    ) -> None:
        super().__init__(erp, token_url, client_id, client_secret, clock, retry, timeout)
        self.store = store
        saved = store.load() or {}
        self.refresh_token: str | None = saved.get("refresh_token")
        if isinstance(saved.get("access_token"), str):
            self.access_token = saved["access_token"]
            self.expires_at = float(saved.get("expires_at", 0.0))

    def secrets(self) -> tuple[str, ...]:
        return (*super().secrets(), *((self.refresh_token,) if self.refresh_token else ()))

    def _persist(self, body: dict[str, Any]) -> None:
        new = body.get("refresh_token")
        if isinstance(new, str) and new:
            self.refresh_token = new
        self.store.save(
            {"refresh_token": self.refresh_token, "access_token": self.access_token, "expires_at": self.expires_at}
        )

    def exchange_code(self, session: requests.Session, code: str, redirect_uri: str) -> None:
        """First authorisation: trade the code from the consent redirect for tokens and store them."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        self._persist(self._post(session, form))

    def refresh(self, session: requests.Session) -> None:
        if not self.refresh_token:
            raise AuthError(
                f"{self.erp}: no refresh token in {self.store.describe()}; authorise first (sop connect --auth-code)"
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        self._persist(self._post(session, form))

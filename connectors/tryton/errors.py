"""Typed errors of the Tryton connector. No message ever contains the password or a session token."""

from __future__ import annotations


class TrytonError(RuntimeError):
    """Base of every Tryton connector error."""


class TrytonLoginError(TrytonError):
    """The server refused the user name or password (never retried: repeated failures lock the user)."""


class TrytonRateLimitedError(TrytonLoginError):
    """The server refuses logins for a while after too many failures (HTTP 429)."""


class TrytonUnavailableError(TrytonError):
    """The server could not be reached or kept failing (connection errors, timeouts, 5xx) after retries."""


class TrytonProtocolError(TrytonError):
    """The server answered something that is not a Tryton JSON-RPC reply (wrong URL, proxy page, ...)."""


class TrytonRequestTooLargeError(TrytonError):
    """HTTP 413: a request asked for more records than the server's ``[request] records_limit``."""


class TrytonApplicationError(TrytonError):
    """An application error returned as HTTP 200 with an ``"error"`` member (access, missing model, ...)."""

    def __init__(self, method: str, kind: str, message: str) -> None:
        self.method = method
        self.kind = kind
        self.message = message
        super().__init__(f"Tryton {method} failed: {kind}: {message}" if kind else f"Tryton {method} failed: {message}")

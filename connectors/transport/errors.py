"""Errors every connector raises: one family, so the CLI and ``check-connection`` can say what went wrong.

No message ever contains a secret: URLs are redacted and bodies are cut to a short excerpt.
"""

from __future__ import annotations

from dataclasses import dataclass


class ConnectorError(RuntimeError):
    """Base of every connector error."""


class ConfigError(ConnectorError, ValueError):
    """The connection profile or mapping is incomplete or wrong (missing setting, missing secret)."""


class AuthError(ConnectorError):
    """The ERP refused the credentials (never retried blindly: repeated failures can lock an account)."""


class UnavailableError(ConnectorError):
    """The ERP could not be reached or kept failing (timeouts, 5xx, 429) within the retry budget."""


class UnreachableError(UnavailableError):
    """Nothing answers at the ERP's address (connection refused, unknown host, no route): not transient,
    so never retried; the client then fails every further request at once with the same message."""


class RateLimitedError(UnavailableError):
    """The ERP's rate limit (per minute or per day) would be exceeded; ``reset_at`` is when it resets."""

    def __init__(self, message: str, reset_at: float | None = None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class ProtocolError(ConnectorError):
    """The ERP answered something that does not follow its protocol (wrong URL, proxy page, bad JSON)."""


class ApiError(ConnectorError):
    """The ERP rejected a request with an error of its own (HTTP 4xx, or an error envelope)."""

    def __init__(self, erp: str, status: int, message: str, code: str = "") -> None:
        self.erp = erp
        self.status = status
        self.code = code
        self.message = message
        where = f"HTTP {status}" + (f" {code}" if code else "")
        super().__init__(f"{erp} {where}: {message}")


class NotFoundError(ApiError):
    """HTTP 404/410: an endpoint or page that is not there (e.g. a next page that vanished mid-sync)."""


@dataclass(frozen=True)
class RecordIssue:
    """One bad value in one source record, named as the ERP names it."""

    table: str
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.table} {self.record}: {self.field}: {self.message}"


class SourceDataError(ConnectorError, ValueError):
    """Raised once per sync with every malformed source record found (the previous snapshot stays)."""

    def __init__(self, source: str, issues: list[RecordIssue]) -> None:
        self.source = source
        self.issues = issues
        shown = "\n".join(f"  - {issue}" for issue in issues[:50])
        more = f"\n  ... and {len(issues) - 50} more" if len(issues) > 50 else ""
        super().__init__(f"{len(issues)} malformed record(s) from {source}:\n{shown}{more}")

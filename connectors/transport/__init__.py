"""The shared transport toolkit of the API connectors: each connector is this plus a mapping module.

- :mod:`.http`: session factory (TLS verification always on) and :class:`HttpClient` (timeouts, retries,
  rate limiting, auth renewal, redacted structured logs).
- :mod:`.retry`: exponential backoff with full jitter, ``Retry-After`` (seconds or HTTP date), budgets.
- :mod:`.ratelimit`: calls per minute and per day, fed by ``X-RateLimit-*`` headers.
- :mod:`.paging`: offset/limit, keyset, OData ``@odata.nextLink``, Exact ``d.__next``, SAP ``odata.nextLink``.
- :mod:`.oauth`: client credentials, refresh tokens with rotation persisted safely (keyring or 0600 file).
- :mod:`.redact`: what never reaches a log line or an error message.
- :mod:`.records`: typed reads of JSON records that name the bad record.
"""

from .errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConnectorError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RecordIssue,
    SourceDataError,
    UnavailableError,
)
from .http import Auth, HttpClient, make_session
from .oauth import ClientCredentials, FileTokenStore, KeyringTokenStore, RefreshToken, TokenStore, default_token_store
from .paging import exact_d, keyset_pages, link_pages, odata_v4, offset_pages, sap_odata
from .ratelimit import RateLimiter
from .records import Reader, Row, parse_date, parse_timestamp
from .retry import Clock, RetryPolicy, parse_retry_after

__all__ = [
    "ApiError",
    "Auth",
    "AuthError",
    "ClientCredentials",
    "Clock",
    "ConfigError",
    "ConnectorError",
    "FileTokenStore",
    "HttpClient",
    "KeyringTokenStore",
    "NotFoundError",
    "ProtocolError",
    "RateLimitedError",
    "RateLimiter",
    "Reader",
    "RecordIssue",
    "RefreshToken",
    "RetryPolicy",
    "Row",
    "SourceDataError",
    "TokenStore",
    "UnavailableError",
    "default_token_store",
    "exact_d",
    "keyset_pages",
    "link_pages",
    "make_session",
    "odata_v4",
    "offset_pages",
    "parse_date",
    "parse_retry_after",
    "parse_timestamp",
    "sap_odata",
]

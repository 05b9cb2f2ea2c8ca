"""Exact Online REST API: OAuth2 with rotating refresh tokens, ``d.__next`` paging, ``/sync/`` endpoints
with ``Timestamp`` watermarks, 60 calls/min and a daily budget from ``X-RateLimit-*``; see :mod:`.connector`."""

from .connector import BULK, SYNC, ExactConnector, exact_error

__all__ = ["BULK", "SYNC", "ExactConnector", "exact_error"]

"""Tryton connector: a real Tryton server (JSON-RPC) read into sopxl's canonical snapshot.

``transport`` talks JSON-RPC, ``mapping`` turns Tryton rows into canonical records, ``sync`` keeps the
incremental cache, ``connector`` ties them together; ``seed``/``server`` build and run the demo ERP.
"""

from .connector import TrytonConnector
from .errors import (
    TrytonApplicationError,
    TrytonError,
    TrytonLoginError,
    TrytonProtocolError,
    TrytonRateLimitedError,
    TrytonRequestTooLargeError,
    TrytonUnavailableError,
)
from .settings import TrytonSettings, load_settings
from .sync import SyncReport

__all__ = [
    "SyncReport",
    "TrytonApplicationError",
    "TrytonConnector",
    "TrytonError",
    "TrytonLoginError",
    "TrytonProtocolError",
    "TrytonRateLimitedError",
    "TrytonRequestTooLargeError",
    "TrytonSettings",
    "TrytonUnavailableError",
    "load_settings",
]

"""The Tryton connector: settings in, validated snapshot out (incremental by default)."""

from __future__ import annotations

import hashlib

from connectors.notices import log_warnings
from connectors.transport.oauth import TokenStore, default_token_store
from sop_functions.snapshot import Snapshot

from .settings import TrytonSettings
from .sync import SyncCache, SyncReport, sync
from .transport import TrytonTransport


class TrytonConnector:
    """``TrytonConnector(settings).snapshot()``: read a Tryton server into a :class:`Snapshot`.

    The first call (or ``full=True``) reads everything; later calls read only what changed since the last
    successful sync (state in ``settings.cache_file``). ``last_report`` tells what was fetched, and its
    ``warnings`` which records were left out or read with a fallback (also logged).
    """

    def __init__(self, settings: TrytonSettings) -> None:
        self.settings = settings
        self.last_report: SyncReport | None = None

    def session_store(self) -> TokenStore:
        """Where this server, database and user's session is kept between runs (a secret: 0600 / keyring)."""
        s = self.settings
        name = "tryton-" + hashlib.sha256(f"{s.url}|{s.database}|{s.user}".encode()).hexdigest()[:16]
        return default_token_store(name, s.session_dir)

    def transport(self) -> TrytonTransport:
        s = self.settings
        return TrytonTransport(
            s.url,
            s.database,
            s.user,
            s.password.get_secret_value(),
            timeout=s.timeout,
            page_size=s.page_size,
            ca_bundle=s.ca_bundle,
            session_store=self.session_store(),
            allow_insecure_http=s.allow_insecure_http,
        )

    def cache(self) -> SyncCache:
        s = self.settings
        return SyncCache(s.cache_file, identity=f"{s.url}|{s.database}|{s.user}")

    def snapshot(self, full: bool = False) -> Snapshot:
        transport = self.transport()
        try:
            snapshot, self.last_report = sync(
                transport,
                self.cache(),
                full=full,
                overlap_seconds=self.settings.sync_overlap_seconds,
                default_lead_time_days=self.settings.default_lead_time_days,
                source_name=f"tryton:{self.settings.database}",
                workers=self.settings.sync_workers,
            )
        finally:
            transport.close()
        log_warnings(snapshot.source, self.last_report.warnings)
        return snapshot

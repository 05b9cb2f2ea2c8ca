"""Incremental sync: cache raw Tryton rows locally, fetch only what changed, detect deletions by id lists.

Per source a watermark is kept: the latest ``create_date``/``write_date`` seen in its rows (the server's
own clock: the database stamps them). The next sync asks only for rows with
``['OR', ('create_date', '>', wm), ('write_date', '>', wm)]`` (``write_date`` is NULL until a record's first
edit), re-reading ``sync_overlap_seconds`` behind the watermark for transactions that committed late, and
asks for the matching ids only (``search``: cheap) to drop rows deleted or no longer matching. Stock levels,
costs and prices are computed by Tryton (no write_date changes with them): they are read every time.

Everything is fetched before anything is written; the cache (SQLite, JSON text, no pickle) is then updated
in ONE transaction, so a sync that fails midway (server stopped, invalid data) leaves the cache as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from connectors.notices import DataWarning, Notes
from sop_functions import clock
from sop_functions.snapshot import Snapshot, snapshot_from_records
from workbooks.private import connect_private, private_dir

from .codec import decode, encode
from .mapping import SOURCES, Row, Source, map_all, stock_context
from .sources import sources_fingerprint
from .transport import TrytonTransport

log = logging.getLogger(__name__)

SCHEMA_VERSION = f"2-{sources_fingerprint()}"
"""Cached rows of other sources (fields, domains) cannot be re-mapped: the cache starts over."""
STAMP_FIELDS = ("create_date", "write_date")


@dataclass
class SyncReport:
    """What one sync did: records fetched per source (rows + stock levels), rows changed and removed."""

    full: bool
    fetched: dict[str, int] = field(default_factory=dict)
    changed: dict[str, list[int]] = field(default_factory=dict)
    deleted: dict[str, list[int]] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    warnings: list[DataWarning] = field(default_factory=list)
    """Records left out or read with a stated fallback (see :mod:`connectors.notices`)."""

    @property
    def total_fetched(self) -> int:
        return sum(self.fetched.values())


@dataclass
class _SourceState:
    watermark: dt.datetime | None
    rows: dict[int, Row]


class SyncCache:
    """The local state: one SQLite file with the rows and watermark of every source."""

    def __init__(self, path: Path, identity: str) -> None:
        self.path = path
        self.identity = identity

    def _connect(self) -> sqlite3.Connection:
        private_dir(self.path.parent)
        conn = connect_private(self.path)
        conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS watermark (source TEXT PRIMARY KEY, ts TEXT);
            CREATE TABLE IF NOT EXISTS row (source TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL,
                                            PRIMARY KEY (source, id));
            """
        )
        return conn

    def load(self) -> dict[str, _SourceState]:
        """Cached state per source; empty when the file belongs to another server/database or schema."""
        if not self.path.exists():
            return {}
        with closing(self._connect()) as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("identity") != self.identity or meta.get("schema") != str(SCHEMA_VERSION):
                return {}
            states: dict[str, _SourceState] = {}
            for source, ts in conn.execute("SELECT source, ts FROM watermark"):
                states[source] = _SourceState(dt.datetime.fromisoformat(ts) if ts else None, {})
            for source, rid, data in conn.execute("SELECT source, id, data FROM row"):
                if source in states:
                    states[source].rows[rid] = decode(json.loads(data))
            return states

    def save(
        self,
        states: Mapping[str, _SourceState],
        changed: Mapping[str, list[int]],
        deleted: Mapping[str, list[int]],
        full: bool,
    ) -> None:
        """Apply the sync's result in one transaction."""
        with closing(self._connect()) as conn, conn:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if full or meta.get("identity") != self.identity or meta.get("schema") != str(SCHEMA_VERSION):
                conn.execute("DELETE FROM row")
                conn.execute("DELETE FROM watermark")
                changed = {name: list(state.rows) for name, state in states.items()}
                deleted = {}
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("identity", self.identity), ("schema", str(SCHEMA_VERSION))],
            )
            for name, state in states.items():
                ts = state.watermark.isoformat() if state.watermark else None
                conn.execute("INSERT OR REPLACE INTO watermark VALUES (?, ?)", (name, ts))
                conn.executemany(
                    "DELETE FROM row WHERE source = ? AND id = ?", [(name, i) for i in deleted.get(name, [])]
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO row VALUES (?, ?, ?)",
                    [(name, i, json.dumps(encode(state.rows[i]), sort_keys=True)) for i in changed.get(name, [])],
                )

    def watermarks(self) -> dict[str, dt.datetime | None]:
        return {name: state.watermark for name, state in self.load().items()}


def _latest(rows: Iterator[Row] | list[Row]) -> dt.datetime | None:
    stamps = [r[f] for r in rows for f in STAMP_FIELDS if isinstance(r.get(f), dt.datetime)]
    return max(stamps) if stamps else None


def _installed(transport: TrytonTransport) -> tuple[set[str], set[tuple[str, str]]]:
    """The models of SOURCES the server has, and which of their module fields (model, field) exist."""
    models = sorted({s.model for s in SOURCES})
    rows = transport.model("ir.model", "search_read", [("name", "in", models)], 0, None, None, ["name"])
    wanted = sorted({f for s in SOURCES for f in s.module_fields})
    fields: set[tuple[str, str]] = set()
    if wanted:
        domain = [("model", "in", models), ("name", "in", wanted)]
        found = transport.model("ir.model.field", "search_read", domain, 0, None, None, ["name", "model"])
        fields = {(str(r["model"]), str(r["name"])) for r in found}
    return {r["name"] for r in rows}, fields


def _fetch_source(
    transport: TrytonTransport,
    source: Source,
    previous: _SourceState | None,
    full: bool,
    overlap: dt.timedelta,
    module_fields: tuple[str, ...] = (),
) -> tuple[_SourceState, int, list[int], list[int]]:
    """New state of one source, the number of rows fetched, the ids changed and the ids removed."""
    fields = (*source.fields, *module_fields, *STAMP_FIELDS)
    if source.singleton:  # an unsaved singleton answers "now" as its create_date: no stamps
        rows = {r["id"]: r for r in transport.model(source.model, "read", [1], [*source.fields, *module_fields])}
        old = previous.rows if previous else {}
        changed = [i for i, r in rows.items() if old.get(i) != r]
        return _SourceState(None, rows), len(rows), changed, [i for i in old if i not in rows]
    if full or previous is None or not source.incremental or previous.watermark is None:
        rows = {r["id"]: r for r in transport.search_read(source.model, source.domain, fields)}
        old = previous.rows if previous else {}
        changed = [i for i, r in rows.items() if old.get(i) != r]
        removed = [i for i in old if i not in rows]
        return _SourceState(_latest(list(rows.values())), rows), len(rows), changed, removed
    since = previous.watermark - overlap
    recent = ["OR", ("create_date", ">", since), ("write_date", ">", since)]
    domain = [source.domain, recent] if source.domain else recent
    fresh = {r["id"]: r for r in transport.search_read(source.model, domain, fields)}
    alive = set(transport.search_ids(source.model, source.domain))
    rows = {i: r for i, r in previous.rows.items() if i in alive}
    removed = [i for i in previous.rows if i not in alive]
    changed = [i for i, r in fresh.items() if i in alive and previous.rows.get(i) != r]
    rows.update({i: r for i, r in fresh.items() if i in alive})
    latest = _latest(list(fresh.values()))
    watermark = max(previous.watermark, latest) if latest else previous.watermark
    return _SourceState(watermark, rows), len(fresh), changed, removed


def company_zone(transport: TrytonTransport) -> dt.tzinfo:
    """The time zone of the user's company (``company.company.timezone``), as Tryton's own ``ir.date.today``
    uses it; UTC when the company has none (Tryton then uses the server's zone, UTC on most servers)."""
    company = transport.context.get("company")
    if not company:
        return dt.UTC
    rows = list(transport.search_read("company.company", [("id", "=", company)], ["timezone"]))
    name = str(rows[0].get("timezone") or "") if rows else ""
    try:
        return clock.zone(name)
    except ValueError:
        log.warning("Tryton company %s has an unknown time zone %r; using UTC", company, name)
        return dt.UTC


def sync(
    transport: TrytonTransport,
    cache: SyncCache,
    *,
    full: bool = False,
    overlap_seconds: float = 60.0,
    default_lead_time_days: int = 14,
    source_name: str = "tryton",
) -> tuple[Snapshot, SyncReport]:
    """Bring the cache up to date with the server and build a validated snapshot from it."""
    started = time.monotonic()
    requests_before = transport.requests_sent
    report = SyncReport(full=full)
    previous = {} if full else cache.load()
    installed, present = _installed(transport)
    # One "today" for everything: the server's clock in the company's time zone, so the as-of date, the
    # stock levels' date and the horizon's first month agree (a Brussels company at 00:05 is in the new day).
    as_of = (transport.server_time or clock.now(dt.UTC)).astimezone(company_zone(transport))
    today = as_of.date()
    overlap = dt.timedelta(seconds=overlap_seconds)
    states: dict[str, _SourceState] = {}
    for source in SOURCES:
        if source.model not in installed:
            if not source.optional:
                raise RuntimeError(f"Tryton model {source.model} is not available (module not activated?)")
            states[source.name] = _SourceState(None, {})
            continue
        extra = tuple(f for f in source.module_fields if (source.model, f) in present)
        state, fetched, changed, removed = _fetch_source(
            transport, source, previous.get(source.name), full, overlap, extra
        )
        states[source.name] = state
        report.fetched[source.name] = fetched
        report.changed[source.name] = changed
        report.deleted[source.name] = removed
    stock: dict[int, dict[int, float]] = {}
    for wh_id in sorted(states["warehouses"].rows):
        context = stock_context(wh_id, today)
        rows = list(transport.search_read("product.product", [("type", "=", "goods")], ["quantity"], context=context))
        stock[wh_id] = {r["id"]: float(r.get("quantity") or 0.0) for r in rows}
        report.fetched[f"stock@{wh_id}"] = len(rows)
    raw = {name: state.rows for name, state in states.items()}
    notes = Notes()
    records = map_all(raw, stock, today, default_lead_time_days, notes)
    snapshot = snapshot_from_records(source_name, as_of, records)
    report.warnings = list(notes)
    cache.save(states, report.changed, report.deleted, full or not previous)
    report.requests = transport.requests_sent - requests_before
    report.seconds = time.monotonic() - started
    log.info(
        "Tryton sync (%s): %d records fetched in %.1fs",
        "full" if full else "incremental",
        report.total_fetched,
        report.seconds,
    )
    return snapshot, report

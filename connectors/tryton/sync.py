"""Incremental sync: fetch only what changed since the last sync, keep the rest mapped, build the snapshot.

**What is asked.** Per source a watermark is kept: the newest ``create_date``/``write_date`` seen in its
rows (the server's own clock: the database stamps them). The next sync asks only for rows with
``['OR', ('create_date', '>', wm), ('write_date', '>', wm)]`` (``write_date`` is NULL until a record's first
edit), re-reading ``sync_overlap_seconds`` behind the watermark for transactions that committed late.
Deleted rows are found by count: every row the source's domain matches is either cached or just fetched
(a row enters a domain by being written), so when ``search_count(domain)`` equals the cached rows plus the
new ones nothing was deleted, and only otherwise are the ids listed (Tryton 8.2 lets users delete any
move: a done one after cancelling it). Sources Tryton computes (prices, open orders read through their
lines, stock in transit) and sources of up to :data:`SMALL_ROWS` rows are read in full every time (the
warehouses within the locations' request, the moves in transit within the request for the moves done since
the last stock read, the price breaks through their suppliers when those are read in full); stock levels
only for the products whose done moves changed (Tryton's on-hand for today counts done moves only), all of
them when the day, the warehouses or the locations changed.

**What is kept.** The rows (SQLite, JSON text, no pickle, :mod:`.cache`), and the shipment history as
mapped lines (:mod:`.history`): a sync reads back only the open orders' rows and the master data, maps
them and assembles the history in one pass, so its cost follows what changed and what is open, not the
years of history. The validated frames too: an entity whose mapped records did not change is not
validated again (:func:`.cache.fingerprint`). Independent requests run concurrently (``workers`` sessions
in threads).

Everything is fetched before anything is written; the cache is then updated in ONE transaction that also
builds the snapshot, so a sync that fails midway (server stopped, invalid data) leaves the cache as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.notices import DataWarning, Notes
from sop_functions import clock
from sop_functions.snapshot import Snapshot, snapshot_from_records

from .cache import LINE_OF, SCHEMA_VERSION, CacheWriter, SyncCache, fingerprint
from .history import shipments_frame
from .mapping import SOURCES, Row, Source, map_all, stock_context
from .rows import nested, ref_id, sku_map
from .sources import matches, read_fields
from .transport import TrytonTransport

log = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "SyncCache", "SyncReport", "company_zone", "sync"]

STAMP_FIELDS = ("create_date", "write_date")
SMALL_ROWS = 100
"""A source with at most this many cached rows is read in full (one request) rather than by its changes and
a count (two): on a server each request costs ~10 ms before it returns a row, a hundred rows about as much."""
KEEP_ROWS = 100_000
"""Validated frames of at most this many rows are kept between syncs. A longer one (the shipment history of
a large company) is validated every time: vectorised, that costs less than fingerprinting and storing it
(1.4 M lines: validation 0.9 s, hash 0.2 s + Arrow write 0.7 s + read 0.3 s, measured on 2 shared cores)."""
TRANSIT_SOURCE = "transit_moves"
STOCK_SOURCE = "stock@moves"
"""Watermark of the done (or cancelled) moves whose products' stock levels were last read."""
T = TypeVar("T")


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
    by_changes: list[str] = field(default_factory=list)
    """Sources read by their changes since the watermark (the others were read in full)."""
    revalidated: list[str] = field(default_factory=list)
    """Entities validated anew (the others were unchanged: their validated frame was kept)."""

    @property
    def total_fetched(self) -> int:
        return sum(self.fetched.values())


class _Workers:
    """Run independent requests concurrently, each thread on its own transport (same session)."""

    def __init__(self, transport: TrytonTransport, size: int) -> None:
        self.transport = transport
        self.size = max(1, size)
        self._local = threading.local()
        self._forks: list[TrytonTransport] = []
        self._lock = threading.Lock()

    def _mine(self) -> TrytonTransport:
        mine: TrytonTransport | None = getattr(self._local, "transport", None)
        if mine is None:
            mine = self.transport.fork()
            self._local.transport = mine
            with self._lock:
                self._forks.append(mine)
        return mine

    def run(self, tasks: Sequence[Callable[[TrytonTransport], T]]) -> list[T]:
        if self.size == 1 or len(tasks) <= 1:
            return [task(self.transport) for task in tasks]
        with ThreadPoolExecutor(min(self.size, len(tasks)), thread_name_prefix="tryton-sync") as pool:
            futures = [pool.submit(lambda task=task: task(self._mine())) for task in tasks]  # type: ignore[misc]
            return [f.result() for f in futures]

    @property
    def requests(self) -> int:
        return self.transport.requests_sent + sum(f.requests_sent for f in self._forks)

    def close(self) -> None:
        for fork in self._forks:
            fork.close()


def _latest(rows: Iterable[Row]) -> dt.datetime | None:
    stamps = [r[f] for r in rows for f in STAMP_FIELDS if isinstance(r.get(f), dt.datetime)]
    return max(stamps) if stamps else None


def _installed(transport: TrytonTransport) -> tuple[set[str], set[tuple[str, str]]]:
    """The models of SOURCES the server has, and which of their module fields exist (one request: every
    model has an ``id`` field)."""
    models = sorted({s.model for s in SOURCES})
    wanted = sorted({"id", *(f for s in SOURCES for f in s.module_fields)})
    domain = [("model", "in", models), ("name", "in", wanted)]
    found = transport.model("ir.model.field", "search_read", domain, 0, None, None, ["name", "model"])
    fields = {(str(r["model"]), str(r["name"])) for r in found}
    return {m for m, f in fields if f == "id"}, fields


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


@dataclass
class _Fetched:
    """One source's answer: rows fetched, the matching count (incremental) and whether it replaces all."""

    source: Source
    rows: dict[int, Row]
    replace: bool
    count: int | None = None
    alive: set[int] | None = None
    removed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """How one source is asked for: everything, or what changed since ``since``."""

    source: Source
    fields: tuple[str, ...]
    since: dt.datetime | None


def _ask(plan: _Plan) -> Callable[[TrytonTransport], _Fetched]:
    source = plan.source

    def fetch(t: TrytonTransport) -> _Fetched:
        if source.singleton:  # an unsaved singleton answers "now" as its create_date: no stamps
            rows = t.model(source.model, "read", [1], [f for f in plan.fields if f not in STAMP_FIELDS])
            return _Fetched(source, {r["id"]: r for r in rows}, replace=True)
        if plan.since is None:
            return _Fetched(source, {r["id"]: r for r in t.search_read(source.model, source.domain, plan.fields)}, True)
        recent = ["OR", ("create_date", ">", plan.since), ("write_date", ">", plan.since)]
        domain = [source.domain, recent] if source.domain else recent
        rows = {r["id"]: r for r in t.search_read(source.model, domain, plan.fields)}
        return _Fetched(source, rows, replace=False)

    return fetch


def _count(source: Source) -> Callable[[TrytonTransport], int]:
    return lambda t: t.search_count(source.model, source.domain)


def _alive(source: Source) -> Callable[[TrytonTransport], set[int]]:
    return lambda t: set(t.search_ids(source.model, source.domain))


Moved = tuple[set[int], dt.datetime | None]
DONE_STATES = ["done", "cancelled"]


def _moved_products(since: dt.datetime | None, transit: _Plan | None) -> Callable[[TrytonTransport], Any]:
    """Products of the moves done (or cancelled) since ``since``: the only ones whose on-hand changed.

    With ``transit`` (the moves in transit, read in full) both come from one request: its domain is
    ``OR([done or cancelled, recent], transit domain)``, and as the transit domain excludes done and
    cancelled moves, a row is in transit exactly when it is neither done nor cancelled.
    """

    def ask(t: TrytonTransport) -> Moved | tuple[Moved, _Fetched]:
        recent = ["OR", ("create_date", ">", since), ("write_date", ">", since)]
        domain: list[Any] = [("state", "in", DONE_STATES), recent]
        fields = ["product", "state", *STAMP_FIELDS]
        if transit is not None:
            if ("state", "not in", DONE_STATES) not in transit.source.domain:  # what tells the two apart
                raise ValueError(f"{transit.source.name}: its domain must exclude done and cancelled moves")
            domain = ["OR", domain, transit.source.domain]
            fields = list(dict.fromkeys([*fields, *transit.fields]))
        rows = list(t.search_read("stock.move", domain, fields))
        done = [r for r in rows if r.get("state") in DONE_STATES]
        moved = {r["product"] for r in done if isinstance(r.get("product"), int)}, _latest(done)
        if transit is None:
            return moved
        keep = ("id", *transit.fields)
        in_transit = {r["id"]: {k: r.get(k) for k in keep} for r in rows if r.get("state") not in DONE_STATES}
        return moved, _Fetched(transit.source, in_transit, replace=True)

    return ask


def _latest_move(t: TrytonTransport) -> dt.datetime | None:
    """The newest stamp of any move: the stock watermark after reading every product's stock."""
    found: dt.datetime | None = None
    for stamp in STAMP_FIELDS:
        rows = t.model("stock.move", "search_read", [(stamp, "!=", None)], 0, 1, [[stamp, "DESC"]], [stamp])
        if rows and isinstance(rows[0].get(stamp), dt.datetime):
            found = max(found, rows[0][stamp]) if found else rows[0][stamp]
    return found


def _stock(warehouse: int, today: dt.date, products: Sequence[int] | None) -> Callable[[TrytonTransport], Any]:
    def read(t: TrytonTransport) -> tuple[int, dict[int, float]]:
        domain: list[Any] = [("type", "=", "goods")]
        if products is not None:
            domain.append(("id", "in", list(products)))
        rows = t.search_read("product.product", domain, ["quantity"], context=stock_context(warehouse, today))
        return warehouse, {r["id"]: float(r.get("quantity") or 0.0) for r in rows}

    return read


def _unnest(source: Source, host: _Fetched) -> _Fetched:
    """``source``'s rows out of the host's rows (which keep no trace of them), as its own request reads them."""
    _, field, back = source.via
    rows: dict[int, Row] = {}
    for host_id, row in host.rows.items():
        for inner in row.pop(f"{field}.", None) or []:
            rows[inner["id"]] = {"id": inner["id"], back: host_id, **{k: v for k, v in inner.items() if k != "id"}}
    return _Fetched(source, rows, replace=True)


def _relevant(writer: CacheWriter) -> dict[str, dict[int, Row]]:
    """The rows the mapping reads: all master data and open orders; of the order lines and their moves
    only those of open orders and of moves still to ship or receive (the done history is :mod:`.history`)."""
    raw: dict[str, dict[int, Row]] = {}
    big = {"sale_lines", "purchase_lines", "customer_moves", "purchase_moves"}
    for source in SOURCES:
        if source.name not in big:
            raw[source.name] = writer.rows(source.name)
    for lines, moves, headers in (("sale_lines", "customer_moves", "sales"), ("purchase_lines", "purchase_moves",
                                  "purchases")):  # fmt: skip
        open_orders = set(raw.get(headers, {}))
        open_lines = writer.rows_where_in(lines, "parent", open_orders)
        pending = writer.rows(moves, "AND line IS NOT NULL AND (state IS NULL OR state != 'done')")
        pending |= writer.rows_where_in(moves, "line", set(open_lines), "AND state = 'done'")
        model = LINE_OF[moves]
        ids = {line for r in pending.values() if (line := ref_id(r.get("origin"), model)) is not None}
        if lines == "sale_lines":
            ids |= writer.shipped_lines()
        open_lines |= writer.rows_where_in(lines, "id", ids - set(open_lines))
        raw[lines], raw[moves] = open_lines, pending
    return raw


def sync(
    transport: TrytonTransport,
    cache: SyncCache,
    *,
    full: bool = False,
    overlap_seconds: float = 60.0,
    default_lead_time_days: int = 14,
    source_name: str = "tryton",
    workers: int = 4,
    small_rows: int = SMALL_ROWS,
) -> tuple[Snapshot, SyncReport]:
    """Bring the cache up to date with the server and build a validated snapshot from it.

    ``workers``: requests sent at once; ``small_rows``: sources with at most this many cached rows are read
    in full (see the module docstring).
    """
    started = time.monotonic()
    requests_before = transport.requests_sent
    report = SyncReport(full=full)
    pool = _Workers(transport, workers)
    try:
        transport.context  # noqa: B018 - log in (or reuse the stored session) and read the user's context once
        first: list[Any] = pool.run([_installed, company_zone])
        (installed, present), zone = first
        # One "today" for everything: the server's clock in the company's time zone, so the as-of date, the
        # stock levels' date and the horizon's first month agree (a Brussels company at 00:05 is in the new day).
        as_of = (transport.server_time or clock.now(dt.UTC)).astimezone(zone)
        with cache.transaction(full) as writer:
            snapshot = _sync_in(writer, pool, installed, present, as_of, report, overlap_seconds,
                                default_lead_time_days, source_name, small_rows)  # fmt: skip
    finally:
        report.requests = pool.requests - requests_before
        pool.close()
    report.seconds = time.monotonic() - started
    log.info(
        "Tryton sync (%s): %d records fetched in %.1fs (%d requests)",
        "full" if full else "incremental",
        report.total_fetched,
        report.seconds,
        report.requests,
    )
    return snapshot, report


def _sync_in(
    writer: CacheWriter,
    pool: _Workers,
    installed: set[str],
    present: set[tuple[str, str]],
    as_of: dt.datetime,
    report: SyncReport,
    overlap_seconds: float,
    default_lead_time_days: int,
    source_name: str,
    small_rows: int,
) -> Snapshot:
    today = as_of.date()
    overlap = dt.timedelta(seconds=overlap_seconds)
    plans: list[_Plan] = []
    missing: list[Source] = []
    hosted: list[Source] = []
    through: list[Source] = []
    for source in SOURCES:
        if source.within and source.model in installed:
            hosted.append(source)
            continue
        if source.model not in installed:
            if not source.optional:
                raise RuntimeError(f"Tryton model {source.model} is not available (module not activated?)")
            missing.append(source)
            continue
        extra = tuple(f for f in source.module_fields if (source.model, f) in present)
        mark = writer.watermark(source.name)
        small = writer.count(source.name) <= small_rows
        since = mark - overlap if mark is not None and source.incremental and not writer.empty and not small else None
        host = next((p for p in plans if source.via and p.source.name == source.via[0] and p.since is None), None)
        if host is not None:  # read through the host's One2Many, in its request
            through.append(source)
            inner = [f"{source.via[1]}.{f}" for f in (*source.fields, *STAMP_FIELDS) if f != source.via[2]]
            plans[plans.index(host)] = _Plan(host.source, (*host.fields, *inner), None)
            continue
        plans.append(_Plan(source, (*read_fields(source), *extra, *STAMP_FIELDS), since))

    # 1. every source's rows (or changes) and matching counts, stock moves done since the last stock read
    stock_mark = writer.watermark(STOCK_SOURCE)
    stock_all = writer.empty or writer.meta("stock_day") != today.isoformat() or stock_mark is None
    transit = next((p for p in plans if p.source.name == TRANSIT_SOURCE and p.since is None), None)
    joined = transit if not stock_all else None  # read with the moves done since the stock read
    asked = [p for p in plans if p is not joined]
    tasks: list[Callable[[TrytonTransport], Any]] = [_ask(p) for p in asked]
    counted = [p.source for p in asked if p.since is not None]
    tasks += [_count(s) for s in counted]
    tasks.append(_latest_move if stock_all or stock_mark is None else _moved_products(stock_mark - overlap, joined))
    answers = pool.run(tasks)
    fetched: list[_Fetched] = answers[: len(asked)]
    counts = dict(zip((s.name for s in counted), answers[len(asked) : len(asked) + len(counted)], strict=True))
    moved = answers[-1]
    if joined is not None:
        moved, in_transit = moved
        fetched.append(in_transit)

    for source in through:
        fetched.append(_unnest(source, next(a for a in fetched if a.source.name == source.via[0])))

    # 2. deletions: ids listed only where the count says rows went
    recheck: list[_Fetched] = []
    for answer in fetched:
        if answer.replace:
            continue
        name = answer.source.name
        cached = writer.count(name)
        new = len(set(answer.rows) - writer.known(name, answer.rows))
        if counts[name] != cached + new:
            recheck.append(answer)
    for answer, alive in zip(recheck, pool.run([_alive(a.source) for a in recheck]), strict=True):
        answer.removed = sorted(writer.ids(answer.source.name) - alive - set(answer.rows))

    # 3. write the rows (the transaction commits only once the snapshot is built)
    for answer in fetched:
        name = answer.source.name
        previous = None if answer.replace else writer.watermark(name)
        latest = None if answer.source.singleton else _latest(answer.rows.values())
        mark = max(filter(None, [previous, latest]), default=None)
        report.changed[name], report.deleted[name] = writer.apply(
            answer.source, answer.rows, answer.removed, mark, replace=answer.replace
        )
        report.fetched[name] = len(answer.rows)
        if not answer.replace:
            report.by_changes.append(name)
    for source in missing:
        writer.apply(source, {}, [], None, replace=True)
    for source in hosted:  # picked from the host's cached rows (all of them, whether read in full or not)
        keep = ("id", *source.fields)
        rows = {rid: {k: r.get(k) for k in keep} for rid, r in writer.rows(source.within).items() if matches(source, r)}
        report.changed[source.name], report.deleted[source.name] = writer.apply(source, rows, [], None, replace=True)

    # 4. stock levels: every product's, or only those whose done moves changed
    warehouses = sorted(writer.ids("warehouses"))
    layout = any(report.changed.get(n) or report.deleted.get(n) for n in ("warehouses", "locations"))
    if stock_all or layout:
        mark_after = moved if stock_all else _latest_move(pool.transport)
        reads = pool.run([_stock(wh, today, None) for wh in warehouses])
    else:
        products, latest = moved
        mark_after = max(filter(None, [stock_mark, latest]), default=None)
        reads = pool.run([_stock(wh, today, sorted(products)) for wh in warehouses]) if products else []
    writer.set_stock(dict(reads), replace=stock_all or layout)
    for wh, quantities in reads:
        report.fetched[f"stock@{wh}"] = len(quantities)
    writer.set_meta("stock_day", today.isoformat())
    writer.set_watermark(STOCK_SOURCE, mark_after)

    # 5. read back what the mapping needs, map, assemble the history, validate
    raw = _relevant(writer)
    notes = Notes()
    records = map_all(raw, writer.stock(), today, default_lead_time_days, notes, shipments=False)
    lines = raw.get("sale_lines", {})
    party = {lid: str(name) for lid, row in lines.items() if (name := nested(row, "sale.party.name"))}
    history = shipments_frame(writer.shipped(), sku_map(raw["products"]), party)
    report.warnings = list(notes)
    inputs: dict[str, Any] = {**records, "shipments": history}
    marks = {entity: fingerprint(entity, content) for entity, content in inputs.items() if len(content) <= KEEP_ROWS}
    kept = writer.kept_frames(marks)
    report.revalidated = sorted(set(inputs) - set(kept))
    snapshot = snapshot_from_records(
        source_name,
        as_of,
        {e: r for e, r in records.items() if e not in kept},
        frames={} if "shipments" in kept else {"shipments": history},
        validated=kept,
    )
    writer.keep_frames({e: (marks[e], snapshot.frames[e]) for e in report.revalidated if e in marks})
    writer.drop_frames(set(inputs) - set(marks))
    return snapshot


def all_rows(cache: SyncCache) -> dict[str, dict[int, Row]]:
    """Every cached row of every source (tests map them all the old way and compare with the sync's)."""
    return cache.read_rows([s.name for s in SOURCES])

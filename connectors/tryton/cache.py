"""The incremental sync's local state: one SQLite file (JSON text, no pickle), changed in one transaction.

Tables:

- ``meta``: whose cache this is (server, database, user) and its schema (the sources' fingerprint);
- ``watermark``: per source, the newest ``create_date``/``write_date`` seen (the server's own clock);
- ``row``: every cached Tryton row as JSON, with the few columns the sync selects rows by: ``state`` and
  ``line`` (the sale/purchase line a move comes from) of moves, ``parent`` (the order) of order lines;
- ``shipped``: the done customer moves as shipment lines (:class:`~.history.Shipped`), the history;
- ``stock``: on-hand quantity per warehouse and product, as of ``meta.stock_day``;
- ``frame``: per canonical entity, the validated frame of the last snapshot (Arrow IPC, exact dtypes, no
  pickle) with the fingerprint of what it was built from (:func:`fingerprint`): an entity whose mapped
  records did not change is taken from here instead of being validated again.

A :class:`CacheWriter` (:meth:`SyncCache.transaction`) applies one sync's changes and reads back what the
mapping needs in the same transaction; it commits only when the snapshot was built, so a sync that fails
(server stopped, invalid data) leaves the cache as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

import sop_functions.snapshot as snapshot_module
from workbooks.private import connect_private, private_dir

from .codec import dumps, loads
from .history import shipped
from .rows import Row, ref_id
from .sources import SOURCE_BY_NAME, Source, sources_fingerprint

SCHEMA_VERSION = f"3-{sources_fingerprint()}"
"""Cached rows of other sources (fields, domains) or another layout cannot be re-mapped: the cache starts over."""
HISTORY_SOURCE = "customer_moves"
LINE_OF = {"customer_moves": "sale.line", "purchase_moves": "purchase.line"}
"""Move sources and the line model of their origin."""
PARENT_OF = {"sale_lines": "sale", "purchase_lines": "purchase"}
"""Order line sources and the field naming their order."""
_CHUNK = 500
_TABLES = (
    """CREATE TABLE IF NOT EXISTS row (source TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL,
        state TEXT, line INTEGER, parent INTEGER, PRIMARY KEY (source, id))""",
    "CREATE INDEX IF NOT EXISTS row_line ON row (source, line)",
    "CREATE INDEX IF NOT EXISTS row_parent ON row (source, parent)",
    """CREATE TABLE IF NOT EXISTS shipped (move INTEGER PRIMARY KEY, product INTEGER NOT NULL,
        qty REAL NOT NULL, day TEXT NOT NULL, customer TEXT NOT NULL, line INTEGER)""",
    """CREATE TABLE IF NOT EXISTS stock (warehouse INTEGER NOT NULL, product INTEGER NOT NULL,
        qty REAL NOT NULL, PRIMARY KEY (warehouse, product))""",
    "CREATE TABLE IF NOT EXISTS frame (entity TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, data BLOB NOT NULL)",
)
_VALIDATOR = hashlib.sha256(Path(snapshot_module.__file__).read_bytes()).hexdigest()
"""The validation code itself: a frame validated by another version of it is validated again."""


def _typed(value: object) -> str:
    return f"{type(value).__name__}:{value}"


def fingerprint(entity: str, content: Sequence[Mapping[str, Any]] | pd.DataFrame) -> str:
    """What a validated frame was built from: the entity's mapped records (values with their types) or
    input frame (columns, dtypes, row hashes), and the validator's source."""
    digest = hashlib.sha256(f"{_VALIDATOR}|{entity}|".encode())
    if isinstance(content, pd.DataFrame):
        digest.update(repr([(str(c), str(t)) for c, t in content.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(content, index=True).to_numpy().tobytes())
    else:
        digest.update(json.dumps(list(content), default=_typed, sort_keys=True).encode())
    return digest.hexdigest()


def _columns(source: str, row: Row) -> tuple[str | None, int | None, int | None]:
    """``(state, line, parent)`` of a row: what the sync selects moves and order lines by."""
    line_model = LINE_OF.get(source)
    parent = PARENT_OF.get(source)
    state = row.get("state") if line_model else None
    line = ref_id(row.get("origin"), line_model) if line_model else None
    owner = row.get(parent) if parent else None
    return (str(state) if state is not None else None), line, (owner if isinstance(owner, int) else None)


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class SyncCache:
    """The sync state of one server, database and user (``identity``) in one SQLite file."""

    def __init__(self, path: Path, identity: str) -> None:
        self.path = path
        self.identity = identity

    def _connect(self) -> sqlite3.Connection:
        private_dir(self.path.parent)
        conn = connect_private(self.path, isolation_level=None)
        conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS watermark (source TEXT PRIMARY KEY, ts TEXT);
            """
        )
        return conn

    def _valid(self, conn: sqlite3.Connection) -> bool:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        return meta.get("identity") == self.identity and meta.get("schema") == SCHEMA_VERSION

    def watermarks(self) -> dict[str, dt.datetime | None]:
        """Per source, the newest server timestamp seen; empty when the cache is another's or out of date."""
        if not self.path.exists():
            return {}
        with closing(self._connect()) as conn:
            if not self._valid(conn):
                return {}
            return {
                s: dt.datetime.fromisoformat(ts) if ts else None for s, ts in conn.execute("SELECT * FROM watermark")
            }

    def meta(self, key: str) -> str | None:
        if not self.path.exists():
            return None
        with closing(self._connect()) as conn:
            if not self._valid(conn):
                return None
            found = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return str(found[0]) if found else None

    def read_rows(self, sources: Sequence[str]) -> dict[str, dict[int, Row]]:
        """Every cached row of ``sources`` (read only; empty for a cache of another identity or schema)."""
        out: dict[str, dict[int, Row]] = {name: {} for name in sources}
        if not self.path.exists():
            return out
        with closing(self._connect()) as conn:
            if not self._valid(conn) or not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'row'").fetchone():
                return out
            for name, rid, data in conn.execute("SELECT source, id, data FROM row"):
                if name in out:
                    out[name][int(rid)] = loads(data)
        return out

    def stock_levels(self) -> dict[int, dict[int, float]]:
        """The cached on-hand per warehouse and product (read only)."""
        out: dict[int, dict[int, float]] = {}
        if not self.path.exists():
            return out
        with closing(self._connect()) as conn:
            if self._valid(conn) and conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'stock'").fetchone():
                for wh, pid, qty in conn.execute("SELECT warehouse, product, qty FROM stock"):
                    out.setdefault(int(wh), {})[int(pid)] = float(qty)
        return out

    @contextmanager
    def transaction(self, full: bool) -> Iterator[CacheWriter]:
        """One sync's changes and reads; committed when the block ends without an exception.

        ``full`` (or a cache of another identity or schema) starts from an empty cache.
        """
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                fresh = full or not self._valid(conn)
                if fresh:  # (executescript would commit: one statement at a time inside the transaction)
                    for table in ("row", "shipped", "stock", "frame"):
                        conn.execute(f"DROP TABLE IF EXISTS {table}")
                    conn.execute("DELETE FROM meta")
                    conn.execute("DELETE FROM watermark")
                    conn.executemany(
                        "INSERT INTO meta VALUES (?, ?)", [("identity", self.identity), ("schema", SCHEMA_VERSION)]
                    )
                for statement in _TABLES:
                    conn.execute(statement)
                yield CacheWriter(conn, fresh)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


class CacheWriter:
    """The open transaction of one sync (see :meth:`SyncCache.transaction`)."""

    def __init__(self, conn: sqlite3.Connection, empty: bool) -> None:
        self.conn = conn
        self.empty = empty
        """The cache started empty (first or full sync): there is nothing to be incremental from."""

    # --- what the fetch needs to know ---------------------------------------------------------------
    def watermark(self, source: str) -> dt.datetime | None:
        found = self.conn.execute("SELECT ts FROM watermark WHERE source = ?", (source,)).fetchone()
        return dt.datetime.fromisoformat(found[0]) if found and found[0] else None

    def has_source(self, source: str) -> bool:
        found = self.conn.execute("SELECT 1 FROM watermark WHERE source = ?", (source,)).fetchone()
        return found is not None

    def count(self, source: str) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM row WHERE source = ?", (source,)).fetchone()[0])

    def ids(self, source: str) -> set[int]:
        return {int(i) for (i,) in self.conn.execute("SELECT id FROM row WHERE source = ?", (source,))}

    def known(self, source: str, ids: Iterable[int]) -> set[int]:
        """Which of ``ids`` the cache holds for ``source``."""
        out: set[int] = set()
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id FROM row WHERE source = ? AND id IN ({marks})"  # noqa: S608 - placeholders only
            out.update(int(i) for (i,) in self.conn.execute(query, (source, *chunk)))
        return out

    def meta(self, key: str) -> str | None:
        found = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(found[0]) if found else None

    # --- writing ------------------------------------------------------------------------------------
    def set_watermark(self, source: str, mark: dt.datetime | None) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO watermark VALUES (?, ?)", (source, mark.isoformat() if mark else None)
        )

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def apply(
        self, source: Source, rows: Mapping[int, Row], removed: Iterable[int], watermark: dt.datetime | None, *,
        replace: bool,
    ) -> tuple[list[int], list[int]]:  # fmt: skip
        """Store a source's fetched rows (all of them when ``replace``) and drop ``removed``; returns the ids
        whose content changed and the ids dropped. Done customer moves also update the shipment history."""
        name = source.name
        gone = sorted(set(removed))
        if replace:
            gone = sorted(self.ids(name) - set(rows))
        old = self._datas(name, list(rows))
        texts = {rid: dumps(row) for rid, row in rows.items()}
        changed = [rid for rid, text in texts.items() if old.get(rid) != text]
        self.conn.executemany(
            "INSERT OR REPLACE INTO row VALUES (?, ?, ?, ?, ?, ?)",
            [(name, rid, texts[rid], *_columns(name, rows[rid])) for rid in changed],
        )
        for chunk in _chunks(gone):
            marks = ",".join("?" * len(chunk))
            self.conn.execute(f"DELETE FROM row WHERE source = ? AND id IN ({marks})", (name, *chunk))  # noqa: S608
        if name == HISTORY_SOURCE:
            self._history([rows[i] for i in changed], gone)
        self.set_watermark(name, watermark)
        return changed, gone

    def _datas(self, source: str, ids: Sequence[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in _chunks(sorted(ids)):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, data FROM row WHERE source = ? AND id IN ({marks})"  # noqa: S608
            out.update((int(i), str(d)) for i, d in self.conn.execute(query, (source, *chunk)))
        return out

    def _history(self, changed: Sequence[Row], removed: Sequence[int]) -> None:
        found = [(row["id"], shipped(row)) for row in changed]
        drop = [*removed, *(mid for mid, s in found if s is None)]
        for chunk in _chunks(drop):
            self.conn.execute(f"DELETE FROM shipped WHERE move IN ({','.join('?' * len(chunk))})", tuple(chunk))  # noqa: S608
        self.conn.executemany("INSERT OR REPLACE INTO shipped VALUES (?, ?, ?, ?, ?, ?)", [s for _, s in found if s])

    def set_stock(self, quantities: Mapping[int, Mapping[int, float]], *, replace: bool) -> None:
        """Per warehouse, product -> on-hand; ``replace`` drops every quantity not given."""
        if replace:
            self.conn.execute("DELETE FROM stock")
        self.conn.executemany(
            "INSERT OR REPLACE INTO stock VALUES (?, ?, ?)",
            [(wh, pid, qty) for wh, per in quantities.items() for pid, qty in per.items()],
        )

    def kept_frames(self, fingerprints: Mapping[str, str]) -> dict[str, pd.DataFrame]:
        """The validated frames of the entities whose stored fingerprint is the one given."""
        out: dict[str, pd.DataFrame] = {}
        for entity, data, mark in self.conn.execute("SELECT entity, data, fingerprint FROM frame"):
            if fingerprints.get(entity) == mark:
                out[str(entity)] = pd.read_feather(io.BytesIO(data))
        return out

    def keep_frames(self, frames: Mapping[str, tuple[str, pd.DataFrame]]) -> None:
        """Store entity -> (fingerprint, validated frame)."""
        for entity, (mark, frame) in frames.items():
            buffer = io.BytesIO()
            frame.reset_index(drop=True).to_feather(buffer)
            self.conn.execute("INSERT OR REPLACE INTO frame VALUES (?, ?, ?)", (entity, mark, buffer.getvalue()))

    def drop_frames(self, entities: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM frame WHERE entity = ?", [(e,) for e in sorted(entities)])

    # --- reading back what the mapping needs --------------------------------------------------------
    def rows(self, source: str, where: str = "", args: Sequence[Any] = ()) -> dict[int, Row]:
        query = f"SELECT id, data FROM row WHERE source = ? {where}"  # noqa: S608 - fixed clauses of this module
        return {int(i): loads(d) for i, d in self.conn.execute(query, (source, *args))}

    def rows_where_in(self, source: str, column: str, values: Iterable[int], extra: str = "") -> dict[int, Row]:
        """Rows of ``source`` whose ``column`` (``id``, ``line`` or ``parent``) is one of ``values``."""
        if column not in ("id", "line", "parent"):
            raise ValueError(column)
        out: dict[int, Row] = {}
        for chunk in _chunks(sorted(set(values))):
            out.update(self.rows(source, f"AND {column} IN ({','.join('?' * len(chunk))}) {extra}", chunk))
        return out

    def shipped(self) -> pd.DataFrame:
        """The shipment history as a frame of :class:`~.history.Shipped` columns."""
        frame = pd.read_sql_query("SELECT move, product, qty, day, customer, line FROM shipped", self.conn)
        return frame.astype({"move": "int64", "product": "int64", "qty": "float64"})

    def shipped_lines(self) -> set[int]:
        """Sale lines of history moves without a shipment customer (their party names the customer)."""
        query = "SELECT DISTINCT line FROM shipped WHERE customer = '' AND line IS NOT NULL"
        return {int(i) for (i,) in self.conn.execute(query)}

    def stock(self) -> dict[int, dict[int, float]]:
        out: dict[int, dict[int, float]] = {}
        for wh, pid, qty in self.conn.execute("SELECT warehouse, product, qty FROM stock"):
            out.setdefault(int(wh), {})[int(pid)] = float(qty)
        return out


__all__ = ["SOURCE_BY_NAME", "CacheWriter", "SyncCache"]

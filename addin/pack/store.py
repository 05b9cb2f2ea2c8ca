"""The meeting pack kept with a published plan version, so the minutes and the deck match later.

One table added to the plan store's database, nothing else changed (additive, backward compatible):

``sop_plan_pack (plan, version, frozen_at, body)``: the version's :class:`~.content.Pack` as JSON (no
pickle: the store may be shared), primary key ``(plan, version)``, foreign key to ``sop_plan_version``
(deleted with it). Written once when the version is published and never changed afterwards; versions
published before it existed simply have no row, and ``sop pack --version N`` says so.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sop_functions import clock
from workbooks.plan_store import PlanStoreError, open_store

from .content import Pack

SCHEMA = """CREATE TABLE IF NOT EXISTS sop_plan_pack (
    plan TEXT NOT NULL,
    version INTEGER NOT NULL,
    frozen_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (plan, version),
    FOREIGN KEY (plan, version) REFERENCES sop_plan_version (plan, version) ON DELETE CASCADE
)"""


@contextmanager
def _connect(url: str) -> Iterator[tuple[Any, str]]:
    """A DB-API connection to the plan store's database (made by :func:`open_store` first) and its dialect."""
    open_store(url).close()  # creates the plan store's own tables, so the foreign key has its target
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        db: Any = psycopg.connect(url, connect_timeout=10)
        dialect = "postgresql"
    else:
        path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url).expanduser()
        db = sqlite3.connect(path, timeout=30)
        db.execute("PRAGMA foreign_keys = ON")
        dialect = "sqlite"
    try:
        cur = db.cursor()
        cur.execute(SCHEMA)
        db.commit()
        cur.close()
        yield db, dialect
    finally:
        db.close()


def _sql(text: str, dialect: str) -> str:
    return text.replace("?", "%s") if dialect == "postgresql" else text


def freeze_pack(url: str, plan: str, version: int, pack: Pack, frozen_at: dt.datetime | None = None) -> bool:
    """Keep ``pack`` with version ``version`` of ``plan``; False when that version already has one (kept as is)."""
    with open_store(url) as store:
        store.version(plan, version)  # PlanStoreError when the version does not exist
    when = (frozen_at or clock.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0).isoformat()
    with _connect(url) as (db, dialect):
        cur = db.cursor()
        try:
            cur.execute(
                _sql(
                    "INSERT INTO sop_plan_pack (plan, version, frozen_at, body) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (plan, version) DO NOTHING",
                    dialect,
                ),
                (plan, version, when, pack.to_json()),
            )
            created = cur.rowcount == 1
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            cur.close()
    return bool(created)


def load_pack(url: str, plan: str, version: int) -> Pack | None:
    """The pack kept with a version, or None (published before packs were kept, or never frozen)."""
    with _connect(url) as (db, dialect):
        cur = db.cursor()
        try:
            cur.execute(_sql("SELECT body FROM sop_plan_pack WHERE plan = ? AND version = ?", dialect), (plan, version))
            row = cur.fetchone()
        finally:
            cur.close()
    if row is None:
        return None
    try:
        return Pack.from_json(str(row[0]))
    except (ValueError, KeyError) as exc:
        raise PlanStoreError(f"the meeting pack kept with {plan!r} version {version} cannot be read: {exc}") from None

"""The plan store: every agreed (published) plan, frozen as a numbered version.

SQLite beside the workbook by default (``SOP.xlsx`` -> ``SOP.plans.sqlite``); PostgreSQL when a team
shares one plan history (``postgresql://user:pass@host:5432/db``, needs ``psycopg``). Plain DB-API with
parameterised SQL, two tables:

- ``sop_plan_version``: one row per version: ``plan`` (the plan history's name), ``version`` (1, 2, ...
  per plan), who published it and when (UTC), the snapshot's source and ERP as-of time, a note, a
  fingerprint of its lines, and how the ERP write-back went (``erp_status``, ``erp_reference``).
- ``sop_plan_line``: the frozen numbers, per version, ``level`` (``sku`` / ``family``), item and bucket:
  demand, supply, production, projected inventory, gap value.

Publishing is keyed on the plan's **content**: the same lines as the latest version return that version
instead of adding a copy, whatever the ERP's as-of time (a live ERP's changes on every call). The check
and the version number are done inside the insert's transaction (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL table lock), so two planners publishing at the same instant get one version for one plan, and
distinct numbers for distinct plans, never a merged or duplicated version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sop_functions import clock

from .private import connect_private

LINE_VALUES = ("demand", "supply", "production", "projected_inventory", "gap_value")
LINE_COLUMNS = ("level", "item", "family", "bucket", *LINE_VALUES)
LINE_SOURCES: dict[str, tuple[str, ...]] = {
    "demand": ("independent_demand",),
    "supply": ("supply_proposed",),
    "production": ("production", "planned_production"),
    "projected_inventory": ("projected_inventory_proposed",),
    "gap_value": ("gap_value_proposed",),
}
"""Where each frozen value comes from in the plan: the proposed layer (what was agreed). ``demand`` is the
independent demand (what the ERP's MRP plans against), ``gap_value`` the gap that cannot hide a shortage
(-value at risk where anything is short, else +cash tied up), ``production`` production orders + planned."""
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sop_plan_version (
        plan TEXT NOT NULL,
        version INTEGER NOT NULL,
        published_at TEXT NOT NULL,
        published_by TEXT NOT NULL,
        source TEXT NOT NULL,
        as_of TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        fingerprint TEXT NOT NULL,
        erp_status TEXT NOT NULL DEFAULT '',
        erp_reference TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (plan, version)
    )""",
    """CREATE TABLE IF NOT EXISTS sop_plan_line (
        plan TEXT NOT NULL,
        version INTEGER NOT NULL,
        level TEXT NOT NULL,
        item TEXT NOT NULL,
        family TEXT NOT NULL,
        bucket TEXT NOT NULL,
        demand DOUBLE PRECISION NOT NULL,
        supply DOUBLE PRECISION NOT NULL,
        production DOUBLE PRECISION NOT NULL,
        projected_inventory DOUBLE PRECISION NOT NULL,
        gap_value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (plan, version, level, item, bucket),
        FOREIGN KEY (plan, version) REFERENCES sop_plan_version (plan, version) ON DELETE CASCADE
    )""",
)


class PlanStoreError(RuntimeError):
    """The plan store cannot be opened or written, or a version does not exist."""


@dataclass(frozen=True)
class PlanVersion:
    plan: str
    version: int
    published_at: dt.datetime
    published_by: str
    source: str
    as_of: dt.datetime
    note: str
    fingerprint: str
    erp_status: str
    erp_reference: str


def default_store_url(workbook: str | os.PathLike[str]) -> str:
    """``sqlite:///<folder>/<stem>.plans.sqlite`` beside the workbook."""
    path = Path(workbook).expanduser().resolve()
    return f"sqlite:///{path.with_name(path.stem + '.plans.sqlite')}"


def plan_lines(sku_plan: pd.DataFrame, family_plan: pd.DataFrame) -> pd.DataFrame:
    """:data:`LINE_COLUMNS` from a plan's SKU and family frames (both levels, every bucket)."""

    def level(frame: pd.DataFrame, name: str, key: str) -> pd.DataFrame:
        out = pd.DataFrame(
            {
                "level": name,
                "item": frame[key].astype(str).to_numpy(),
                "family": frame["family"].astype(str).to_numpy(),
                "bucket": frame["bucket"].astype(str).to_numpy(),
            }
        )
        for column in LINE_VALUES:
            sources = [c for c in LINE_SOURCES[column] if c in frame]
            out[column] = sum((frame[c].to_numpy(dtype=float) for c in sources), np.zeros(len(frame)))
        return out

    return pd.concat([level(sku_plan, "sku", "sku"), level(family_plan, "family", "family")], ignore_index=True)


CONTENT_PREFIX = "c1:"
"""Marks fingerprints of the lines alone; older ones also hashed the as-of time (recomputed when compared)."""


def fingerprint(lines: pd.DataFrame) -> str:
    """SHA-256 of the lines (values rounded to 1e-6): equal plan content, equal fingerprints."""
    ordered = lines[list(LINE_COLUMNS)].sort_values(["level", "item", "bucket"]).reset_index(drop=True)
    digest = hashlib.sha256(ordered[["level", "item", "family", "bucket"]].to_csv(index=False).encode())
    values = np.round(ordered[list(LINE_VALUES)].to_numpy(dtype=float), 6) + 0.0  # + 0.0: -0.0 hashes as 0.0
    digest.update(values.tobytes())
    return CONTENT_PREFIX + digest.hexdigest()


class PlanStore:
    """A plan history in SQLite or PostgreSQL. Use :func:`open_store`; close with :meth:`close` (or ``with``)."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self._db = connection
        self.dialect = dialect
        with self._transaction() as cur:
            for statement in SCHEMA:
                cur.execute(statement)

    def __enter__(self) -> PlanStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        cur = self._db.cursor()
        try:
            if self.dialect == "sqlite":
                cur.execute("BEGIN IMMEDIATE")
            yield cur
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise
        finally:
            cur.close()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cur = self._db.cursor()
        try:
            cur.execute(self._sql(sql), tuple(params))
            rows = list(cur.fetchall())
        finally:
            cur.close()
        self._db.commit()
        return rows

    def publish(
        self,
        lines: pd.DataFrame,
        *,
        plan: str,
        published_by: str,
        source: str,
        as_of: dt.datetime,
        note: str = "",
        published_at: dt.datetime | None = None,
    ) -> tuple[PlanVersion, bool]:
        """Freeze ``lines`` (:data:`LINE_COLUMNS`) as the next version of ``plan``.

        Returns ``(version, created)``: ``created`` is False when the latest version already holds exactly
        these lines (publishing the same plan twice adds nothing, even with a later ERP as-of time).
        """
        if as_of.utcoffset() is None:
            raise PlanStoreError("the snapshot's as-of time must be timezone-aware")
        missing = [c for c in LINE_COLUMNS if c not in lines.columns]
        if missing:
            raise PlanStoreError(f"plan lines lack column(s) {missing}")
        values = lines[list(LINE_VALUES)].to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise PlanStoreError("plan lines hold missing or infinite numbers; nothing was published")
        print_ = fingerprint(lines)
        when = (published_at or clock.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        rows = lines[list(LINE_COLUMNS)].astype(object).to_numpy().tolist()
        with self._transaction() as cur:
            if self.dialect == "postgresql":
                cur.execute("LOCK TABLE sop_plan_version IN SHARE ROW EXCLUSIVE MODE")
            cur.execute(
                self._sql("SELECT version, fingerprint FROM sop_plan_version WHERE plan = ? ORDER BY version DESC"),
                (plan,),
            )
            latest = cur.fetchone()
            created = latest is None or not self._same_content(cur, plan, int(latest[0]), str(latest[1]), print_)
            number = (int(latest[0]) if latest is not None else 0) + (1 if created else 0)
            if created:
                cur.execute(
                    self._sql(
                        "INSERT INTO sop_plan_version (plan, version, published_at, published_by, source, as_of, note,"
                        " fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    (plan, number, when.isoformat(), published_by, source, as_of.isoformat(), note, print_),
                )
                cur.executemany(
                    self._sql(
                        "INSERT INTO sop_plan_line (plan, version, level, item, family, bucket, demand, supply,"
                        " production, projected_inventory, gap_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    [(plan, number, *row) for row in rows],
                )
        return self.version(plan, number), created

    def _same_content(self, cur: Any, plan: str, number: int, stored: str, wanted: str) -> bool:
        if stored.startswith(CONTENT_PREFIX):
            return stored == wanted
        cur.execute(  # a version stored before content fingerprints: hash its frozen lines the same way
            self._sql(
                "SELECT level, item, family, bucket, demand, supply, production, projected_inventory, gap_value"
                " FROM sop_plan_line WHERE plan = ? AND version = ?"
            ),
            (plan, number),
        )
        frame = pd.DataFrame(list(cur.fetchall()), columns=list(LINE_COLUMNS))
        return not frame.empty and fingerprint(frame) == wanted

    def set_erp_status(self, plan: str, version: int, status: str, reference: str = "") -> None:
        """Record how the ERP write-back of a version went (``published``, ``failed: ...``, ``not supported``)."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "UPDATE sop_plan_version SET erp_status = ?, erp_reference = ? WHERE plan = ? AND version = ?"
                ),
                (status, reference, plan, version),
            )

    def versions(self, plan: str) -> list[PlanVersion]:
        """Every version of ``plan``, oldest first."""
        rows = self._rows(
            "SELECT plan, version, published_at, published_by, source, as_of, note, fingerprint, erp_status,"
            " erp_reference FROM sop_plan_version WHERE plan = ? ORDER BY version",
            (plan,),
        )
        return [_version(row) for row in rows]

    def latest(self, plan: str) -> PlanVersion | None:
        versions = self.versions(plan)
        return versions[-1] if versions else None

    def version(self, plan: str, number: int) -> PlanVersion:
        for v in self.versions(plan):
            if v.version == number:
                return v
        raise PlanStoreError(f"plan {plan!r} has no version {number}")

    def lines(self, plan: str, number: int, level: str = "family") -> pd.DataFrame:
        """The frozen lines of one version at ``level`` (``sku`` or ``family``)."""
        self.version(plan, number)
        rows = self._rows(
            "SELECT level, item, family, bucket, demand, supply, production, projected_inventory, gap_value"
            " FROM sop_plan_line WHERE plan = ? AND version = ? AND level = ?"
            " ORDER BY item, CASE WHEN bucket = 'PAST_DUE' THEN 0 ELSE 1 END, bucket",
            (plan, number, level),
        )
        frame = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
        for column in LINE_VALUES:
            frame[column] = frame[column].astype(float)
        return frame


def _version(row: Sequence[Any]) -> PlanVersion:
    return PlanVersion(
        plan=str(row[0]),
        version=int(row[1]),
        published_at=dt.datetime.fromisoformat(str(row[2])),
        published_by=str(row[3]),
        source=str(row[4]),
        as_of=dt.datetime.fromisoformat(str(row[5])),
        note=str(row[6]),
        fingerprint=str(row[7]),
        erp_status=str(row[8]),
        erp_reference=str(row[9]),
    )


def open_store(url: str) -> PlanStore:
    """``sqlite:///path/to/file.sqlite`` (or a plain file path) or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is pinned in the venv
            raise PlanStoreError("a PostgreSQL plan store needs the psycopg package") from exc
        try:
            connection = psycopg.connect(url, connect_timeout=10)
        except psycopg.Error as exc:
            raise PlanStoreError(f"cannot open the PostgreSQL plan store: {exc}") from None
        return PlanStore(connection, "postgresql")
    path = Path(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url).expanduser()
    if not path.parent.is_dir():
        raise PlanStoreError(f"cannot create the plan store {path}: folder {path.parent} does not exist")
    lite = connect_private(path, isolation_level=None, timeout=30)
    lite.execute("PRAGMA foreign_keys = ON")
    return PlanStore(lite, "sqlite")

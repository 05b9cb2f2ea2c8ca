"""The forecast audit trail: who changed which family/month from what to what, when, from which file, and why.

Kept in a SQLite file beside the workbook (``<workbook stem>.audit.sqlite``, created 0600), append-only,
every statement parameterised. One ``runs`` row per ``sop collect``; ``changes`` and ``issues`` rows point
to it.

A run that changes the master is written **pending** (``runs.status``) under the writer's journal
transaction before the master is replaced, and marked applied after (workbooks.xlsx.journal): a crash
in between is completed or rolled back by the next sopxl writer of that workbook, so every applied change
is in the trail exactly once and no trail row describes a change the master never got. Queries show
applied runs only.
"""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .private import connect_private

if TYPE_CHECKING:
    from .forecast_collect import Consolidation

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, collected_at TEXT NOT NULL, folder TEXT NOT NULL, target TEXT NOT NULL,
    files INTEGER NOT NULL, entries INTEGER NOT NULL, applied INTEGER NOT NULL, issues INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(run_id),
    collected_at TEXT NOT NULL, owner TEXT NOT NULL, file TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL,
    family TEXT NOT NULL, month TEXT NOT NULL, old_value REAL, new_value REAL, comment TEXT NOT NULL,
    entered_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(run_id),
    file TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL, family TEXT, month TEXT,
    rule TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_family_month ON changes (family, month);
"""
APPLIED = "applied"
PENDING = "pending"
_RUN_COLUMNS = ("run_id", "collected_at", "folder", "target", "files", "entries", "applied", "issues")
CHANGE_FIELDS = (
    "collected_at",
    "owner",
    "file",
    "sheet",
    "cell",
    "family",
    "month",
    "old_value",
    "new_value",
    "comment",
    "entered_at",
    "run_id",
)


def audit_path(workbook: Path) -> Path:
    return workbook.with_name(f"{workbook.stem}.audit.sqlite")


@dataclass(frozen=True)
class AuditRun:
    """One ``sop collect`` to record: its identity and where its entries came from and went."""

    run_id: str
    collected_at: str
    folder: str
    target: str
    result: Consolidation


class AuditStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(connect_private(self.path)) as db, db:
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            if "status" not in columns:  # a trail made before runs could be pending: all of it was applied
                db.execute(f"ALTER TABLE runs ADD COLUMN status TEXT NOT NULL DEFAULT '{APPLIED}'")
            if "txn" not in columns:
                db.execute("ALTER TABLE runs ADD COLUMN txn TEXT")

    def record(self, run_id: str, collected_at: str, folder: str, target: str, result: Consolidation) -> None:
        """Append one collect run with its applied changes and its issues (one transaction)."""
        self._insert(AuditRun(run_id, collected_at, folder, target, result), APPLIED, None)

    def pending(self, run: AuditRun) -> PendingRun:
        """The run as a journaled record: written pending before the master is replaced, applied after."""
        return PendingRun(self, run)

    def _insert(self, run: AuditRun, status: str, txn: str | None) -> None:
        result = run.result
        frame = result.changes
        text = {
            c: frame[c].astype(str).tolist() for c in ("owner", "file", "sheet", "cell", "family", "month", "comment")
        }
        old = [_num(v) for v in frame["old"].to_numpy(dtype="float64").tolist()]
        new = [_num(v) for v in frame["new"].to_numpy(dtype="float64").tolist()]
        entered = frame["entered_at"].astype(str).tolist()
        keys = ("owner", "file", "sheet", "cell", "family", "month")
        changes = [
            (run.run_id, run.collected_at, *(text[c][i] for c in keys), old[i], new[i], text["comment"][i], entered[i])
            for i in range(len(frame))
        ]
        issues = [(run.run_id, i.file, i.sheet, i.cell, i.family, i.month, i.rule, i.message) for i in result.issues]
        with closing(sqlite3.connect(self.path)) as db, db:
            if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,)).fetchone():
                return  # prepared already (a retried step): one run, once
            db.execute(
                "INSERT INTO runs (run_id, collected_at, folder, target, files, entries, applied, issues, status, txn)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    run.collected_at,
                    run.folder,
                    run.target,
                    result.files,
                    result.entries,
                    len(changes),
                    len(issues),
                    status,
                    txn,
                ),
            )
            db.executemany(
                "INSERT INTO changes (run_id, collected_at, owner, file, sheet, cell, family, month, old_value,"
                " new_value, comment, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                changes,
            )
            db.executemany(
                "INSERT INTO issues (run_id, file, sheet, cell, family, month, rule, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                issues,
            )

    def resolve(self, txn: str, applied: bool) -> None:
        """Mark the runs pending under ``txn`` applied, or delete them with their rows (idempotent)."""
        with closing(sqlite3.connect(self.path)) as db, db:
            if applied:
                db.execute("UPDATE runs SET status = ? WHERE txn = ? AND status = ?", (APPLIED, txn, PENDING))
                return
            ids = [r[0] for r in db.execute("SELECT run_id FROM runs WHERE txn = ? AND status = ?", (txn, PENDING))]
            for table in ("changes", "issues", "runs"):
                db.executemany(f"DELETE FROM {table} WHERE run_id = ?", [(i,) for i in ids])  # noqa: S608 - fixed names

    def pending_runs(self) -> list[str]:
        """Run ids still pending (a writer was killed and no sopxl writer has run since)."""
        with closing(sqlite3.connect(self.path)) as db:
            return [r[0] for r in db.execute("SELECT run_id FROM runs WHERE status = ?", (PENDING,))]

    def changes(
        self, *, family: str | None = None, month: str | None = None, owner: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """Changes, newest first, optionally for one family, month or owner."""
        where: list[str] = []
        params: list[object] = []
        for column, value in (("family", family), ("month", month), ("owner", owner)):
            if value is not None:
                where.append(f"{column} = ?")  # column names are fixed literals above, values are bound
                params.append(value)
        where.append("run_id IN (SELECT run_id FROM runs WHERE status = ?)")
        params.append(APPLIED)
        sql = f"SELECT {', '.join(CHANGE_FIELDS)} FROM changes"  # noqa: S608 - fixed column names only
        sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute(sql, params).fetchall()
        return pd.DataFrame(rows, columns=list(CHANGE_FIELDS)).astype({"old_value": "float64", "new_value": "float64"})

    def runs(self) -> pd.DataFrame:
        with closing(sqlite3.connect(self.path)) as db:
            rows = db.execute(
                f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE status = ? ORDER BY collected_at",  # noqa: S608
                (APPLIED,),
            ).fetchall()
        return pd.DataFrame(rows, columns=list(_RUN_COLUMNS))


@dataclass(frozen=True)
class PendingRun:
    """An :class:`AuditRun` as a journaled record (workbooks.xlsx.journal.Pending)."""

    store: AuditStore
    run: AuditRun

    def locator(self) -> dict[str, Any]:
        return {"kind": "audit", "path": str(self.store.path.resolve())}  # recovery may run from another folder

    def prepare(self, txn_id: str) -> None:
        self.store._insert(self.run, PENDING, txn_id)


def recover_pending(locator: dict[str, Any], txn_id: str, applied: bool) -> None:
    """The journal's recovery hook for audit stores (see workbooks.xlsx.journal.RECOVERERS)."""
    path = Path(str(locator["path"]))
    if path.exists():
        AuditStore(path).resolve(txn_id, applied)


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
